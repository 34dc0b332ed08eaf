// SuperBlock and FileSystemType: the contract between the VFS and a filesystem (Linux's
// struct super_block/super_operations and struct file_system_type). A filesystem registers a
// FileSystemType with the kernel; mount(2) calls its mount() to get a SuperBlock.

import type { BlockDevice } from '../block/block_device.js';
import type { HostOps } from '../host/host_ops.js';
import type { Inode } from './inode.js';
import type { Clock } from './time.js';
import type { Kernel } from '../kernel/kernel.js';
import { errno } from '../kernel/errno.js';
import { EINVAL } from '../abi/linux/errno.js';

/** statfs(2)'s answer, in Linux's struct statfs terms. */
export interface StatFs {
  /** Filesystem magic (TMPFS_MAGIC, EXT4_SUPER_MAGIC, …). */
  type: number;
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  /** Filesystem id (two 32-bit words). */
  fsid: [number, number];
  namelen: number;
  frsize: number;
  /** ST_* mount flags; the VFS fills them in. */
  flags: number;
}

/** What a filesystem gets from the kernel at mount time. */
export interface MountContext {
  /** The source string as given to mount(2) (a device path, or anything for virtual filesystems). */
  source: string;
  /** The block device named by `source`, for filesystems that need one. */
  device: BlockDevice | null;
  /** MS_* flags relevant to the superblock (MS_RDONLY, MS_SYNCHRONOUS, …). */
  flags: number;
  /** The data argument: comma-separated options ("size=1m,mode=755"). */
  data: string;
  /** st_dev for this filesystem, chosen by the kernel. */
  dev: number;
  clock: Clock;
  host: HostOps;
  /** The kernel mounting it (procfs describes it; disk filesystems need not look). */
  kernel: Kernel;
  /** Where it is being mounted, as the mounting task sees the path (ext4's "last mounted on"). */
  target?: string;
}

export interface SuperBlock {
  readonly fsType: FileSystemType;
  /** st_dev of every inode of this filesystem. */
  readonly dev: number;
  readonly root: Inode;
  /** The filesystem is read-only (MS_RDONLY at mount, or forced by the filesystem itself). */
  readonly readOnly: boolean;
  readonly clock: Clock;
  /** Preferred I/O size, reported as st_blksize. */
  readonly blockSize: number;
  /** Largest file size in bytes (EFBIG beyond). */
  readonly maxFileSize: number;
  /** Largest link count (EMLINK beyond); Infinity where unlimited. */
  readonly maxLinks: number;
  /** What /proc/mounts prints as the source and the options. */
  readonly source: string;
  options(): string;
  statfs(): StatFs;
  /** Writes everything dirty to the device. Errors: EIO. */
  sync(): void;
  /**
   * Changes flags on a mounted filesystem (mount -o remount). Errors: EINVAL for options it
   * cannot change, EBUSY when going read-only with files open for writing.
   */
  remount(flags: number, data: string): void;
  /** Flushes and releases everything; the SuperBlock is unusable afterwards. Errors: EIO. */
  kill(): void;
  /**
   * Optional: what `tkl info` shows beyond statfs — e.g. { features: [...], label, uuid,
   * revision, mountCount, state }. Plain JSON-able values only.
   */
  describe?(): Record<string, unknown>;
}

export interface FileSystemType {
  /** The name mount(2) takes ("tmpfs", "ext4", "vfat"). */
  readonly name: string;
  /** True when `source` must name a block device. */
  readonly requiresDevice: boolean;
  /**
   * Reads (or creates, for virtual filesystems) a filesystem. Errors: EINVAL for a bad
   * option or a device that does not hold this filesystem, EUCLEAN/EIO for corruption,
   * EROFS when write access was asked of something that can only be read.
   */
  mount(ctx: MountContext): SuperBlock;
}

/** Parses "a=1,b,c=x" into a map (values '' for bare flags). */
export function parseMountData(data: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of data.split(',')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) m.set(part, '');
    else m.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return m;
}

/** Parses a size mount option (tmpfs `size=`, `cache=`): bytes with an optional k/m/g/t suffix. Errors: EINVAL. */
export function parseSize(v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const m = /^(\d+)([kmgtKMGT]?)$/.exec(v);
  if (!m) throw errno(EINVAL, `bad size '${v}'`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Number(m[1]) * mult;
}
