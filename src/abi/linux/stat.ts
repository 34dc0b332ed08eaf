// Linux's file-type and mode bits, dirent types, statx masks and utimensat specials.
// Values only.

export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;
export const S_ISUID = 0o4000;
export const S_ISGID = 0o2000;
export const S_ISVTX = 0o1000;
export const S_IRWXU = 0o700;
export const S_IRUSR = 0o400;
export const S_IWUSR = 0o200;
export const S_IXUSR = 0o100;
export const S_IRWXG = 0o070;
export const S_IRGRP = 0o040;
export const S_IWGRP = 0o020;
export const S_IXGRP = 0o010;
export const S_IRWXO = 0o007;
export const S_IROTH = 0o004;
export const S_IWOTH = 0o002;
export const S_IXOTH = 0o001;
export const S_IXUGO = 0o111;
export const S_IRWXUGO = 0o777;
/** Permission bits and the set-id/sticky bits: what chmod may change. */
export const S_IALLUGO = 0o7777;

export const DT_UNKNOWN = 0;
export const DT_FIFO = 1;
export const DT_CHR = 2;
export const DT_DIR = 4;
export const DT_BLK = 6;
export const DT_REG = 8;
export const DT_LNK = 10;
export const DT_SOCK = 12;
export const DT_WHT = 14;

export const STATX_TYPE = 0x0001;
export const STATX_MODE = 0x0002;
export const STATX_NLINK = 0x0004;
export const STATX_UID = 0x0008;
export const STATX_GID = 0x0010;
export const STATX_ATIME = 0x0020;
export const STATX_MTIME = 0x0040;
export const STATX_CTIME = 0x0080;
export const STATX_INO = 0x0100;
export const STATX_SIZE = 0x0200;
export const STATX_BLOCKS = 0x0400;
export const STATX_BASIC_STATS = 0x07ff;
export const STATX_BTIME = 0x0800;
export const STATX_MNT_ID = 0x1000;
export const STATX__RESERVED = 0x80000000;

export const STATX_ATTR_COMPRESSED = 0x00000004;
export const STATX_ATTR_IMMUTABLE = 0x00000010;
export const STATX_ATTR_APPEND = 0x00000020;
export const STATX_ATTR_NODUMP = 0x00000040;
export const STATX_ATTR_ENCRYPTED = 0x00000800;
export const STATX_ATTR_AUTOMOUNT = 0x00001000;
export const STATX_ATTR_MOUNT_ROOT = 0x00002000;

export const UTIME_NOW = (1 << 30) - 1;
export const UTIME_OMIT = (1 << 30) - 2;

/** The dirent type (DT_*) for a mode's file type. */
export function modeToDtype(mode: number): number {
  return (mode & S_IFMT) >>> 12;
}
