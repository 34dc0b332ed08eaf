// Ext4Inode: one ext2/3/4 inode as the VFS sees it (Linux's ext4_inode_info with its
// inode_operations and file data paths). The on-disk inode is kept as raw bytes plus parsed
// fields; changes mark it dirty and the commit writes it back with its checksum. File data
// moves between the caller's buffer and the device in whole runs; metadata (directory, extent,
// indirect and xattr blocks) goes through the buffer cache and the journal.

import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, RENAME_EXCHANGE, XATTR_CREATE, XATTR_REPLACE } from '../../abi/linux/fcntl.js';
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, modeToDtype, S_IFIFO, S_IFSOCK } from '../../abi/linux/stat.js';
import { E, errno } from '../../kernel/errno.js';
import { EINVAL, ENAMETOOLONG } from '../../abi/linux/errno.js';
import { Inode, type DirEmit, type NewInode, type SetAttr } from '../../vfs/inode.js';
import type { Timespec } from '../../vfs/time.js';
import { checkXattrName, checkXattrValue } from '../../vfs/xattr.js';
import { loadBlockMap, loadExtentTree, writeBlockMap, writeExtentTree, blockMapLimit, type MapSink } from './bmap.js';
import { crc32c } from './crc.js';
import { dxCsumOk, dxLeaves, ftToDtype, hasLeafTail, isDxNode, leafCsumOk, modeToFt, walkBlock, type DxContext } from './dir.js';
import { FileMap } from './extent_map.js';
import {
  DIRENT, DIRENT_TAIL_FT, DIRENT_TAIL_SIZE, DX_NODE_ENTRIES, EH, EXT2_GOOD_OLD_INODE_SIZE, EXT4_APPEND_FL, EXT4_EXTENTS_FL,
  EXT4_EXT_MAGIC, EXT4_HUGE_FILE_FL, EXT4_IMMUTABLE_FL, EXT4_INDEX_FL, EXT4_INLINE_DATA_FL, EXT4_NAME_LEN,
  I_BLOCK_SIZE, INO, XATTR_INDEX_SYSTEM, corrupt, decodeTime, direntSize,
  encodeTimeExtra, fitsInInode, le16, le32, recLenToDisk, set16, set32, DX_ROOT_INFO,
} from './layout.js';
import type { Ext4Fs } from './super.js';
import { Csum, STAGE_BYTES } from './super.js';
import {
  aclFromDisk, aclToDisk, blockRoom, emitBlock, emitIbody, encodeName, fullName, ibodyRoom, isAclIndex, parseBlock,
  parseIbody, sameName, spaceFor, type XattrEntry,
} from './xattr.js';
import { xattrSplitName } from './layout.js';
import { STATX_APPEND, STATX_IMMUTABLE } from '../../vfs/vfs_ops.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const SYSTEM_DATA = encodeName('data');
const NO_BLOCKS: readonly number[] = Object.freeze([]);
const DOT = enc.encode('.');
const DOTDOT = enc.encode('..');
/** Linux's EXT4_LINK_MAX. */
const LINK_MAX = 65000;
/** s32 range, and the range with the two epoch bits (to 2446). */
const S32_MIN = -(2 ** 31);
const TIME_MAX_EXTRA = 2 ** 31 - 1 + 3 * 2 ** 32;

/** Where a name sits in a block directory. */
interface Slot {
  lblk: number;
  off: number;
}

/** A block directory's names, built on first need: lookups without rescans and free space per block. */
interface DirState {
  names: Map<string, Slot>;
  /** Largest free gap (bytes) in each block. */
  free: number[];
}

export class Ext4Inode extends Inode {
  readonly sb: Ext4Fs;
  raw: Uint8Array;
  iflags: number;
  generation: number;
  fileAcl: number;
  extraIsize: number;
  csumSeed: number;
  dtime: number;
  /** For directories: the directory it was found in (detects directories with two parents). */
  parentIno = 0;
  private fmap: FileMap | null = null;
  /** The extent-tree or indirect blocks of the map (never changed in place: replaced whole). */
  private tree: readonly number[] = NO_BLOCKS;
  private xattrs: XattrEntry[] | null = null;
  private xattrRefcount = 0;
  private dir: DirState | null = null;
  /** Directory blocks whose checksum was verified (made on first need: most inodes are files). */
  private verifiedBlocks: Set<number> | null = null;
  /** i_block: the 60 bytes holding the extent root, block pointers, a fast symlink or inline data. */
  readonly iblock: Uint8Array;

  private constructor(fs: Ext4Fs, ino: number, raw: Uint8Array, init: NewInode, now: Timespec) {
    super(ino, init, now);
    this.sb = fs;
    this.raw = raw;
    this.iblock = raw.subarray(INO.BLOCK, INO.BLOCK + I_BLOCK_SIZE);
    this.iflags = 0;
    this.generation = 0;
    this.fileAcl = 0;
    this.extraIsize = 0;
    this.csumSeed = 0;
    this.dtime = 0;
  }

  // ---- reading and writing the on-disk inode ------------------------------------------------

  /**
   * Parses inode `ino` from its raw bytes; `orphan` accepts a link count of zero (an inode on
   * the orphan list). Errors: EUCLEAN naming the inode.
   */
  static fromDisk(fs: Ext4Fs, ino: number, raw: Uint8Array, orphan = false): Ext4Inode {
    const mode = le16(raw, INO.MODE);
    const links = le16(raw, INO.LINKS_COUNT);
    const isz = fs.inodeSize;
    let extra = 0;
    if (isz > EXT2_GOOD_OLD_INODE_SIZE) {
      extra = le16(raw, INO.EXTRA_ISIZE);
      if (extra + EXT2_GOOD_OLD_INODE_SIZE > isz || extra % 4 !== 0) throw corrupt(`inode ${ino}: i_extra_isize ${extra}`);
    }
    const gen = le32(raw, INO.GENERATION);
    if (fs.hasCsum) {
      const seed = fs.inodeCsumSeed(ino, gen);
      const want = le16(raw, INO.CHECKSUM_LO) | (fitsInInode(extra, INO.CHECKSUM_HI + 2) ? le16(raw, INO.CHECKSUM_HI) << 16 : 0);
      let got = inodeCsum(raw, isz, extra, seed);
      if (!fitsInInode(extra, INO.CHECKSUM_HI + 2)) got &= 0xffff;
      if ((want >>> 0) !== (got >>> 0)) throw corrupt(`inode ${ino} checksum mismatch (stored 0x${(want >>> 0).toString(16)}, computed 0x${(got >>> 0).toString(16)})`);
    }
    if (mode === 0 || (links === 0 && ino !== fs.journalIno && !orphan)) throw corrupt(`inode ${ino} is not in use (deleted inode referenced)`);
    const t = mode & S_IFMT;
    if (t !== S_IFREG && t !== S_IFDIR && t !== S_IFLNK && t !== S_IFCHR && t !== S_IFBLK && t !== S_IFIFO && t !== S_IFSOCK) {
      throw corrupt(`inode ${ino}: bad file type in mode 0${mode.toString(8)}`);
    }
    const uid = le16(raw, INO.UID) | (le16(raw, INO.UID_HIGH) << 16);
    const gid = le16(raw, INO.GID) | (le16(raw, INO.GID_HIGH) << 16);
    const inode = new Ext4Inode(fs, ino, raw, { mode, uid: uid >>> 0, gid: gid >>> 0, rdev: 0 }, { sec: 0, nsec: 0 });
    inode.nlink = links;
    inode.extraIsize = extra;
    inode.generation = gen;
    inode.csumSeed = fs.hasCsum ? fs.inodeCsumSeed(ino, gen) : 0;
    inode.iflags = le32(raw, INO.FLAGS);
    inode.dtime = le32(raw, INO.DTIME);
    inode.size = le32(raw, INO.SIZE_LO) + le32(raw, INO.SIZE_HIGH) * 0x100000000;
    if (!Number.isSafeInteger(inode.size)) throw corrupt(`inode ${ino}: size too large`);
    let blocks = le32(raw, INO.BLOCKS_LO);
    if (fs.hasHugeFile) {
      blocks += le16(raw, INO.BLOCKS_HIGH) * 0x100000000;
      if (inode.iflags & EXT4_HUGE_FILE_FL) blocks *= fs.blockSize / 512;
    }
    inode.blocks = blocks;
    inode.fileAcl = le32(raw, INO.FILE_ACL_LO) + (fs.incompat & 0x80 ? le16(raw, INO.FILE_ACL_HIGH) * 0x100000000 : 0);
    const ex = (off: number): number | null => (fitsInInode(extra, off + 4) ? le32(raw, off) : null);
    inode.atime = decodeTime(le32(raw, INO.ATIME), ex(INO.ATIME_EXTRA));
    inode.ctime = decodeTime(le32(raw, INO.CTIME), ex(INO.CTIME_EXTRA));
    inode.mtime = decodeTime(le32(raw, INO.MTIME), ex(INO.MTIME_EXTRA));
    inode.btime = fitsInInode(extra, INO.CRTIME + 4) ? decodeTime(le32(raw, INO.CRTIME), ex(INO.CRTIME_EXTRA)) : null;
    if (t === S_IFCHR || t === S_IFBLK) inode.rdev = decodeDev(raw);
    if (inode.iflags & EXT4_EXTENTS_FL && !fs.hasExtents) throw corrupt(`inode ${ino}: uses extents but the filesystem lacks the extent feature`);
    if (inode.iflags & EXT4_INLINE_DATA_FL && !fs.hasInlineData) throw corrupt(`inode ${ino}: has inline data but the filesystem lacks inline_data`);
    if (inode.fileAcl !== 0 && !fs.validRange(inode.fileAcl, 1)) throw corrupt(`inode ${ino}: xattr block ${inode.fileAcl} lies outside the filesystem`);
    inode.attributes = (inode.iflags & EXT4_IMMUTABLE_FL ? STATX_IMMUTABLE : 0) | (inode.iflags & EXT4_APPEND_FL ? STATX_APPEND : 0);
    return inode;
  }

