// AF_UNIX sockets inside one kernel (Linux's net/unix/af_unix.c): stream and datagram, bound
// to a filesystem path (a socket inode made in the VFS), to an abstract name ("\0name"), or
// unnamed (socketpair). Data moves directly from one socket's send call into its peer's
// receive buffer; nothing touches the network stack.

import type { Instant } from '../../host/host_ops.js';
import { E } from '../../kernel/errno.js';
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRNORM } from '../../abi/linux/poll.js';
import { MSG_PEEK, SOCK_DGRAM, SOCK_STREAM } from '../../abi/linux/socket.js';
import { DgramQueue } from '../socket/dgram_queue.js';
import { AF_UNIX, AF_UNSPEC, type SockAddr, type SockAddrUn } from '../socket/sockaddr.js';
import { Socket, type RecvInfo } from '../socket/socket.js';
import { RecvBuffer } from '../tcp/buffers.js';

/** Linux's default for unix sockets (net.core.wmem_default). */
const UNIX_BUF = 212992;

/** Where names live: path-bound sockets by inode, abstract ones by name. */
export class UnixNamespace {
  readonly byInode = new WeakMap<object, UnixSocketBase>();
  readonly abstract = new Map<string, UnixSocketBase>();
}

/**
 * Resolves and creates filesystem names for the namespace (the syscall layer supplies the
 * VFS walk, so this file needs no task).
 */
export interface UnixPaths {
  /** Makes the socket inode at `path`; returns its inode. Errors: EADDRINUSE when it exists, and the VFS's. */
  create(path: string): object;
  /** The inode at `path`. Errors: ENOENT, ECONNREFUSED when it is not a socket, and the VFS's. */
  lookup(path: string): object;
}

export function unixAddr(a: unknown): SockAddrUn {
  if (typeof a !== 'object' || a === null) throw E.EFAULT;
  const s = a as Partial<SockAddrUn>;
  if (s.family !== AF_UNIX) throw E.EINVAL;
  if (typeof s.path !== 'string') throw E.EINVAL;
  if (new TextEncoder().encode(s.path).length > 107) throw E.EINVAL;
  return { family: AF_UNIX, path: s.path };
}

export abstract class UnixSocketBase extends Socket {
  readonly family = AF_UNIX;
  readonly protocol = 0;
  name = '';
  private inodeKey: object | null = null;

  constructor(
    readonly ns: UnixNamespace,
    readonly paths: UnixPaths,
  ) {
    super(UNIX_BUF, UNIX_BUF);
  }

  override bind(addr: SockAddr, now: Instant): void {
    void now;
    const a = unixAddr(addr);
    if (this.name !== '') throw E.EINVAL;
    if (a.path === '') {
      // Autobind: an abstract name of five hex digits, as Linux picks.
      for (let i = 0; i < 0x100000; i++) {
        const n = `\0${((i * 2654435761) >>> 12 & 0xfffff).toString(16).padStart(5, '0')}`;
        if (!this.ns.abstract.has(n)) {
          this.ns.abstract.set(n, this);
          this.name = n;
          return;
        }
      }
      throw E.EADDRINUSE;
    }
    if (a.path.startsWith('\0')) {
      if (this.ns.abstract.has(a.path)) throw E.EADDRINUSE;
      this.ns.abstract.set(a.path, this);
    } else {
      const ino = this.paths.create(a.path);
      this.ns.byInode.set(ino, this);
      this.inodeKey = ino;
    }
    this.name = a.path;
  }

  /** The socket bound at `path`. Errors: ECONNREFUSED (nobody there), ENOENT. */
  protected find(path: string): UnixSocketBase {
    let s: UnixSocketBase | undefined;
    if (path.startsWith('\0')) s = this.ns.abstract.get(path);
    else s = this.ns.byInode.get(this.paths.lookup(path));
    if (s === undefined) throw E.ECONNREFUSED;
    return s;
  }

  protected unbindName(): void {
    if (this.name.startsWith('\0') && this.ns.abstract.get(this.name) === this) this.ns.abstract.delete(this.name);
    if (this.inodeKey !== null) this.ns.byInode.delete(this.inodeKey);
  }

  getsockname(): SockAddr {
    return { family: AF_UNIX, path: this.name };
  }
}

