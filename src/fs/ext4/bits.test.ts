import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { findZeroBit, setBit, setBits, testBit } from './super.js';

describe('bitmap helpers', () => {
  it('setBits sets exactly [from, to), as setting bit by bit does, over any prior contents', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.nat(512), fc.nat(512), (prior, a, b) => {
        const got = prior.slice();
        const want = prior.slice();
        setBits(got, a, b);
        for (let i = a; i < b; i++) setBit(want, i);
        assert.deepEqual(got, want);
      }),
    );
  });

  it('findZeroBit finds the first clear bit at or after `from`, or -1', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 40, maxLength: 40 }), fc.nat(320), (bm, from) => {
        let want = -1;
        for (let i = from; i < 320; i++) {
          if (!testBit(bm, i)) {
            want = i;
            break;
          }
        }
        assert.equal(findZeroBit(bm, from, 320), want);
      }),
    );
  });
});
