// Attribute changes and access checks: chmod, chown, utimensat, truncate, ftruncate,
// fallocate, faccessat2 (with their older forms). Linux's fs/open.c, fs/attr.c, fs/utimes.c.

import {
  AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, X_OK, FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_INSERT_RANGE,
  FALLOC_FL_KEEP_SIZE, FALLOC_FL_NO_HIDE_STALE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_UNSHARE_RANGE, FALLOC_FL_ZERO_RANGE,
} from '../../abi/linux/fcntl.js';
import { S_IFMT, S_IFREG, S_IFDIR, S_IFIFO, S_IFBLK, S_IRWXO, UTIME_NOW, UTIME_OMIT } from '../../abi/linux/stat.js';
import { MS_NOEXEC } from '../../abi/linux/mount.js';
import { E } from '../errno.js';
import type { Task } from '../task.js';
import { FMODE_PATH } from '../../vfs/file.js';
import type { PathRef } from '../../vfs/mount.js';
import { LOOKUP_EMPTY, LOOKUP_FOLLOW, checkPathArg, pathLookup } from '../../vfs/namei.js';
import { MAY_WRITE, ownerOrCapable, permitted } from '../../vfs/permission.js';
import type { SetAttr } from '../../vfs/inode.js';
import type { Timespec } from '../../vfs/time.js';
import { STATX_APPEND, STATX_IMMUTABLE, chmodMode, chownAttrs, doTruncate, inodePermission, mntWantWrite } from '../../vfs/vfs_ops.js';
import { fileArg, intArg } from './args.js';

function lookupAt(t: Task, dirfd: unknown, path: unknown, flags: number): PathRef {
  if (typeof dirfd !== 'number') throw E.EBADF;
  const p = checkPathArg(path, (flags & AT_EMPTY_PATH) !== 0);
  let lf = flags & AT_SYMLINK_NOFOLLOW ? 0 : LOOKUP_FOLLOW;
  if (flags & AT_EMPTY_PATH) lf |= LOOKUP_EMPTY;
  return pathLookup(t, dirfd, p, lf);
}

function chmodCommon(t: Task, p: PathRef, mode: number): number {
  mntWantWrite(p.mnt);
  const inode = p.dentry.inode;
  if (inode.attributes & (STATX_IMMUTABLE | STATX_APPEND)) throw E.EPERM;
  const m = chmodMode(t.cred, inode, mode);
  inode.setattr({ mode: m, ctime: inode.sb.clock.now() });
  return 0;
}

export function sys_fchmodat(t: Task, dirfd: number, path: string, mode: number, flags: number = 0): number {
  const m = intArg(mode);
  const fl = intArg(flags);
  if (fl & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) throw E.EINVAL;
  const p = lookupAt(t, dirfd, path, fl);
  // Symlink modes mean nothing on Linux; fchmodat2 refuses to change them.
  if (p.dentry.inode.isSymlink) throw E.EOPNOTSUPP;
  return chmodCommon(t, p, m);
}

export function sys_chmod(t: Task, path: string, mode: number): number {
  return sys_fchmodat(t, AT_FDCWD, path, mode, 0);
}

export function sys_fchmod(t: Task, fd: number, mode: number): number {
  const f = fileArg(t, fd);
  const m = intArg(mode);
  if (f.fmode & FMODE_PATH) throw E.EBADF;
  return chmodCommon(t, f.path, m);
}

function chownCommon(t: Task, p: PathRef, uid: number, gid: number): number {
  mntWantWrite(p.mnt);
  const inode = p.dentry.inode;
  if (inode.attributes & (STATX_IMMUTABLE | STATX_APPEND)) throw E.EPERM;
  inode.setattr(chownAttrs(t.cred, inode, uid, gid, inode.sb.clock.now()));
  return 0;
}

function idArg(x: unknown): number {
  const v = intArg(x);
  if (v < -1 || v > 0xfffffffe) throw E.EINVAL;
  return v;
}

export function sys_fchownat(t: Task, dirfd: number, path: string, uid: number, gid: number, flags: number = 0): number {
  const u = idArg(uid);
  const g = idArg(gid);
  const fl = intArg(flags);
  if (fl & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) throw E.EINVAL;
  return chownCommon(t, lookupAt(t, dirfd, path, fl), u, g);
}

export function sys_chown(t: Task, path: string, uid: number, gid: number): number {
  return sys_fchownat(t, AT_FDCWD, path, uid, gid, 0);
}

export function sys_lchown(t: Task, path: string, uid: number, gid: number): number {
  return sys_fchownat(t, AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW);
}

