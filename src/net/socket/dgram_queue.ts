// A datagram socket's receive queue: whole messages with their sender, bounded by the
// socket's receive buffer (a datagram that does not fit is dropped and counted, as Linux
// does). recv copies out one datagram, truncating it to the caller's buffer (MSG_TRUNC).
// Datagrams are copied into per-queue slabs: one allocation per slab, not per datagram.

import { E } from '../../kernel/errno.js';
import { MSG_PEEK, MSG_TRUNC } from '../../abi/linux/socket.js';
import type { RecvInfo } from './socket.js';
import type { SockAddr } from './sockaddr.js';

/** Per-datagram bookkeeping charged against the buffer, like an sk_buff's truesize overhead. */
const OVERHEAD = 256;
/**
 * Slab size. Datagrams are queued and read in order, so the slabs alive at any time are those
 * holding unread datagrams: memory stays within the queued bytes plus one slab.
 */
const SLAB = 32 * 1024;
/** Larger datagrams get a buffer of their own. */
const SLAB_MAX = 8 * 1024;

interface Datagram {
  /** The slab (or own buffer) holding the bytes at [off, off + len). */
  buf: Uint8Array;
  off: number;
  len: number;
  from: SockAddr;
}

export class DgramQueue {
  /** Queued datagrams are items[head, tail); read slots are cleared, the array is reused. */
  private items: (Datagram | undefined)[] = [];
  private head = 0;
  private tail = 0;
  bytes = 0;

  get length(): number {
    return this.tail - this.head;
  }

  private slab: Uint8Array | null = null;
  private slabUsed = 0;

  /**
   * Queues a copy of src[off, off+len) from `from` unless it would overflow `limit` bytes;
   * returns false when dropped.
   */
  push(src: Uint8Array, off: number, len: number, from: SockAddr, limit: number): boolean {
    const cost = len + OVERHEAD;
    if (this.bytes + cost > limit && this.length > 0) return false;
    let buf: Uint8Array;
    let at: number;
    if (len > SLAB_MAX) {
      buf = src.slice(off, off + len);
      at = 0;
    } else {
      if (this.slab === null || this.slabUsed + len > SLAB) {
        this.slab = new Uint8Array(SLAB);
        this.slabUsed = 0;
      }
      buf = this.slab;
      at = this.slabUsed;
      buf.set(src.subarray(off, off + len), at);
      this.slabUsed += len;
    }
    this.items[this.tail++] = { buf, off: at, len, from };
    this.bytes += cost;
    return true;
  }

  /** The size of the next datagram (FIONREAD), or 0. */
  peekSize(): number {
    return this.length > 0 ? this.items[this.head]!.len : 0;
  }

  /** Copies the next datagram into buf[off, off+len). Errors: EAGAIN when empty. */
  recv(buf: Uint8Array, off: number, len: number, flags: number, info: RecvInfo | null): number {
    if (this.length === 0) throw E.EAGAIN;
    const d = this.items[this.head]!;
    const n = Math.min(len, d.len);
    buf.set(d.buf.subarray(d.off, d.off + n), off);
    if (info !== null) {
      info.addr = d.from;
      info.flags = d.len > len ? MSG_TRUNC : 0;
    }
    if (!(flags & MSG_PEEK)) {
      this.items[this.head] = undefined;
      this.head++;
      this.bytes -= d.len + OVERHEAD;
      if (this.head === this.tail) {
        // Empty: start over at the front of the same array.
        this.head = 0;
        this.tail = 0;
      } else if (this.head > 64 && this.head * 2 > this.tail) {
        this.items = this.items.slice(this.head, this.tail);
        this.tail -= this.head;
        this.head = 0;
      }
    }
    // MSG_TRUNC asks for the real length of the datagram.
    return flags & MSG_TRUNC ? d.len : n;
  }

  clear(): void {
    this.slab = null;
    this.items = [];
    this.head = 0;
    this.tail = 0;
    this.bytes = 0;
  }
}
