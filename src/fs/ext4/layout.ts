// ext2/3/4 and JBD2 on-disk structures: every byte offset, flag and magic number in one
// place, with checked little-endian (ext4) and big-endian (JBD2) accessors. Section names in
// comments refer to the kernel's "ext4 Data Structures and Algorithms" disk-layout document.
// Nothing here keeps state; parsers validate ranges before use and never read out of bounds.

import { errno } from '../../kernel/errno.js';
import { EUCLEAN } from '../../abi/linux/errno.js';

// ---- byte access ---------------------------------------------------------------------------

export function u8(b: Uint8Array, o: number): number {
  return b[o]!;
}
export function le16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}
export function le32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}
/** A 64-bit little-endian value as a number (exact up to 2^53). */
export function le64(b: Uint8Array, o: number): number {
  return le32(b, o) + le32(b, o + 4) * 0x100000000;
}
export function set16(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
}
export function set32(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
  b[o + 2] = v >>> 16;
  b[o + 3] = v >>> 24;
}
export function set64(b: Uint8Array, o: number, v: number): void {
  set32(b, o, v >>> 0);
  set32(b, o + 4, Math.floor(v / 0x100000000) >>> 0);
}
export function be16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}
export function be32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
export function setBe16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}
export function setBe32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/** hi * 2^32 + lo, for the split 48/64-bit fields (block numbers, sizes). */
export function join(lo: number, hi: number): number {
  return lo + hi * 0x100000000;
}
export function lo32(v: number): number {
  return v >>> 0;
}
export function hi32(v: number): number {
  return Math.floor(v / 0x100000000) >>> 0;
}

/** The EUCLEAN error every corrupt structure raises ("Structure needs cleaning"). */
export function corrupt(what: string): Error {
  return errno(EUCLEAN, `ext4: ${what}`);
}

// ---- superblock (§ The Super Block) ---------------------------------------------------------

export const SUPERBLOCK_OFFSET = 1024;
export const SUPERBLOCK_SIZE = 1024;
export const EXT4_SUPER_MAGIC = 0xef53;

export const SB = {
  INODES_COUNT: 0x0,
  BLOCKS_COUNT_LO: 0x4,
  R_BLOCKS_COUNT_LO: 0x8,
  FREE_BLOCKS_COUNT_LO: 0xc,
  FREE_INODES_COUNT: 0x10,
  FIRST_DATA_BLOCK: 0x14,
  LOG_BLOCK_SIZE: 0x18,
  LOG_CLUSTER_SIZE: 0x1c,
  BLOCKS_PER_GROUP: 0x20,
  CLUSTERS_PER_GROUP: 0x24,
  INODES_PER_GROUP: 0x28,
  MTIME: 0x2c,
  WTIME: 0x30,
  MNT_COUNT: 0x34,
  MAX_MNT_COUNT: 0x36,
  MAGIC: 0x38,
  STATE: 0x3a,
  ERRORS: 0x3c,
  MINOR_REV_LEVEL: 0x3e,
  LASTCHECK: 0x40,
  CHECKINTERVAL: 0x44,
  CREATOR_OS: 0x48,
  REV_LEVEL: 0x4c,
  DEF_RESUID: 0x50,
  DEF_RESGID: 0x52,
  FIRST_INO: 0x54,
  INODE_SIZE: 0x58,
  BLOCK_GROUP_NR: 0x5a,
  FEATURE_COMPAT: 0x5c,
  FEATURE_INCOMPAT: 0x60,
  FEATURE_RO_COMPAT: 0x64,
  UUID: 0x68,
  VOLUME_NAME: 0x78,
  LAST_MOUNTED: 0x88,
  ALGORITHM_USAGE_BITMAP: 0xc8,
  PREALLOC_BLOCKS: 0xcc,
  PREALLOC_DIR_BLOCKS: 0xcd,
  RESERVED_GDT_BLOCKS: 0xce,
  JOURNAL_UUID: 0xd0,
  JOURNAL_INUM: 0xe0,
  JOURNAL_DEV: 0xe4,
  LAST_ORPHAN: 0xe8,
  HASH_SEED: 0xec,
  DEF_HASH_VERSION: 0xfc,
  JNL_BACKUP_TYPE: 0xfd,
  DESC_SIZE: 0xfe,
  DEFAULT_MOUNT_OPTS: 0x100,
  FIRST_META_BG: 0x104,
  MKFS_TIME: 0x108,
  JNL_BLOCKS: 0x10c,
  BLOCKS_COUNT_HI: 0x150,
  R_BLOCKS_COUNT_HI: 0x154,
  FREE_BLOCKS_COUNT_HI: 0x158,
  MIN_EXTRA_ISIZE: 0x15c,
  WANT_EXTRA_ISIZE: 0x15e,
  FLAGS: 0x160,
  RAID_STRIDE: 0x164,
  MMP_INTERVAL: 0x166,
  MMP_BLOCK: 0x168,
  RAID_STRIPE_WIDTH: 0x170,
  LOG_GROUPS_PER_FLEX: 0x174,
  CHECKSUM_TYPE: 0x175,
  KBYTES_WRITTEN: 0x178,
  FIRST_ERROR_TIME: 0x198,
  LAST_ERROR_TIME: 0x1cc,
  OVERHEAD_CLUSTERS: 0x248,
  BACKUP_BGS: 0x24c,
  ENCRYPT_ALGOS: 0x254,
  LPF_INO: 0x268,
  CHECKSUM_SEED: 0x270,
  WTIME_HI: 0x274,
  MTIME_HI: 0x275,
  MKFS_TIME_HI: 0x276,
  LASTCHECK_HI: 0x277,
  ENCODING: 0x27c,
  ORPHAN_FILE_INUM: 0x280,
  CHECKSUM: 0x3fc,
} as const;

