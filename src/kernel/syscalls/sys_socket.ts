// The socket syscalls: socket, socketpair, bind, listen, accept/accept4, connect, sendto,
// recvfrom, sendmsg, recvmsg, shutdown, getsockname, getpeername, setsockopt, getsockopt.
// Each is a non-blocking attempt on the Socket (net/socket/socket.ts); a blocking descriptor
// waits on the socket's queue through a Blocked, honouring SO_RCVTIMEO/SO_SNDTIMEO.

import { AT_FDCWD, O_NONBLOCK } from '../../abi/linux/fcntl.js';
import { POLLERR, POLLHUP, POLLIN, POLLOUT } from '../../abi/linux/poll.js';
import { S_IFMT, S_IFSOCK } from '../../abi/linux/stat.js';
import {
  MSG_DONTWAIT, MSG_PEEK, MSG_WAITALL, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_STREAM, SOCK_TYPE_MASK,
} from '../../abi/linux/socket.js';
import type { Instant } from '../../host/host_ops.js';
import { AF_INET, AF_UNIX, type SockAddr, type SockAddrIn } from '../../net/socket/sockaddr.js';
import { createSocket, socketFile, socketOf } from '../../net/socket/socket_file.js';
import type { RecvInfo, Socket, SockOptValue } from '../../net/socket/socket.js';
import { UnixDgramSocket, UnixStreamSocket, type UnixPaths } from '../../net/unix/unix.js';
import type { File } from '../../vfs/file.js';
import { pathLookup } from '../../vfs/namei.js';
import { E, isErrno } from '../errno.js';
import type { Task } from '../task.js';
import { Blocked, mapBlocked, type Waiter } from '../wait_queue.js';
import { bufArg, countArg, fileArg, intArg, iovArg } from './args.js';
import { sys_mknodat } from './sys_namei.js';
import { IOV_MAX } from '../../abi/linux/limits.js';

/** struct msghdr: `name` is filled in by recvmsg, `flags` too (MSG_TRUNC). */
export interface MsgHdr {
  name?: SockAddr | null;
  iov: Uint8Array[];
  flags?: number;
}

function sockArg(t: Task, fd: number): { f: File; s: Socket } {
  const f = fileArg(t, fd);
  return { f, s: socketOf(f) };
}

function unixPaths(t: Task): UnixPaths {
  return {
    create(path) {
      try {
        sys_mknodat(t, AT_FDCWD, path, S_IFSOCK | (0o777 & ~t.umask));
      } catch (e) {
        if (e === E.EEXIST) throw E.EADDRINUSE;
        throw e;
      }
      return pathLookup(t, AT_FDCWD, path, 0).dentry.inode;
    },
    lookup(path) {
      const inode = pathLookup(t, AT_FDCWD, path, 0).dentry.inode;
      if ((inode.mode & S_IFMT) !== S_IFSOCK) throw E.ECONNREFUSED;
      return inode;
    },
  };
}

function now(t: Task): Instant {
  return t.kernel.host.monotonic();
}

/**
 * Runs `attempt`; when it would block on a blocking socket, throws a Blocked that waits on
 * the socket's queue for `mask` and retries, giving up with EAGAIN at the SO_*TIMEO deadline.
 */
function attemptOrBlock<T>(f: File, s: Socket, flags: number, mask: number, timeo: number, deadline: Instant | null, attempt: () => T): T {
  try {
    return attempt();
  } catch (e) {
    if (e !== E.EAGAIN) throw e;
    return blockFor(f, s, flags, mask, timeo, deadline, attempt, e);
  }
}

/**
 * After `attempt` failed with EAGAIN (`e`): rethrows it on a non-blocking socket or call,
 * else throws the Blocked that waits for `mask` and runs `attempt` again (its result passed
 * through `then`, when given: mapped here rather than by catching and rethrowing).
 */
