// FileMap: a file's logical→physical block map held in memory as sorted, non-overlapping
// extents, whatever the on-disk form (extent tree or indirect blocks). Reads look blocks up
// here; writes and truncations edit it and the inode writes it back in its on-disk form.

import { EXT_INIT_MAX_LEN, EXT_UNWRITTEN_MAX_LEN } from './layout.js';

export interface Extent {
  /** First logical block. */
  l: number;
  len: number;
  /** First physical block. */
  p: number;
  /** Unwritten (preallocated): reads as zeros. */
  u: boolean;
}

/** A physical range given back by an edit. */
export interface Run {
  p: number;
  len: number;
}

export class FileMap {
  /** Sorted by `l`, non-overlapping. */
  readonly ext: Extent[] = [];
  /** Changed since it was last written to disk. */
  dirty = false;

  /** The index the last successful find returned: sequential I/O asks about the same extent again. */
  private hint = 0;

  /** Index of the extent holding `lblk`, or -(insertion point) - 1 when it lies in a hole. */
  find(lblk: number): number {
    const e = this.ext;
    // The hint is checked against `lblk` itself, so an edit that moved extents cannot mislead it.
    const h = e[this.hint];
    if (h !== undefined && h.l <= lblk && lblk < h.l + h.len) return this.hint;
    let lo = 0;
    let hi = e.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const x = e[mid]!;
      if (x.l + x.len <= lblk) lo = mid + 1;
      else if (x.l > lblk) hi = mid;
      else {
        this.hint = mid;
        return mid;
      }
    }
    return -lo - 1;
  }

  /** Total blocks mapped. */
  get mappedBlocks(): number {
    let n = 0;
    for (const x of this.ext) n += x.len;
    return n;
  }

  /** The last mapped logical block + 1 (0 when empty). */
  get end(): number {
    const last = this.ext[this.ext.length - 1];
    return last === undefined ? 0 : last.l + last.len;
  }

  /** Physical block a little past the extent before `lblk`: where to allocate next. */
  goalFor(lblk: number): number {
    const i = this.find(lblk);
    const e = this.ext;
    const prev = i >= 0 ? e[i] : e[-i - 2];
    if (prev === undefined) return -1;
    return prev.p + (lblk - prev.l);
  }

  /** Appends an extent when the caller knows it lies past every other (loading from disk). */
  push(l: number, len: number, p: number, u: boolean): void {
    const last = this.ext[this.ext.length - 1];
    if (last !== undefined && !u && !last.u && last.l + last.len === l && last.p + last.len === p && last.len + len <= EXT_INIT_MAX_LEN) {
      last.len += len;
      return;
    }
    this.ext.push({ l, len, p, u });
  }

  /** Maps [l, l+len) to [p, p+len) where the range is a hole now; merges with neighbours. */
  insert(l: number, len: number, p: number, u: boolean): void {
    const e = this.ext;
    let i = this.find(l);
    if (i >= 0) throw new Error(`tkl panic: FileMap.insert over mapped block ${l}`);
    i = -i - 1;
    const max = u ? EXT_UNWRITTEN_MAX_LEN : EXT_INIT_MAX_LEN;
    const prev = e[i - 1];
    const next = e[i];
    this.dirty = true;
    if (prev !== undefined && prev.u === u && prev.l + prev.len === l && prev.p + prev.len === p && prev.len + len <= max) {
      prev.len += len;
      if (next !== undefined && next.u === u && prev.l + prev.len === next.l && prev.p + prev.len === next.p && prev.len + next.len <= max) {
        prev.len += next.len;
        e.splice(i, 1);
      }
      return;
    }
    if (next !== undefined && next.u === u && l + len === next.l && p + len === next.p && next.len + len <= max) {
      next.l = l;
      next.p = p;
      next.len += len;
      return;
    }
    e.splice(i, 0, { l, len, p, u });
  }

  /**
   * Unmaps every block in [from, to) and returns the physical runs that were mapped there,
   * splitting extents that straddle the edges.
   */
  remove(from: number, to: number): Run[] {
    const out: Run[] = [];
    const e = this.ext;
    if (to <= from) return out;
    let i = this.find(from);
    if (i < 0) i = -i - 1;
    while (i < e.length) {
      const x = e[i]!;
      if (x.l >= to) break;
      const s = Math.max(x.l, from);
      const t = Math.min(x.l + x.len, to);
      out.push({ p: x.p + (s - x.l), len: t - s });
      this.dirty = true;
      if (s === x.l && t === x.l + x.len) {
        e.splice(i, 1);
        continue;
      }
      if (s === x.l) {
        // Cut the head.
        x.p += t - x.l;
        x.len -= t - x.l;
        x.l = t;
        i++;
        continue;
      }
      if (t === x.l + x.len) {
        x.len = s - x.l;
        i++;
        continue;
      }
      // A hole in the middle: split in two.
      const tail: Extent = { l: t, len: x.l + x.len - t, p: x.p + (t - x.l), u: x.u };
      x.len = s - x.l;
      e.splice(i + 1, 0, tail);
      i += 2;
    }
    return out;
  }

  /** Marks [from, to) written where it is unwritten (splitting extents as needed). */
  markWritten(from: number, to: number): void {
    const e = this.ext;
    let i = this.find(from);
    if (i < 0) i = -i - 1;
    for (; i < e.length; i++) {
      const x = e[i]!;
      if (x.l >= to) break;
      if (!x.u) continue;
      const s = Math.max(x.l, from);
      const t = Math.min(x.l + x.len, to);
      this.dirty = true;
      const parts: Extent[] = [];
      if (s > x.l) parts.push({ l: x.l, len: s - x.l, p: x.p, u: true });
      parts.push({ l: s, len: t - s, p: x.p + (s - x.l), u: false });
      if (t < x.l + x.len) parts.push({ l: t, len: x.l + x.len - t, p: x.p + (t - x.l), u: true });
      e.splice(i, 1, ...parts);
      i += parts.length - 1;
    }
    this.coalesce();
  }

  /** Merges neighbours that became contiguous. */
  coalesce(): void {
    const e = this.ext;
    for (let i = 1; i < e.length; ) {
      const a = e[i - 1]!;
      const b = e[i]!;
      const max = a.u ? EXT_UNWRITTEN_MAX_LEN : EXT_INIT_MAX_LEN;
      if (a.u === b.u && a.l + a.len === b.l && a.p + a.len === b.p && a.len + b.len <= max) {
        a.len += b.len;
        e.splice(i, 1);
      } else i++;
    }
  }
}
