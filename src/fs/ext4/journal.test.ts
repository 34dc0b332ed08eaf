// JBD2 block tags (§ Journal (jbd2), Block Tag): every tag format round-trips block numbers
// through writeTag and parseTags, 64-bit journals keep the high word, and a block that a
// 32-bit tag cannot hold is refused rather than truncated.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseTags, tagFormat, writeTag } from './journal.js';
import {
  JBD2_FEATURE_INCOMPAT_64BIT, JBD2_FEATURE_INCOMPAT_CSUM_V2, JBD2_FEATURE_INCOMPAT_CSUM_V3, JBD2_FLAG_LAST_TAG,
  JBD2_FLAG_SAME_UUID, JBD2_HEADER_SIZE,
} from './layout.js';

const FORMATS: [string, number][] = [
  ['csum v3, 64bit', JBD2_FEATURE_INCOMPAT_CSUM_V3 | JBD2_FEATURE_INCOMPAT_64BIT],
  ['csum v2, 64bit', JBD2_FEATURE_INCOMPAT_CSUM_V2 | JBD2_FEATURE_INCOMPAT_64BIT],
  ['no checksums, 64bit', JBD2_FEATURE_INCOMPAT_64BIT],
];

/** A descriptor block holding `blocks` as tags (the first followed by a UUID), parsed back. */
function roundTrip(incompat: number, blocks: number[], csums: number[]): { block: number; csum: number }[] {
  const f = tagFormat(incompat);
  const desc = new Uint8Array(4096);
  let o = JBD2_HEADER_SIZE;
  blocks.forEach((b, i) => {
    const flags = (i === 0 ? 0 : JBD2_FLAG_SAME_UUID) | (i === blocks.length - 1 ? JBD2_FLAG_LAST_TAG : 0);
    o += writeTag(desc, o, f, b, flags, csums[i]!);
    if (i === 0) o += 16;
  });
  return parseTags(desc, f).map((t) => ({ block: t.block, csum: t.csum }));
}

describe('JBD2 block tags', () => {
  for (const [name, incompat] of FORMATS) {
    it(`${name}: block numbers at and past 2^32 round-trip`, () => {
      const blocks = [2 ** 32, 2 ** 32 + 5, 2 ** 48 - 1, 0xffffffff, 7];
      const csums = [0x12345678, 0xdeadbeef, 1, 0, 0xffffffff];
      const back = roundTrip(incompat, blocks, csums);
      assert.deepEqual(back.map((t) => t.block), blocks);
      // v3 keeps the whole crc32c, v2 its low 16 bits, no checksums nothing.
      const want = csums.map((c) => (incompat & JBD2_FEATURE_INCOMPAT_CSUM_V3 ? c : incompat & JBD2_FEATURE_INCOMPAT_CSUM_V2 ? c & 0xffff : 0));
      assert.deepEqual(back.map((t) => t.csum), want);
    });

    it(`${name}: random block numbers below 2^48 round-trip`, () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 48 - 1 }), { minLength: 1, maxLength: 100 }), (blocks) => {
          const back = roundTrip(incompat, blocks, blocks.map((b) => b % 65536));
          assert.deepEqual(back.map((t) => t.block), blocks);
        }),
        { numRuns: 200 },
      );
    });
  }

  for (const [name, incompat] of [['csum v3', JBD2_FEATURE_INCOMPAT_CSUM_V3], ['csum v2', JBD2_FEATURE_INCOMPAT_CSUM_V2], ['no checksums', 0]] as const) {
    it(`${name} without 64bit: a block past 2^32 - 1 is refused with EIO naming it, 2^32 - 1 fits`, () => {
      assert.deepEqual(roundTrip(incompat, [0xffffffff], [0]).map((t) => t.block), [0xffffffff]);
      const desc = new Uint8Array(4096);
      assert.throws(() => writeTag(desc, JBD2_HEADER_SIZE, tagFormat(incompat), 2 ** 32 + 1, JBD2_FLAG_LAST_TAG, 0), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'EIO');
        assert.match(e.message, /block 4294967297 does not fit/);
        return true;
      });
      assert.ok(desc.every((b) => b === 0), 'nothing was written');
    });
  }
});