function blockFor<T>(f: File, s: Socket, flags: number, mask: number, timeo: number, deadline: Instant | null, attempt: () => T, e: unknown, then?: (v: T) => T): never {
  if (f.flags & O_NONBLOCK || flags & MSG_DONTWAIT) throw e;
  const dl = deadline ?? (timeo > 0 ? ((s.host!.monotonic() + timeo) as Instant) : null);
  const b = new Blocked<T>(
    (wake) => {
      const w: Waiter = { mask: mask | POLLERR | POLLHUP, wake };
      s.queue.add(w);
      return () => s.queue.remove(w);
    },
    () => attemptOrBlock(f, s, flags, mask, timeo, dl, attempt),
    dl,
    () => {
      throw E.EAGAIN;
    },
  );
  throw then === undefined ? b : mapBlocked(b, then);
}

export function sys_socket(t: Task, domain: number, type: number, protocol: number = 0): number {
  const d = intArg(domain);
  const ty = intArg(type);
  const p = intArg(protocol);
  if (ty & ~(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC)) throw E.EINVAL;
  const s = createSocket(t.kernel, d, ty & SOCK_TYPE_MASK, p, unixPaths(t));
  const f = socketFile(t.kernel, s, (ty & SOCK_NONBLOCK) !== 0);
  try {
    return t.files.install(f, (ty & SOCK_CLOEXEC) !== 0);
  } catch (e) {
    t.kernel.putFile(f);
    throw e;
  }
}

export function sys_socketpair(t: Task, domain: number, type: number, protocol: number = 0): [number, number] {
  const d = intArg(domain);
  const ty = intArg(type);
  if (intArg(protocol) !== 0) throw E.EPROTONOSUPPORT;
  if (d !== AF_UNIX) throw E.EOPNOTSUPP;
  const base = ty & SOCK_TYPE_MASK;
  const paths = unixPaths(t);
  let a: Socket;
  let b: Socket;
  if (base === SOCK_STREAM) {
    const x = createSocket(t.kernel, AF_UNIX, SOCK_STREAM, 0, paths) as UnixStreamSocket;
    const y = createSocket(t.kernel, AF_UNIX, SOCK_STREAM, 0, paths) as UnixStreamSocket;
    UnixStreamSocket.pair(x, y);
    a = x;
    b = y;
  } else if (base === SOCK_DGRAM) {
    const x = createSocket(t.kernel, AF_UNIX, SOCK_DGRAM, 0, paths) as UnixDgramSocket;
    const y = createSocket(t.kernel, AF_UNIX, SOCK_DGRAM, 0, paths) as UnixDgramSocket;
    UnixDgramSocket.pair(x, y);
    a = x;
    b = y;
  } else throw E.ESOCKTNOSUPPORT;
  const nb = (ty & SOCK_NONBLOCK) !== 0;
  const ce = (ty & SOCK_CLOEXEC) !== 0;
  const fa = socketFile(t.kernel, a, nb);
  const fb = socketFile(t.kernel, b, nb);
  const fd0 = t.files.install(fa, ce);
  let fd1: number;
  try {
    fd1 = t.files.install(fb, ce);
  } catch (e) {
    t.files.close(fd0);
    t.kernel.putFile(fb);
    throw e;
  }
  return [fd0, fd1];
}

export function sys_bind(t: Task, fd: number, addr: SockAddr): number {
  const { s } = sockArg(t, fd);
  s.bind(addr, now(t));
  return 0;
}

export function sys_listen(t: Task, fd: number, backlog: number): number {
  const { s } = sockArg(t, fd);
  s.listen(intArg(backlog), now(t));
  return 0;
}

export function sys_connect(t: Task, fd: number, addr: SockAddr): number {
  const { f, s } = sockArg(t, fd);
  try {
    s.connect(addr, now(t));
    return 0;
  } catch (e) {
    if (e !== E.EINPROGRESS) throw e;
    if (f.flags & O_NONBLOCK) throw e;
  }
  return attemptOrBlock(f, s, 0, POLLOUT, s.sndtimeo, null, () => {
    s.connectDone();
    return 0;
  });
}

