// Extended attributes: setxattr, getxattr, listxattr, removexattr, each in path, l- (no
// symlink following) and f- (descriptor) forms. Linux's fs/xattr.c decides who may touch
// which namespace: trusted.* is root's alone, user.* only lives on files and directories.

import { AT_FDCWD, XATTR_CREATE, XATTR_REPLACE } from '../../abi/linux/fcntl.js';
import { XATTR_LIST_MAX, XATTR_SIZE_MAX } from '../../abi/linux/limits.js';
import { E } from '../errno.js';
import type { Task } from '../task.js';
import { FMODE_PATH } from '../../vfs/file.js';
import type { PathRef } from '../../vfs/mount.js';
import { LOOKUP_FOLLOW, checkPathArg, pathLookup, utf8Length } from '../../vfs/namei.js';
import { MAY_READ, MAY_WRITE, ownerOrCapable } from '../../vfs/permission.js';
import { STATX_APPEND, STATX_IMMUTABLE, inodePermission, mntWantWrite } from '../../vfs/vfs_ops.js';
import { checkXattrName } from '../../vfs/xattr.js';
import { bufArg, fileArg, intArg, stringArg } from './args.js';

function pathOf(t: Task, path: unknown, follow: boolean): PathRef {
  return pathLookup(t, AT_FDCWD, checkPathArg(path, false), follow ? LOOKUP_FOLLOW : 0);
}

function fdPath(t: Task, fd: unknown): PathRef {
  const f = fileArg(t, fd);
  if (f.fmode & FMODE_PATH) throw E.EBADF;
  return f.path;
}

/** xattr_permission. */
function xattrPermission(t: Task, p: PathRef, name: string, mask: number): void {
  const inode = p.dentry.inode;
  if (mask & MAY_WRITE && inode.attributes & (STATX_IMMUTABLE | STATX_APPEND)) throw E.EPERM;
  if (name.startsWith('trusted.')) {
    if (!t.cred.capable) throw mask & MAY_WRITE ? E.EPERM : E.ENODATA;
    return;
  }
  if (name.startsWith('user.')) {
    if (!inode.isReg && !inode.isDir) throw mask & MAY_WRITE ? E.EPERM : E.ENODATA;
    if (mask & MAY_WRITE && inode.isDir && inode.mode & 0o1000 && !ownerOrCapable(t.cred, inode)) throw E.EPERM;
  }
  // The VFS leaves these to others: the capability LSM (cap_inode_setxattr) keeps writing
  // security.* to CAP_SYS_ADMIN, and POSIX ACLs (system.*) to the owner (vfs_set_acl).
  if (name.startsWith('security.')) {
    if (mask & MAY_WRITE && !t.cred.capable) throw E.EPERM;
    return;
  }
  if (name.startsWith('system.')) {
    if (mask & MAY_WRITE && !ownerOrCapable(t.cred, inode)) throw E.EPERM;
    return;
  }
  inodePermission(t.cred, p.mnt, inode, mask);
}

function doSet(t: Task, p: PathRef, name: unknown, value: unknown, flags: unknown): number {
  const n = stringArg(name);
  const v = bufArg(value);
  const fl = intArg(flags);
  if (fl & ~(XATTR_CREATE | XATTR_REPLACE)) throw E.EINVAL;
  checkXattrName(n);
  if (v.length > XATTR_SIZE_MAX) throw E.E2BIG;
  mntWantWrite(p.mnt);
  xattrPermission(t, p, n, MAY_WRITE);
  p.dentry.inode.setxattr(n, v, fl);
  return 0;
}

/** `size`, when given and not 0, is the caller's buffer: ERANGE when the value is longer. 0 asks for the value's size (here: the value). */
function doGet(t: Task, p: PathRef, name: unknown, size: unknown): Uint8Array {
  const n = stringArg(name);
  checkXattrName(n);
  xattrPermission(t, p, n, MAY_READ);
  const v = p.dentry.inode.getxattr(n);
  if (v === null) throw E.ENODATA;
  if (size !== undefined && intArg(size) !== 0 && v.length > (size as number)) throw E.ERANGE;
  return v.slice();
}

function doList(t: Task, p: PathRef, size: unknown): string[] {
  const names = p.dentry.inode.listxattr().filter((n) => t.cred.capable || !n.startsWith('trusted.'));
  let bytes = 0;
  for (const n of names) bytes += utf8Length(n) + 1;
  if (bytes > XATTR_LIST_MAX) throw E.E2BIG;
  if (size !== undefined && intArg(size) !== 0 && bytes > (size as number)) throw E.ERANGE;
  return names;
}

function doRemove(t: Task, p: PathRef, name: unknown): number {
  const n = stringArg(name);
  checkXattrName(n);
  mntWantWrite(p.mnt);
  xattrPermission(t, p, n, MAY_WRITE);
  p.dentry.inode.removexattr(n);
  return 0;
}

export function sys_setxattr(t: Task, path: string, name: string, value: Uint8Array, flags: number = 0): number {
  return doSet(t, pathOf(t, path, true), name, value, flags);
}
export function sys_lsetxattr(t: Task, path: string, name: string, value: Uint8Array, flags: number = 0): number {
  return doSet(t, pathOf(t, path, false), name, value, flags);
}
export function sys_fsetxattr(t: Task, fd: number, name: string, value: Uint8Array, flags: number = 0): number {
  return doSet(t, fdPath(t, fd), name, value, flags);
}
export function sys_getxattr(t: Task, path: string, name: string, size?: number): Uint8Array {
  return doGet(t, pathOf(t, path, true), name, size);
}
export function sys_lgetxattr(t: Task, path: string, name: string, size?: number): Uint8Array {
  return doGet(t, pathOf(t, path, false), name, size);
}
export function sys_fgetxattr(t: Task, fd: number, name: string, size?: number): Uint8Array {
  return doGet(t, fdPath(t, fd), name, size);
}
export function sys_listxattr(t: Task, path: string, size?: number): string[] {
  return doList(t, pathOf(t, path, true), size);
}
export function sys_llistxattr(t: Task, path: string, size?: number): string[] {
  return doList(t, pathOf(t, path, false), size);
}
export function sys_flistxattr(t: Task, fd: number, size?: number): string[] {
  return doList(t, fdPath(t, fd), size);
}
export function sys_removexattr(t: Task, path: string, name: string): number {
  return doRemove(t, pathOf(t, path, true), name);
}
export function sys_lremovexattr(t: Task, path: string, name: string): number {
  return doRemove(t, pathOf(t, path, false), name);
}
export function sys_fremovexattr(t: Task, fd: number, name: string): number {
  return doRemove(t, fdPath(t, fd), name);
}
