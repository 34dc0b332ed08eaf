// Ext4Fs: a mounted ext2/ext3/ext4 filesystem (Linux's ext4_sb_info with its super_operations):
// geometry, group descriptors, inode table I/O, block and inode allocation, and the commit that
// turns every change since the last one into one journal transaction. Metadata changes stay in
// the buffer cache until a commit; file data goes to disk directly, before the metadata that
// points at it (data=ordered). Blocks freed are reusable only after the commit that frees them.

import type { BlockDevice } from '../../block/block_device.js';
import { BufferCache, type BufferHead } from '../../block/buffer_cache.js';
import { EBUSY, EINVAL, EROFS } from '../../abi/linux/errno.js';
import { EXT4_SUPER_MAGIC as STATFS_MAGIC, MS_RDONLY, MS_SYNCHRONOUS } from '../../abi/linux/mount.js';
import { E, errno } from '../../kernel/errno.js';
import type { HostOps } from '../../host/host_ops.js';
import type { FileSystemType, MountContext, StatFs, SuperBlock } from '../../vfs/superblock.js';
import { parseMountData, parseSize } from '../../vfs/superblock.js';
import type { Clock } from '../../vfs/time.js';
import { crc16, crc32c, crc32cU32 } from './crc.js';
import {
  BG_BLOCK_UNINIT, BG_INODE_UNINIT, COMPAT_HAS_JOURNAL, COMPAT_SPARSE_SUPER2, DESC_SIZE_64BIT,
  EXT2_ERROR_FS, EXT2_FLAGS_UNSIGNED_HASH, EXT2_GOOD_OLD_FIRST_INO, EXT2_GOOD_OLD_INODE_SIZE, EXT2_JOURNAL_INO,
  EXT2_ROOT_INO, EXT2_VALID_FS, EXT4_CRC32C_CHKSUM, EXT4_SUPER_MAGIC, GOOD_OLD_DESC_SIZE, INCOMPAT_64BIT,
  INCOMPAT_CSUM_SEED, INCOMPAT_FILETYPE, INCOMPAT_FLEX_BG, INCOMPAT_META_BG, INCOMPAT_NAMES, INCOMPAT_RECOVER,
  INCOMPAT_SUPPORTED, INCOMPAT_EXTENTS, INCOMPAT_INLINE_DATA, INCOMPAT_LARGEDIR, RO_COMPAT_GDT_CSUM,
  RO_COMPAT_HUGE_FILE, RO_COMPAT_METADATA_CSUM, RO_COMPAT_NAMES, RO_COMPAT_SPARSE_SUPER, RO_COMPAT_SUPPORTED,
  RO_COMPAT_DIR_NLINK, RO_COMPAT_LARGE_FILE, SB, SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE, COMPAT_EXT_ATTR, COMPAT_DIR_INDEX,
  type GroupDesc, corrupt, emitGroupDesc, featureNames, join, le16, le32, parseGroupDesc, set16, set32, u8, lo32,
  hi32, GD, INCOMPAT_MMP, INO, COMPAT_NAMES,
} from './layout.js';
import { Ext4Inode } from './inode.js';
import type { MapSink, MapSource } from './bmap.js';
import { Journal, OverlayDevice, needsRecovery, replayJournal } from './journal.js';
import { ReadAhead } from './readahead.js';

/** The checksums that a commit recomputes for a dirty block, by kind. */
export const enum Csum {
  DirLeaf = 1,
  DirNode = 2,
  Extent = 3,
  Xattr = 4,
}

interface PendingCsum {
  kind: Csum;
  /** The owning inode's checksum seed (crc32c of the uuid seed, inode number and generation). */
  seed: number;
}

/** Which flavour mount(2) asked for: ext2 and ext3 refuse the features they lack, as Linux does. */
export type Flavour = 'ext2' | 'ext3' | 'ext4';

export class Ext4Fs implements SuperBlock {
  readonly fsType: FileSystemType;
  readonly dev: number;
  root!: Ext4Inode;
  readOnly: boolean;
  readonly clock: Clock;
  readonly host: HostOps;
  readonly source: string;
  readonly maxLinks = 65000;
  maxFileSize: number;

  readonly device: BlockDevice;
  readonly cache: BufferCache;
  /** The 1024-byte superblock as on disk; fields not modelled here are kept as they are. */
  readonly sbRaw: Uint8Array;
  readonly blockSize: number;
  readonly blockBits: number;
  readonly blocksCount: number;
  readonly firstDataBlock: number;
  readonly blocksPerGroup: number;
  readonly inodesPerGroup: number;
  readonly inodesCount: number;
  readonly inodeSize: number;
  readonly firstIno: number;
  readonly descSize: number;
  readonly groupCount: number;
  readonly descPerBlock: number;
  /** Old-style descriptor blocks (all of them without meta_bg, else s_first_meta_bg). */
  readonly gdbCount: number;
  readonly reservedGdtBlocks: number;
  readonly groupsPerFlex: number;
  readonly compat: number;
  incompat: number;
  readonly roCompat: number;
  readonly hasCsum: boolean;
  readonly hasGdtCsum: boolean;
  readonly csumSeed: number;
  readonly hashSeed: Uint32Array;
  readonly defHashVersion: number;
  readonly unsignedHash: boolean;
  readonly extraIsize: number;
  readonly uuid: Uint8Array;

  readonly groups: GroupDesc[] = [];
  private readonly gdDirty = new Set<number>();
  /** Inodes in memory by number: the VFS relies on one object per inode. */
  readonly inodes = new Map<number, Ext4Inode>();
  readonly dirtyInodes = new Set<Ext4Inode>();
  /** Inodes whose block map changed and must be written back before the commit. */
  readonly dirtyMaps = new Set<Ext4Inode>();
  private readonly pendingCsum = new Map<BufferHead, PendingCsum>();
  /** Blocks freed since the last commit: free on disk only once the commit is durable. */
  private pendingFree: { p: number; len: number }[] = [];
  private pendingFreeCount = 0;
  /** Free block / inode totals (the superblock's counters are written from these). */
  freeBlocks = 0;
  freeInodes = 0;
  private sbDirty = false;
  readonly journal: Journal | null;
  /** The block group searched first for the next allocation of a new directory. */
  private lastDirGroup = 0;
  killed = false;
  /** The journal lives on another device (journal_dev): read-only mounts only. */
  private externalJournal = false;
  /** Where it was mounted (written to s_last_mounted on a read-write mount). */
  private mountedOn: string | null = null;
  /** The device this filesystem holds (BlockDevice.holder) while mounted. */
  private claimed: BlockDevice | null = null;
  private readonly opts: Map<string, string>;
  readonly errorsContinue: boolean;
  /** Mounted read-write and the clean state on disk was taken away (restored on unmount). */
  private wasValid = true;
  private kbytesWrittenAtMount = 0;
  bytesWritten = 0;
  /** Dirty-metadata level that triggers a commit at the end of an operation. */
  private readonly commitThreshold: number;
  /** The name it was mounted as ('ext2', 'ext3', 'ext4'). */
  readonly flavour: Flavour;