/** accept4(fd, addr, flags): `addr`, when an object, receives the peer's address. */
export function sys_accept4(t: Task, fd: number, addr: Partial<SockAddr> | null = null, flags: number = 0): number {
  const { f, s } = sockArg(t, fd);
  const fl = intArg(flags);
  if (fl & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) throw E.EINVAL;
  if (!s.listening) throw E.EINVAL;
  return attemptOrBlock(f, s, 0, POLLIN, s.rcvtimeo, null, () => {
    const c = s.accept(now(t));
    const cf = socketFile(t.kernel, c, (fl & SOCK_NONBLOCK) !== 0);
    let n: number;
    try {
      n = t.files.install(cf, (fl & SOCK_CLOEXEC) !== 0);
    } catch (e) {
      t.kernel.putFile(cf);
      throw e;
    }
    if (addr !== null && typeof addr === 'object') Object.assign(addr, c.getpeername());
    return n;
  });
}

export function sys_accept(t: Task, fd: number, addr: Partial<SockAddr> | null = null): number {
  return sys_accept4(t, fd, addr, 0);
}

/** Sends all of a stream write on a blocking socket (as Linux does), one attempt otherwise. */
function sendAll(t: Task, f: File, s: Socket, buf: Uint8Array, off: number, len: number, to: SockAddr | null, flags: number, done: number): number {
  const stream = s.type === SOCK_STREAM;
  for (;;) {
    let n: number;
    try {
      n = s.sendmsg(buf, off + done, len - done, to, flags, now(t));
    } catch (e) {
      if (e === E.EAGAIN && !(f.flags & O_NONBLOCK) && !(flags & MSG_DONTWAIT)) {
        return attemptOrBlock(f, s, flags, POLLOUT, s.sndtimeo, null, () => {
          // Woken: try again from where we stopped.
          const m = s.sendmsg(buf, off + done, len - done, to, flags, now(t));
          return stream && done + m < len ? sendAll(t, f, s, buf, off, len, to, flags, done + m) : done + m;
        });
      }
      if (done > 0 && isErrno(e)) return done;
      throw e;
    }
    done += n;
    if (!stream || done >= len || f.flags & O_NONBLOCK || flags & MSG_DONTWAIT) return done;
  }
}

export function sys_sendto(t: Task, fd: number, buf: Uint8Array, len?: number, flags: number = 0, addr: SockAddr | null = null): number {
  const f = fileArg(t, fd);
  const s = socketOf(f);
  const b = bufArg(buf);
  const n = countArg(b, len);
  return sendAll(t, f, s, b, 0, n, addr ?? null, intArg(flags), 0);
}

export function sys_recvfrom(t: Task, fd: number, buf: Uint8Array, len?: number, flags: number = 0, from: Partial<SockAddr> | null = null): number {
  const f = fileArg(t, fd);
  const s = socketOf(f);
  const b = bufArg(buf);
  const n = countArg(b, len);
  const fl = intArg(flags);
  // `from` travels in the info object: a receive that completes at once allocates nothing else.
  const info: RecvFromInfo = { flags: 0, from };
  return fillFrom(recvAll(t, f, s, b, 0, n, fl, info, 0, fillFrom), info);
}

interface RecvFromInfo extends RecvInfo {
  /** recvfrom's `from` argument, filled with the sender. */
  from: Partial<SockAddr> | null;
}

/** Copies the sender recvmsg reported into recvfrom's `from` object; returns `n`. */
function fillFrom(n: number, info: RecvFromInfo): number {
  const a = info.addr;
  const from = info.from;
  if (from === null || typeof from !== 'object' || a === undefined) return n;
  if (a.family === AF_INET) {
    const to = from as Partial<SockAddrIn>;
    to.family = AF_INET;
    to.addr = a.addr;
    to.port = a.port;
  } else Object.assign(from, a);
  return n;
}

/**
 * One receive; with MSG_WAITALL on a stream, keeps going until `len` bytes or end of stream.
 * When it must wait, the Blocked it throws passes its eventual result through `then`.
 */
function recvAll<I extends RecvInfo>(t: Task, f: File, s: Socket, buf: Uint8Array, off: number, len: number, flags: number, info: I, done: number, then?: (n: number, info: I) => number): number {
  // Nothing to read on a blocking call: sleep at once, without an EAGAIN exception first.
  if (done === 0 && len > 0 && s.recvWouldBlock()) blockFor(f, s, flags, POLLIN, s.rcvtimeo, null, () => recvOnce(t, f, s, buf, off, len, flags, info, done), E.EAGAIN, then && ((n) => then(n, info)));
  try {
    return recvOnce(t, f, s, buf, off, len, flags, info, done, then);
  } catch (e) {
    if (e !== E.EAGAIN) throw e;
    return blockFor(f, s, flags, POLLIN, s.rcvtimeo, null, () => recvOnce(t, f, s, buf, off, len, flags, info, done), e, then && ((n) => then(n, info)));
  }
}