/** s_state bits. */
export const EXT2_VALID_FS = 0x1;
export const EXT2_ERROR_FS = 0x2;
export const EXT3_ORPHAN_FS = 0x4;

/** s_flags bits. */
export const EXT2_FLAGS_SIGNED_HASH = 0x1;
export const EXT2_FLAGS_UNSIGNED_HASH = 0x2;

export const EXT4_CRC32C_CHKSUM = 1;
export const EXT2_DYNAMIC_REV = 1;
export const EXT2_GOOD_OLD_FIRST_INO = 11;
export const EXT2_GOOD_OLD_INODE_SIZE = 128;

// Feature flags (§ The Super Block, s_feature_*).
export const COMPAT_DIR_PREALLOC = 0x1;
export const COMPAT_IMAGIC_INODES = 0x2;
export const COMPAT_HAS_JOURNAL = 0x4;
export const COMPAT_EXT_ATTR = 0x8;
export const COMPAT_RESIZE_INODE = 0x10;
export const COMPAT_DIR_INDEX = 0x20;
export const COMPAT_LAZY_BG = 0x40;
export const COMPAT_EXCLUDE_BITMAP = 0x100;
export const COMPAT_SPARSE_SUPER2 = 0x200;
export const COMPAT_FAST_COMMIT = 0x400;
export const COMPAT_STABLE_INODES = 0x800;
export const COMPAT_ORPHAN_FILE = 0x1000;

export const INCOMPAT_COMPRESSION = 0x1;
export const INCOMPAT_FILETYPE = 0x2;
export const INCOMPAT_RECOVER = 0x4;
export const INCOMPAT_JOURNAL_DEV = 0x8;
export const INCOMPAT_META_BG = 0x10;
export const INCOMPAT_EXTENTS = 0x40;
export const INCOMPAT_64BIT = 0x80;
export const INCOMPAT_MMP = 0x100;
export const INCOMPAT_FLEX_BG = 0x200;
export const INCOMPAT_EA_INODE = 0x400;
export const INCOMPAT_DIRDATA = 0x1000;
export const INCOMPAT_CSUM_SEED = 0x2000;
export const INCOMPAT_LARGEDIR = 0x4000;
export const INCOMPAT_INLINE_DATA = 0x8000;
export const INCOMPAT_ENCRYPT = 0x10000;
export const INCOMPAT_CASEFOLD = 0x20000;

export const RO_COMPAT_SPARSE_SUPER = 0x1;
export const RO_COMPAT_LARGE_FILE = 0x2;
export const RO_COMPAT_BTREE_DIR = 0x4;
export const RO_COMPAT_HUGE_FILE = 0x8;
export const RO_COMPAT_GDT_CSUM = 0x10;
export const RO_COMPAT_DIR_NLINK = 0x20;
export const RO_COMPAT_EXTRA_ISIZE = 0x40;
export const RO_COMPAT_HAS_SNAPSHOT = 0x80;
export const RO_COMPAT_QUOTA = 0x100;
export const RO_COMPAT_BIGALLOC = 0x200;
export const RO_COMPAT_METADATA_CSUM = 0x400;
export const RO_COMPAT_REPLICA = 0x800;
export const RO_COMPAT_READONLY = 0x1000;
export const RO_COMPAT_PROJECT = 0x2000;
export const RO_COMPAT_SHARED_BLOCKS = 0x4000;
export const RO_COMPAT_VERITY = 0x8000;
export const RO_COMPAT_ORPHAN_PRESENT = 0x10000;