  /** A new inode (number allocated) for `init`, not yet linked anywhere. */
  static create(fs: Ext4Fs, ino: number, init: NewInode, now: Timespec): Ext4Inode {
    const raw = fs.inodeBuffer();
    const inode = new Ext4Inode(fs, ino, raw, init, now);
    inode.extraIsize = fs.extraIsize;
    inode.generation = fs.random32();
    inode.csumSeed = fs.hasCsum ? fs.inodeCsumSeed(ino, inode.generation) : 0;
    inode.btime = inode.extraIsize >= 24 ? now : null;
    const t = init.mode & S_IFMT;
    if (fs.hasExtents && (t === S_IFREG || t === S_IFDIR)) {
      inode.iflags |= EXT4_EXTENTS_FL;
      initExtentRoot(inode.iblock);
    }
    if (t === S_IFREG || t === S_IFDIR || t === S_IFLNK) inode.fmap = new FileMap();
    // xattrs stay unloaded: the zeroed in-inode area parses as none when first asked.
    return inode;
  }

  get isInline(): boolean {
    return (this.iflags & EXT4_INLINE_DATA_FL) !== 0;
  }

  /** The raw inode with every field current and the checksum set (for the commit). */
  serialize(): Uint8Array {
    const raw = this.raw;
    const fs = this.sb;
    set16(raw, INO.MODE, this.mode);
    set16(raw, INO.UID, this.uid & 0xffff);
    set16(raw, INO.UID_HIGH, this.uid >>> 16);
    set16(raw, INO.GID, this.gid & 0xffff);
    set16(raw, INO.GID_HIGH, this.gid >>> 16);
    set32(raw, INO.SIZE_LO, this.size >>> 0);
    set32(raw, INO.SIZE_HIGH, Math.floor(this.size / 0x100000000));
    set16(raw, INO.LINKS_COUNT, this.nlink);
    set32(raw, INO.DTIME, this.dtime);
    let blocks = this.blocks;
    let flags = this.iflags & ~EXT4_HUGE_FILE_FL;
    if (fs.hasHugeFile && blocks >= 2 ** 48) {
      flags |= EXT4_HUGE_FILE_FL;
      blocks = Math.floor(blocks / (fs.blockSize / 512));
    }
    this.iflags = flags;
    set32(raw, INO.BLOCKS_LO, blocks >>> 0);
    set16(raw, INO.BLOCKS_HIGH, fs.hasHugeFile ? Math.floor(blocks / 0x100000000) : 0);
    set32(raw, INO.FLAGS, flags);
    set32(raw, INO.GENERATION, this.generation);
    set32(raw, INO.FILE_ACL_LO, this.fileAcl >>> 0);
    set16(raw, INO.FILE_ACL_HIGH, Math.floor(this.fileAcl / 0x100000000));
    const extra = this.extraIsize;
    if (fs.inodeSize > EXT2_GOOD_OLD_INODE_SIZE) set16(raw, INO.EXTRA_ISIZE, extra);
    this.putTime(INO.ATIME, INO.ATIME_EXTRA, this.atime);
    this.putTime(INO.CTIME, INO.CTIME_EXTRA, this.ctime);
    this.putTime(INO.MTIME, INO.MTIME_EXTRA, this.mtime);
    if (this.btime !== null && fitsInInode(extra, INO.CRTIME + 4)) this.putTime(INO.CRTIME, INO.CRTIME_EXTRA, this.btime);
    const t = this.mode & S_IFMT;
    if (t === S_IFCHR || t === S_IFBLK) encodeDev(raw, this.rdev);
    if (fs.hasCsum) {
      const c = inodeCsum(raw, fs.inodeSize, extra, this.csumSeed);
      set16(raw, INO.CHECKSUM_LO, c & 0xffff);
      if (fitsInInode(extra, INO.CHECKSUM_HI + 2)) set16(raw, INO.CHECKSUM_HI, c >>> 16);
    }
    return raw;
  }

  private putTime(off: number, extraOff: number, t: Timespec): void {
    const hasExtra = fitsInInode(this.extraIsize, extraOff + 4);
    let sec = t.sec;
    if (sec < S32_MIN) sec = S32_MIN;
    if (sec > (hasExtra ? TIME_MAX_EXTRA : 2 ** 31 - 1)) sec = hasExtra ? TIME_MAX_EXTRA : 2 ** 31 - 1;
    set32(this.raw, off, sec >>> 0);
    if (hasExtra) set32(this.raw, extraOff, encodeTimeExtra(sec, t.nsec));
  }

  markDirty(): void {
    this.sb.dirtyInodes.add(this);
  }

  // ---- the block map ------------------------------------------------------------------------

  /** The file's block map, read on first use. Errors: EUCLEAN, EIO. */
  map(): FileMap {
    if (this.fmap !== null) return this.fmap;
    const fs = this.sb;
    const maxTree = Math.ceil(this.blocks / (fs.blockSize / 512)) + 1;
    const src = fs.mapSource;
    const loaded = this.iflags & EXT4_EXTENTS_FL
      ? loadExtentTree(src, this.ino, this.iblock, this.csumSeed, maxTree)
      : loadBlockMap(src, this.ino, this.iblock, maxTree);
    this.fmap = loaded.map;
    this.tree = loaded.tree;
    return loaded.map;
  }

  /** Writes the block map back in its on-disk form (extent tree or indirect blocks). */
  writeMap(): void {
    const map = this.fmap;
    if (map === null || !map.dirty) return;
    const fs = this.sb;
    const before = this.tree.length;
    const sink = fs.mapSink(this);
    if (this.iflags & EXT4_EXTENTS_FL) this.tree = writeExtentTree(sink, map, this.iblock, this.tree, this.generation);
    else {
      if (map.end > blockMapLimit(fs.blockSize)) throw E.EFBIG;
      this.tree = writeBlockMap(sink, map, this.iblock, this.tree);
    }
    this.blocks += (this.tree.length - before) * (fs.blockSize / 512);
    map.dirty = false;
    this.markDirty();
  }

  private perBlock512(): number {
    return this.sb.blockSize / 512;
  }

  /** Frees every data block in [from, ∞) and returns how many were freed. */
  private freeFrom(fromLblk: number): void {
    const map = this.map();
    const runs = map.remove(fromLblk, 2 ** 32);
    for (const r of runs) {
      this.sb.freeBlocksLater(r.p, r.len);
      this.blocks -= r.len * this.perBlock512();
    }
  }

  // ---- regular files ------------------------------------------------------------------------

  override read(pos: number, buf: Uint8Array, off: number, len: number): number {
    if (!this.isReg) throw this.isDir ? E.EISDIR : E.EINVAL;
    const size = this.size;
    if (pos >= size || len <= 0) return 0;
    if (len > size - pos) len = size - pos;
    if (this.isInline) {
      const data = this.inlineData();
      const end = pos + len;
      const have = Math.min(end, data.length);
      if (have > pos) buf.set(data.subarray(pos, have), off);
      if (end > Math.max(have, pos)) buf.fill(0, off + Math.max(have, pos) - pos, off + len);
      return len;
    }
    this.readBlocks(pos, buf, off, len);
    return len;
  }

