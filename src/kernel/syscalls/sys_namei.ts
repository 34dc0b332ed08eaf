// Namespace changes: mkdirat, mknodat, symlinkat, linkat, unlinkat, renameat2, readlinkat,
// and their older forms (mkdir, rmdir, unlink, rename, …). Linux's fs/namei.c decides the
// order of the checks, and so the errno when several things are wrong at once.

import {
  AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT,
} from '../../abi/linux/fcntl.js';
import { PATH_MAX } from '../../abi/linux/limits.js';
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, S_IRWXUGO, S_ISGID, S_ISUID, S_ISVTX, S_IXGRP } from '../../abi/linux/stat.js';
import { E } from '../errno.js';
import type { Task } from '../task.js';
import { dExchange, dMove } from '../../vfs/dentry.js';
import type { Dentry } from '../../vfs/dentry.js';
import {
  LOOKUP_EMPTY, LOOKUP_FOLLOW, LastType, checkPathArg, pathLookup, pathParent, utf8Length, type Nameidata,
} from '../../vfs/namei.js';
import { MAY_READ, MAY_WRITE, ownerOrCapable, permitted } from '../../vfs/permission.js';
import type { Inode } from '../../vfs/inode.js';
import {
  STATX_APPEND, STATX_IMMUTABLE, inodePermission, mayCreate, mayDelete, mntWantWrite, newInodeAttrs, touchAtime,
} from '../../vfs/vfs_ops.js';
import { intArg, optInt } from './args.js';

function dirfdArg(dirfd: unknown): number {
  if (typeof dirfd !== 'number') throw E.EBADF;
  return dirfd;
}

/**
 * filename_create: walks to the parent of a name that is about to be created. Errors:
 * EEXIST (it exists, or is "." or ".." or "/"), ENOENT (a trailing slash on something
 * that is not to be a directory), EROFS.
 */
function filenameCreate(t: Task, dirfd: unknown, path: unknown, wantDir: boolean): { nd: Nameidata; last: string } {
  const p = checkPathArg(path, false);
  const { nd, last, type, trailing } = pathParent(t, dirfdArg(dirfd), p, 0);
  if (type !== LastType.NORM) throw E.EEXIST;
  const existing = nd.lookupChild(last);
  if (existing !== null) throw E.EEXIST;
  if (trailing && !wantDir) throw E.ENOENT;
  mntWantWrite(nd.mnt);
  return { nd, last };
}

export function sys_mkdirat(t: Task, dirfd: number, path: string, mode: number = 0o777): number {
  const m = optInt(mode, 0o777);
  const { nd, last } = filenameCreate(t, dirfd, path, true);
  const dir = nd.inode;
  mayCreate(t.cred, nd.mnt, dir);
  if (dir.nlink >= dir.sb.maxLinks) throw E.EMLINK;
  const inode = dir.mkdir(last, newInodeAttrs(t, dir, S_IFDIR | (m & (S_IRWXUGO | S_ISVTX)), true));
  nd.dentry.addChild(last, inode);
  return 0;
}

export function sys_mkdir(t: Task, path: string, mode: number = 0o777): number {
  return sys_mkdirat(t, AT_FDCWD, path, mode);
}

export function sys_mknodat(t: Task, dirfd: number, path: string, mode: number, dev: number = 0): number {
  let m = intArg(mode);
  const rdev = optInt(dev, 0);
  switch (m & S_IFMT) {
    case 0:
    case S_IFREG:
      m = (m & ~S_IFMT) | S_IFREG;
      break;
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
    case S_IFSOCK:
      break;
    case S_IFDIR:
      throw E.EPERM;
    default:
      throw E.EINVAL;
  }
  const { nd, last } = filenameCreate(t, dirfd, path, false);
  const dir = nd.inode;
  mayCreate(t.cred, nd.mnt, dir);
  const type = m & S_IFMT;
  if ((type === S_IFCHR || type === S_IFBLK) && !t.cred.capable) throw E.EPERM;
  const attrs = newInodeAttrs(t, dir, m, true, type === S_IFCHR || type === S_IFBLK ? rdev : 0);
  const inode = type === S_IFREG ? dir.create(last, attrs) : dir.mknod(last, attrs);
  nd.dentry.addChild(last, inode);
  return 0;
}

export function sys_mknod(t: Task, path: string, mode: number, dev: number = 0): number {
  return sys_mknodat(t, AT_FDCWD, path, mode, dev);
}

export function sys_symlinkat(t: Task, target: string, newdirfd: number, linkpath: string): number {
  const body = checkPathArg(target, false);
  const { nd, last } = filenameCreate(t, newdirfd, linkpath, false);
  const dir = nd.inode;
  mayCreate(t.cred, nd.mnt, dir);
  const inode = dir.symlink(last, body, newInodeAttrs(t, dir, S_IFLNK | 0o777, false));
  nd.dentry.addChild(last, inode);
  return 0;
}

export function sys_symlink(t: Task, target: string, linkpath: string): number {
  return sys_symlinkat(t, target, AT_FDCWD, linkpath);
}