/** Feature names as e2fsprogs prints them, for messages and mkfs's -O parsing. */
export const COMPAT_NAMES: Record<number, string> = {
  [COMPAT_DIR_PREALLOC]: 'dir_prealloc', [COMPAT_IMAGIC_INODES]: 'imagic_inodes', [COMPAT_HAS_JOURNAL]: 'has_journal',
  [COMPAT_EXT_ATTR]: 'ext_attr', [COMPAT_RESIZE_INODE]: 'resize_inode', [COMPAT_DIR_INDEX]: 'dir_index',
  [COMPAT_LAZY_BG]: 'lazy_bg', [0x80]: 'snapshot_bitmap', [COMPAT_EXCLUDE_BITMAP]: 'exclude_bitmap',
  [COMPAT_SPARSE_SUPER2]: 'sparse_super2', [COMPAT_FAST_COMMIT]: 'fast_commit', [COMPAT_STABLE_INODES]: 'stable_inodes',
  [COMPAT_ORPHAN_FILE]: 'orphan_file',
};
export const INCOMPAT_NAMES: Record<number, string> = {
  [INCOMPAT_COMPRESSION]: 'compression', [INCOMPAT_FILETYPE]: 'filetype', [INCOMPAT_RECOVER]: 'needs_recovery',
  [INCOMPAT_JOURNAL_DEV]: 'journal_dev', [INCOMPAT_META_BG]: 'meta_bg', [INCOMPAT_EXTENTS]: 'extent',
  [INCOMPAT_64BIT]: '64bit', [INCOMPAT_MMP]: 'mmp', [INCOMPAT_FLEX_BG]: 'flex_bg', [INCOMPAT_EA_INODE]: 'ea_inode',
  [INCOMPAT_DIRDATA]: 'dirdata', [INCOMPAT_CSUM_SEED]: 'metadata_csum_seed', [INCOMPAT_LARGEDIR]: 'large_dir',
  [INCOMPAT_INLINE_DATA]: 'inline_data', [INCOMPAT_ENCRYPT]: 'encrypt', [INCOMPAT_CASEFOLD]: 'casefold',
};
export const RO_COMPAT_NAMES: Record<number, string> = {
  [RO_COMPAT_SPARSE_SUPER]: 'sparse_super', [RO_COMPAT_LARGE_FILE]: 'large_file', [RO_COMPAT_BTREE_DIR]: 'btree_dir',
  [RO_COMPAT_HUGE_FILE]: 'huge_file', [RO_COMPAT_GDT_CSUM]: 'uninit_bg', [RO_COMPAT_DIR_NLINK]: 'dir_nlink',
  [RO_COMPAT_EXTRA_ISIZE]: 'extra_isize', [RO_COMPAT_HAS_SNAPSHOT]: 'snapshot', [RO_COMPAT_QUOTA]: 'quota',
  [RO_COMPAT_BIGALLOC]: 'bigalloc', [RO_COMPAT_METADATA_CSUM]: 'metadata_csum', [RO_COMPAT_REPLICA]: 'replica',
  [RO_COMPAT_READONLY]: 'read-only', [RO_COMPAT_PROJECT]: 'project', [RO_COMPAT_SHARED_BLOCKS]: 'shared_blocks',
  [RO_COMPAT_VERITY]: 'verity', [RO_COMPAT_ORPHAN_PRESENT]: 'orphan_present',
};

/** The feature names set in `mask`, bit by bit (unknown bits as FEATURE_X<n>). */
export function featureNames(mask: number, names: Record<number, string>, prefix: string): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < 32; bit++) {
    const f = (1 << bit) >>> 0;
    if (mask & f) out.push(names[f] ?? `FEATURE_${prefix}${bit}`);
  }
  return out;
}

/** Incompat features tkl reads and writes; anything else refuses the mount. */
export const INCOMPAT_SUPPORTED =
  INCOMPAT_FILETYPE | INCOMPAT_RECOVER | INCOMPAT_META_BG | INCOMPAT_EXTENTS | INCOMPAT_64BIT | INCOMPAT_FLEX_BG |
  INCOMPAT_CSUM_SEED | INCOMPAT_LARGEDIR | INCOMPAT_INLINE_DATA;
