// FatInode: a file or directory of a FAT volume. A directory reads its entries once (long
// names assembled and checked against their short entry's checksum) and keeps them, with
// which 32-byte slots are free, so lookups, creates and removals touch only the slots they
// change; a listing makes no inodes. A file keeps its cluster chain; data moves in runs of
// contiguous clusters straight between the device and the caller's buffer, a run that is not
// whole sectors through the volume's scratch buffer in one device call (file data never
// enters the buffer cache, which only answers for blocks it already holds).
// Rules of Linux's vfat: names match regardless of case; symlink, link, mknod and xattrs are
// unsupported (EPERM/EOPNOTSUPP from the Inode defaults); chown to another owner is EPERM.

import { RENAME_EXCHANGE } from '../../abi/linux/fcntl.js';
import { DT_DIR, DT_REG, S_IFDIR, S_IFMT, S_IFREG, modeToDtype } from '../../abi/linux/stat.js';
import { E, errno } from '../../kernel/errno.js';
import { EUCLEAN } from '../../abi/linux/errno.js';
import { Inode, type DirEmit, type NewInode, type SetAttr } from '../../vfs/inode.js';
import type { Timespec } from '../../vfs/time.js';
import type { File } from '../../vfs/file.js';
import type { Cred } from '../../kernel/cred.js';
import { ownerOrCapable } from '../../vfs/permission.js';
import { mntWantWrite } from '../../vfs/vfs_ops.js';
import { FAT_IOCTL_GET_ATTRIBUTES, FAT_IOCTL_SET_ATTRIBUTES } from '../../abi/linux/msdos_fs.js';
import type { BufferHead } from '../../block/buffer_cache.js';
import {
  ATTR_ARCHIVE, ATTR_DIRECTORY, ATTR_LONG_NAME, ATTR_LONG_NAME_MASK, ATTR_READ_ONLY, ATTR_VOLUME_ID, DIR_ATTR,
  DIR_CRT_DATE, DIR_CRT_TIME, DIR_CRT_TIME_TENTH, DIR_ENTRY_END, DIR_ENTRY_FREE, DIR_ENTRY_SIZE, DIR_FILE_SIZE,
  DIR_FST_CLUS_HI, DIR_FST_CLUS_LO, DIR_LST_ACC_DATE, DIR_NAME, DIR_NT_RES, DIR_WRT_DATE, DIR_WRT_TIME,
  LAST_LONG_ENTRY, LDIR_ATTR, LDIR_CHKSUM, LDIR_ORD, LFN_CHARS_PER_ENTRY, LFN_CHAR_OFFSETS, MAX_DIR_BYTES,
  MAX_FILE_SIZE,
} from './layout.js';
import { checkLongName, foldName, makeShortName, shortNameChecksum, shortNameToString } from './names.js';
import { dosToTimespec, timespecToDos, truncateAtime, truncateMtime } from './dos_time.js';
import type { FatSuper } from './super.js';

/** One name in a directory. */
interface DirEnt {
  /** The long name, or the short name as shown. */
  name: string;
  /** The short name in upper case ("NAME~1.TXT"). */
  shortText: string;
  /** First slot (the first long-name entry, or the short entry). */
  first: number;
  /** The short entry's slot. */
  slot: number;
  /** A directory (for readdir's d_type without making the inode). */
  isDir: boolean;
  /** The inode number, given on first need (readdir or lookup) and kept by the inode; 0: none yet. */
  ino: number;
}

/** Slot states of a loaded directory (0: at or after the end marker). */
const SLOT_FREE = 1;
const SLOT_USED = 2;

const ZERO_CHUNK = new Uint8Array(64 * 1024);

/** Little-endian stores into a directory entry (no DataView per entry on the hot path). */
function put16(raw: Uint8Array, at: number, v: number): void {
  raw[at] = v & 0xff;
  raw[at + 1] = (v >>> 8) & 0xff;
}

function put32(raw: Uint8Array, at: number, v: number): void {
  raw[at] = v & 0xff;
  raw[at + 1] = (v >>> 8) & 0xff;
  raw[at + 2] = (v >>> 16) & 0xff;
  raw[at + 3] = (v >>> 24) & 0xff;
}
const EMPTY = new Uint8Array(0);
const S_IWUGO = 0o222;
/** The attribute bits an inode keeps (Linux's ATTR_UNUSED plus read-only and directory). */
const ATTR_KEPT = 0x3f;
/** FAT_VALID_MODE: the only mode bits a FAT inode can have (no setuid, setgid or sticky). */
const FAT_VALID_MODE = S_IFREG | S_IFDIR | 0o777;

export class FatInode extends Inode {
  readonly sb: FatSuper;
  /** The directory holding this inode's entry and the short entry's slot there (null: root, or unlinked). */
  parent: FatInode | null;
  slot = -1;
  /** First cluster (0: none). */
  start: number;
  /** FAT attribute bits (ATTR_*). */
  attr: number;
  /** The cluster chain, read on first use. */
  private clusters: number[] | null = null;

  // Directories, once loaded.
  private ents: DirEnt[] | null = null;
  private byName: Map<string, DirEnt> | null = null;
  private byShort: Map<string, DirEnt> | null = null;
  private slots: Uint8Array | null = null;
  /** Every slot below this one is in use: the search for free slots starts here. */
  private freeHint = 0;
  /** Children with an inode in memory, by short-entry slot (one inode per entry, as Linux's i_pos hash). */
  private readonly live = new Map<number, FatInode>();
  /** Next ~N alias tail to try per name stem (see makeShortName). */
  private tails: Map<string, number> | null = null;
  /** FAT12/16 root: a fixed run of sectors instead of a cluster chain. */
  private readonly fixedRoot: boolean;

  constructor(sb: FatSuper, ino: number, parent: FatInode | null, init: NewInode, now: Timespec, start: number, attr: number, fixedRoot = false) {
    super(ino, init, now);
    this.sb = sb;
    this.parent = parent;
    this.start = start;
    this.attr = attr;
    this.fixedRoot = fixedRoot;
  }

