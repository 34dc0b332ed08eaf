// Inode: one file in a filesystem, as the VFS sees it (Linux's struct inode together with its
// inode_operations). A filesystem subclasses Inode, keeps the attribute fields current, and
// overrides the operations it supports; the defaults return the errno Linux gives when an
// operation does not apply. The VFS has already resolved paths, checked permissions, existence
// and types, and the read-only state before calling an operation; an operation only does the
// filesystem's part, including its own timestamp updates, and throws an Errno on failure.

import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, S_IFIFO, S_IFCHR, S_IFBLK, S_IFSOCK } from '../abi/linux/stat.js';
import { E } from '../kernel/errno.js';
import type { File, FileOps } from './file.js';
import type { Cred } from '../kernel/cred.js';
import type { SuperBlock } from './superblock.js';
import type { Timespec } from './time.js';

/** Attributes for a new inode, decided by the VFS (credentials, umask, setgid directories). */
export interface NewInode {
  /** File type and permission bits. */
  mode: number;
  uid: number;
  gid: number;
  /** Device number for S_IFCHR/S_IFBLK, else 0. */
  rdev: number;
}

/** Attribute changes for setattr; absent fields stay as they are. */
export interface SetAttr {
  mode?: number;
  uid?: number;
  gid?: number;
  /** New size: truncation or extension with a hole. */
  size?: number;
  atime?: Timespec;
  mtime?: Timespec;
  ctime?: Timespec;
}

/**
 * Called by readdir for each entry; returns false when the caller's buffer is full (the
 * entry is then not consumed and will be returned again from `cookie`). `next` is the
 * position that resumes after this entry (getdents64's d_off).
 */
export type DirEmit = (name: string, ino: number, dtype: number, next: number) => boolean;

export abstract class Inode {
  abstract readonly sb: SuperBlock;
  /** Inode number, unique within the filesystem. */
  ino: number;
  /** File type and permission bits (S_IF*, 07777). */
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  /** Size in bytes (for symlinks the target's length in bytes). */
  size: number;
  /** 512-byte units allocated. */
  blocks: number;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
  /** Creation time where the filesystem keeps one. */
  btime: Timespec | null;
  /** STATX_ATTR_* bits (immutable, append-only, …). */
  attributes: number;

  /** VFS-private: how many open file descriptions refer to this inode. */
  openCount = 0;
  /** VFS-private: per-inode state of special files (a FIFO's pipe, a socket). */
  special: unknown = null;
  /** VFS-private: a directory that was removed (IS_DEADDIR); nothing can be created in it. */
  dead = false;
  /** VFS-private: evict() was called. */
  evicted = false;
  /** VFS-private: an O_TMPFILE file that linkat may still give a name (I_LINKABLE). */
  linkable = false;

  constructor(ino: number, init: NewInode, now: Timespec) {
    this.ino = ino;
    this.mode = init.mode;
    this.nlink = 1;
    this.uid = init.uid;
    this.gid = init.gid;
    this.rdev = init.rdev;
    this.size = 0;
    this.blocks = 0;
    this.atime = now;
    this.mtime = now;
    this.ctime = now;
    this.btime = now;
    this.attributes = 0;
  }

  get type(): number {
    return this.mode & S_IFMT;
  }
  get isDir(): boolean {
    return (this.mode & S_IFMT) === S_IFDIR;
  }
  get isReg(): boolean {
    return (this.mode & S_IFMT) === S_IFREG;
  }
  get isSymlink(): boolean {
    return (this.mode & S_IFMT) === S_IFLNK;
  }
  /** FIFOs, sockets and device nodes: their data lives outside the filesystem. */
  get isSpecial(): boolean {
    const t = this.mode & S_IFMT;
    return t === S_IFIFO || t === S_IFCHR || t === S_IFBLK || t === S_IFSOCK;
  }

  // ---- directories ----------------------------------------------------------------------

  /** The child named `name`, or null. Errors: ENOTDIR, EIO/EUCLEAN on a corrupt directory. */
  lookup(name: string): Inode | null {
    throw E.ENOTDIR;
  }
  /** Creates a regular file. The VFS checked that `name` is absent. Errors: ENOSPC, EMLINK, EIO. */
  create(name: string, init: NewInode): Inode {
    throw E.EPERM;
  }
  /**
   * Creates an unnamed regular file in this directory's filesystem (O_TMPFILE): nlink 0, in
   * no directory, until linkat gives it a name. Errors: EOPNOTSUPP where unsupported, ENOSPC.
   */
  tmpfile(init: NewInode): Inode {
    throw E.EOPNOTSUPP;
  }
  /** Creates a directory (nlink 2, `..` pointing here). Errors: ENOSPC, EMLINK, EIO. */
  mkdir(name: string, init: NewInode): Inode {
    throw E.EPERM;
  }
  /** Creates a FIFO, socket or device node (type in init.mode). Errors: EPERM where unsupported. */
  mknod(name: string, init: NewInode): Inode {
    throw E.EPERM;
  }
  /** Creates a symbolic link to `target`. Errors: EPERM where unsupported, ENOSPC. */
  symlink(name: string, target: string, init: NewInode): Inode {
    throw E.EPERM;
  }
  /** Adds a hard link to `inode` (not a directory). Errors: EMLINK, EPERM where unsupported. */
  link(name: string, inode: Inode): void {
    throw E.EPERM;
  }
  /** Removes the entry `name` for non-directory `inode`, dropping its link count. */
  unlink(name: string, inode: Inode): void {
    throw E.EPERM;
  }
  /** Removes empty directory `name`. Errors: ENOTEMPTY. */
  rmdir(name: string, inode: Inode): void {
    throw E.EPERM;
  }
  /**
   * Moves entry `oldName` (inode `inode`) of this directory to `newName` in `newDir` (same
   * filesystem). `target` is the inode currently at the destination or null. The VFS has
   * checked flags, types (file over file, directory over directory), loops and permissions;
   * the filesystem checks a replaced directory is empty (ENOTEMPTY), and handles
   * RENAME_EXCHANGE (swap both entries) and RENAME_NOREPLACE (target is null).
   */
  rename(oldName: string, inode: Inode, newDir: Inode, newName: string, target: Inode | null, flags: number): void {
    throw E.EPERM;
  }
  /** Emits entries from position `cookie` on ("." at 0 and ".." included). Errors: ENOTDIR, EIO. */
  readdir(cookie: number, emit: DirEmit): void {
    throw E.ENOTDIR;
  }
  /** True when the directory holds nothing but "." and "..". */
  isEmptyDir(): boolean {
    throw E.ENOTDIR;
  }

