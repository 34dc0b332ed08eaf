// Directories and the working directory: getdents64, chdir, fchdir, getcwd, chroot.

import { AT_FDCWD } from '../../abi/linux/fcntl.js';
import { E } from '../errno.js';
import type { Task } from '../task.js';
import { FMODE_PATH } from '../../vfs/file.js';
import { dPath, type PathRef } from '../../vfs/mount.js';
import { LOOKUP_DIRECTORY, LOOKUP_FOLLOW, checkPathArg, pathLookup, utf8Length } from '../../vfs/namei.js';
import { MAY_EXEC } from '../../vfs/permission.js';
import { fileAccessed, inodePermission } from '../../vfs/vfs_ops.js';
import { fileArg, optInt } from './args.js';
import { PATH_MAX } from '../../abi/linux/limits.js';

/** One entry of getdents64 (Linux's struct linux_dirent64). */
export interface Dirent64 {
  ino: number;
  /** The position to continue from after this entry (d_off). */
  off: number;
  /** DT_* file type. */
  type: number;
  name: string;
}

/** Bytes a linux_dirent64 record takes: header, name, NUL, padded to 8. */
export function direntRecLen(name: string): number {
  return (19 + utf8Length(name) + 1 + 7) & ~7;
}

/**
 * getdents64: as many entries as fit in `count` bytes of linux_dirent64 records, from the
 * directory's position; an empty array at the end. Errors: EBADF, ENOTDIR, EINVAL (the
 * buffer holds not even one entry), ENOENT (the directory was removed).
 */
export function sys_getdents64(t: Task, fd: number, count: number = 32768): Dirent64[] {
  const f = fileArg(t, fd);
  const size = optInt(count, 32768);
  if (f.fmode & FMODE_PATH) throw E.EBADF;
  const inode = f.inode;
  if (!inode.isDir) throw E.ENOTDIR;
  if (size < 0) throw E.EINVAL;
  if (inode.dead) throw E.ENOENT;
  const out: Dirent64[] = [];
  let used = 0;
  let tooSmall = false;
  inode.readdir(f.pos, (name, ino, type, next) => {
    const len = direntRecLen(name);
    if (used + len > size) {
      if (out.length === 0) tooSmall = true;
      return false;
    }
    used += len;
    out.push({ ino, off: next, type, name });
    f.pos = next;
    return true;
  });
  if (tooSmall) throw E.EINVAL;
  fileAccessed(f);
  return out;
}

export function sys_chdir(t: Task, path: string): number {
  const p = pathLookup(t, AT_FDCWD, checkPathArg(path, false), LOOKUP_FOLLOW | LOOKUP_DIRECTORY);
  inodePermission(t.cred, p.mnt, p.dentry.inode, MAY_EXEC);
  t.kernel.setCwd(t, p);
  return 0;
}

export function sys_fchdir(t: Task, fd: number): number {
  const f = fileArg(t, fd);
  if (!f.inode.isDir) throw E.ENOTDIR;
  inodePermission(t.cred, f.path.mnt, f.inode, MAY_EXEC);
  t.kernel.setCwd(t, f.path);
  return 0;
}

export function sys_chroot(t: Task, path: string): number {
  const p = pathLookup(t, AT_FDCWD, checkPathArg(path, false), LOOKUP_FOLLOW | LOOKUP_DIRECTORY);
  inodePermission(t.cred, p.mnt, p.dentry.inode, MAY_EXEC);
  if (!t.cred.capable) throw E.EPERM;
  t.kernel.setRoot(t, p);
  return 0;
}

/**
 * getcwd: the working directory's path from the task's root. Errors: ENOENT when it was
 * removed, ERANGE when it does not fit in `size` bytes.
 */
export function sys_getcwd(t: Task, size: number = PATH_MAX): string {
  const n = optInt(size, PATH_MAX);
  const cwd = t.cwd;
  if (cwd.dentry.unhashed || cwd.dentry.inode.dead) throw E.ENOENT;
  let s = dPath(cwd, t.root);
  if (!isUnder(cwd, t)) s = '(unreachable)' + s;
  if (utf8Length(s) + 1 > n) throw E.ERANGE;
  return s;
}

function isUnder(p: PathRef, t: Task): boolean {
  let mnt = p.mnt;
  let d = p.dentry;
  for (;;) {
    if (mnt === t.root.mnt && d.isSubdirOf(t.root.dentry)) return true;
    if (mnt.parent === mnt) return false;
    d = mnt.mountpoint;
    mnt = mnt.parent;
  }
}
