// Path walk with Linux's semantics (fs/namei.c): components resolved one by one from the
// root or a starting directory, search permission checked on every directory, `..` across
// mount points and stopping at the process root, symlinks followed in the middle of a path
// and at its end (unless told not to), 40 links at most, trailing slashes demanding a
// directory. Nameidata is the walk's state; callers use pathLookup() for an existing file
// and pathParent() when the last component is to be created, removed or renamed.

import { AT_FDCWD } from '../abi/linux/fcntl.js';
import { MAXSYMLINKS, NAME_MAX, PATH_MAX } from '../abi/linux/limits.js';
import { S_ISVTX, S_IWOTH } from '../abi/linux/stat.js';
import { EXDEV } from '../abi/linux/errno.js';
import { MS_NOSYMFOLLOW } from '../abi/linux/mount.js';
import { E, Errno } from '../kernel/errno.js';
import type { Task } from '../kernel/task.js';
import { Dentry } from './dentry.js';
import type { Inode } from './inode.js';
import { type Mount, PathRef } from './mount.js';
import { MAY_EXEC, permitted } from './permission.js';

/** Follow a trailing symlink. */
export const LOOKUP_FOLLOW = 0x1;
/** The result must be a directory. */
export const LOOKUP_DIRECTORY = 0x2;
/** An empty path names the starting directory (AT_EMPTY_PATH). */
export const LOOKUP_EMPTY = 0x4;
/** Never leave the starting directory: absolute paths and escaping `..` fail with EXDEV (RESOLVE_BENEATH). */
export const LOOKUP_BENEATH = 0x8;
/** Any symlink fails with ELOOP (RESOLVE_NO_SYMLINKS). */
export const LOOKUP_NO_SYMLINKS = 0x10;
/** /proc "magic links" fail with ELOOP (RESOLVE_NO_MAGICLINKS). */
export const LOOKUP_NO_MAGICLINKS = 0x20;
/** Crossing into another mount fails with EXDEV (RESOLVE_NO_XDEV). */
export const LOOKUP_NO_XDEV = 0x40;

/**
 * What LOOKUP_BENEATH throws when a path would leave its starting directory (an absolute
 * path or symlink, or `..` above the start). It is EXDEV as openat2(RESOLVE_BENEATH) gives,
 * but a distinct instance, so sandboxing layers (WASI) can tell an escape from a rename
 * across mounts.
 */
export const BENEATH_ESCAPE: Errno = (() => {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const e = new Errno(EXDEV, 'path resolution would leave its starting directory');
  Error.stackTraceLimit = limit;
  return Object.freeze(e);
})();

export const enum LastType {
  NORM = 0,
  ROOT = 1,
  DOT = 2,
  DOTDOT = 3,
}

const WALK_MORE = 1;
const WALK_TRAILING = 2;
const SLASH = 47;

/** A symlink that jumps to a place instead of naming a path (/proc/PID/fd/N, /proc/self/cwd). */
export interface MagicLink {
  jump(task: Task): PathRef;
}

export function isMagicLink(inode: Inode): inode is Inode & MagicLink {
  return typeof (inode as Partial<MagicLink>).jump === 'function';
}

/** The UTF-8 length of `s` (Linux counts name and path lengths in bytes). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2; // 4 bytes for 2 UTF-16 units
        i++;
      } else n += 2;
    } else n += 2;
  }
  return n;
}

/** getname(): validates a user path. Errors: EFAULT (not a string), EINVAL (NUL byte), ENOENT (empty), ENAMETOOLONG. */
export function checkPathArg(path: unknown, allowEmpty: boolean): string {
  if (typeof path !== 'string') throw E.EFAULT;
  if (path.length === 0) {
    if (allowEmpty) return path;
    throw E.ENOENT;
  }
  // A C path ends at its first NUL; refuse rather than silently truncate.
  if (path.indexOf('\0') >= 0) throw E.EINVAL;
  if (path.length >= PATH_MAX / 3 && utf8Length(path) >= PATH_MAX) throw E.ENAMETOOLONG;
  return path;
}

export function checkNameLength(name: string): void {
  if (name.length > NAME_MAX / 3 && utf8Length(name) > NAME_MAX) throw E.ENAMETOOLONG;
}

export class Nameidata {
  mnt: Mount;
  dentry: Dentry;
  /** The walk cannot go above this: the task's root, or the start for LOOKUP_BENEATH. */
  readonly root: PathRef;
  flags: number;
  last = '';
  lastType: LastType = LastType.ROOT;
  /** The last component was followed by one or more slashes. */
  trailing = false;
  /** Mode and owner of the directory holding the last component (nd->dir_mode, dir_vfsuid). */
  dirMode = 0;
  dirUid = 0;
  private links = 0;
  private readonly stack: string[] = [];

  constructor(
    readonly task: Task,
    start: PathRef,
    root: PathRef,
    flags: number,
  ) {
    this.mnt = start.mnt;
    this.dentry = start.dentry;
    this.root = root;
    this.flags = flags;
  }