export class UnixStreamSocket extends UnixSocketBase {
  readonly type = SOCK_STREAM;
  peer: UnixStreamSocket | null = null;
  private readonly rx = new RecvBuffer(UNIX_BUF);
  private listeningFlag = false;
  private backlog = 0;
  private readonly acceptQueue: UnixStreamSocket[] = [];
  /** The peer will send nothing more (its SHUT_WR or close). */
  private rcvShut = false;
  private sndShut = false;
  private wasConnected = false;

  override get listening(): boolean {
    return this.listeningFlag;
  }

  /** Connects two fresh sockets (socketpair, and the server side of connect). */
  static pair(a: UnixStreamSocket, b: UnixStreamSocket): void {
    a.peer = b;
    b.peer = a;
    a.wasConnected = b.wasConnected = true;
  }

  override listen(backlog: number): void {
    if (this.peer !== null) throw E.EINVAL;
    if (this.name === '') throw E.EINVAL;
    this.listeningFlag = true;
    this.backlog = Math.max(0, Math.min(backlog, 4096));
  }

  override connect(addr: SockAddr, now: Instant): void {
    void now;
    const a = unixAddr(addr);
    if (this.peer !== null || this.wasConnected) throw E.EISCONN;
    if (this.listeningFlag) throw E.EINVAL;
    const l = this.find(a.path);
    if (!(l instanceof UnixStreamSocket) || !l.listeningFlag) throw E.ECONNREFUSED;
    if (l.acceptQueue.length > l.backlog) throw E.EAGAIN;
    const srv = new UnixStreamSocket(this.ns, this.paths);
    srv.host = l.host;
    srv.name = l.name;
    UnixStreamSocket.pair(this, srv);
    l.acceptQueue.push(srv);
    l.queue.notify(POLLIN | POLLRDNORM);
  }

  override connectDone(): void {}

  override accept(): Socket {
    if (!this.listeningFlag) throw E.EINVAL;
    const c = this.acceptQueue.shift();
    if (c === undefined) throw E.EAGAIN;
    return c;
  }

  sendmsg(buf: Uint8Array, off: number, len: number, to: SockAddr | null, flags: number): number {
    void flags;
    if (to !== null && to.family !== AF_UNSPEC) throw this.peer ? E.EISCONN : E.EOPNOTSUPP;
    const p = this.peer;
    if (p === null) throw this.wasConnected ? E.EPIPE : E.ENOTCONN;
    if (this.sndShut || p.rcvShutByOwner) throw E.EPIPE;
    if (len === 0) return 0;
    const n = Math.min(len, p.rx.free);
    if (n === 0) throw E.EAGAIN;
    p.rx.push(buf, off, n);
    p.queue.notify(POLLIN | POLLRDNORM);
    return n;
  }

  /** SHUT_RD by the receiving side itself: writers get EPIPE (Linux does the same for unix streams). */
  private rcvShutByOwner = false;

  recvmsg(buf: Uint8Array, off: number, len: number, flags: number, info: RecvInfo | null): number {
    if (info !== null) {
      info.flags = 0;
      info.addr = { family: AF_UNIX, path: this.peer?.name ?? '' };
    }
    if (this.listeningFlag) throw E.EINVAL;
    if (this.rx.length > 0) {
      const n = this.rx.read(buf, off, len, (flags & MSG_PEEK) !== 0);
      this.peer?.queue.notify(POLLOUT | POLLWRNORM);
      return n;
    }
    if (this.rcvShut || this.rcvShutByOwner || (this.peer === null && this.wasConnected)) return 0;
    if (this.peer === null) throw E.ENOTCONN;
    if (len === 0) return 0;
    throw E.EAGAIN;
  }

  override shutdown(how: number): void {
    if (how < 0 || how > 2) throw E.EINVAL;
    if (this.peer === null) throw E.ENOTCONN;
    if (how !== 1) this.rcvShutByOwner = true;
    if (how !== 0) {
      this.sndShut = true;
      this.peer.rcvShut = true;
      this.peer.queue.notify(POLLIN | POLLRDHUP | POLLHUP);
    }
    this.queue.notify(POLLIN | POLLOUT);
  }

  getpeername(): SockAddr {
    if (this.peer === null) throw E.ENOTCONN;
    return { family: AF_UNIX, path: this.peer.name };
  }

