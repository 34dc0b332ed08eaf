// A TCP connection's byte buffers. SendBuffer holds what the application wrote and the peer
// has not acknowledged (offset 0 is SND.UNA); RecvBuffer holds in-order bytes the application
// has not read, plus out-of-order segments waiting for the gap before them (RFC 9293 §3.10.7.4).
// Both are rings that grow by doubling up to their limit, so idle sockets stay small.

import { seqAdd, seqDiff, seqGt, seqLe, seqLt } from './seq.js';

const INITIAL = 16 * 1024;

class Ring {
  buf: Uint8Array;
  head = 0;
  length = 0;

  constructor(initial: number) {
    this.buf = new Uint8Array(initial);
  }

  /** Makes room for `n` more bytes (the caller has checked the limit). */
  reserve(n: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    this.copyOut(0, next, 0, this.length);
    this.buf = next;
    this.head = 0;
  }

  append(src: Uint8Array, off: number, len: number): void {
    this.reserve(len);
    const cap = this.buf.length;
    const tail = (this.head + this.length) % cap;
    const first = Math.min(len, cap - tail);
    this.buf.set(src.subarray(off, off + first), tail);
    if (first < len) this.buf.set(src.subarray(off + first, off + len), 0);
    this.length += len;
  }

  /** Copies bytes [at, at+len) of the content into dst[dstOff…]. */
  copyOut(at: number, dst: Uint8Array, dstOff: number, len: number): void {
    const cap = this.buf.length;
    const start = (this.head + at) % cap;
    const first = Math.min(len, cap - start);
    dst.set(this.buf.subarray(start, start + first), dstOff);
    if (first < len) dst.set(this.buf.subarray(0, len - first), dstOff + first);
  }

  consume(n: number): void {
    this.head = (this.head + n) % this.buf.length;
    this.length -= n;
    if (this.length === 0) this.head = 0;
  }
}

export class SendBuffer {
  private readonly ring = new Ring(INITIAL);

  constructor(public limit: number) {}

  get length(): number {
    return this.ring.length;
  }
  get free(): number {
    return Math.max(0, this.limit - this.ring.length);
  }

  /** Takes up to `free` bytes of src[off, off+len); returns how many. */
  write(src: Uint8Array, off: number, len: number): number {
    const n = Math.min(len, this.free);
    if (n > 0) this.ring.append(src, off, n);
    return n;
  }

  /** Copies `len` bytes starting `at` bytes after SND.UNA into dst. */
  copyOut(at: number, dst: Uint8Array, dstOff: number, len: number): void {
    this.ring.copyOut(at, dst, dstOff, len);
  }

  /** Drops `n` acknowledged bytes. */
  ack(n: number): void {
    this.ring.consume(Math.min(n, this.ring.length));
  }
}

interface Segment {
  seq: number;
  data: Uint8Array;
}

export class RecvBuffer {
  private readonly ring = new Ring(INITIAL);
  /** Out-of-order segments, sorted, non-overlapping, all after RCV.NXT. */
  readonly ooo: Segment[] = [];
  oooBytes = 0;

  constructor(public limit: number) {}

  /** Bytes ready for the application. */
  get length(): number {
    return this.ring.length;
  }
  /** Space the window may offer. */
  get free(): number {
    return Math.max(0, this.limit - this.ring.length);
  }

  /** Appends in-order bytes (the caller trimmed them to the window). */
  push(src: Uint8Array, off: number, len: number): void {
    this.ring.append(src, off, len);
  }

  /** Copies up to `len` bytes out; consumes them unless `peek`. */
  read(dst: Uint8Array, off: number, len: number, peek: boolean): number {
    const n = Math.min(len, this.ring.length);
    this.ring.copyOut(0, dst, off, n);
    if (!peek) this.ring.consume(n);
    return n;
  }

  /** Discards everything queued (SHUT_RD on Linux keeps data; abort drops it). */
  clear(): void {
    this.ring.consume(this.ring.length);
    this.ooo.length = 0;
    this.oooBytes = 0;
  }

  /**
   * Stores an out-of-order segment [seq, seq+len) copied from src, trimming what is already
   * held. Returns false when nothing new was stored (a duplicate).
   */
  insertOoo(seq: number, src: Uint8Array, off: number, len: number): boolean {
    let s = seq;
    const end = seqAdd(seq, len);
    let i = 0;
    const q = this.ooo;
    while (i < q.length && seqLe(seqAdd(q[i]!.seq, q[i]!.data.length), s)) i++;
    let stored = false;
    while (seqLt(s, end)) {
      const next = q[i];
      if (next !== undefined && seqLe(next.seq, s)) {
        // Covered by an existing segment: skip past it.
        s = seqAdd(next.seq, next.data.length);
        i++;
        continue;
      }
      const limit = next !== undefined && seqLt(next.seq, end) ? next.seq : end;
      const n = seqDiff(limit, s);
      const from = off + seqDiff(s, seq);
      q.splice(i, 0, { seq: s, data: src.slice(from, from + n) });
      this.oooBytes += n;
      stored = true;
      i++;
      s = limit;
    }
    return stored;
  }

  /** Moves segments that now start at or before `rcvNxt` into the ring; returns the new RCV.NXT. */
  drainOoo(rcvNxt: number): number {
    const q = this.ooo;
    while (q.length > 0 && seqLe(q[0]!.seq, rcvNxt)) {
      const sgm = q.shift()!;
      this.oooBytes -= sgm.data.length;
      const skip = seqDiff(rcvNxt, sgm.seq);
      if (skip < sgm.data.length) {
        this.ring.append(sgm.data, skip, sgm.data.length - skip);
        rcvNxt = seqAdd(rcvNxt, sgm.data.length - skip);
      }
    }
    return rcvNxt;
  }

  /** SACK blocks (RFC 2018 §4) for the out-of-order data held, contiguous runs merged, lowest first. */
  sackBlocks(out: Uint32Array, max: number): number {
    let n = 0;
    let i = 0;
    const q = this.ooo;
    while (i < q.length && n < max) {
      const start = q[i]!.seq;
      let end = seqAdd(start, q[i]!.data.length);
      i++;
      while (i < q.length && q[i]!.seq === end) {
        end = seqAdd(end, q[i]!.data.length);
        i++;
      }
      out[2 * n] = start;
      out[2 * n + 1] = end;
      n++;
    }
    return n;
  }

  /** True if any out-of-order byte lies beyond `seq`. */
  hasOooAfter(seq: number): boolean {
    const last = this.ooo[this.ooo.length - 1];
    return last !== undefined && seqGt(seqAdd(last.seq, last.data.length), seq);
  }
}