  /** An inode for the short entry at `raw[off]` found in `dir` at `slot`. */
  static fromEntry(sb: FatSuper, dir: FatInode, slot: number, raw: Uint8Array, off: number, ino: number): FatInode {
    const dv = new DataView(raw.buffer, raw.byteOffset + off, DIR_ENTRY_SIZE);
    const attr = raw[off + DIR_ATTR]!;
    const isDir = (attr & ATTR_DIRECTORY) !== 0;
    const start = (sb.geo.type === 32 ? dv.getUint16(DIR_FST_CLUS_HI, true) << 16 : 0) | dv.getUint16(DIR_FST_CLUS_LO, true);
    const mtime = dosToTimespec(dv.getUint16(DIR_WRT_DATE, true), dv.getUint16(DIR_WRT_TIME, true));
    const inode = new FatInode(sb, ino, dir, { mode: sb.modeFor(isDir, attr), uid: sb.opts.uid, gid: sb.opts.gid, rdev: 0 }, mtime, start >>> 0, attr);
    inode.slot = slot;
    inode.btime = dosToTimespec(dv.getUint16(DIR_CRT_DATE, true), dv.getUint16(DIR_CRT_TIME, true), raw[off + DIR_CRT_TIME_TENTH]!);
    inode.atime = dosToTimespec(dv.getUint16(DIR_LST_ACC_DATE, true), 0);
    if (isDir) {
      inode.size = 0;
      inode.nlink = 2;
    } else {
      inode.size = dv.getUint32(DIR_FILE_SIZE, true);
      inode.blocks = (Math.ceil(inode.size / sb.geo.clusterSize) * sb.geo.clusterSize) / 512;
    }
    return inode;
  }

  // ---- cluster chain -----------------------------------------------------------------------

  private chain(): number[] {
    if (this.clusters === null) {
      // A directory is at most FAT's 65,536 entries: a longer chain (a loop) is found early.
      const limit = this.isDir ? Math.ceil(MAX_DIR_BYTES / this.sb.geo.clusterSize) : undefined;
      this.clusters = this.sb.fat.chain(this.start, `inode ${this.ino}`, limit);
      if (this.isReg && this.clusters.length < Math.ceil(this.size / this.sb.geo.clusterSize)) {
        throw errno(EUCLEAN, `vfat: inode ${this.ino}: file of ${this.size} bytes has only ${this.clusters.length} clusters`);
      }
      if (this.isDir) this.size = this.clusters.length * this.sb.geo.clusterSize;
      this.blocks = (this.clusters.length * this.sb.geo.clusterSize) / 512;
    }
    return this.clusters;
  }

  /** Grows the chain to `n` clusters (new ones are not zeroed). Errors: ENOSPC. */
  private growTo(n: number): void {
    const ch = this.chain();
    if (n <= ch.length) return;
    const last = ch.length > 0 ? ch[ch.length - 1]! : 0;
    const fresh = this.sb.fat.alloc(n - ch.length, last !== 0 ? last + 1 : this.sb.fat.nextFree);
    if (last !== 0) this.sb.fat.set(last, fresh[0]!);
    else this.start = fresh[0]!;
    for (const c of fresh) ch.push(c);
    this.blocks = (ch.length * this.sb.geo.clusterSize) / 512;
  }

  /** Shrinks the chain to `n` clusters, freeing the rest. */
  private shrinkTo(n: number): void {
    const ch = this.chain();
    if (n >= ch.length) return;
    const gone = ch.splice(n);
    this.sb.fat.free(gone);
    if (n === 0) this.start = 0;
    else this.sb.fat.set(ch[n - 1]!, this.sb.fat.eoc);
    this.blocks = (ch.length * this.sb.geo.clusterSize) / 512;
  }

  /**
   * Calls `fn(sector, offsetInSector, length, bufOffset)` for the bytes [pos, pos+len) of
   * the chain, one call per run of contiguous clusters.
   */
  private mapRuns(pos: number, len: number, fn: (sector: number, inSector: number, n: number, at: number) => void): void {
    const g = this.sb.geo;
    const cs = g.clusterSize;
    const ch = this.chain();
    let p = pos;
    let done = 0;
    while (done < len) {
      const ci = Math.floor(p / cs);
      // The run ends at a gap in the chain or where the request does (no need to look further).
      const lastNeeded = Math.floor((pos + len - 1) / cs);
      let cj = ci + 1;
      while (cj <= lastNeeded && ch[cj] === ch[cj - 1]! + 1) cj++;
      const runEnd = cj * cs;
      const n = Math.min(len - done, runEnd - p);
      const byteInRun = p - ci * cs;
      const sector = this.sb.clusterSector(ch[ci]!) + Math.floor(byteInRun / g.bytesPerSector);
      fn(sector, byteInRun % g.bytesPerSector, n, done);
      p += n;
      done += n;
    }
  }

  /**
   * Reads file bytes into buf[off, off+len). Whole sectors go straight from the device into
   * the caller's buffer; a run that starts or ends inside a sector is read whole into the
   * volume's scratch buffer (one device read for a small file) and the bytes copied out. The
   * cache is consulted for blocks it holds (readRun), never filled: file data is read once.
   */
  private readData(pos: number, buf: Uint8Array, off: number, len: number): void {
    const sb = this.sb;
    const bps = this.sb.geo.bytesPerSector;
    const scratch = this.sb.scratch;
    this.mapRuns(pos, len, (sector, inSec, n, at) => {
      const o = off + at;
      const end = inSec + n;
      const total = Math.ceil(end / bps);
      if (inSec === 0 && end % bps === 0) {
        sb.readData(sector, total, buf, o);
        return;
      }
      if (total * bps <= scratch.length) {
        sb.readData(sector, total, scratch, 0);
        buf.set(scratch.subarray(inSec, end), o);
        return;
      }
      // A large unaligned run: the partial sectors at either end through the scratch buffer.
      let s = sector;
      let dst = o;
      let left = n;
      if (inSec !== 0) {
        sb.readData(s, 1, scratch, 0);
        buf.set(scratch.subarray(inSec, bps), dst);
        s++;
        dst += bps - inSec;
        left -= bps - inSec;
      }
      const full = Math.floor(left / bps);
      sb.readData(s, full, buf, dst);
      s += full;
      dst += full * bps;
      left -= full * bps;
      if (left > 0) {
        sb.readData(s, 1, scratch, 0);
        buf.set(scratch.subarray(0, left), dst);
      }
    });
  }

