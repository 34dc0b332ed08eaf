// Socket: the protocol-independent half of a socket (Linux's struct socket + struct sock's
// common fields) and the operations every family implements (Linux's proto_ops). Every
// operation is a non-blocking attempt: it throws E.EAGAIN when it would have to wait, and
// the syscall layer (kernel/syscalls/sys_socket.ts) turns that into a wait on `queue`.

import type { HostOps, Instant } from '../../host/host_ops.js';
import { E } from '../../kernel/errno.js';
import { WaitQueue } from '../../kernel/wait_queue.js';
import {
  SO_ACCEPTCONN, SO_BROADCAST, SO_DOMAIN, SO_ERROR, SO_KEEPALIVE, SO_LINGER, SO_PROTOCOL, SO_RCVBUF, SO_RCVLOWAT, SO_RCVTIMEO,
  SO_REUSEADDR, SO_REUSEPORT, SO_SNDBUF, SO_SNDTIMEO, SO_TYPE, SOL_SOCKET,
} from '../../abi/linux/socket.js';
import type { SockAddr } from './sockaddr.js';
import type { Errno } from '../../kernel/errno.js';

/** SO_LINGER's struct linger. */
export interface Linger {
  onoff: number;
  /** Seconds. */
  linger: number;
}

/** A timeval for SO_RCVTIMEO/SO_SNDTIMEO, or a number of milliseconds. */
export interface Timeval {
  sec: number;
  usec: number;
}

export type SockOptValue = number | boolean | Linger | Timeval | string;

/** Linux's sysctl_wmem_max/rmem_max: what an unprivileged SO_SNDBUF/SO_RCVBUF may ask for. */
export const SOCK_BUF_MAX = 4 * 1024 * 1024;
const SOCK_MIN_SNDBUF = 4608;
const SOCK_MIN_RCVBUF = 2304;

/** Where recvmsg reports the sender and message flags. */
export interface RecvInfo {
  /** Filled with the sender's address for datagram sockets. */
  addr?: SockAddr;
  /** MSG_TRUNC when a datagram was longer than the buffer. */
  flags: number;
}

export abstract class Socket {
  /** Notified with POLL* bits whenever readiness changes. */
  readonly queue = new WaitQueue();
  abstract readonly family: number;
  abstract readonly type: number;
  abstract readonly protocol: number;
  reuseAddr = false;
  reusePort = false;
  keepalive = false;
  broadcast = false;
  linger: Linger = { onoff: 0, linger: 0 };
  sndbuf: number;
  rcvbuf: number;
  rcvlowat = 1;
  /** Receive and send timeouts in ns; 0 waits for ever. */
  rcvtimeo = 0;
  sndtimeo = 0;
  /** The pending error SO_ERROR reports (and clears); null when none. */
  softError: Errno | null = null;
  /** The host whose clock stamps this socket's operations (set when the socket is made). */
  host: HostOps | null = null;

  constructor(sndbuf: number, rcvbuf: number) {
    this.sndbuf = sndbuf;
    this.rcvbuf = rcvbuf;
  }

  /** Errors: EINVAL (already bound), EADDRINUSE, EADDRNOTAVAIL, EACCES, EAFNOSUPPORT. */
  bind(addr: SockAddr, now: Instant): void {
    void addr;
    void now;
    throw E.EOPNOTSUPP;
  }
  /**
   * Starts or makes a connection. Stream sockets throw EINPROGRESS once the handshake is under
   * way (then connectDone() says when it ended). Errors: EISCONN, EALREADY, ECONNREFUSED,
   * ENETUNREACH, EADDRNOTAVAIL, EAFNOSUPPORT, EINVAL.
   */
  connect(addr: SockAddr, now: Instant): void {
    void addr;
    void now;
    throw E.EOPNOTSUPP;
  }
  /** After EINPROGRESS: returns when connected, throws EAGAIN while pending, or the failure. */
  connectDone(): void {
    throw E.EOPNOTSUPP;
  }
  /** Errors: EOPNOTSUPP (not a stream socket), EINVAL (connected), EADDRINUSE. */
  listen(backlog: number, now: Instant): void {
    void backlog;
    void now;
    throw E.EOPNOTSUPP;
  }
  /** A connected socket from the accept queue. Errors: EAGAIN, EINVAL (not listening). */
  accept(now: Instant): Socket {
    void now;
    throw E.EOPNOTSUPP;
  }
  /**
   * Sends buf[off, off+len) (to `to` for an unconnected datagram socket). Returns the bytes
   * taken. Errors: EAGAIN, EPIPE, ENOTCONN, EDESTADDRREQ, EMSGSIZE, ECONNRESET, EISCONN.
   */
  abstract sendmsg(buf: Uint8Array, off: number, len: number, to: SockAddr | null, flags: number, now: Instant): number;
  /**
   * Receives into buf[off, off+len); 0 is end of stream. Errors: EAGAIN, ENOTCONN,
   * ECONNRESET, and a pending ICMP error for datagram sockets.
   */
  abstract recvmsg(buf: Uint8Array, off: number, len: number, flags: number, info: RecvInfo | null, now: Instant): number;
  /** Errors: ENOTCONN, EINVAL. */
  shutdown(how: number, now: Instant): void {
    void how;
    void now;
    throw E.EOPNOTSUPP;
  }
  abstract getsockname(): SockAddr;
  /** Errors: ENOTCONN. */
  abstract getpeername(): SockAddr;
  /** The POLL* events ready now. */
  abstract poll(): number;
  /** The last file reference went away. */
  abstract release(now: Instant): void;
  /** True while listening (SO_ACCEPTCONN). */
  get listening(): boolean {
    return false;
  }

