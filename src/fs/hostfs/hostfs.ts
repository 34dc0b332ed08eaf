// hostfs: a directory of the host, passed through node:fs into the kernel (`tkl run --dir`).
// The mount can never reach outside its directory: the VFS hands it single names (never "..",
// never a path), the last component of every host call is never followed if it is a symlink
// (lstat, O_NOFOLLOW, lutimes, lchown), and on Linux every call is anchored at an open
// descriptor of its parent directory (/proc/self/fd/N/name, the openat idiom), so a directory
// swapped for a symlink on the host mid-walk leads nowhere. Owners, modes and permissions are
// the host's; the kernel's credentials do not change them. The source is the host directory.

import * as fs from 'node:fs';
import { join } from 'node:path';
import { ERRNO_TABLE, EIO } from '../../abi/linux/errno.js';
import { FALLOC_FL_KEEP_SIZE, O_ACCMODE, RENAME_EXCHANGE, RENAME_NOREPLACE } from '../../abi/linux/fcntl.js';
import { MAX_LFS_FILESIZE, NAME_MAX } from '../../abi/linux/limits.js';
import { MS_RDONLY } from '../../abi/linux/mount.js';
import { S_IFDIR, S_IFMT, modeToDtype } from '../../abi/linux/stat.js';
import { E, Errno, errno } from '../../kernel/errno.js';
import type { File, FileOps } from '../../vfs/file.js';
import { Inode, type DirEmit, type NewInode, type SetAttr } from '../../vfs/inode.js';
import type { FileSystemType, MountContext, StatFs, SuperBlock } from '../../vfs/superblock.js';
import type { Clock, Timespec } from '../../vfs/time.js';

/** statfs f_type for hostfs (not a Linux magic; "HOST" in ASCII). */
export const HOSTFS_MAGIC = 0x484f5354;
/** Directory descriptors kept open for anchoring (besides the root's). */
const DIR_FD_CACHE = 64;
/** Attributes read from the host are trusted this long before being read again. */
const ATTR_TTL_NS = 1_000_000_000;

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY, O_NONBLOCK } = fs.constants;

/** Linux errno numbers by name, for node:fs errors (their `code`). */
const ERRNO_BY_CODE = new Map<string, number>([...ERRNO_TABLE].map(([n, [code]]) => [code, n]));

/** The kernel Errno for an error thrown by node:fs; anything else is a bug and rethrown. */
function hostError(e: unknown): Errno {
  if (e instanceof Errno) return e;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string') throw e;
  const n = ERRNO_BY_CODE.get(code);
  if (n === undefined) return errno(EIO, `hostfs: ${code}`);
  return (E as Record<string, Errno>)[code] ?? errno(n);
}

function host<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw hostError(e);
  }
}

function ts(ns: bigint): Timespec {
  return { sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n) };
}

/**
 * A time set through the kernel, kept at full precision: node:fs sets times as floating-point
 * seconds, which the host stores rounded. While the host still shows the rounded value it
 * stored, the exact one is reported.
 */
interface PinnedTime {
  exact: Timespec;
  hostNs: bigint;
}

/** The attributes the kernel reads from an inode, refreshed from the host. */
const ATTRS = ['mode', 'nlink', 'uid', 'gid', 'rdev', 'size', 'blocks', 'atime', 'mtime', 'ctime', 'btime'] as const;
type AttrName = (typeof ATTRS)[number];

export class HostInode extends Inode {
  readonly sb: HostSuper;
  /** The host's (dev, ino): one kernel inode per host inode, so hard links stay one file. */
  readonly hostDev: bigint;
  readonly hostIno: bigint;
  /** A directory's parent and name (directories have one); for other files, the last name seen. */
  parentDir: HostInode | null;
  name: string;
  private attrs!: Record<AttrName, unknown>;
  private validAt = -Infinity;
  private stale = false;
  private pinnedA: PinnedTime | null = null;
  private pinnedM: PinnedTime | null = null;
  /** A directory's listing for readdir, with the host mtime it was read at. */
  private listing: { mtimeNs: bigint; entries: { name: string; ino: number; dtype: number }[] } | null = null;

