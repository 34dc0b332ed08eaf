// WASI preview1's ABI (wasi_snapshot_preview1.witx, typenames.witx): enum values, flag bits
// and the byte layouts of the records a program passes through its linear memory
// (little-endian, wasm32). Values only; the functions live in wasi.ts.

// ---- errno (typenames.witx $errno; the value is the position in the enum) ----------------
export const WASI_ERRNO_NAMES = [
  'success', '2big', 'acces', 'addrinuse', 'addrnotavail', 'afnosupport', 'again', 'already', 'badf',
  'badmsg', 'busy', 'canceled', 'child', 'connaborted', 'connrefused', 'connreset', 'deadlk',
  'destaddrreq', 'dom', 'dquot', 'exist', 'fault', 'fbig', 'hostunreach', 'idrm', 'ilseq',
  'inprogress', 'intr', 'inval', 'io', 'isconn', 'isdir', 'loop', 'mfile', 'mlink', 'msgsize',
  'multihop', 'nametoolong', 'netdown', 'netreset', 'netunreach', 'nfile', 'nobufs', 'nodev', 'noent',
  'noexec', 'nolck', 'nolink', 'nomem', 'nomsg', 'noprotoopt', 'nospc', 'nosys', 'notconn', 'notdir',
  'notempty', 'notrecoverable', 'notsock', 'notsup', 'notty', 'nxio', 'overflow', 'ownerdead', 'perm',
  'pipe', 'proto', 'protonosupport', 'prototype', 'range', 'rofs', 'spipe', 'srch', 'stale',
  'timedout', 'txtbsy', 'xdev', 'notcapable',
] as const;

export const ERRNO_SUCCESS = 0;
export const ERRNO_2BIG = 1;
export const ERRNO_ACCES = 2;
export const ERRNO_AGAIN = 6;
export const ERRNO_BADF = 8;
export const ERRNO_EXIST = 20;
export const ERRNO_FAULT = 21;
export const ERRNO_ILSEQ = 25;
export const ERRNO_INVAL = 28;
export const ERRNO_IO = 29;
export const ERRNO_ISDIR = 31;
export const ERRNO_NAMETOOLONG = 37;
export const ERRNO_NOBUFS = 42;
export const ERRNO_NOENT = 44;
export const ERRNO_NOSYS = 52;
export const ERRNO_NOTDIR = 54;
export const ERRNO_NOTSOCK = 57;
export const ERRNO_NOTSUP = 58;
export const ERRNO_OVERFLOW = 61;
export const ERRNO_PERM = 63;
export const ERRNO_SPIPE = 70;
export const ERRNO_NOTCAPABLE = 76;

// ---- rights (typenames.witx $rights; bit n is the n-th flag) ----------------------------
export const RIGHTS_FD_DATASYNC = 1 << 0;
export const RIGHTS_FD_READ = 1 << 1;
export const RIGHTS_FD_SEEK = 1 << 2;
export const RIGHTS_FD_FDSTAT_SET_FLAGS = 1 << 3;
export const RIGHTS_FD_SYNC = 1 << 4;
export const RIGHTS_FD_TELL = 1 << 5;
export const RIGHTS_FD_WRITE = 1 << 6;
export const RIGHTS_FD_ADVISE = 1 << 7;
export const RIGHTS_FD_ALLOCATE = 1 << 8;
export const RIGHTS_PATH_CREATE_DIRECTORY = 1 << 9;
export const RIGHTS_PATH_CREATE_FILE = 1 << 10;
export const RIGHTS_PATH_LINK_SOURCE = 1 << 11;
export const RIGHTS_PATH_LINK_TARGET = 1 << 12;
export const RIGHTS_PATH_OPEN = 1 << 13;
export const RIGHTS_FD_READDIR = 1 << 14;
export const RIGHTS_PATH_READLINK = 1 << 15;
export const RIGHTS_PATH_RENAME_SOURCE = 1 << 16;
export const RIGHTS_PATH_RENAME_TARGET = 1 << 17;
export const RIGHTS_PATH_FILESTAT_GET = 1 << 18;
export const RIGHTS_PATH_FILESTAT_SET_SIZE = 1 << 19;
export const RIGHTS_PATH_FILESTAT_SET_TIMES = 1 << 20;
export const RIGHTS_FD_FILESTAT_GET = 1 << 21;
export const RIGHTS_FD_FILESTAT_SET_SIZE = 1 << 22;
export const RIGHTS_FD_FILESTAT_SET_TIMES = 1 << 23;
export const RIGHTS_PATH_SYMLINK = 1 << 24;
export const RIGHTS_PATH_REMOVE_DIRECTORY = 1 << 25;
export const RIGHTS_PATH_UNLINK_FILE = 1 << 26;
export const RIGHTS_POLL_FD_READWRITE = 1 << 27;
export const RIGHTS_SOCK_SHUTDOWN = 1 << 28;
export const RIGHTS_SOCK_ACCEPT = 1 << 29;
/** Every right preview1 defines: they all fit in 30 bits, so rights are JS numbers here. */
export const RIGHTS_ALL = (1 << 30) - 1;

