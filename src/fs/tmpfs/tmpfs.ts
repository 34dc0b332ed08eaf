// tmpfs: a filesystem in memory (Linux's shmem). File data lives in 4 KiB pages that exist
// only where something was written, so holes cost nothing and SEEK_DATA/SEEK_HOLE see them
// as Linux does. Directories keep their entries in creation order with stable offsets, so a
// readdir that resumes at a cookie sees neither duplicates nor skips while entries change.
// Mount options: size=BYTES[k|m|g|%-less], nr_inodes=N, mode=OCTAL, uid=N, gid=N.

import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, RENAME_EXCHANGE, XATTR_CREATE, XATTR_REPLACE } from '../../abi/linux/fcntl.js';
import { MS_RDONLY, TMPFS_MAGIC } from '../../abi/linux/mount.js';
import { NAME_MAX } from '../../abi/linux/limits.js';
import { S_IFDIR, S_IFMT, S_IFREG, modeToDtype } from '../../abi/linux/stat.js';
import { E, errno } from '../../kernel/errno.js';
import { EINVAL } from '../../abi/linux/errno.js';
import { Inode, type DirEmit, type NewInode, type SetAttr } from '../../vfs/inode.js';
import { parseMountData, parseSize, type FileSystemType, type MountContext, type StatFs, type SuperBlock } from '../../vfs/superblock.js';
import type { Clock, Timespec } from '../../vfs/time.js';
import { Xattrs } from '../../vfs/xattr.js';

export const PAGE_SIZE = 4096;
/**
 * Pages live in a JS array, whose indexes stop below 2^32: files end at 16 TiB (Linux's
 * tmpfs allows 8 EiB). Page indexes are computed with division, never `>>>`, which would
 * wrap offsets past 4 GiB onto the first pages.
 */
const MAX_PAGES = 2 ** 32 - 1;
const BLOCKS_PER_PAGE = PAGE_SIZE / 512;
/** Large aligned writes allocate pages 16 at a time, in one buffer (like a large folio). */
const SLAB_PAGES = 16;
const SLAB_SIZE = SLAB_PAGES * PAGE_SIZE;
/** Linux's tmpfs counts 20 bytes per directory entry in a directory's size. */
const BOGO_DIRENT_SIZE = 20;
/** Symlink targets up to this length are kept in the inode and use no page. */
const SHORT_SYMLINK_LEN = 128;

interface DirEntry {
  name: string;
  inode: TmpfsInode;
  /** readdir offset; entries are ordered by it. */
  off: number;
  removed: boolean;
}

export class TmpfsInode extends Inode {
  readonly sb: TmpfsSuper;
  // Directories
  private entries: Map<string, DirEntry> | null = null;
  private order: DirEntry[] | null = null;
  private removedCount = 0;
  private nextOff = 2;
  parent: TmpfsInode | null = null;
  // Regular files
  pages: (Uint8Array | undefined)[] | null = null;
  // Symlinks
  private target = '';
  private xattrs: Xattrs | null = null;

  constructor(sb: TmpfsSuper, ino: number, init: NewInode, now: Timespec) {
    super(ino, init, now);
    this.sb = sb;
    const type = init.mode & S_IFMT;
    if (type === S_IFDIR) {
      this.entries = new Map();
      this.order = [];
      this.nlink = 2;
      this.size = 2 * BOGO_DIRENT_SIZE;
    } else if (type === S_IFREG) {
      this.pages = [];
    }
  }

  // ---- directories ----------------------------------------------------------------------

  override lookup(name: string): Inode | null {
    if (this.entries === null) throw E.ENOTDIR;
    if (name.length > NAME_MAX) throw E.ENAMETOOLONG;
    return this.entries.get(name)?.inode ?? null;
  }

  override create(name: string, init: NewInode): Inode {
    return this.addNew(name, init);
  }

  override tmpfile(init: NewInode): Inode {
    if (this.entries === null) throw E.ENOTDIR;
    const child = this.sb.newInode(init);
    child.nlink = 0;
    return child;
  }

