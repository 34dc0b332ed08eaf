// Directory blocks (§ Directory Entries, § Hash Tree Directories): a checked walk over the
// entries of a leaf block, the htree index walk that finds the leaf for a name, and the
// checksums of leaf blocks (the 12-byte tail) and index nodes (the dx_tail). Pure functions over
// bytes; the inode decides which blocks to read and what to change.

import { crc32c } from './crc.js';
import { dxHash, DX_HASH_TEA, DX_HASH_LEGACY } from './hash.js';
import {
  DIRENT, DIRENT_HEADER, DIRENT_TAIL_FT, DIRENT_TAIL_SIZE, DX_ENTRY_SIZE, DX_NODE_ENTRIES, DX_ROOT_INFO, DXR,
  FT_BLKDEV, FT_CHRDEV, FT_DIR, FT_FIFO, FT_REG_FILE, FT_SOCK, FT_SYMLINK, corrupt, direntSize, le16, le32,
  recLenFromDisk,
} from './layout.js';
import { DT_BLK, DT_CHR, DT_DIR, DT_FIFO, DT_LNK, DT_REG, DT_SOCK, DT_UNKNOWN, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK } from '../../abi/linux/stat.js';

/** ext4 file_type → DT_*. */
export function ftToDtype(ft: number): number {
  switch (ft) {
    case FT_REG_FILE: return DT_REG;
    case FT_DIR: return DT_DIR;
    case FT_CHRDEV: return DT_CHR;
    case FT_BLKDEV: return DT_BLK;
    case FT_FIFO: return DT_FIFO;
    case FT_SOCK: return DT_SOCK;
    case FT_SYMLINK: return DT_LNK;
    default: return DT_UNKNOWN;
  }
}

/** A mode's file type → ext4 file_type. */
export function modeToFt(mode: number): number {
  switch (mode & S_IFMT) {
    case S_IFREG: return FT_REG_FILE;
    case S_IFDIR: return FT_DIR;
    case S_IFCHR: return FT_CHRDEV;
    case S_IFBLK: return FT_BLKDEV;
    case S_IFIFO: return FT_FIFO;
    case S_IFSOCK: return FT_SOCK;
    case S_IFLNK: return FT_SYMLINK;
    default: return 0;
  }
}

/** One entry seen by a block walk. The fields are valid only during the callback. */
export interface Dirent {
  off: number;
  recLen: number;
  ino: number;
  nameLen: number;
  ft: number;
}

/**
 * Walks the entries of a directory leaf region [start, end) of `b`, checking each (Linux's
 * ext4_check_dir_entry). `fn` returns true to stop. Errors: EUCLEAN naming the inode, block and offset.
 */
export function walkBlock(
  b: Uint8Array, start: number, end: number, bs: number, hasFiletype: boolean, maxIno: number, where: () => string,
  fn: (d: Dirent) => boolean | void,
): void {
  const d: Dirent = { off: 0, recLen: 0, ino: 0, nameLen: 0, ft: 0 };
  let o = start;
  while (o < end) {
    if (o + DIRENT_HEADER > end) throw corrupt(`${where()}: directory entry at offset ${o} runs past the end`);
    const recLen = recLenFromDisk(le16(b, o + DIRENT.REC_LEN), bs);
    const nameLen = hasFiletype ? b[o + DIRENT.NAME_LEN]! : le16(b, o + DIRENT.NAME_LEN) & 0xff;
    const ino = le32(b, o + DIRENT.INODE);
    if (recLen < 12 || recLen % 4 !== 0 || o + recLen > end || recLen < direntSize(nameLen)) {
      throw corrupt(`${where()}: bad directory entry at offset ${o} (rec_len ${recLen}, name_len ${nameLen})`);
    }
    if (ino > maxIno) throw corrupt(`${where()}: directory entry at offset ${o} names inode ${ino}, past the last inode`);
    d.off = o;
    d.recLen = recLen;
    d.ino = ino;
    d.nameLen = nameLen;
    d.ft = hasFiletype ? b[o + DIRENT.FILE_TYPE]! : 0;
    if (fn(d) === true) return;
    o += recLen;
  }
}

/** Whether the last 12 bytes of a leaf block are the checksum tail. */
export function hasLeafTail(b: Uint8Array, bs: number): boolean {
  const t = bs - DIRENT_TAIL_SIZE;
  return le32(b, t) === 0 && le16(b, t + 4) === DIRENT_TAIL_SIZE && b[t + 6] === 0 && b[t + 7] === DIRENT_TAIL_FT;
}

export function leafCsumOk(b: Uint8Array, bs: number, seed: number): boolean {
  const t = bs - DIRENT_TAIL_SIZE;
  return le32(b, t + 8) === crc32c(seed, b, 0, t);
}

/** Whether block `b` is an htree interior node (a fake entry spanning the whole block). */
export function isDxNode(b: Uint8Array, bs: number): boolean {
  return le32(b, 0) === 0 && recLenFromDisk(le16(b, 4), bs) === bs && b[6] === 0;
}

export function dxCsumOk(b: Uint8Array, countOff: number, seed: number): boolean {
  const limit = le16(b, countOff);
  const count = le16(b, countOff + 2);
  const tail = countOff + limit * DX_ENTRY_SIZE;
  if (tail + 8 > b.length) return false;
  let c = crc32c(seed, b, 0, countOff + count * DX_ENTRY_SIZE);
  c = crc32c(c, b, tail, tail + 4);
  c = crc32c(c, ZERO4);
  return le32(b, tail + 4) === c;
}

