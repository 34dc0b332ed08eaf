// Mount: a filesystem attached at a point in the tree (Linux's struct mount / vfsmount), and
// PathRef, the (mount, dentry) pair that names a place unambiguously (Linux's struct path).
// Mounts form a tree per kernel; a dentry with `mounted > 0` has children mounts over it.

import {
  MS_NOATIME, MS_NODEV, MS_NODIRATIME, MS_NOEXEC, MS_NOSUID, MS_NOSYMFOLLOW, MS_RDONLY, MS_RELATIME, MS_STRICTATIME,
} from '../abi/linux/mount.js';
import type { Dentry } from './dentry.js';
import type { SuperBlock } from './superblock.js';

export class Mount {
  readonly id: number;
  readonly sb: SuperBlock;
  /** The dentry of `sb` that appears at the mount point (the fs root, or a subtree for binds). */
  readonly root: Dentry;
  /** The mount this one is attached in; the namespace root is its own parent. */
  parent: Mount;
  /** Where in `parent` this mount is attached. */
  mountpoint: Dentry;
  /** Per-mount MS_* flags (MS_RDONLY for a read-only bind, MS_NOSUID, …). */
  flags: number;
  readonly children: Mount[] = [];
  /** Open files, working and root directories inside this mount. */
  refs = 0;
  /** Detached from the tree (umount2 with MNT_DETACH, or after umount). */
  detached = false;
  /** A kernel-internal mount (pipefs) that is in no tree; paths in it print as the dentry's name. */
  internal = false;

  constructor(id: number, sb: SuperBlock, root: Dentry, flags: number) {
    this.id = id;
    this.sb = sb;
    this.root = root;
    this.parent = this;
    this.mountpoint = root;
    this.flags = flags;
  }

  /** Writes are refused here: the mount or its filesystem is read-only. */
  get readOnly(): boolean {
    return (this.flags & MS_RDONLY) !== 0 || this.sb.readOnly;
  }

  /** The mount stacked on `d` inside this mount, the most recent one, if any. */
  mountedAt(d: Dentry): Mount | undefined {
    const c = this.children;
    for (let i = c.length - 1; i >= 0; i--) if (c[i]!.mountpoint === d) return c[i];
    return undefined;
  }
}

const ATIME_FLAGS = MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;

/**
 * The per-mount flags mount(2) flags give (path_mount): relatime unless noatime or
 * strictatime is asked for; a remount that names no atime flag keeps the mount's `previous`
 * ones. MS_STRICTATIME itself is not kept: a mount without relatime and noatime is strict.
 */
export function mountFlags(ms: number, previous?: number): number {
  let f = ms & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_NOSYMFOLLOW | MS_RDONLY);
  if (!(ms & MS_NOATIME)) f |= MS_RELATIME;
  if (ms & MS_STRICTATIME) f &= ~(MS_RELATIME | MS_NOATIME);
  if (previous !== undefined && (ms & ATIME_FLAGS) === 0) f = (f & ~ATIME_FLAGS) | (previous & ATIME_FLAGS);
  return f;
}

/** The per-mount flags as /proc/mounts lists them after "rw"/"ro" (show_mnt_opts). */
export const MOUNT_OPTION_NAMES: readonly [number, string][] = [
  [MS_NOSUID, 'nosuid'],
  [MS_NODEV, 'nodev'],
  [MS_NOEXEC, 'noexec'],
  [MS_NOATIME, 'noatime'],
  [MS_NODIRATIME, 'nodiratime'],
  [MS_RELATIME, 'relatime'],
  [MS_NOSYMFOLLOW, 'nosymfollow'],
];

export class PathRef {
  constructor(
    readonly mnt: Mount,
    readonly dentry: Dentry,
  ) {}

  get inode() {
    return this.dentry.inode;
  }

}

/**
 * The path of `p` as seen from `root` (Linux's d_path): "/a/b", with " (deleted)" appended
 * when the name was removed, or the filesystem-relative path when `p` is not below `root`.
 */
export function dPath(p: PathRef, root: PathRef): string {
  if (p.mnt.internal) return p.dentry.name;
  const parts: string[] = [];
  let mnt = p.mnt;
  let d = p.dentry;
  const deleted = d.unhashed;
  for (;;) {
    if (mnt === root.mnt && d === root.dentry) break;
    if (d === mnt.root) {
      if (mnt.parent === mnt) break; // reached the top without meeting root
      d = mnt.mountpoint;
      mnt = mnt.parent;
      continue;
    }
    parts.push(d.name);
    d = d.parent;
  }
  parts.reverse();
  const s = '/' + parts.join('/');
  return deleted ? s + ' (deleted)' : s;
}