/** ro_compat features tkl keeps consistent when writing; anything else forces read-only. */
export const RO_COMPAT_SUPPORTED =
  RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE | RO_COMPAT_BTREE_DIR | RO_COMPAT_HUGE_FILE | RO_COMPAT_GDT_CSUM |
  RO_COMPAT_DIR_NLINK | RO_COMPAT_EXTRA_ISIZE | RO_COMPAT_METADATA_CSUM;

// ---- group descriptors (§ Block Group Descriptors) -------------------------------------------

export const GD = {
  BLOCK_BITMAP_LO: 0x0,
  INODE_BITMAP_LO: 0x4,
  INODE_TABLE_LO: 0x8,
  FREE_BLOCKS_COUNT_LO: 0xc,
  FREE_INODES_COUNT_LO: 0xe,
  USED_DIRS_COUNT_LO: 0x10,
  FLAGS: 0x12,
  EXCLUDE_BITMAP_LO: 0x14,
  BLOCK_BITMAP_CSUM_LO: 0x18,
  INODE_BITMAP_CSUM_LO: 0x1a,
  ITABLE_UNUSED_LO: 0x1c,
  CHECKSUM: 0x1e,
  BLOCK_BITMAP_HI: 0x20,
  INODE_BITMAP_HI: 0x24,
  INODE_TABLE_HI: 0x28,
  FREE_BLOCKS_COUNT_HI: 0x2c,
  FREE_INODES_COUNT_HI: 0x2e,
  USED_DIRS_COUNT_HI: 0x30,
  ITABLE_UNUSED_HI: 0x32,
  EXCLUDE_BITMAP_HI: 0x34,
  BLOCK_BITMAP_CSUM_HI: 0x38,
  INODE_BITMAP_CSUM_HI: 0x3a,
} as const;

export const GOOD_OLD_DESC_SIZE = 32;
export const DESC_SIZE_64BIT = 64;
export const BG_INODE_UNINIT = 0x1;
export const BG_BLOCK_UNINIT = 0x2;
export const BG_INODE_ZEROED = 0x4;

/** One group descriptor, parsed (Linux's struct ext4_group_desc). */
export interface GroupDesc {
  blockBitmap: number;
  inodeBitmap: number;
  inodeTable: number;
  freeBlocks: number;
  freeInodes: number;
  usedDirs: number;
  flags: number;
  itableUnused: number;
  blockBitmapCsum: number;
  inodeBitmapCsum: number;
  checksum: number;
}

export function parseGroupDesc(b: Uint8Array, o: number, descSize: number): GroupDesc {
  const wide = descSize >= DESC_SIZE_64BIT;
  const hi = (off: number, size: 2 | 4): number => (wide ? (size === 4 ? le32(b, o + off) : le16(b, o + off)) : 0);
  return {
    blockBitmap: join(le32(b, o + GD.BLOCK_BITMAP_LO), hi(GD.BLOCK_BITMAP_HI, 4)),
    inodeBitmap: join(le32(b, o + GD.INODE_BITMAP_LO), hi(GD.INODE_BITMAP_HI, 4)),
    inodeTable: join(le32(b, o + GD.INODE_TABLE_LO), hi(GD.INODE_TABLE_HI, 4)),
    freeBlocks: le16(b, o + GD.FREE_BLOCKS_COUNT_LO) + hi(GD.FREE_BLOCKS_COUNT_HI, 2) * 0x10000,
    freeInodes: le16(b, o + GD.FREE_INODES_COUNT_LO) + hi(GD.FREE_INODES_COUNT_HI, 2) * 0x10000,
    usedDirs: le16(b, o + GD.USED_DIRS_COUNT_LO) + hi(GD.USED_DIRS_COUNT_HI, 2) * 0x10000,
    flags: le16(b, o + GD.FLAGS),
    itableUnused: le16(b, o + GD.ITABLE_UNUSED_LO) + hi(GD.ITABLE_UNUSED_HI, 2) * 0x10000,
    blockBitmapCsum: (le16(b, o + GD.BLOCK_BITMAP_CSUM_LO) | (hi(GD.BLOCK_BITMAP_CSUM_HI, 2) << 16)) >>> 0,
    inodeBitmapCsum: (le16(b, o + GD.INODE_BITMAP_CSUM_LO) | (hi(GD.INODE_BITMAP_CSUM_HI, 2) << 16)) >>> 0,
    checksum: le16(b, o + GD.CHECKSUM),
  };
}

