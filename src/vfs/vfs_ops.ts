// The checks and bookkeeping every namespace and attribute change goes through (Linux's
// vfs_create, may_create, may_delete, notify_change, do_truncate, vfs_open and friends).
// Syscalls resolve paths and validate arguments, then call these; these call the filesystem.

import { O_ACCMODE, O_APPEND, O_CLOEXEC, O_CREAT, O_EXCL, O_NOATIME, O_NOCTTY, O_NONBLOCK, O_RDWR, O_TRUNC, O_WRONLY } from '../abi/linux/fcntl.js';
import { MS_NOATIME, MS_NODEV, MS_NODIRATIME, MS_RELATIME } from '../abi/linux/mount.js';
import {
  S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, S_ISGID, S_ISUID, S_IXGRP,
  STATX_ATTR_APPEND, STATX_ATTR_IMMUTABLE,
} from '../abi/linux/stat.js';
import type { Cred } from '../kernel/cred.js';
import { E } from '../kernel/errno.js';
import { Pipe, openPipeEnd, pipeFileOps } from '../kernel/pipe.js';
import type { Task } from '../kernel/task.js';
import { Blocked, type Waiter } from '../kernel/wait_queue.js';
import type { Dentry } from './dentry.js';
import { File, FMODE_PATH, FMODE_READ, FMODE_WRITE, NO_FILE_OPS, type FileOps } from './file.js';
import type { Inode, NewInode, SetAttr } from './inode.js';
import type { Mount, PathRef } from './mount.js';
import { MAY_EXEC, MAY_READ, MAY_WRITE, ownerOrCapable, permitted, stickyForbids } from './permission.js';
import type { Timespec } from './time.js';
import { timespecCompare } from './time.js';
import { POLLIN, POLLOUT } from '../abi/linux/poll.js';

/** Attribute flag (Inode.attributes): the inode cannot be changed (chattr +i). */
export const STATX_IMMUTABLE = STATX_ATTR_IMMUTABLE;
/** Attribute flag (Inode.attributes): the inode can only be appended to (chattr +a). */
export const STATX_APPEND = STATX_ATTR_APPEND;

/** mnt_want_write: writes through this mount are allowed. Errors: EROFS. */
export function mntWantWrite(mnt: Mount): void {
  if (mnt.readOnly) throw E.EROFS;
}

/**
 * inode_permission: read-only filesystems refuse writes to files, directories and links
 * (EROFS), immutable inodes refuse writes (EPERM), then the mode bits decide (EACCES).
 */
export function inodePermission(cred: Cred, mnt: Mount, inode: Inode, mask: number): void {
  if (mask & MAY_WRITE) {
    const t = inode.mode & S_IFMT;
    if (mnt.readOnly && (t === S_IFREG || t === S_IFDIR || t === S_IFLNK)) throw E.EROFS;
    if (inode.attributes & STATX_IMMUTABLE) throw E.EPERM;
  }
  if (!permitted(cred, inode, mask)) throw E.EACCES;
}

/** may_create: a new entry may be added to `dir`. Errors: ENOENT (removed dir), EACCES, EROFS. */
export function mayCreate(cred: Cred, mnt: Mount, dir: Inode): void {
  if (dir.dead) throw E.ENOENT;
  inodePermission(cred, mnt, dir, MAY_WRITE | MAY_EXEC);
}

/**
 * may_delete: `victim` may be removed from `dir`. Errors: EACCES, EPERM (sticky directory,
 * immutable or append-only), ENOTDIR/EISDIR for the wrong kind, EBUSY for a root, ENOENT.
 */
export function mayDelete(cred: Cred, mnt: Mount, dir: Inode, victim: Dentry, isDir: boolean): void {
  inodePermission(cred, mnt, dir, MAY_WRITE | MAY_EXEC);
  if (dir.attributes & STATX_APPEND) throw E.EPERM;
  const inode = victim.inode;
  if (stickyForbids(cred, dir, inode) || inode.attributes & (STATX_APPEND | STATX_IMMUTABLE)) throw E.EPERM;
  if (isDir) {
    if (!inode.isDir) throw E.ENOTDIR;
    if (victim.isRoot) throw E.EBUSY;
  } else if (inode.isDir) throw E.EISDIR;
  if (dir.dead) throw E.ENOENT;
}

/**
 * inode_init_owner plus the umask: the owner, group and mode of a new inode in `dir`. A
 * setgid directory passes its group on (and, to directories, the setgid bit itself).
 */
export function newInodeAttrs(task: Task, dir: Inode, mode: number, applyUmask: boolean, rdev = 0): NewInode {
  const cred = task.cred;
  const type = mode & S_IFMT;
  let perm = mode & 0o7777;
  if (applyUmask) perm &= ~task.umask;
  let gid: number;
  if (dir.mode & S_ISGID) {
    gid = dir.gid;
    if (type === S_IFDIR) perm |= S_ISGID;
  } else gid = cred.fsgid;
  // mode_strip_sgid: a setgid non-directory in a group the creator is not in loses the bit.
  if (type !== S_IFDIR && (perm & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP) && !cred.inGroup(gid) && !cred.fsCapable) {
    perm &= ~S_ISGID;
  }
  return { mode: type | perm, uid: cred.fsuid, gid, rdev };
}