  /** Reads [pos, pos+len) of the mapped contents (holes and unwritten extents as zeros). */
  private readBlocks(pos: number, buf: Uint8Array, off: number, len: number): void {
    const fs = this.sb;
    const bs = fs.blockSize;
    const map = this.map();
    const end = pos + len;
    // Blocks past the one holding the last byte are never read ahead.
    const eofBlock = Math.ceil(this.size / bs);
    let p = pos;
    while (p < end) {
      const lblk = Math.floor(p / bs);
      const i = map.find(lblk);
      if (i < 0) {
        // A hole up to the next extent.
        const next = map.ext[-i - 1];
        const holeEnd = next === undefined ? end : Math.min(end, next.l * bs);
        buf.fill(0, off + (p - pos), off + (holeEnd - pos));
        p = holeEnd;
        continue;
      }
      const x = map.ext[i]!;
      const runEnd = Math.min(end, (x.l + x.len) * bs);
      if (x.u) {
        buf.fill(0, off + (p - pos), off + (runEnd - pos));
        p = runEnd;
        continue;
      }
      const inBlk = p - lblk * bs;
      const pblk = x.p + (lblk - x.l);
      const limit = Math.max(1, Math.min(x.l + x.len, eofBlock) - lblk);
      const nblk = Math.ceil((inBlk + (runEnd - p)) / bs);
      if (nblk > 1 && (inBlk !== 0 || runEnd % bs !== 0) && nblk * bs <= STAGE_BYTES) {
        // A small run with a partial edge (most small files): one device read into the
        // staging buffer rather than one for the whole blocks and one for the part.
        const st = fs.stage;
        fs.readData(pblk, 0, nblk * bs, limit, st, 0);
        buf.set(st.subarray(inBlk, inBlk + (runEnd - p)), off + (p - pos));
        p = runEnd;
        continue;
      }
      // A part of one block, or whole blocks, straight into the caller's buffer.
      const n = inBlk !== 0 || runEnd - p < bs ? Math.min(bs - inBlk, runEnd - p) : Math.floor((runEnd - p) / bs) * bs;
      fs.readData(pblk, inBlk, n, limit, buf, off + (p - pos));
      p += n;
    }
  }

  override write(pos: number, buf: Uint8Array, off: number, len: number): number {
    if (!this.isReg) throw E.EINVAL;
    const fs = this.sb;
    fs.checkWritable();
    if (len <= 0) return 0;
    if (this.isInline) this.convertInlineFile();
    const oldSize = this.size;
    if (pos > oldSize) this.zeroTail(oldSize);
    const done = this.writeBlocks(pos, buf, off, len);
    if (pos + done > this.size) {
      this.size = pos + done;
      if (this.size > 2 ** 31 - 1) fs.noteLargeFile();
    }
    const now = fs.clock.now();
    this.mtime = this.ctime = now;
    this.writeMap();
    this.markDirty();
    fs.bytesWritten += done;
    fs.opDone();
    return done;
  }

  /**
   * Maps and writes [pos, pos+len): holes get new blocks (goal: right after the previous
   * extent), unwritten extents become written, then the bytes go to the device in runs.
   * Returns the bytes written (short only when space ran out). Errors: ENOSPC, EIO.
   */
  private writeBlocks(pos: number, buf: Uint8Array, off: number, len: number): number {
    const fs = this.sb;
    const bs = fs.blockSize;
    const map = this.map();
    const first = Math.floor(pos / bs);
    let last = Math.floor((pos + len - 1) / bs);
    // Only the first and last blocks can be written in part; whether their old contents must
    // not show (newly allocated, or unwritten until now) decides if they are read or zeroed.
    let freshFirst = false;
    let freshLast = false;
    const fresh = (from: number, to: number): void => {
      if (first >= from && first < to) freshFirst = true;
      if (last >= from && last < to) freshLast = true;
    };
    let limitEnd = pos + len;
    let l = first;
    // What this call changed in the map, undone for the blocks it could not write.
    const allocated: number[] = [];
    const converted: number[] = [];
    try {
      while (l <= last) {
        const i = map.find(l);
        if (i >= 0) {
          const x = map.ext[i]!;
          const upto = Math.min(last + 1, x.l + x.len);
          if (x.u) {
            fresh(l, upto);
            map.markWritten(l, upto);
            converted.push(l, upto);
          }
          l = upto;
          continue;
        }
        const next = map.ext[-i - 1];
        const holeEnd = next === undefined ? last + 1 : Math.min(last + 1, next.l);
        let goal = map.goalFor(l);
        if (goal < 0) goal = fs.goalForInode(this.ino);
        const r = fs.allocBlocks(goal, holeEnd - l);
        map.insert(l, r.len, r.p, false);
        this.blocks += r.len * this.perBlock512();
        allocated.push(l, l + r.len);
        fresh(l, l + r.len);
        l += r.len;
      }
    } catch (e) {
      if (e !== E.ENOSPC || l === first) throw e;
      limitEnd = l * bs;
      last = l - 1;
    }
    const end = Math.min(pos + len, limitEnd);
    let p = pos;
    try {
      p = this.writeRuns(map, pos, end, buf, off, first, last, freshFirst, freshLast);
    } catch (e) {
      p = this.runPos;
      // The device failed (a full or failing host disk) after p: blocks this call mapped and
      // did not fill go back — freed, or unwritten again — so they never show stale data and
      // nothing leaks. What was written before stays, as a short write.
      const cut = Math.floor(p / bs);
      for (let j = 0; j < allocated.length; j += 2) {
        const from = Math.max(allocated[j]!, cut);
        const to = allocated[j + 1]!;
        if (from >= to) continue;
        for (const r of map.remove(from, to)) {
          fs.freeBlocksLater(r.p, r.len);
          this.blocks -= r.len * this.perBlock512();
        }
      }
      for (let j = 0; j < converted.length; j += 2) {
        const from = Math.max(converted[j]!, cut);
        const to = converted[j + 1]!;
        if (from >= to) continue;
        let lb = from;
        for (const r of map.remove(from, to)) {
          map.insert(lb, r.len, r.p, true);
          lb += r.len;
        }
      }
      if (p === pos) throw e;
    }
    return p - pos;
  }

  /** How far writeRuns got when the device failed. */
  private runPos = 0;

  /**
   * Writes [pos, end) to the blocks mapped for it and returns `end`; when the device fails,
   * runPos says how far it got. Errors: EIO, ENOSPC (from the device).
   */
  private writeRuns(map: FileMap, pos: number, end: number, buf: Uint8Array, off: number, first: number, last: number, freshFirst: boolean, freshLast: boolean): number {
    const fs = this.sb;
    const bs = fs.blockSize;
    let p = pos;
    // runPos follows p: `continue` runs the update too.
    for (this.runPos = p; p < end; this.runPos = p) {
      const lblk = Math.floor(p / bs);
      const x = map.ext[map.find(lblk)]!;
      const runEnd = Math.min(end, (x.l + x.len) * bs);
      const inBlk = p - lblk * bs;
      const pblk = x.p + (lblk - x.l);
      const tailLblk = Math.floor((runEnd - 1) / bs);
      const tailPart = runEnd % bs !== 0;
      if (inBlk === 0 && !tailPart) {
        // Whole blocks straight from the caller's buffer.
        const nblk = (runEnd - p) / bs;
        fs.writeData(pblk, nblk, buf, off + (p - pos));
        p = runEnd;
        continue;
      }
      const nblk = tailLblk - lblk + 1;
      if (nblk * bs <= STAGE_BYTES) {
        // A small run with a partial edge (a small file, an append): assembled in the staging
        // buffer with the old or zeroed edge blocks, and written with one device call.
        const st = fs.stage;
        if (inBlk !== 0) this.edgeBlock(lblk === first ? freshFirst : false, pblk, st, 0);
        if (tailPart && (tailLblk !== lblk || inBlk === 0)) this.edgeBlock(tailLblk === last ? freshLast : false, pblk + nblk - 1, st, (nblk - 1) * bs);
        st.set(buf.subarray(off + (p - pos), off + (runEnd - pos)), inBlk);
        fs.writeData(pblk, nblk, st, 0);
        p = runEnd;
        continue;
      }
      if (inBlk !== 0 || runEnd - p < bs) {
        // A partial block of a large run: through the scratch block.
        const tmp = fs.scratch;
        this.edgeBlock(lblk === first ? freshFirst : lblk === last ? freshLast : false, pblk, tmp, 0);
        const n = Math.min(bs - inBlk, runEnd - p);
        tmp.set(buf.subarray(off + (p - pos), off + (p - pos) + n), inBlk);
        fs.writeData(pblk, 1, tmp, 0);
        p += n;
        continue;
      }
      const whole = Math.floor((runEnd - p) / bs);
      fs.writeData(pblk, whole, buf, off + (p - pos));
      p += whole * bs;
    }
    return p;
  }

  /** The old contents of a block about to be written in part: zeros when `fresh`, else read. */
  private edgeBlock(fresh: boolean, pblk: number, into: Uint8Array, at: number): void {
    if (fresh) into.fill(0, at, at + this.sb.blockSize);
    else this.sb.readData(pblk, 0, this.sb.blockSize, 1, into, at);
  }

  /** Zeroes the bytes after `size` in its last block, so a later extension reads zeros. */
  private zeroTail(size: number): void {
    const bs = this.sb.blockSize;
    const inBlk = size % bs;
    if (inBlk === 0 || this.isInline) return;
    const map = this.map();
    const lblk = Math.floor(size / bs);
    const i = map.find(lblk);
    if (i < 0) return;
    const x = map.ext[i]!;
    if (x.u) return;
    const pblk = x.p + (lblk - x.l);
    const tmp = this.sb.scratch;
    this.sb.readData(pblk, 0, bs, 1, tmp, 0);
    tmp.fill(0, inBlk);
    this.sb.writeData(pblk, 1, tmp, 0);
  }

