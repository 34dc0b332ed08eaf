// devtmpfs: /dev, a tmpfs holding the device nodes (as Linux's devtmpfs is a shmem
// instance). populateDev makes the standard nodes at boot; disks add theirs when attached.

import { S_IFCHR, S_IFDIR } from '../../abi/linux/stat.js';
import type { Kernel } from '../../kernel/kernel.js';
import { DEV_CONSOLE, DEV_FULL, DEV_NULL, DEV_RANDOM, DEV_TTY, DEV_URANDOM, DEV_ZERO } from '../../kernel/devices.js';
import type { PathRef } from '../../vfs/mount.js';
import type { FileSystemType, MountContext, SuperBlock } from '../../vfs/superblock.js';
import { TmpfsSuper, type TmpfsInode } from '../tmpfs/tmpfs.js';

export const devtmpfsType: FileSystemType = {
  name: 'devtmpfs',
  requiresDevice: false,
  mount(ctx: MountContext): SuperBlock {
    return new TmpfsSuper(devtmpfsType, ctx, { size: 64 * 1024, nrInodes: 65536 });
  },
};

/** The nodes and links every /dev has. */
export function populateDev(k: Kernel, dev: PathRef): void {
  const nodes: [string, number, number][] = [
    ['null', 0o666, DEV_NULL],
    ['zero', 0o666, DEV_ZERO],
    ['full', 0o666, DEV_FULL],
    ['random', 0o666, DEV_RANDOM],
    ['urandom', 0o666, DEV_URANDOM],
    ['tty', 0o666, DEV_TTY],
    ['console', 0o600, DEV_CONSOLE],
  ];
  for (const [name, perm, rdev] of nodes) k.makeNode(dev, name, S_IFCHR | perm, rdev);
  k.makeSymlink(dev, 'fd', '/proc/self/fd');
  k.makeSymlink(dev, 'stdin', '/proc/self/fd/0');
  k.makeSymlink(dev, 'stdout', '/proc/self/fd/1');
  k.makeSymlink(dev, 'stderr', '/proc/self/fd/2');
  const dir = dev.dentry.inode as TmpfsInode;
  const shm = dir.mkdir('shm', { mode: S_IFDIR | 0o1777, uid: 0, gid: 0, rdev: 0 });
  dev.dentry.addChild('shm', shm);
}
