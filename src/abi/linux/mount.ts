// Linux's mount(2)/umount2(2) flags and statfs(2) filesystem magic numbers. Values only.

export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_SYNCHRONOUS = 16;
export const MS_REMOUNT = 32;
export const MS_MANDLOCK = 64;
export const MS_DIRSYNC = 128;
export const MS_NOSYMFOLLOW = 256;
export const MS_NOATIME = 1024;
export const MS_NODIRATIME = 2048;
export const MS_BIND = 4096;
export const MS_MOVE = 8192;
export const MS_REC = 16384;
export const MS_SILENT = 32768;
export const MS_POSIXACL = 1 << 16;
export const MS_UNBINDABLE = 1 << 17;
export const MS_PRIVATE = 1 << 18;
export const MS_SLAVE = 1 << 19;
export const MS_SHARED = 1 << 20;
export const MS_RELATIME = 1 << 21;
export const MS_KERNMOUNT = 1 << 22;
export const MS_I_VERSION = 1 << 23;
export const MS_STRICTATIME = 1 << 24;
export const MS_LAZYTIME = 1 << 25;
/** Flags that describe the mount rather than the superblock (per-mount, "MNT_*" inside Linux). */
export const MS_PER_MOUNT = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME | MS_NOSYMFOLLOW;

export const MNT_FORCE = 1;
export const MNT_DETACH = 2;
export const MNT_EXPIRE = 4;
export const UMOUNT_NOFOLLOW = 8;

// statfs f_flags (ST_*), as statfs(2) reports them.
export const ST_RDONLY = 0x0001;
export const ST_NOSUID = 0x0002;
export const ST_NODEV = 0x0004;
export const ST_NOEXEC = 0x0008;
export const ST_SYNCHRONOUS = 0x0010;
export const ST_MANDLOCK_FLAG = 0x0040;
export const ST_VALID = 0x0020;
export const ST_NOATIME = 0x0400;
export const ST_NODIRATIME = 0x0800;
export const ST_RELATIME = 0x1000;
export const ST_NOSYMFOLLOW = 0x2000;

export const TMPFS_MAGIC = 0x01021994;
export const PROC_SUPER_MAGIC = 0x9fa0;
export const EXT4_SUPER_MAGIC = 0xef53;
export const MSDOS_SUPER_MAGIC = 0x4d44;
export const PIPEFS_MAGIC = 0x50495045;
export const SOCKFS_MAGIC = 0x534f434b;
export const DEVPTS_SUPER_MAGIC = 0x1cd1;