  override setattr(attr: SetAttr): void {
    const fs = this.sb;
    fs.checkWritable();
    if (attr.size !== undefined && attr.size !== this.size) {
      if (!this.isReg) throw E.EINVAL;
      this.truncate(attr.size);
    }
    if (attr.mode !== undefined) this.mode = attr.mode;
    if (attr.uid !== undefined) this.uid = attr.uid;
    if (attr.gid !== undefined) this.gid = attr.gid;
    if (attr.atime !== undefined) this.atime = attr.atime;
    if (attr.mtime !== undefined) this.mtime = attr.mtime;
    if (attr.ctime !== undefined) this.ctime = attr.ctime;
    this.markDirty();
    fs.opDone();
  }

  override touchAtime(now: Timespec): void {
    if (this.sb.readOnly) return;
    this.atime = now;
    this.markDirty();
  }

  private truncate(newSize: number): void {
    const fs = this.sb;
    const bs = fs.blockSize;
    if (this.isInline) this.convertInlineFile();
    if (newSize < this.size) {
      this.freeFrom(Math.ceil(newSize / bs));
      this.zeroTail(newSize);
    } else this.zeroTail(this.size);
    this.size = newSize;
    if (newSize > 2 ** 31 - 1) fs.noteLargeFile();
    this.writeMap();
  }

