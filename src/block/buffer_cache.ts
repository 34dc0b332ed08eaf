// BufferCache: the block cache between filesystems and a device (Linux's buffer heads and
// bio layer in one small piece). Metadata blocks are read and modified in the cache and
// written back on sync(), sorted and coalesced into large writes; prefetch() fills a range
// in large reads. Bulk file data can bypass
// it with readRun/writeRun, which move whole runs of blocks between the device and the
// caller's buffer in one call while staying coherent with cached copies; a count of cached
// blocks per group of 256 lets them skip the cache lookups where nothing is cached.

import type { BlockDevice } from './block_device.js';
import { errno } from '../kernel/errno.js';
import { EIO } from '../abi/linux/errno.js';

export class BufferHead {
  dirty = false;
  /** The cache's access count when this block last moved to the back of the LRU order. */
  tick = 0;
  constructor(
    readonly block: number,
    readonly data: Uint8Array,
  ) {}
}

export interface BufferCacheOptions {
  /** Most bytes of clean blocks kept; dirty blocks stay until sync. Default 32 MiB. */
  capacity?: number;
  /**
   * Whether too many dirty blocks are written back on their own (default true). A journaling
   * filesystem turns this off: its metadata may reach its home location only after the
   * journal holds it, so it decides when to write (dirtyBuffers, then sync).
   */
  autoWriteback?: boolean;
}

/** Blocks per group in the cached-block counts (`groups`). */
const GROUP = 256;

export class BufferCache {
  private readonly map = new Map<number, BufferHead>();
  /** How many blocks of each group (block / GROUP) are in `map`; groups with none are absent. */
  private readonly groups = new Map<number, number>();
  private readonly dirty = new Set<BufferHead>();
  private readonly maxBlocks: number;
  private readonly autoWriteback: boolean;
  private ticks = 0;

  constructor(
    readonly dev: BlockDevice,
    readonly blockSize: number,
    options: BufferCacheOptions = {},
  ) {
    this.maxBlocks = Math.max(64, Math.floor((options.capacity ?? 32 * 1024 * 1024) / blockSize));
    this.autoWriteback = options.autoWriteback ?? true;
  }

  /** Number of blocks held now (clean and dirty). */
  get cached(): number {
    return this.map.size;
  }

  /** Number of blocks on the device. */
  get blocks(): number {
    return Math.floor(this.dev.size / this.blockSize);
  }

  /** The block, read from the device if not cached. Errors: EIO (also past the end). */
  get(block: number): BufferHead {
    const hit = this.map.get(block);
    if (hit !== undefined) {
      // Map order is the LRU order: move to the back — but only once it has aged a little,
      // so hot blocks do not pay a delete and an insert on every access.
      const now = ++this.ticks;
      if (now - hit.tick > this.maxBlocks >>> 3) {
        hit.tick = now;
        this.map.delete(block);
        this.map.set(block, hit);
      }
      return hit;
    }
    this.checkRange(block, 1);
    const bh = new BufferHead(block, new Uint8Array(this.blockSize));
    this.dev.read(block * this.blockSize, bh.data);
    bh.tick = ++this.ticks;
    this.insert(bh);
    return bh;
  }

  /** The block for complete overwriting: not read from the device; zeroed if not cached. */
  getZeroed(block: number): BufferHead {
    const hit = this.map.get(block);
    if (hit !== undefined) {
      hit.data.fill(0);
      return hit;
    }
    this.checkRange(block, 1);
    const bh = new BufferHead(block, new Uint8Array(this.blockSize));
    this.insert(bh);
    return bh;
  }

  markDirty(bh: BufferHead): void {
    if (!bh.dirty) {
      bh.dirty = true;
      this.dirty.add(bh);
    }
    // A buffer evicted while its holder still used it comes back.
    const cur = this.map.get(bh.block);
    if (cur !== bh) {
      if (cur === undefined) this.counted(bh.block, 1);
      this.map.set(bh.block, bh);
    }
  }

  /** Forgets a block (freed by the filesystem): its dirty contents are dropped. */
  forget(block: number): void {
    const bh = this.map.get(block);
    if (bh === undefined) return;
    this.map.delete(block);
    this.counted(block, -1);
    if (bh.dirty) {
      bh.dirty = false;
      this.dirty.delete(bh);
    }
  }

  /**
   * Reads `count` blocks from `block` into `into[off…]`: cached blocks from the cache, the
   * rest straight from the device in runs as large as possible.
   */
  readRun(block: number, count: number, into: Uint8Array, off: number): void {
    this.checkRange(block, count);
    const bs = this.blockSize;
    const end = block + count;
    let b = block;
    while (b < end) {
      const c = this.nextCached(b, end);
      if (c > b) {
        this.dev.read(b * bs, into.subarray(off + (b - block) * bs, off + (c - block) * bs));
        b = c;
        continue;
      }
      into.set(this.map.get(b)!.data, off + (b - block) * bs);
      b++;
    }
  }

