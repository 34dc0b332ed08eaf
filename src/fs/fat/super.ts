// The vfat filesystem type and a mounted FAT volume (Linux's fs/fat/inode.c + namei_vfat.c):
// mount checks the boot sector, loads the FAT, reads FSInfo's hints, and marks the volume
// dirty in the boot sector's state byte until a clean unmount, as Linux does. sync writes
// the FAT to every copy, the directories and FSInfo (exact free count, next-free hint).
// File data read forward in small pieces comes through a read-ahead window, dropped when
// file data is written or clusters change hands.
// Mount options as Linux vfat: uid, gid, umask, fmask, dmask, quiet, showexec, rodir, and the
// character-set and naming options Linux accepts (utf8, iocharset, codepage, shortname, tz).

import { MS_RDONLY } from '../../abi/linux/mount.js';
import { S_IFDIR, S_IFREG } from '../../abi/linux/stat.js';
import { BufferCache } from '../../block/buffer_cache.js';
import type { BlockDevice } from '../../block/block_device.js';
import { E, errno } from '../../kernel/errno.js';
import { EINVAL, EUCLEAN } from '../../abi/linux/errno.js';
import type { HostOps } from '../../host/host_ops.js';
import { parseMountData, parseSize, type FileSystemType, type MountContext, type StatFs, type SuperBlock } from '../../vfs/superblock.js';
import type { Clock } from '../../vfs/time.js';
import { parseBootSector, type Geometry } from './boot_sector.js';
import { FatTable } from './fat_table.js';
import { FatInode } from './inode.js';
import {
  ATTR_DIRECTORY, ATTR_READ_ONLY, ATTR_VOLUME_ID, DIR_ATTR, FAT_STATE_DIRTY, FIRST_CLUSTER, FSI_FREE_COUNT,
  FSI_LEAD_SIG, FSI_LEAD_SIG_VALUE, FSI_NXT_FREE, FSI_STRUC_SIG, FSI_STRUC_SIG_VALUE, FSI_UNKNOWN, MAX_FILE_SIZE,
  MSDOS_SUPER_MAGIC, ATTR_LONG_NAME_MASK, ATTR_LONG_NAME, DIR_ENTRY_END, DIR_ENTRY_FREE,
} from './layout.js';

/** MSDOS_ROOT_INO */
const ROOT_INO = 1;
/** Size of the scratch buffer for partial-sector file I/O. */
const SCRATCH_BYTES = 128 * 1024;
/** How much file data one read-ahead fetches. */
const READAHEAD_BYTES = 256 * 1024;

export interface FatOptions {
  uid: number;
  gid: number;
  fmask: number;
  dmask: number;
  /** Files get execute permission only for .EXE, .COM and .BAT. */
  showexec: boolean;
  /** Refused mode and owner changes succeed silently instead of EPERM. */
  quiet: boolean;
  /** The read-only attribute of a directory takes away its write bits (ignored otherwise). */
  rodir: boolean;
  /** The options as given (for /proc/mounts). */
  text: string;
}

const OCTAL = /^[0-7]+$/;
/** Options Linux's vfat takes that change nothing in tkl (tkl is always UTF-16/UTF-8 and UTC). */
const ACCEPTED = new Set([
  'utf8', 'iocharset', 'codepage', 'shortname', 'tz', 'time_offset', 'check', 'errors', 'flush', 'usefree',
  'nocase', 'nonumtail', 'numtail', 'uni_xlate', 'posix', 'dots', 'nodots', 'dotsOK', 'discard',
  'nfs', 'allow_utime', 'debug', 'sys_immutable', 'dos1xfloppy', 'fat', 'cache',
]);

