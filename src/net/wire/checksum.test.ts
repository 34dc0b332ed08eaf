import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checksumAdd, checksumFinish, internetChecksum } from './checksum.js';

function reference(buf: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < buf.length; i += 2) s += (buf[i]! << 8) | (buf[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

test('RFC 1071 §3 example: 0001 f203 f4f5 f6f7 sums to ddf2', () => {
  const b = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
  assert.equal(internetChecksum(b, 0, 8), ~0xddf2 & 0xffff);
});

test('a real IPv4 header verifies to zero and its checksum field is reproduced', () => {
  const h = Uint8Array.from(Buffer.from('450000730000400040110000c0a80001c0a800c7', 'hex'));
  assert.equal(internetChecksum(h, 0, 20), 0xb861);
  h[10] = 0xb8;
  h[11] = 0x61;
  assert.equal(internetChecksum(h, 0, 20), 0);
});

test('the 32-bit fast path agrees with the plain 16-bit sum at every alignment and length', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 3000 }), fc.integer({ min: 0, max: 7 }), (data, shift) => {
      const backing = new Uint8Array(data.length + 8);
      backing.set(data, shift);
      const view = backing.subarray(shift, shift + data.length);
      assert.equal(internetChecksum(view, 0, view.length), reference(data));
    }),
    { numRuns: 300 },
  );
});

test('sums chain across pieces of even length', () => {
  const b = new Uint8Array(70000);
  for (let i = 0; i < b.length; i++) b[i] = (i * 7919) & 0xff;
  let s = 0;
  for (let off = 0; off < b.length; off += 1000) s = checksumAdd(s, b, off, Math.min(1000, b.length - off));
  assert.equal(checksumFinish(s), reference(b));
});