  /** Errors: ENOPROTOOPT (unknown option), EINVAL (bad value). */
  setsockopt(level: number, name: number, value: SockOptValue, now: Instant): void {
    void now;
    if (level !== SOL_SOCKET) throw E.ENOPROTOOPT;
    switch (name) {
      case SO_REUSEADDR:
        this.reuseAddr = boolOpt(value);
        return;
      case SO_REUSEPORT:
        this.reusePort = boolOpt(value);
        return;
      case SO_KEEPALIVE:
        this.keepalive = boolOpt(value);
        this.keepaliveChanged();
        return;
      case SO_BROADCAST:
        this.broadcast = boolOpt(value);
        return;
      case SO_LINGER: {
        if (typeof value !== 'object' || value === null || !('onoff' in value)) throw E.EINVAL;
        const l = value as Linger;
        if (!Number.isInteger(l.onoff) || !Number.isInteger(l.linger) || l.linger < 0) throw E.EINVAL;
        this.linger = { onoff: l.onoff ? 1 : 0, linger: l.linger };
        return;
      }
      case SO_SNDBUF:
        // Linux doubles the request to leave room for bookkeeping and reports the doubled value.
        // The request is read as unsigned (Linux: min_t(u32, val, wmem_max)): -1 asks for the maximum.
        this.sndbuf = Math.max(SOCK_MIN_SNDBUF, Math.min(intOpt(value) >>> 0, SOCK_BUF_MAX) * 2);
        this.buffersChanged();
        return;
      case SO_RCVBUF:
        this.rcvbuf = Math.max(SOCK_MIN_RCVBUF, Math.min(intOpt(value) >>> 0, SOCK_BUF_MAX) * 2);
        this.buffersChanged();
        return;
      case SO_RCVLOWAT:
        this.rcvlowat = Math.max(1, intOpt(value));
        return;
      case SO_RCVTIMEO:
        this.rcvtimeo = timeoOpt(value);
        return;
      case SO_SNDTIMEO:
        this.sndtimeo = timeoOpt(value);
        return;
      default:
        throw E.ENOPROTOOPT;
    }
  }

  /** Errors: ENOPROTOOPT. */
  getsockopt(level: number, name: number): SockOptValue {
    if (level !== SOL_SOCKET) throw E.ENOPROTOOPT;
    switch (name) {
      case SO_TYPE:
        return this.type;
      case SO_DOMAIN:
        return this.family;
      case SO_PROTOCOL:
        return this.protocol;
      case SO_ERROR: {
        const e = this.softError;
        this.softError = null;
        return e === null ? 0 : e.errno;
      }
      case SO_REUSEADDR:
        return this.reuseAddr ? 1 : 0;
      case SO_REUSEPORT:
        return this.reusePort ? 1 : 0;
      case SO_KEEPALIVE:
        return this.keepalive ? 1 : 0;
      case SO_BROADCAST:
        return this.broadcast ? 1 : 0;
      case SO_LINGER:
        return { ...this.linger };
      case SO_SNDBUF:
        return this.sndbuf;
      case SO_RCVBUF:
        return this.rcvbuf;
      case SO_RCVLOWAT:
        return this.rcvlowat;
      case SO_RCVTIMEO:
        return toTimeval(this.rcvtimeo);
      case SO_SNDTIMEO:
        return toTimeval(this.sndtimeo);
      case SO_ACCEPTCONN:
        return this.listening ? 1 : 0;
      default:
        throw E.ENOPROTOOPT;
    }
  }

  /** Hooks for protocols that act on option changes. */
  protected keepaliveChanged(): void {}
  protected buffersChanged(): void {}

  /** Takes the pending error, if any (reported once, as sock_error does). */
  /**
   * True only when recvmsg(len > 0) would certainly fail with EAGAIN now, with no other side
   * effect: lets a blocking receive go to sleep without an EAGAIN exception first (throwing
   * costs more than the rest of a small receive). False when unsure.
   */
  recvWouldBlock(): boolean {
    return false;
  }

  takeError(): Errno | null {
    const e = this.softError;
    this.softError = null;
    return e;
  }
}

export function intOpt(v: SockOptValue): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw E.EINVAL;
  return v;
}

export function boolOpt(v: SockOptValue): boolean {
  return intOpt(v) !== 0;
}

function timeoOpt(v: SockOptValue): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw E.EDOM;
    return Math.round(v * 1e6);
  }
  if (typeof v !== 'object' || v === null || !('sec' in v)) throw E.EINVAL;
  const t = v as Timeval;
  if (!Number.isInteger(t.sec) || !Number.isInteger(t.usec) || t.usec < 0 || t.usec >= 1e6) throw E.EDOM;
  if (t.sec < 0) return 0;
  return t.sec * 1e9 + t.usec * 1e3;
}

function toTimeval(ns: number): Timeval {
  return { sec: Math.floor(ns / 1e9), usec: Math.floor((ns % 1e9) / 1e3) };
}