/** Parses vfat mount options. Errors: EINVAL naming an unknown option or a bad value. */
export function parseFatOptions(data: string, umask = 0o022): FatOptions {
  const m = parseMountData(data);
  const num = (k: string, octal: boolean): number => {
    const v = m.get(k)!;
    if (octal ? !OCTAL.test(v) : !/^\d+$/.test(v)) throw errno(EINVAL, `vfat: bad value '${v}' for mount option '${k}'`);
    return octal ? parseInt(v, 8) : Number(v);
  };
  let fmask = umask;
  let dmask = umask;
  const opts: FatOptions = { uid: 0, gid: 0, fmask, dmask, showexec: false, quiet: false, rodir: false, text: data };
  for (const k of m.keys()) {
    switch (k) {
      case 'uid':
        opts.uid = num(k, false);
        break;
      case 'gid':
        opts.gid = num(k, false);
        break;
      case 'umask':
        fmask = dmask = num(k, true);
        break;
      case 'showexec':
        opts.showexec = true;
        break;
      case 'quiet':
        opts.quiet = true;
        break;
      case 'rodir':
        opts.rodir = true;
        break;
      case 'fmask':
      case 'dmask':
        break;
      default:
        if (!ACCEPTED.has(k)) throw errno(EINVAL, `vfat: unrecognized mount option '${k}'`);
    }
  }
  // fmask and dmask override umask wherever they come in the list.
  if (m.has('fmask')) fmask = num('fmask', true);
  if (m.has('dmask')) dmask = num('dmask', true);
  opts.fmask = fmask & 0o777;
  opts.dmask = dmask & 0o777;
  return opts;
}

export class FatSuper implements SuperBlock {
  readonly fsType: FileSystemType;
  readonly dev: number;
  readonly root: FatInode;
  readOnly: boolean;
  readonly clock: Clock;
  readonly blockSize: number;
  readonly maxFileSize = MAX_FILE_SIZE;
  readonly maxLinks = Number.POSITIVE_INFINITY;
  readonly source: string;
  readonly cache: BufferCache;
  readonly fat: FatTable;
  readonly opts: FatOptions;
  nextIno = ROOT_INO + 1;
  /**
   * Scratch space for file data that is not whole sectors: a small file is read or written
   * through it in one device call (see FatInode.readData/writeData). At least one cluster.
   */
  readonly scratch: Uint8Array;
  /** Read-ahead: sectors [raStart, raStart + raCount) of the device, as of FAT generation raGen. */
  private readonly ra: Uint8Array;
  private raStart = 0;
  private raCount = 0;
  private raGen = -1;
  /** Where the last file-data read ended (sector), to tell forward reading from random access. */
  private lastReadEnd = -1;
  /** The volume was dirty when mounted: leave the dirty bit for fsck, as Linux does. */
  private wasDirty: boolean;
  private killed = false;
  private readonly host: HostOps;

  /** The cache= option as given, for /proc/mounts. */
  private readonly cacheOpt: string;

  constructor(type: FileSystemType, ctx: MountContext, readonly device: BlockDevice, readonly geo: Geometry) {
    this.fsType = type;
    this.dev = ctx.dev;
    this.clock = ctx.clock;
    this.host = ctx.host;
    this.source = ctx.source;
    this.readOnly = (ctx.flags & MS_RDONLY) !== 0;
    if (!this.readOnly && device.readOnly) throw E.EROFS;
    this.opts = parseFatOptions(ctx.data);
    this.blockSize = geo.clusterSize;
    // cache=SIZE (tkl's own option): the clean sectors kept.
    const cache = parseMountData(ctx.data).get('cache');
    this.cacheOpt = cache === undefined ? '' : `,cache=${cache}`;
    this.cache = new BufferCache(device, geo.bytesPerSector, { capacity: parseSize(cache, 32 * 1024 * 1024) });
    this.scratch = new Uint8Array(Math.max(SCRATCH_BYTES, geo.clusterSize));
    this.ra = new Uint8Array(READAHEAD_BYTES);
    this.fat = FatTable.load(geo, this.cache);
    this.readFsInfo();
    const bs = this.cache.get(0);
    this.wasDirty = (bs.data[geo.stateOffset]! & FAT_STATE_DIRTY) !== 0;
    if (this.wasDirty && !this.readOnly) {
      this.host.console(`FAT-fs (${ctx.source}): Volume was not properly unmounted. Some data may be corrupt. Please run fsck.\n`);
    }
    const now = this.clock.now();
    const rootInit = { mode: this.modeFor(true, 0), uid: this.opts.uid, gid: this.opts.gid, rdev: 0 };
    this.root = new FatInode(this, ROOT_INO, null, rootInit, now, geo.type === 32 ? geo.rootCluster : 0, 0x10, geo.type !== 32);
    this.root.btime = null;
    // Read the root now: a corrupt one fails the mount rather than the first lookup.
    this.root.isEmptyDir();
    if (!this.readOnly) this.setState(true);
  }

