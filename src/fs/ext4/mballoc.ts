// Stream windows: keeping appending files contiguous when several grow at once. A file that
// has grown past STREAM_MIN_BLOCKS by appending owns a window — the free blocks after its end,
// up to WINDOW_BYTES — that other allocations step over while the file is open, the idea of
// mballoc's per-inode preallocation (§ Block and Inode Allocation Policy). Windows live only in
// memory: the bitmaps never show them, so every commit leaves exactly the blocks files own.

/** What a window belongs to: an inode, honoured while some open file refers to it. */
export interface WindowOwner {
  readonly openCount: number;
}

/** Files smaller than this (in blocks) get no window: small files pack (mballoc's stream_req). */
export const STREAM_MIN_BLOCKS = 16;
/** How far ahead of a streaming file others keep away. */
const WINDOW_BYTES = 8 << 20;
/** Blocks in a fresh window on a filesystem of `blockSize`-byte blocks. */
export function windowBlocks(blockSize: number): number {
  return Math.max(STREAM_MIN_BLOCKS, WINDOW_BYTES / blockSize);
}
/** At most this many windows; the oldest goes first (each is a few numbers). */
const MAX_WINDOWS = 64;

/** The filesystem as windows see it: group geometry and block bitmaps. */
export interface GroupBitmaps {
  readonly blockSize: number;
  groupOfBlock(b: number): number;
  groupFirstBlock(g: number): number;
  groupBlocks(g: number): number;
  blockBitmap(g: number): { data: Uint8Array };
}

interface Window {
  /** First block (absolute). */
  p: number;
  len: number;
}

/** The windows of one filesystem's open streaming files. */
export class StreamWindows {
  private readonly byOwner = new Map<WindowOwner, Window>();
  /** Reused by avoidIn (the allocator's hot path allocates nothing per call). */
  private readonly scratch: number[] = [];

  get size(): number {
    return this.byOwner.size;
  }

  /**
   * The windows of open files other than `except` that overlap [lo, hi) (absolute blocks), as
   * sorted [start, end) pairs relative to `lo` — or null when there are none. Windows of
   * closed files are dropped on the way. The array is reused by the next call.
   */
  avoidIn(lo: number, hi: number, except: WindowOwner | null): number[] | null {
    const out = this.scratch;
    out.length = 0;
    for (const [owner, w] of this.byOwner) {
      if (owner.openCount === 0) {
        this.byOwner.delete(owner);
        continue;
      }
      if (owner === except || w.p >= hi || w.p + w.len <= lo) continue;
      out.push(Math.max(w.p, lo) - lo, Math.min(w.p + w.len, hi) - lo);
    }
    if (out.length === 0) return null;
    if (out.length > 2) sortPairs(out);
    return out;
  }

  /**
   * Records that `owner` was just given [p, p+len) at the end of its file: the rest of its
   * window stays when the run came from it, else a fresh window starts after the run: the
   * free blocks there in the same group, up to windowBlocks and short of others' windows.
   */
  extended(owner: WindowOwner, p: number, len: number, fs: GroupBitmaps): void {
    const end = p + len;
    const w = this.byOwner.get(owner);
    if (w !== undefined && p >= w.p && end <= w.p + w.len) {
      w.len -= end - w.p;
      w.p = end;
      if (w.len > 0) return;
    }
    this.byOwner.delete(owner);
    const g = fs.groupOfBlock(p);
    const i = end - fs.groupFirstBlock(g);
    const n = fs.groupBlocks(g);
    if (i >= n) return;
    let free = clearRunLength(fs.blockBitmap(g).data, i, Math.min(n, i + windowBlocks(fs.blockSize)));
    const others = this.avoidIn(end, end + free, owner);
    if (others !== null) free = others[0]!;
    if (free <= 0) return;
    if (this.byOwner.size >= MAX_WINDOWS) this.byOwner.delete(this.byOwner.keys().next().value!);
    this.byOwner.set(owner, { p: end, len: free });
  }

  /** Forgets every window (the filesystem is short of space: windows must not cause ENOSPC). */
  clear(): void {
    this.byOwner.clear();
  }
}

function sortPairs(a: number[]): void {
  // Insertion sort of pairs by start: a group rarely holds more than a couple of windows.
  for (let i = 2; i < a.length; i += 2) {
    const s = a[i]!;
    const e = a[i + 1]!;
    let j = i - 2;
    while (j >= 0 && a[j]! > s) {
      a[j + 2] = a[j]!;
      a[j + 3] = a[j + 1]!;
      j -= 2;
    }
    a[j + 2] = s;
    a[j + 3] = e;
  }
}

function used(bm: Uint8Array, i: number): boolean {
  return (bm[i >>> 3]! & (1 << (i & 7))) !== 0;
}

/** The clear bits from `from` on in [from, limit): how many before the first set one. */
export function clearRunLength(bm: Uint8Array, from: number, limit: number): number {
  let i = from;
  while (i < limit) {
    if ((i & 7) === 0 && i + 8 <= limit && bm[i >>> 3] === 0) {
      i += 8;
      continue;
    }
    if (used(bm, i)) break;
    i++;
  }
  return i - from;
}

/**
 * As the allocator's first-fit run search over a group's bitmap `bm` of `n` bits — a run of at
 * least `want` clear bits (up to `max`), from `from` to the end, then from 0 — with the
 * [start, end) pairs of `avoid` (sorted) taken as in use.
 */
export function findFreeRunAvoiding(bm: Uint8Array, from: number, n: number, want: number, max: number, avoid: readonly number[]): { start: number; len: number } | null {
  const scan = (lo: number, hi: number): { start: number; len: number } | null => {
    let i = lo;
    let k = 0;
    while (i < hi) {
      // Past the windows that end at or before i; step over one that covers i.
      while (k < avoid.length && avoid[k + 1]! <= i) k += 2;
      if (k < avoid.length && avoid[k]! <= i) {
        i = avoid[k + 1]!;
        continue;
      }
      if (used(bm, i)) {
        i++;
        while (i < hi && (i & 7) !== 0 && used(bm, i)) i++;
        while (i + 8 <= hi && bm[i >>> 3] === 0xff) i += 8;
        continue;
      }
      const limit = Math.min(hi, k < avoid.length ? avoid[k]! : hi, i + max);
      const len = clearRunLength(bm, i, limit);
      if (len >= want) return { start: i, len };
      i += len;
    }
    return null;
  };
  return scan(from, n) ?? (from > 0 ? scan(0, Math.min(n, from + max)) : null);
}
