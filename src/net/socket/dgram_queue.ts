// A datagram socket's receive queue: whole messages with their sender, bounded by the
// socket's receive buffer (a datagram that does not fit is dropped and counted, as Linux
// does). recv copies out one datagram, truncating it to the caller's buffer (MSG_TRUNC).

import { E } from '../../kernel/errno.js';
import { MSG_PEEK, MSG_TRUNC } from '../../abi/linux/socket.js';
import type { RecvInfo } from './socket.js';
import type { SockAddr } from './sockaddr.js';

/** Per-datagram bookkeeping charged against the buffer, like an sk_buff's truesize overhead. */
const OVERHEAD = 256;

interface Datagram {
  data: Uint8Array;
  from: SockAddr;
}

export class DgramQueue {
  private items: Datagram[] = [];
  private head = 0;
  bytes = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  /** Queues a datagram unless it would overflow `limit` bytes; returns false when dropped. */
  push(data: Uint8Array, from: SockAddr, limit: number): boolean {
    const cost = data.length + OVERHEAD;
    if (this.bytes + cost > limit && this.length > 0) return false;
    this.items.push({ data, from });
    this.bytes += cost;
    return true;
  }

  /** The size of the next datagram (FIONREAD), or 0. */
  peekSize(): number {
    return this.length > 0 ? this.items[this.head]!.data.length : 0;
  }

  /** Copies the next datagram into buf[off, off+len). Errors: EAGAIN when empty. */
  recv(buf: Uint8Array, off: number, len: number, flags: number, info: RecvInfo | null): number {
    if (this.length === 0) throw E.EAGAIN;
    const d = this.items[this.head]!;
    const n = Math.min(len, d.data.length);
    buf.set(d.data.subarray(0, n), off);
    if (info !== null) {
      info.addr = d.from;
      info.flags = d.data.length > len ? MSG_TRUNC : 0;
    }
    if (!(flags & MSG_PEEK)) {
      this.head++;
      this.bytes -= d.data.length + OVERHEAD;
      if (this.head > 64 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
    }
    // MSG_TRUNC asks for the real length of the datagram.
    return flags & MSG_TRUNC ? d.data.length : n;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
    this.bytes = 0;
  }
}
