// Descriptor operations: dup, dup2, dup3, fcntl, pipe2 (and pipe).

import {
  FD_CLOEXEC, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_GETPIPE_SZ, F_SETFD, F_SETFL, F_SETPIPE_SZ, O_APPEND,
  O_CLOEXEC, O_DIRECT, O_NOATIME, O_NONBLOCK, FASYNC, O_RDONLY, O_WRONLY,
} from '../../abi/linux/fcntl.js';
import { S_IFIFO } from '../../abi/linux/stat.js';
import { E } from '../errno.js';
import { Pipe, openPipeEnd, pipeFileOps } from '../pipe.js';
import type { Task } from '../task.js';
import { File, FMODE_PATH, FMODE_READ, FMODE_WRITE } from '../../vfs/file.js';
import { ownerOrCapable } from '../../vfs/permission.js';
import { STATX_APPEND } from '../../vfs/vfs_ops.js';
import { fileArg, intArg, optInt } from './args.js';

/** Status flags F_SETFL may change (Linux's SETFL_MASK). */
const SETFL_MASK = O_APPEND | O_NONBLOCK | FASYNC | O_DIRECT | O_NOATIME;

export function sys_dup(t: Task, fd: number): number {
  return t.files.install(fileArg(t, fd), false);
}

export function sys_dup2(t: Task, oldfd: number, newfd: number): number {
  const f = fileArg(t, oldfd);
  const n = intArg(newfd);
  if (n === oldfd) return n;
  t.files.installAt(n, f, false);
  return n;
}

export function sys_dup3(t: Task, oldfd: number, newfd: number, flags: number = 0): number {
  const fl = intArg(flags);
  if (fl & ~O_CLOEXEC) throw E.EINVAL;
  const n = intArg(newfd);
  if (n === oldfd) throw E.EINVAL;
  const f = fileArg(t, oldfd);
  t.files.installAt(n, f, (fl & O_CLOEXEC) !== 0);
  return n;
}

export function sys_fcntl(t: Task, fd: number, cmd: number, arg: number = 0): number {
  const f = fileArg(t, fd);
  const c = intArg(cmd);
  const n = fd as number;
  switch (c) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      const min = intArg(arg);
      if (min < 0 || min >= t.files.limit) throw E.EINVAL;
      return t.files.install(f, c === F_DUPFD_CLOEXEC, min);
    }
    case F_GETFD:
      return t.files.getCloexec(n) ? FD_CLOEXEC : 0;
    case F_SETFD:
      t.files.setCloexec(n, (intArg(arg) & FD_CLOEXEC) !== 0);
      return 0;
    case F_GETFL:
      return f.flags;
    case F_SETFL: {
      if (f.fmode & FMODE_PATH) throw E.EBADF;
      const v = intArg(arg);
      // setfl: O_APPEND cannot change on an append-only inode (a descriptor opened for
      // reading may stay without it); O_NOATIME needs ownership.
      if ((v ^ f.flags) & O_APPEND && f.inode.attributes & STATX_APPEND) throw E.EPERM;
      if (v & O_NOATIME && !(f.flags & O_NOATIME) && !ownerOrCapable(t.cred, f.inode)) throw E.EPERM;
      f.flags = (f.flags & ~SETFL_MASK) | (v & SETFL_MASK);
      return 0;
    }
    case F_GETPIPE_SZ:
      if (!(f.priv instanceof Pipe)) throw E.EBADF;
      return f.priv.capacity;
    case F_SETPIPE_SZ:
      if (!(f.priv instanceof Pipe)) throw E.EBADF;
      return f.priv.resize(intArg(arg));
    default:
      throw E.EINVAL;
  }
}

/** pipe2: returns [read end, write end]. Errors: EINVAL (flags), EMFILE. */
export function sys_pipe2(t: Task, flags: number = 0): [number, number] {
  const fl = optInt(flags, 0);
  // O_DIRECT (packet mode) is accepted and changes nothing; O_NOTIFICATION_PIPE (O_EXCL, for
  // watch queues, which tkl has not) is EINVAL.
  if (fl & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT)) throw E.EINVAL;
  const k = t.kernel;
  const pipe = new Pipe();
  const path = k.anonInode(S_IFIFO | 0o600, 'pipe');
  const status = fl & (O_NONBLOCK | O_DIRECT);
  const r = new File(path, O_RDONLY | status, FMODE_READ, pipeFileOps, pipe);
  const w = new File(path, O_WRONLY | status, FMODE_WRITE, pipeFileOps, pipe);
  openPipeEnd(pipe, true, false);
  openPipeEnd(pipe, false, true);
  const cloexec = (fl & O_CLOEXEC) !== 0;
  let rfd: number;
  try {
    rfd = t.files.install(r, cloexec);
  } catch (e) {
    k.putFile(r);
    k.putFile(w);
    throw e;
  }
  try {
    return [rfd, t.files.install(w, cloexec)];
  } catch (e) {
    t.files.close(rfd);
    k.putFile(w);
    throw e;
  }
}

export function sys_pipe(t: Task): [number, number] {
  return sys_pipe2(t, 0);
}
