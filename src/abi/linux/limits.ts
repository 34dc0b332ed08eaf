// Linux's limits (linux/limits.h and friends) and device numbers (Documentation/admin-guide/devices.txt).

export const NAME_MAX = 255;
export const PATH_MAX = 4096;
export const MAXSYMLINKS = 40;
export const PIPE_BUF = 4096;
/** Default pipe capacity: 16 pages. */
export const PIPE_DEF_CAPACITY = 65536;
export const XATTR_NAME_MAX = 255;
export const XATTR_SIZE_MAX = 65536;
export const XATTR_LIST_MAX = 65536;
export const IOV_MAX = 1024;
/** Largest count a single read/write transfers (MAX_RW_COUNT: INT_MAX rounded down to a page). */
export const MAX_RW_COUNT = 0x7ffff000;
/** Largest file offset Linux accepts on 64-bit (MAX_LFS_FILESIZE); JS numbers stop being exact at 2^53. */
export const MAX_LFS_FILESIZE = Number.MAX_SAFE_INTEGER;
/** Default RLIMIT_NOFILE soft limit. */
export const NR_OPEN_DEFAULT = 1024;
export const NGROUPS_MAX = 65536;

export const MEM_MAJOR = 1;
export const TTY_MAJOR = 5;
export const TTYAUX_MAJOR = 5;
/** Major number Linux gives virtio-blk disks on a typical system. */
export const VIRTBLK_MAJOR = 254;
/** Major number of partitions beyond a disk's own minors (Linux's BLOCK_EXT_MAJOR, "blkext"). */
export const BLOCK_EXT_MAJOR = 259;

export function makedev(major: number, minor: number): number {
  return ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12);
}
export function major(dev: number): number {
  return (dev >>> 8) & 0xfff;
}
export function minor(dev: number): number {
  return (dev & 0xff) | ((dev >>> 12) & ~0xff);
}