  // ---- symbolic links -------------------------------------------------------------------

  /** The link's target. Errors: EINVAL when not a symlink, EIO. */
  readlink(): string {
    throw E.EINVAL;
  }

  // ---- regular files --------------------------------------------------------------------

  /** Reads up to `len` bytes at `pos` into buf[off…]; returns bytes read (0 at or past EOF). */
  read(pos: number, buf: Uint8Array, off: number, len: number): number {
    throw E.EINVAL;
  }
  /**
   * Writes `len` bytes from buf[off…] at `pos`, growing the file as needed, and updates
   * mtime/ctime. Returns bytes written; a short count only when space ran out after some
   * bytes were written. Errors: ENOSPC, EFBIG, EIO.
   */
  write(pos: number, buf: Uint8Array, off: number, len: number): number {
    throw E.EINVAL;
  }
  /** fallocate(2) with its mode bits; the VFS validated the range. Errors: EOPNOTSUPP, ENOSPC. */
  fallocate(mode: number, offset: number, len: number): void {
    throw E.EOPNOTSUPP;
  }
  /**
   * The first offset >= pos holding data (`data` true) or starting a hole (`data` false).
   * The default treats the whole file as data (Linux's generic behaviour). The VFS has
   * checked pos < size.
   */
  seekData(pos: number, data: boolean): number {
    return data ? pos : this.size;
  }
  /** Makes this inode's data (and metadata unless `datasync`) durable. */
  fsync(datasync: boolean): void {}

  // ---- attributes -----------------------------------------------------------------------

  /**
   * Applies attribute changes the VFS has decided (permission checks and the ctime update
   * are done): sets the fields and persists them. A size change truncates or extends.
   * Errors: EPERM where the filesystem cannot represent a change, EFBIG, ENOSPC, EIO.
   */
  setattr(attr: SetAttr): void {
    if (attr.size !== undefined) throw E.EINVAL;
    if (attr.mode !== undefined) this.mode = attr.mode;
    if (attr.uid !== undefined) this.uid = attr.uid;
    if (attr.gid !== undefined) this.gid = attr.gid;
    if (attr.atime !== undefined) this.atime = attr.atime;
    if (attr.mtime !== undefined) this.mtime = attr.mtime;
    if (attr.ctime !== undefined) this.ctime = attr.ctime;
  }

  /** Updates the access time after a read (the VFS decided relatime says so). */
  touchAtime(now: Timespec): void {
    this.setattr({ atime: now });
  }

  // ---- extended attributes --------------------------------------------------------------

  /** The value of xattr `name` (full name, e.g. 'user.x'), or null. Errors: EOPNOTSUPP. */
  getxattr(name: string): Uint8Array | null {
    throw E.EOPNOTSUPP;
  }
  /** Sets xattr `name`; flags XATTR_CREATE/XATTR_REPLACE checked by the filesystem (EEXIST/ENODATA). */
  setxattr(name: string, value: Uint8Array, flags: number): void {
    throw E.EOPNOTSUPP;
  }
  /** All xattr names. */
  listxattr(): string[] {
    throw E.EOPNOTSUPP;
  }
  /** Removes xattr `name`. Errors: ENODATA when absent. */
  removexattr(name: string): void {
    throw E.EOPNOTSUPP;
  }

  /**
   * ioctl(2) on a regular file or directory of this filesystem (Linux's f_op->unlocked_ioctl),
   * for the caller `cred`. Errors: ENOTTY for a request the filesystem does not know.
   */
  ioctl(f: File, request: number, arg: unknown, cred: Cred): number {
    throw E.ENOTTY;
  }

  // ---- opening ---------------------------------------------------------------------------

  /**
   * Regular files whose contents are generated (procfs) return their own operations and
   * per-open state here; null means the generic read/write through this inode.
   */
  openFile?(flags: number): { ops: FileOps; priv: unknown } | null;

  /**
   * Directories whose entries change behind the VFS's back (procfs) return false: their
   * children are looked up anew on every walk instead of being cached.
   */
  get cacheChildren(): boolean {
    return true;
  }

  // ---- lifetime -------------------------------------------------------------------------

  /**
   * Called once when the inode has no links left and no open file refers to it (Linux's
   * evict_inode): the filesystem frees its storage.
   */
  evict(): void {}
}