/** Writes `g` at b[o…] (the checksum field as held in g). */
export function emitGroupDesc(g: GroupDesc, b: Uint8Array, o: number, descSize: number): void {
  set32(b, o + GD.BLOCK_BITMAP_LO, lo32(g.blockBitmap));
  set32(b, o + GD.INODE_BITMAP_LO, lo32(g.inodeBitmap));
  set32(b, o + GD.INODE_TABLE_LO, lo32(g.inodeTable));
  set16(b, o + GD.FREE_BLOCKS_COUNT_LO, g.freeBlocks & 0xffff);
  set16(b, o + GD.FREE_INODES_COUNT_LO, g.freeInodes & 0xffff);
  set16(b, o + GD.USED_DIRS_COUNT_LO, g.usedDirs & 0xffff);
  set16(b, o + GD.FLAGS, g.flags);
  set16(b, o + GD.BLOCK_BITMAP_CSUM_LO, g.blockBitmapCsum & 0xffff);
  set16(b, o + GD.INODE_BITMAP_CSUM_LO, g.inodeBitmapCsum & 0xffff);
  set16(b, o + GD.ITABLE_UNUSED_LO, g.itableUnused & 0xffff);
  set16(b, o + GD.CHECKSUM, g.checksum);
  if (descSize >= DESC_SIZE_64BIT) {
    set32(b, o + GD.BLOCK_BITMAP_HI, hi32(g.blockBitmap));
    set32(b, o + GD.INODE_BITMAP_HI, hi32(g.inodeBitmap));
    set32(b, o + GD.INODE_TABLE_HI, hi32(g.inodeTable));
    set16(b, o + GD.FREE_BLOCKS_COUNT_HI, Math.floor(g.freeBlocks / 0x10000));
    set16(b, o + GD.FREE_INODES_COUNT_HI, Math.floor(g.freeInodes / 0x10000));
    set16(b, o + GD.USED_DIRS_COUNT_HI, Math.floor(g.usedDirs / 0x10000));
    set16(b, o + GD.ITABLE_UNUSED_HI, Math.floor(g.itableUnused / 0x10000));
    set16(b, o + GD.BLOCK_BITMAP_CSUM_HI, g.blockBitmapCsum >>> 16);
    set16(b, o + GD.INODE_BITMAP_CSUM_HI, g.inodeBitmapCsum >>> 16);
  }
}

// ---- inodes (§ Index Nodes) --------------------------------------------------------------------

export const INO = {
  MODE: 0x0,
  UID: 0x2,
  SIZE_LO: 0x4,
  ATIME: 0x8,
  CTIME: 0xc,
  MTIME: 0x10,
  DTIME: 0x14,
  GID: 0x18,
  LINKS_COUNT: 0x1a,
  BLOCKS_LO: 0x1c,
  FLAGS: 0x20,
  VERSION: 0x24,
  BLOCK: 0x28,
  GENERATION: 0x64,
  FILE_ACL_LO: 0x68,
  SIZE_HIGH: 0x6c,
  BLOCKS_HIGH: 0x74,
  FILE_ACL_HIGH: 0x76,
  UID_HIGH: 0x78,
  GID_HIGH: 0x7a,
  CHECKSUM_LO: 0x7c,
  EXTRA_ISIZE: 0x80,
  CHECKSUM_HI: 0x82,
  CTIME_EXTRA: 0x84,
  MTIME_EXTRA: 0x88,
  ATIME_EXTRA: 0x8c,
  CRTIME: 0x90,
  CRTIME_EXTRA: 0x94,
  VERSION_HI: 0x98,
  PROJID: 0x9c,
} as const;

/** Size of i_block: 15 32-bit words. */
export const I_BLOCK_SIZE = 60;
export const N_DIRECT = 12;
export const IND_BLOCK = 12;
export const DIND_BLOCK = 13;
export const TIND_BLOCK = 14;