/** What a regular file descriptor can do. */
export const RIGHTS_REGULAR_FILE =
  RIGHTS_FD_DATASYNC | RIGHTS_FD_READ | RIGHTS_FD_SEEK | RIGHTS_FD_FDSTAT_SET_FLAGS | RIGHTS_FD_SYNC |
  RIGHTS_FD_TELL | RIGHTS_FD_WRITE | RIGHTS_FD_ADVISE | RIGHTS_FD_ALLOCATE | RIGHTS_FD_FILESTAT_GET |
  RIGHTS_FD_FILESTAT_SET_SIZE | RIGHTS_FD_FILESTAT_SET_TIMES | RIGHTS_POLL_FD_READWRITE;
/** What a directory descriptor can do (no reading, writing or seeking of bytes). */
export const RIGHTS_DIRECTORY =
  RIGHTS_FD_FDSTAT_SET_FLAGS | RIGHTS_FD_SYNC | RIGHTS_FD_ADVISE | RIGHTS_PATH_CREATE_DIRECTORY |
  RIGHTS_PATH_CREATE_FILE | RIGHTS_PATH_LINK_SOURCE | RIGHTS_PATH_LINK_TARGET | RIGHTS_PATH_OPEN |
  RIGHTS_FD_READDIR | RIGHTS_PATH_READLINK | RIGHTS_PATH_RENAME_SOURCE | RIGHTS_PATH_RENAME_TARGET |
  RIGHTS_PATH_FILESTAT_GET | RIGHTS_PATH_FILESTAT_SET_SIZE | RIGHTS_PATH_FILESTAT_SET_TIMES |
  RIGHTS_FD_FILESTAT_GET | RIGHTS_FD_FILESTAT_SET_TIMES | RIGHTS_PATH_SYMLINK | RIGHTS_PATH_REMOVE_DIRECTORY |
  RIGHTS_PATH_UNLINK_FILE | RIGHTS_POLL_FD_READWRITE;
/** What a directory passes on to what is opened through it. */
export const RIGHTS_DIRECTORY_INHERITING = RIGHTS_DIRECTORY | RIGHTS_REGULAR_FILE;
/** Terminals, pipes and other streams: no seeking (wasi-libc's isatty() relies on that). */
export const RIGHTS_STREAM =
  RIGHTS_FD_READ | RIGHTS_FD_WRITE | RIGHTS_FD_FDSTAT_SET_FLAGS | RIGHTS_FD_FILESTAT_GET |
  RIGHTS_FD_FILESTAT_SET_TIMES | RIGHTS_POLL_FD_READWRITE | RIGHTS_FD_SYNC | RIGHTS_FD_DATASYNC;
/** Seekable character devices (/dev/null, /dev/zero, /dev/urandom). */
export const RIGHTS_CHAR_DEVICE = RIGHTS_STREAM | RIGHTS_FD_SEEK | RIGHTS_FD_TELL | RIGHTS_FD_ADVISE;
/** Connected and listening sockets. */
export const RIGHTS_SOCKET = RIGHTS_STREAM | RIGHTS_SOCK_SHUTDOWN | RIGHTS_SOCK_ACCEPT;
/** Rights that need the file open for writing. */
export const RIGHTS_NEED_WRITE = RIGHTS_FD_WRITE | RIGHTS_FD_DATASYNC | RIGHTS_FD_ALLOCATE | RIGHTS_FD_FILESTAT_SET_SIZE;
/** Rights that need the file open for reading. */
export const RIGHTS_NEED_READ = RIGHTS_FD_READ | RIGHTS_FD_READDIR;