export function sys_fchown(t: Task, fd: number, uid: number, gid: number): number {
  const f = fileArg(t, fd);
  if (f.fmode & FMODE_PATH) throw E.EBADF;
  return chownCommon(t, f.path, idArg(uid), idArg(gid));
}

/** A [atime, mtime] pair for utimensat; null sets both to now. */
export type UtimeTimes = readonly [Timespec, Timespec] | null;

function timesArg(times: unknown): UtimeTimes {
  if (times === null || times === undefined) return null;
  if (!Array.isArray(times) || times.length !== 2) throw E.EFAULT;
  for (const ts of times as unknown[]) {
    if (typeof ts !== 'object' || ts === null) throw E.EFAULT;
    const { sec, nsec } = ts as Timespec;
    if (typeof sec !== 'number' || typeof nsec !== 'number' || !Number.isInteger(sec) || !Number.isInteger(nsec)) throw E.EINVAL;
    if (nsec !== UTIME_NOW && nsec !== UTIME_OMIT && (nsec < 0 || nsec > 999_999_999)) throw E.EINVAL;
  }
  return times as unknown as UtimeTimes;
}

/**
 * utimensat(dirfd, path, times, flags). `path` null acts on dirfd itself (as Linux allows;
 * flags must then be 0). Setting both times to now (times null, or both UTIME_NOW) needs
 * ownership or write permission (EACCES); any other `times`, even UTIME_NOW with UTIME_OMIT,
 * needs ownership (EPERM) and an inode that is neither immutable nor append-only (EPERM).
 */
export function sys_utimensat(t: Task, dirfd: number, path: string, times: UtimeTimes, flags: number = 0): number {
  const ts = timesArg(times);
  const fl = intArg(flags);
  if (ts !== null && ts[0].nsec === UTIME_OMIT && ts[1].nsec === UTIME_OMIT) return 0;
  let p: PathRef;
  if (path === null || path === undefined) {
    if (fl !== 0) throw E.EINVAL;
    if (dirfd === AT_FDCWD) throw E.EFAULT;
    // do_utimes_fd takes the descriptor with fdget: an O_PATH one is EBADF (AT_EMPTY_PATH works).
    const f = fileArg(t, dirfd);
    if (f.fmode & FMODE_PATH) throw E.EBADF;
    p = f.path;
  } else {
    if (fl & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) throw E.EINVAL;
    p = lookupAt(t, dirfd, path, fl);
  }
  return utimesCommon(t, p, ts);
}

function utimesCommon(t: Task, p: PathRef, ts: UtimeTimes): number {
  mntWantWrite(p.mnt);
  const inode = p.dentry.inode;
  const now = inode.sb.clock.now();
  // vfs_utimes: both UTIME_NOW is the same as no times (ATTR_TOUCH); anything else sets
  // ATTR_TIMES_SET, which may_setattr and setattr_prepare reserve for the owner.
  const touch = ts === null || (ts[0].nsec === UTIME_NOW && ts[1].nsec === UTIME_NOW);
  if (touch) {
    if (inode.attributes & STATX_IMMUTABLE) throw E.EPERM;
    if (!ownerOrCapable(t.cred, inode)) inodePermission(t.cred, p.mnt, inode, MAY_WRITE);
  } else {
    if (inode.attributes & (STATX_IMMUTABLE | STATX_APPEND)) throw E.EPERM;
    if (!ownerOrCapable(t.cred, inode)) throw E.EPERM;
  }
  const attr: SetAttr = { ctime: now };
  if (ts === null) {
    attr.atime = now;
    attr.mtime = now;
  } else {
    if (ts[0].nsec !== UTIME_OMIT) attr.atime = ts[0].nsec === UTIME_NOW ? now : { sec: ts[0].sec, nsec: ts[0].nsec };
    if (ts[1].nsec !== UTIME_OMIT) attr.mtime = ts[1].nsec === UTIME_NOW ? now : { sec: ts[1].sec, nsec: ts[1].nsec };
  }
  inode.setattr(attr);
  return 0;
}

export function sys_truncate(t: Task, path: string, length: number): number {
  const len = intArg(length);
  const ps = checkPathArg(path, false);
  if (len < 0) throw E.EINVAL;
  const p = pathLookup(t, AT_FDCWD, ps, LOOKUP_FOLLOW);
  const inode = p.dentry.inode;
  if (inode.isDir) throw E.EISDIR;
  if (!inode.isReg) throw E.EINVAL;
  mntWantWrite(p.mnt);
  inodePermission(t.cred, p.mnt, inode, MAY_WRITE);
  if (inode.attributes & STATX_APPEND) throw E.EPERM;
  doTruncate(t.cred, inode, len);
  return 0;
}