// i_flags (§ Index Nodes, i_flags).
export const EXT4_SECRM_FL = 0x1;
export const EXT4_SYNC_FL = 0x8;
export const EXT4_IMMUTABLE_FL = 0x10;
export const EXT4_APPEND_FL = 0x20;
export const EXT4_NODUMP_FL = 0x40;
export const EXT4_NOATIME_FL = 0x80;
export const EXT4_INDEX_FL = 0x1000;
export const EXT4_JOURNAL_DATA_FL = 0x4000;
export const EXT4_DIRSYNC_FL = 0x10000;
export const EXT4_TOPDIR_FL = 0x20000;
export const EXT4_HUGE_FILE_FL = 0x40000;
export const EXT4_EXTENTS_FL = 0x80000;
export const EXT4_VERITY_FL = 0x100000;
export const EXT4_EA_INODE_FL = 0x200000;
export const EXT4_INLINE_DATA_FL = 0x10000000;
export const EXT4_PROJINHERIT_FL = 0x20000000;
export const EXT4_CASEFOLD_FL = 0x40000000;
export const EXT4_ENCRYPT_FL = 0x800;

/** Reserved inode numbers. */
export const EXT2_BAD_INO = 1;
export const EXT2_ROOT_INO = 2;
export const EXT4_USR_QUOTA_INO = 3;
export const EXT4_GRP_QUOTA_INO = 4;
export const EXT2_BOOT_LOADER_INO = 5;
export const EXT2_UNDEL_DIR_INO = 6;
export const EXT2_RESIZE_INO = 7;
export const EXT2_JOURNAL_INO = 8;

/** Whether a field ending at byte `end` of the inode lies within 128 + i_extra_isize. */
export function fitsInInode(extraIsize: number, end: number): boolean {
  return EXT2_GOOD_OLD_INODE_SIZE + extraIsize >= end;
}

/**
 * Decodes an inode timestamp: the 32-bit seconds are signed, and the low two bits of the
 * extra field extend them past 2038 (§ Inode Timestamps).
 */
export function decodeTime(sec32: number, extra: number | null): { sec: number; nsec: number } {
  let sec = sec32 | 0;
  let nsec = 0;
  if (extra !== null) {
    sec += (extra & 3) * 0x100000000;
    nsec = extra >>> 2;
    if (nsec > 999_999_999) nsec = 999_999_999;
  }
  return { sec, nsec };
}

/** The low 32 bits and the extra field for a timestamp. */
export function encodeTimeExtra(sec: number, nsec: number): number {
  const epoch = Math.floor((sec - ((sec | 0))) / 0x100000000) & 3;
  return ((nsec << 2) | epoch) >>> 0;
}

// ---- extents (§ Extent Tree) -------------------------------------------------------------------

export const EXT4_EXT_MAGIC = 0xf30a;
export const EXT_HEADER_SIZE = 12;
export const EXT_ENTRY_SIZE = 12;
export const EH = { MAGIC: 0x0, ENTRIES: 0x2, MAX: 0x4, DEPTH: 0x6, GENERATION: 0x8 } as const;
export const EI = { BLOCK: 0x0, LEAF_LO: 0x4, LEAF_HI: 0x8 } as const;
export const EE = { BLOCK: 0x0, LEN: 0x4, START_HI: 0x6, START_LO: 0x8 } as const;
/** Longest initialized extent; an ee_len above it marks an unwritten (preallocated) extent. */
export const EXT_INIT_MAX_LEN = 32768;
export const EXT_UNWRITTEN_MAX_LEN = 32767;
export const EXT_MAX_DEPTH = 5;

// ---- directories (§ Directory Entries, § Hash Tree Directories) ------------------------------

export const DIRENT = { INODE: 0x0, REC_LEN: 0x4, NAME_LEN: 0x6, FILE_TYPE: 0x7, NAME: 0x8 } as const;
export const DIRENT_HEADER = 8;
export const EXT4_NAME_LEN = 255;
/** The 12-byte fake entry at the end of a leaf block that holds its checksum. */
export const DIRENT_TAIL_SIZE = 12;
export const DIRENT_TAIL_FT = 0xde;

// ext4's file_type values (not the same numbering as DT_*).
export const FT_UNKNOWN = 0;
export const FT_REG_FILE = 1;
export const FT_DIR = 2;
export const FT_CHRDEV = 3;
export const FT_BLKDEV = 4;
export const FT_FIFO = 5;
export const FT_SOCK = 6;
export const FT_SYMLINK = 7;

/** Space a directory entry with a name of `nameLen` bytes needs (EXT4_DIR_REC_LEN). */
export function direntSize(nameLen: number): number {
  return (nameLen + DIRENT_HEADER + 3) & ~3;
}

/** rec_len as stored, for blocks up to 64 KiB (ext4_rec_len_from_disk). */
export function recLenFromDisk(v: number, blockSize: number): number {
  if (blockSize < 65536) return v;
  if (v === 65535 || v === 0) return blockSize;
  return (v & 65532) | ((v & 3) << 16);
}
export function recLenToDisk(len: number, blockSize: number): number {
  if (blockSize < 65536) return len;
  if (len === blockSize) return 65535;
  return (len & 65532) | ((len >>> 16) & 3);
}

