// mkfs for ext2, ext3 and ext4 (what mke2fs does): geometry from the size and the usage type,
// group descriptors with flex_bg placement, bitmaps, inode tables, the root and lost+found
// directories, the resize inode's reserved GDT blocks, an empty zeroed journal, and superblock
// backups. The ext4 default is the feature set of mke2fs 1.47: has_journal, ext_attr,
// resize_inode, dir_index, filetype, extent, 64bit, flex_bg, sparse_super, large_file,
// huge_file, dir_nlink, extra_isize and metadata_csum.

import type { BlockDevice } from '../../block/block_device.js';
import { EINVAL, ENOSPC } from '../../abi/linux/errno.js';
import { errno } from '../../kernel/errno.js';
import { writeBlockMap, writeExtentTree, type MapSink } from './bmap.js';
import { crc16, crc32c, crc32cU32 } from './crc.js';
import { DX_HASH_HALF_MD4 } from './hash.js';
import { FileMap } from './extent_map.js';
import {
  BG_BLOCK_UNINIT, BG_INODE_UNINIT, BG_INODE_ZEROED, COMPAT_HAS_JOURNAL,
  COMPAT_NAMES, COMPAT_RESIZE_INODE, DESC_SIZE_64BIT, DIRENT, DIRENT_TAIL_FT, DIRENT_TAIL_SIZE, EXT2_FLAGS_SIGNED_HASH,
  EXT2_VALID_FS, EXT4_CRC32C_CHKSUM, EXT4_EXTENTS_FL, EXT4_SUPER_MAGIC, GD, GOOD_OLD_DESC_SIZE,
  INCOMPAT_64BIT, INCOMPAT_EXTENTS, INCOMPAT_FILETYPE, INCOMPAT_INLINE_DATA, INCOMPAT_META_BG,
  INCOMPAT_NAMES, INCOMPAT_SUPPORTED, INO, JBD2_MAGIC, JBD2_SUPERBLOCK_V2, JH, JSB, INCOMPAT_FLEX_BG,
  RO_COMPAT_EXTRA_ISIZE, RO_COMPAT_GDT_CSUM, RO_COMPAT_METADATA_CSUM,
  RO_COMPAT_NAMES, RO_COMPAT_SPARSE_SUPER, RO_COMPAT_SUPPORTED, SB, SUPERBLOCK_OFFSET, emitGroupDesc, fitsInInode,
  hi32, lo32, set16, set32, setBe32, type GroupDesc, DIRENT_HEADER,
} from './layout.js';

export interface MkfsOptions {
  /** 'ext2', 'ext3' or 'ext4' (default). */
  type?: 'ext2' | 'ext3' | 'ext4';
  /** Bytes to use (default: the whole device). */
  size?: number;
  /** 1024, 2048, 4096 (default by size: 1024 below 512 MiB, else 4096, as mke2fs.conf). */
  blockSize?: number;
  /** Bytes per inode (default 16384; 4096 below 512 MiB; 8192 below 3 MiB). */
  inodeRatio?: number;
  /** Inode size (default 256). */
  inodeSize?: number;
  /** Volume label (up to 16 bytes). */
  label?: string;
  /** "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (default random). */
  uuid?: string;
  /** Feature changes as mke2fs -O takes them: "^metadata_csum,inline_data". */
  features?: string;
  /** Percentage of blocks reserved for root (default 5). */
  reservedRatio?: number;
  /** Journal size in blocks (default by filesystem size, as mke2fs). */
  journalBlocks?: number;
  /** Creation time in seconds (default now). */
  now?: number;
  /** Random bytes (default crypto.getRandomValues). */
  random?: (buf: Uint8Array) => void;
}

export interface MkfsResult {
  blockSize: number;
  blocks: number;
  inodes: number;
  groups: number;
  features: string[];
  uuid: string;
}

const BASE_FEATURES = 'sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr';
const TYPE_FEATURES = {
  ext2: '',
  ext3: 'has_journal',
  ext4: 'has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize',
};

/** Parses "a,^b" into set and cleared feature masks (compat, incompat, ro_compat). Errors: EINVAL. */
function applyFeatures(list: string, f: { compat: number; incompat: number; ro: number }): void {
  const byName = new Map<string, [number, number]>();
  for (const [bit, n] of Object.entries(COMPAT_NAMES)) byName.set(n, [0, Number(bit)]);
  for (const [bit, n] of Object.entries(INCOMPAT_NAMES)) byName.set(n, [1, Number(bit)]);
  for (const [bit, n] of Object.entries(RO_COMPAT_NAMES)) byName.set(n, [2, Number(bit)]);
  byName.set('extents', [1, INCOMPAT_EXTENTS]);
  byName.set('gdt_csum', [2, RO_COMPAT_GDT_CSUM]);
  for (const raw of list.split(',')) {
    const item = raw.trim();
    if (item === '' || item === 'none') continue;
    const off = item.startsWith('^');
    const name = off ? item.slice(1) : item;
    const e = byName.get(name);
    if (e === undefined) throw errno(EINVAL, `mkfs: unknown feature '${name}'`);
    const key = (['compat', 'incompat', 'ro'] as const)[e[0]]!;
    if (off) f[key] &= ~e[1];
    else f[key] |= e[1];
  }
}