  /**
   * Brings blocks [block, block+count) into the cache, reading the missing ones in runs (one
   * device read per run): for metadata about to be read block by block, such as a directory.
   * Errors: EIO (also past the end).
   */
  prefetch(block: number, count: number): void {
    this.checkRange(block, count);
    const bs = this.blockSize;
    const end = block + count;
    let b = this.nextMissing(block, end);
    while (b < end) {
      let e = b + 1;
      while (e < end && !this.map.has(e)) e++;
      const run = new Uint8Array((e - b) * bs);
      this.dev.read(b * bs, run);
      for (let i = b; i < e; i++) this.insert(new BufferHead(i, run.slice((i - b) * bs, (i - b + 1) * bs)));
      b = this.nextMissing(e, end);
    }
  }

  /** Writes `count` blocks from `from[off…]` at `block` straight to the device, updating cached copies. */
  writeRun(block: number, count: number, from: Uint8Array, off: number): void {
    this.checkRange(block, count);
    const bs = this.blockSize;
    const end = block + count;
    for (let b = this.nextCached(block, end); b < end; b = this.nextCached(b + 1, end)) {
      const bh = this.map.get(b)!;
      const i = b - block;
      bh.data.set(from.subarray(off + i * bs, off + (i + 1) * bs));
      if (bh.dirty) {
        bh.dirty = false;
        this.dirty.delete(bh);
      }
    }
    this.dev.write(block * bs, from.subarray(off, off + count * bs));
  }

  /** Writes every dirty block back, in block order, coalescing neighbours into one write. */
  sync(): void {
    if (this.dirty.size === 0) return;
    const list = [...this.dirty].sort((a, b) => a.block - b.block);
    const bs = this.blockSize;
    let i = 0;
    while (i < list.length) {
      let j = i + 1;
      while (j < list.length && list[j]!.block === list[j - 1]!.block + 1 && j - i < 256) j++;
      if (j - i === 1) this.dev.write(list[i]!.block * bs, list[i]!.data);
      else {
        const buf = new Uint8Array((j - i) * bs);
        for (let k = i; k < j; k++) buf.set(list[k]!.data, (k - i) * bs);
        this.dev.write(list[i]!.block * bs, buf);
      }
      for (let k = i; k < j; k++) list[k]!.dirty = false;
      i = j;
    }
    this.dirty.clear();
    this.trim();
  }

  /** sync() then the device's own flush. */
  flush(): void {
    this.sync();
    this.dev.flush();
  }

  get dirtyCount(): number {
    return this.dirty.size;
  }

  /** The dirty blocks, in block order (what a journal commit logs before sync()). */
  dirtyBuffers(): BufferHead[] {
    return [...this.dirty].sort((a, b) => a.block - b.block);
  }

  private insert(bh: BufferHead): void {
    this.map.set(bh.block, bh);
    this.counted(bh.block, 1);
    if (this.map.size > this.maxBlocks) this.trim();
  }

  /** Evicts the least recently used clean blocks down to the capacity. */
  private trim(): void {
    if (this.map.size <= this.maxBlocks) return;
    for (const [b, bh] of this.map) {
      if (this.map.size <= this.maxBlocks) break;
      if (!bh.dirty) {
        this.map.delete(b);
        this.counted(b, -1);
      }
    }
    // Too many dirty blocks to stay within bounds: write them back.
    if (this.autoWriteback && this.map.size > this.maxBlocks * 2 && this.dirty.size > 0) this.sync();
  }

  /** The first cached block in [from, end), or `end`: groups without cached blocks are skipped whole. */
  private nextCached(from: number, end: number): number {
    let b = from;
    while (b < end) {
      const g = Math.floor(b / GROUP);
      const groupEnd = Math.min(end, (g + 1) * GROUP);
      if (this.groups.has(g)) {
        for (; b < groupEnd; b++) if (this.map.has(b)) return b;
      } else b = groupEnd;
    }
    return end;
  }

  /** The first block in [from, end) that is not cached, or `end`. */
  private nextMissing(from: number, end: number): number {
    let b = from;
    while (b < end && this.map.has(b)) b++;
    return b;
  }

  /** Keeps `groups` in step with a block entering (+1) or leaving (-1) the map. */
  private counted(block: number, delta: 1 | -1): void {
    const g = Math.floor(block / GROUP);
    const n = (this.groups.get(g) ?? 0) + delta;
    if (n === 0) this.groups.delete(g);
    else this.groups.set(g, n);
  }

  private checkRange(block: number, count: number): void {
    if (!Number.isSafeInteger(block) || block < 0 || count < 0 || (block + count) * this.blockSize > this.dev.size) {
      throw errno(EIO, `block ${block}${count > 1 ? `+${count}` : ''} lies outside the device (${this.blocks} blocks of ${this.blockSize})`);
    }
  }
}