/** dx_root_info, right after the "." and ".." entries of block 0. */
export const DX_ROOT_INFO = 0x18;
export const DXR = { RESERVED_ZERO: 0x0, HASH_VERSION: 0x4, INFO_LENGTH: 0x5, INDIRECT_LEVELS: 0x6, UNUSED_FLAGS: 0x7 } as const;
/** Offset of the count/limit header in the root and in interior index nodes. */
export const DX_ROOT_ENTRIES = 0x20;
export const DX_NODE_ENTRIES = 0x8;
export const DX_ENTRY_SIZE = 8;
export const DX_TAIL_SIZE = 8;

// ---- extended attributes (§ Extended Attributes) -------------------------------------------

export const XATTR_MAGIC = 0xea020000;
export const XH = { MAGIC: 0x0, REFCOUNT: 0x4, BLOCKS: 0x8, HASH: 0xc, CHECKSUM: 0x10 } as const;
export const XATTR_BLOCK_HEADER = 32;
export const XATTR_IBODY_HEADER = 4;
export const XE = { NAME_LEN: 0x0, NAME_INDEX: 0x1, VALUE_OFFS: 0x2, VALUE_INUM: 0x4, VALUE_SIZE: 0x8, HASH: 0xc, NAME: 0x10 } as const;
export const XATTR_ENTRY_HEADER = 16;
/** An entry's size with its name, padded to 4 bytes. */
export function xattrEntrySize(nameLen: number): number {
  return (XATTR_ENTRY_HEADER + nameLen + 3) & ~3;
}
export function xattrValueSize(size: number): number {
  return (size + 3) & ~3;
}

/** e_name_index → the prefix it abbreviates. */
export const XATTR_PREFIXES: Record<number, string> = {
  1: 'user.',
  2: 'system.posix_acl_access',
  3: 'system.posix_acl_default',
  4: 'trusted.',
  6: 'security.',
  7: 'system.',
  8: 'system.richacl',
};
export const XATTR_INDEX_USER = 1;
export const XATTR_INDEX_POSIX_ACL_ACCESS = 2;
export const XATTR_INDEX_POSIX_ACL_DEFAULT = 3;
export const XATTR_INDEX_TRUSTED = 4;
export const XATTR_INDEX_SECURITY = 6;
export const XATTR_INDEX_SYSTEM = 7;
export const XATTR_INDEX_RICHACL = 8;

/** The (index, suffix) an xattr name is stored as; the longest matching prefix wins. */
export function xattrSplitName(name: string): { index: number; suffix: string } | null {
  if (name === 'system.posix_acl_access') return { index: XATTR_INDEX_POSIX_ACL_ACCESS, suffix: '' };
  if (name === 'system.posix_acl_default') return { index: XATTR_INDEX_POSIX_ACL_DEFAULT, suffix: '' };
  if (name === 'system.richacl') return { index: XATTR_INDEX_RICHACL, suffix: '' };
  if (name.startsWith('user.')) return { index: XATTR_INDEX_USER, suffix: name.slice(5) };
  if (name.startsWith('trusted.')) return { index: XATTR_INDEX_TRUSTED, suffix: name.slice(8) };
  if (name.startsWith('security.')) return { index: XATTR_INDEX_SECURITY, suffix: name.slice(9) };
  if (name.startsWith('system.')) return { index: XATTR_INDEX_SYSTEM, suffix: name.slice(7) };
  return null;
}

/** The hash of one entry (ext4_xattr_hash_entry): name bytes then the value's 32-bit words. */
export function xattrEntryHash(name: Uint8Array, value: Uint8Array): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = ((h << 5) ^ (h >>> 27) ^ name[i]!) >>> 0;
  const words = (value.length + 3) >>> 2;
  for (let w = 0; w < words; w++) {
    const o = w * 4;
    const v = (value[o] ?? 0) | ((value[o + 1] ?? 0) << 8) | ((value[o + 2] ?? 0) << 16) | ((value[o + 3] ?? 0) << 24);
    h = ((h << 16) ^ (h >>> 16) ^ v) >>> 0;
  }
  return h;
}