  constructor(fsType: FileSystemType, ctx: MountContext, flavour: Flavour) {
    this.fsType = fsType;
    this.flavour = flavour;
    this.dev = ctx.dev;
    this.clock = ctx.clock;
    this.host = ctx.host;
    this.source = ctx.source;
    this.opts = parseMountData(ctx.data);
    for (const k of this.opts.keys()) {
      if (!KNOWN_OPTIONS.has(k)) throw errno(EINVAL, `ext4: unknown mount option '${k}'`);
    }
    this.errorsContinue = true;
    let device = ctx.device;
    if (device === null) throw E.ENOTBLK;
    // One device, one filesystem state: a second mount of a mounted device would fork it.
    if (device.holder != null) throw errno(EBUSY, `ext4: ${ctx.source} is already mounted (by another kernel)`);
    const original = device;
    let readOnly = (ctx.flags & MS_RDONLY) !== 0 || this.opts.has('ro');
    if (!readOnly && device.readOnly) throw errno(EROFS, `ext4: ${ctx.source} is read-only; mount it with MS_RDONLY`);

    // 1. The superblock, before anything else is trusted.
    let raw = readSuperblock(device);
    const incompat0 = le32(raw, SB.FEATURE_INCOMPAT);
    checkIncompat(incompat0, flavour, le32(raw, SB.FEATURE_COMPAT));

    // 2. A journal that needs recovery is replayed before anything else is read: onto the
    //    device when it can be written, else into an in-memory overlay for a read-only mount.
    if (needsRecovery(raw)) {
      if (this.opts.has('noload')) {
        if (!readOnly) throw errno(EINVAL, 'ext4: noload needs a read-only mount');
      } else {
        if (device.readOnly) device = new OverlayDevice(device);
        replayJournal(device, raw);
        raw = readSuperblock(device);
      }
    }
    this.device = device;
    this.sbRaw = raw;

    // 3. Geometry, validated before it sizes anything.
    const logBs = le32(raw, SB.LOG_BLOCK_SIZE);
    if (logBs > 6) throw corrupt(`superblock: block size 2^${10 + logBs} is not supported`);
    this.blockBits = 10 + logBs;
    this.blockSize = 1 << this.blockBits;
    const bs = this.blockSize;
    this.compat = le32(raw, SB.FEATURE_COMPAT);
    this.incompat = le32(raw, SB.FEATURE_INCOMPAT);
    this.roCompat = le32(raw, SB.FEATURE_RO_COMPAT);
    const is64 = (this.incompat & INCOMPAT_64BIT) !== 0;
    this.blocksCount = join(le32(raw, SB.BLOCKS_COUNT_LO), is64 ? le32(raw, SB.BLOCKS_COUNT_HI) : 0);
    this.firstDataBlock = le32(raw, SB.FIRST_DATA_BLOCK);
    this.blocksPerGroup = le32(raw, SB.BLOCKS_PER_GROUP);
    this.inodesPerGroup = le32(raw, SB.INODES_PER_GROUP);
    this.inodesCount = le32(raw, SB.INODES_COUNT);
    const rev = le32(raw, SB.REV_LEVEL);
    this.inodeSize = rev === 0 ? EXT2_GOOD_OLD_INODE_SIZE : le16(raw, SB.INODE_SIZE);
    this.firstIno = rev === 0 ? EXT2_GOOD_OLD_FIRST_INO : le32(raw, SB.FIRST_INO);
    this.descSize = is64 ? le16(raw, SB.DESC_SIZE) : GOOD_OLD_DESC_SIZE;
    if (le32(raw, SB.LOG_CLUSTER_SIZE) !== logBs && (this.roCompat & 0x200) === 0) {
      throw corrupt('superblock: cluster size differs from block size without bigalloc');
    }
    if (this.blocksPerGroup < 8 || this.blocksPerGroup > 8 * bs || this.blocksPerGroup % 8 !== 0) {
      throw corrupt(`superblock: ${this.blocksPerGroup} blocks per group is impossible for ${bs}-byte blocks`);
    }
    if (this.inodeSize < EXT2_GOOD_OLD_INODE_SIZE || this.inodeSize > bs || (this.inodeSize & (this.inodeSize - 1)) !== 0) {
      throw corrupt(`superblock: inode size ${this.inodeSize}`);
    }
    if (this.inodesPerGroup < 1 || this.inodesPerGroup > 8 * bs) {
      throw corrupt(`superblock: ${this.inodesPerGroup} inodes per group`);
    }
    if (is64 && (this.descSize < DESC_SIZE_64BIT || this.descSize > 1024 || (this.descSize & (this.descSize - 1)) !== 0)) {
      throw corrupt(`superblock: group descriptor size ${this.descSize}`);
    }
    if (this.firstDataBlock !== (bs === 1024 ? 1 : 0) && !(bs === 1024 && this.firstDataBlock === 0)) {
      throw corrupt(`superblock: first data block ${this.firstDataBlock} with ${bs}-byte blocks`);
    }
    if (this.blocksCount <= this.firstDataBlock) throw corrupt(`superblock: ${this.blocksCount} blocks`);
    if (this.blocksCount * bs > device.size) {
      throw corrupt(`superblock: ${this.blocksCount} blocks of ${bs} bytes exceed the device (${device.size} bytes; truncated image?)`);
    }
    this.groupCount = Math.ceil((this.blocksCount - this.firstDataBlock) / this.blocksPerGroup);
    if (this.groupCount * this.inodesPerGroup !== this.inodesCount) {
      throw corrupt(`superblock: ${this.inodesCount} inodes but ${this.groupCount} groups of ${this.inodesPerGroup}`);
    }
    if (this.firstIno < EXT2_GOOD_OLD_FIRST_INO || this.firstIno > this.inodesCount) throw corrupt(`superblock: first inode ${this.firstIno}`);
    this.descPerBlock = bs / this.descSize;
    const firstMetaBg = le32(raw, SB.FIRST_META_BG);
    const allGdb = Math.ceil(this.groupCount / this.descPerBlock);
    if (this.incompat & INCOMPAT_META_BG) {
      if (firstMetaBg > allGdb) throw corrupt(`superblock: first meta_bg ${firstMetaBg} past ${allGdb} descriptor blocks`);
      this.gdbCount = firstMetaBg;
    } else this.gdbCount = allGdb;
    this.reservedGdtBlocks = le16(raw, SB.RESERVED_GDT_BLOCKS);
    if (this.reservedGdtBlocks > bs / 4) throw corrupt(`superblock: ${this.reservedGdtBlocks} reserved GDT blocks`);
    const logFlex = u8(raw, SB.LOG_GROUPS_PER_FLEX);
    this.groupsPerFlex = this.incompat & INCOMPAT_FLEX_BG && logFlex < 31 ? 2 ** logFlex : 1;
    this.hasCsum = (this.roCompat & RO_COMPAT_METADATA_CSUM) !== 0;
    this.hasGdtCsum = !this.hasCsum && (this.roCompat & RO_COMPAT_GDT_CSUM) !== 0;
    this.uuid = raw.slice(SB.UUID, SB.UUID + 16);
    if (this.hasCsum) {
      if (u8(raw, SB.CHECKSUM_TYPE) !== EXT4_CRC32C_CHKSUM) throw corrupt(`superblock: unknown checksum type ${u8(raw, SB.CHECKSUM_TYPE)}`);
      const want = le32(raw, SB.CHECKSUM);
      const got = crc32c(0xffffffff, raw, 0, SB.CHECKSUM);
      if (want !== got) throw corrupt(`superblock checksum mismatch (stored 0x${want.toString(16)}, computed 0x${got.toString(16)})`);
      this.csumSeed = this.incompat & INCOMPAT_CSUM_SEED ? le32(raw, SB.CHECKSUM_SEED) : crc32c(0xffffffff, this.uuid);
    } else this.csumSeed = 0;
    this.hashSeed = new Uint32Array(4);
    for (let i = 0; i < 4; i++) this.hashSeed[i] = le32(raw, SB.HASH_SEED + 4 * i);
    this.defHashVersion = u8(raw, SB.DEF_HASH_VERSION);
    this.unsignedHash = (le32(raw, SB.FLAGS) & EXT2_FLAGS_UNSIGNED_HASH) !== 0;
    this.extraIsize = this.inodeSize > EXT2_GOOD_OLD_INODE_SIZE ? Math.max(le16(raw, SB.WANT_EXTRA_ISIZE), 32) : 0;
    if (this.extraIsize > this.inodeSize - EXT2_GOOD_OLD_INODE_SIZE) this.extraIsize = (this.inodeSize - EXT2_GOOD_OLD_INODE_SIZE) & ~3;
    this.maxFileSize = this.computeMaxFileSize();

    // 4. Features this code cannot keep consistent force a read-only mount.
    const unknownRo = this.roCompat & ~RO_COMPAT_SUPPORTED;
    if (unknownRo !== 0 && !readOnly) {
      throw errno(EROFS, `ext4: ${ctx.source}: unsupported ro_compat features ${featureNames(unknownRo, RO_COMPAT_NAMES, 'RO_COMPAT_').join(', ')}; mount it read-only`);
    }
    if (!readOnly && le16(raw, SB.STATE) & EXT2_ERROR_FS) {
      // Linux mounts such a filesystem with a warning; writing to it is what e2fsck is for.
      throw errno(EROFS, `ext4: ${ctx.source} has errors recorded (run e2fsck); mount it read-only`);
    }
    if (!readOnly && this.incompat & INCOMPAT_RECOVER) {
      throw errno(EROFS, `ext4: ${ctx.source} needs journal recovery; it was not replayed`);
    }
    this.readOnly = readOnly;
    this.syncMode = (ctx.flags & MS_SYNCHRONOUS) !== 0 || this.opts.has('sync');

    // 5. The caches and the group descriptors.
    // cache=SIZE (tkl's own option): the clean blocks kept; dirty ones stay until the commit.
    this.cache = new BufferCache(device, bs, { capacity: parseSize(this.opts.get('cache'), 64 * 1024 * 1024), autoWriteback: false });
    (this as { scratch: Uint8Array }).scratch = new Uint8Array(bs);
    (this as { stage: Uint8Array }).stage = new Uint8Array(STAGE_BYTES);
    this.ra = new ReadAhead(this.cache, bs);
    this.readGroupDescriptors();
    for (const g of this.groups) {
      this.freeBlocks += g.freeBlocks;
      this.freeInodes += g.freeInodes;
    }
    // A journal on another device (journal_dev, s_journal_inum 0): tkl cannot reach it, so only
    // a read-only mount is possible, which does not need it (recovery was refused above).
    this.externalJournal = (this.compat & COMPAT_HAS_JOURNAL) !== 0 && le32(this.sbRaw, SB.JOURNAL_INUM) === 0;
    if (this.externalJournal && !readOnly) {
      throw errno(EINVAL, 'ext4: the journal is on an external device, which tkl does not support; mount it read-only');
    }
    this.journal = this.compat & COMPAT_HAS_JOURNAL && !this.externalJournal ? Journal.open(this) : null;
    this.commitThreshold = this.journal !== null ? Math.max(64, Math.floor(this.journal.capacity / 4)) : 4096;

    original.holder = this;
    this.claimed = original;

    // 6. The root directory.
    const root = this.iget(EXT2_ROOT_INO);
    if (!root.isDir) throw corrupt('root inode is not a directory');
    root.parentIno = EXT2_ROOT_INO;
    this.root = root;

    // 7. A read-write mount marks the filesystem in use as Linux does (ext4_setup_super), then
    //    frees what a crash left on the orphan list.
    this.mountedOn = ctx.target ?? null;
    if (!readOnly) {
      this.setupWrite();
      if (le32(this.sbRaw, SB.LAST_ORPHAN) !== 0) {
        this.cleanupOrphans();
        this.commit();
      }
    }
  }

