// procfs: a window into the kernel's own state, generated on demand (Linux's fs/proc).
// /proc/self, /proc/PID/{fd/N,cwd,root,comm,status,mounts}, /proc/mounts, /proc/uptime,
// /proc/version, /proc/filesystems. Files are generated when opened; the fd/N, cwd and root
// entries are "magic links" that lead to the open file or directory itself, not to a path.
// Directories here are never cached by the dentry cache: their contents follow the tasks.

import { PROC_SUPER_MAGIC } from '../../abi/linux/mount.js';
import { S_IFDIR, S_IFLNK, S_IFREG, DT_DIR, DT_LNK, DT_REG } from '../../abi/linux/stat.js';
import { E } from '../../kernel/errno.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/task.js';
import type { FileOps } from '../../vfs/file.js';
import { Inode, type DirEmit } from '../../vfs/inode.js';
import { MOUNT_OPTION_NAMES, PathRef, dPath, type Mount } from '../../vfs/mount.js';
import type { MagicLink } from '../../vfs/namei.js';
import type { FileSystemType, MountContext, StatFs, SuperBlock } from '../../vfs/superblock.js';
import type { Clock } from '../../vfs/time.js';
import { MS_RDONLY } from '../../abi/linux/mount.js';

/** Content of a generated file, captured at open. */
const procFileOps: FileOps = {
  read(f, buf, off, len, pos) {
    const data = f.priv as Uint8Array;
    if (pos >= data.length) return 0;
    const n = Math.min(len, data.length - pos);
    buf.set(data.subarray(pos, pos + n), off);
    return n;
  },
  write() {
    throw E.EACCES;
  },
};

abstract class ProcInode extends Inode {
  constructor(
    readonly sb: ProcSuper,
    ino: number,
    mode: number,
    uid = 0,
    gid = 0,
  ) {
    super(ino, { mode, uid, gid, rdev: 0 }, sb.bootTime);
  }
  override touchAtime(): void {}
}

type Entry = [name: string, make: () => ProcInode];

abstract class ProcDir extends ProcInode {
  abstract entries(): Entry[];
  override get cacheChildren(): boolean {
    return false;
  }
  override lookup(name: string): Inode | null {
    for (const [n, make] of this.entries()) if (n === name) return make();
    return null;
  }
  override readdir(cookie: number, emit: DirEmit): void {
    if (cookie === 0) {
      if (!emit('.', this.ino, DT_DIR, 1)) return;
      cookie = 1;
    }
    if (cookie === 1) {
      if (!emit('..', this.sb.root.ino, DT_DIR, 2)) return;
      cookie = 2;
    }
    const list = this.entries();
    for (let i = cookie - 2; i < list.length; i++) {
      const [name, make] = list[i]!;
      const inode = make();
      const dt = inode.isDir ? DT_DIR : inode.isSymlink ? DT_LNK : DT_REG;
      if (!emit(name, inode.ino, dt, i + 3)) return;
    }
  }
  override isEmptyDir(): boolean {
    return this.entries().length === 0;
  }
  override setattr(): void {
    throw E.EPERM;
  }
}

class ProcFile extends ProcInode {
  constructor(sb: ProcSuper, ino: number, private readonly generate: () => string, mode = 0o444) {
    super(sb, ino, S_IFREG | mode);
  }
  override openFile(): { ops: FileOps; priv: unknown } {
    return { ops: procFileOps, priv: new TextEncoder().encode(this.generate()) };
  }
  override read(): number {
    throw E.EINVAL;
  }
  override setattr(): void {
    throw E.EPERM;
  }
}

class ProcLink extends ProcInode {
  constructor(sb: ProcSuper, ino: number, private readonly target: () => string) {
    super(sb, ino, S_IFLNK | 0o777);
  }
  override readlink(): string {
    return this.target();
  }
}

/** A link that leads to a place held by a task (an open file, its cwd, its root). */
class ProcMagicLink extends ProcInode implements MagicLink {
  constructor(sb: ProcSuper, ino: number, private readonly place: () => PathRef, uid: number, mode = 0o777) {
    super(sb, ino, S_IFLNK | mode, uid);
  }
  jump(): PathRef {
    return this.place();
  }
  override readlink(): string {
    return dPath(this.place(), this.sb.kernel.current.root);
  }
}

class ProcRoot extends ProcDir {
  entries(): Entry[] {
    const sb = this.sb;
    const k = sb.kernel;
    const list: Entry[] = [
      ['self', () => new ProcLink(sb, 2, () => String(k.current.pid))],
      ['mounts', () => new ProcLink(sb, 3, () => 'self/mounts')],
      ['uptime', () => new ProcFile(sb, 4, () => uptime(k))],
      ['version', () => new ProcFile(sb, 5, () => `Linux version ${KERNEL_RELEASE} (tkl) ${KERNEL_VERSION}\n`)],
      ['filesystems', () => new ProcFile(sb, 6, () => filesystems(k))],
    ];
    for (const pid of [...k.tasks.keys()].sort((a, b) => a - b)) {
      list.push([String(pid), () => new ProcPidDir(sb, pid)]);
    }
    return list;
  }
}