export function sys_linkat(t: Task, olddirfd: number, oldpath: string, newdirfd: number, newpath: string, flags: number = 0): number {
  const fl = intArg(flags);
  if (fl & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) throw E.EINVAL;
  let lf = fl & AT_SYMLINK_FOLLOW ? LOOKUP_FOLLOW : 0;
  if (fl & AT_EMPTY_PATH) {
    if (!t.cred.capable) throw E.ENOENT;
    lf |= LOOKUP_EMPTY;
  }
  const old = pathLookup(t, dirfdArg(olddirfd), checkPathArg(oldpath, (fl & AT_EMPTY_PATH) !== 0), lf);
  const { nd, last } = filenameCreate(t, newdirfd, newpath, false);
  if (old.mnt !== nd.mnt) throw E.EXDEV;
  const dir = nd.inode;
  const inode = old.dentry.inode;
  mayLinkat(t, inode);
  mayCreate(t.cred, nd.mnt, dir);
  if (dir.sb !== inode.sb) throw E.EXDEV;
  if (inode.attributes & (STATX_APPEND | STATX_IMMUTABLE)) throw E.EPERM;
  if (inode.isDir) throw E.EPERM;
  if (inode.nlink === 0 && !inode.linkable) throw E.ENOENT;
  if (inode.nlink >= inode.sb.maxLinks) throw E.EMLINK;
  dir.link(last, inode);
  inode.linkable = false;
  nd.dentry.addChild(last, inode);
  return 0;
}

/**
 * may_linkat (fs.protected_hardlinks): without ownership, only a regular file one may read
 * and write, neither setuid nor setgid-executable, may get another name. Errors: EPERM.
 */
function mayLinkat(t: Task, inode: Inode): void {
  if (!t.kernel.sysctl.protectedHardlinks) return;
  if (ownerOrCapable(t.cred, inode)) return;
  const mode = inode.mode;
  const safe =
    inode.isReg && !(mode & S_ISUID) && (mode & (S_ISGID | S_IXGRP)) !== (S_ISGID | S_IXGRP) && permitted(t.cred, inode, MAY_READ | MAY_WRITE);
  if (!safe) throw E.EPERM;
}