  /**
   * Writes buf[off, off+len) at file offset `pos`. A run that is not whole sectors is put
   * together in the scratch buffer and written in one piece: the partial sectors at its ends
   * are read first only when they already hold file data (below `validEnd`, the size before
   * this write), else padded with zeros — so a small new file costs a single device write.
   */
  private writeData(pos: number, buf: Uint8Array, off: number, len: number, validEnd = this.size): void {
    const cache = this.sb.cache;
    this.sb.dropReadahead();
    const bps = this.sb.geo.bytesPerSector;
    const scratch = this.sb.scratch;
    /** Fills scratch[at, at+bps) with sector `s` as it is, or zeros when it holds no data yet. */
    const edge = (s: number, sectorPos: number, at: number): void => {
      if (sectorPos < validEnd) cache.readRun(s, 1, scratch, at);
      else scratch.fill(0, at, at + bps);
    };
    this.mapRuns(pos, len, (sector, inSec, n, at) => {
      const from = off + at;
      const end = inSec + n;
      const total = Math.ceil(end / bps);
      if (inSec === 0 && end % bps === 0) {
        cache.writeRun(sector, total, buf, from);
        return;
      }
      const runPos = pos + at - inSec; // file offset of the run's first sector
      if (total * bps <= scratch.length) {
        if (inSec !== 0) edge(sector, runPos, 0);
        if (end % bps !== 0 && (total > 1 || inSec === 0)) edge(sector + total - 1, runPos + (total - 1) * bps, (total - 1) * bps);
        scratch.set(buf.subarray(from, from + n), inSec);
        cache.writeRun(sector, total, scratch, 0);
        return;
      }
      // A large unaligned run: the partial sectors at either end through the scratch buffer.
      let s = sector;
      let src = from;
      let left = n;
      let sPos = runPos;
      if (inSec !== 0) {
        edge(s, sPos, 0);
        scratch.set(buf.subarray(src, src + bps - inSec), inSec);
        cache.writeRun(s, 1, scratch, 0);
        s++;
        src += bps - inSec;
        left -= bps - inSec;
        sPos += bps;
      }
      const full = Math.floor(left / bps);
      cache.writeRun(s, full, buf, src);
      s += full;
      src += full * bps;
      left -= full * bps;
      sPos += full * bps;
      if (left > 0) {
        edge(s, sPos, 0);
        scratch.set(buf.subarray(src, src + left), 0);
        cache.writeRun(s, 1, scratch, 0);
      }
    });
  }

  private zeroData(pos: number, len: number): void {
    for (let done = 0; done < len; ) {
      const n = Math.min(ZERO_CHUNK.length, len - done);
      this.writeData(pos + done, ZERO_CHUNK, 0, n);
      done += n;
    }
  }

  // ---- regular files -------------------------------------------------------------------------

  override read(pos: number, buf: Uint8Array, off: number, len: number): number {
    if (!this.isReg) throw E.EINVAL;
    if (pos >= this.size || len === 0) return 0;
    const n = Math.min(len, this.size - pos);
    this.readData(pos, buf, off, n);
    return n;
  }

  override write(pos: number, buf: Uint8Array, off: number, len: number): number {
    if (!this.isReg) throw E.EINVAL;
    if (len === 0) return 0;
    if (pos >= MAX_FILE_SIZE) throw E.EFBIG;
    let n = Math.min(len, MAX_FILE_SIZE - pos);
    const cs = this.sb.geo.clusterSize;
    const have = this.chain().length;
    const want = Math.ceil((pos + n) / cs);
    if (want > have) {
      // Out of space part-way: write what fits (a short count), or ENOSPC if nothing does.
      const extra = Math.min(want - have, this.sb.fat.freeCount);
      this.growTo(have + extra);
      const room = (have + extra) * cs - pos;
      if (room <= 0) throw E.ENOSPC;
      n = Math.min(n, room);
    }
    if (pos > this.size) this.zeroData(this.size, pos - this.size);
    this.writeData(pos, buf, off, n);
    if (pos + n > this.size) this.size = pos + n;
    const now = truncateMtime(this.sb.clock.now());
    this.mtime = this.ctime = now;
    this.attr |= ATTR_ARCHIVE;
    this.syncEntry();
    return n;
  }

  /** Truncates or extends (with zeros: FAT has no holes). Errors: EFBIG, ENOSPC. */
  private resize(size: number): void {
    if (size > MAX_FILE_SIZE) throw E.EFBIG;
    const cs = this.sb.geo.clusterSize;
    if (size < this.size) this.shrinkTo(Math.ceil(size / cs));
    else if (size > this.size) {
      this.growTo(Math.ceil(size / cs));
      this.zeroData(this.size, size - this.size);
    }
    this.size = size;
  }

  override fsync(): void {
    this.sb.sync();
  }

  // ---- attributes ------------------------------------------------------------------------------