/** The same hash with name bytes widened as signed chars (what older kernels computed). */
export function xattrEntryHashSigned(name: Uint8Array, value: Uint8Array): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name[i]! > 0x7f ? name[i]! - 256 : name[i]!;
    h = ((h << 5) ^ (h >>> 27) ^ c) >>> 0;
  }
  const words = (value.length + 3) >>> 2;
  for (let w = 0; w < words; w++) {
    const o = w * 4;
    const v = (value[o] ?? 0) | ((value[o + 1] ?? 0) << 8) | ((value[o + 2] ?? 0) << 16) | ((value[o + 3] ?? 0) << 24);
    h = ((h << 16) ^ (h >>> 16) ^ v) >>> 0;
  }
  return h;
}

// ---- JBD2 (§ Journal (jbd2)) — every field big-endian -----------------------------------------

export const JBD2_MAGIC = 0xc03b3998;
export const JBD2_DESCRIPTOR_BLOCK = 1;
export const JBD2_COMMIT_BLOCK = 2;
export const JBD2_SUPERBLOCK_V1 = 3;
export const JBD2_SUPERBLOCK_V2 = 4;
export const JBD2_REVOKE_BLOCK = 5;
export const JBD2_FC_BLOCK = 6;

export const JH = { MAGIC: 0x0, BLOCKTYPE: 0x4, SEQUENCE: 0x8 } as const;
export const JBD2_HEADER_SIZE = 12;

export const JSB = {
  BLOCKSIZE: 0xc,
  MAXLEN: 0x10,
  FIRST: 0x14,
  SEQUENCE: 0x18,
  START: 0x1c,
  ERRNO: 0x20,
  FEATURE_COMPAT: 0x24,
  FEATURE_INCOMPAT: 0x28,
  FEATURE_RO_COMPAT: 0x2c,
  UUID: 0x30,
  NR_USERS: 0x40,
  DYNSUPER: 0x44,
  MAX_TRANSACTION: 0x48,
  MAX_TRANS_DATA: 0x4c,
  CHECKSUM_TYPE: 0x50,
  NUM_FC_BLKS: 0x54,
  HEAD: 0x58,
  CHECKSUM: 0xfc,
  USERS: 0x100,
} as const;
export const JBD2_SUPERBLOCK_SIZE = 1024;

export const JBD2_FEATURE_COMPAT_CHECKSUM = 0x1;
export const JBD2_FEATURE_INCOMPAT_REVOKE = 0x1;
export const JBD2_FEATURE_INCOMPAT_64BIT = 0x2;
export const JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT = 0x4;
export const JBD2_FEATURE_INCOMPAT_CSUM_V2 = 0x8;
export const JBD2_FEATURE_INCOMPAT_CSUM_V3 = 0x10;
export const JBD2_FEATURE_INCOMPAT_FAST_COMMIT = 0x20;
export const JBD2_KNOWN_INCOMPAT =
  JBD2_FEATURE_INCOMPAT_REVOKE | JBD2_FEATURE_INCOMPAT_64BIT | JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT |
  JBD2_FEATURE_INCOMPAT_CSUM_V2 | JBD2_FEATURE_INCOMPAT_CSUM_V3 | JBD2_FEATURE_INCOMPAT_FAST_COMMIT;
export const JBD2_CRC32C_CHKSUM = 4;

/** Block tag flags. */
export const JBD2_FLAG_ESCAPE = 1;
export const JBD2_FLAG_SAME_UUID = 2;
export const JBD2_FLAG_DELETED = 4;
export const JBD2_FLAG_LAST_TAG = 8;

/** Commit block: checksum type/size, the checksum words, and the commit time. */
export const JC = { CHKSUM_TYPE: 0xc, CHKSUM_SIZE: 0xd, CHKSUM: 0x10, COMMIT_SEC: 0x30, COMMIT_NSEC: 0x38 } as const;
/** Revoke block: bytes used (header included), then block numbers. */
export const JR = { COUNT: 0xc, RECORDS: 0x10 } as const;
/** Descriptor and revoke blocks end with a 4-byte checksum tail under csum v2/v3. */
export const JBD2_TAIL_SIZE = 4;

/** Bytes per block tag for the journal's features (journal_tag_bytes). */
export function journalTagBytes(incompat: number): number {
  if (incompat & JBD2_FEATURE_INCOMPAT_CSUM_V3) return 16;
  let sz = 12;
  if (incompat & JBD2_FEATURE_INCOMPAT_CSUM_V2) sz += 2;
  return incompat & JBD2_FEATURE_INCOMPAT_64BIT ? sz : sz - 4;
}
