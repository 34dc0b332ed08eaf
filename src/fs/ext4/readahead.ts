// ReadAhead: file-data read-ahead for one mounted ext2/3/4 filesystem (Linux's on-demand
// readahead reduced to one window). A small read that continues the previous one fills a
// window with the next blocks of the same physically contiguous run — never past the extent
// or the end of the file — in one device read; the small reads after it are copied from the
// window. Every data write and every freed block must be reported here (wrote, forget), so
// the window never holds stale bytes.

import type { BufferCache } from '../../block/buffer_cache.js';

/** Bytes in the window: large enough to amortise a host read, small enough to stay in the CPU's cache. */
const WINDOW_BYTES = 128 * 1024;

export class ReadAhead {
  private readonly win: Uint8Array;
  /** One view per block of the window, so a whole-block copy allocates nothing. */
  private readonly views: Uint8Array[] = [];
  private readonly winBlocks: number;
  /** The window holds physical blocks [start, start + count). */
  private start = 0;
  private count = 0;
  /** The physical block where the last read ended: a read starting there is sequential. */
  private next = -1;

  /** One block, for parts of blocks read outside the window. */
  private readonly scratch: Uint8Array;

  constructor(
    private readonly cache: BufferCache,
    private readonly bs: number,
  ) {
    this.scratch = new Uint8Array(bs);
    this.winBlocks = Math.max(1, Math.floor(WINDOW_BYTES / bs));
    this.win = new Uint8Array(this.winBlocks * bs);
    for (let i = 0; i < this.winBlocks; i++) this.views.push(this.win.subarray(i * bs, (i + 1) * bs));
  }

  /**
   * Copies `len` bytes starting `inBlk` bytes into physical block `pblk` to into[at…]: either
   * whole blocks (inBlk 0, len a multiple of the block size) or a part of one block. `limit`
   * is how many blocks from `pblk` on belong to the file's run and may be read ahead.
   * Errors: EIO.
   */
  read(pblk: number, inBlk: number, len: number, limit: number, into: Uint8Array, at: number): void {
    const bs = this.bs;
    const end = inBlk + len;
    const nblk = Math.ceil(end / bs);
    const hit = pblk >= this.start && pblk + nblk <= this.start + this.count;
    if (!hit && pblk === this.next && nblk * 2 <= this.winBlocks && limit > nblk) {
      // Sequential and small: fill the window from here.
      const n = Math.min(this.winBlocks, limit);
      this.count = 0;
      this.cache.readRun(pblk, n, this.win, 0);
      this.start = pblk;
      this.count = n;
    }
    this.next = pblk + Math.floor(end / bs);
    if (hit || (pblk >= this.start && pblk + nblk <= this.start + this.count)) {
      const i = pblk - this.start;
      if (len === bs && inBlk === 0) into.set(this.views[i]!, at);
      else into.set(this.win.subarray(i * bs + inBlk, i * bs + end), at);
      return;
    }
    if (inBlk === 0 && len % bs === 0) {
      this.cache.readRun(pblk, nblk, into, at);
      return;
    }
    const tmp = this.scratch;
    this.cache.readRun(pblk, 1, tmp, 0);
    into.set(tmp.subarray(inBlk, end), at);
  }

  /** Keeps the window's copy of blocks [pblk, pblk + count), just written from from[off…], current. */
  wrote(pblk: number, count: number, from: Uint8Array, off: number): void {
    const a = Math.max(pblk, this.start);
    const b = Math.min(pblk + count, this.start + this.count);
    if (a < b) this.win.set(from.subarray(off + (a - pblk) * this.bs, off + (b - pblk) * this.bs), (a - this.start) * this.bs);
  }

  /** Drops the window if it holds any of blocks [pblk, pblk + count) (freed: they may be reused as anything). */
  forget(pblk: number, count: number): void {
    if (pblk < this.start + this.count && pblk + count > this.start) this.count = 0;
  }
}
