// Stream windows: the run search that steps over windows agrees with a bit-by-bit model, and
// windows follow their owner's appends, give way to closed files and never overlap others.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { StreamWindows, clearRunLength, findFreeRunAvoiding, windowBlocks, type GroupBitmaps } from './mballoc.js';

const isSet = (bm: Uint8Array, i: number): boolean => (bm[i >>> 3]! & (1 << (i & 7))) !== 0;

/** The same search, one bit at a time over a copy with the avoided ranges set. */
function model(bm: Uint8Array, from: number, n: number, want: number, max: number, avoid: number[]): { start: number; len: number } | null {
  const b = bm.slice();
  for (let k = 0; k < avoid.length; k += 2) for (let i = avoid[k]!; i < avoid[k + 1]!; i++) b[i >>> 3]! |= 1 << (i & 7);
  const scan = (lo: number, hi: number): { start: number; len: number } | null => {
    for (let i = lo; i < hi; ) {
      if (isSet(b, i)) {
        i++;
        continue;
      }
      let e = i;
      while (e < hi && e - i < max && !isSet(b, e)) e++;
      if (e - i >= want) return { start: i, len: e - i };
      i = e;
    }
    return null;
  };
  return scan(from, n) ?? (from > 0 ? scan(0, Math.min(n, from + max)) : null);
}

describe('stream windows', () => {
  it('findFreeRunAvoiding agrees with the bit-by-bit model', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }).map((a) => a.map((x) => x & (x >> 1) & 0x77)),
        fc.nat(255),
        fc.integer({ min: 1, max: 256 }),
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.tuple(fc.nat(255), fc.integer({ min: 1, max: 60 })), { maxLength: 4 }),
        (bm, from, n, want, wins) => {
          const f = Math.min(from, n - 1);
          // Disjoint sorted windows, as avoidIn returns them.
          const avoid: number[] = [];
          let at = 0;
          for (const [gap, len] of wins.sort((a, b) => a[0] - b[0])) {
            const s = Math.max(at, gap);
            if (s >= n) break;
            avoid.push(s, Math.min(n, s + len));
            at = Math.min(n, s + len) + 1;
          }
          const max = want + 20;
          assert.deepEqual(findFreeRunAvoiding(bm, f, n, want, max, avoid), model(bm, f, n, want, max, avoid));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('clearRunLength counts the clear bits up to the first set one', () => {
    const bm = new Uint8Array(8);
    bm[5] = 0x04; // bit 42
    assert.equal(clearRunLength(bm, 0, 64), 42);
    assert.equal(clearRunLength(bm, 40, 64), 2);
    assert.equal(clearRunLength(bm, 43, 50), 7);
    assert.equal(clearRunLength(bm, 42, 64), 0);
  });

  it('a window follows its owner, steers others, and goes when its file is closed', () => {
    const bs = 4096;
    const per = 32768;
    const bitmaps = [new Uint8Array(per / 8), new Uint8Array(per / 8)];
    const fs: GroupBitmaps = {
      blockSize: bs,
      groupOfBlock: (b) => Math.floor(b / per),
      groupFirstBlock: (g) => g * per,
      groupBlocks: () => per,
      blockBitmap: (g) => ({ data: bitmaps[g]! }),
    };
    const w = new StreamWindows();
    const a = { openCount: 1 };
    const b = { openCount: 1 };
    // a got [96, 112): its window is the next windowBlocks.
    bitmaps[0]!.fill(0xff, 96 / 8, 112 / 8);
    w.extended(a, 96, 16, fs);
    const W = windowBlocks(bs);
    assert.deepEqual(w.avoidIn(0, per, b), [112, 112 + W]);
    assert.equal(w.avoidIn(0, per, a), null, 'the owner is not kept out of its own window');
    assert.equal(w.avoidIn(per, 2 * per, b), null, 'other groups are untouched');
    // a takes the front of its window: the rest stays.
    w.extended(a, 112, 16, fs);
    assert.deepEqual(w.avoidIn(0, per, b), [128, 112 + W]);
    // b's window stops short of a's blocks and of a's window.
    bitmaps[0]!.fill(0xff, 40 / 8, 56 / 8);
    w.extended(b, 40, 16, fs);
    assert.deepEqual(w.avoidIn(0, per, null), [56, 96, 128, 112 + W]);
    // No window inside another's (a run given there when space was short).
    const d = { openCount: 1 };
    w.extended(d, 1000, 8, fs);
    assert.deepEqual(w.avoidIn(0, per, a), [56, 96]);
    // A window ends at the group's end.
    w.extended(b, per - 100, 36, fs);
    assert.deepEqual(w.avoidIn(0, per, a), [per - 64, per]);
    // Closed: gone.
    a.openCount = 0;
    assert.deepEqual(w.avoidIn(0, per, null), [per - 64, per]);
    assert.equal(w.size, 1);
    w.clear();
    assert.equal(w.size, 0);
  });
});
