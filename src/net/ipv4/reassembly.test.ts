import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Instant } from '../../host/host_ops.js';
import { Reassembler, REASM_DONE, REASM_DROPPED, REASM_INCOMPLETE, REASM_MEMORY_LIMIT, REASM_TIMEOUT_NS } from './reassembly.js';

const t0 = 0 as Instant;
const bytes = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);

test('fragments in any order reassemble; exact duplicates are ignored', () => {
  const r = new Reassembler(() => {});
  assert.equal(r.add(1, 2, 17, 7, 16, true, bytes(16, 2), null, t0), REASM_INCOMPLETE);
  assert.equal(r.add(1, 2, 17, 7, 32, false, bytes(5, 3), null, t0), REASM_INCOMPLETE);
  assert.equal(r.add(1, 2, 17, 7, 16, true, bytes(16, 2), null, t0), REASM_INCOMPLETE, 'duplicate');
  assert.equal(r.add(1, 2, 17, 7, 0, true, bytes(16, 1), null, t0), REASM_DONE);
  assert.deepEqual(Array.from(r.result!), [...Array(16).fill(1), ...Array(16).fill(2), ...Array(5).fill(3)]);
  assert.equal(r.bytesHeld, 0);
  assert.equal(r.datagrams, 0);
});

test('overlapping fragments drop the whole datagram and are counted', () => {
  const r = new Reassembler(() => {});
  r.add(1, 2, 17, 9, 0, true, bytes(16, 1), null, t0);
  assert.equal(r.add(1, 2, 17, 9, 8, true, bytes(16, 9), null, t0), REASM_DROPPED);
  assert.equal(r.overlaps, 1);
  assert.equal(r.datagrams, 0);
  assert.equal(r.bytesHeld, 0);
  // A last fragment that ends before data already held, and a second "last" fragment, are bogus too.
  r.add(1, 2, 17, 10, 32, true, bytes(8, 1), null, t0);
  assert.equal(r.add(1, 2, 17, 10, 0, false, bytes(8, 1), null, t0), REASM_DROPPED);
  r.add(1, 2, 17, 11, 16, false, bytes(8, 1), null, t0);
  assert.equal(r.add(1, 2, 17, 11, 8, false, bytes(8, 1), null, t0), REASM_DROPPED);
  assert.equal(r.add(1, 2, 17, 12, 0, true, bytes(7, 1), null, t0), REASM_DROPPED, 'non-final fragment not a multiple of 8');
});

test('incomplete datagrams time out after 30 s and report the first fragment', () => {
  const heads: (Uint8Array | null)[] = [];
  const r = new Reassembler((h) => heads.push(h));
  const head = bytes(28, 0x45);
  r.add(1, 2, 17, 1, 0, true, bytes(8, 1), head, t0);
  r.expire((REASM_TIMEOUT_NS - 1) as Instant);
  assert.equal(r.datagrams, 1);
  r.expire(REASM_TIMEOUT_NS as Instant);
  assert.equal(r.datagrams, 0);
  assert.equal(r.timeouts, 1);
  assert.equal(heads[0], head);
});

test('memory is bounded: fragments beyond the limit are dropped, never stored', () => {
  const r = new Reassembler(() => {});
  let id = 0;
  let dropped = 0;
  for (let i = 0; i < 200; i++) if (r.add(1, 2, 17, id++, 0, true, bytes(32768, 1), null, t0) === REASM_DROPPED) dropped++;
  assert.ok(r.bytesHeld <= REASM_MEMORY_LIMIT);
  assert.ok(dropped > 0);
  assert.ok(r.overLimit > 0);
});