// ---- filetype ----------------------------------------------------------------------------
export const FILETYPE_UNKNOWN = 0;
export const FILETYPE_BLOCK_DEVICE = 1;
export const FILETYPE_CHARACTER_DEVICE = 2;
export const FILETYPE_DIRECTORY = 3;
export const FILETYPE_REGULAR_FILE = 4;
export const FILETYPE_SOCKET_DGRAM = 5;
export const FILETYPE_SOCKET_STREAM = 6;
export const FILETYPE_SYMBOLIC_LINK = 7;

// ---- flags -------------------------------------------------------------------------------
export const FDFLAGS_APPEND = 1 << 0;
export const FDFLAGS_DSYNC = 1 << 1;
export const FDFLAGS_NONBLOCK = 1 << 2;
export const FDFLAGS_RSYNC = 1 << 3;
export const FDFLAGS_SYNC = 1 << 4;
export const FDFLAGS_ALL = (1 << 5) - 1;

export const OFLAGS_CREAT = 1 << 0;
export const OFLAGS_DIRECTORY = 1 << 1;
export const OFLAGS_EXCL = 1 << 2;
export const OFLAGS_TRUNC = 1 << 3;

export const LOOKUPFLAGS_SYMLINK_FOLLOW = 1 << 0;

export const FSTFLAGS_ATIM = 1 << 0;
export const FSTFLAGS_ATIM_NOW = 1 << 1;
export const FSTFLAGS_MTIM = 1 << 2;
export const FSTFLAGS_MTIM_NOW = 1 << 3;

export const WHENCE_SET = 0;
export const WHENCE_CUR = 1;
export const WHENCE_END = 2;

export const CLOCKID_REALTIME = 0;
export const CLOCKID_MONOTONIC = 1;
export const CLOCKID_PROCESS_CPUTIME_ID = 2;
export const CLOCKID_THREAD_CPUTIME_ID = 3;

export const EVENTTYPE_CLOCK = 0;
export const EVENTTYPE_FD_READ = 1;
export const EVENTTYPE_FD_WRITE = 2;
export const EVENTRWFLAGS_FD_READWRITE_HANGUP = 1 << 0;
export const SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME = 1 << 0;

export const PREOPENTYPE_DIR = 0;

export const RIFLAGS_RECV_PEEK = 1 << 0;
export const RIFLAGS_RECV_WAITALL = 1 << 1;
export const ROFLAGS_RECV_DATA_TRUNCATED = 1 << 0;
export const SDFLAGS_RD = 1 << 0;
export const SDFLAGS_WR = 1 << 1;

export const ADVICE_NORMAL = 0;
export const ADVICE_NOREUSE = 5;

// ---- record layouts (byte offsets and sizes) ---------------------------------------------
/** iovec / ciovec: buf u32 @0, buf_len u32 @4. */
export const IOVEC_SIZE = 8;
/** fdstat: fs_filetype u8 @0, fs_flags u16 @2, fs_rights_base u64 @8, fs_rights_inheriting u64 @16. */
export const FDSTAT_SIZE = 24;
/** filestat: dev @0, ino @8, filetype u8 @16, nlink @24, size @32, atim @40, mtim @48, ctim @56. */
export const FILESTAT_SIZE = 64;
/** dirent header: d_next u64 @0, d_ino u64 @8, d_namlen u32 @16, d_type u8 @20; the name follows. */
export const DIRENT_SIZE = 24;
/** prestat: tag u8 @0, pr_name_len u32 @4. */
export const PRESTAT_SIZE = 8;
/**
 * subscription: userdata u64 @0, tag u8 @8, then @16 either subscription_clock (id u32 @16,
 * timeout u64 @24, precision u64 @32, flags u16 @40) or subscription_fd_readwrite (fd u32 @16).
 */
export const SUBSCRIPTION_SIZE = 48;
/** event: userdata u64 @0, error u16 @8, type u8 @10, fd_readwrite.nbytes u64 @16, .flags u16 @24. */
export const EVENT_SIZE = 32;
