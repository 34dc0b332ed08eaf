// open(2), openat(2), creat(2), close(2), close_range(2): Linux's do_filp_open with its
// flag rules (build_open_flags), the last-component logic of open_last_lookups, and do_open.

import {
  AT_FDCWD, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_LARGEFILE, O_NOFOLLOW, O_PATH, O_RDWR,
  O_TRUNC, O_WRONLY, __O_TMPFILE, O_TMPFILE,
} from '../../abi/linux/fcntl.js';
import { S_IALLUGO, S_IFIFO, S_IFMT, S_IFREG, S_ISVTX, S_IWGRP, S_IWOTH } from '../../abi/linux/stat.js';
import type { Inode } from '../../vfs/inode.js';
import { E } from '../errno.js';
import type { Task } from '../task.js';
import type { File } from '../../vfs/file.js';
import { FMODE_PATH } from '../../vfs/file.js';
import {
  LOOKUP_DIRECTORY, LOOKUP_FOLLOW, LastType, checkPathArg, startWalk, type Nameidata,
} from '../../vfs/namei.js';
import { MAY_WRITE } from '../../vfs/permission.js';
import {
  accModeOf, doTruncate, fmodeOf, mayCreate, mayOpen, mntWantWrite, newInodeAttrs, vfsOpen,
} from '../../vfs/vfs_ops.js';
import { intArg, optInt } from './args.js';
import { PathRef } from '../../vfs/mount.js';
import { Dentry } from '../../vfs/dentry.js';
import { Blocked, mapBlocked } from '../wait_queue.js';

/** close_range flag: mark close-on-exec instead of closing. */
export const CLOSE_RANGE_CLOEXEC = 1 << 2;
export const CLOSE_RANGE_UNSHARE = 1 << 1;

export function sys_openat(t: Task, dirfd: number, path: string, flags: number = 0, mode: number = 0): number {
  const p = checkPathArg(path, false);
  const fl = intArg(flags);
  const m = optInt(mode, 0);
  const install = (file: File): number => {
    try {
      return t.files.install(file, (fl & O_CLOEXEC) !== 0);
    } catch (e) {
      t.kernel.putFile(file);
      throw e;
    }
  };
  try {
    return install(doFilpOpen(t, typeof dirfd === 'number' ? dirfd : NaN, p, fl, m));
  } catch (e) {
    // A FIFO open waiting for its other end: install the file once it is ready.
    if (e instanceof Blocked) throw mapBlocked(e as Blocked<File>, install);
    throw e;
  }
}

export function sys_open(t: Task, path: string, flags: number = 0, mode: number = 0): number {
  return sys_openat(t, AT_FDCWD, path, flags, mode);
}