  override mknod(name: string, init: NewInode): Inode {
    return this.addNew(name, init);
  }

  override mkdir(name: string, init: NewInode): Inode {
    const child = this.addNew(name, init);
    child.parent = this;
    this.nlink++;
    return child;
  }

  override symlink(name: string, target: string, init: NewInode): Inode {
    const bytes = new TextEncoder().encode(target).length;
    // Long targets take a page, as in Linux.
    if (bytes > SHORT_SYMLINK_LEN) this.sb.charge(1);
    const child = this.addNew(name, init);
    child.target = target;
    child.size = bytes;
    if (bytes > SHORT_SYMLINK_LEN) child.blocks = PAGE_SIZE / 512;
    return child;
  }

  override link(name: string, inode: Inode): void {
    const t = inode as TmpfsInode;
    const now = this.sb.clock.now();
    t.nlink++;
    t.ctime = now;
    this.addEntry(name, t);
    this.mtime = this.ctime = now;
  }

  override unlink(name: string, inode: Inode): void {
    const now = this.sb.clock.now();
    this.removeEntry(name);
    inode.nlink--;
    inode.ctime = now;
    this.mtime = this.ctime = now;
  }

  override rmdir(name: string, inode: Inode): void {
    const dir = inode as TmpfsInode;
    if (!dir.isEmptyDir()) throw E.ENOTEMPTY;
    const now = this.sb.clock.now();
    this.removeEntry(name);
    dir.nlink = 0;
    dir.ctime = now;
    this.nlink--;
    this.mtime = this.ctime = now;
  }

  override rename(oldName: string, inode: Inode, newDir: Inode, newName: string, target: Inode | null, flags: number): void {
    const src = inode as TmpfsInode;
    const dst = newDir as TmpfsInode;
    const tgt = target as TmpfsInode | null;
    const now = this.sb.clock.now();
    if (flags & RENAME_EXCHANGE) {
      if (tgt === null) throw E.ENOENT;
      this.entries!.get(oldName)!.inode = tgt;
      dst.entries!.get(newName)!.inode = src;
      if (this !== dst) {
        if (src.isDir !== tgt.isDir) {
          if (src.isDir) {
            this.nlink--;
            dst.nlink++;
          } else {
            this.nlink++;
            dst.nlink--;
          }
        }
        if (src.isDir) src.parent = dst;
        if (tgt.isDir) tgt.parent = this;
      }
      src.ctime = tgt.ctime = now;
      this.mtime = this.ctime = dst.mtime = dst.ctime = now;
      return;
    }
    if (tgt !== null) {
      if (tgt.isDir) {
        if (!tgt.isEmptyDir()) throw E.ENOTEMPTY;
        tgt.nlink = 0;
        dst.nlink--;
      } else tgt.nlink--;
      tgt.ctime = now;
      dst.removeEntry(newName);
    }
    this.removeEntry(oldName);
    dst.addEntry(newName, src);
    if (src.isDir && this !== dst) {
      this.nlink--;
      dst.nlink++;
      src.parent = dst;
    }
    src.ctime = now;
    this.mtime = this.ctime = now;
    dst.mtime = dst.ctime = now;
  }