export function sys_ftruncate(t: Task, fd: number, length: number): number {
  const len = intArg(length);
  if (len < 0) throw E.EINVAL;
  const f = fileArg(t, fd);
  if (f.fmode & FMODE_PATH) throw E.EBADF;
  const inode = f.inode;
  if (!inode.isReg || !f.writable) throw E.EINVAL;
  if (inode.attributes & STATX_APPEND) throw E.EPERM;
  doTruncate(t.cred, inode, len);
  return 0;
}

const FALLOC_SUPPORTED =
  FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_NO_HIDE_STALE | FALLOC_FL_COLLAPSE_RANGE |
  FALLOC_FL_ZERO_RANGE | FALLOC_FL_INSERT_RANGE | FALLOC_FL_UNSHARE_RANGE;

export function sys_fallocate(t: Task, fd: number, mode: number, offset: number, len: number): number {
  const f = fileArg(t, fd);
  const m = intArg(mode);
  const off = intArg(offset);
  const n = intArg(len);
  if (off < 0 || n <= 0) throw E.EINVAL;
  if (m & ~FALLOC_SUPPORTED) throw E.EOPNOTSUPP;
  if ((m & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) === (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) throw E.EOPNOTSUPP;
  if (m & FALLOC_FL_PUNCH_HOLE && !(m & FALLOC_FL_KEEP_SIZE)) throw E.EOPNOTSUPP;
  if (m & FALLOC_FL_COLLAPSE_RANGE && m & ~FALLOC_FL_COLLAPSE_RANGE) throw E.EINVAL;
  if (m & FALLOC_FL_INSERT_RANGE && m & ~FALLOC_FL_INSERT_RANGE) throw E.EINVAL;
  if (!f.writable) throw E.EBADF;
  const inode = f.inode;
  if (m & ~FALLOC_FL_KEEP_SIZE && inode.attributes & STATX_APPEND) throw E.EPERM;
  if (inode.attributes & STATX_IMMUTABLE) throw E.EPERM;
  const type = inode.mode & S_IFMT;
  if (type === S_IFIFO) throw E.ESPIPE;
  if (type === S_IFDIR) throw E.EISDIR;
  if (type !== S_IFREG && type !== S_IFBLK) throw E.ENODEV;
  if (off + n > inode.sb.maxFileSize) throw E.EFBIG;
  inode.fallocate(m, off, n);
  return 0;
}

/**
 * faccessat2: checks access with the real uid/gid (or the effective ones with AT_EACCESS).
 * Errors: EACCES, EROFS (write access on a read-only mount), EINVAL, ENOENT.
 */
export function sys_faccessat2(t: Task, dirfd: number, path: string, mode: number, flags: number = 0): number {
  const m = intArg(mode);
  const fl = intArg(flags);
  if (m & ~S_IRWXO) throw E.EINVAL;
  if (fl & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) throw E.EINVAL;
  const saved = t.cred;
  if (!(fl & AT_EACCESS)) {
    // access(2) answers for the real ids.
    const c = saved.clone();
    c.fsuid = c.uid;
    c.fsgid = c.gid;
    t.cred = c;
  }
  try {
    const p = lookupAt(t, dirfd, path, fl);
    const inode = p.dentry.inode;
    if (m === 0) return 0;
    // do_faccessat: nothing on a noexec mount is executable.
    if (m & X_OK && inode.isReg && p.mnt.flags & MS_NOEXEC) throw E.EACCES;
    // inode_permission: a read-only filesystem (EROFS) and an immutable file (EPERM) refuse
    // writing before the mode bits are asked; a read-only mount only after them.
    if (m & MAY_WRITE) {
      if (inode.sb.readOnly && (inode.isReg || inode.isDir || inode.isSymlink)) throw E.EROFS;
      if (inode.attributes & STATX_IMMUTABLE) throw E.EPERM;
    }
    if (!permitted(t.cred, inode, m)) throw E.EACCES;
    if (m & MAY_WRITE && p.mnt.readOnly && !inode.isSpecial) throw E.EROFS;
    return 0;
  } finally {
    t.cred = saved;
  }
}

export function sys_faccessat(t: Task, dirfd: number, path: string, mode: number): number {
  return sys_faccessat2(t, dirfd, path, mode, 0);
}

export function sys_access(t: Task, path: string, mode: number): number {
  return sys_faccessat2(t, AT_FDCWD, path, mode, 0);
}
