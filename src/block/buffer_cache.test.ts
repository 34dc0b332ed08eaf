// BufferCache against a model of what its users must see: random gets, changes, zeroed
// blocks, runs read and written around cached and dirty blocks, forgets, syncs and evictions
// (a small cache), with the block-group counts that let runs skip lookups checked as a side
// effect: every read through the cache must equal the model, the device after sync too.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferCache } from './buffer_cache.js';
import { MemoryDisk } from '../drivers/block/memory_disk.js';

const BS = 512;
const BLOCKS = 4096;

/** A memory disk that counts its reads and writes. */
class CountingDisk extends MemoryDisk {
  reads = 0;
  writes = 0;
  override read(offset: number, into: Uint8Array): void {
    this.reads++;
    super.read(offset, into);
  }
  override write(offset: number, from: Uint8Array): void {
    this.writes++;
    super.write(offset, from);
  }
}

function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

test('runs, cached and dirty blocks, forgets and evictions agree with a model of the disk', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const rand = rng(seed * 7919);
    const disk = new CountingDisk(new Uint8Array(BLOCKS * BS));
    for (let i = 0; i < disk.bytes.length; i++) disk.bytes[i] = (i * 31 + 7) & 0xff;
    const model = disk.bytes.slice();
    const cache = new BufferCache(disk, BS, { capacity: 64 * BS });
    // Blocks near group edges (255/256/257…) are picked more often than others.
    const pick = (): number => (rand(2) === 0 ? rand(BLOCKS) : Math.min(BLOCKS - 1, 256 * (1 + rand(15)) - 2 + rand(4)));
    const fill = (buf: Uint8Array): void => {
      const v = rand(256);
      for (let i = 0; i < buf.length; i++) buf[i] = (v + i) & 0xff;
    };
    for (let step = 0; step < 3000; step++) {
      const b = pick();
      const op = rand(8);
      const where = `seed ${seed}, step ${step}, op ${op}, block ${b}`;
      if (op === 0) {
        const bh = cache.get(b);
        assert.deepEqual(bh.data, model.subarray(b * BS, (b + 1) * BS), where);
        fill(bh.data);
        cache.markDirty(bh);
        model.set(bh.data, b * BS);
      } else if (op === 1) {
        const bh = cache.getZeroed(b);
        fill(bh.data.subarray(0, 100));
        cache.markDirty(bh);
        model.set(bh.data, b * BS);
      } else if (op === 2 || op === 3) {
        const n = 1 + rand(Math.min(600, BLOCKS - b));
        const got = new Uint8Array(n * BS + 3);
        cache.readRun(b, n, got, 3);
        assert.deepEqual(got.subarray(3), model.subarray(b * BS, (b + n) * BS), where);
      } else if (op === 4) {
        const n = 1 + rand(Math.min(600, BLOCKS - b));
        const from = new Uint8Array(n * BS + 5);
        fill(from);
        cache.writeRun(b, n, from, 5);
        model.set(from.subarray(5), b * BS);
      } else if (op === 5) {
        // A dirty block forgotten is dropped: the disk's bytes are what remains.
        cache.forget(b);
        model.set(disk.bytes.subarray(b * BS, (b + 1) * BS), b * BS);
      } else if (op === 6 && rand(3) === 0) {
        cache.prefetch(b, 1 + rand(Math.min(40, BLOCKS - b)));
      } else if (op === 6 && rand(10) === 0) {
        cache.sync();
        assert.deepEqual(disk.bytes, model, `${where}: the disk after sync`);
      } else {
        const bh = cache.get(b);
        assert.deepEqual(bh.data, model.subarray(b * BS, (b + 1) * BS), where);
      }
    }
    cache.sync();
    assert.deepEqual(disk.bytes, model, `seed ${seed}: the disk at the end`);
  }
});

test('prefetch reads what is missing in runs; runs and gets then need no device reads', () => {
  const disk = new CountingDisk(new Uint8Array(BLOCKS * BS));
  for (let i = 0; i < disk.bytes.length; i += BS) disk.bytes[i] = (i / BS) & 0xff;
  const cache = new BufferCache(disk, BS);
  const dirty = cache.get(105);
  dirty.data[0] = 0xee;
  cache.markDirty(dirty);
  disk.reads = 0;
  cache.prefetch(100, 10);
  assert.equal(disk.reads, 2, 'blocks 100–104 and 106–109, around the cached 105');
  disk.reads = 0;
  const buf = new Uint8Array(10 * BS);
  cache.readRun(100, 10, buf, 0);
  for (let b = 100; b < 110; b++) assert.equal(cache.get(b).data[0], b === 105 ? 0xee : b & 0xff);
  assert.equal(buf[5 * BS], 0xee, 'the dirty block is not replaced by the disk copy');
  assert.equal(disk.reads, 0);
});

test('a run with no cached block is one device read, and a cached block splits it in two', () => {
  const disk = new CountingDisk(new Uint8Array(BLOCKS * BS));
  const cache = new BufferCache(disk, BS);
  const buf = new Uint8Array(2048 * BS);
  cache.readRun(100, 2048, buf, 0);
  assert.equal(disk.reads, 1);
  const bh = cache.get(1000);
  bh.data.fill(0xab);
  cache.markDirty(bh);
  disk.reads = 0;
  cache.readRun(100, 2048, buf, 0);
  assert.equal(disk.reads, 2);
  assert.equal(buf[(1000 - 100) * BS], 0xab);
  cache.forget(1000);
  disk.reads = 0;
  cache.readRun(100, 2048, buf, 0);
  assert.equal(disk.reads, 1);
  assert.equal(buf[(1000 - 100) * BS], 0);
  // A write run replaces a cached block's contents and makes it clean.
  const c = cache.get(2000);
  c.data.fill(1);
  cache.markDirty(c);
  cache.writeRun(1990, 20, new Uint8Array(20 * BS).fill(9), 0);
  assert.equal(c.data[0], 9);
  assert.equal(cache.dirtyCount, 0);
});

test('a buffer evicted while held comes back when marked dirty, and runs see it', () => {
  const disk = new CountingDisk(new Uint8Array(BLOCKS * BS));
  const cache = new BufferCache(disk, BS, { capacity: 64 * BS });
  const held = cache.get(300);
  for (let b = 1000; b < 1300; b++) cache.get(b); // pushes block 300 out
  held.data.fill(0x5a);
  cache.markDirty(held);
  const buf = new Uint8Array(100 * BS);
  cache.readRun(250, 100, buf, 0);
  assert.equal(buf[(300 - 250) * BS], 0x5a, 'the run reads the held buffer, not the disk');
  assert.equal(disk.bytes[300 * BS], 0);
  cache.writeRun(300, 1, new Uint8Array(BS).fill(3), 0);
  assert.equal(held.data[0], 3, 'a write run updates the held buffer');
  assert.equal(cache.dirtyCount, 0);
});