/** Checks and completes a chmod: the caller must own the file (EPERM). Returns the new mode. */
export function chmodMode(cred: Cred, inode: Inode, mode: number): number {
  if (!ownerOrCapable(cred, inode)) throw E.EPERM;
  let m = mode & 0o7777;
  // Only members of the file's group (or the capable) may set the setgid bit.
  if (m & S_ISGID && !cred.inGroup(inode.gid) && !cred.fsCapable) m &= ~S_ISGID;
  return (inode.mode & S_IFMT) | m;
}

/**
 * chown_common + setattr_prepare: who may change owner and group, and the setuid/setgid bits
 * a change clears. uid/gid -1 leave a field alone. Errors: EPERM.
 */
export function chownAttrs(cred: Cred, inode: Inode, uid: number, gid: number, now: Timespec): SetAttr {
  const attr: SetAttr = { ctime: now };
  if (uid !== -1) {
    if (!(cred.fsuid === inode.uid && uid === inode.uid) && !cred.fsCapable) throw E.EPERM;
    attr.uid = uid;
  }
  if (gid !== -1) {
    if (!((cred.fsuid === inode.uid && (gid === inode.gid || cred.inGroup(gid))) || cred.fsCapable)) throw E.EPERM;
    attr.gid = gid;
  }
  if (!inode.isDir) {
    let mode = inode.mode;
    if (mode & S_ISUID) mode &= ~S_ISUID;
    if ((mode & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP)) mode &= ~S_ISGID;
    if (mode !== inode.mode) attr.mode = mode;
  }
  return attr;
}

/** file_remove_privs: a write by someone without CAP_FSETID clears setuid/setgid. */
export function removePrivs(cred: Cred, inode: Inode, now: Timespec): void {
  if (cred.fsCapable) return;
  let mode = inode.mode;
  if (mode & S_ISUID) mode &= ~S_ISUID;
  if ((mode & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP)) mode &= ~S_ISGID;
  if (mode !== inode.mode) inode.setattr({ mode, ctime: now });
}

/** do_truncate: sets the size and both times. Errors: EINVAL (negative), EFBIG, ENOSPC, EIO. */
export function doTruncate(cred: Cred, inode: Inode, size: number): void {
  if (size < 0) throw E.EINVAL;
  if (size > inode.sb.maxFileSize) throw E.EFBIG;
  const now = inode.sb.clock.now();
  removePrivs(cred, inode, now);
  inode.setattr({ size, mtime: now, ctime: now });
}

/**
 * atime_needs_update: noatime and read-only mounts never, nodiratime mounts not for
 * directories; relatime mounts (the default) only when the access time is not after the
 * modification or change time, or is a day old; strictatime mounts always.
 */
export function atimeNeedsUpdate(mnt: Mount, inode: Inode, now: Timespec): boolean {
  if (mnt.flags & MS_NOATIME || mnt.readOnly) return false;
  if (mnt.flags & MS_NODIRATIME && inode.isDir) return false;
  if (!(mnt.flags & MS_RELATIME)) return true;
  if (timespecCompare(inode.atime, inode.mtime) <= 0) return true;
  if (timespecCompare(inode.atime, inode.ctime) <= 0) return true;
  return now.sec - inode.atime.sec >= 24 * 60 * 60;
}

/** Whether reading through `f` should update the access time now (O_NOATIME never). */
export function wantAtime(f: File, now: Timespec): boolean {
  if (f.flags & O_NOATIME) return false;
  return atimeNeedsUpdate(f.path.mnt, f.inode, now);
}

/** file_accessed: updates the access time after a read, where the mount's rules say so. */
export function fileAccessed(f: File): void {
  const now = f.inode.sb.clock.now();
  if (wantAtime(f, now)) f.inode.touchAtime(now);
}

/** touch_atime: the same for an access by path (readlink). */
export function touchAtime(p: PathRef): void {
  const inode = p.dentry.inode;
  const now = inode.sb.clock.now();
  if (atimeNeedsUpdate(p.mnt, inode, now)) inode.touchAtime(now);
}

/** Access mode bits (MAY_*) for open flags (Linux's ACC_MODE). */
export function accModeOf(flags: number): number {
  switch (flags & O_ACCMODE) {
    case 0:
      return MAY_READ;
    case O_WRONLY:
      return MAY_WRITE;
    default:
      return MAY_READ | MAY_WRITE;
  }
}

/** FMODE_* for open flags: O_ACCMODE 3 opens for neither (ioctl-only, as on Linux). */
export function fmodeOf(flags: number): number {
  switch (flags & O_ACCMODE) {
    case 0:
      return FMODE_READ;
    case O_WRONLY:
      return FMODE_WRITE;
    case O_RDWR:
      return FMODE_READ | FMODE_WRITE;
    default:
      return 0;
  }
}