  /** First sector of cluster `c`. */
  clusterSector(c: number): number {
    return this.geo.dataStart + (c - FIRST_CLUSTER) * this.geo.sectorsPerCluster;
  }

  /**
   * Reads file-data sectors [s, s+count) into into[off…]. Small reads that move forward
   * through the volume (a tree copied out file by file, each file's clusters following the
   * last one's) are served from a read-ahead window, one device read per 256 KiB instead of
   * one per file; anything else goes straight to the device (through the cache's view).
   * Errors: EIO.
   */
  readData(s: number, count: number, into: Uint8Array, off: number): void {
    const bps = this.geo.bytesPerSector;
    if (this.raGen === this.fat.generation && s >= this.raStart && s + count <= this.raStart + this.raCount) {
      into.set(this.ra.subarray((s - this.raStart) * bps, (s - this.raStart + count) * bps), off);
      this.lastReadEnd = s + count;
      return;
    }
    const window = this.ra.length / bps;
    const forward = this.lastReadEnd >= 0 && s >= this.lastReadEnd && s - this.lastReadEnd < window;
    this.lastReadEnd = s + count;
    const n = Math.min(window, this.cache.blocks - s);
    if (!forward || count * 4 > window || n < count) {
      this.cache.readRun(s, count, into, off);
      return;
    }
    this.raCount = 0;
    this.cache.readRun(s, n, this.ra, 0);
    this.raStart = s;
    this.raCount = n;
    this.raGen = this.fat.generation;
    into.set(this.ra.subarray(0, count * bps), off);
  }

  /** File data was written: what was read ahead may be stale. */
  dropReadahead(): void {
    this.raCount = 0;
  }

  /** st_mode for an entry from its attributes and name (see makeMode); showexec decides x by name. */
  modeFor(isDir: boolean, attr: number, name = ''): number {
    if (isDir) return this.makeMode(attr | ATTR_DIRECTORY, 0o777);
    return this.makeMode(attr & ~ATTR_DIRECTORY, this.opts.showexec && !/\.(exe|com|bat)$/i.test(name) ? 0o666 : 0o777);
  }

  /**
   * fat_make_mode: the mode for attributes `attr` and permissions `perm` before the masks.
   * The read-only attribute takes the write bits away, on directories only with `rodir`.
   */
  makeMode(attr: number, perm: number): number {
    const isDir = (attr & ATTR_DIRECTORY) !== 0;
    if (attr & ATTR_READ_ONLY && (!isDir || this.opts.rodir)) perm &= ~0o222;
    return isDir ? S_IFDIR | (perm & ~this.opts.dmask) : S_IFREG | (perm & ~this.opts.fmask);
  }

  /** The volume label: the root's label entry, else the boot sector's (null for none). */
  get label(): string | null {
    const cap = this.root.capacity();
    for (let i = 0; i < cap; i++) {
      const { bh, off } = this.root.slotRef(i);
      const b0 = bh.data[off]!;
      if (b0 === DIR_ENTRY_END) break;
      const attr = bh.data[off + DIR_ATTR]!;
      if (b0 !== DIR_ENTRY_FREE && (attr & ATTR_LONG_NAME_MASK) !== ATTR_LONG_NAME && attr & ATTR_VOLUME_ID) {
        return String.fromCharCode(...bh.data.subarray(off, off + 11)).replace(/ +$/, '');
      }
    }
    const l = this.geo.bpbLabel;
    return l === null || l === 'NO NAME' ? null : l;
  }

  private readFsInfo(): void {
    const g = this.geo;
    if (g.type !== 32 || g.fsInfoSector === 0 || g.fsInfoSector >= g.reservedSectors) return;
    const d = this.cache.get(g.fsInfoSector).data;
    const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
    if (dv.getUint32(FSI_LEAD_SIG, true) !== FSI_LEAD_SIG_VALUE || dv.getUint32(FSI_STRUC_SIG, true) !== FSI_STRUC_SIG_VALUE) return;
    // The free count is recomputed from the FAT (it is only a hint); the next-free hint is used.
    const next = dv.getUint32(FSI_NXT_FREE, true);
    if (this.fat.validCluster(next)) this.fat.nextFree = next;
  }