  /**
   * Linux's fat_setattr (fs/fat/file.c). Refused outright, EPERM (or a silent no-op when
   * mounted with `quiet`): an owner or group other than the mount's, and mode bits FAT
   * cannot even express (setuid, setgid, sticky). A mode FAT cannot store exactly is not an
   * error but is left unchanged ("relax the permission check of fat_setattr()", Linux 2.6.28),
   * while the call's other changes (size, times) still apply — so `cp -p` and `chmod 0700`
   * succeed on vfat. Only the write bits map to the disk, as the read-only attribute.
   * Errors: EPERM, EISDIR (size on a directory), EFBIG, ENOSPC.
   */
  override setattr(attr: SetAttr): void {
    const o = this.sb.opts;
    const refused =
      (attr.uid !== undefined && attr.uid !== o.uid) ||
      (attr.gid !== undefined && attr.gid !== o.gid) ||
      (attr.mode !== undefined && (attr.mode & ~FAT_VALID_MODE) !== 0);
    if (refused) {
      if (o.quiet) return;
      throw E.EPERM;
    }
    const mode = attr.mode === undefined ? undefined : this.sanitizeMode(attr.mode);
    if (attr.size !== undefined) {
      if (!this.isReg) throw E.EISDIR;
      this.resize(attr.size);
      this.mtime = this.ctime = truncateMtime(attr.mtime ?? this.sb.clock.now());
      this.attr |= ATTR_ARCHIVE;
    }
    if (mode !== undefined) {
      // fat_make_attrs: the mode speaks for the read-only attribute only where it can hold it;
      // elsewhere the attribute on disk is kept as it was.
      if (this.canHoldReadOnly()) this.attr = mode & S_IWUGO ? this.attr & ~ATTR_READ_ONLY : this.attr | ATTR_READ_ONLY;
      this.mode = mode;
    }
    // Times as FAT keeps them, also in memory (fat_truncate_time): what stat shows survives a remount.
    if (attr.atime !== undefined) this.atime = truncateAtime(attr.atime);
    if (attr.mtime !== undefined) this.mtime = truncateMtime(attr.mtime);
    if (attr.ctime !== undefined) this.ctime = truncateMtime(attr.ctime);
    this.syncEntry();
  }

  /**
   * fat_sanitize_mode_change: the mode FAT would store for a request, or undefined when it
   * cannot store it. After the mount's fmask/dmask, the read and execute bits must be the
   * ones the inode has, and the write bits all (that the mask leaves) or none — none only
   * where the read-only attribute can stand for it (canHoldReadOnly).
   */
  private sanitizeMode(mode: number): number | undefined {
    const mask = this.isReg ? this.sb.opts.fmask : this.sb.opts.dmask;
    const perm = mode & 0o777 & ~mask;
    if ((perm & 0o555) !== (this.mode & 0o555)) return undefined;
    const w = perm & S_IWUGO;
    const allW = S_IWUGO & ~mask;
    if (this.canHoldReadOnly() ? w !== 0 && w !== allW : w !== allW) return undefined;
    return (this.mode & S_IFMT) | perm;
  }

  /**
   * fat_mode_can_hold_ro: whether the write bits stand for the read-only attribute. Not for
   * directories unless mounted with `rodir` (Windows ignores the attribute on directories),
   * and not when the mask leaves no write bit to take away.
   */
  private canHoldReadOnly(): boolean {
    const o = this.sb.opts;
    if (this.isDir && !o.rodir) return false;
    return (S_IWUGO & ~(this.isDir ? o.dmask : o.fmask)) !== 0;
  }

  /** The access date only changes once a day: write the entry only then. */
  override touchAtime(now: Timespec): void {
    const day = truncateAtime(now);
    if (day.sec === this.atime.sec) return;
    this.atime = day;
    this.syncEntry();
  }

  /** Writes size, first cluster, attributes and times into this inode's short entry. */
  syncEntry(): void {
    const dir = this.parent;
    if (dir === null || this.slot < 0 || this.sb.readOnly) return;
    const { bh, off } = dir.slotRef(this.slot);
    this.fillEntry(bh.data, off);
    this.sb.cache.markDirty(bh);
  }

  /** The entry fields this inode owns (everything but the name and case flags). */
  private fillEntry(raw: Uint8Array, off: number): void {
    raw[off + DIR_ATTR] = this.attr;
    put16(raw, off + DIR_FST_CLUS_HI, this.sb.geo.type === 32 ? this.start >>> 16 : 0);
    put16(raw, off + DIR_FST_CLUS_LO, this.start & 0xffff);
    put32(raw, off + DIR_FILE_SIZE, this.isDir ? 0 : this.size);
    const [wd, wt] = timespecToDos(this.mtime);
    put16(raw, off + DIR_WRT_DATE, wd);
    put16(raw, off + DIR_WRT_TIME, wt);
    put16(raw, off + DIR_LST_ACC_DATE, timespecToDos(this.atime)[0]);
    const [cd, ct, ctt] = timespecToDos(this.btime ?? this.mtime);
    put16(raw, off + DIR_CRT_DATE, cd);
    put16(raw, off + DIR_CRT_TIME, ct);
    raw[off + DIR_CRT_TIME_TENTH] = ctt;
  }

  // ---- directory storage ---------------------------------------------------------------------

  /** Slots the directory can hold now. */
  capacity(): number {
    if (this.fixedRoot) return this.sb.geo.rootEntries;
    return (this.chain().length * this.sb.geo.clusterSize) / DIR_ENTRY_SIZE;
  }

  /** The buffer and offset of slot `i`. */
  slotRef(i: number): { bh: BufferHead; off: number } {
    const g = this.sb.geo;
    const byte = i * DIR_ENTRY_SIZE;
    let sector: number;
    if (this.fixedRoot) sector = g.rootDirSector + Math.floor(byte / g.bytesPerSector);
    else {
      const cs = g.clusterSize;
      sector = this.sb.clusterSector(this.chain()[Math.floor(byte / cs)]!) + Math.floor((byte % cs) / g.bytesPerSector);
    }
    return { bh: this.sb.cache.get(sector), off: byte % g.bytesPerSector };
  }