export function sys_link(t: Task, oldpath: string, newpath: string): number {
  return sys_linkat(t, AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
}

export function sys_unlinkat(t: Task, dirfd: number, path: string, flags: number = 0): number {
  const fl = intArg(flags);
  if (fl & ~AT_REMOVEDIR) throw E.EINVAL;
  const p = checkPathArg(path, false);
  return fl & AT_REMOVEDIR ? doRmdir(t, dirfdArg(dirfd), p) : doUnlink(t, dirfdArg(dirfd), p);
}

export function sys_unlink(t: Task, path: string): number {
  return sys_unlinkat(t, AT_FDCWD, path, 0);
}

export function sys_rmdir(t: Task, path: string): number {
  return sys_unlinkat(t, AT_FDCWD, path, AT_REMOVEDIR);
}

function doUnlink(t: Task, dirfd: number, path: string): number {
  const { nd, last, type, trailing } = pathParent(t, dirfd, path, 0);
  if (type !== LastType.NORM) throw E.EISDIR;
  mntWantWrite(nd.mnt);
  const child = nd.lookupChild(last);
  if (trailing) throw child === null ? E.ENOENT : child.inode.isDir ? E.EISDIR : E.ENOTDIR;
  if (child === null) throw E.ENOENT;
  const dir = nd.inode;
  mayDelete(t.cred, nd.mnt, dir, child, false);
  if (child.mounted > 0) throw E.EBUSY;
  const inode = child.inode;
  dir.unlink(last, inode);
  nd.dentry.dropChild(last);
  t.kernel.maybeEvict(inode);
  return 0;
}

function doRmdir(t: Task, dirfd: number, path: string): number {
  const { nd, last, type } = pathParent(t, dirfd, path, 0);
  if (type === LastType.DOTDOT) throw E.ENOTEMPTY;
  if (type === LastType.DOT) throw E.EINVAL;
  if (type === LastType.ROOT) throw E.EBUSY;
  mntWantWrite(nd.mnt);
  const child = nd.lookupChild(last);
  if (child === null) throw E.ENOENT;
  const dir = nd.inode;
  mayDelete(t.cred, nd.mnt, dir, child, true);
  if (child.mounted > 0) throw E.EBUSY;
  const inode = child.inode;
  dir.rmdir(last, inode);
  inode.dead = true;
  nd.dentry.dropChild(last);
  t.kernel.maybeEvict(inode);
  return 0;
}

export function sys_renameat2(
  t: Task, olddirfd: number, oldpath: string, newdirfd: number, newpath: string, flags: number = 0,
): number {
  const fl = intArg(flags);
  if (fl & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) throw E.EINVAL;
  if (fl & (RENAME_NOREPLACE | RENAME_WHITEOUT) && fl & RENAME_EXCHANGE) throw E.EINVAL;
  // Whiteouts belong to overlay filesystems, which tkl does not have.
  if (fl & RENAME_WHITEOUT) throw E.EINVAL;
  const op = checkPathArg(oldpath, false);
  const np = checkPathArg(newpath, false);
  const from = pathParent(t, dirfdArg(olddirfd), op, 0);
  const to = pathParent(t, dirfdArg(newdirfd), np, 0);
  if (from.nd.mnt !== to.nd.mnt) throw E.EXDEV;
  if (from.type !== LastType.NORM) throw E.EBUSY;
  if (to.type !== LastType.NORM) throw fl & RENAME_NOREPLACE ? E.EEXIST : E.EBUSY;
  mntWantWrite(from.nd.mnt);
  const oldD = from.nd.lookupChild(from.last);
  if (oldD === null) throw E.ENOENT;
  const newD = to.nd.lookupChild(to.last);
  if (fl & RENAME_NOREPLACE && newD !== null) throw E.EEXIST;
  if (fl & RENAME_EXCHANGE) {
    if (newD === null) throw E.ENOENT;
    if (!newD.inode.isDir && to.trailing) throw E.ENOTDIR;
  }
  if (!oldD.inode.isDir) {
    if (from.trailing) throw E.ENOTDIR;
    if (!(fl & RENAME_EXCHANGE) && to.trailing) throw E.ENOTDIR;
  }
  const oldDir = from.nd.dentry;
  const newDir = to.nd.dentry;
  if (oldDir !== newDir) {
    // Neither may be moved into its own subtree.
    if (newDir.isSubdirOf(oldD)) throw E.EINVAL;
    if (newD !== null && oldDir.isSubdirOf(newD)) throw fl & RENAME_EXCHANGE ? E.EINVAL : E.ENOTEMPTY;
  }
  vfsRename(t, from.nd, oldD, to.nd, newD, to.last, fl);
  return 0;
}

/** vfs_rename: permission and type checks, the filesystem's rename, then the dentry cache. */
function vfsRename(t: Task, from: Nameidata, oldD: Dentry, to: Nameidata, newD: Dentry | null, newName: string, fl: number): void {
  const source = oldD.inode;
  const target = newD?.inode ?? null;
  if (source === target) return;
  const cred = t.cred;
  const isDir = source.isDir;
  const oldDirInode = from.inode;
  const newDirInode = to.inode;
  mayDelete(cred, from.mnt, oldDirInode, oldD, isDir);
  let newIsDir = false;
  if (target === null) mayCreate(cred, to.mnt, newDirInode);
  else {
    newIsDir = target.isDir;
    mayDelete(cred, to.mnt, newDirInode, newD!, fl & RENAME_EXCHANGE ? newIsDir : isDir);
  }
  if (oldDirInode !== newDirInode) {
    // Moving a directory rewrites its "..": it must be writable.
    if (isDir) inodePermission(cred, from.mnt, source, MAY_WRITE);
    if (fl & RENAME_EXCHANGE && newIsDir) inodePermission(cred, to.mnt, target!, MAY_WRITE);
  }
  if (oldD.mounted > 0 || (newD !== null && newD.mounted > 0)) throw E.EBUSY;
  if (oldDirInode !== newDirInode) {
    const max = source.sb.maxLinks;
    if (isDir && !newIsDir && newDirInode.nlink >= max) throw E.EMLINK;
    if (fl & RENAME_EXCHANGE && !isDir && newIsDir && oldDirInode.nlink >= max) throw E.EMLINK;
  }
  oldDirInode.rename(oldD.name, source, newDirInode, newName, target, fl);
  if (fl & RENAME_EXCHANGE) {
    dExchange(oldD, newD!);
    return;
  }
  if (target !== null && target.isDir) target.dead = true;
  dMove(oldD, to.dentry, newName);
  if (target !== null) t.kernel.maybeEvict(target);
}

export function sys_renameat(t: Task, olddirfd: number, oldpath: string, newdirfd: number, newpath: string): number {
  return sys_renameat2(t, olddirfd, oldpath, newdirfd, newpath, 0);
}

export function sys_rename(t: Task, oldpath: string, newpath: string): number {
  return sys_renameat2(t, AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
}

/** readlinkat: the target of a symlink, cut to `bufsiz` bytes. Errors: EINVAL (not a link, bufsiz <= 0). */
export function sys_readlinkat(t: Task, dirfd: number, path: string, bufsiz: number = PATH_MAX): string {
  const size = optInt(bufsiz, PATH_MAX);
  if (size <= 0) throw E.EINVAL;
  const name = checkPathArg(path, true);
  const p = pathLookup(t, dirfdArg(dirfd), name, LOOKUP_EMPTY);
  const inode = p.dentry.inode;
  if (!inode.isSymlink) throw name === '' ? E.ENOENT : E.EINVAL;
  const body = inode.readlink();
  touchAtime(p);
  if (body.length * 3 <= size || utf8Length(body) <= size) return body;
  return new TextDecoder().decode(new TextEncoder().encode(body).subarray(0, size));
}

export function sys_readlink(t: Task, path: string, bufsiz: number = PATH_MAX): string {
  return sys_readlinkat(t, AT_FDCWD, path, bufsiz);
}