  // ---- geometry --------------------------------------------------------------------------

  groupFirstBlock(g: number): number {
    return this.firstDataBlock + g * this.blocksPerGroup;
  }

  groupBlocks(g: number): number {
    return g === this.groupCount - 1 ? this.blocksCount - this.groupFirstBlock(g) : this.blocksPerGroup;
  }

  groupOfBlock(b: number): number {
    return Math.floor((b - this.firstDataBlock) / this.blocksPerGroup);
  }

  /** Whether group `g` holds a superblock backup (sparse_super: 0, 1 and powers of 3, 5, 7). */
  hasSuper(g: number): boolean {
    if (g === 0) return true;
    if (this.compat & COMPAT_SPARSE_SUPER2) {
      return g === le32(this.sbRaw, SB.BACKUP_BGS) || g === le32(this.sbRaw, SB.BACKUP_BGS + 4);
    }
    if (g <= 1 || !(this.roCompat & RO_COMPAT_SPARSE_SUPER)) return true;
    if (!(g & 1)) return false;
    for (const base of [3, 5, 7]) {
      let n = base;
      while (n < g) n *= base;
      if (n === g) return true;
    }
    return false;
  }

  /** Descriptor blocks at the start of group g (ext4_bg_num_gdb). */
  groupGdtBlocks(g: number): number {
    const meta = Math.floor(g / this.descPerBlock);
    if (!(this.incompat & INCOMPAT_META_BG) || meta < this.gdbCount) {
      return this.hasSuper(g) ? this.gdbCount : 0;
    }
    const first = meta * this.descPerBlock;
    return g === first || g === first + 1 || g === first + this.descPerBlock - 1 ? 1 : 0;
  }

  /** Blocks at the start of group g used by the superblock copy and descriptor tables. */
  baseMetaBlocks(g: number): number {
    let n = this.hasSuper(g) ? 1 : 0;
    if (!(this.incompat & INCOMPAT_META_BG) || g < this.gdbCount * this.descPerBlock) {
      if (n) n += this.groupGdtBlocks(g) + this.reservedGdtBlocks;
    } else n += this.groupGdtBlocks(g);
    return n;
  }

  /** The block holding descriptor block `i` (counted over the whole table). */
  descBlock(i: number): number {
    if (!(this.incompat & INCOMPAT_META_BG) || i < this.gdbCount) return this.firstDataBlock + 1 + i;
    const g = i * this.descPerBlock;
    return this.groupFirstBlock(g) + (this.hasSuper(g) ? 1 : 0);
  }

  /** Blocks one inode table takes. */
  get itableBlocks(): number {
    return Math.ceil((this.inodesPerGroup * this.inodeSize) / this.blockSize);
  }

  /** Whether [b, b+len) lies within the filesystem's data blocks. */
  validRange(b: number, len: number): boolean {
    return Number.isSafeInteger(b) && len >= 0 && b >= this.firstDataBlock && b + len <= this.blocksCount;
  }

  private computeMaxFileSize(): number {
    if (this.incompat & INCOMPAT_EXTENTS) {
      // 2^32 logical blocks; 48-bit i_blocks in 512-byte units unless huge_file.
      const byBlocks = 2 ** 32 * this.blockSize - this.blockSize;
      return Math.min(byBlocks, this.roCompat & RO_COMPAT_HUGE_FILE ? byBlocks : (2 ** 48 - 1) * 512);
    }
    const per = this.blockSize / 4;
    const blocks = 12 + per + per * per + per * per * per;
    let max = Math.min(blocks, 2 ** 32 - 1) * this.blockSize;
    if (!(this.roCompat & RO_COMPAT_HUGE_FILE)) max = Math.min(max, (2 ** 32 - 1) * 512);
    if (!(this.roCompat & RO_COMPAT_LARGE_FILE)) max = Math.min(max, 2 ** 31 - 1);
    return max;
  }

  // ---- group descriptors -----------------------------------------------------------------

  private readGroupDescriptors(): void {
    const blocks = Math.ceil(this.groupCount / this.descPerBlock);
    for (let i = 0; i < blocks; i++) {
      const blk = this.descBlock(i);
      if (!this.validRange(blk, 1)) throw corrupt(`group descriptor block ${i} at ${blk} lies outside the filesystem`);
      const data = this.cache.get(blk).data;
      for (let j = 0; j < this.descPerBlock; j++) {
        const g = i * this.descPerBlock + j;
        if (g >= this.groupCount) break;
        const off = j * this.descSize;
        const gd = parseGroupDesc(data, off, this.descSize);
        if (this.hasCsum || this.hasGdtCsum) {
          const want = this.groupDescCsum(g, data, off);
          if (want !== gd.checksum) {
            throw corrupt(`group descriptor ${g} checksum mismatch (stored 0x${gd.checksum.toString(16)}, computed 0x${want.toString(16)})`);
          }
        }
        this.checkGroupDesc(g, gd);
        this.groups.push(gd);
      }
    }
  }

  private checkGroupDesc(g: number, gd: GroupDesc): void {
    const itb = this.itableBlocks;
    const flexSpan = this.groupsPerFlex > 1 || (this.incompat & INCOMPAT_FLEX_BG) !== 0;
    const lo = flexSpan ? this.firstDataBlock : this.groupFirstBlock(g);
    const hi = flexSpan ? this.blocksCount : this.groupFirstBlock(g) + this.groupBlocks(g);
    const inside = (b: number, n: number): boolean => b >= lo && b + n <= hi;
    if (!inside(gd.blockBitmap, 1)) throw corrupt(`group ${g}: block bitmap ${gd.blockBitmap} lies outside the filesystem`);
    if (!inside(gd.inodeBitmap, 1)) throw corrupt(`group ${g}: inode bitmap ${gd.inodeBitmap} lies outside the filesystem`);
    if (!inside(gd.inodeTable, itb)) throw corrupt(`group ${g}: inode table ${gd.inodeTable}+${itb} lies outside the filesystem`);
    if (gd.freeBlocks > this.groupBlocks(g)) throw corrupt(`group ${g}: ${gd.freeBlocks} free blocks of ${this.groupBlocks(g)}`);
    if (gd.freeInodes > this.inodesPerGroup) throw corrupt(`group ${g}: ${gd.freeInodes} free inodes of ${this.inodesPerGroup}`);
    if (gd.itableUnused > this.inodesPerGroup) gd.itableUnused = this.inodesPerGroup;
  }

  /** The descriptor checksum (crc32c under metadata_csum, crc16 under gdt_csum), over bytes at data[off…]. */
  groupDescCsum(g: number, data: Uint8Array, off: number): number {
    const size = this.descSize;
    if (this.hasCsum) {
      let c = crc32cU32(this.csumSeed, g);
      c = crc32c(c, data, off, off + GD.CHECKSUM);
      c = crc32c(c, ZERO2);
      if (GD.CHECKSUM + 2 < size) c = crc32c(c, data, off + GD.CHECKSUM + 2, off + size);
      return c & 0xffff;
    }
    if (this.hasGdtCsum) {
      let c = crc16(0xffff, this.uuid);
      LE4[0] = g;
      LE4[1] = g >>> 8;
      LE4[2] = g >>> 16;
      LE4[3] = g >>> 24;
      c = crc16(c, LE4);
      c = crc16(c, data, off, off + GD.CHECKSUM);
      if (this.incompat & INCOMPAT_64BIT && GD.CHECKSUM + 2 < size) c = crc16(c, data, off + GD.CHECKSUM + 2, off + size);
      return c;
    }
    return 0;
  }