  get inode(): Inode {
    return this.dentry.inode;
  }

  get path(): PathRef {
    return new PathRef(this.mnt, this.dentry);
  }

  /** link_path_walk: walks all but the last component of `s`, recording the last. */
  walk(s: string): void {
    let i = 0;
    if (s.charCodeAt(0) === SLASH) {
      this.jumpRoot();
      i = skipSlashes(s, 1);
    }
    if (i === s.length) {
      this.last = '';
      this.lastType = LastType.ROOT;
      this.trailing = false;
      return;
    }
    for (;;) {
      this.mayLookup();
      let j = s.indexOf('/', i);
      if (j < 0) j = s.length;
      const name = i === 0 && j === s.length ? s : s.slice(i, j);
      const type = classify(name);
      const k = skipSlashes(s, j);
      let link: string | null;
      if (k === s.length) {
        if (this.stack.length === 0) {
          this.last = name;
          this.lastType = type;
          this.trailing = k > j;
          this.dirMode = this.dentry.inode.mode;
          this.dirUid = this.dentry.inode.uid;
          return;
        }
        // The last component of a symlink's body, with more of the outer path to come.
        s = this.stack.pop()!;
        i = 0;
        link = this.walkComponent(name, type, 0);
      } else {
        i = k;
        link = this.walkComponent(name, type, WALK_MORE);
      }
      if (link !== null) {
        this.stack.push(i === 0 ? s : s.slice(i));
        s = link;
        i = 0;
        if (s.charCodeAt(0) === SLASH) {
          this.jumpRoot();
          i = skipSlashes(s, 1);
        }
        if (i === s.length) {
          // A pure jump ("/" or a magic link): carry on with the outer path, which needs
          // a directory here (a magic link may lead to any file).
          if (!this.dentry.inode.isDir) throw E.ENOTDIR;
          s = this.stack.pop()!;
          i = 0;
        }
        continue;
      }
      if (!this.dentry.inode.isDir) throw E.ENOTDIR;
    }
  }

  /**
   * lookup_last: resolves the last component recorded by walk(). Returns a symlink body to
   * walk next when the last component is a symlink to follow, else null.
   */
  lookupLast(): string | null {
    if (this.lastType === LastType.NORM && this.trailing) this.flags |= LOOKUP_FOLLOW | LOOKUP_DIRECTORY;
    return this.walkComponent(this.last, this.lastType, WALK_TRAILING);
  }

  /** Walks a whole path to an existing file (path_lookupat). */
  lookup(s: string): PathRef {
    for (;;) {
      this.walk(s);
      const link = this.lookupLast();
      if (link === null) break;
      s = link;
    }
    if (this.flags & LOOKUP_DIRECTORY && !this.dentry.inode.isDir) throw E.ENOTDIR;
    return this.path;
  }

  /**
   * The cached or freshly looked-up child `name` of the current directory, or null.
   * Errors: ENAMETOOLONG, ENOENT in a removed directory, the filesystem's EIO/EUCLEAN.
   */
  lookupChild(name: string): Dentry | null {
    const parent = this.dentry;
    const d = parent.cached(name);
    if (d !== undefined) return d;
    checkNameLength(name);
    const dir = parent.inode;
    if (dir.dead) throw E.ENOENT;
    const inode = dir.lookup(name);
    if (inode === null) return null;
    // Directories whose contents change behind the VFS (procfs) are not cached.
    return dir.cacheChildren ? parent.addChild(name, inode) : new Dentry(name, parent, inode);
  }

  /** Steps into `d` (a child of the current directory), crossing mounts stacked on it. */
  stepTo(d: Dentry): void {
    this.dentry = d;
    this.crossMounts();
  }

  private walkComponent(name: string, type: LastType, how: number): string | null {
    if (type !== LastType.NORM) {
      if (type === LastType.DOTDOT) this.dotdot();
      return null;
    }
    const child = this.lookupChild(name);
    if (child === null) throw E.ENOENT;
    const saveMnt = this.mnt;
    const saveDentry = this.dentry;
    this.dentry = child;
    this.crossMounts();
    const inode = this.dentry.inode;
    if (!inode.isSymlink) return null;
    if (how === WALK_TRAILING && !(this.flags & LOOKUP_FOLLOW)) return null;
    // pick_link: a nosymfollow mount's links are never followed (readlink still reads them).
    if (this.mnt.flags & MS_NOSYMFOLLOW) throw E.ELOOP;
    // Follow: the body is relative to the directory holding the link.
    this.mnt = saveMnt;
    this.dentry = saveDentry;
    return this.getLink(inode);
  }

