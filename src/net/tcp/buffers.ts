// A TCP connection's byte buffers. SendBuffer holds what the application wrote and the peer
// has not acknowledged (offset 0 is SND.UNA), in a ring that grows by doubling up to its limit,
// so idle sockets stay small. RecvBuffer holds in-order bytes the application has not read, as
// a queue of chunks (large segments kept in the frames they arrived in, small ones copied into
// slabs), plus out-of-order segments waiting for the gap before them (RFC 9293 §3.10.7.4).

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

/** A run of received bytes: buf[off, off + len). */
interface Chunk {
  buf: Uint8Array;
  off: number;
  len: number;
}

/** Slab size for copied (small) receive data. */
const RCV_SLAB = 32 * 1024;
/** Payloads at least this large may be kept in their frame rather than copied. */
const KEEP_MIN = 8 * 1024;

export class RecvBuffer {
  /** In-order data: chunks[head, tail); read chunks are cleared and the array reused. */
  private chunks: (Chunk | undefined)[] = [];
  private head = 0;
  private tail = 0;
  private bytes = 0;
  private slab: Uint8Array | null = null;
  private slabUsed = 0;
  /** Out-of-order segments, sorted, non-overlapping, all after RCV.NXT. */
  readonly ooo: Segment[] = [];
  oooBytes = 0;

  constructor(public limit: number) {}

  /** Bytes ready for the application. */
  get length(): number {
    return this.bytes;
  }
  /** Space the window may offer. */
  get free(): number {
    return Math.max(0, this.limit - this.bytes);
  }

  /** Appends a copy of in-order bytes (the caller trimmed them to the window). */
  push(src: Uint8Array, off: number, len: number): void {
    while (len > 0) {
      if (this.slab === null || this.slabUsed === this.slab.length) {
        this.slab = new Uint8Array(RCV_SLAB);
        this.slabUsed = 0;
      }
      const n = Math.min(len, this.slab.length - this.slabUsed);
      this.slab.set(src.subarray(off, off + n), this.slabUsed);
      // Grow the last chunk when it ends where this copy starts (consecutive small segments).
      const last = this.tail > this.head ? this.chunks[this.tail - 1]! : null;
      if (last !== null && last.buf === this.slab && last.off + last.len === this.slabUsed) last.len += n;
      else this.chunks[this.tail++] = { buf: this.slab, off: this.slabUsed, len: n };
      this.slabUsed += n;
      this.bytes += n;
      off += n;
      len -= n;
    }
  }

  /**
   * Appends in-order bytes from a received frame. A large payload whose frame has a backing
   * store of its own is kept where it is (NetDevice: delivered frames are never modified), so
   * the memory held stays within the payload plus its headers; anything else is copied.
   */
  pushFrame(frame: Uint8Array, off: number, len: number): void {
    if (len >= KEEP_MIN && frame.buffer.byteLength <= frame.byteLength + 64 && 2 * len >= frame.byteLength) {
      this.chunks[this.tail++] = { buf: frame, off, len };
      this.bytes += len;
      return;
    }
    this.push(frame, off, len);
  }

  /** Copies up to `len` bytes out; consumes them unless `peek`. */
  read(dst: Uint8Array, off: number, len: number, peek: boolean): number {
    let done = 0;
    let i = this.head;
    while (done < len && i < this.tail) {
      const c = this.chunks[i]!;
      const n = Math.min(c.len, len - done);
      dst.set(c.buf.subarray(c.off, c.off + n), off + done);
      done += n;
      if (peek) {
        i++;
        continue;
      }
      if (n < c.len) {
        c.off += n;
        c.len -= n;
        break;
      }
      this.chunks[i++] = undefined;
    }
    if (!peek) {
      this.head = i;
      this.bytes -= done;
      if (this.head === this.tail) {
        this.head = 0;
        this.tail = 0;
      } else if (this.head > 64 && this.head * 2 > this.tail) {
        this.chunks = this.chunks.slice(this.head, this.tail);
        this.tail -= this.head;
        this.head = 0;
      }
    }
    return done;
  }

  /** Discards everything queued (SHUT_RD on Linux keeps data; abort drops it). */
  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.tail = 0;
    this.bytes = 0;
    this.slab = null;
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

  /** Moves segments that now start at or before `rcvNxt` to the in-order data; returns the new RCV.NXT. */
  drainOoo(rcvNxt: number): number {
    const q = this.ooo;
    while (q.length > 0 && seqLe(q[0]!.seq, rcvNxt)) {
      const sgm = q.shift()!;
      this.oooBytes -= sgm.data.length;
      const skip = seqDiff(rcvNxt, sgm.seq);
      if (skip < sgm.data.length) {
        // The segment's bytes are already a private copy: queue them as they are.
        this.chunks[this.tail++] = { buf: sgm.data, off: skip, len: sgm.data.length - skip };
        this.bytes += sgm.data.length - skip;
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