  markGroupDirty(g: number): void {
    this.gdDirty.add(g);
  }

  // ---- bitmaps ---------------------------------------------------------------------------

  /** The block bitmap of group g, initialised in memory when BLOCK_UNINIT. Errors: EUCLEAN, EIO. */
  blockBitmap(g: number): BufferHead {
    const gd = this.groups[g]!;
    if (gd.flags & BG_BLOCK_UNINIT && (this.hasCsum || this.hasGdtCsum)) {
      const bh = this.cache.getZeroed(gd.blockBitmap);
      this.initBlockBitmap(g, bh.data);
      gd.flags &= ~BG_BLOCK_UNINIT;
      this.verified.add(bh);
      this.cache.markDirty(bh);
      this.markGroupDirty(g);
      return bh;
    }
    const bh = this.cache.get(gd.blockBitmap);
    if (this.hasCsum && !this.verified.has(bh)) {
      const got = crc32c(this.csumSeed, bh.data, 0, this.blocksPerGroup / 8);
      const want = this.descSize >= DESC_SIZE_64BIT ? gd.blockBitmapCsum : gd.blockBitmapCsum & 0xffff;
      const cmp = this.descSize >= DESC_SIZE_64BIT ? got : got & 0xffff;
      if (cmp !== want) throw corrupt(`group ${g}: block bitmap ${gd.blockBitmap} checksum mismatch`);
      this.verified.add(bh);
    }
    return bh;
  }

  private readonly verified = new WeakSet<BufferHead>();

  /** ext4_init_block_bitmap: the group's own metadata in use, the rest free, padding set. */
  private initBlockBitmap(g: number, bm: Uint8Array): void {
    bm.fill(0);
    const start = this.groupFirstBlock(g);
    const n = this.groupBlocks(g);
    setBits(bm, 0, this.baseMetaBlocks(g));
    // Any group's bitmaps and inode table that live in this group (flex_bg packs them).
    const mark = (b: number, len: number): void => setBits(bm, Math.max(0, b - start), Math.min(n, b + len - start));
    for (const other of this.groups) {
      mark(other.blockBitmap, 1);
      mark(other.inodeBitmap, 1);
      mark(other.inodeTable, this.itableBlocks);
    }
    setBits(bm, n, this.blockSize * 8);
  }

  /** The inode bitmap of group g, initialised in memory when INODE_UNINIT. */
  inodeBitmap(g: number): BufferHead {
    const gd = this.groups[g]!;
    if (gd.flags & BG_INODE_UNINIT && (this.hasCsum || this.hasGdtCsum)) {
      const bh = this.cache.getZeroed(gd.inodeBitmap);
      setBits(bh.data, this.inodesPerGroup, this.blockSize * 8);
      gd.flags &= ~BG_INODE_UNINIT;
      this.verified.add(bh);
      this.cache.markDirty(bh);
      this.markGroupDirty(g);
      return bh;
    }
    const bh = this.cache.get(gd.inodeBitmap);
    if (this.hasCsum && !this.verified.has(bh)) {
      const got = crc32c(this.csumSeed, bh.data, 0, this.inodesPerGroup / 8);
      const want = this.descSize >= DESC_SIZE_64BIT ? gd.inodeBitmapCsum : gd.inodeBitmapCsum & 0xffff;
      const cmp = this.descSize >= DESC_SIZE_64BIT ? got : got & 0xffff;
      if (cmp !== want) throw corrupt(`group ${g}: inode bitmap ${gd.inodeBitmap} checksum mismatch`);
      this.verified.add(bh);
    }
    return bh;
  }

  // ---- block allocation ------------------------------------------------------------------

  /**
   * Allocates up to `count` contiguous blocks, as near after `goal` as possible (-1: no
   * preference). Returns the first block and the number allocated (at least 1).
   * Errors: ENOSPC.
   */
  allocBlocks(goal: number, count: number): { p: number; len: number } {
    this.checkWritable();
    for (let attempt = 0; ; attempt++) {
      const r = this.tryAllocBlocks(goal, count);
      if (r !== null) return r;
      // Blocks freed in the running transaction become usable once it is committed.
      if (attempt === 0 && this.pendingFreeCount > 0) {
        this.commit();
        continue;
      }
      throw E.ENOSPC;
    }
  }

  /** Per group: every block bit below this one is in use (a search may start here). */
  private readonly blockHint: number[] = [];
  /** Per group: every inode bit below this one is in use. */
  private readonly inodeHint: number[] = [];