/** One attempt. `then` is for the first attempt only: a retry's Blocked is mapped by its caller's. */
function recvOnce<I extends RecvInfo>(t: Task, f: File, s: Socket, buf: Uint8Array, off: number, len: number, flags: number, info: I, done: number, then?: (n: number, info: I) => number): number {
  let n: number;
  try {
    n = s.recvmsg(buf, off + done, len - done, flags, info, now(t));
  } catch (e) {
    if (done > 0 && e !== E.EAGAIN) return done;
    if (done > 0 && e === E.EAGAIN && (f.flags & O_NONBLOCK || flags & MSG_DONTWAIT)) return done;
    throw e;
  }
  const waitAll = (flags & MSG_WAITALL) !== 0 && s.type === SOCK_STREAM && !(flags & MSG_PEEK);
  if (waitAll && n > 0 && done + n < len) return recvAll(t, f, s, buf, off, len, flags, info, done + n, then);
  return done + n;
}

export function sys_sendmsg(t: Task, fd: number, msg: MsgHdr, flags: number = 0): number {
  const { f, s } = sockArg(t, fd);
  if (typeof msg !== 'object' || msg === null) throw E.EFAULT;
  const iov = iovArg(msg.iov, IOV_MAX);
  let buf: Uint8Array;
  if (iov.length === 1) buf = iov[0]!;
  else {
    let total = 0;
    for (const b of iov) total += b.length;
    buf = new Uint8Array(total);
    let at = 0;
    for (const b of iov) {
      buf.set(b, at);
      at += b.length;
    }
  }
  return sendAll(t, f, s, buf, 0, buf.length, msg.name ?? null, intArg(flags), 0);
}

export function sys_recvmsg(t: Task, fd: number, msg: MsgHdr, flags: number = 0): number {
  const { f, s } = sockArg(t, fd);
  if (typeof msg !== 'object' || msg === null) throw E.EFAULT;
  const iov = iovArg(msg.iov, IOV_MAX);
  const fl = intArg(flags);
  const info: RecvInfo = { flags: 0 };
  const finish = (n: number): number => {
    if (info.addr !== undefined) msg.name = info.addr;
    msg.flags = info.flags;
    return n;
  };
  if (iov.length === 1) return finish(recvAll(t, f, s, iov[0]!, 0, iov[0]!.length, fl, info, 0, finish));
  let total = 0;
  for (const b of iov) total += b.length;
  const tmp = new Uint8Array(total);
  const scatter = (n: number): number => {
    let at = 0;
    const copied = Math.min(n, total);
    for (const b of iov) {
      if (at >= copied) break;
      const k = Math.min(b.length, copied - at);
      b.set(tmp.subarray(at, at + k));
      at += k;
    }
    return finish(n);
  };
  return scatter(recvAll(t, f, s, tmp, 0, total, fl, info, 0, scatter));
}

export function sys_shutdown(t: Task, fd: number, how: number): number {
  const { s } = sockArg(t, fd);
  s.shutdown(intArg(how), now(t));
  return 0;
}

export function sys_getsockname(t: Task, fd: number): SockAddr {
  return sockArg(t, fd).s.getsockname();
}

export function sys_getpeername(t: Task, fd: number): SockAddr {
  return sockArg(t, fd).s.getpeername();
}

export function sys_setsockopt(t: Task, fd: number, level: number, optname: number, optval: SockOptValue): number {
  const { s } = sockArg(t, fd);
  s.setsockopt(intArg(level), intArg(optname), optval, now(t));
  return 0;
}

export function sys_getsockopt(t: Task, fd: number, level: number, optname: number): SockOptValue {
  const { s } = sockArg(t, fd);
  return s.getsockopt(intArg(level), intArg(optname));
}

