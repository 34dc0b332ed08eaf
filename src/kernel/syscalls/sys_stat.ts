// stat(2) and friends: fstat, newfstatat (stat, lstat), statx, statfs, fstatfs. Results are
// plain objects with Linux's field names; times are Timespec {sec, nsec}.

import { AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_STATX_SYNC_TYPE, AT_SYMLINK_NOFOLLOW } from '../../abi/linux/fcntl.js';
import { major, minor } from '../../abi/linux/limits.js';
import {
  MS_MANDLOCK, MS_NOATIME, MS_NODEV, MS_NODIRATIME, MS_NOEXEC, MS_NOSUID, MS_NOSYMFOLLOW, MS_RELATIME,
  MS_SYNCHRONOUS, ST_MANDLOCK_FLAG, ST_NOATIME, ST_NODEV, ST_NODIRATIME, ST_NOEXEC, ST_NOSUID,
  ST_NOSYMFOLLOW, ST_RDONLY, ST_RELATIME, ST_SYNCHRONOUS, ST_VALID,
} from '../../abi/linux/mount.js';
import {
  STATX_ATTR_APPEND, STATX_ATTR_IMMUTABLE, STATX_ATTR_MOUNT_ROOT, STATX_BASIC_STATS, STATX_BTIME, STATX_MNT_ID,
  STATX__RESERVED,
} from '../../abi/linux/stat.js';
import { E } from '../errno.js';
import type { Task } from '../task.js';
import type { Inode } from '../../vfs/inode.js';
import type { PathRef } from '../../vfs/mount.js';
import { LOOKUP_EMPTY, LOOKUP_FOLLOW, checkPathArg, pathLookup } from '../../vfs/namei.js';
import type { StatFs } from '../../vfs/superblock.js';
import type { Timespec } from '../../vfs/time.js';
import { fileArg, intArg, optInt } from './args.js';

/** Linux's struct stat. */
export interface Stat {
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
}

/** Linux's struct statx. */
export interface Statx {
  mask: number;
  blksize: number;
  attributes: number;
  nlink: number;
  uid: number;
  gid: number;
  mode: number;
  ino: number;
  size: number;
  blocks: number;
  attributesMask: number;
  atime: Timespec;
  btime: Timespec;
  ctime: Timespec;
  mtime: Timespec;
  rdevMajor: number;
  rdevMinor: number;
  devMajor: number;
  devMinor: number;
  mntId: number;
}

export function statInode(inode: Inode): Stat {
  return {
    dev: inode.sb.dev,
    ino: inode.ino,
    mode: inode.mode,
    nlink: inode.nlink,
    uid: inode.uid,
    gid: inode.gid,
    rdev: inode.rdev,
    size: inode.size,
    blksize: inode.sb.blockSize,
    blocks: inode.blocks,
    atime: inode.atime,
    mtime: inode.mtime,
    ctime: inode.ctime,
  };
}

export function sys_fstat(t: Task, fd: number): Stat {
  return statInode(fileArg(t, fd).inode);
}

export function sys_newfstatat(t: Task, dirfd: number, path: string, flags: number = 0): Stat {
  const fl = intArg(flags);
  if (fl & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH)) throw E.EINVAL;
  return statInode(statPath(t, dirfd, path, fl).dentry.inode);
}

export function sys_stat(t: Task, path: string): Stat {
  return sys_newfstatat(t, AT_FDCWD, path, 0);
}

export function sys_lstat(t: Task, path: string): Stat {
  return sys_newfstatat(t, AT_FDCWD, path, AT_SYMLINK_NOFOLLOW);
}

export function sys_statx(t: Task, dirfd: number, path: string, flags: number = 0, mask: number = STATX_BASIC_STATS | STATX_BTIME): Statx {
  const fl = intArg(flags);
  const m = optInt(mask, STATX_BASIC_STATS);
  if (fl & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE)) throw E.EINVAL;
  if ((fl & AT_STATX_SYNC_TYPE) === AT_STATX_SYNC_TYPE) throw E.EINVAL;
  if (m & STATX__RESERVED) throw E.EINVAL;
  const p = statPath(t, dirfd, path, fl);
  const inode = p.dentry.inode;
  // Inode.attributes holds STATX_ATTR_* bits already; the VFS adds the mount-root one.
  const attributes = inode.attributes | (p.dentry === p.mnt.root ? STATX_ATTR_MOUNT_ROOT : 0);
  let resultMask = STATX_BASIC_STATS | STATX_MNT_ID;
  if (inode.btime !== null) resultMask |= STATX_BTIME;
  return {
    mask: resultMask,
    blksize: inode.sb.blockSize,
    attributes,
    nlink: inode.nlink,
    uid: inode.uid,
    gid: inode.gid,
    mode: inode.mode,
    ino: inode.ino,
    size: inode.size,
    blocks: inode.blocks,
    attributesMask: STATX_ATTR_MOUNT_ROOT | STATX_ATTR_IMMUTABLE | STATX_ATTR_APPEND,
    atime: inode.atime,
    btime: inode.btime ?? { sec: 0, nsec: 0 },
    ctime: inode.ctime,
    mtime: inode.mtime,
    rdevMajor: major(inode.rdev),
    rdevMinor: minor(inode.rdev),
    devMajor: major(inode.sb.dev),
    devMinor: minor(inode.sb.dev),
    mntId: p.mnt.id,
  };
}

export function sys_statfs(t: Task, path: string): StatFs {
  const p = pathLookup(t, AT_FDCWD, checkPathArg(path, false), LOOKUP_FOLLOW);
  return statfsOf(p);
}

export function sys_fstatfs(t: Task, fd: number): StatFs {
  return statfsOf(fileArg(t, fd).path);
}

/** statfs of the filesystem at `p`, with the mount's flags in ST_* form. */
export function statfsOf(p: PathRef): StatFs {
  const st = p.mnt.sb.statfs();
  const mf = p.mnt.flags;
  let flags = ST_VALID;
  if (p.mnt.readOnly) flags |= ST_RDONLY;
  if (mf & MS_NOSUID) flags |= ST_NOSUID;
  if (mf & MS_NODEV) flags |= ST_NODEV;
  if (mf & MS_NOEXEC) flags |= ST_NOEXEC;
  if (mf & MS_SYNCHRONOUS) flags |= ST_SYNCHRONOUS;
  if (mf & MS_MANDLOCK) flags |= ST_MANDLOCK_FLAG;
  if (mf & MS_NOATIME) flags |= ST_NOATIME;
  if (mf & MS_NODIRATIME) flags |= ST_NODIRATIME;
  if (mf & MS_RELATIME) flags |= ST_RELATIME;
  if (mf & MS_NOSYMFOLLOW) flags |= ST_NOSYMFOLLOW;
  const dev = p.mnt.sb.dev;
  return { ...st, flags, fsid: st.fsid[0] === 0 && st.fsid[1] === 0 ? [dev, 0] : st.fsid };
}

function statPath(t: Task, dirfd: unknown, path: unknown, fl: number): PathRef {
  const p = checkPathArg(path, (fl & AT_EMPTY_PATH) !== 0);
  if (typeof dirfd !== 'number') throw E.EBADF;
  let lf = fl & AT_SYMLINK_NOFOLLOW ? 0 : LOOKUP_FOLLOW;
  if (fl & AT_EMPTY_PATH) lf |= LOOKUP_EMPTY;
  return pathLookup(t, dirfd, p, lf);
}