  private tryAllocBlocks(goal: number, count: number): { p: number; len: number } | null {
    if (this.freeBlocks === 0) return null;
    if (goal < this.firstDataBlock || goal >= this.blocksCount) goal = this.firstDataBlock;
    const g0 = this.groupOfBlock(goal);
    // First pass: the goal's group from the goal on, then the others from their start,
    // preferring a run of the full length; second pass: anything.
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < this.groupCount; k++) {
        const g = (g0 + k) % this.groupCount;
        const gd = this.groups[g]!;
        if (gd.freeBlocks === 0) continue;
        const bm = this.blockBitmap(g).data;
        const n = this.groupBlocks(g);
        let from = k === 0 ? goal - this.groupFirstBlock(g) : 0;
        if (from < 0 || from >= n) from = 0;
        const hint = this.blockHint[g] ?? 0;
        if (from < hint) from = hint;
        if (from >= n) from = hint < n ? hint : 0;
        const want = pass === 0 ? Math.min(count, 8) : 1;
        const run = findFreeRun(bm, from, n, want, count);
        if (run === null) continue;
        const p = this.groupFirstBlock(g) + run.start;
        this.claimBlocks(g, bm, run.start, run.len);
        return { p, len: run.len };
      }
    }
    return null;
  }

  private claimBlocks(g: number, bm: Uint8Array, start: number, len: number): void {
    setBits(bm, start, start + len);
    if (start === (this.blockHint[g] ?? 0)) this.blockHint[g] = start + len;
    const gd = this.groups[g]!;
    gd.freeBlocks -= len;
    this.freeBlocks -= len;
    this.cache.markDirty(this.cache.get(gd.blockBitmap));
    this.markGroupDirty(g);
    this.sbDirty = true;
  }

  /** Frees [p, p+len): the blocks become allocatable after the next commit. */
  freeBlocksLater(p: number, len: number): void {
    if (len <= 0) return;
    if (!this.validRange(p, len)) throw corrupt(`freeing blocks ${p}+${len} outside the filesystem`);
    for (let i = 0; i < len; i++) this.cache.forget(p + i);
    this.ra.forget(p, len);
    this.pendingFree.push({ p, len });
    this.pendingFreeCount += len;
  }

  /** Applies the pending frees to the bitmaps (part of a commit). */
  private applyPendingFrees(): void {
    for (const { p, len } of this.pendingFree) {
      let b = p;
      let left = len;
      while (left > 0) {
        const g = this.groupOfBlock(b);
        const first = this.groupFirstBlock(g);
        const n = Math.min(left, first + this.groupBlocks(g) - b);
        const bh = this.blockBitmap(g);
        let freed = 0;
        for (let i = 0; i < n; i++) {
          if (testBit(bh.data, b - first + i)) {
            clearBit(bh.data, b - first + i);
            freed++;
          }
        }
        if (b - first < (this.blockHint[g] ?? 0)) this.blockHint[g] = b - first;
        if (freed !== n) {
          this.pendingFree = [];
          this.pendingFreeCount = 0;
          throw corrupt(`group ${g}: freeing ${n - freed} blocks near ${b} that were already free`);
        }
        this.cache.markDirty(bh);
        this.groups[g]!.freeBlocks += n;
        this.freeBlocks += n;
        this.markGroupDirty(g);
        b += n;
        left -= n;
      }
    }
    this.pendingFree = [];
    this.pendingFreeCount = 0;
    this.sbDirty = true;
  }

  /** Free blocks as statfs and allocation see them (pending frees not yet counted). */
  get freeBlocksNow(): number {
    return this.freeBlocks;
  }

  // ---- inode allocation ------------------------------------------------------------------

  /**
   * Allocates an inode number: directories spread over groups with room (a simple Orlov),
   * everything else near its parent. Errors: ENOSPC.
   */
  allocInodeNumber(parentIno: number, isDir: boolean): number {
    this.checkWritable();
    if (this.freeInodes === 0) throw E.ENOSPC;
    const pg = Math.floor((parentIno - 1) / this.inodesPerGroup);
    let order: number[];
    if (isDir) {
      // Top-level directories rotate over groups with above-average free inodes and blocks.
      const avgI = this.freeInodes / this.groupCount;
      const avgB = this.freeBlocks / this.groupCount;
      order = [];
      const start = parentIno === EXT2_ROOT_INO ? (this.lastDirGroup + 1) % this.groupCount : pg;
      for (let k = 0; k < this.groupCount; k++) {
        const g = (start + k) % this.groupCount;
        const gd = this.groups[g]!;
        if (gd.freeInodes >= avgI && gd.freeBlocks >= avgB) order.push(g);
      }
      for (let k = 0; k < this.groupCount; k++) order.push((pg + k) % this.groupCount);
    } else {
      order = [];
      for (let k = 0; k < this.groupCount; k++) order.push((pg + k) % this.groupCount);
    }
    for (const g of order) {
      const gd = this.groups[g]!;
      if (gd.freeInodes === 0) continue;
      const bm = this.inodeBitmap(g).data;
      const firstIdx = Math.max(g === 0 ? this.firstIno - 1 : 0, this.inodeHint[g] ?? 0);
      const idx = findZeroBit(bm, firstIdx, this.inodesPerGroup);
      if (idx < 0) continue;
      setBit(bm, idx);
      this.inodeHint[g] = idx + 1;
      this.cache.markDirty(this.cache.get(gd.inodeBitmap));
      gd.freeInodes--;
      this.freeInodes--;
      if (isDir) {
        gd.usedDirs++;
        this.lastDirGroup = g;
      }
      if (this.hasCsum || this.hasGdtCsum) {
        const used = this.inodesPerGroup - gd.itableUnused;
        if (idx + 1 > used) gd.itableUnused = this.inodesPerGroup - (idx + 1);
      }
      this.markGroupDirty(g);
      this.sbDirty = true;
      return g * this.inodesPerGroup + idx + 1;
    }
    throw E.ENOSPC;
  }

  /** Marks inode `ino` free in its bitmap and counters. */
  freeInodeNumber(ino: number, isDir: boolean): void {
    const g = Math.floor((ino - 1) / this.inodesPerGroup);
    const idx = (ino - 1) % this.inodesPerGroup;
    const bh = this.inodeBitmap(g);
    if (!testBit(bh.data, idx)) throw corrupt(`freeing inode ${ino}, which is already free`);
    clearBit(bh.data, idx);
    if (idx < (this.inodeHint[g] ?? 0)) this.inodeHint[g] = idx;
    this.cache.markDirty(bh);
    const gd = this.groups[g]!;
    gd.freeInodes++;
    this.freeInodes++;
    if (isDir && gd.usedDirs > 0) gd.usedDirs--;
    this.markGroupDirty(g);
    this.sbDirty = true;
  }

  // ---- inode table -----------------------------------------------------------------------

  /** Where inode `ino` lives: its inode-table block and the byte offset in it. */
  inodeLocation(ino: number): { block: number; offset: number } {
    if (!Number.isInteger(ino) || ino < 1 || ino > this.inodesCount) throw corrupt(`inode number ${ino} out of range`);
    const g = Math.floor((ino - 1) / this.inodesPerGroup);
    const idx = (ino - 1) % this.inodesPerGroup;
    const byte = idx * this.inodeSize;
    return { block: this.groups[g]!.inodeTable + Math.floor(byte / this.blockSize), offset: byte % this.blockSize };
  }

  /** The inode's per-inode checksum seed (crc32c of the fs seed, the number and the generation). */
  inodeCsumSeed(ino: number, generation: number): number {
    return crc32cU32(crc32cU32(this.csumSeed, ino), generation);
  }

  /**
   * The in-memory inode `ino`, read from disk on first use. Errors: EUCLEAN for a corrupt or
   * free inode (naming it), EIO.
   */
  iget(ino: number): Ext4Inode {
    const cached = this.inodes.get(ino);
    if (cached !== undefined) return cached;
    const { block, offset } = this.inodeLocation(ino);
    const g = Math.floor((ino - 1) / this.inodesPerGroup);
    const idx = (ino - 1) % this.inodesPerGroup;
    const gd = this.groups[g]!;
    if ((this.hasCsum || this.hasGdtCsum) && gd.flags & BG_INODE_UNINIT) throw corrupt(`inode ${ino} lies in an uninitialised inode table (group ${g})`);
    if ((this.hasCsum || this.hasGdtCsum) && idx >= this.inodesPerGroup - gd.itableUnused && ino >= this.firstIno) {
      throw corrupt(`inode ${ino} lies in the unused part of group ${g}'s inode table`);
    }
    const raw = this.inodeBuffer();
    raw.set(this.cache.get(block).data.subarray(offset, offset + this.inodeSize));
    const inode = Ext4Inode.fromDisk(this, ino, raw);
    this.inodes.set(ino, inode);
    return inode;
  }

  /**
   * A zeroed buffer for one raw inode, carved from a shared slab: a small ArrayBuffer of its
   * own costs several times more to make and to collect (it lives outside the JS heap), and
   * creating or reading thousands of inodes made that a large part of the work.
   */
  inodeBuffer(): Uint8Array {
    const size = this.inodeSize;
    if (this.slabOff + size > this.slab.byteLength) {
      this.slab = new ArrayBuffer(Math.max(INODE_SLAB_BYTES, size));
      this.slabOff = 0;
    }
    const raw = new Uint8Array(this.slab, this.slabOff, size);
    this.slabOff += size;
    return raw;
  }

  private slab = new ArrayBuffer(0);
  private slabOff = 0;

  /** Makes and registers a new in-memory inode (its number already allocated). */
  registerInode(inode: Ext4Inode): void {
    this.inodes.set(inode.ino, inode);
    this.dirtyInodes.add(inode);
  }

  forgetInode(ino: number): void {
    const i = this.inodes.get(ino);
    if (i !== undefined) this.dirtyInodes.delete(i);
    this.inodes.delete(ino);
  }

  // ---- the orphan list (§ Orphan file / s_last_orphan: a chain through i_dtime) ------------

  /** Inodes with no names left but still open, newest first (s_last_orphan's chain). */
  private readonly orphans: Ext4Inode[] = [];

  orphanAdd(inode: Ext4Inode): void {
    if (this.orphans.includes(inode)) return;
    this.orphans.unshift(inode);
    this.relinkOrphans();
  }

  orphanDel(inode: Ext4Inode): void {
    const i = this.orphans.indexOf(inode);
    if (i < 0) return;
    this.orphans.splice(i, 1);
    this.relinkOrphans();
  }

  /** Writes the chain: s_last_orphan → first, each inode's i_dtime → the next. */
  private relinkOrphans(): void {
    set32(this.sbRaw, SB.LAST_ORPHAN, this.orphans[0]?.ino ?? 0);
    this.orphans.forEach((o, i) => {
      o.dtime = this.orphans[i + 1]?.ino ?? 0;
      o.markDirty();
    });
    this.sbDirty = true;
  }

  /**
   * Frees the inodes a crash left on the orphan list (ext4_orphan_cleanup): unlinked files that
   * were still open. Errors: EUCLEAN for a chain that loops or names a bad inode.
   */
  private cleanupOrphans(): void {
    const seen = new Set<number>();
    let ino = le32(this.sbRaw, SB.LAST_ORPHAN);
    while (ino !== 0) {
      if (seen.has(ino) || ino < this.firstIno || ino > this.inodesCount) throw corrupt(`orphan list: bad or repeated inode ${ino}`);
      seen.add(ino);
      const { block, offset } = this.inodeLocation(ino);
      const raw = this.inodeBuffer();
      raw.set(this.cache.get(block).data.subarray(offset, offset + this.inodeSize));
      const next = le32(raw, INO.DTIME);
      const inode = Ext4Inode.fromDisk(this, ino, raw, true);
      this.inodes.set(ino, inode);
      if (inode.nlink === 0) inode.releaseStorage();
      else {
        inode.dtime = 0;
        inode.markDirty();
      }
      ino = next;
    }
    set32(this.sbRaw, SB.LAST_ORPHAN, 0);
    this.sbDirty = true;
  }

  /** Writes a freed inode's last state (links 0, dtime) to its table block. */
  writeFreedInode(inode: Ext4Inode): void {
    this.writeInode(inode);
  }

  /** Where a new file's first block should go: the start of its inode's (flex) group's data. */
  goalForInode(ino: number): number {
    const g = Math.floor((ino - 1) / this.inodesPerGroup);
    const flexFirst = g - (g % this.groupsPerFlex);
    // In a flex group the metadata is packed at the front of its first group; data goes after.
    const gd = this.groups[flexFirst]!;
    const meta = Math.max(gd.inodeTable + this.itableBlocks * this.groupsPerFlex, this.groupFirstBlock(flexFirst));
    return g === flexFirst ? meta : this.groupFirstBlock(g);
  }

  /** A block-sized scratch buffer for partial-block reads and writes (never held across calls). */
  readonly scratch: Uint8Array = new Uint8Array(0);
  /** STAGE_BYTES for assembling a small write with partial edge blocks (never held across calls). */
  readonly stage: Uint8Array = new Uint8Array(0);
  private readonly ra: ReadAhead;

  /**
   * Reads file data: `len` bytes from byte `inBlk` of physical block `pblk` into into[at…],
   * either whole blocks or a part of one; `limit` blocks from `pblk` on belong to the same
   * file run and may be read ahead. Errors: EIO.
   */
  readData(pblk: number, inBlk: number, len: number, limit: number, into: Uint8Array, at: number): void {
    this.ra.read(pblk, inBlk, len, limit, into, at);
  }

  /** Writes `count` whole blocks of file data from from[at…] at `pblk` (past the cache, coherent with it). Errors: EIO. */
  writeData(pblk: number, count: number, from: Uint8Array, at: number): void {
    this.ra.wrote(pblk, count, from, at);
    this.cache.writeRun(pblk, count, from, at);
  }

  /** The block-map readers' view of this filesystem. */
  get mapSource(): MapSource {
    return this.mapSinkFor(null);
  }

  /** The block-map writers' view, allocating near `inode`'s data. */
  mapSink(inode: Ext4Inode): MapSink {
    return this.mapSinkFor(inode);
  }

  private mapSinkFor(inode: Ext4Inode | null): MapSink {
    const fs = this;
    return {
      blockSize: fs.blockSize,
      blocksCount: fs.blocksCount,
      firstDataBlock: fs.firstDataBlock,
      hasCsum: fs.hasCsum,
      readBlock: (b) => fs.cache.get(b).data,
      allocMeta: (goal) => fs.allocBlocks(goal >= 0 ? goal : fs.goalForInode(inode?.ino ?? 1), 1).p,
      freeMeta: (b) => fs.freeBlocksLater(b, 1),
      writeTreeBlock: (b, fill, extentCsum) => {
        const bh = fs.cache.getZeroed(b);
        fill(bh.data);
        if (extentCsum) fs.deferCsum(bh, Csum.Extent, inode?.csumSeed ?? 0);
        else fs.cache.markDirty(bh);
      },
    };
  }

  /** Copies inode `inode`'s raw bytes (with a fresh checksum) into its inode-table block. */
  private writeInode(inode: Ext4Inode): void {
    const raw = inode.serialize();
    // inodeLocation without its result object: a commit writes thousands of inodes.
    const ino = inode.ino;
    const byte = ((ino - 1) % this.inodesPerGroup) * this.inodeSize;
    const gd = this.groups[Math.floor((ino - 1) / this.inodesPerGroup)];
    if (gd === undefined) throw corrupt(`inode number ${ino} out of range`);
    const bh = this.cache.get(gd.inodeTable + Math.floor(byte / this.blockSize));
    bh.data.set(raw, byte % this.blockSize);
    this.cache.markDirty(bh);
  }

  /** Records that `bh` (a directory, extent or xattr block of an inode) needs its checksum recomputed at commit. */
  deferCsum(bh: BufferHead, kind: Csum, seed: number): void {
    this.cache.markDirty(bh);
    if (this.hasCsum) this.pendingCsum.set(bh, { kind, seed });
  }

  // ---- the commit ---------------------------------------------------------------------------

  checkWritable(): void {
    if (this.readOnly) throw E.EROFS;
    if (this.killed) throw E.EIO;
  }

  /** MS_SYNCHRONOUS (or the `sync` option): every operation is committed before it returns. */
  private syncMode = false;

  /** Called at the end of every modifying operation: commits when enough metadata is dirty. */
  opDone(): void {
    if (this.syncMode) this.sync();
    else if (this.cache.dirtyCount + this.dirtyInodes.size / 8 >= this.commitThreshold) this.commit();
  }

  /**
   * Writes every change since the last commit: block maps and inodes into their blocks, frees
   * into the bitmaps, checksums, descriptors and the superblock; then, with a journal, the
   * dirty blocks as one transaction (journal, commit record, in place, journal emptied), each
   * step made durable before the next; without one, in place. Errors: EIO, ENOSPC.
   */
  commit(): void {
    if (this.readOnly || this.killed) return;
    for (const inode of this.dirtyMaps) inode.writeMap();
    this.dirtyMaps.clear();
    this.applyPendingFrees();
    for (const inode of this.dirtyInodes) this.writeInode(inode);
    this.dirtyInodes.clear();
    if (this.hasCsum) {
      for (const [bh, p] of this.pendingCsum) this.fixCsum(bh, p);
    }
    this.pendingCsum.clear();
    for (const g of this.gdDirty) this.writeGroupDesc(g);
    this.gdDirty.clear();
    if (this.cache.dirtyCount === 0 && !this.sbDirty) return;
    this.updateSuperblock();
    const dirty = this.cache.dirtyBuffers();
    if (this.journal !== null) this.journal.commitBlocks(dirty);
    else this.cache.sync();
    this.cache.sync();
    this.sbDirty = false;
  }

  private fixCsum(bh: BufferHead, p: PendingCsum): void {
    switch (p.kind) {
      case Csum.DirLeaf:
        dirLeafCsumSet(bh.data, this.blockSize, p.seed);
        break;
      case Csum.DirNode:
        dxNodeCsumSet(bh.data, this.blockSize, p.seed);
        break;
      case Csum.Extent:
        extentBlockCsumSet(bh.data, this.blockSize, p.seed);
        break;
      case Csum.Xattr:
        xattrBlockCsumSet(bh.data, bh.block, this.csumSeed);
        break;
    }
  }

  private writeGroupDesc(g: number): void {
    const gd = this.groups[g]!;
    const i = Math.floor(g / this.descPerBlock);
    const off = (g % this.descPerBlock) * this.descSize;
    const bh = this.cache.get(this.descBlock(i));
    if (this.hasCsum) {
      const gdFlagsUninit = gd.flags & BG_BLOCK_UNINIT;
      if (!gdFlagsUninit) {
        const bb = this.cache.get(gd.blockBitmap).data;
        gd.blockBitmapCsum = crc32c(this.csumSeed, bb, 0, this.blocksPerGroup / 8);
      }
      if (!(gd.flags & BG_INODE_UNINIT)) {
        const ib = this.cache.get(gd.inodeBitmap).data;
        gd.inodeBitmapCsum = crc32c(this.csumSeed, ib, 0, this.inodesPerGroup / 8);
      }
      if (this.descSize < DESC_SIZE_64BIT) {
        gd.blockBitmapCsum &= 0xffff;
        gd.inodeBitmapCsum &= 0xffff;
      }
    }
    emitGroupDesc(gd, bh.data, off, this.descSize);
    gd.checksum = this.groupDescCsum(g, bh.data, off);
    set16(bh.data, off + GD.CHECKSUM, gd.checksum);
    this.cache.markDirty(bh);
  }

  /** The superblock's counters and times into its block (ext4_commit_super). */
  private updateSuperblock(): void {
    const raw = this.sbRaw;
    const now = this.clock.coarseSec();
    set32(raw, SB.FREE_INODES_COUNT, this.freeInodes);
    set32(raw, SB.FREE_BLOCKS_COUNT_LO, lo32(this.freeBlocks));
    if (this.incompat & INCOMPAT_64BIT) set32(raw, SB.FREE_BLOCKS_COUNT_HI, hi32(this.freeBlocks));
    setTime(raw, SB.WTIME, SB.WTIME_HI, now);
    const kb = this.kbytesWrittenAtMount + Math.floor(this.bytesWritten / 1024);
    set32(raw, SB.KBYTES_WRITTEN, lo32(kb));
    set32(raw, SB.KBYTES_WRITTEN + 4, hi32(kb));
    set32(raw, SB.FEATURE_INCOMPAT, this.incompat);
    this.storeSuperblock();
  }

  private storeSuperblock(): void {
    const raw = this.sbRaw;
    if (this.hasCsum) set32(raw, SB.CHECKSUM, crc32c(0xffffffff, raw, 0, SB.CHECKSUM));
    const blk = Math.floor(SUPERBLOCK_OFFSET / this.blockSize);
    const bh = this.cache.get(blk);
    bh.data.set(raw, SUPERBLOCK_OFFSET % this.blockSize);
    this.cache.markDirty(bh);
  }

  /** Marks the filesystem in use: mount count, mount time, and the recovery or not-clean flag. */
  private setupWrite(): void {
    const raw = this.sbRaw;
    this.kbytesWrittenAtMount = le32(raw, SB.KBYTES_WRITTEN) + le32(raw, SB.KBYTES_WRITTEN + 4) * 0x100000000;
    const state = le16(raw, SB.STATE);
    this.wasValid = (state & EXT2_VALID_FS) !== 0;
    const maxMnt = le16(raw, SB.MAX_MNT_COUNT);
    if (maxMnt === 0) set16(raw, SB.MAX_MNT_COUNT, 0xffff);
    set16(raw, SB.MNT_COUNT, (le16(raw, SB.MNT_COUNT) + 1) & 0xffff);
    setTime(raw, SB.MTIME, SB.MTIME_HI, this.clock.coarseSec());
    if (this.mountedOn !== null) {
      // s_last_mounted: the path, NUL-padded to its 64 bytes (ext4_sample_last_mounted).
      const name = new TextEncoder().encode(this.mountedOn).subarray(0, 63);
      raw.fill(0, SB.LAST_MOUNTED, SB.LAST_MOUNTED + 64);
      raw.set(name, SB.LAST_MOUNTED);
    }
    if (this.journal !== null) this.incompat |= INCOMPAT_RECOVER;
    else set16(raw, SB.STATE, state & ~EXT2_VALID_FS);
    this.sbDirty = true;
    this.updateSuperblock();
    // Straight to disk (not through the journal): this is the state a crash leaves.
    this.cache.flush();
    this.sbDirty = false;
  }

  // ---- SuperBlock ------------------------------------------------------------------------

  options(): string {
    const parts = [this.readOnly ? 'ro' : 'rw', 'relatime'];
    if (this.syncMode) parts.push('sync');
    if (this.journal !== null) parts.push('data=ordered');
    if (this.opts.has('cache')) parts.push(`cache=${this.opts.get('cache')}`);
    return parts.join(',');
  }

  /** What `tkl info` shows: the feature names as dumpe2fs prints them, and the superblock's state. */
  describe(): Record<string, unknown> {
    const raw = this.sbRaw;
    const hex = [...this.uuid].map((b) => b.toString(16).padStart(2, '0')).join('');
    const time = (lo: number, hi: number): string | null => {
      const sec = le32(raw, lo) + (raw[hi]! & 0xff) * 2 ** 32;
      return sec === 0 ? null : new Date(sec * 1000).toISOString();
    };
    return {
      features: [
        ...featureNames(this.compat, COMPAT_NAMES, 'COMPAT_'),
        ...featureNames(this.incompat, INCOMPAT_NAMES, 'INCOMPAT_'),
        ...featureNames(this.roCompat, RO_COMPAT_NAMES, 'RO_COMPAT_'),
      ],
      label: new TextDecoder().decode(raw.subarray(SB.VOLUME_NAME, SB.VOLUME_NAME + 16)).replace(/\0+$/, ''),
      uuid: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
      revision: `${le32(raw, SB.REV_LEVEL)}.${le16(raw, SB.MINOR_REV_LEVEL)}`,
      blocks: this.blocksCount,
      inodeSize: this.inodeSize,
      groups: this.groupCount,
      journal: this.journal !== null ? 'internal (inode 8)' : null,
      mountCount: le16(raw, SB.MNT_COUNT),
      lastMounted: time(SB.MTIME, SB.MTIME_HI),
      lastWritten: time(SB.WTIME, SB.WTIME_HI),
    };
  }

  statfs(): StatFs {
    const raw = this.sbRaw;
    const overhead = le32(raw, SB.OVERHEAD_CLUSTERS);
    const rBlocks = join(le32(raw, SB.R_BLOCKS_COUNT_LO), this.incompat & INCOMPAT_64BIT ? le32(raw, SB.R_BLOCKS_COUNT_HI) : 0);
    const bfree = this.freeBlocks + this.pendingFreeCount;
    // Linux also holds back 2% (at most 4,096 clusters) for delayed allocation on extent filesystems.
    const resv = this.hasExtents ? Math.min(Math.floor(this.blocksCount / 50), 4096) : 0;
    return {
      type: STATFS_MAGIC,
      bsize: this.blockSize,
      blocks: this.blocksCount - (overhead > 0 && overhead < this.blocksCount ? overhead : this.computeOverhead()),
      bfree,
      bavail: Math.max(0, bfree - rBlocks - resv),
      files: this.inodesCount,
      ffree: this.freeInodes,
      fsid: [le32(this.uuid, 0) ^ le32(this.uuid, 8), le32(this.uuid, 4) ^ le32(this.uuid, 12)],
      namelen: 255,
      frsize: this.blockSize,
      flags: 0,
    };
  }

  private overheadCache = -1;
  private computeOverhead(): number {
    if (this.overheadCache >= 0) return this.overheadCache;
    let n = this.firstDataBlock;
    for (let g = 0; g < this.groupCount; g++) n += this.baseMetaBlocks(g) + 2 + this.itableBlocks;
    if (this.journal !== null) n += this.journal.totalBlocks;
    this.overheadCache = n;
    return n;
  }

  sync(): void {
    this.commit();
    this.device.flush();
  }

  remount(flags: number, data: string): void {
    const ro = (flags & MS_RDONLY) !== 0;
    if (ro === this.readOnly) return;
    if (ro) {
      this.commit();
      this.cleanShutdown();
      this.readOnly = true;
      return;
    }
    if (this.device.readOnly || this.device instanceof OverlayDevice) throw E.EROFS;
    if (this.roCompat & ~RO_COMPAT_SUPPORTED) throw E.EROFS;
    if (this.incompat & INCOMPAT_RECOVER) throw errno(EROFS, 'ext4: the journal needs recovery (mounted with noload)');
    if (this.externalJournal) throw errno(EROFS, 'ext4: the journal is on an external device, which tkl does not support');
    this.journal?.checkWritable();
    this.readOnly = false;
    this.setupWrite();
    if (data.length < 0) throw E.EINVAL;
  }

  /** The clean state Linux's put_super leaves: journal empty, recovery flag off, state valid. */
  private cleanShutdown(): void {
    const raw = this.sbRaw;
    if (this.journal !== null) this.incompat &= ~INCOMPAT_RECOVER;
    else if (this.wasValid) set16(raw, SB.STATE, le16(raw, SB.STATE) | EXT2_VALID_FS);
    this.updateSuperblock();
    // The superblock goes in place directly: the journal is empty at this point.
    this.cache.flush();
  }

  /**
   * The last unmount: commits, leaves the filesystem clean and lets go of the device. umount
   * syncs before it detaches (a failure there keeps the mount), so an error here is rare (the
   * host failing between the two); the device is released all the same, and the journal
   * keeps the image consistent.
   */
  kill(): void {
    if (this.killed) return;
    try {
      if (!this.readOnly) {
        this.commit();
        this.cleanShutdown();
      }
    } finally {
      this.killed = true;
      if (this.claimed !== null && this.claimed.holder === this) this.claimed.holder = null;
      this.claimed = null;
    }
  }

  /** Whether this mount treats `ino`'s xattrs, inline data, dir types etc. by feature. */
  get hasFiletype(): boolean {
    return (this.incompat & INCOMPAT_FILETYPE) !== 0;
  }
  get hasExtents(): boolean {
    return (this.incompat & INCOMPAT_EXTENTS) !== 0;
  }
  get hasInlineData(): boolean {
    return (this.incompat & INCOMPAT_INLINE_DATA) !== 0;
  }
  get hasDirNlink(): boolean {
    return (this.roCompat & RO_COMPAT_DIR_NLINK) !== 0;
  }
  get hasLargeDir(): boolean {
    return (this.incompat & INCOMPAT_LARGEDIR) !== 0;
  }
  get hasXattr(): boolean {
    return (this.compat & COMPAT_EXT_ATTR) !== 0;
  }
  get hasDirIndex(): boolean {
    return (this.compat & COMPAT_DIR_INDEX) !== 0;
  }
  get hasHugeFile(): boolean {
    return (this.roCompat & RO_COMPAT_HUGE_FILE) !== 0;
  }
  get hasLargeFile(): boolean {
    return (this.roCompat & RO_COMPAT_LARGE_FILE) !== 0;
  }

  /** Sets large_file when a file first grows past 2 GiB (as Linux does). */
  noteLargeFile(): void {
    if (!this.hasLargeFile) {
      (this as { roCompat: number }).roCompat |= RO_COMPAT_LARGE_FILE;
      set32(this.sbRaw, SB.FEATURE_RO_COMPAT, this.roCompat);
      this.sbDirty = true;
    }
  }

  /** Whether new regular files and directories use extents. */
  get newFilesUseExtents(): boolean {
    return this.hasExtents;
  }

  /** A fresh random 32-bit value (inode generations), drawn from the host 1,024 at a time. */
  random32(): number {
    if (this.randPos >= this.randPool.length) {
      this.host.randomFill(this.randPool);
      this.randPos = 0;
    }
    const v = le32(this.randPool, this.randPos);
    this.randPos += 4;
    return v;
  }

  private randPos = 1 << 30;
  private readonly randPool = new Uint8Array(4096);

  get journalIno(): number {
    return le32(this.sbRaw, SB.JOURNAL_INUM) || EXT2_JOURNAL_INO;
  }
}