  /** Brings the directory's sectors into the cache, one device read per run of clusters. */
  private prefetch(): void {
    const g = this.sb.geo;
    if (this.fixedRoot) {
      this.sb.cache.prefetch(g.rootDirSector, g.rootDirSectors);
      return;
    }
    const ch = this.chain();
    for (let i = 0; i < ch.length; ) {
      let j = i + 1;
      while (j < ch.length && ch[j] === ch[j - 1]! + 1) j++;
      this.sb.cache.prefetch(this.sb.clusterSector(ch[i]!), (j - i) * g.sectorsPerCluster);
      i = j;
    }
  }

  /** Reads the directory's entries (once). Errors: EUCLEAN/EIO for a corrupt directory. */
  private load(): void {
    if (this.ents !== null) return;
    if (!this.isDir) throw E.ENOTDIR;
    this.prefetch();
    const cap = this.capacity();
    const slots = new Uint8Array(cap);
    const ents: DirEnt[] = [];
    const byName = new Map<string, DirEnt>();
    const byShort = new Map<string, DirEnt>();
    let lfnParts: string[] | null = null;
    let lfnStart = -1;
    let lfnNext = 0;
    let lfnSum = -1;
    let subdirs = 0;
    const perSector = this.sb.geo.bytesPerSector / DIR_ENTRY_SIZE;
    let raw: Uint8Array = EMPTY;
    for (let i = 0; i < cap; i++) {
      // One buffer lookup per sector, not per entry.
      if (i % perSector === 0) raw = this.slotRef(i).bh.data;
      const off = (i % perSector) * DIR_ENTRY_SIZE;
      const b0 = raw[off]!;
      if (b0 === DIR_ENTRY_END) break; // this slot and all after stay SLOT_END
      if (b0 === DIR_ENTRY_FREE) {
        slots[i] = SLOT_FREE;
        lfnParts = null;
        continue;
      }
      slots[i] = SLOT_USED;
      const attr = raw[off + DIR_ATTR]!;
      if ((attr & ATTR_LONG_NAME_MASK) === ATTR_LONG_NAME) {
        // Long-name entries come last part first, ordinals counting down to 1 (FAT spec §7).
        const ord = raw[off + LDIR_ORD]!;
        const seq = ord & 0x1f;
        const sum = raw[off + LDIR_CHKSUM]!;
        if (ord & LAST_LONG_ENTRY) {
          lfnParts = new Array<string>(seq).fill('');
          lfnStart = i;
          lfnSum = sum;
        } else if (lfnParts === null || seq !== lfnNext - 1 || sum !== lfnSum) {
          lfnParts = null;
          continue;
        }
        if (seq === 0) {
          lfnParts = null;
          continue;
        }
        let part = '';
        for (const o of LFN_CHAR_OFFSETS) {
          const u = raw[off + o]! | (raw[off + o + 1]! << 8);
          if (u === 0) break;
          part += String.fromCharCode(u);
        }
        lfnParts[seq - 1] = part;
        lfnNext = seq;
        continue;
      }
      if (attr & ATTR_VOLUME_ID) {
        lfnParts = null;
        continue;
      }
      const shortText = shortNameToString(raw, off + DIR_NAME, 0);
      if (shortText === '.' || shortText === '..') {
        lfnParts = null;
        continue;
      }
      let name: string;
      let first = i;
      if (lfnParts !== null && lfnNext === 1 && lfnSum === shortNameChecksum(raw, off + DIR_NAME)) {
        name = lfnParts.join('');
        first = lfnStart;
      } else name = shortNameToString(raw, off + DIR_NAME, raw[off + DIR_NT_RES]!);
      lfnParts = null;
      const e: DirEnt = { name, shortText: shortText.toUpperCase(), first, slot: i, isDir: (attr & ATTR_DIRECTORY) !== 0, ino: 0 };
      ents.push(e);
      byName.set(foldName(name), e);
      byShort.set(e.shortText, e);
      if (attr & ATTR_DIRECTORY) subdirs++;
    }
    this.ents = ents;
    this.byName = byName;
    this.byShort = byShort;
    this.slots = slots;
    this.nlink = 2 + subdirs;
  }

  private find(name: string): DirEnt | undefined {
    this.load();
    const key = foldName(name);
    return this.byName!.get(key) ?? this.byShort!.get(key);
  }

  /**
   * The inode of entry `e`, made once. Errors: EUCLEAN for a directory entry whose first
   * cluster is where this directory or one above it starts — the tree would be a cycle
   * (fsck.fat reports it; Linux would show the same directory again, level after level, and
   * a tool copying the tree would never finish) — or whose own directory is corrupt.
   */
  private inodeOf(e: DirEnt): FatInode {
    let inode = this.live.get(e.slot);
    if (inode === undefined) {
      const { bh, off } = this.slotRef(e.slot);
      if (e.ino === 0) e.ino = this.sb.nextIno++;
      inode = FatInode.fromEntry(this.sb, this, e.slot, bh.data, off, e.ino);
      if (inode.isDir && inode.start !== 0) {
        // Any endless path revisits a cluster among its own ancestors, so this finds every cycle.
        for (let d: FatInode | null = this; d !== null; d = d.parent) {
          if (d.start === inode.start) throw errno(EUCLEAN, `vfat: directory '${e.name}' (cluster ${inode.start}) loops back to an ancestor`);
        }
      }
      if (inode.isDir) inode.load();
      this.live.set(e.slot, inode);
    }
    return inode;
  }

