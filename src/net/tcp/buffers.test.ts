// RecvBuffer against a plain byte-array model: copied pushes (whose source is scribbled on
// afterwards), frames kept in place, out-of-order segments, reads and peeks of random sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecvBuffer } from './buffers.js';
import { SeededRandom } from '../../util/random.js';

test('RecvBuffer: random pushes, frames, out-of-order segments, reads and peeks agree with a model', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const rng = new SeededRandom(seed);
    const int = (n: number): number => Math.floor(rng.next() * n);
    const rb = new RecvBuffer(1 << 22);
    const model: number[] = [];
    let mh = 0; // model[mh…] is what the buffer holds
    let next = 0; // the byte value stream: byte i of the stream is i & 0xff, offset by seed
    const bytes = (n: number): Uint8Array => {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = (next + i + seed) & 0xff;
      return b;
    };
    let rcvNxt = 1000;
    for (let step = 0; step < 1200; step++) {
      const op = int(6);
      if (op === 0) {
        // A copied push from a caller's buffer, which the caller reuses at once.
        const n = 1 + int(3000);
        const src = bytes(n + 10);
        rb.push(src, 5, n);
        for (let i = 0; i < n; i++) model.push(src[5 + i]!);
        src.fill(0xee);
        next += n;
        rcvNxt += n;
      } else if (op === 1) {
        // A large payload in a frame of its own: kept, not copied.
        const n = 8192 + int(60000);
        const frame = new Uint8Array(new ArrayBuffer(n + 56), 2, n + 54);
        frame.set(bytes(n), 54);
        rb.pushFrame(frame, 54, n);
        for (let i = 0; i < n; i++) model.push(frame[54 + i]!);
        next += n;
        rcvNxt += n;
      } else if (op === 2) {
        // A small payload in a shared slab: copied.
        const n = 1 + int(1448);
        const slab = new Uint8Array(65536);
        const at = 1000 + int(1000);
        slab.set(bytes(n), at);
        rb.pushFrame(slab, at, n);
        for (let i = 0; i < n; i++) model.push(slab[at + i]!);
        slab.fill(0xdd);
        next += n;
        rcvNxt += n;
      } else if (op === 3) {
        // An out-of-order segment just after RCV.NXT, then the gap filled and drained.
        const gap = 1 + int(500);
        const n = 1 + int(2000);
        const all = bytes(gap + n);
        const later = all.slice(gap);
        assert.ok(rb.insertOoo(rcvNxt + gap, later, 0, n));
        rb.push(all, 0, gap);
        const after = rb.drainOoo(rcvNxt + gap);
        assert.equal(after, rcvNxt + gap + n);
        for (let i = 0; i < gap + n; i++) model.push(all[i]!);
        next += gap + n;
        rcvNxt = after;
      } else {
        const want = int(op === 4 ? 5000 : 100000);
        const peek = int(4) === 0;
        const dst = new Uint8Array(want + 3);
        const got = rb.read(dst, 3, want, peek);
        const exp = Math.min(want, model.length - mh);
        assert.equal(got, exp, `seed ${seed} step ${step}: read length`);
        for (let i = 0; i < got; i++) if (dst[3 + i] !== model[mh + i]) assert.fail(`seed ${seed} step ${step}: byte ${i} differs`);
        if (!peek) mh += got;
      }
      assert.equal(rb.length, model.length - mh, `seed ${seed} step ${step}: length`);
    }
    const rest = new Uint8Array(model.length - mh);
    assert.equal(rb.read(rest, 0, rest.length, false), rest.length);
    assert.deepEqual([...rest], model.slice(mh));
    assert.equal(rb.length, 0);
  }
});

test('RecvBuffer: clear drops data and out-of-order segments', () => {
  const rb = new RecvBuffer(1 << 20);
  rb.push(new Uint8Array(100), 0, 100);
  rb.insertOoo(5000, new Uint8Array(10), 0, 10);
  rb.clear();
  assert.equal(rb.length, 0);
  assert.equal(rb.ooo.length, 0);
  assert.equal(rb.free, 1 << 20);
  assert.equal(rb.read(new Uint8Array(10), 0, 10, false), 0);
});