/** Bytes of the staging buffer: runs with a partial first or last block up to this size go out in one write. */
export const STAGE_BYTES = 64 * 1024;

/**
 * Bytes per slab of raw inode buffers (16 inodes of 256 bytes): a slab lives while any of its
 * inodes does, so at worst an inode keeps a block's worth of memory, as a cached inode-table
 * block would.
 */
const INODE_SLAB_BYTES = 4096;

const KNOWN_OPTIONS = new Set([
  'ro', 'rw', 'sync', 'async', 'dirsync', 'noload', 'norecovery', 'errors', 'user_xattr', 'nouser_xattr', 'acl', 'noacl', 'barrier', 'nobarrier',
  'data', 'commit', 'relatime', 'noatime', 'nodelalloc', 'delalloc', 'discard', 'nodiscard', 'journal_checksum',
  'block_validity', 'noblock_validity', 'auto_da_alloc', 'noauto_da_alloc', 'init_itable', 'noinit_itable',
  'cache',
]);

const ZERO2 = new Uint8Array(2);
const LE4 = new Uint8Array(4);

function readSuperblock(device: BlockDevice): Uint8Array {
  if (device.size < SUPERBLOCK_OFFSET + SUPERBLOCK_SIZE) throw errno(EINVAL, 'ext4: device too small to hold a superblock');
  const raw = new Uint8Array(SUPERBLOCK_SIZE);
  device.read(SUPERBLOCK_OFFSET, raw);
  if (le16(raw, SB.MAGIC) !== EXT4_SUPER_MAGIC) throw errno(EINVAL, 'ext4: no ext2/3/4 superblock (bad magic)');
  return raw;
}