const ZERO4 = new Uint8Array(4);

/** Parameters an htree walk needs. */
export interface DxContext {
  bs: number;
  hasCsum: boolean;
  seed: number;
  hashSeed: Uint32Array;
  unsignedHash: boolean;
  largeDir: boolean;
  ino: number;
  /** Reads logical block `l` of the directory. */
  read(l: number): Uint8Array;
}

/** The root's hash version, adjusted for the unsigned-hash flag, and its depth. Errors: EUCLEAN. */
export function dxRootInfo(root: Uint8Array, ctx: DxContext): { version: number; levels: number; countOff: number } {
  const where = `inode ${ctx.ino}: htree root`;
  if (le32(root, DX_ROOT_INFO + DXR.RESERVED_ZERO) !== 0) throw corrupt(`${where}: reserved field not zero`);
  let version = root[DX_ROOT_INFO + DXR.HASH_VERSION]!;
  const infoLen = root[DX_ROOT_INFO + DXR.INFO_LENGTH]!;
  const levels = root[DX_ROOT_INFO + DXR.INDIRECT_LEVELS]!;
  if (version > DX_HASH_TEA) throw corrupt(`${where}: unsupported hash version ${version}`);
  if (infoLen !== 8) throw corrupt(`${where}: info length ${infoLen}`);
  if (levels > (ctx.largeDir ? 2 : 1)) throw corrupt(`${where}: ${levels} indirect levels`);
  if (ctx.unsignedHash && version <= DX_HASH_TEA && version >= DX_HASH_LEGACY) version += 3;
  return { version, levels, countOff: DX_ROOT_INFO + infoLen };
}

function checkNode(b: Uint8Array, countOff: number, ctx: DxContext, where: string): number {
  const limit = le16(b, countOff);
  const count = le16(b, countOff + 2);
  const want = Math.floor((ctx.bs - countOff - (ctx.hasCsum ? 8 : 0)) / DX_ENTRY_SIZE);
  if (limit !== want) throw corrupt(`${where}: index limit ${limit}, expected ${want}`);
  if (count === 0 || count > limit) throw corrupt(`${where}: index count ${count} of ${limit}`);
  if (ctx.hasCsum && !dxCsumOk(b, countOff, ctx.seed)) throw corrupt(`${where}: htree node checksum mismatch`);
  return count;
}

/**
 * The leaf blocks that may hold `name`, in order: the one the index points at, then following
 * leaves while the index marks a hash collision continuing there. Errors: EUCLEAN.
 */
export function dxLeaves(name: Uint8Array, ctx: DxContext, onLeaf: (l: number) => boolean): void {
  const root = ctx.read(0);
  const { version, levels, countOff } = dxRootInfo(root, ctx);
  const target = dxHash(name, 0, name.length, version, ctx.hashSeed).hash;
  interface Frame { data: Uint8Array; countOff: number; count: number; idx: number }
  const frames: Frame[] = [];
  const seen = new Set<number>([0]);
  const entryHash = (f: Frame, i: number): number => (i === 0 ? 0 : le32(f.data, f.countOff + i * DX_ENTRY_SIZE));
  const entryBlock = (f: Frame, i: number): number => le32(f.data, f.countOff + i * DX_ENTRY_SIZE + 4);
  const descend = (data: Uint8Array, cOff: number, where: string, leftmost: boolean): void => {
    const count = checkNode(data, cOff, ctx, where);
    let idx = 0;
    if (!leftmost) {
      // The last entry whose hash is <= target.
      let lo = 1;
      let hi = count - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if (le32(data, cOff + mid * DX_ENTRY_SIZE) <= target) {
          idx = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
    }
    frames.push({ data, countOff: cOff, count, idx });
  };
  descend(root, countOff, `inode ${ctx.ino}: htree root`, false);
  const goDown = (leftmost: boolean): number => {
    while (frames.length <= levels) {
      const f = frames[frames.length - 1]!;
      const blk = entryBlock(f, f.idx);
      if (seen.has(blk)) throw corrupt(`inode ${ctx.ino}: htree index loops at logical block ${blk}`);
      seen.add(blk);
      const data = ctx.read(blk);
      if (!isDxNode(data, ctx.bs)) throw corrupt(`inode ${ctx.ino}: htree node at logical block ${blk} is not an index node`);
      descend(data, DX_NODE_ENTRIES, `inode ${ctx.ino}: htree node ${blk}`, leftmost);
    }
    const f = frames[frames.length - 1]!;
    return entryBlock(f, f.idx);
  };
  let leaf = goDown(false);
  for (let guard = 0; guard < 1 << 20; guard++) {
    if (onLeaf(leaf)) return;
    // Continue only if the next entry at leaf level starts a collision run with our hash.
    let depth = frames.length - 1;
    while (depth >= 0 && frames[depth]!.idx + 1 >= frames[depth]!.count) depth--;
    if (depth < 0) return;
    const f = frames[depth]!;
    const nh = entryHash(f, f.idx + 1);
    if ((nh & ~1) >>> 0 !== target) return;
    f.idx++;
    frames.length = depth + 1;
    leaf = goDown(true);
  }
}