  override fallocate(mode: number, offset: number, len: number): void {
    if (!this.isReg) throw E.ENODEV;
    const fs = this.sb;
    fs.checkWritable();
    if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) throw E.EOPNOTSUPP;
    // Preallocation needs unwritten extents; block-mapped files can only punch (as in Linux).
    if (!(mode & FALLOC_FL_PUNCH_HOLE) && !(this.iflags & EXT4_EXTENTS_FL) && !this.isInline) throw E.EOPNOTSUPP;
    if (this.isInline) this.convertInlineFile();
    if (!(mode & FALLOC_FL_PUNCH_HOLE) && !(this.iflags & EXT4_EXTENTS_FL)) throw E.EOPNOTSUPP;
    const bs = fs.blockSize;
    const map = this.map();
    if (mode & FALLOC_FL_PUNCH_HOLE) {
      const end = Math.min(offset + len, this.size);
      if (end <= offset) return;
      const firstFull = Math.ceil(offset / bs);
      const lastFull = Math.floor(end / bs);
      // Partial blocks at the edges are zeroed in place.
      this.zeroRange(offset, Math.min(end, firstFull * bs));
      if (lastFull * bs < end && lastFull >= firstFull) this.zeroRange(lastFull * bs, end);
      if (lastFull > firstFull) {
        for (const r of map.remove(firstFull, lastFull)) {
          fs.freeBlocksLater(r.p, r.len);
          this.blocks -= r.len * this.perBlock512();
        }
      }
    } else {
      // Preallocation: unwritten extents over the holes.
      const first = Math.floor(offset / bs);
      const last = Math.floor((offset + len - 1) / bs);
      let l = first;
      while (l <= last) {
        const i = map.find(l);
        if (i >= 0) {
          const x = map.ext[i]!;
          l = x.l + x.len;
          continue;
        }
        const next = map.ext[-i - 1];
        const holeEnd = next === undefined ? last + 1 : Math.min(last + 1, next.l);
        let goal = map.goalFor(l);
        if (goal < 0) goal = fs.goalForInode(this.ino);
        const r = fs.allocBlocks(goal, Math.min(holeEnd - l, 32767));
        map.insert(l, r.len, r.p, true);
        this.blocks += r.len * this.perBlock512();
        l += r.len;
      }
      if (!(mode & FALLOC_FL_KEEP_SIZE) && offset + len > this.size) {
        this.zeroTail(this.size);
        this.size = offset + len;
      }
    }
    this.ctime = fs.clock.now();
    if (mode & FALLOC_FL_PUNCH_HOLE) this.mtime = this.ctime;
    this.writeMap();
    this.markDirty();
    fs.opDone();
  }

  /** Writes zeros over [from, to) where it is mapped and written. */
  private zeroRange(from: number, to: number): void {
    if (to <= from) return;
    const z = new Uint8Array(to - from);
    const map = this.map();
    const bs = this.sb.blockSize;
    for (let p = from; p < to; ) {
      const lblk = Math.floor(p / bs);
      const n = Math.min(to, (lblk + 1) * bs) - p;
      const i = map.find(lblk);
      if (i >= 0 && !map.ext[i]!.u) this.writeBlocks(p, z, p - from, n);
      p += n;
    }
  }

  override seekData(pos: number, data: boolean): number {
    if (!this.isReg || this.isInline) return data ? pos : this.size;
    const map = this.map();
    const bs = this.sb.blockSize;
    let p = pos;
    while (p < this.size) {
      const lblk = Math.floor(p / bs);
      const i = map.find(lblk);
      // Unwritten extents count as holes for SEEK_DATA, as Linux reports them.
      const isData = i >= 0 && !map.ext[i]!.u;
      if (isData === data) return p;
      if (i >= 0) p = (map.ext[i]!.l + map.ext[i]!.len) * bs;
      else {
        const next = map.ext[-i - 1];
        p = next === undefined ? this.size : next.l * bs;
      }
    }
    if (data) throw E.ENXIO;
    return this.size;
  }

  override fsync(datasync: boolean): void {
    if (this.sb.readOnly) return;
    this.sb.sync();
    void datasync;
  }

  // ---- inline data --------------------------------------------------------------------------

  /** The inline contents: i_block followed by the system.data xattr's value. */
  private inlineData(): Uint8Array {
    const rest = this.findXattr(XATTR_INDEX_SYSTEM, SYSTEM_DATA)?.value ?? new Uint8Array(0);
    const out = new Uint8Array(I_BLOCK_SIZE + rest.length);
    out.set(this.iblock);
    out.set(rest, I_BLOCK_SIZE);
    return out;
  }

  /** Moves an inline file's bytes into a block, as Linux does when it outgrows the inode. */
  private convertInlineFile(): void {
    const data = this.inlineData().slice(0, this.size);
    this.dropInline();
    this.size = 0;
    if (data.length > 0) {
      this.writeBlocks(0, data, 0, data.length);
      this.size = data.length;
    }
  }

  /** Clears the inline state: the flag, i_block and the system.data xattr. */
  private dropInline(): void {
    const xs = this.loadXattrs();
    const i = xs.findIndex((e) => sameName(e, XATTR_INDEX_SYSTEM, SYSTEM_DATA));
    if (i >= 0) xs.splice(i, 1);
    this.iflags &= ~EXT4_INLINE_DATA_FL;
    this.iblock.fill(0);
    if (this.sb.hasExtents) {
      this.iflags |= EXT4_EXTENTS_FL;
      initExtentRoot(this.iblock);
    }
    this.fmap = new FileMap();
    this.tree = NO_BLOCKS;
    this.storeXattrs();
    this.markDirty();
  }

  // ---- symlinks -----------------------------------------------------------------------------

  override readlink(): string {
    if (!this.isSymlink) throw E.EINVAL;
    return dec.decode(this.linkBytes());
  }

  private linkBytes(): Uint8Array {
    const size = this.size;
    if (size > 65536) throw corrupt(`inode ${this.ino}: symlink of ${size} bytes`);
    if (this.isInline) return this.inlineData().slice(0, size);
    const dataBlocks = this.blocks - (this.fileAcl !== 0 ? this.perBlock512() : 0);
    // A fast symlink: the target in i_block, no data block (§ Symbolic Links).
    if (!(this.iflags & EXT4_EXTENTS_FL) && dataBlocks === 0 && size < I_BLOCK_SIZE) return this.iblock.slice(0, size);
    const out = new Uint8Array(size);
    this.readBlocks(0, out, 0, size);
    return out;
  }

  // ---- directories: reading -------------------------------------------------------------------

  private get maxIno(): number {
    return this.sb.inodesCount;
  }

  /** Logical block `l` of this directory, checked (checksum once). Errors: EUCLEAN, EIO. */
  dirBlock(l: number): Uint8Array {
    const map = this.map();
    const i = map.find(l);
    if (i < 0 || map.ext[i]!.u) throw corrupt(`inode ${this.ino}: directory has a hole at block ${l}`);
    const x = map.ext[i]!;
    const pblk = x.p + (l - x.l);
    const bh = this.sb.cache.get(pblk);
    if (this.sb.hasCsum && !(this.verifiedBlocks?.has(pblk) ?? false)) {
      this.checkDirBlockCsum(l, bh.data);
      (this.verifiedBlocks ??= new Set()).add(pblk);
    }
    return bh.data;
  }

  private checkDirBlockCsum(l: number, b: Uint8Array): void {
    const bs = this.sb.blockSize;
    const indexed = (this.iflags & EXT4_INDEX_FL) !== 0;
    if (indexed && l === 0) {
      if (!dxCsumOk(b, DX_ROOT_INFO + 8, this.csumSeed)) throw corrupt(`inode ${this.ino}: htree root checksum mismatch`);
      return;
    }
    if (indexed && isDxNode(b, bs)) {
      if (!dxCsumOk(b, DX_NODE_ENTRIES, this.csumSeed)) throw corrupt(`inode ${this.ino}: htree node at block ${l} checksum mismatch`);
      return;
    }
    if (!hasLeafTail(b, bs)) throw corrupt(`inode ${this.ino}: directory block ${l} has no checksum tail`);
    if (!leafCsumOk(b, bs, this.csumSeed)) throw corrupt(`inode ${this.ino}: directory block ${l} checksum mismatch`);
  }

  /** End of the entry area of a leaf block (before the checksum tail). */
  private get leafEnd(): number {
    return this.sb.blockSize - (this.sb.hasCsum ? DIRENT_TAIL_SIZE : 0);
  }

  private get dirBlocks(): number {
    return Math.floor(this.size / this.sb.blockSize);
  }

  private dxContext(): DxContext {
    const fs = this.sb;
    return {
      bs: fs.blockSize, hasCsum: fs.hasCsum, seed: this.csumSeed, hashSeed: fs.hashSeed, unsignedHash: fs.unsignedHash,
      largeDir: fs.hasLargeDir, ino: this.ino, read: (l) => this.dirBlock(l),
    };
  }

  /** Finds `name` in leaf region [start, end) of `b`; returns the offset or -1. */
  private scanLeaf(b: Uint8Array, start: number, end: number, name: Uint8Array, where: () => string): number {
    let found = -1;
    const fs = this.sb;
    walkBlock(b, start, end, fs.blockSize, fs.hasFiletype, this.maxIno, where, (d) => {
      if (d.ino === 0 || d.nameLen !== name.length) return false;
      const o = d.off + DIRENT.NAME;
      for (let k = 0; k < name.length; k++) if (b[o + k] !== name[k]) return false;
      found = d.off;
      return true;
    });
    return found;
  }

  /** The inode number `name` refers to, or 0. */
  private findEntry(name: Uint8Array, key: string): number {
    if (this.isInline) {
      let ino = 0;
      this.walkInline((n, i) => {
        if (n === key) ino = i;
        return ino !== 0;
      });
      return ino;
    }
    if (this.dir !== null) {
      const s = this.dir.names.get(key);
      if (s === undefined) return 0;
      return le32(this.dirBlock(s.lblk), s.off + DIRENT.INODE);
    }
    if (this.iflags & EXT4_INDEX_FL && this.sb.hasDirIndex && this.dirBlocks > 1) {
      let ino = 0;
      const end = this.leafEnd;
      dxLeaves(name, this.dxContext(), (l) => {
        const b = this.dirBlock(l);
        const off = this.scanLeaf(b, 0, end, name, () => `inode ${this.ino}: directory block ${l}`);
        if (off >= 0) ino = le32(b, off + DIRENT.INODE);
        return off >= 0;
      });
      return ino;
    }
    const s = this.loadDir().names.get(key);
    return s === undefined ? 0 : le32(this.dirBlock(s.lblk), s.off + DIRENT.INODE);
  }

  override lookup(name: string): Inode | null {
    if (!this.isDir) throw E.ENOTDIR;
    const bytes = nameBytes(name);
    if (bytes.length > EXT4_NAME_LEN) throw E.ENAMETOOLONG;
    const ino = this.findEntry(bytes, name);
    if (ino === 0) return null;
    const child = this.sb.iget(ino);
    if (child.isDir) {
      // A directory has one parent; a second one means a directory cycle or hard link.
      if (child === this || child.ino === this.sb.root.ino) throw corrupt(`directory inode ${this.ino}: entry '${name}' loops back to inode ${ino}`);
      if (child.parentIno !== 0 && child.parentIno !== this.ino && this.sb.inodes.has(child.parentIno)) {
        const other = this.sb.inodes.get(child.parentIno)!;
        if (other.nlink > 0 && !other.dead) throw corrupt(`directory inode ${ino} is linked from directories ${child.parentIno} and ${this.ino} (directory cycle)`);
      }
      child.parentIno = this.ino;
    }
    return child;
  }

  /** Builds the in-memory name index of a block directory (dropping an htree index first). */
  private loadDir(): DirState {
    if (this.dir !== null) return this.dir;
    const fs = this.sb;
    const names = new Map<string, Slot>();
    const free: number[] = [];
    const n = this.dirBlocks;
    const end = this.leafEnd;
    const indexed = (this.iflags & EXT4_INDEX_FL) !== 0;
    for (let l = 0; l < n; l++) {
      const b = this.dirBlock(l);
      if (indexed && (l === 0 || isDxNode(b, fs.blockSize))) {
        free.push(0);
        if (l === 0) {
          // "." and ".." of the root.
          walkBlock(b, 0, fs.blockSize, fs.blockSize, fs.hasFiletype, this.maxIno, () => `inode ${this.ino}: htree root`, (d) => {
            names.set(dec.decode(b.subarray(d.off + 8, d.off + 8 + d.nameLen)), { lblk: 0, off: d.off });
            return d.off >= 12;
          });
        }
        continue;
      }
      let maxFree = 0;
      walkBlock(b, 0, end, fs.blockSize, fs.hasFiletype, this.maxIno, () => `inode ${this.ino}: directory block ${l}`, (d) => {
        const gap = d.ino === 0 ? d.recLen : d.recLen - direntSize(d.nameLen);
        if (gap > maxFree) maxFree = gap;
        if (d.ino !== 0) names.set(dec.decode(b.subarray(d.off + 8, d.off + 8 + d.nameLen)), { lblk: l, off: d.off });
      });
      free.push(maxFree);
    }
    this.dir = { names, free };
    return this.dir;
  }

  override readdir(cookie: number, emit: DirEmit): void {
    if (!this.isDir) throw E.ENOTDIR;
    if (this.isInline) {
      this.readdirInline(cookie, emit);
      return;
    }
    const fs = this.sb;
    const bs = fs.blockSize;
    const n = this.dirBlocks;
    const end = this.leafEnd;
    for (let l = Math.floor(cookie / bs); l < n; l++) {
      const b = this.dirBlock(l);
      const from = l === Math.floor(cookie / bs) ? cookie % bs : 0;
      const indexed = (this.iflags & EXT4_INDEX_FL) !== 0;
      if (indexed && l !== 0 && isDxNode(b, bs)) continue;
      const stopAt = indexed && l === 0 ? bs : end;
      let stop = false;
      walkBlock(b, 0, stopAt, bs, fs.hasFiletype, this.maxIno, () => `inode ${this.ino}: directory block ${l}`, (d) => {
        if (d.off < from || d.ino === 0) return false;
        const name = dec.decode(b.subarray(d.off + 8, d.off + 8 + d.nameLen));
        let dt = ftToDtype(d.ft);
        if (!fs.hasFiletype) dt = modeToDtype(fs.iget(d.ino).mode);
        let next = l * bs + d.off + d.recLen;
        if (indexed && l === 0 && d.off + d.recLen >= 24) next = bs;
        if (!emit(name, d.ino, dt, next)) {
          stop = true;
          return true;
        }
        return false;
      });
      if (stop) return;
    }
  }

  override isEmptyDir(): boolean {
    if (!this.isDir) throw E.ENOTDIR;
    let empty = true;
    this.readdir(0, (name) => {
      if (name !== '.' && name !== '..') empty = false;
      return empty;
    });
    return empty;
  }

  /** Walks an inline directory's entries (parent first as ".."); fn returns true to stop. */
  private walkInline(fn: (name: string, ino: number, ft: number, pos: number, next: number) => boolean): void {
    const data = this.inlineData();
    const fs = this.sb;
    const parent = le32(data, 0);
    if (fn('..', parent, 2, 1, 2)) return;
    const limit = Math.min(data.length, Math.max(this.size, I_BLOCK_SIZE));
    let stop = false;
    const visit = (start: number, endAt: number): void => {
      if (stop || endAt <= start) return;
      walkBlock(data, start, endAt, fs.blockSize, fs.hasFiletype, this.maxIno, () => `inode ${this.ino}: inline directory`, (d) => {
        if (d.ino === 0) return false;
        const name = dec.decode(data.subarray(d.off + 8, d.off + 8 + d.nameLen));
        stop = fn(name, d.ino, d.ft, 2 + d.off, 2 + d.off + d.recLen);
        return stop;
      });
    };
    visit(4, I_BLOCK_SIZE);
    visit(I_BLOCK_SIZE, limit);
  }

  private readdirInline(cookie: number, emit: DirEmit): void {
    if (cookie === 0) {
      if (!emit('.', this.ino, modeToDtype(this.mode), 1)) return;
      cookie = 1;
    }
    const fs = this.sb;
    this.walkInline((name, ino, ft, pos, next) => {
      if (pos < cookie) return false;
      const dt = fs.hasFiletype ? ftToDtype(ft) : modeToDtype(fs.iget(ino).mode);
      return !emit(name, ino, dt, next);
    });
  }

  // ---- directories: writing -------------------------------------------------------------------

  /** Turns an inline directory into a block directory with the same entries. */
  private convertInlineDir(): void {
    const entries: { name: Uint8Array; ino: number; ft: number }[] = [];
    let parent = this.ino;
    this.walkInline((name, ino, ft) => {
      if (name === '..') parent = ino;
      else entries.push({ name: enc.encode(name), ino, ft });
      return false;
    });
    this.dropInline();
    this.size = 0;
    this.dir = { names: new Map(), free: [] };
    this.appendDirBlock(true, parent);
    for (const e of entries) this.addEntry(e.name, dec.decode(e.name), e.ino, e.ft);
  }

  /** Drops the htree index: index blocks become empty leaves (as the disk-layout document allows). */
  private dropIndex(): void {
    const fs = this.sb;
    const bs = fs.blockSize;
    const end = this.leafEnd;
    for (let l = 0; l < this.dirBlocks; l++) {
      const b = this.dirBlock(l);
      if (l === 0) {
        const bh = this.dirBlockHead(0);
        // Keep "." (12 bytes) and ".." and let ".." span the rest of the leaf area.
        set16(b, 12 + DIRENT.REC_LEN, recLenToDisk(end - 12, bs));
        b.fill(0, 24, bs);
        this.finishLeaf(bh);
      } else if (isDxNode(b, bs)) {
        const bh = this.dirBlockHead(l);
        b.fill(0);
        set16(b, DIRENT.REC_LEN, recLenToDisk(end, bs));
        this.finishLeaf(bh);
      }
    }
    this.iflags &= ~EXT4_INDEX_FL;
    this.markDirty();
  }

  private dirBlockHead(l: number) {
    const map = this.map();
    const x = map.ext[map.find(l)]!;
    return this.sb.cache.get(x.p + (l - x.l));
  }

  /** Writes a leaf block's checksum tail and queues its checksum. */
  private finishLeaf(bh: { data: Uint8Array; block: number }): void {
    const fs = this.sb;
    if (fs.hasCsum) {
      const t = fs.blockSize - DIRENT_TAIL_SIZE;
      const b = bh.data;
      set32(b, t, 0);
      set16(b, t + 4, DIRENT_TAIL_SIZE);
      b[t + 6] = 0;
      b[t + 7] = DIRENT_TAIL_FT;
    }
    fs.deferCsum(bh as never, Csum.DirLeaf, this.csumSeed);
    (this.verifiedBlocks ??= new Set()).add(bh.block);
  }

  /** Prepares this directory for changes: block form, no htree, names indexed. */
  private writableDir(): DirState {
    this.sb.checkWritable();
    if (this.isInline) this.convertInlineDir();
    if (this.iflags & EXT4_INDEX_FL) {
      this.dir = null;
      this.dropIndex();
    }
    return this.loadDir();
  }

  /** Appends an empty leaf block (or the first block, with "." and "..", when `first`). */
  private appendDirBlock(first: boolean, parent: number): number {
    const fs = this.sb;
    const bs = fs.blockSize;
    const map = this.map();
    const l = this.dirBlocks;
    let goal = map.goalFor(l);
    if (goal < 0) goal = fs.goalForInode(this.ino);
    const r = fs.allocBlocks(goal, 1);
    map.insert(l, 1, r.p, false);
    this.blocks += this.perBlock512();
    const bh = fs.cache.getZeroed(r.p);
    const b = bh.data;
    const end = this.leafEnd;
    if (first) {
      writeDirent(b, 0, this.ino, 12, DOT, fs.hasFiletype ? 2 : 0, bs);
      writeDirent(b, 12, parent, end - 12, DOTDOT, fs.hasFiletype ? 2 : 0, bs);
    } else set16(b, DIRENT.REC_LEN, recLenToDisk(end, bs));
    this.finishLeaf(bh);
    this.size += bs;
    const st = this.dir;
    if (st !== null) {
      st.free[l] = first ? end - 24 : end;
      if (first) {
        st.names.set('.', { lblk: l, off: 0 });
        st.names.set('..', { lblk: l, off: 12 });
      }
    }
    this.writeMap();
    this.markDirty();
    return l;
  }

  /** Adds entry `name` → ino. Errors: ENOSPC, EMLINK-free. */
  private addEntry(name: Uint8Array, key: string, ino: number, ft: number): void {
    const st = this.writableDir();
    const need = direntSize(name.length);
    const fs = this.sb;
    const bs = fs.blockSize;
    let l = -1;
    for (let i = st.free.length - 1; i >= 0; i--) {
      if (st.free[i]! >= need) {
        l = i;
        break;
      }
    }
    if (l < 0) l = this.appendDirBlock(false, 0);
    const bh = this.dirBlockHead(l);
    const b = this.dirBlock(l);
    const end = this.leafEnd;
    let placed = -1;
    let maxFree = 0;
    walkBlock(b, 0, end, bs, fs.hasFiletype, this.maxIno, () => `inode ${this.ino}: directory block ${l}`, (d) => {
      if (placed < 0) {
        if (d.ino === 0 && d.recLen >= need) {
          writeDirent(b, d.off, ino, d.recLen, name, ft, bs);
          placed = d.off;
          return false;
        }
        const used = direntSize(d.nameLen);
        if (d.ino !== 0 && d.recLen - used >= need) {
          const rest = d.recLen - used;
          set16(b, d.off + DIRENT.REC_LEN, recLenToDisk(used, bs));
          writeDirent(b, d.off + used, ino, rest, name, ft, bs);
          placed = d.off + used;
          return true;
        }
      }
      return false;
    });
    if (placed < 0) throw new Error(`tkl panic: ext4 directory ${this.ino} block ${l} had no room`);
    // Recompute the block's largest gap.
    walkBlock(b, 0, end, bs, fs.hasFiletype, this.maxIno, () => `inode ${this.ino}: directory block ${l}`, (d) => {
      const gap = d.ino === 0 ? d.recLen : d.recLen - direntSize(d.nameLen);
      if (gap > maxFree) maxFree = gap;
    });
    st.free[l] = maxFree;
    st.names.set(key, { lblk: l, off: placed });
    this.finishLeaf(bh);
  }

  /** Removes entry `key`. Errors: ENOENT. */
  private removeEntry(key: string): void {
    const st = this.writableDir();
    const s = st.names.get(key);
    if (s === undefined) throw E.ENOENT;
    const fs = this.sb;
    const bs = fs.blockSize;
    const bh = this.dirBlockHead(s.lblk);
    const b = this.dirBlock(s.lblk);
    let prev = -1;
    let maxFree = 0;
    walkBlock(b, 0, this.leafEnd, bs, fs.hasFiletype, this.maxIno, () => `inode ${this.ino}: directory block ${s.lblk}`, (d) => {
      if (d.off === s.off) return true;
      prev = d.off;
      return false;
    });
    const rec = le16(b, s.off + DIRENT.REC_LEN);
    if (prev >= 0) {
      const prevLen = le16(b, prev + DIRENT.REC_LEN);
      set16(b, prev + DIRENT.REC_LEN, recLenToDisk(prevLen + rec, bs));
    } else set32(b, s.off + DIRENT.INODE, 0);
    walkBlock(b, 0, this.leafEnd, bs, fs.hasFiletype, this.maxIno, () => `inode ${this.ino}: directory block ${s.lblk}`, (d) => {
      const gap = d.ino === 0 ? d.recLen : d.recLen - direntSize(d.nameLen);
      if (gap > maxFree) maxFree = gap;
    });
    st.free[s.lblk] = maxFree;
    st.names.delete(key);
    this.finishLeaf(bh);
  }

  /** Points existing entry `key` at another inode (rename over a target, exchange). */
  private setEntry(key: string, ino: number, ft: number): void {
    const st = this.writableDir();
    const s = st.names.get(key);
    if (s === undefined) throw E.ENOENT;
    const bh = this.dirBlockHead(s.lblk);
    const b = this.dirBlock(s.lblk);
    set32(b, s.off + DIRENT.INODE, ino);
    if (this.sb.hasFiletype) b[s.off + DIRENT.FILE_TYPE] = ft;
    this.finishLeaf(bh);
  }

  private ft(mode: number): number {
    return this.sb.hasFiletype ? modeToFt(mode) : 0;
  }

  private checkName(name: string): Uint8Array {
    const bytes = nameBytes(name);
    if (bytes.length > EXT4_NAME_LEN) throw errno(ENAMETOOLONG);
    return bytes;
  }

  /** Allocates and registers a new inode for a child of this directory. */
  private newChild(init: NewInode): Ext4Inode {
    const fs = this.sb;
    const isDir = (init.mode & S_IFMT) === S_IFDIR;
    const ino = fs.allocInodeNumber(this.ino, isDir);
    const child = Ext4Inode.create(fs, ino, init, fs.clock.now());
    fs.registerInode(child);
    return child;
  }

  /** Links a new child under `name` (undoing the inode allocation when the entry cannot be added). */
  private linkNew(name: string, bytes: Uint8Array, child: Ext4Inode): void {
    try {
      this.addEntry(bytes, name, child.ino, this.ft(child.mode));
    } catch (e) {
      child.nlink = 0;
      child.releaseStorage();
      throw e;
    }
    const now = child.ctime;
    this.mtime = this.ctime = now;
    this.markDirty();
  }

  override create(name: string, init: NewInode): Inode {
    const bytes = this.checkName(name);
    this.writableDir();
    const child = this.newChild(init);
    this.linkNew(name, bytes, child);
    this.sb.opDone();
    return child;
  }

  override mknod(name: string, init: NewInode): Inode {
    return this.create(name, init);
  }

  override mkdir(name: string, init: NewInode): Inode {
    const bytes = this.checkName(name);
    if (this.nlink >= LINK_MAX) throw E.EMLINK;
    this.writableDir();
    const child = this.newChild(init);
    child.dir = { names: new Map(), free: [] };
    child.nlink = 2;
    child.parentIno = this.ino;
    try {
      child.appendDirBlock(true, this.ino);
    } catch (e) {
      child.nlink = 0;
      child.releaseStorage();
      throw e;
    }
    this.linkNew(name, bytes, child);
    this.nlink++;
    this.markDirty();
    this.sb.opDone();
    return child;
  }

  override symlink(name: string, target: string, init: NewInode): Inode {
    const bytes = this.checkName(name);
    const t = enc.encode(target);
    const fs = this.sb;
    if (t.length >= fs.blockSize) throw E.ENAMETOOLONG;
    this.writableDir();
    const child = this.newChild(init);
    child.size = t.length;
    if (t.length < I_BLOCK_SIZE) {
      // A fast symlink: the target lives in i_block.
      child.iflags &= ~EXT4_EXTENTS_FL;
      child.iblock.fill(0);
      child.iblock.set(t);
      child.fmap = null;
    } else {
      if (fs.hasExtents) {
        child.iflags |= EXT4_EXTENTS_FL;
        initExtentRoot(child.iblock);
      }
      try {
        child.writeBlocks(0, t, 0, t.length);
        child.writeMap();
      } catch (e) {
        child.nlink = 0;
        child.releaseStorage();
        throw e;
      }
    }
    this.linkNew(name, bytes, child);
    fs.opDone();
    return child;
  }

  override link(name: string, inode: Inode): void {
    const bytes = this.checkName(name);
    const t = inode as Ext4Inode;
    if (t.nlink >= LINK_MAX) throw E.EMLINK;
    this.addEntry(bytes, name, t.ino, this.ft(t.mode));
    const now = this.sb.clock.now();
    t.nlink++;
    t.ctime = now;
    t.markDirty();
    this.mtime = this.ctime = now;
    this.markDirty();
    this.sb.opDone();
  }

  override unlink(name: string, inode: Inode): void {
    const t = inode as Ext4Inode;
    this.removeEntry(name);
    const now = this.sb.clock.now();
    t.nlink--;
    t.ctime = now;
    t.markDirty();
    t.orphanIfOpen();
    this.mtime = this.ctime = now;
    this.markDirty();
    this.sb.opDone();
  }

  /**
   * A file whose last name went while it is still open joins the orphan list (ext4_orphan_add),
   * so that after a crash the mount (or e2fsck) frees it instead of leaking it.
   */
  orphanIfOpen(): void {
    if (this.nlink === 0 && this.openCount > 0) this.sb.orphanAdd(this);
  }

  override rmdir(name: string, inode: Inode): void {
    const d = inode as Ext4Inode;
    if (!d.isEmptyDir()) throw E.ENOTEMPTY;
    this.removeEntry(name);
    const now = this.sb.clock.now();
    d.nlink = 0;
    d.ctime = now;
    d.markDirty();
    if (this.nlink > 2) this.nlink--;
    this.mtime = this.ctime = now;
    this.markDirty();
    this.sb.opDone();
  }

  /** Points a moved directory's ".." at `parent`. */
  private setDotDot(parent: number): void {
    if (this.isInline) this.convertInlineDir();
    if (this.iflags & EXT4_INDEX_FL) {
      this.dir = null;
      this.dropIndex();
    }
    const b = this.dirBlock(0);
    const bh = this.dirBlockHead(0);
    // ".." is the second entry of block 0.
    const off = 12;
    if (le16(b, off + DIRENT.REC_LEN) < 12 || b[off + DIRENT.NAME_LEN] !== 2) throw corrupt(`inode ${this.ino}: no '..' entry`);
    set32(b, off + DIRENT.INODE, parent);
    this.finishLeaf(bh);
    this.parentIno = parent;
  }

  override rename(oldName: string, inode: Inode, newDir: Inode, newName: string, target: Inode | null, flags: number): void {
    const fs = this.sb;
    const src = inode as Ext4Inode;
    const dst = newDir as Ext4Inode;
    const tgt = target as Ext4Inode | null;
    const now = fs.clock.now();
    const newBytes = this.checkName(newName);
    this.writableDir();
    dst.writableDir();
    if (flags & RENAME_EXCHANGE) {
      if (tgt === null) throw E.ENOENT;
      this.setEntry(oldName, tgt.ino, this.ft(tgt.mode));
      dst.setEntry(newName, src.ino, this.ft(src.mode));
      if (this !== dst) {
        if (src.isDir) src.setDotDot(dst.ino);
        if (tgt.isDir) tgt.setDotDot(this.ino);
        if (src.isDir !== tgt.isDir) {
          if (src.isDir) {
            this.nlink--;
            dst.nlink++;
          } else {
            this.nlink++;
            dst.nlink--;
          }
        }
      }
      src.ctime = tgt.ctime = now;
      src.markDirty();
      tgt.markDirty();
    } else {
      if (tgt !== null) {
        if (tgt.isDir) {
          if (!tgt.isEmptyDir()) throw E.ENOTEMPTY;
          tgt.nlink = 0;
          if (dst.nlink > 2) dst.nlink--;
        } else tgt.nlink--;
        tgt.ctime = now;
        tgt.markDirty();
        tgt.orphanIfOpen();
        dst.setEntry(newName, src.ino, this.ft(src.mode));
      } else dst.addEntry(newBytes, newName, src.ino, this.ft(src.mode));
      this.removeEntry(oldName);
      if (src.isDir && this !== dst) {
        src.setDotDot(dst.ino);
        this.nlink--;
        // The moved directory's ".." now counts in dst (a replaced directory's was taken off above).
        dst.nlink++;
      }
      src.ctime = now;
      src.markDirty();
    }
    this.mtime = this.ctime = now;
    dst.mtime = dst.ctime = now;
    this.markDirty();
    dst.markDirty();
    fs.opDone();
  }

  // ---- extended attributes ------------------------------------------------------------------

  private loadXattrs(): XattrEntry[] {
    if (this.xattrs !== null) return this.xattrs;
    const fs = this.sb;
    const list = fs.inodeSize > EXT2_GOOD_OLD_INODE_SIZE ? parseIbody(this.raw, fs.inodeSize, this.extraIsize, this.ino) : [];
    if (this.fileAcl !== 0) {
      const data = fs.cache.get(this.fileAcl).data;
      const { entries, refcount } = parseBlock(data, this.fileAcl, this.ino, fs.hasCsum ? fs.csumSeed : null);
      list.push(...entries);
      this.xattrRefcount = refcount;
    }
    this.xattrs = list;
    return list;
  }

  private findXattr(index: number, name: Uint8Array): XattrEntry | undefined {
    return this.loadXattrs().find((e) => sameName(e, index, name));
  }

  override getxattr(name: string): Uint8Array | null {
    const fs = this.sb;
    if (!fs.hasXattr && this.fileAcl === 0 && fs.inodeSize <= EXT2_GOOD_OLD_INODE_SIZE) return null;
    const split = xattrSplitName(name);
    if (split === null) throw E.EOPNOTSUPP;
    if (split.index === XATTR_INDEX_SYSTEM || split.index === 8) return null;
    const e = this.findXattr(split.index, encodeName(split.suffix));
    if (e === undefined) return null;
    return isAclIndex(e.index) ? aclFromDisk(e.value, this.ino) : e.value.slice();
  }

  override listxattr(): string[] {
    return this.loadXattrs().filter((e) => e.index !== XATTR_INDEX_SYSTEM && e.index !== 8 && e.index !== 0).map(fullName);
  }

  override setxattr(name: string, value: Uint8Array, flags: number): void {
    const fs = this.sb;
    fs.checkWritable();
    checkXattrName(name);
    checkXattrValue(value);
    const split = xattrSplitName(name);
    if (split === null || split.index === XATTR_INDEX_SYSTEM || split.index === 8) throw E.EOPNOTSUPP;
    let stored = value;
    if (isAclIndex(split.index)) {
      const v = aclToDisk(value);
      if (v === null) throw errno(EINVAL, 'malformed POSIX ACL');
      stored = v;
    }
    const key = encodeName(split.suffix);
    if (key.length > 255) throw E.ERANGE;
    const xs = this.loadXattrs();
    const i = xs.findIndex((e) => sameName(e, split.index, key));
    if (flags & XATTR_CREATE && i >= 0) throw E.EEXIST;
    if (flags & XATTR_REPLACE && i < 0) throw E.ENODATA;
    const before = xs.slice();
    const entry: XattrEntry = { index: split.index, name: key, value: stored.slice() };
    if (i >= 0) xs[i] = entry;
    else xs.push(entry);
    try {
      this.storeXattrs();
    } catch (e) {
      this.xattrs = before;
      throw e;
    }
    this.ctime = fs.clock.now();
    this.markDirty();
    fs.opDone();
  }

  override removexattr(name: string): void {
    const fs = this.sb;
    fs.checkWritable();
    const split = xattrSplitName(name);
    if (split === null) throw E.EOPNOTSUPP;
    const key = encodeName(split.suffix);
    const xs = this.loadXattrs();
    const i = xs.findIndex((e) => sameName(e, split.index, key));
    if (i < 0 || split.index === XATTR_INDEX_SYSTEM) throw E.ENODATA;
    xs.splice(i, 1);
    this.storeXattrs();
    this.ctime = fs.clock.now();
    this.markDirty();
    fs.opDone();
  }

  /** Lays the xattrs out again: the inode body first (system.data always there), then one block. */
  private storeXattrs(): void {
    const fs = this.sb;
    const xs = this.loadXattrs();
    const room = fs.inodeSize > EXT2_GOOD_OLD_INODE_SIZE ? ibodyRoom(fs.inodeSize, this.extraIsize) : 0;
    const inBody: XattrEntry[] = [];
    const inBlock: XattrEntry[] = [];
    const sysData = xs.filter((e) => sameName(e, XATTR_INDEX_SYSTEM, SYSTEM_DATA));
    const rest = xs.filter((e) => !sameName(e, XATTR_INDEX_SYSTEM, SYSTEM_DATA));
    for (const e of [...sysData, ...rest]) {
      if (spaceFor([...inBody, e]) <= room) inBody.push(e);
      else if (sameName(e, XATTR_INDEX_SYSTEM, SYSTEM_DATA)) throw E.ENOSPC;
      else inBlock.push(e);
    }
    if (inBlock.length > 0 && spaceFor(inBlock) > blockRoom(fs.blockSize)) throw E.ENOSPC;
    if (inBlock.length > 0 && !fs.hasXattr) throw E.EOPNOTSUPP;
    // The block: reuse ours when not shared, else take a new one.
    if (inBlock.length > 0) {
      let b = this.fileAcl;
      if (b === 0 || this.xattrRefcount > 1) {
        const nb = fs.allocBlocks(fs.goalForInode(this.ino), 1).p;
        if (b !== 0) this.releaseXattrBlock();
        b = nb;
        this.fileAcl = nb;
        this.blocks += this.perBlock512();
      }
      const bh = fs.cache.getZeroed(b);
      emitBlock(bh.data, inBlock, 1);
      this.xattrRefcount = 1;
      fs.deferCsum(bh, Csum.Xattr, 0);
    } else if (this.fileAcl !== 0) this.releaseXattrBlock();
    if (fs.inodeSize > EXT2_GOOD_OLD_INODE_SIZE) emitIbody(this.raw, fs.inodeSize, this.extraIsize, inBody);
    this.xattrs = [...inBody, ...inBlock];
    this.markDirty();
  }

  /** Drops this inode's reference to its xattr block (freeing it when the last). */
  private releaseXattrBlock(): void {
    const fs = this.sb;
    const b = this.fileAcl;
    if (b === 0) return;
    const bh = fs.cache.get(b);
    const ref = le32(bh.data, 4);
    if (ref > 1) {
      set32(bh.data, 4, ref - 1);
      fs.deferCsum(bh, Csum.Xattr, 0);
    } else fs.freeBlocksLater(b, 1);
    this.fileAcl = 0;
    this.blocks -= this.perBlock512();
    this.xattrRefcount = 0;
  }

  // ---- lifetime ---------------------------------------------------------------------------------

  /** Frees the inode's blocks, xattr block and number (last link gone, last file closed). */
  releaseStorage(): void {
    const fs = this.sb;
    fs.orphanDel(this);
    if (this.fmap !== null || (!this.isInline && this.hasBlockMap())) {
      this.map();
      this.freeFrom(0);
      for (const b of this.tree) fs.freeBlocksLater(b, 1);
      this.tree = NO_BLOCKS;
      this.fmap = new FileMap();
    }
    if (this.fileAcl !== 0) {
      this.loadXattrs();
      this.releaseXattrBlock();
    }
    this.iblock.fill(0);
    if (this.iflags & EXT4_EXTENTS_FL) initExtentRoot(this.iblock);
    this.iflags &= ~(EXT4_INLINE_DATA_FL | EXT4_INDEX_FL);
    this.xattrs = [];
    if (fs.inodeSize > EXT2_GOOD_OLD_INODE_SIZE) emitIbody(this.raw, fs.inodeSize, this.extraIsize, []);
    this.size = 0;
    this.blocks = 0;
    this.nlink = 0;
    this.dtime = fs.clock.now().sec >>> 0;
    // The freed inode is written once more (dtime set), then forgotten.
    this.sb.writeFreedInode(this);
    fs.freeInodeNumber(this.ino, this.isDir);
    fs.forgetInode(this.ino);
  }

  /** Whether the inode has a block map to read (regular, directory, or slow symlink). */
  private hasBlockMap(): boolean {
    const t = this.mode & S_IFMT;
    if (t === S_IFREG || t === S_IFDIR) return true;
    if (t === S_IFLNK) return (this.iflags & EXT4_EXTENTS_FL) !== 0 || this.blocks - (this.fileAcl ? this.perBlock512() : 0) > 0;
    return false;
  }

  override evict(): void {
    if (this.sb.readOnly) return;
    this.releaseStorage();
    this.sb.opDone();
  }
}