/** Refuses incompat features this code does not understand, and those the flavour lacks. */
function checkIncompat(incompat: number, flavour: Flavour, compat: number): void {
  const unknown = incompat & ~INCOMPAT_SUPPORTED;
  if (unknown !== 0) {
    throw errno(EINVAL, `ext4: unsupported incompat features: ${featureNames(unknown, INCOMPAT_NAMES, 'INCOMPAT_').join(', ')}`);
  }
  if (incompat & INCOMPAT_MMP) throw errno(EINVAL, 'ext4: unsupported incompat feature: mmp');
  if (flavour === 'ext2' || flavour === 'ext3') {
    const allowed = INCOMPAT_FILETYPE | INCOMPAT_META_BG | (flavour === 'ext3' ? INCOMPAT_RECOVER : 0);
    const extra = incompat & ~allowed;
    if (extra) throw errno(EINVAL, `${flavour}: filesystem has features ${flavour} lacks: ${featureNames(extra, INCOMPAT_NAMES, 'INCOMPAT_').join(', ')} (mount it as ext4)`);
    if (flavour === 'ext3' && !(compat & COMPAT_HAS_JOURNAL)) throw errno(EINVAL, `ext3: filesystem has no journal (${COMPAT_NAMES[COMPAT_HAS_JOURNAL]})`);
  }
}

