// Dentry: a name in the directory tree, bound to an inode (Linux's struct dentry). The VFS
// caches positive dentries under their parent so path walks, `..`, getcwd and mount points
// work without asking the filesystem again; every namespace change goes through the VFS,
// which keeps the cache coherent (add on create, drop on unlink/rmdir, move on rename).

import type { Inode } from './inode.js';

export class Dentry {
  name: string;
  /** The parent directory's dentry; the root of a filesystem is its own parent. */
  parent: Dentry;
  inode: Inode;
  /** Cached children by name; created on first use. */
  children: Map<string, Dentry> | null = null;
  /** Number of mounts whose mount point is this dentry. */
  mounted = 0;
  /** Set when the name was removed (unlink, rmdir, replaced by rename). */
  unhashed = false;

  constructor(name: string, parent: Dentry | null, inode: Inode) {
    this.name = name;
    this.parent = parent ?? this;
    this.inode = inode;
  }

  get isRoot(): boolean {
    return this.parent === this;
  }

  /** The cached child, if any. */
  cached(name: string): Dentry | undefined {
    return this.children?.get(name);
  }

  /**
   * Caches `inode` as child `name` and returns its dentry (d_add). A directory whose inode
   * says not to cache children (procfs; FAT, whose names match in any case) gets an
   * uncached dentry.
   */
  addChild(name: string, inode: Inode): Dentry {
    const d = new Dentry(name, this, inode);
    if (this.inode.cacheChildren) (this.children ??= new Map()).set(name, d);
    return d;
  }

  /** Forgets child `name` after it was removed (d_delete). */
  dropChild(name: string): void {
    const d = this.children?.get(name);
    if (d !== undefined) {
      d.unhashed = true;
      this.children!.delete(name);
    }
  }

  /** True when `this` is `other` or lies beneath it. */
  isSubdirOf(other: Dentry): boolean {
    for (let d: Dentry = this; ; d = d.parent) {
      if (d === other) return true;
      if (d.isRoot) return false;
    }
  }
}

/** Moves `d` to `name` under `newParent` (d_move), replacing whatever was cached there. */
export function dMove(d: Dentry, newParent: Dentry, name: string): void {
  d.parent.children?.delete(d.name);
  newParent.dropChild(name);
  d.name = name;
  d.parent = newParent;
  if (newParent.inode.cacheChildren) (newParent.children ??= new Map()).set(name, d);
}

/** Swaps two dentries' places (d_exchange, for RENAME_EXCHANGE). */
export function dExchange(a: Dentry, b: Dentry): void {
  const ap = a.parent;
  const an = a.name;
  const bp = b.parent;
  const bn = b.name;
  a.parent = bp;
  a.name = bn;
  b.parent = ap;
  b.name = an;
  // Directories that do not cache their children (FAT, procfs) hold neither dentry.
  ap.children?.set(an, b);
  bp.children?.set(bn, a);
}