  /** Finds `count` consecutive free slots, growing the directory if needed. Errors: ENOSPC. */
  private reserveSlots(count: number): number {
    let slots = this.slots!;
    let run = 0;
    let firstFree = -1;
    for (let i = this.freeHint; i < slots.length; i++) {
      if (slots[i] === SLOT_USED) {
        run = 0;
        continue;
      }
      if (firstFree < 0) firstFree = this.freeHint = i;
      if (++run === count) return i - count + 1;
    }
    if (firstFree < 0) this.freeHint = slots.length;
    if (this.fixedRoot) throw E.ENOSPC;
    // Grow by a cluster at a time (zeroed: a zero first byte ends the directory).
    const cs = this.sb.geo.clusterSize;
    const perCluster = cs / DIR_ENTRY_SIZE;
    const need = Math.ceil((count - run) / perCluster);
    if ((this.chain().length + need) * cs > MAX_DIR_BYTES) throw E.ENOSPC;
    const before = this.chain().length;
    this.growTo(before + need);
    const ch = this.chain();
    const bps = this.sb.geo.bytesPerSector;
    for (let k = before; k < ch.length; k++) {
      const s0 = this.sb.clusterSector(ch[k]!);
      for (let s = 0; s < cs / bps; s++) this.sb.cache.markDirty(this.sb.cache.getZeroed(s0 + s));
    }
    const grown = new Uint8Array(this.capacity());
    grown.set(slots);
    this.slots = slots = grown;
    this.size = ch.length * cs;
    return slots.length - need * perCluster - run;
  }