/** crc32c over the inode with both checksum fields taken as zero. */
function inodeCsum(raw: Uint8Array, inodeSize: number, extra: number, seed: number): number {
  const lo = le16(raw, INO.CHECKSUM_LO);
  const hasHi = fitsInInode(extra, INO.CHECKSUM_HI + 2) && inodeSize > EXT2_GOOD_OLD_INODE_SIZE;
  const hi = hasHi ? le16(raw, INO.CHECKSUM_HI) : 0;
  set16(raw, INO.CHECKSUM_LO, 0);
  if (hasHi) set16(raw, INO.CHECKSUM_HI, 0);
  const c = crc32c(seed, raw, 0, inodeSize);
  set16(raw, INO.CHECKSUM_LO, lo);
  if (hasHi) set16(raw, INO.CHECKSUM_HI, hi);
  return c;
}

function initExtentRoot(iblock: Uint8Array): void {
  iblock.fill(0);
  set16(iblock, EH.MAGIC, EXT4_EXT_MAGIC);
  set16(iblock, EH.ENTRIES, 0);
  set16(iblock, EH.MAX, 4);
  set16(iblock, EH.DEPTH, 0);
}

function writeDirent(b: Uint8Array, off: number, ino: number, recLen: number, name: Uint8Array, ft: number, bs: number): void {
  set32(b, off + DIRENT.INODE, ino);
  set16(b, off + DIRENT.REC_LEN, recLenToDisk(recLen, bs));
  b[off + DIRENT.NAME_LEN] = name.length;
  b[off + DIRENT.FILE_TYPE] = ft;
  b.set(name, off + DIRENT.NAME);
  // Zero the padding after the name.
  b.fill(0, off + DIRENT.NAME + name.length, off + direntSize(name.length));
}