  override readdir(cookie: number, emit: DirEmit): void {
    if (this.order === null) throw E.ENOTDIR;
    if (cookie === 0) {
      if (!emit('.', this.ino, modeToDtype(this.mode), 1)) return;
      cookie = 1;
    }
    if (cookie === 1) {
      const p = this.parent ?? this;
      if (!emit('..', p.ino, modeToDtype(p.mode), 2)) return;
      cookie = 2;
    }
    const order = this.order;
    // Entries are sorted by offset: binary-search the first one at or after the cookie.
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (order[mid]!.off < cookie) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < order.length; i++) {
      const e = order[i]!;
      if (e.removed) continue;
      if (!emit(e.name, e.inode.ino, modeToDtype(e.inode.mode), e.off + 1)) return;
      // The callback may have changed the directory; re-find our place by offset.
      if (order !== this.order || order[i] !== e) {
        this.readdir(e.off + 1, emit);
        return;
      }
    }
  }

  override isEmptyDir(): boolean {
    if (this.entries === null) throw E.ENOTDIR;
    return this.entries.size === 0;
  }

  /** Number of entries (for the mount's statistics and tests). */
  get entryCount(): number {
    return this.entries?.size ?? 0;
  }

  private addNew(name: string, init: NewInode): TmpfsInode {
    const child = this.sb.newInode(init);
    this.addEntry(name, child);
    this.mtime = this.ctime = child.ctime;
    return child;
  }

  private addEntry(name: string, inode: TmpfsInode): void {
    const e: DirEntry = { name, inode, off: this.nextOff++, removed: false };
    this.entries!.set(name, e);
    this.order!.push(e);
    this.size += BOGO_DIRENT_SIZE;
  }

  private removeEntry(name: string): void {
    const e = this.entries!.get(name);
    if (e === undefined) throw E.ENOENT;
    this.entries!.delete(name);
    e.removed = true;
    this.size -= BOGO_DIRENT_SIZE;
    if (++this.removedCount > 32 && this.removedCount > this.order!.length / 2) {
      this.order = this.order!.filter((x) => !x.removed);
      this.removedCount = 0;
    }
  }

  // ---- symlinks -------------------------------------------------------------------------

  override readlink(): string {
    if (!this.isSymlink) throw E.EINVAL;
    return this.target;
  }

  // ---- regular files --------------------------------------------------------------------

  override read(pos: number, buf: Uint8Array, off: number, len: number): number {
    const pages = this.pages;
    if (pages === null) throw E.EINVAL;
    const size = this.size;
    if (pos >= size) return 0;
    if (len > size - pos) len = size - pos;
    let done = 0;
    while (done < len) {
      const p = pos + done;
      const idx = Math.floor(p / PAGE_SIZE);
      const inPage = p & (PAGE_SIZE - 1);
      const page = pages[idx];
      if (inPage === 0 && len - done >= SLAB_SIZE && page !== undefined && this.wholeSlab(idx, page)) {
        buf.set(new Uint8Array(page.buffer, page.byteOffset, SLAB_SIZE), off + done);
        done += SLAB_SIZE;
        continue;
      }
      const n = Math.min(PAGE_SIZE - inPage, len - done);
      if (page === undefined) buf.fill(0, off + done, off + done + n);
      else if (n === PAGE_SIZE) buf.set(page, off + done);
      else buf.set(page.subarray(inPage, inPage + n), off + done);
      done += n;
    }
    return done;
  }

  override write(pos: number, buf: Uint8Array, off: number, len: number): number {
    const pages = this.pages;
    if (pages === null) throw E.EINVAL;
    let done = 0;
    while (done < len) {
      const p = pos + done;
      const idx = Math.floor(p / PAGE_SIZE);
      const inPage = p & (PAGE_SIZE - 1);
      if (inPage === 0 && (idx & (SLAB_PAGES - 1)) === 0 && len - done >= SLAB_SIZE && this.slabFree(idx)) {
        // A whole aligned run of fresh pages: one allocation and one copy for all of them.
        if (!this.sb.tryCharge(SLAB_PAGES)) {
          if (done === 0) throw E.ENOSPC;
          break;
        }
        const slab = new Uint8Array(SLAB_SIZE);
        slab.set(buf.subarray(off + done, off + done + SLAB_SIZE));
        for (let i = 0; i < SLAB_PAGES; i++) pages[idx + i] = slab.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
        this.blocks += SLAB_SIZE / 512;
        done += SLAB_SIZE;
        continue;
      }
      const n = Math.min(PAGE_SIZE - inPage, len - done);
      let page = pages[idx];
      if (page === undefined) {
        if (!this.sb.tryCharge(1)) {
          if (done === 0) throw E.ENOSPC;
          break;
        }
        page = new Uint8Array(PAGE_SIZE);
        pages[idx] = page;
        this.blocks += BLOCKS_PER_PAGE;
      }
      if (n === PAGE_SIZE && off + done === 0 && buf.length === PAGE_SIZE) page.set(buf);
      else page.set(buf.subarray(off + done, off + done + n), inPage);
      done += n;
    }
    if (pos + done > this.size) this.size = pos + done;
    this.mtime = this.ctime = this.sb.clock.now();
    return done;
  }

  /** Pages idx…idx+15 are still the consecutive views of one slab, starting at `page`. */
  private wholeSlab(idx: number, page: Uint8Array): boolean {
    if (page.byteOffset !== 0 || page.buffer.byteLength !== SLAB_SIZE) return false;
    const pages = this.pages!;
    for (let i = 1; i < SLAB_PAGES; i++) {
      const q = pages[idx + i];
      if (q === undefined || q.buffer !== page.buffer || q.byteOffset !== i * PAGE_SIZE) return false;
    }
    return true;
  }

  private slabFree(idx: number): boolean {
    const pages = this.pages!;
    if (idx >= pages.length) return true;
    for (let i = 0; i < SLAB_PAGES; i++) if (pages[idx + i] !== undefined) return false;
    return true;
  }

  override fallocate(mode: number, offset: number, len: number): void {
    if (this.pages === null) throw E.ENODEV;
    if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) throw E.EOPNOTSUPP;
    const end = offset + len;
    if (mode & FALLOC_FL_PUNCH_HOLE) {
      this.zeroRange(offset, Math.min(end, this.size));
      this.mtime = this.ctime = this.sb.clock.now();
      return;
    }
    const first = Math.floor(offset / PAGE_SIZE);
    const last = Math.ceil(end / PAGE_SIZE);
    // Counted from the pages present, so a huge request fails at once instead of looping.
    let present = 0;
    for (const _ of presentPages(this.pages, first, last, this.pageCount)) present++;
    if (!this.sb.tryCharge(last - first - present)) throw E.ENOSPC;
    for (let i = first; i < last; i++) {
      if (this.pages[i] === undefined) {
        this.pages[i] = new Uint8Array(PAGE_SIZE);
        this.blocks += BLOCKS_PER_PAGE;
      }
    }
    if (!(mode & FALLOC_FL_KEEP_SIZE) && end > this.size) this.size = end;
    // shmem_fallocate ends with file_modified(): both times, whatever the mode.
    this.mtime = this.ctime = this.sb.clock.now();
  }

  override seekData(pos: number, data: boolean): number {
    const pages = this.pages;
    if (pages === null) return data ? pos : this.size;
    const size = this.size;
    const idx = Math.floor(pos / PAGE_SIZE);
    if ((pages[idx] !== undefined) === data) return pos;
    const end = Math.ceil(size / PAGE_SIZE);
    if (data) {
      // The next page present: found among the pages there are, not by walking the holes.
      for (const i of presentPages(pages, idx + 1, end, this.pageCount)) return i * PAGE_SIZE;
      throw E.ENXIO;
    }
    let i = idx + 1;
    while (i < end && pages[i] !== undefined) i++;
    return Math.min(i * PAGE_SIZE, size);
  }

  override setattr(attr: SetAttr): void {
    if (attr.size !== undefined) {
      if (this.pages === null) throw E.EINVAL;
      this.truncatePages(attr.size);
      this.size = attr.size;
    }
    const { size: _ignored, ...rest } = attr;
    super.setattr(rest);
  }

  /** Zeroes [from, to): whole pages are dropped (becoming holes), partial ones cleared. */
  private zeroRange(from: number, to: number): void {
    if (from >= to) return;
    const pages = this.pages!;
    const firstWhole = Math.ceil(from / PAGE_SIZE);
    const endWhole = Math.floor(to / PAGE_SIZE);
    if (firstWhole > endWhole) {
      // Inside one page.
      pages[Math.floor(from / PAGE_SIZE)]?.fill(0, from % PAGE_SIZE, from % PAGE_SIZE + (to - from));
      return;
    }
    if (from % PAGE_SIZE !== 0) pages[firstWhole - 1]?.fill(0, from % PAGE_SIZE);
    if (to % PAGE_SIZE !== 0) pages[endWhole]?.fill(0, 0, to % PAGE_SIZE);
    for (const i of [...presentPages(pages, firstWhole, endWhole, this.pageCount)]) this.dropPage(i);
  }

  private truncatePages(newSize: number): void {
    const pages = this.pages!;
    if (newSize >= this.size) return;
    // Clear the tail of the last partial page so a later extension reads zeros.
    const tail = newSize % PAGE_SIZE;
    const lastIdx = Math.floor(newSize / PAGE_SIZE);
    if (tail !== 0) pages[lastIdx]?.fill(0, tail);
    const firstDropped = tail === 0 ? lastIdx : lastIdx + 1;
    for (const i of [...presentPages(pages, firstDropped, pages.length, this.pageCount)]) this.dropPage(i);
    pages.length = Math.min(pages.length, firstDropped);
  }

  /** Pages of data held (each counted in `blocks`). */
  private get pageCount(): number {
    return this.blocks / BLOCKS_PER_PAGE;
  }

  private dropPage(idx: number): void {
    this.pages![idx] = undefined;
    this.blocks -= BLOCKS_PER_PAGE;
    this.sb.uncharge(1);
  }

  // ---- xattrs ---------------------------------------------------------------------------

  override getxattr(name: string): Uint8Array | null {
    return this.xattrs?.get(name) ?? null;
  }

  override setxattr(name: string, value: Uint8Array, flags: number): void {
    const x = (this.xattrs ??= new Xattrs());
    const exists = x.get(name) !== null;
    if (flags & XATTR_CREATE && exists) throw E.EEXIST;
    if (flags & XATTR_REPLACE && !exists) throw E.ENODATA;
    x.set(name, value);
    this.ctime = this.sb.clock.now();
  }

  override listxattr(): string[] {
    return this.xattrs?.names() ?? [];
  }

  override removexattr(name: string): void {
    if (this.xattrs === null || !this.xattrs.delete(name)) throw E.ENODATA;
    this.ctime = this.sb.clock.now();
  }

  override evict(): void {
    if (this.pages !== null) {
      this.sb.uncharge(this.pageCount);
      this.pages = [];
    }
    if (this.isSymlink && this.size > SHORT_SYMLINK_LEN) this.sb.uncharge(1);
    this.sb.inodesUsed--;
  }
}

