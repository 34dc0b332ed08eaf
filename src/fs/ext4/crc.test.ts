import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crc16, crc32c, crc32cU32 } from './crc.js';

const enc = new TextEncoder();

describe('crc32c and crc16', () => {
  it('crc32c matches the Castagnoli check value (with the usual pre/post inversion)', () => {
    assert.equal((~crc32c(0xffffffff, enc.encode('123456789'))) >>> 0, 0xe3069283);
  });
  it('crc32c continues across pieces exactly as over the whole', () => {
    const b = new Uint8Array(1000).map((_, i) => (i * 31) & 0xff);
    const whole = crc32c(0x1234, b);
    for (const cut of [0, 1, 7, 8, 9, 500, 999, 1000]) assert.equal(crc32c(crc32c(0x1234, b, 0, cut), b, cut), whole);
  });
  it('crc32c over a little-endian word equals crc32c over its bytes', () => {
    assert.equal(crc32cU32(77, 0x01020304), crc32c(77, new Uint8Array([4, 3, 2, 1])));
  });
  it('crc16 (ARC) matches its check value', () => {
    assert.equal(crc16(0, enc.encode('123456789')), 0xbb3d);
  });
});