/** may_open: type and permission checks for opening an existing inode. */
export function mayOpen(cred: Cred, p: PathRef, accMode: number, flags: number): void {
  const inode = p.dentry.inode;
  switch (inode.mode & S_IFMT) {
    case S_IFLNK:
      throw E.ELOOP;
    case S_IFDIR:
      if (accMode & MAY_WRITE) throw E.EISDIR;
      if (accMode & MAY_EXEC) throw E.EACCES;
      break;
    case S_IFBLK:
    case S_IFCHR:
      if (p.mnt.flags & MS_NODEV) throw E.EACCES;
      break;
    default:
      break;
  }
  inodePermission(cred, p.mnt, inode, accMode);
  // An append-only file is written only at its end, and never truncated.
  if (inode.attributes & STATX_APPEND) {
    if ((flags & O_ACCMODE) !== 0 && !(flags & O_APPEND)) throw E.EPERM;
    if (flags & O_TRUNC) throw E.EPERM;
  }
  if (flags & O_NOATIME && !ownerOrCapable(cred, inode)) throw E.EPERM;
}

/** Per-kernel drivers that vfsOpen needs for special files. */
export interface OpenContext {
  charDevice(rdev: number): FileOps | undefined;
  blockDevice(rdev: number): FileOps | undefined;
  regularOps: FileOps;
  directoryOps: FileOps;
  /** The caller cannot sleep: a FIFO open that would wait behaves as with O_NONBLOCK. */
  noWait: boolean;
  /** Drops a File made here that will never be installed (a FIFO open given up). */
  release(f: File): void;
}

/**
 * vfs_open: makes the open file description for `p` with the operations its type needs.
 * FIFO opens wait for the other end unless O_NONBLOCK (throwing Blocked); with O_NONBLOCK
 * a write-only open without a reader fails with ENXIO. Errors: ENXIO, EROFS.
 */
export function vfsOpen(ctx: OpenContext, p: PathRef, flags: number, fmode: number): File {
  // do_dentry_open: the creation-time flags and O_CLOEXEC (a descriptor's, not the file's)
  // are not kept, so F_GETFL shows what Linux shows.
  flags &= ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC);
  const inode = p.dentry.inode;
  if (fmode & FMODE_PATH) return new File(p, flags, FMODE_PATH, NO_FILE_OPS);
  let ops: FileOps | undefined;
  let priv: unknown = null;
  switch (inode.mode & S_IFMT) {
    case S_IFREG: {
      if (fmode & FMODE_WRITE && p.mnt.readOnly) throw E.EROFS;
      const custom = inode.openFile?.(flags);
      ops = custom?.ops ?? ctx.regularOps;
      priv = custom?.priv ?? null;
      break;
    }
    case S_IFDIR:
      ops = ctx.directoryOps;
      break;
    case S_IFCHR:
      ops = ctx.charDevice(inode.rdev);
      if (ops === undefined) throw E.ENXIO;
      break;
    case S_IFBLK:
      ops = ctx.blockDevice(inode.rdev);
      if (ops === undefined) throw E.ENXIO;
      break;
    case S_IFIFO:
      return openFifo(ctx, p, flags, fmode);
    case S_IFSOCK:
      throw E.ENXIO;
    default:
      ops = NO_FILE_OPS;
  }
  return new File(p, flags, fmode, ops, priv);
}

/**
 * fifo_open: a read-only open waits for a writer to open after it (unless O_NONBLOCK), a
 * write-only one for a reader (ENXIO with O_NONBLOCK when there is none), O_RDWR never
 * waits. The waiting open already counts as an end, so the other side finds it.
 */
function openFifo(ctx: OpenContext, p: PathRef, flags: number, fmode: number): File {
  const inode = p.dentry.inode;
  const readable = (fmode & FMODE_READ) !== 0;
  const writable = (fmode & FMODE_WRITE) !== 0;
  const nonblock = (flags & O_NONBLOCK) !== 0 || ctx.noWait;
  let pipe = inode.special as Pipe | null;
  if (writable && !readable && nonblock && (pipe === null || pipe.readers === 0)) throw E.ENXIO;
  pipe ??= inode.special = new Pipe();
  const file = new File(p, flags, fmode, pipeFileOps, pipe);
  openPipeEnd(pipe, readable, writable);
  let partnerCame: (() => boolean) | null = null;
  if (readable && !writable && pipe.writers === 0) {
    if (nonblock) file.pipeVersion = pipe.wCounter;
    else {
      const seen = pipe.wCounter;
      partnerCame = () => pipe.wCounter !== seen;
    }
  } else if (writable && !readable && pipe.readers === 0) {
    const seen = pipe.rCounter;
    partnerCame = () => pipe.rCounter !== seen;
  }
  if (partnerCame === null) return file;
  const came = partnerCame;
  const q = pipe.queue;
  const blocked: Blocked<File> = new Blocked<File>(
    (wake) => {
      const w: Waiter = { mask: POLLIN | POLLOUT, wake: () => wake() };
      q.add(w);
      return () => q.remove(w);
    },
    () => {
      if (!came()) throw blocked;
      return file;
    },
    null,
    null,
    () => ctx.release(file),
  );
  throw blocked;
}
