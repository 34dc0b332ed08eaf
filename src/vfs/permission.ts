// Permission checks from mode bits and credentials, as Linux's generic_permission,
// may_delete, may_create and the sticky-directory rule decide them.

import { S_ISVTX, S_IXUGO } from '../abi/linux/stat.js';
import { E } from '../kernel/errno.js';
import type { Cred } from '../kernel/cred.js';
import type { Inode } from './inode.js';

export const MAY_EXEC = 1;
export const MAY_WRITE = 2;
export const MAY_READ = 4;
export const MAY_APPEND = 8;

/** generic_permission: may `cred` access `inode` for `mask` (MAY_*)? Throws EACCES. */
export function checkPermission(cred: Cred, inode: Inode, mask: number): void {
  if (!permitted(cred, inode, mask)) throw E.EACCES;
}

export function permitted(cred: Cred, inode: Inode, mask: number): boolean {
  mask &= MAY_READ | MAY_WRITE | MAY_EXEC;
  const mode = inode.mode;
  let bits: number;
  if (cred.fsuid === inode.uid) bits = mode >> 6;
  else if (cred.inGroup(inode.gid)) bits = mode >> 3;
  else bits = mode;
  if ((mask & ~bits & 7) === 0) return true;
  if (!cred.fsCapable) return false;
  // Root: read and write always; execute only where some execute bit is set,
  // except on directories, which root may always search.
  if (inode.isDir) return true;
  return (mask & MAY_EXEC) === 0 || (mode & S_IXUGO) !== 0;
}

/** inode_owner_or_capable: the caller owns the inode or holds CAP_FOWNER. */
export function ownerOrCapable(cred: Cred, inode: Inode): boolean {
  return cred.fsuid === inode.uid || cred.fsCapable;
}

/** check_sticky: true when the sticky bit on `dir` forbids removing or renaming `inode`. */
export function stickyForbids(cred: Cred, dir: Inode, inode: Inode): boolean {
  if ((dir.mode & S_ISVTX) === 0) return false;
  return cred.fsuid !== inode.uid && cred.fsuid !== dir.uid && !cred.fsCapable;
}