export function sys_creat(t: Task, path: string, mode: number = 0): number {
  return sys_openat(t, AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

export function sys_close(t: Task, fd: number): number {
  if (typeof fd !== 'number') throw E.EBADF;
  t.files.close(fd);
  return 0;
}

export function sys_close_range(t: Task, first: number, last: number, flags: number = 0): number {
  const lo = intArg(first);
  const hi = intArg(last);
  const fl = intArg(flags);
  if (fl & ~(CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE) || lo < 0 || hi < lo) throw E.EINVAL;
  for (const [fd] of [...t.files.entries()]) {
    if (fd < lo || fd > hi) continue;
    if (fl & CLOSE_RANGE_CLOEXEC) t.files.setCloexec(fd, true);
    else t.files.close(fd);
  }
  return 0;
}

/**
 * Opens `path` relative to `dirfd` and returns the open file description (not yet in the
 * descriptor table). Exposed for other kernel parts (WASI, the Node façade).
 */
export function doFilpOpen(t: Task, dirfd: number, path: string, flags: number, mode: number): File {
  // build_open_how: O_PATH beats every other flag.
  if (flags & O_PATH) flags &= O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC;
  // build_open_flags
  flags |= O_LARGEFILE;
  if (flags & O_CREAT && flags & O_DIRECTORY) throw E.EINVAL;
  if (flags & __O_TMPFILE) {
    if ((flags & O_TMPFILE) !== O_TMPFILE) throw E.EINVAL;
    if (!(flags & (O_WRONLY | O_RDWR))) throw E.EINVAL;
    return doTmpfile(t, dirfd, path, flags, (mode & S_IALLUGO) | S_IFREG);
  }
  let lookupFlags = flags & O_NOFOLLOW ? 0 : LOOKUP_FOLLOW;
  if (flags & O_DIRECTORY) lookupFlags |= LOOKUP_DIRECTORY;
  if (flags & O_PATH) {
    // Not even O_LARGEFILE: F_GETFL on an O_PATH descriptor shows only these.
    flags &= O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC;
    const nd = startWalk(t, dirfd, path, lookupFlags);
    const p = nd.lookup(path);
    return vfsOpen(t.kernel.openContext, p, flags, FMODE_PATH);
  }
  if (flags & O_CREAT) {
    mode = (mode & S_IALLUGO) | S_IFREG;
    // O_CREAT|O_EXCL never follows a trailing symlink.
    if (flags & O_EXCL) {
      lookupFlags &= ~LOOKUP_FOLLOW;
      flags &= ~O_TRUNC;
    }
  }
  let accMode = accModeOf(flags);
  if (flags & O_TRUNC) accMode |= MAY_WRITE;
  const nd = startWalk(t, dirfd, path, lookupFlags);
  let s = path;
  let created = false;
  for (;;) {
    nd.walk(s);
    const r = openLastLookups(t, nd, flags, mode);
    if (typeof r === 'string') {
      s = r;
      continue;
    }
    created = r;
    break;
  }
  return doOpen(t, nd, flags, accMode, created);
}

/**
 * do_tmpfile: an unnamed file in the directory `path`. Without O_EXCL it may later get a
 * name with linkat(fd, "", dir, name, AT_EMPTY_PATH). Errors: EOPNOTSUPP where the
 * filesystem cannot, ENOTDIR, EACCES, EROFS, EISDIR for O_RDONLY-less flags mistakes.
 */
function doTmpfile(t: Task, dirfd: number, path: string, flags: number, mode: number): File {
  const nd = startWalk(t, dirfd, path, LOOKUP_FOLLOW | LOOKUP_DIRECTORY);
  const p = nd.lookup(path);
  const dir = p.dentry.inode;
  mayCreate(t.cred, p.mnt, dir);
  mntWantWrite(p.mnt);
  const inode = dir.tmpfile(newInodeAttrs(t, dir, mode, true));
  if (!(flags & O_EXCL)) inode.linkable = true;
  const d = new Dentry(`#${inode.ino}`, p.dentry, inode);
  d.unhashed = true;
  return vfsOpen(t.kernel.openContext, new PathRef(p.mnt, d), flags, fmodeOf(flags));
}

/**
 * open_last_lookups: resolves (and with O_CREAT creates) the last component. Returns a
 * symlink body to continue with, or whether the file was created.
 */
function openLastLookups(t: Task, nd: Nameidata, flags: number, mode: number): string | boolean {
  if (nd.lastType !== LastType.NORM) {
    const link = nd.lookupLast();
    if (link !== null) return link;
    return false;
  }
  if (!(flags & O_CREAT)) {
    const link = nd.lookupLast();
    return link ?? false;
  }
  if (nd.trailing) throw E.EISDIR;
  const dir = nd.inode;
  const existing = nd.lookupChild(nd.last);
  if (existing === null) {
    mayCreate(t.cred, nd.mnt, dir);
    mntWantWrite(nd.mnt);
    const inode = dir.create(nd.last, newInodeAttrs(t, dir, mode, true));
    const d = nd.dentry.addChild(nd.last, inode);
    nd.stepTo(d);
    return true;
  }
  // It exists: like a plain lookup (following a symlink unless O_EXCL or O_NOFOLLOW).
  nd.lastType = LastType.NORM;
  const link = nd.lookupLast();
  return link ?? false;
}

/**
 * may_create_in_sticky (fs.protected_regular, fs.protected_fifos): O_CREAT must not open
 * someone else's existing file in a sticky world-writable directory (or, at level 2, a
 * sticky group-writable one) unless the directory's owner owns it. Errors: EACCES.
 */
function mayCreateInSticky(t: Task, dirMode: number, dirUid: number, inode: Inode): void {
  if (!(dirMode & S_ISVTX)) return;
  const sc = t.kernel.sysctl;
  const level = inode.isReg ? sc.protectedRegular : (inode.mode & S_IFMT) === S_IFIFO ? sc.protectedFifos : 0;
  if (level === 0) return;
  if (inode.uid === t.cred.fsuid || inode.uid === dirUid) return;
  if (dirMode & S_IWOTH || (level >= 2 && dirMode & S_IWGRP)) throw E.EACCES;
}

/** do_open: the checks on what was found, then the open itself and O_TRUNC. */
function doOpen(t: Task, nd: Nameidata, flags: number, accMode: number, created: boolean): File {
  const inode = nd.inode;
  if (flags & O_CREAT) {
    if (flags & O_EXCL && !created) throw E.EEXIST;
    if (inode.isDir) throw E.EISDIR;
    if (!created) mayCreateInSticky(t, nd.dirMode, nd.dirUid, inode);
  }
  if (nd.flags & LOOKUP_DIRECTORY && !inode.isDir) throw E.ENOTDIR;
  let truncate = false;
  if (created) {
    flags &= ~O_TRUNC;
    accMode = 0;
  } else if (inode.isReg && flags & O_TRUNC) {
    mntWantWrite(nd.mnt);
    truncate = true;
  }
  const p: PathRef = nd.path;
  if (!created) mayOpen(t.cred, p, accMode, flags);
  const file = vfsOpen(t.kernel.openContext, p, flags, fmodeOf(flags));
  if (truncate) {
    try {
      doTruncate(t.cred, inode, 0);
    } catch (e) {
      t.kernel.putFile(file);
      throw e;
    }
  }
  return file;
}