  private writeFsInfo(): void {
    const g = this.geo;
    if (g.type !== 32 || g.fsInfoSector === 0 || g.fsInfoSector >= g.reservedSectors) return;
    const bh = this.cache.get(g.fsInfoSector);
    const dv = new DataView(bh.data.buffer, bh.data.byteOffset, bh.data.byteLength);
    if (dv.getUint32(FSI_LEAD_SIG, true) !== FSI_LEAD_SIG_VALUE || dv.getUint32(FSI_STRUC_SIG, true) !== FSI_STRUC_SIG_VALUE) return;
    const free = this.fat.freeCount;
    const next = this.fat.nextFree;
    if (dv.getUint32(FSI_FREE_COUNT, true) === free && dv.getUint32(FSI_NXT_FREE, true) === next) return;
    dv.setUint32(FSI_FREE_COUNT, free, true);
    dv.setUint32(FSI_NXT_FREE, this.fat.validCluster(next) ? next : FSI_UNKNOWN, true);
    this.cache.markDirty(bh);
  }

  /** Sets or clears the dirty bit in the boot sector's state byte (fat_set_state). */
  private setState(dirty: boolean): void {
    if (this.wasDirty) return;
    const bh = this.cache.get(0);
    const v = bh.data[this.geo.stateOffset]!;
    const nv = dirty ? v | FAT_STATE_DIRTY : v & ~FAT_STATE_DIRTY;
    if (nv === v) return;
    bh.data[this.geo.stateOffset] = nv;
    this.cache.markDirty(bh);
    this.cache.flush();
  }

  options(): string {
    const o = this.opts;
    const fmt = (n: number): string => n.toString(8).padStart(4, '0');
    return `${this.readOnly ? 'ro' : 'rw'},uid=${o.uid},gid=${o.gid},fmask=${fmt(o.fmask)},dmask=${fmt(o.dmask)},codepage=437,iocharset=utf8,shortname=mixed,utf8,errors=remount-ro${this.cacheOpt}`;
  }

  statfs(): StatFs {
    return {
      type: MSDOS_SUPER_MAGIC, bsize: this.geo.clusterSize, blocks: this.geo.clusterCount, bfree: this.fat.freeCount,
      bavail: this.fat.freeCount, files: 0, ffree: 0, fsid: [this.dev & 0xffffffff, 0], namelen: 1530,
      frsize: this.geo.clusterSize, flags: 0,
    };
  }

  sync(): void {
    if (this.readOnly || this.killed) return;
    this.fat.flush(this.cache);
    this.writeFsInfo();
    this.cache.flush();
  }

  remount(flags: number, data: string): void {
    const ro = (flags & MS_RDONLY) !== 0;
    if (ro === this.readOnly) return;
    if (ro) {
      this.sync();
      this.setState(false);
      this.readOnly = true;
    } else {
      if (this.device.readOnly) throw E.EROFS;
      this.readOnly = false;
      this.setState(true);
    }
    void data;
  }

  kill(): void {
    if (this.killed) return;
    if (!this.readOnly) {
      this.sync();
      this.setState(false);
    }
    this.killed = true;
  }
}

/** Mounts a FAT volume. Errors: EINVAL (not FAT, bad option), EUCLEAN (corrupt), EROFS, EIO. */
function mountFat(type: FileSystemType, ctx: MountContext): SuperBlock {
  const device = ctx.device;
  if (device === null) throw E.ENOTBLK;
  const bs = new Uint8Array(Math.max(512, device.sectorSize));
  if (device.size < bs.length) throw errno(EINVAL, 'vfat: the device is too small for a FAT volume');
  device.read(0, bs);
  const geo = parseBootSector(bs, device.size);
  if (geo.bytesPerSector < device.sectorSize) throw errno(EUCLEAN, `vfat: sector size ${geo.bytesPerSector} is below the device's ${device.sectorSize}`);
  return new FatSuper(type, ctx, device, geo);
}

export const vfatType: FileSystemType = {
  name: 'vfat',
  requiresDevice: true,
  mount(ctx) {
    return mountFat(vfatType, ctx);
  },
};