/**
 * Indexes of the pages present in [from, to), ascending. A sparse range much longer than the
 * `count` pages the file holds is searched through the array's own keys, so a file with a few
 * pages at terabyte offsets costs no more than one with a few pages at the start.
 */
function* presentPages(pages: (Uint8Array | undefined)[], from: number, to: number, count: number): Generator<number> {
  to = Math.min(to, pages.length);
  if (to - from <= 4 * count + 64) {
    for (let i = from; i < to; i++) if (pages[i] !== undefined) yield i;
    return;
  }
  for (const key in pages) {
    const i = Number(key);
    if (i >= to) return;
    if (i >= from && pages[i] !== undefined) yield i;
  }
}

export class TmpfsSuper implements SuperBlock {
  readonly fsType: FileSystemType;
  readonly dev: number;
  readonly root: TmpfsInode;
  readOnly: boolean;
  readonly clock: Clock;
  readonly blockSize = PAGE_SIZE;
  readonly maxFileSize = MAX_PAGES * PAGE_SIZE;
  readonly maxLinks = Number.POSITIVE_INFINITY;
  readonly source: string;
  /** Limits: pages of data and inodes. */
  maxPages: number;
  maxInodes: number;
  pagesUsed = 0;
  inodesUsed = 0;
  private nextIno = 1;
  private opts: Map<string, string>;

