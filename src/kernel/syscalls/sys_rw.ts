// read(2), write(2), pread64(2), pwrite64(2), readv(2), writev(2), preadv(2), pwritev(2),
// lseek(2). Each is one non-blocking attempt: when a stream would block, a blocking file
// throws a Blocked that resumes the transfer where it stopped (a blocking write into a
// pipe completes in full, as on Linux), a non-blocking one gets EAGAIN or a short count.

import { IOV_MAX, MAX_RW_COUNT } from '../../abi/linux/limits.js';
import { O_APPEND, O_NONBLOCK } from '../../abi/linux/fcntl.js';
import { POLLERR, POLLHUP, POLLIN, POLLOUT } from '../../abi/linux/poll.js';
import { E, type Errno } from '../errno.js';
import type { Task } from '../task.js';
import { Blocked, blockOn, mapBlocked } from '../wait_queue.js';
import { FMODE_PATH, type File } from '../../vfs/file.js';
import { genericLlseek } from '../../vfs/file_ops.js';
import { fileAccessed, removePrivs } from '../../vfs/vfs_ops.js';
import { bufArg, countArg, fileArg, intArg, iovArg, offsetArg } from './args.js';

export function sys_read(t: Task, fd: number, buf: Uint8Array, count?: number): number {
  const f = fileArg(t, fd);
  const b = bufArg(buf);
  const n = countArg(b, count);
  return holdingFile(t, f, () => doRead(f, b, 0, n, -1));
}

export function sys_write(t: Task, fd: number, buf: Uint8Array, count?: number): number {
  const f = fileArg(t, fd);
  const b = bufArg(buf);
  const n = countArg(b, count);
  return holdingFile(t, f, () => doWrite(t, f, b, 0, n, -1, 0));
}

export function sys_pread64(t: Task, fd: number, buf: Uint8Array, count: number, offset: number): number {
  const f = fileArg(t, fd);
  const b = bufArg(buf);
  const n = countArg(b, count);
  const pos = offsetArg(offset);
  if (f.ops.stream) throw f.fmode & FMODE_PATH ? E.EBADF : E.ESPIPE;
  return doRead(f, b, 0, n, pos);
}

export function sys_pwrite64(t: Task, fd: number, buf: Uint8Array, count: number, offset: number): number {
  const f = fileArg(t, fd);
  const b = bufArg(buf);
  const n = countArg(b, count);
  const pos = offsetArg(offset);
  if (f.ops.stream) throw f.fmode & FMODE_PATH ? E.EBADF : E.ESPIPE;
  return doWrite(t, f, b, 0, n, pos, 0);
}

export function sys_readv(t: Task, fd: number, iov: Uint8Array[]): number {
  const f = fileArg(t, fd);
  const v = iovArg(iov, IOV_MAX);
  return holdingFile(t, f, () => doReadv(f, v, -1));
}

export function sys_writev(t: Task, fd: number, iov: Uint8Array[]): number {
  const f = fileArg(t, fd);
  const v = iovArg(iov, IOV_MAX);
  return holdingFile(t, f, () => doWritev(t, f, v, -1));
}

/**
 * Runs `op` on `f`; if it has to wait, the waiting call keeps a reference to the open file
 * (as Linux's fdget does across the sleep), so closing the descriptor meanwhile neither ends
 * the read or write nor releases a pipe end under it. The reference goes when the call
 * completes, times out or is abandoned.
 */
function holdingFile<T>(t: Task, f: File, op: () => T): T {
  try {
    return op();
  } catch (e) {
    if (!(e instanceof Blocked)) throw e;
    const b = e as Blocked<T>;
    f.refs++;
    let held = true;
    const release = (): void => {
      if (!held) return;
      held = false;
      if (--f.refs === 0) t.kernel.putFile(f);
    };
    const after = <U>(fn: () => U): U => {
      try {
        return fn();
      } finally {
        release();
      }
    };
    throw new Blocked<T>(
      b.subscribe,
      () => after(() => holdingFile(t, f, b.retry)),
      b.deadline,
      b.timeout !== null ? () => after(b.timeout!) : null,
      () => after(() => b.abandon?.()),
    );
  }
}

export function sys_preadv(t: Task, fd: number, iov: Uint8Array[], offset: number): number {
  const f = fileArg(t, fd);
  const v = iovArg(iov, IOV_MAX);
  const pos = offsetArg(offset);
  if (f.ops.stream) throw E.ESPIPE;
  return doReadv(f, v, pos);
}

export function sys_pwritev(t: Task, fd: number, iov: Uint8Array[], offset: number): number {
  const f = fileArg(t, fd);
  const v = iovArg(iov, IOV_MAX);
  const pos = offsetArg(offset);
  if (f.ops.stream) throw E.ESPIPE;
  return doWritev(t, f, v, pos);
}

export function sys_lseek(t: Task, fd: number, offset: number, whence: number): number {
  const f = fileArg(t, fd);
  const off = intArg(offset);
  const wh = intArg(whence);
  if (f.fmode & FMODE_PATH) throw E.EBADF;
  if (f.ops.stream) throw E.ESPIPE;
  return f.ops.llseek ? f.ops.llseek(f, off, wh) : genericLlseek(f, off, wh);
}

