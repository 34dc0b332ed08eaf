// Anonymous inodes (Linux's pipefs/anon_inodefs): inodes for pipes and, later, sockets and
// epoll instances, which live in no directory. Each gets a dentry named like "pipe:[N]" in
// an internal mount, so /proc/self/fd shows them as Linux does.

import { S_IFDIR, S_IFMT, S_IFIFO, S_IFSOCK } from '../abi/linux/stat.js';
import { PIPEFS_MAGIC } from '../abi/linux/mount.js';
import { Dentry } from '../vfs/dentry.js';
import { Inode } from '../vfs/inode.js';
import { Mount, PathRef } from '../vfs/mount.js';
import type { FileSystemType, StatFs, SuperBlock } from '../vfs/superblock.js';
import type { Clock } from '../vfs/time.js';
import { E } from './errno.js';

class AnonInode extends Inode {
  constructor(
    readonly sb: AnonSuper,
    ino: number,
    mode: number,
  ) {
    super(ino, { mode, uid: 0, gid: 0, rdev: 0 }, sb.clock.now());
  }
}

const anonType: FileSystemType = {
  name: 'anon_inodefs',
  requiresDevice: false,
  mount() {
    throw E.EINVAL;
  },
};

class AnonSuper implements SuperBlock {
  readonly fsType = anonType;
  readonly root: AnonInode;
  readonly readOnly = false;
  readonly blockSize = 4096;
  readonly maxFileSize = 0;
  readonly maxLinks = 1;
  readonly source = 'anon';
  nextIno = 2;

  constructor(
    readonly dev: number,
    readonly clock: Clock,
  ) {
    this.root = new AnonInode(this, 1, S_IFDIR | 0o500);
  }
  options(): string {
    return 'rw';
  }
  statfs(): StatFs {
    return { type: PIPEFS_MAGIC, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, fsid: [0, 0], namelen: 255, frsize: 4096, flags: 0 };
  }
  sync(): void {}
  remount(): void {
    throw E.EINVAL;
  }
  kill(): void {}
}

export class AnonInodes {
  private readonly sb: AnonSuper;
  private readonly mnt: Mount;

  constructor(dev: number, clock: Clock, mountId: number) {
    this.sb = new AnonSuper(dev, clock);
    this.mnt = new Mount(mountId, this.sb, new Dentry('/', null, this.sb.root), 0);
    this.mnt.internal = true;
  }

  /** A fresh anonymous inode of `mode`, named "<kind>:[ino]" (or "anon_inode:[kind]"). */
  make(mode: number, kind: string): PathRef {
    const inode = new AnonInode(this.sb, this.sb.nextIno++, mode);
    const t = mode & S_IFMT;
    const name = t === S_IFIFO || t === S_IFSOCK ? `${kind}:[${inode.ino}]` : `anon_inode:[${kind}]`;
    return new PathRef(this.mnt, new Dentry(name, this.mnt.root, inode));
  }
}