  /**
   * Adds an entry named `name` whose short entry is `entry` (32 bytes; the name field is
   * filled here). Returns its slot. Errors: EINVAL/ENAMETOOLONG (bad name), EEXIST, ENOSPC.
   */
  private addEntry(name: string, entry: Uint8Array): DirEnt {
    this.load();
    const stored = checkLongName(name);
    const sn = makeShortName(stored, (t) => this.byShort!.has(t), (this.tails ??= new Map()));
    const lfnCount = sn.needLfn ? Math.ceil(stored.length / LFN_CHARS_PER_ENTRY) : 0;
    const first = this.reserveSlots(lfnCount + 1);
    entry.set(sn.raw, DIR_NAME);
    entry[DIR_NT_RES] = 0;
    const sum = shortNameChecksum(sn.raw);
    for (let k = 0; k < lfnCount; k++) {
      const seq = lfnCount - k; // the first slot holds the last part
      const { bh, off } = this.slotRef(first + k);
      const raw = bh.data;
      raw.fill(0, off, off + DIR_ENTRY_SIZE);
      raw[off + LDIR_ORD] = seq | (k === 0 ? LAST_LONG_ENTRY : 0);
      raw[off + LDIR_ATTR] = ATTR_LONG_NAME;
      raw[off + LDIR_CHKSUM] = sum;
      const base = (seq - 1) * LFN_CHARS_PER_ENTRY;
      for (let j = 0; j < LFN_CHARS_PER_ENTRY; j++) {
        const o = off + LFN_CHAR_OFFSETS[j]!;
        const idx = base + j;
        // After the name: one 0x0000, then 0xFFFF padding (FAT spec §7.1).
        const u = idx < stored.length ? stored.charCodeAt(idx) : idx === stored.length ? 0 : 0xffff;
        raw[o] = u & 0xff;
        raw[o + 1] = u >> 8;
      }
      this.sb.cache.markDirty(bh);
      this.slots![first + k] = SLOT_USED;
    }
    const slot = first + lfnCount;
    const { bh, off } = this.slotRef(slot);
    bh.data.set(entry, off);
    this.sb.cache.markDirty(bh);
    this.slots![slot] = SLOT_USED;
    const e: DirEnt = { name: stored, shortText: sn.text, first, slot, isDir: (entry[DIR_ATTR]! & ATTR_DIRECTORY) !== 0, ino: 0 };
    // Keep the list in slot order (readdir cookies are slot positions).
    let lo = 0;
    let hi = this.ents!.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ents![mid]!.first < first) lo = mid + 1;
      else hi = mid;
    }
    this.ents!.splice(lo, 0, e);
    this.byName!.set(foldName(stored), e);
    this.byShort!.set(sn.text, e);
    return e;
  }

  /** Marks entry `e`'s slots free. */
  private removeEntry(e: DirEnt): void {
    for (let i = e.first; i <= e.slot; i++) {
      const { bh, off } = this.slotRef(i);
      bh.data[off] = DIR_ENTRY_FREE;
      this.sb.cache.markDirty(bh);
      this.slots![i] = SLOT_FREE;
    }
    if (e.first < this.freeHint) this.freeHint = e.first;
    const idx = this.ents!.indexOf(e);
    if (idx >= 0) this.ents!.splice(idx, 1);
    this.byName!.delete(foldName(e.name));
    this.byShort!.delete(e.shortText);
    this.live.delete(e.slot);
  }

  private entOf(inode: FatInode): DirEnt {
    this.load();
    const e = this.ents!.find((x) => x.slot === inode.slot);
    if (e === undefined) throw errno(EUCLEAN, `vfat: inode ${inode.ino} has no entry in its directory`);
    return e;
  }

  // ---- directories ---------------------------------------------------------------------------

  override lookup(name: string): Inode | null {
    if (!this.isDir) throw E.ENOTDIR;
    const e = this.find(name);
    return e === undefined ? null : this.inodeOf(e);
  }

  /** A new short entry for a child: attributes, times, no cluster yet. */
  private newChild(isDir: boolean, init: NewInode): { inode: FatInode; entry: Uint8Array } {
    const now = this.sb.clock.now();
    // The mode asked for is not stored, as in Linux's vfat (a new entry is a directory or
    // archive, writable); the permissions come from the mount's fmask and dmask.
    const a = isDir ? ATTR_DIRECTORY : ATTR_ARCHIVE;
    const inode = new FatInode(this.sb, this.sb.nextIno++, this, { mode: this.sb.modeFor(isDir, a), uid: this.sb.opts.uid, gid: this.sb.opts.gid, rdev: 0 }, now, 0, a);
    // FAT keeps times at its own precision: store and show the same value.
    const [d, t, tt] = timespecToDos(now);
    inode.mtime = inode.ctime = dosToTimespec(d, t);
    inode.btime = dosToTimespec(d, t, tt);
    inode.atime = dosToTimespec(d, 0);
    if (isDir) inode.nlink = 2;
    const entry = new Uint8Array(DIR_ENTRY_SIZE);
    inode.fillEntry(entry, 0);
    return { inode, entry };
  }

  override create(name: string, init: NewInode): Inode {
    const { inode, entry } = this.newChild(false, init);
    const e = this.addEntry(name, entry);
    e.ino = inode.ino;
    inode.slot = e.slot;
    inode.clusters = [];
    this.live.set(e.slot, inode);
    this.touchDir();
    return inode;
  }

  override mkdir(name: string, init: NewInode): Inode {
    this.load();
    const { inode, entry } = this.newChild(true, init);
    // The directory's first cluster, with "." and ".." (FAT spec §6.7).
    const [c] = this.sb.fat.alloc(1, this.sb.fat.nextFree);
    inode.start = c!;
    inode.clusters = [c!];
    inode.size = this.sb.geo.clusterSize;
    inode.blocks = this.sb.geo.clusterSize / 512;
    inode.fillEntry(entry, 0);
    let e: DirEnt;
    try {
      e = this.addEntry(name, entry);
    } catch (err) {
      this.sb.fat.free([c!]);
      throw err;
    }
    inode.slot = e.slot;
    e.ino = inode.ino;
    const cache = this.sb.cache;
    const s0 = this.sb.clusterSector(c!);
    for (let s = 0; s < this.sb.geo.sectorsPerCluster; s++) cache.markDirty(cache.getZeroed(s0 + s));
    const bh = cache.get(s0);
    const dot = entry.slice();
    dot.fill(0x20, 0, 11);
    dot[0] = 0x2e;
    bh.data.set(dot, 0);
    const dotdot = dot.slice();
    dotdot[1] = 0x2e;
    const pc = this.fixedRoot || this.parent === null ? 0 : this.start;
    new DataView(dotdot.buffer).setUint16(DIR_FST_CLUS_LO, pc & 0xffff, true);
    new DataView(dotdot.buffer).setUint16(DIR_FST_CLUS_HI, this.sb.geo.type === 32 ? pc >>> 16 : 0, true);
    bh.data.set(dotdot, DIR_ENTRY_SIZE);
    cache.markDirty(bh);
    inode.ents = [];
    inode.byName = new Map();
    inode.byShort = new Map();
    inode.slots = new Uint8Array(inode.capacity());
    inode.slots[0] = inode.slots[1] = SLOT_USED;
    this.live.set(e.slot, inode);
    this.nlink++;
    this.touchDir();
    return inode;
  }

  override unlink(name: string, inode: Inode): void {
    const child = inode as FatInode;
    this.removeEntry(this.entOf(child));
    child.parent = null;
    child.slot = -1;
    child.nlink = 0;
    child.ctime = truncateMtime(this.sb.clock.now());
    this.touchDir();
  }

  override rmdir(name: string, inode: Inode): void {
    const child = inode as FatInode;
    if (!child.isEmptyDir()) throw E.ENOTEMPTY;
    this.removeEntry(this.entOf(child));
    child.parent = null;
    child.slot = -1;
    child.nlink = 0;
    this.nlink--;
    this.touchDir();
  }

  override rename(oldName: string, inode: Inode, newDir: Inode, newName: string, target: Inode | null, flags: number): void {
    const src = inode as FatInode;
    const dst = newDir as FatInode;
    const tgt = target as FatInode | null;
    // A directory cannot move beneath itself. The VFS checks this on dentries, but FAT's are
    // not cached (two spellings of one directory are two dentries): check the inodes too.
    if (src.isDir && dst.isWithin(src)) throw E.EINVAL;
    if (flags & RENAME_EXCHANGE) {
      if (tgt === null) throw E.ENOENT;
      if (tgt.isDir && this.isWithin(tgt)) throw E.EINVAL;
      this.exchange(src, dst, tgt);
      return;
    }
    const old = this.entOf(src);
    const now = this.sb.clock.now();
    let slot: number;
    if (tgt !== null) {
      // As vfat_rename: the target's entry (its name) now describes the moved inode.
      if (tgt.isDir && !tgt.isEmptyDir()) throw E.ENOTEMPTY;
      const te = dst.entOf(tgt);
      slot = te.slot;
      te.ino = src.ino;
      te.isDir = src.isDir;
      dst.live.delete(te.slot);
      tgt.parent = null;
      tgt.slot = -1;
      tgt.nlink = 0;
      if (tgt.isDir) dst.nlink--;
      const { bh, off } = dst.slotRef(slot);
      src.fillEntry(bh.data, off);
      this.sb.cache.markDirty(bh);
    } else {
      const entry = new Uint8Array(DIR_ENTRY_SIZE);
      src.fillEntry(entry, 0);
      const e = dst.addEntry(newName, entry);
      e.ino = src.ino;
      slot = e.slot;
    }
    // The old entry may have moved if dst === this grew; find it again by its slot.
    this.removeEntry(old);
    src.parent = dst;
    src.slot = slot;
    dst.live.set(slot, src);
    if (src.isDir && dst !== this) {
      this.nlink--;
      dst.nlink++;
      src.setDotdot(dst);
    }
    src.ctime = truncateMtime(now);
    this.touchDir();
    if (dst !== this) dst.touchDir();
  }

  /**
   * RENAME_EXCHANGE (Linux vfat since 6.0): `src` (here) and `tgt` (in `dst`) trade places.
   * Each short entry keeps its names and case flags and takes the other inode's fields
   * (attributes, first cluster, size, times); a directory that changes parent gets a new
   * "..", and the parents' link counts follow a directory that moves.
   */
  private exchange(src: FatInode, dst: FatInode, tgt: FatInode): void {
    const se = this.entOf(src);
    const te = dst.entOf(tgt);
    this.live.set(se.slot, tgt);
    dst.live.set(te.slot, src);
    se.ino = tgt.ino;
    se.isDir = tgt.isDir;
    te.ino = src.ino;
    te.isDir = src.isDir;
    src.parent = dst;
    src.slot = te.slot;
    tgt.parent = this;
    tgt.slot = se.slot;
    const now = truncateMtime(this.sb.clock.now());
    src.ctime = tgt.ctime = now;
    src.syncEntry();
    tgt.syncEntry();
    if (dst !== this) {
      if (src.isDir) src.setDotdot(dst);
      if (tgt.isDir) tgt.setDotdot(this);
      if (src.isDir !== tgt.isDir) {
        const moved = src.isDir ? 1 : -1;
        this.nlink -= moved;
        dst.nlink += moved;
      }
    }
    this.touchDir();
    if (dst !== this) dst.touchDir();
  }

  /** True when this directory is `dir` or lies beneath it. */
  private isWithin(dir: FatInode): boolean {
    for (let d: FatInode | null = this; d !== null; d = d.parent) if (d === dir) return true;
    return false;
  }

  /** Points this directory's ".." entry at `parent` (cluster 0 for the root, FAT spec §6.7). */
  private setDotdot(parent: FatInode): void {
    const { bh, off } = this.slotRef(1);
    const pc = parent.parent === null ? 0 : parent.start;
    put16(bh.data, off + DIR_FST_CLUS_LO, pc & 0xffff);
    put16(bh.data, off + DIR_FST_CLUS_HI, this.sb.geo.type === 32 ? pc >>> 16 : 0);
    this.sb.cache.markDirty(bh);
  }

  /** A directory changed: its mtime (not kept for the root, which has no entry). */
  private touchDir(): void {
    const now = truncateMtime(this.sb.clock.now());
    this.mtime = this.ctime = now;
    this.syncEntry();
  }

  override readdir(cookie: number, emit: DirEmit): void {
    this.load();
    if (cookie === 0) {
      if (!emit('.', this.ino, modeToDtype(this.mode), 1)) return;
      cookie = 1;
    }
    if (cookie === 1) {
      const p = this.parent ?? this;
      if (!emit('..', p.ino, modeToDtype(p.mode), 2)) return;
      cookie = 2;
    }
    const from = cookie - 2;
    const list = this.ents!.slice();
    for (const e of list) {
      if (e.first < from) continue;
      // No inode is made for a listing: the number is given now and kept for the inode.
      if (e.ino === 0) e.ino = this.sb.nextIno++;
      if (!emit(e.name, e.ino, e.isDir ? DT_DIR : DT_REG, e.slot + 3)) return;
    }
  }

  /**
   * Names match regardless of case, so one file has many spellings; the VFS's dentry cache
   * compares names exactly and would keep stale spellings after an unlink or rename. FAT
   * directories are therefore asked on every walk (a map lookup here).
   */
  override get cacheChildren(): boolean {
    return false;
  }

  override isEmptyDir(): boolean {
    this.load();
    return this.ents!.length === 0;
  }

  override evict(): void {
    // The last name and the last open file are gone: give the clusters back.
    if (this.nlink === 0 && !this.sb.readOnly) {
      this.shrinkTo(0);
      this.clusters = [];
    }
  }

  /**
   * fat_make_attrs: the attribute byte as FAT_IOCTL_GET_ATTRIBUTES reports it — read-only,
   * hidden, system, volume, directory, archive (the two reserved bits are not kept, as Linux).
   */
  get fatAttributes(): number {
    return this.attr & ATTR_KEPT;
  }

  /** FAT_IOCTL_GET_ATTRIBUTES and FAT_IOCTL_SET_ATTRIBUTES (fs/fat/file.c). Errors: ENOTTY, EFAULT, and see setFatAttributes. */
  override ioctl(f: File, request: number, arg: unknown, cred: Cred): number {
    if (request !== FAT_IOCTL_GET_ATTRIBUTES && request !== FAT_IOCTL_SET_ATTRIBUTES) throw E.ENOTTY;
    if (!ArrayBuffer.isView(arg) || arg.byteLength < 4) throw E.EFAULT;
    const u32 = new DataView(arg.buffer, arg.byteOffset, 4);
    if (request === FAT_IOCTL_GET_ATTRIBUTES) u32.setUint32(0, this.fatAttributes, true);
    else this.setFatAttributes(f, cred, u32.getUint32(0, true));
    return 0;
  }

  /**
   * fat_ioctl_set_attributes: new attribute bits (the volume and directory bits cannot
   * change; bits above the low byte are ignored). Read-only goes through setattr as the
   * mode it implies (a chmod), so mode and attribute never disagree. Errors: EROFS, EINVAL
   * (the root, which has no entry, takes no attributes), EPERM (not the owner, unless `quiet`).
   */
  private setFatAttributes(f: File, cred: Cred, value: number): void {
    mntWantWrite(f.path.mnt);
    const a = (value & 0xff & ~(ATTR_VOLUME_ID | ATTR_DIRECTORY)) | (this.attr & ATTR_VOLUME_ID) | (this.isDir ? ATTR_DIRECTORY : 0);
    if (this === this.sb.root && a !== ATTR_DIRECTORY) throw E.EINVAL;
    // setattr_prepare refuses a mode change to anyone but the owner; with `quiet` only the
    // mode is skipped and the other attributes still change (as Linux).
    if (ownerOrCapable(cred, this)) {
      const mode = this.sb.makeMode(a, this.isDir ? 0o777 : 0o666 | (this.mode & 0o111));
      this.setattr({ mode, ctime: this.sb.clock.now() });
    } else if (!this.sb.opts.quiet) throw E.EPERM;
    // fat_save_attrs: where the mode can hold read-only, the mode decides it.
    const ro = this.canHoldReadOnly() ? (this.mode & S_IWUGO) === 0 : (a & ATTR_READ_ONLY) !== 0;
    this.attr = (a & ATTR_KEPT & ~ATTR_READ_ONLY) | (ro ? ATTR_READ_ONLY : 0);
    this.syncEntry();
  }

  /** Files on this volume's root, for mkfs/label use. */
  get entryNames(): string[] {
    this.load();
    return this.ents!.map((e) => e.name);
  }
}