class ProcPidDir extends ProcDir {
  constructor(sb: ProcSuper, readonly pid: number) {
    const t = sb.kernel.tasks.get(pid);
    super(sb, pid << 16, S_IFDIR | 0o555, t?.cred.euid ?? 0, t?.cred.egid ?? 0);
  }
  private task(): Task {
    const t = this.sb.kernel.tasks.get(this.pid);
    if (t === undefined) throw E.ENOENT;
    return t;
  }
  entries(): Entry[] {
    const sb = this.sb;
    const t = this.task();
    const base = this.pid << 16;
    return [
      ['fd', () => new ProcFdDir(sb, base + 1, t)],
      ['cwd', () => new ProcMagicLink(sb, base + 2, () => t.cwd, t.cred.euid)],
      ['root', () => new ProcMagicLink(sb, base + 3, () => t.root, t.cred.euid)],
      ['comm', () => new ProcFile(sb, base + 4, () => `${t.comm}\n`, 0o644)],
      ['status', () => new ProcFile(sb, base + 5, () => status(t))],
      ['mounts', () => new ProcFile(sb, base + 6, () => mounts(sb.kernel, t))],
    ];
  }
}

class ProcFdDir extends ProcDir {
  constructor(sb: ProcSuper, ino: number, private readonly t: Task) {
    super(sb, ino, S_IFDIR | 0o500, t.cred.euid, t.cred.egid);
  }
  entries(): Entry[] {
    const out: Entry[] = [];
    const base = (this.t.pid << 16) + 0x100;
    for (const [fd, f] of this.t.files.entries()) {
      const mode = (f.readable ? 0o500 : 0) | (f.writable ? 0o200 : 0);
      out.push([String(fd), () => new ProcMagicLink(this.sb, base + fd, () => f.path, this.t.cred.euid, mode)]);
    }
    return out;
  }
}

export const KERNEL_RELEASE = '6.6.0-tkl';
export const KERNEL_VERSION = '#1 SMP tkl';

function uptime(k: Kernel): string {
  const s = k.clock.uptimeNs() / 1e9;
  return `${s.toFixed(2)} ${s.toFixed(2)}\n`;
}

function filesystems(k: Kernel): string {
  return [...k.fsTypes.values()].map((t) => `${t.requiresDevice ? '' : 'nodev'}\t${t.name}\n`).join('');
}

function status(t: Task): string {
  const c = t.cred;
  return [
    `Name:\t${t.comm}`,
    `Umask:\t${t.umask.toString(8).padStart(4, '0')}`,
    'State:\tR (running)',
    `Pid:\t${t.pid}`,
    `PPid:\t${t.ppid}`,
    `Uid:\t${c.uid}\t${c.euid}\t${c.suid}\t${c.fsuid}`,
    `Gid:\t${c.gid}\t${c.egid}\t${c.sgid}\t${c.fsgid}`,
    `FDSize:\t${t.files.limit}`,
    `Groups:\t${c.groups.join(' ')}`,
    '',
  ].join('\n');
}

/** /proc/PID/mounts: the mounts visible from the task's root, in mount order. */
function mounts(k: Kernel, t: Task): string {
  const lines: string[] = [];
  for (const m of k.mountList) {
    if (!isVisible(m, t)) continue;
    const where = dPath(new PathRef(m, m.root), t.root);
    // show_vfsmnt: ro/rw, the per-mount flags, then the filesystem's own options.
    const perMount = MOUNT_OPTION_NAMES.filter(([bit]) => m.flags & bit).map(([, name]) => name);
    const fsOpts = m.sb.options().split(',').filter((o) => o !== 'rw' && o !== 'ro' && o !== '' && !MOUNT_OPTION_NAMES.some(([, n]) => n === o));
    const opts = [m.readOnly ? 'ro' : 'rw', ...perMount, ...fsOpts];
    lines.push(`${escape(m.sb.source)} ${escape(where)} ${m.sb.fsType.name} ${opts.join(',')} 0 0\n`);
  }
  return lines.join('');
}

function isVisible(m: Mount, t: Task): boolean {
  for (let x = m; ; x = x.parent) {
    if (x === t.root.mnt) return true;
    if (x.parent === x) return false;
  }
}

/** Mount table escaping: space, tab, newline and backslash as octal (Linux's mangle). */
function escape(s: string): string {
  return s.replace(/[ \t\n\\]/g, (c) => '\\' + c.charCodeAt(0).toString(8).padStart(3, '0'));
}

export class ProcSuper implements SuperBlock {
  readonly fsType = procfsType;
  readonly dev: number;
  readonly root: ProcRoot;
  readonly readOnly: boolean;
  readonly clock: Clock;
  readonly blockSize = 1024;
  readonly maxFileSize = 0;
  readonly maxLinks = Number.POSITIVE_INFINITY;
  readonly source = 'proc';
  readonly bootTime;
  kernel!: Kernel;

  constructor(ctx: MountContext) {
    this.dev = ctx.dev;
    this.clock = ctx.clock;
    this.readOnly = (ctx.flags & MS_RDONLY) !== 0;
    this.bootTime = ctx.clock.now();
    this.root = new ProcRoot(this, 1, S_IFDIR | 0o555);
  }
  options(): string {
    return this.readOnly ? 'ro' : 'rw';
  }
  statfs(): StatFs {
    return { type: PROC_SUPER_MAGIC, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, fsid: [0, 0], namelen: 255, frsize: 4096, flags: 0 };
  }
  sync(): void {}
  remount(): void {}
  kill(): void {}
}

/** procfs: the kernel it describes comes in MountContext.kernel. */
export const procfsType: FileSystemType = {
  name: 'proc',
  requiresDevice: false,
  mount(ctx: MountContext): SuperBlock {
    const sb = new ProcSuper(ctx);
    sb.kernel = ctx.kernel;
    return sb;
  },
};