/** What a stream operation that would block becomes: EAGAIN, or a Blocked to wait on. */
function wouldBlock<T>(f: File, mask: number, retry: () => T): Errno | Blocked<T> {
  if (f.flags & O_NONBLOCK) return E.EAGAIN;
  const q = f.ops.waitQueue?.(f);
  if (q === undefined) return E.EAGAIN;
  return blockOn(q, mask | POLLERR | POLLHUP, retry);
}

/**
 * One read into buf[off, off+len) at `pos` (-1: at the file position, which advances).
 * Errors: EBADF (not open for reading), EISDIR, EINVAL, EAGAIN, and the filesystem's.
 */
export function doRead(f: File, buf: Uint8Array, off: number, len: number, pos: number): number {
  if (!f.readable) throw E.EBADF;
  const ops = f.ops;
  if (ops.read === undefined) throw E.EINVAL;
  if (ops.stream) {
    try {
      return ops.read(f, buf, off, len, 0);
    } catch (e) {
      if (e === E.EAGAIN) throw wouldBlock(f, POLLIN, () => doRead(f, buf, off, len, pos));
      throw e;
    }
  }
  const p = pos < 0 ? f.pos : pos;
  let n: number;
  try {
    n = ops.read(f, buf, off, len, p);
  } catch (e) {
    if (e === E.EAGAIN) throw wouldBlock(f, POLLIN, () => doRead(f, buf, off, len, pos));
    throw e;
  }
  if (pos < 0) f.pos = p + n;
  if (len > 0 && f.inode.isReg) fileAccessed(f);
  return n;
}

/**
 * One write of buf[off, off+len) at `pos` (-1: at the file position, or the end with
 * O_APPEND). `done` bytes of a blocking stream write already went out. Errors: EBADF,
 * EFBIG, ENOSPC, EPIPE, EAGAIN, and the filesystem's.
 */
export function doWrite(t: Task, f: File, buf: Uint8Array, off: number, len: number, pos: number, done: number): number {
  if (!f.writable) throw E.EBADF;
  const ops = f.ops;
  if (ops.write === undefined) throw E.EINVAL;
  if (ops.stream) {
    for (;;) {
      let n: number;
      try {
        n = ops.write(f, buf, off + done, len - done, 0);
      } catch (e) {
        if (e === E.EAGAIN) {
          if (f.flags & O_NONBLOCK) {
            if (done > 0) return done;
            throw e;
          }
          throw wouldBlock(f, POLLOUT, () => doWrite(t, f, buf, off, len, pos, done));
        }
        if (done > 0) return done;
        throw e;
      }
      done += n;
      if (done >= len || f.flags & O_NONBLOCK) return done;
    }
  }
  const inode = f.inode;
  // generic_write_checks: writing nothing to a regular file changes nothing (not its size).
  if (len === 0 && inode.isReg) return 0;
  let p = pos < 0 ? f.pos : pos;
  if (f.flags & O_APPEND && inode.isReg) p = inode.size;
  if (inode.isReg) {
    const max = inode.sb.maxFileSize;
    if (len > 0 && p >= max) throw E.EFBIG;
    if (p + len > max) len = max - p;
    if (len > 0) removePrivs(t.cred, inode, inode.sb.clock.now());
  }
  const n = ops.write(f, buf, off, len, p);
  if (pos < 0) f.pos = p + n;
  return n;
}

function doReadv(f: File, iov: Uint8Array[], pos: number): number {
  if (f.ops.stream) {
    // One transfer for the whole vector, as a pipe or socket does it, then scatter.
    const tmp = new Uint8Array(iovLength(iov));
    return mapResult(() => doRead(f, tmp, 0, tmp.length, pos), (n) => {
      let at = 0;
      for (const b of iov) {
        if (at >= n) break;
        const k = Math.min(b.length, n - at);
        b.set(tmp.subarray(at, at + k));
        at += k;
      }
      return n;
    });
  }
  let total = 0;
  for (const b of iov) {
    const n = doRead(f, b, 0, b.length, pos < 0 ? -1 : pos + total);
    total += n;
    if (n < b.length) break;
  }
  return total;
}

function doWritev(t: Task, f: File, iov: Uint8Array[], pos: number): number {
  if (f.ops.stream) {
    // Gathered into one write, so a vector of at most PIPE_BUF bytes stays atomic.
    const tmp = new Uint8Array(iovLength(iov));
    let at = 0;
    for (const b of iov) {
      tmp.set(b, at);
      at += b.length;
    }
    return doWrite(t, f, tmp, 0, tmp.length, pos, 0);
  }
  let total = 0;
  for (const b of iov) {
    const n = doWrite(t, f, b, 0, b.length, pos < 0 ? -1 : pos + total, 0);
    total += n;
    if (n < b.length) break;
  }
  return total;
}

function iovLength(iov: Uint8Array[]): number {
  let n = 0;
  for (const b of iov) n += b.length;
  return Math.min(n, MAX_RW_COUNT);
}

/** Runs `op` and passes its result through `then`, also when it completes after blocking. */
function mapResult<T, U>(op: () => T, then: (v: T) => U): U {
  let v: T;
  try {
    v = op();
  } catch (e) {
    if (e instanceof Blocked) throw mapBlocked(e as Blocked<T>, then);
    throw e;
  }
  return then(v);
}