  constructor(fsType: FileSystemType, ctx: MountContext, defaults: { size: number; nrInodes: number }) {
    this.fsType = fsType;
    this.dev = ctx.dev;
    this.clock = ctx.clock;
    this.source = ctx.source;
    this.readOnly = (ctx.flags & MS_RDONLY) !== 0;
    this.opts = parseMountData(ctx.data);
    this.maxPages = Math.ceil(parseSize(this.opts.get('size'), defaults.size) / PAGE_SIZE);
    this.maxInodes = parseCount(this.opts.get('nr_inodes'), defaults.nrInodes);
    const mode = this.opts.has('mode') ? parseOctal(this.opts.get('mode')!) : 0o1777;
    const uid = this.opts.has('uid') ? parseCount(this.opts.get('uid'), 0) : 0;
    const gid = this.opts.has('gid') ? parseCount(this.opts.get('gid'), 0) : 0;
    this.root = this.newInode({ mode: S_IFDIR | (mode & 0o7777), uid, gid, rdev: 0 });
  }

  newInode(init: NewInode): TmpfsInode {
    if (this.inodesUsed >= this.maxInodes) throw E.ENOSPC;
    this.inodesUsed++;
    return new TmpfsInode(this, this.nextIno++, init, this.clock.now());
  }

  tryCharge(pages: number): boolean {
    if (this.pagesUsed + pages > this.maxPages) return false;
    this.pagesUsed += pages;
    return true;
  }