/** Journal size in blocks mke2fs picks for a filesystem of `blocks` blocks (ext2fs_default_journal_size). */
export function defaultJournalBlocks(blocks: number): number {
  if (blocks < 2048) return 0;
  if (blocks < 32768) return 1024;
  if (blocks < 256 * 1024) return 4096;
  if (blocks < 512 * 1024) return 8192;
  if (blocks < 4096 * 1024) return 16384;
  if (blocks < 8192 * 1024) return 32768;
  if (blocks < 16384 * 1024) return 65536;
  if (blocks < 32768 * 1024) return 131072;
  return 262144;
}

function parseUuid(s: string): Uint8Array {
  const hex = s.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw errno(EINVAL, `mkfs: bad UUID '${s}'`);
  const u = new Uint8Array(16);
  for (let i = 0; i < 16; i++) u[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return u;
}

export function formatUuid(u: Uint8Array): string {
  const h = [...u].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function randomUuid(random: (b: Uint8Array) => void): Uint8Array {
  const u = new Uint8Array(16);
  random(u);
  u[6] = (u[6]! & 0x0f) | 0x40;
  u[8] = (u[8]! & 0x3f) | 0x80;
  return u;
}

/**
 * Writes a new, empty ext2/3/4 filesystem to `device`. Errors: EINVAL for impossible options
 * (naming them), ENOSPC when the device is too small, EIO.
 */
export function mkfsExt4(device: BlockDevice, o: MkfsOptions = {}): MkfsResult {
  if (device.readOnly) throw errno(EINVAL, 'mkfs: device is read-only');
  const type = o.type ?? 'ext4';
  const size = o.size ?? device.size;
  if (!Number.isSafeInteger(size) || size > device.size || size <= 0) throw errno(EINVAL, `mkfs: size ${size} does not fit the device (${device.size} bytes)`);
  const usage = size < 3 << 20 ? 'floppy' : size < 512 << 20 ? 'small' : 'default';
  const bs = o.blockSize ?? (usage === 'default' ? 4096 : 1024);
  if (![1024, 2048, 4096, 8192, 16384, 32768, 65536].includes(bs)) throw errno(EINVAL, `mkfs: block size ${bs}`);
  const inodeRatio = o.inodeRatio ?? (usage === 'floppy' ? 8192 : usage === 'small' ? 4096 : 16384);
  const inodeSize = o.inodeSize ?? 256;
  if (inodeSize < 128 || inodeSize > bs || (inodeSize & (inodeSize - 1)) !== 0) throw errno(EINVAL, `mkfs: inode size ${inodeSize}`);
  if (inodeRatio < 1024 || inodeRatio > 64 * 1024 * 1024) throw errno(EINVAL, `mkfs: inode ratio ${inodeRatio}`);
  const random = o.random ?? ((b: Uint8Array) => {
    globalThis.crypto.getRandomValues(b as Uint8Array<ArrayBuffer>);
  });
  // 10 ms back, like Clock.coarseSec: never after what e2fsck's time() reads right after.
  const now = o.now ?? Math.floor((Date.now() - 10) / 1000);

  // Features.
  const feat = { compat: 0, incompat: 0, ro: 0 };
  applyFeatures(BASE_FEATURES, feat);
  applyFeatures(TYPE_FEATURES[type], feat);
  if (o.features !== undefined) applyFeatures(o.features, feat);
  if (feat.incompat & ~INCOMPAT_SUPPORTED) throw errno(EINVAL, 'mkfs: tkl cannot make filesystems with those incompat features');
  if (feat.ro & ~RO_COMPAT_SUPPORTED) throw errno(EINVAL, 'mkfs: tkl cannot make filesystems with those ro_compat features');
  if (feat.incompat & INCOMPAT_64BIT && !(feat.incompat & INCOMPAT_EXTENTS)) throw errno(EINVAL, 'mkfs: 64bit needs extents');
  if (feat.incompat & INCOMPAT_META_BG && feat.compat & COMPAT_RESIZE_INODE) throw errno(EINVAL, 'mkfs: meta_bg and resize_inode exclude each other');
  if (feat.ro & RO_COMPAT_METADATA_CSUM) feat.ro &= ~RO_COMPAT_GDT_CSUM;
  if (feat.incompat & INCOMPAT_INLINE_DATA && inodeSize < 256) throw errno(EINVAL, 'mkfs: inline_data needs 256-byte inodes');
  const csum = (feat.ro & RO_COMPAT_METADATA_CSUM) !== 0;
  const gdtCsum = (feat.ro & RO_COMPAT_GDT_CSUM) !== 0;
  const uninit = csum || gdtCsum;
  const is64 = (feat.incompat & INCOMPAT_64BIT) !== 0;
  const extents = (feat.incompat & INCOMPAT_EXTENTS) !== 0;
  const sparse = (feat.ro & RO_COMPAT_SPARSE_SUPER) !== 0;
  const metaBg = (feat.incompat & INCOMPAT_META_BG) !== 0;
  const flex = (feat.incompat & INCOMPAT_FLEX_BG) !== 0;
  const logFlex = flex ? 4 : 0;
  const perFlex = 1 << logFlex;

  // Geometry.
  const firstData = bs === 1024 ? 1 : 0;
  let blocks = Math.floor(size / bs);
  if (!is64 && blocks > 2 ** 32 - 1) blocks = 2 ** 32 - 1;
  const bpg = bs * 8;
  const descSize = is64 ? DESC_SIZE_64BIT : GOOD_OLD_DESC_SIZE;
  const descPerBlock = bs / descSize;
  const inodesPerBlock = bs / inodeSize;
  let groups = Math.ceil((blocks - firstData) / bpg);
  const ipgFor = (g: number): number => {
    let ipg = Math.ceil(Math.max(16, (blocks * bs) / inodeRatio) / g);
    ipg = Math.ceil(ipg / inodesPerBlock) * inodesPerBlock;
    ipg = Math.ceil(ipg / 8) * 8;
    return Math.min(ipg, bs * 8, Math.floor(2 ** 32 / g) - inodesPerBlock);
  };
  let ipg = ipgFor(groups);
  let itb = (ipg * inodeSize) / bs;
  const hasSuper = (g: number): boolean => {
    if (g <= 1 || !sparse) return true;
    if (!(g & 1)) return false;
    for (const b of [3, 5, 7]) {
      let n = b;
      while (n < g) n *= b;
      if (n === g) return true;
    }
    return false;
  };
  let gdb = Math.ceil(groups / descPerBlock);
  let reservedGdt = 0;
  if (feat.compat & COMPAT_RESIZE_INODE) {
    // Room to grow the filesystem 1024-fold (or to 2^32 blocks), as mke2fs reserves.
    const maxBlocks = Math.min(2 ** 32 - 1, blocks * 1024);
    const rsvGroups = Math.ceil((maxBlocks - firstData) / bpg);
    reservedGdt = Math.min(Math.max(Math.ceil(rsvGroups / descPerBlock) - gdb, 0), bs / 4);
  }
  const baseMeta = (g: number): number => {
    if (!metaBg) return hasSuper(g) ? 1 + gdb + reservedGdt : 0;
    const meta = Math.floor(g / descPerBlock);
    const first = meta * descPerBlock;
    const isDesc = g === first || g === first + 1 || g === first + descPerBlock - 1;
    return (hasSuper(g) ? 1 : 0) + (isDesc ? 1 : 0);
  };
  // A last group too small for its own metadata (and 50 blocks of data) is dropped, as mke2fs does.
  const lastSize = blocks - firstData - (groups - 1) * bpg;
  if (groups > 1 && lastSize < baseMeta(groups - 1) + (flex ? 0 : 2 + itb) + 50) {
    blocks -= lastSize;
    groups--;
    ipg = ipgFor(groups);
    itb = (ipg * inodeSize) / bs;
    gdb = Math.ceil(groups / descPerBlock);
  }
  if (groups < 1 || blocks - firstData < baseMeta(0) + 2 + itb + 64) throw errno(ENOSPC, `mkfs: ${size} bytes is too small for an ${type} filesystem`);
  const inodes = ipg * groups;
  const groupFirst = (g: number): number => firstData + g * bpg;
  const groupLen = (g: number): number => (g === groups - 1 ? blocks - groupFirst(g) : bpg);

  // The block allocation map, built in memory.
  const used = new Uint8Array(Math.ceil(blocks / 8));
  const isUsed = (b: number): boolean => (used[b >>> 3]! & (1 << (b & 7))) !== 0;
  const mark = (b: number, n = 1): void => {
    for (let i = 0; i < n; i++) used[(b + i) >>> 3]! |= 1 << ((b + i) & 7);
  };
  for (let b = 0; b < firstData; b++) mark(b);
  for (let g = 0; g < groups; g++) mark(groupFirst(g), baseMeta(g));
  /** First run of `n` free blocks at or after `from`. */
  const allocRun = (from: number, n: number): number => {
    let start = Math.max(from, firstData);
    for (;;) {
      if (start + n > blocks) {
        if (from > firstData) return allocRun(firstData, n);
        throw errno(ENOSPC, `mkfs: no room for ${n} contiguous blocks`);
      }
      let ok = true;
      for (let i = 0; i < n; i++) {
        if (isUsed(start + i)) {
          start += i + 1;
          ok = false;
          break;
        }
      }
      if (ok) {
        mark(start, n);
        return start;
      }
    }
  };

  // Bitmaps and inode tables: packed per flex group at its start, or in each group.
  const gds: GroupDesc[] = [];
  for (let g = 0; g < groups; g++) {
    gds.push({ blockBitmap: 0, inodeBitmap: 0, inodeTable: 0, freeBlocks: 0, freeInodes: ipg, usedDirs: 0, flags: 0, itableUnused: uninit ? ipg : 0, blockBitmapCsum: 0, inodeBitmapCsum: 0, checksum: 0 });
  }
  for (let f = 0; f < groups; f += perFlex) {
    const members = Math.min(perFlex, groups - f);
    const start = groupFirst(f);
    if (flex) {
      for (let i = 0; i < members; i++) gds[f + i]!.blockBitmap = allocRun(start, 1);
      for (let i = 0; i < members; i++) gds[f + i]!.inodeBitmap = allocRun(start, 1);
      for (let i = 0; i < members; i++) gds[f + i]!.inodeTable = allocRun(start, itb);
    } else {
      const gd = gds[f]!;
      gd.blockBitmap = allocRun(start, 1);
      gd.inodeBitmap = allocRun(start, 1);
      gd.inodeTable = allocRun(start, itb);
    }
  }

  const meta = new Map<number, Uint8Array>();
  const blockOf = (b: number): Uint8Array => {
    let d = meta.get(b);
    if (d === undefined) {
      d = new Uint8Array(bs);
      meta.set(b, d);
    }
    return d;
  };

  // The superblock (filled in fully below, once the counts are known).
  const sb = new Uint8Array(1024);
  const uuid = o.uuid !== undefined ? parseUuid(o.uuid) : randomUuid(random);
  const csumSeed = csum ? crc32c(0xffffffff, uuid) : 0;
  const hashSeed = randomUuid(random);

  // Inodes, written into their table blocks at the end.
  const inodeImages = new Map<number, Uint8Array>();
  const newInode = (ino: number, mode: number, links: number, extra: boolean): Uint8Array => {
    const raw = new Uint8Array(inodeSize);
    set16(raw, INO.MODE, mode);
    set16(raw, INO.LINKS_COUNT, links);
    for (const off of [INO.ATIME, INO.CTIME, INO.MTIME]) set32(raw, off, lo32(now));
    if (inodeSize > 128 && extra) {
      set16(raw, INO.EXTRA_ISIZE, 32);
      set32(raw, INO.CRTIME, lo32(now));
      const ex = Math.floor(now / 2 ** 32) & 3;
      for (const off of [INO.CTIME_EXTRA, INO.MTIME_EXTRA, INO.ATIME_EXTRA, INO.CRTIME_EXTRA]) set32(raw, off, ex);
    }
    inodeImages.set(ino, raw);
    return raw;
  };
  const setBlocks = (raw: Uint8Array, n: number): void => set32(raw, INO.BLOCKS_LO, n * (bs / 512));

  /** A MapSink that allocates from the in-memory map and writes tree blocks into `meta`. */
  const sink: MapSink = {
    blockSize: bs, blocksCount: blocks, firstDataBlock: firstData, hasCsum: csum,
    readBlock: (b) => blockOf(b),
    allocMeta: (goal) => allocRun(goal >= 0 ? goal : firstData, 1),
    freeMeta: () => {},
    writeTreeBlock: (b, fill) => fill(blockOf(b)),
  };

  /** Directory leaf helpers. */
  const leafEnd = bs - (csum ? DIRENT_TAIL_SIZE : 0);
  const dirent = (d: Uint8Array, off: number, ino: number, rec: number, name: string, ft: number): void => {
    set32(d, off + DIRENT.INODE, ino);
    set16(d, off + DIRENT.REC_LEN, rec);
    d[off + DIRENT.NAME_LEN] = name.length;
    d[off + DIRENT.FILE_TYPE] = feat.incompat & INCOMPAT_FILETYPE ? ft : 0;
    for (let i = 0; i < name.length; i++) d[off + DIRENT_HEADER + i] = name.charCodeAt(i);
  };
  const dirBlocks: [number, number][] = [];
  const finishLeaf = (d: Uint8Array): void => {
    if (!csum) return;
    const t = bs - DIRENT_TAIL_SIZE;
    set16(d, t + 4, DIRENT_TAIL_SIZE);
    d[t + 7] = DIRENT_TAIL_FT;
  };
  const mapFor = (raw: Uint8Array, p: number, n: number, goalGen: number): void => {
    const map = new FileMap();
    map.insert(0, n, p, false);
    const iblock = raw.subarray(INO.BLOCK, INO.BLOCK + 60);
    if (extents) {
      set32(raw, INO.FLAGS, EXT4_EXTENTS_FL);
      const tree = writeExtentTree(sink, map, iblock, [], goalGen);
      setBlocks(raw, n + tree.length);
    } else {
      const tree = writeBlockMap(sink, map, iblock, []);
      setBlocks(raw, n + tree.length);
    }
  };

  // Root directory (inode 2) and lost+found (inode 11).
  const dataStart = (() => {
    const g0 = gds[0]!;
    return Math.max(g0.inodeTable + itb * Math.min(perFlex, groups), groupFirst(0) + baseMeta(0));
  })();
  const rootBlk = allocRun(dataStart, 1);
  const lpfBlocks = Math.min(12, Math.max(2, 16384 / bs));
  const lpfBlk = allocRun(dataStart, lpfBlocks);
  {
    const d = blockOf(rootBlk);
    dirent(d, 0, 2, 12, '.', 2);
    dirent(d, 12, 2, 12, '..', 2);
    dirent(d, 24, 11, leafEnd - 24, 'lost+found', 2);
    finishLeaf(d);
    dirBlocks.push([rootBlk, 2]);
    const raw = newInode(2, 0o040755, 3, true);
    set32(raw, INO.SIZE_LO, bs);
    mapFor(raw, rootBlk, 1, 0);
  }
  {
    for (let i = 0; i < lpfBlocks; i++) {
      const d = blockOf(lpfBlk + i);
      if (i === 0) {
        dirent(d, 0, 11, 12, '.', 2);
        dirent(d, 12, 2, leafEnd - 12, '..', 2);
      } else set16(d, DIRENT.REC_LEN, leafEnd);
      finishLeaf(d);
      dirBlocks.push([lpfBlk + i, 11]);
    }
    const raw = newInode(11, 0o040700, 2, true);
    set32(raw, INO.SIZE_LO, lpfBlocks * bs);
    mapFor(raw, lpfBlk, lpfBlocks, 0);
  }
  gds[0]!.usedDirs = 2;

  // Reserved inodes: the bad-blocks inode carries times; the others are empty.
  newInode(1, 0, 0, false);
  for (const i of [3, 4, 5, 6, 9, 10]) {
    const r = new Uint8Array(inodeSize);
    inodeImages.set(i, r);
  }

  // The resize inode: a double-indirect block listing the reserved GDT blocks, each listing its backups.
  if (reservedGdt > 0) {
    const apb = bs / 4;
    const dind = allocRun(firstData + gdb + reservedGdt + 2 + itb, 1);
    const raw = newInode(7, 0o100600, 1, true);
    const isz = (apb * apb + apb + 12) * bs;
    set32(raw, INO.SIZE_LO, lo32(isz));
    set32(raw, INO.SIZE_HIGH, hi32(isz));
    set32(raw, INO.BLOCK + 13 * 4, dind);
    let count = 1;
    const dd = blockOf(dind);
    const backups: number[] = [];
    for (let g = 1; g < groups; g++) if (hasSuper(g)) backups.push(g);
    for (let r = 0; r < reservedGdt; r++) {
      const gdtBlk = firstData + 1 + gdb + r;
      set32(dd, ((gdb + r) % apb) * 4, gdtBlk);
      count++;
      const lst = blockOf(gdtBlk);
      backups.forEach((g, i) => {
        set32(lst, i * 4, gdtBlk + g * bpg);
        count++;
      });
    }
    setBlocks(raw, count);
  }

  // The journal: zeroed blocks, a v2 superblock, the inode's map backed up in the superblock.
  let journalBlocks = 0;
  let journalStart = 0;
  if (feat.compat & COMPAT_HAS_JOURNAL) {
    journalBlocks = o.journalBlocks ?? defaultJournalBlocks(blocks);
    if (journalBlocks < 1024) throw errno(EINVAL, `mkfs: journal of ${journalBlocks} blocks (the filesystem is too small for one)`);
    const mid = groupFirst(Math.floor(groups / 2));
    journalStart = allocRun(mid, journalBlocks);
    const raw = newInode(8, 0o100600, 1, true);
    set32(raw, INO.SIZE_LO, lo32(journalBlocks * bs));
    set32(raw, INO.SIZE_HIGH, hi32(journalBlocks * bs));
    const map = new FileMap();
    for (let l = 0; l < journalBlocks; ) {
      const n = Math.min(32768, journalBlocks - l);
      map.insert(l, n, journalStart + l, false);
      l += n;
    }
    const iblock = raw.subarray(INO.BLOCK, INO.BLOCK + 60);
    let tree: number[];
    if (extents) {
      set32(raw, INO.FLAGS, EXT4_EXTENTS_FL);
      tree = writeExtentTree(sink, map, iblock, [], 0);
    } else tree = writeBlockMap(sink, map, iblock, []);
    setBlocks(raw, journalBlocks + tree.length);
    set32(sb, SB.JOURNAL_INUM, 8);
    sb[SB.JNL_BACKUP_TYPE] = 1;
    for (let i = 0; i < 15; i++) set32(sb, SB.JNL_BLOCKS + i * 4, new DataView(iblock.buffer, iblock.byteOffset).getUint32(i * 4, true));
    set32(sb, SB.JNL_BLOCKS + 15 * 4, hi32(journalBlocks * bs));
    set32(sb, SB.JNL_BLOCKS + 16 * 4, lo32(journalBlocks * bs));
  }

  // Inode bitmap of group 0: the reserved inodes and lost+found.
  const firstIno = 11;
  gds[0]!.freeInodes = ipg - firstIno;
  if (uninit) gds[0]!.itableUnused = ipg - firstIno;

  // Block bitmaps and free counts.
  let freeBlocks = 0;
  const blockBitmaps: Uint8Array[] = [];
  for (let g = 0; g < groups; g++) {
    const bm = new Uint8Array(bs);
    const first = groupFirst(g);
    const n = groupLen(g);
    let usedN = 0;
    for (let i = 0; i < n; i++) {
      if (isUsed(first + i)) {
        bm[i >>> 3]! |= 1 << (i & 7);
        usedN++;
      }
    }
    for (let i = n; i < bs * 8; i++) bm[i >>> 3]! |= 1 << (i & 7);
    gds[g]!.freeBlocks = n - usedN;
    freeBlocks += n - usedN;
    blockBitmaps.push(bm);
    const gd = gds[g]!;
    if (uninit) {
      if (g !== 0) gd.flags |= BG_INODE_UNINIT;
      // Uninitialised block bitmap: only where the group holds nothing but its own base metadata.
      if (g !== groups - 1 && usedN === baseMeta(g)) gd.flags |= BG_BLOCK_UNINIT;
    }
  }
  const zeroItables = itb * groups * bs <= 64 << 20;
  if (uninit && zeroItables) for (const gd of gds) gd.flags |= BG_INODE_ZEROED;

  // The superblock.
  const rBlocks = Math.floor((blocks * (o.reservedRatio ?? 5)) / 100);
  set32(sb, SB.INODES_COUNT, inodes);
  set32(sb, SB.BLOCKS_COUNT_LO, lo32(blocks));
  set32(sb, SB.R_BLOCKS_COUNT_LO, lo32(rBlocks));
  set32(sb, SB.FREE_BLOCKS_COUNT_LO, lo32(freeBlocks));
  set32(sb, SB.FREE_INODES_COUNT, inodes - firstIno);
  set32(sb, SB.FIRST_DATA_BLOCK, firstData);
  set32(sb, SB.LOG_BLOCK_SIZE, Math.log2(bs) - 10);
  set32(sb, SB.LOG_CLUSTER_SIZE, Math.log2(bs) - 10);
  set32(sb, SB.BLOCKS_PER_GROUP, bpg);
  set32(sb, SB.CLUSTERS_PER_GROUP, bpg);
  set32(sb, SB.INODES_PER_GROUP, ipg);
  set32(sb, SB.WTIME, lo32(now));
  set16(sb, SB.MAX_MNT_COUNT, 0xffff);
  set16(sb, SB.MAGIC, EXT4_SUPER_MAGIC);
  set16(sb, SB.STATE, EXT2_VALID_FS);
  set16(sb, SB.ERRORS, 1);
  set32(sb, SB.LASTCHECK, lo32(now));
  set32(sb, SB.REV_LEVEL, 1);
  set32(sb, SB.FIRST_INO, firstIno);
  set16(sb, SB.INODE_SIZE, inodeSize);
  set32(sb, SB.FEATURE_COMPAT, feat.compat);
  set32(sb, SB.FEATURE_INCOMPAT, feat.incompat);
  set32(sb, SB.FEATURE_RO_COMPAT, feat.ro);
  sb.set(uuid, SB.UUID);
  if (o.label !== undefined) {
    const l = new TextEncoder().encode(o.label);
    if (l.length > 16) throw errno(EINVAL, 'mkfs: label longer than 16 bytes');
    sb.set(l, SB.VOLUME_NAME);
  }
  set16(sb, SB.RESERVED_GDT_BLOCKS, reservedGdt);
  sb.set(hashSeed, SB.HASH_SEED);
  sb[SB.DEF_HASH_VERSION] = DX_HASH_HALF_MD4;
  if (is64) set16(sb, SB.DESC_SIZE, descSize);
  set32(sb, SB.DEFAULT_MOUNT_OPTS, 0x000c);
  set32(sb, SB.MKFS_TIME, lo32(now));
  if (is64) {
    set32(sb, SB.BLOCKS_COUNT_HI, hi32(blocks));
    set32(sb, SB.R_BLOCKS_COUNT_HI, hi32(rBlocks));
    set32(sb, SB.FREE_BLOCKS_COUNT_HI, hi32(freeBlocks));
  }
  if (inodeSize > 128 && feat.ro & RO_COMPAT_EXTRA_ISIZE) {
    set16(sb, SB.MIN_EXTRA_ISIZE, 32);
    set16(sb, SB.WANT_EXTRA_ISIZE, 32);
  }
  set32(sb, SB.FLAGS, EXT2_FLAGS_SIGNED_HASH);
  sb[SB.LOG_GROUPS_PER_FLEX] = logFlex;
  if (csum) sb[SB.CHECKSUM_TYPE] = EXT4_CRC32C_CHKSUM;
  sb[SB.WTIME_HI] = Math.floor(now / 2 ** 32) & 0xff;
  sb[SB.MKFS_TIME_HI] = Math.floor(now / 2 ** 32) & 0xff;
  sb[SB.LASTCHECK_HI] = Math.floor(now / 2 ** 32) & 0xff;

  // Checksummed images of the dynamic structures.
  const dirSeed = (ino: number): number => crc32cU32(crc32cU32(csumSeed, ino), 0);
  if (csum) {
    for (const [b, ino] of dirBlocks) {
      const d = blockOf(b);
      set32(d, bs - 4, crc32c(dirSeed(ino), d, 0, bs - DIRENT_TAIL_SIZE));
    }
  }
  for (const [ino, raw] of inodeImages) {
    if (csum) {
      const extra = inodeSize > 128 ? raw[INO.EXTRA_ISIZE]! | (raw[INO.EXTRA_ISIZE + 1]! << 8) : 0;
      const c = crc32c(dirSeed(ino), raw, 0, inodeSize);
      set16(raw, INO.CHECKSUM_LO, c & 0xffff);
      if (fitsInInode(extra, INO.CHECKSUM_HI + 2)) set16(raw, INO.CHECKSUM_HI, c >>> 16);
    }
    const g = Math.floor((ino - 1) / ipg);
    const byte = ((ino - 1) % ipg) * inodeSize;
    blockOf(gds[g]!.inodeTable + Math.floor(byte / bs)).set(raw, byte % bs);
  }
  // Inode bitmaps.
  for (let g = 0; g < groups; g++) {
    const bm = new Uint8Array(bs);
    if (g === 0) for (let i = 0; i < firstIno; i++) bm[i >>> 3]! |= 1 << (i & 7);
    for (let i = ipg; i < bs * 8; i++) bm[i >>> 3]! |= 1 << (i & 7);
    const gd = gds[g]!;
    if (csum) {
      gd.inodeBitmapCsum = crc32c(csumSeed, bm, 0, ipg / 8);
      gd.blockBitmapCsum = crc32c(csumSeed, blockBitmaps[g]!, 0, bpg / 8);
      if (!is64) {
        gd.inodeBitmapCsum &= 0xffff;
        gd.blockBitmapCsum &= 0xffff;
      }
    }
    blockOf(gd.inodeBitmap).set(bm);
    blockOf(gd.blockBitmap).set(blockBitmaps[g]!);
  }
  // Group descriptors with their checksums.
  const gdt = new Uint8Array(Math.ceil(groups / descPerBlock) * bs);
  for (let g = 0; g < groups; g++) {
    const off = g * descSize;
    emitGroupDesc(gds[g]!, gdt, off, descSize);
    let c = 0;
    if (csum) {
      c = crc32cU32(csumSeed, g);
      c = crc32c(c, gdt, off, off + GD.CHECKSUM);
      c = crc32c(c, new Uint8Array(2));
      if (GD.CHECKSUM + 2 < descSize) c = crc32c(c, gdt, off + GD.CHECKSUM + 2, off + descSize);
      c &= 0xffff;
    } else if (gdtCsum) {
      c = crc16(0xffff, uuid);
      const le = new Uint8Array([g & 0xff, (g >>> 8) & 0xff, (g >>> 16) & 0xff, g >>> 24]);
      c = crc16(c, le);
      c = crc16(c, gdt, off, off + GD.CHECKSUM);
      if (is64 && GD.CHECKSUM + 2 < descSize) c = crc16(c, gdt, off + GD.CHECKSUM + 2, off + descSize);
    }
    set16(gdt, off + GD.CHECKSUM, c);
  }

  // Write: zeroed inode tables (when small enough to be worth it) and journal, then every
  // metadata block, then the superblock and its backups with their descriptor tables.
  // Zeroing writes only what is not zero already: a fresh sparse image reads as zeros, and
  // reading a hole costs far less than writing it (mke2fs gets the same effect by punching).
  const zero = new Uint8Array(1 << 20);
  const probe = new Uint8Array(1 << 20);
  const probe32 = new Int32Array(probe.buffer);
  const zeroRange = (b: number, n: number): void => {
    let off = b * bs;
    let left = n * bs;
    while (left > 0) {
      const k = Math.min(left, zero.length);
      device.read(off, probe.subarray(0, k));
      if (!allZero(probe32, k >>> 2)) device.write(off, zero.subarray(0, k));
      off += k;
      left -= k;
    }
  };
  if (zeroItables) for (const gd of gds) zeroRange(gd.inodeTable, itb);
  else zeroRange(gds[0]!.inodeTable, itb);
  if (journalBlocks > 0) {
    zeroRange(journalStart, journalBlocks);
    const jsb = new Uint8Array(1024);
    setBe32(jsb, JH.MAGIC, JBD2_MAGIC);
    setBe32(jsb, JH.BLOCKTYPE, JBD2_SUPERBLOCK_V2);
    setBe32(jsb, JSB.BLOCKSIZE, bs);
    setBe32(jsb, JSB.MAXLEN, journalBlocks);
    setBe32(jsb, JSB.FIRST, 1);
    setBe32(jsb, JSB.SEQUENCE, 1);
    jsb.set(uuid, JSB.UUID);
    setBe32(jsb, JSB.NR_USERS, 1);
    jsb.set(uuid, JSB.USERS);
    device.write(journalStart * bs, jsb);
  }
  // Directory blocks beyond the first of lost+found etc. and tree blocks are all in `meta`.
  for (const b of [...meta.keys()].sort((x, y) => x - y)) device.write(b * bs, meta.get(b)!);
  for (let g = 0; g < groups; g++) {
    if (!hasSuper(g)) continue;
    const copy = sb.slice();
    set16(copy, SB.BLOCK_GROUP_NR, g);
    if (csum) set32(copy, SB.CHECKSUM, crc32c(0xffffffff, copy, 0, SB.CHECKSUM));
    const first = groupFirst(g);
    if (g === 0) device.write(SUPERBLOCK_OFFSET, copy);
    else device.write(first * bs, padTo(copy, bs));
    if (!metaBg) device.write((first + 1) * bs, gdt);
  }
  if (metaBg) {
    for (let i = 0; i * descPerBlock < groups; i++) {
      const part = gdt.subarray(i * bs, (i + 1) * bs);
      for (const g of [i * descPerBlock, i * descPerBlock + 1, i * descPerBlock + descPerBlock - 1]) {
        if (g >= groups) continue;
        device.write((groupFirst(g) + (hasSuper(g) ? 1 : 0)) * bs, part);
      }
    }
  }
  // Sizes that do not fill the last block of the device are fine: the rest stays unused.
  device.flush();
  const names = [
    ...featureList(feat.compat, COMPAT_NAMES), ...featureList(feat.incompat, INCOMPAT_NAMES), ...featureList(feat.ro, RO_COMPAT_NAMES),
  ];
  return { blockSize: bs, blocks, inodes, groups, features: names, uuid: formatUuid(uuid) };
}

/** Whether words[0, n) are all zero (n a multiple of 8): eight words a test, no BigInt. */
function allZero(words: Int32Array, n: number): boolean {
  for (let i = 0; i < n; i += 8) {
    if ((words[i]! | words[i + 1]! | words[i + 2]! | words[i + 3]! | words[i + 4]! | words[i + 5]! | words[i + 6]! | words[i + 7]!) !== 0) return false;
  }
  return true;
}

function featureList(mask: number, names: Record<number, string>): string[] {
  const out: string[] = [];
  for (let b = 0; b < 32; b++) if (mask & (1 << b)) out.push(names[1 << b] ?? `bit${b}`);
  return out;
}

function padTo(b: Uint8Array, n: number): Uint8Array {
  if (b.length >= n) return b;
  const o = new Uint8Array(n);
  o.set(b);
  return o;
}