  poll(): number {
    if (this.listeningFlag) return this.acceptQueue.length > 0 ? POLLIN | POLLRDNORM : 0;
    let m = 0;
    if (this.rx.length > 0 || this.rcvShut || this.rcvShutByOwner) m |= POLLIN | POLLRDNORM;
    if (this.rcvShut) m |= POLLRDHUP;
    const p = this.peer;
    if (p === null) {
      m |= POLLOUT | POLLWRNORM | POLLHUP;
      if (this.wasConnected) m |= POLLIN | POLLRDNORM;
      return m;
    }
    if (this.rcvShut && this.sndShut) m |= POLLHUP;
    if (this.sndShut || p.rx.free > 0) m |= POLLOUT | POLLWRNORM;
    return m;
  }

  release(): void {
    this.unbindName();
    for (const c of this.acceptQueue.splice(0)) c.release();
    const p = this.peer;
    this.peer = null;
    if (p !== null) {
      p.peer = null;
      p.rcvShut = true;
      p.queue.notify(POLLIN | POLLOUT | POLLHUP | POLLRDHUP | POLLERR);
    }
  }
}

export class UnixDgramSocket extends UnixSocketBase {
  readonly type = SOCK_DGRAM;
  private peerName: string | null = null;
  peer: UnixDgramSocket | null = null;
  private readonly rxq = new DgramQueue();
  private closed = false;

  static pair(a: UnixDgramSocket, b: UnixDgramSocket): void {
    a.peer = b;
    b.peer = a;
  }

  override connect(addr: SockAddr): void {
    if (typeof addr === 'object' && addr !== null && addr.family === AF_UNSPEC) {
      this.peer = null;
      this.peerName = null;
      return;
    }
    const a = unixAddr(addr);
    const s = this.find(a.path);
    if (!(s instanceof UnixDgramSocket)) throw E.EPROTOTYPE;
    this.peer = s;
    this.peerName = a.path;
  }

  override connectDone(): void {}

  sendmsg(buf: Uint8Array, off: number, len: number, to: SockAddr | null): number {
    let target: UnixDgramSocket;
    if (to !== null && to.family !== AF_UNSPEC) {
      const s = this.find(unixAddr(to).path);
      if (!(s instanceof UnixDgramSocket)) throw E.EPROTOTYPE;
      target = s;
    } else {
      if (this.peer === null) throw this.peerName !== null ? E.ECONNREFUSED : E.ENOTCONN;
      target = this.peer;
    }
    if (target.closed) throw E.ECONNREFUSED;
    if (len > target.rcvbuf) throw E.EMSGSIZE;
    // A full receiver makes the sender wait (Linux's unix_dgram peer_wait).
    if (!target.rxq.push(buf, off, len, { family: AF_UNIX, path: this.name }, target.rcvbuf)) {
      target.waitingSenders.add(this);
      throw E.EAGAIN;
    }
    target.queue.notify(POLLIN | POLLRDNORM);
    return len;
  }

  private readonly waitingSenders = new Set<UnixDgramSocket>();

  recvmsg(buf: Uint8Array, off: number, len: number, flags: number, info: RecvInfo | null): number {
    const n = this.rxq.recv(buf, off, len, flags, info);
    if (this.waitingSenders.size > 0) {
      for (const s of this.waitingSenders) s.queue.notify(POLLOUT | POLLWRNORM);
      this.waitingSenders.clear();
    }
    return n;
  }

  override shutdown(how: number): void {
    if (how < 0 || how > 2) throw E.EINVAL;
  }

  getpeername(): SockAddr {
    if (this.peer === null) throw E.ENOTCONN;
    return { family: AF_UNIX, path: this.peer.name };
  }

  poll(): number {
    let m = 0;
    if (this.rxq.length > 0) m |= POLLIN | POLLRDNORM;
    if (this.peer === null || this.peer.rxq.bytes < this.peer.rcvbuf) m |= POLLOUT | POLLWRNORM;
    if (this.peer !== null && this.peer.closed) m |= POLLERR;
    return m;
  }

  release(): void {
    this.closed = true;
    this.unbindName();
    this.rxq.clear();
    for (const s of this.waitingSenders) s.queue.notify(POLLOUT | POLLERR);
  }
}