/** Device numbers in i_block: the old 16-bit form in word 0, else the new form in word 1. */
function decodeDev(raw: Uint8Array): number {
  const w0 = le32(raw, INO.BLOCK);
  if (w0 !== 0) return (((w0 >>> 8) & 0xff) << 8) | (w0 & 0xff);
  const w1 = le32(raw, INO.BLOCK + 4);
  const major = (w1 & 0xfff00) >>> 8;
  const minor = (w1 & 0xff) | ((w1 >>> 12) & 0xfff00);
  return ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12);
}

function encodeDev(raw: Uint8Array, rdev: number): void {
  const major = (rdev >>> 8) & 0xfff;
  const minor = (rdev & 0xff) | ((rdev >>> 12) & 0xfff00);
  if (major < 256 && minor < 256) {
    set32(raw, INO.BLOCK, (major << 8) | minor);
    set32(raw, INO.BLOCK + 4, 0);
  } else {
    set32(raw, INO.BLOCK, 0);
    set32(raw, INO.BLOCK + 4, (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12));
  }
  set32(raw, INO.BLOCK + 8, 0);
}

export type { MapSink };

/**
 * A name's UTF-8 bytes. Names are nearly always ASCII: those are copied by hand, which is
 * several times cheaper than TextEncoder for short strings (and allocates a small array that
 * lives in the JS heap).
 */
function nameBytes(name: string): Uint8Array {
  const n = name.length;
  if (n > EXT4_NAME_LEN) return enc.encode(name);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x80) return enc.encode(name);
    out[i] = c;
  }
  return out;
}