  private getLink(inode: Inode): string {
    if (this.links++ >= MAXSYMLINKS) throw E.ELOOP;
    if (this.flags & LOOKUP_NO_SYMLINKS) throw E.ELOOP;
    this.mayFollowLink(inode);
    if (isMagicLink(inode)) {
      // As nd_jump_link: refused magic links are ELOOP; a scoped walk cannot jump either
      // (the target may lie anywhere), which is EXDEV like any other escape.
      if (this.flags & LOOKUP_NO_MAGICLINKS) throw E.ELOOP;
      if (this.flags & LOOKUP_BENEATH) throw BENEATH_ESCAPE;
      const to = inode.jump(this.task);
      this.mnt = to.mnt;
      this.dentry = to.dentry;
      return '';
    }
    const body = inode.readlink();
    if (body.length === 0) throw E.ENOENT;
    return body;
  }

  /**
   * may_follow_link (fs.protected_symlinks): in a sticky, world-writable directory only the
   * follower's own symlinks and the directory owner's are followed. `this.dentry` is the
   * directory holding the link. Errors: EACCES.
   */
  private mayFollowLink(link: Inode): void {
    if (!this.task.kernel.sysctl.protectedSymlinks) return;
    const cred = this.task.cred;
    if (cred.fsuid === link.uid) return;
    const dir = this.dentry.inode;
    if ((dir.mode & (S_ISVTX | S_IWOTH)) !== (S_ISVTX | S_IWOTH)) return;
    if (dir.uid === link.uid) return;
    throw E.EACCES;
  }

  private jumpRoot(): void {
    if (this.flags & LOOKUP_BENEATH) throw BENEATH_ESCAPE;
    this.mnt = this.root.mnt;
    this.dentry = this.root.dentry;
  }

  private mayLookup(): void {
    if (!permitted(this.task.cred, this.dentry.inode, MAY_EXEC)) throw E.EACCES;
  }

  private dotdot(): void {
    for (;;) {
      if (this.mnt === this.root.mnt && this.dentry === this.root.dentry) {
        if (this.flags & LOOKUP_BENEATH) throw BENEATH_ESCAPE;
        return;
      }
      if (this.dentry !== this.mnt.root) break;
      // At the root of a mount: continue from where it is mounted.
      if (this.mnt.parent === this.mnt) return;
      if (this.flags & LOOKUP_NO_XDEV) throw E.EXDEV;
      this.dentry = this.mnt.mountpoint;
      this.mnt = this.mnt.parent;
    }
    this.dentry = this.dentry.parent;
    this.crossMounts();
  }

  private crossMounts(): void {
    while (this.dentry.mounted > 0) {
      const m = this.mnt.mountedAt(this.dentry);
      if (m === undefined) return;
      if (this.flags & LOOKUP_NO_XDEV) throw E.EXDEV;
      this.mnt = m;
      this.dentry = m.root;
    }
  }
}

function classify(name: string): LastType {
  if (name.charCodeAt(0) === 46) {
    if (name.length === 1) return LastType.DOT;
    if (name.length === 2 && name.charCodeAt(1) === 46) return LastType.DOTDOT;
  }
  return LastType.NORM;
}

function skipSlashes(s: string, i: number): number {
  while (i < s.length && s.charCodeAt(i) === SLASH) i++;
  return i;
}

/**
 * path_init: where a walk of `path` relative to `dirfd` starts. Errors: EBADF for a bad
 * dirfd, ENOTDIR when dirfd is not a directory and the path is relative and non-empty.
 */
export function startWalk(task: Task, dirfd: number, path: string, flags: number): Nameidata {
  // A sandboxed task (WASI) resolves every path beneath its starting directory.
  flags |= task.resolveFlags;
  let start: PathRef;
  if (path.charCodeAt(0) === SLASH && !(flags & LOOKUP_BENEATH)) start = task.root;
  else if (dirfd === AT_FDCWD) start = task.cwd;
  else {
    const f = task.files.lookup(dirfd);
    if (f === undefined) throw E.EBADF;
    start = f.path;
    if (path.length > 0 && !start.dentry.inode.isDir) throw E.ENOTDIR;
  }
  const root = flags & LOOKUP_BENEATH ? start : task.root;
  return new Nameidata(task, start, root, flags);
}

/** Resolves `path` to an existing file. Errors: ENOENT, ENOTDIR, ELOOP, EACCES, ENAMETOOLONG, EBADF. */
export function pathLookup(task: Task, dirfd: number, path: string, flags: number): PathRef {
  const nd = startWalk(task, dirfd, path, flags);
  if (path.length === 0) {
    if (!(flags & LOOKUP_EMPTY)) throw E.ENOENT;
    return nd.path;
  }
  return nd.lookup(path);
}

/** The result of walking to the parent of a path's last component. */
export interface ParentLookup {
  nd: Nameidata;
  last: string;
  type: LastType;
  trailing: boolean;
}

/** Walks to the directory that holds the last component of `path` (filename_parentat). */
export function pathParent(task: Task, dirfd: number, path: string, flags: number): ParentLookup {
  const nd = startWalk(task, dirfd, path, flags);
  nd.walk(path);
  return { nd, last: nd.last, type: nd.lastType, trailing: nd.trailing };
}