  constructor(sb: HostSuper, st: fs.BigIntStats, parent: HostInode | null, name: string) {
    super(Number(st.ino), { mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), rdev: Number(st.rdev) }, ts(st.mtimeNs));
    this.sb = sb;
    this.hostDev = st.dev;
    this.hostIno = st.ino;
    this.parentDir = parent;
    this.name = name;
    // The kernel reads attributes as fields; make them accessors that revalidate from the host.
    this.attrs = {} as Record<AttrName, unknown>;
    for (const a of ATTRS) {
      Object.defineProperty(this, a, {
        get: () => {
          if (this.stale || this.sb.clock.uptimeNs() - this.validAt > ATTR_TTL_NS) this.revalidate();
          return this.attrs[a];
        },
        set: (v: unknown) => {
          this.attrs[a] = v;
        },
        configurable: true,
        enumerable: true,
      });
    }
    this.load(st);
  }

  /** Takes the host's attributes (lstat with bigint times). */
  load(st: fs.BigIntStats): void {
    const a = this.attrs;
    a.mode = Number(st.mode);
    a.nlink = Number(st.nlink);
    a.uid = Number(st.uid);
    a.gid = Number(st.gid);
    a.rdev = Number(st.rdev);
    a.size = Number(st.size);
    a.blocks = Number(st.blocks);
    a.atime = this.pinnedA !== null && this.pinnedA.hostNs === st.atimeNs ? this.pinnedA.exact : ts(st.atimeNs);
    a.mtime = this.pinnedM !== null && this.pinnedM.hostNs === st.mtimeNs ? this.pinnedM.exact : ts(st.mtimeNs);
    a.ctime = ts(st.ctimeNs);
    a.btime = st.birthtimeNs > 0n ? ts(st.birthtimeNs) : null;
    this.validAt = this.sb.clock.uptimeNs();
    this.stale = false;
  }

  /** Reads the attributes again (after a change, or when they are older than the TTL). */
  revalidate(): void {
    this.stale = false;
    this.validAt = this.sb.clock.uptimeNs();
    let st: fs.BigIntStats;
    try {
      st = this.isDirNow() ? fs.fstatSync(this.sb.dirFd(this), { bigint: true }) : fs.lstatSync(this.path(), { bigint: true });
    } catch {
      // Gone on the host (or unreachable): keep the last known attributes.
      return;
    }
    if (st.ino === this.hostIno && st.dev === this.hostDev) this.load(st);
  }

  private isDirNow(): boolean {
    return ((this.attrs.mode as number) & S_IFMT) === S_IFDIR;
  }

  /**
   * The host path of this file: its name in its parent's anchored directory, so the last
   * component is what host calls that do not follow symlinks act on. Directories are used
   * through their own descriptor instead (withFd).
   */
  path(): string {
    if (this.parentDir === null) return this.sb.rootPath;
    return this.sb.at(this.parentDir, this.name);
  }

  /**
   * Runs `fn` on a host descriptor of this file: a directory's anchoring descriptor, or a
   * fresh one opened without following symlinks (and without waiting on a FIFO).
   */
  withFd<T>(flags: number, fn: (fd: number) => T): T {
    if (this.isDirNow()) return host(() => fn(this.sb.dirFd(this)));
    const fd = this.openHost(flags);
    try {
      return host(() => fn(fd));
    } finally {
      fs.closeSync(fd);
    }
  }

  // ---- directories ----------------------------------------------------------------------

  override lookup(name: string): Inode | null {
    if (!this.isDir) throw E.ENOTDIR;
    if (name.length > NAME_MAX) throw E.ENAMETOOLONG;
    let st: fs.BigIntStats;
    try {
      st = fs.lstatSync(this.sb.at(this, name), { bigint: true });
    } catch (e) {
      const err = hostError(e);
      if (err.errno === E.ENOENT.errno) return null;
      throw err;
    }
    return this.sb.inodeFor(st, this, name);
  }

  override create(name: string, init: NewInode): Inode {
    const p = this.sb.at(this, name);
    host(() => fs.closeSync(fs.openSync(p, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, init.mode & 0o7777)));
    return this.added(name);
  }

  override mkdir(name: string, init: NewInode): Inode {
    host(() => fs.mkdirSync(this.sb.at(this, name), init.mode & 0o7777));
    return this.added(name);
  }

  override mknod(): Inode {
    // node:fs cannot make FIFOs, sockets or device nodes.
    throw E.EPERM;
  }

  override symlink(name: string, target: string): Inode {
    host(() => fs.symlinkSync(target, this.sb.at(this, name)));
    return this.added(name);
  }

  override link(name: string, inode: Inode): void {
    const src = inode as HostInode;
    const p = this.sb.at(this, name);
    // link(2) does not follow a symlink in its source, so this links the name we know.
    host(() => fs.linkSync(src.path(), p));
    const st = host(() => fs.lstatSync(p, { bigint: true }));
    if (st.ino !== src.hostIno || st.dev !== src.hostDev) {
      // The source name changed on the host meanwhile: undo, the file is not what we meant.
      fs.rmSync(p, { force: true });
      throw E.ESTALE;
    }
    src.load(st);
    this.changed();
  }

  override unlink(name: string, inode: Inode): void {
    host(() => fs.unlinkSync(this.sb.at(this, name)));
    const h = inode as HostInode;
    h.attrs.nlink = Math.max(0, (h.attrs.nlink as number) - 1);
    h.stale = h.attrs.nlink !== 0;
    this.changed();
  }

  override rmdir(name: string, inode: Inode): void {
    host(() => fs.rmdirSync(this.sb.at(this, name)));
    const h = inode as HostInode;
    h.attrs.nlink = 0;
    this.sb.forgetDirFd(h);
    this.changed();
  }

  override rename(oldName: string, inode: Inode, newDir: Inode, newName: string, target: Inode | null, flags: number): void {
    const to = newDir as HostInode;
    const from = this.sb.at(this, oldName);
    const dest = this.sb.at(to, newName);
    // node:fs has no renameat2: exchanging is impossible, and no-replace is checked first.
    if (flags & RENAME_EXCHANGE) throw E.EINVAL;
    if (flags & RENAME_NOREPLACE && target === null) {
      try {
        fs.lstatSync(dest);
        throw E.EEXIST;
      } catch (e) {
        if (e === E.EEXIST) throw e;
      }
    }
    host(() => fs.renameSync(from, dest));
    const h = inode as HostInode;
    h.parentDir = to;
    h.name = newName;
    h.stale = true;
    if (target !== null) {
      const t = target as HostInode;
      t.attrs.nlink = t.isDir ? 0 : Math.max(0, (t.attrs.nlink as number) - 1);
      if (t.isDir) this.sb.forgetDirFd(t);
    }
    this.changed();
    to.changed();
  }

  override readdir(cookie: number, emit: DirEmit): void {
    if (!this.isDir) throw E.ENOTDIR;
    const entries = this.list();
    let pos = cookie;
    if (pos === 0) {
      if (!emit('.', this.ino, modeToDtype(S_IFDIR), 1)) return;
      pos = 1;
    }
    if (pos === 1) {
      const p = this.parentDir ?? this;
      if (!emit('..', p.ino, modeToDtype(S_IFDIR), 2)) return;
      pos = 2;
    }
    for (let i = pos - 2; i < entries.length; i++) {
      const e = entries[i]!;
      if (!emit(e.name, e.ino, e.dtype, i + 3)) return;
    }
  }

  /** The directory's entries (without . and ..), read again when the host's mtime moved. */
  private list(): { name: string; ino: number; dtype: number }[] {
    const st = this.withFd(O_RDONLY, (fd) => fs.fstatSync(fd, { bigint: true }));
    if (this.listing !== null && this.listing.mtimeNs === st.mtimeNs && !this.stale) return this.listing.entries;
    const names = host(() => fs.readdirSync(this.sb.self(this))).sort();
    const entries: { name: string; ino: number; dtype: number }[] = [];
    for (const name of names) {
      try {
        const s = fs.lstatSync(this.sb.at(this, name), { bigint: true });
        entries.push({ name, ino: Number(s.ino), dtype: modeToDtype(Number(s.mode)) });
      } catch {
        // Removed on the host while listing.
      }
    }
    this.listing = { mtimeNs: st.mtimeNs, entries };
    return entries;
  }

  override isEmptyDir(): boolean {
    return host(() => fs.readdirSync(this.sb.self(this))).length === 0;
  }

  // ---- symlinks -------------------------------------------------------------------------

  override readlink(): string {
    if (!this.isSymlink) throw E.EINVAL;
    return host(() => fs.readlinkSync(this.path(), 'utf8'));
  }

  // ---- regular files --------------------------------------------------------------------

  /** A host descriptor for this file (no symlink is followed), or EISDIR/ELOOP/ENXIO. */
  openHost(flags: number): number {
    return host(() => fs.openSync(this.path(), flags | O_NOFOLLOW | O_NONBLOCK));
  }

  override openFile(flags: number): { ops: FileOps; priv: unknown } | null {
    if (!this.isReg) return null;
    const acc = flags & O_ACCMODE;
    const fd = this.openHost(acc === 1 ? O_WRONLY : acc === 2 ? O_RDWR : O_RDONLY);
    return { ops: hostFileOps, priv: new HostFile(this, fd) };
  }

  override read(pos: number, buf: Uint8Array, off: number, len: number): number {
    const fd = this.openHost(O_RDONLY);
    try {
      return host(() => fs.readSync(fd, buf, off, len, pos));
    } finally {
      fs.closeSync(fd);
    }
  }

  override write(pos: number, buf: Uint8Array, off: number, len: number): number {
    const fd = this.openHost(O_WRONLY);
    try {
      return this.wrote(pos, host(() => fs.writeSync(fd, buf, off, len, pos)));
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Bookkeeping after `n` bytes went to the host at `pos`. */
  wrote(pos: number, n: number): number {
    if (pos + n > (this.attrs.size as number)) this.attrs.size = pos + n;
    this.stale = true;
    return n;
  }

  override fallocate(mode: number, offset: number, len: number): void {
    if (!this.isReg) throw E.ENODEV;
    // node:fs has no fallocate: the size is extended (posix_fallocate's visible effect), the
    // blocks are left to the host's allocation on write.
    if (mode & ~FALLOC_FL_KEEP_SIZE) throw E.EOPNOTSUPP;
    if (mode & FALLOC_FL_KEEP_SIZE || offset + len <= this.size) return;
    const fd = this.openHost(O_WRONLY);
    try {
      host(() => fs.ftruncateSync(fd, offset + len));
    } finally {
      fs.closeSync(fd);
    }
    this.stale = true;
  }

  override fsync(): void {
    this.withFd(O_RDONLY, (fd) => fs.fsyncSync(fd));
  }

  // ---- attributes -----------------------------------------------------------------------

  override setattr(attr: SetAttr): void {
    if (attr.size !== undefined) {
      if (!this.isReg) throw E.EINVAL;
      this.withFd(O_WRONLY, (fd) => fs.ftruncateSync(fd, attr.size!));
    }
    if (attr.mode !== undefined && (attr.mode & 0o7777) !== ((this.attrs.mode as number) & 0o7777)) {
      // chmod follows symlinks; fchmod on a descriptor opened without following cannot.
      if (this.isSymlink) throw E.EOPNOTSUPP;
      this.withFd(O_RDONLY, (fd) => fs.fchmodSync(fd, attr.mode! & 0o7777));
    }
    if (attr.uid !== undefined || attr.gid !== undefined) {
      const uid = attr.uid ?? (this.attrs.uid as number);
      const gid = attr.gid ?? (this.attrs.gid as number);
      if (this.isDirNow()) this.withFd(O_RDONLY, (fd) => fs.fchownSync(fd, uid, gid));
      else host(() => fs.lchownSync(this.path(), uid, gid));
    }
    if (attr.atime !== undefined || attr.mtime !== undefined) {
      // node:fs cannot leave one time alone (UTIME_OMIT): the other is set to what it was,
      // and both are pinned, since the host stores them rounded.
      const a = attr.atime ?? this.atime;
      const m = attr.mtime ?? this.mtime;
      const as = a.sec + a.nsec / 1e9;
      const ms = m.sec + m.nsec / 1e9;
      let st: fs.BigIntStats;
      if (this.isDirNow()) {
        st = this.withFd(O_RDONLY, (fd) => {
          fs.futimesSync(fd, as, ms);
          return fs.fstatSync(fd, { bigint: true });
        });
      } else {
        const p = this.path();
        host(() => fs.lutimesSync(p, as, ms));
        st = host(() => fs.lstatSync(p, { bigint: true }));
      }
      this.pinnedA = { exact: a, hostNs: st.atimeNs };
      this.pinnedM = { exact: m, hostNs: st.mtimeNs };
      this.load(st);
      return;
    }
    this.stale = true;
  }

  override touchAtime(): void {
    // The host updates the access time itself when it serves the read.
  }

  /** A directory entry changed: refresh attributes and the listing on next use. */
  private changed(): void {
    this.stale = true;
    this.listing = null;
  }

  private added(name: string): Inode {
    this.changed();
    const st = host(() => fs.lstatSync(this.sb.at(this, name), { bigint: true }));
    return this.sb.inodeFor(st, this, name);
  }

  override evict(): void {
    this.sb.forget(this);
  }
}

/** An open host file behind a kernel File. */
class HostFile {
  constructor(
    readonly inode: HostInode,
    public fd: number,
  ) {}
}

const hostFileOps: FileOps = {
  read(f, buf, off, len, pos) {
    const h = f.priv as HostFile;
    return host(() => fs.readSync(h.fd, buf, off, len, pos));
  },
  write(f, buf, off, len, pos) {
    const h = f.priv as HostFile;
    return h.inode.wrote(pos, host(() => fs.writeSync(h.fd, buf, off, len, pos)));
  },
  fsync(f, datasync) {
    const h = f.priv as HostFile;
    host(() => (datasync ? fs.fdatasyncSync(h.fd) : fs.fsyncSync(h.fd)));
  },
  release(f: File) {
    const h = f.priv as HostFile;
    if (h.fd >= 0) fs.closeSync(h.fd);
    h.fd = -1;
  },
};

export class HostSuper implements SuperBlock {
  readonly fsType = hostfsType;
  readonly dev: number;
  readonly root: HostInode;
  readonly readOnly: boolean;
  readonly clock: Clock;
  readonly blockSize = 4096;
  readonly maxFileSize = MAX_LFS_FILESIZE;
  readonly maxLinks = Number.POSITIVE_INFINITY;
  readonly source: string;
  /** The host directory, resolved once at mount (following symlinks in the name given). */
  readonly rootPath: string;
  private readonly rootFd: number;
  /** Linux's /proc/self/fd lets every host call start at an open directory. */
  private readonly anchored: boolean;
  private readonly inodes = new Map<string, HostInode>();
  /** Open directory descriptors for anchoring, least recently used first. */
  private readonly dirFds = new Map<HostInode, number>();

  constructor(ctx: MountContext) {
    this.dev = ctx.dev;
    this.clock = ctx.clock;
    this.source = ctx.source;
    this.readOnly = (ctx.flags & MS_RDONLY) !== 0;
    if (!ctx.source.startsWith('/')) throw errno(22, `hostfs: the source must be an absolute host path, not '${ctx.source}'`);
    this.rootPath = host(() => fs.realpathSync(ctx.source));
    this.rootFd = host(() => fs.openSync(this.rootPath, O_RDONLY | O_DIRECTORY));
    const st = host(() => fs.fstatSync(this.rootFd, { bigint: true }));
    if ((Number(st.mode) & S_IFMT) !== S_IFDIR) throw E.ENOTDIR;
    this.anchored = fs.existsSync(`/proc/self/fd/${this.rootFd}`);
    this.root = new HostInode(this, st, null, '');
    this.inodes.set(`${st.dev}:${st.ino}`, this.root);
  }

  /** The host path of `name` in directory `dir`, anchored at an open descriptor of `dir`. */
  at(dir: HostInode, name: string): string {
    if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) throw E.EINVAL;
    if (!this.anchored) return join(this.pathOf(dir), name);
    return `/proc/self/fd/${this.dirFd(dir)}/${name}`;
  }

  /** Without anchoring: the plain path from the root (each component was checked by lstat). */
  private pathOf(dir: HostInode): string {
    const parts: string[] = [];
    for (let d: HostInode | null = dir; d !== null && d !== this.root; d = d.parentDir) parts.push(d.name);
    return join(this.rootPath, ...parts.reverse());
  }

  /** A path naming directory `dir` itself (its descriptor, where anchored). */
  self(dir: HostInode): string {
    if (!this.anchored) return this.pathOf(dir);
    return `/proc/self/fd/${this.dirFd(dir)}`;
  }

  /** An open descriptor of directory `dir`, reopened from its parent's when not cached. */
  dirFd(dir: HostInode): number {
    if (dir === this.root) return this.rootFd;
    const cached = this.dirFds.get(dir);
    if (cached !== undefined) {
      this.dirFds.delete(dir);
      this.dirFds.set(dir, cached);
      return cached;
    }
    if (dir.parentDir === null) throw E.ESTALE;
    const p = this.at(dir.parentDir, dir.name);
    const fd = host(() => fs.openSync(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
    const st = fs.fstatSync(fd, { bigint: true });
    if (st.ino !== dir.hostIno || st.dev !== dir.hostDev) {
      fs.closeSync(fd);
      throw E.ESTALE;
    }
    this.dirFds.set(dir, fd);
    if (this.dirFds.size > DIR_FD_CACHE) {
      const [oldest, ofd] = this.dirFds.entries().next().value as [HostInode, number];
      this.dirFds.delete(oldest);
      fs.closeSync(ofd);
    }
    return fd;
  }

  forgetDirFd(dir: HostInode): void {
    const fd = this.dirFds.get(dir);
    if (fd !== undefined) {
      this.dirFds.delete(dir);
      fs.closeSync(fd);
    }
  }

  /** The kernel inode for a host inode just looked up as `name` in `parent`. */
  inodeFor(st: fs.BigIntStats, parent: HostInode, name: string): HostInode {
    const key = `${st.dev}:${st.ino}`;
    const known = this.inodes.get(key);
    const type = Number(st.mode) & S_IFMT;
    if (known !== undefined && (known.mode & S_IFMT) === type) {
      known.parentDir = parent;
      known.name = name;
      known.load(st);
      return known;
    }
    const inode = new HostInode(this, st, parent, name);
    this.inodes.set(key, inode);
    return inode;
  }

  forget(inode: HostInode): void {
    const key = `${inode.hostDev}:${inode.hostIno}`;
    if (this.inodes.get(key) === inode) this.inodes.delete(key);
    if (inode.isDir) this.forgetDirFd(inode);
  }

  options(): string {
    return this.readOnly ? 'ro' : 'rw';
  }

  statfs(): StatFs {
    const s = host(() => fs.statfsSync(this.rootPath));
    return {
      type: HOSTFS_MAGIC, bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail,
      files: s.files, ffree: s.ffree, fsid: [0, 0], namelen: NAME_MAX, frsize: s.bsize, flags: 0,
    };
  }

  sync(): void {
    host(() => fs.fsyncSync(this.rootFd));
  }

  remount(): void {
    throw E.EINVAL;
  }

  kill(): void {
    for (const fd of this.dirFds.values()) fs.closeSync(fd);
    this.dirFds.clear();
    fs.closeSync(this.rootFd);
  }
}

export const hostfsType: FileSystemType = {
  name: 'hostfs',
  requiresDevice: false,
  mount(ctx: MountContext): SuperBlock {
    return new HostSuper(ctx);
  },
};