  charge(pages: number): void {
    if (!this.tryCharge(pages)) throw E.ENOSPC;
  }

  uncharge(pages: number): void {
    this.pagesUsed -= pages;
  }

  options(): string {
    const parts = [this.readOnly ? 'ro' : 'rw'];
    parts.push(`size=${(this.maxPages * PAGE_SIZE) / 1024}k`, `nr_inodes=${this.maxInodes}`);
    const m = this.root.mode & 0o7777;
    if (m !== 0o1777) parts.push(`mode=${m.toString(8).padStart(3, '0')}`);
    return parts.join(',');
  }

  statfs(): StatFs {
    return {
      type: TMPFS_MAGIC,
      bsize: PAGE_SIZE,
      blocks: this.maxPages,
      bfree: this.maxPages - this.pagesUsed,
      bavail: this.maxPages - this.pagesUsed,
      files: this.maxInodes,
      ffree: this.maxInodes - this.inodesUsed,
      fsid: [0, 0],
      namelen: NAME_MAX,
      frsize: PAGE_SIZE,
      flags: 0,
    };
  }

  sync(): void {}

  remount(flags: number, data: string): void {
    const o = parseMountData(data);
    if (o.has('size')) {
      const pages = Math.ceil(parseSize(o.get('size'), 0) / PAGE_SIZE);
      if (pages < this.pagesUsed) throw E.EINVAL;
      this.maxPages = pages;
    }
    if (o.has('nr_inodes')) {
      const n = parseCount(o.get('nr_inodes'), 0);
      if (n < this.inodesUsed) throw E.EINVAL;
      this.maxInodes = n;
    }
    this.readOnly = (flags & MS_RDONLY) !== 0;
  }

  kill(): void {}
}


function parseCount(v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const m = /^(\d+)([kmgKMG]?)$/.exec(v);
  if (!m) throw errno(EINVAL, `bad number '${v}'`);
  return Number(m[1]) * { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
}

function parseOctal(v: string): number {
  if (!/^[0-7]{1,4}$/.test(v)) throw errno(EINVAL, `bad mode '${v}'`);
  return parseInt(v, 8);
}

/** tmpfs: default size 4 GiB, 1 Mi inodes (Linux defaults to half of RAM). */
export const tmpfsType: FileSystemType = {
  name: 'tmpfs',
  requiresDevice: false,
  mount(ctx: MountContext): SuperBlock {
    return new TmpfsSuper(tmpfsType, ctx, { size: 4 * 1024 ** 3, nrInodes: 1 << 20 });
  },
};