/** Stores a superblock timestamp with its high byte (dates past 2038). */
function setTime(raw: Uint8Array, lo: number, hiByte: number, sec: number): void {
  set32(raw, lo, lo32(sec));
  raw[hiByte] = Math.floor(sec / 0x100000000) & 0xff;
}

// ---- bit helpers -----------------------------------------------------------------------------

export function testBit(bm: Uint8Array, i: number): boolean {
  return (bm[i >>> 3]! & (1 << (i & 7))) !== 0;
}
export function setBit(bm: Uint8Array, i: number): void {
  bm[i >>> 3]! |= 1 << (i & 7);
}
/** Sets bits [from, to) (nothing when to <= from): whole bytes at once. */
export function setBits(bm: Uint8Array, from: number, to: number): void {
  let i = from;
  for (; i < to && (i & 7) !== 0; i++) setBit(bm, i);
  const whole = (to - i) >>> 3;
  if (i < to && whole > 0) {
    bm.fill(0xff, i >>> 3, (i >>> 3) + whole);
    i += whole * 8;
  }
  for (; i < to; i++) setBit(bm, i);
}

export function clearBit(bm: Uint8Array, i: number): void {
  bm[i >>> 3]! &= ~(1 << (i & 7));
}

/** The first clear bit in [from, n), or -1. */
export function findZeroBit(bm: Uint8Array, from: number, n: number): number {
  let i = from;
  while (i < n) {
    if ((i & 31) === 0 && i + 32 <= n) {
      const o = i >>> 3;
      if (bm[o] === 0xff && bm[o + 1] === 0xff && bm[o + 2] === 0xff && bm[o + 3] === 0xff) {
        i += 32;
        continue;
      }
    }
    if ((i & 7) === 0 && bm[i >>> 3] === 0xff) {
      i += 8;
      continue;
    }
    if (!testBit(bm, i)) return i;
    i++;
  }
  return -1;
}

/**
 * A run of clear bits in [from, n) at least `want` long (or the longest found up to `max`),
 * scanning from `from` and wrapping to 0. Returns null when no run of `want` exists.
 */
function findFreeRun(bm: Uint8Array, from: number, n: number, want: number, max: number): { start: number; len: number } | null {
  const scan = (lo: number, hi: number): { start: number; len: number } | null => {
    let i = lo;
    while (i < hi) {
      const z = findZeroBit(bm, i, hi);
      if (z < 0) return null;
      let e = z + 1;
      while (e < hi && e - z < max && !testBit(bm, e)) e++;
      if (e - z >= want) return { start: z, len: e - z };
      i = e;
    }
    return null;
  };
  return scan(from, n) ?? (from > 0 ? scan(0, Math.min(n, from + max)) : null);
}

// ---- checksums of blocks owned by an inode ---------------------------------------------------

/** Sets a directory leaf block's tail checksum (the 12-byte fake entry at its end). */
export function dirLeafCsumSet(b: Uint8Array, bs: number, seed: number): void {
  const t = bs - 12;
  set32(b, t + 8, crc32c(seed, b, 0, t));
}

/** Sets an htree node's checksum (the dx_tail after its `limit` entries; covers `count` entries). */
export function dxNodeCsumSet(b: Uint8Array, bs: number, seed: number): void {
  const countOff = le32(b, 0) === 0 && le16(b, 4) === bs ? 8 : 0x20;
  const limit = le16(b, countOff);
  const count = le16(b, countOff + 2);
  const tail = countOff + limit * 8;
  if (tail + 8 > bs) return;
  let c = crc32c(seed, b, 0, countOff + count * 8);
  c = crc32c(c, b, tail, tail + 4);
  c = crc32c(c, ZERO4);
  set32(b, tail + 4, c);
}

/** Sets an extent tree block's checksum (after eh_max entries). */
export function extentBlockCsumSet(b: Uint8Array, bs: number, seed: number): void {
  const max = le16(b, 4);
  const t = 12 + max * 12;
  if (t + 4 > bs) return;
  set32(b, t, crc32c(seed, b, 0, t));
}

/** Sets an xattr block's checksum: over the block number and the block with h_checksum zeroed. */
export function xattrBlockCsumSet(b: Uint8Array, block: number, fsSeed: number): void {
  set32(b, 0x10, 0);
  let c = crc32c(fsSeed, u64le(block));
  c = crc32c(c, b);
  set32(b, 0x10, c);
}

const ZERO4 = new Uint8Array(4);
function u64le(v: number): Uint8Array {
  const o = new Uint8Array(8);
  set32(o, 0, lo32(v));
  set32(o, 4, hi32(v));
  return o;
}

