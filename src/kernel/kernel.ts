// Kernel: one independent instance of tkl's kernel. It holds no module-level state, so any
// number of kernels can live in one process. The constructor is the boot order, top to
// bottom: time and console, drivers, filesystem types, the root filesystem, the first task,
// the standard tree (/dev, /proc, /tmp), and the first task's standard streams.

import { AT_FDCWD, O_RDWR } from '../abi/linux/fcntl.js';
import { BLOCK_EXT_MAJOR, VIRTBLK_MAJOR, makedev } from '../abi/linux/limits.js';
import { MS_PER_MOUNT, MS_RDONLY } from '../abi/linux/mount.js';
import { S_IFBLK, S_IFLNK } from '../abi/linux/stat.js';
import type { HostOps } from '../host/host_ops.js';
import type { BlockDevice } from '../block/block_device.js';
import { blockDeviceFileOps } from '../block/block_file.js';
import { scanPartitions } from '../block/partition_table.js';
import { Dentry } from '../vfs/dentry.js';
import type { File, FileOps } from '../vfs/file.js';
import { directoryOps, regularFileOps } from '../vfs/file_ops.js';
import type { Inode } from '../vfs/inode.js';
import { Mount, PathRef, mountFlags } from '../vfs/mount.js';
import type { FileSystemType, SuperBlock } from '../vfs/superblock.js';
import { Clock } from '../vfs/time.js';
import type { OpenContext } from '../vfs/vfs_ops.js';
import { tmpfsType, type TmpfsInode } from '../fs/tmpfs/tmpfs.js';
import { devtmpfsType, populateDev } from '../fs/devfs/devfs.js';
import { procfsType } from '../fs/procfs/procfs.js';
import { vfatType } from '../fs/fat/super.js';
import { ext2Type, ext3Type, ext4Type } from '../fs/ext4/ext4.js';
import { AnonInodes } from './anon.js';
import { Cred } from './cred.js';
import { Console, standardCharDevices } from './devices.js';
import { E } from './errno.js';
import { FdTable } from './fd_table.js';
import { Task } from './task.js';
import { TimerQueue } from './timers.js';
import { sys_mkdirat } from './syscalls/sys_namei.js';
import { sys_mount } from './syscalls/sys_mount.js';
import { sys_openat } from './syscalls/sys_open.js';
import { sys_dup } from './syscalls/sys_fd.js';
import { NetStack } from '../net/stack.js';

export interface KernelOptions {
  host: HostOps;
  /** uname's nodename. Default 'tkl'. */
  hostname?: string;
  /** RLIMIT_NOFILE of every task. Default 1024. */
  maxOpenFiles?: number;
  /** The root tmpfs's size, in tmpfs's syntax ("512m"). Default 4g. */
  rootSize?: string;
  /** The first task's credentials. Default root (0, 0). */
  uid?: number;
  gid?: number;
  groups?: number[];
  /** The first task's umask. Default 0o022. */
  umask?: number;
  /** The fs.protected_* sysctls; by default what systemd-based distributions set. */
  sysctl?: Partial<FsSysctl>;
}

/** Linux's fs.protected_* sysctls (Documentation/admin-guide/sysctl/fs.rst). */
export interface FsSysctl {
  /** 1: hard links only to files one owns or could read and write (else EPERM). */
  protectedHardlinks: number;
  /** 1: in sticky world-writable directories, follow only one's own symlinks or the directory owner's (else EACCES). */
  protectedSymlinks: number;
  /** 1 or 2: no O_CREAT opens of others' existing files in sticky world-writable (2: also group-writable) directories. */
  protectedRegular: number;
  /** The same as protectedRegular, for FIFOs. */
  protectedFifos: number;
}

/** A registered disk: the device and its node name. */
export interface DiskEntry {
  name: string;
  device: BlockDevice;
}

export class Kernel {
  readonly host: HostOps;
  readonly clock: Clock;
  readonly timers: TimerQueue;
  readonly console: Console;
  hostname: string;
  readonly maxOpenFiles: number;
  readonly sysctl: FsSysctl;
  readonly fsTypes = new Map<string, FileSystemType>();
  readonly chrdevs: Map<number, FileOps>;
  readonly blkdevs = new Map<number, DiskEntry>();
  readonly blockFileOps = new Map<number, FileOps>();
  readonly tasks = new Map<number, Task>();
  /** Mounts in the order they were made (what /proc/mounts lists). */
  readonly mountList: Mount[] = [];
  readonly rootMount: Mount;
  readonly init: Task;
  /** The task on whose behalf the kernel runs now (Linux's `current`). */
  current: Task;
  readonly openContext: OpenContext;
  private readonly anon: AnonInodes;
  private readonly sbMounts = new Map<SuperBlock, number>();
  private readonly sbRoots = new Map<SuperBlock, Dentry>();
  private nextPid = 1;
  private nextMountId = 1;
  private nextAnonMinor = 1;
  private nextDiskIndex = 0;
  private nextExtMinor = 0;
  private netStack: NetStack | undefined;

  constructor(opts: KernelOptions) {
    // 1. Time and the console: everything after this stamps and logs through them.
    this.host = opts.host;
    this.clock = new Clock(this.host);
    this.timers = new TimerQueue(this.host);
    this.console = new Console(this.host);
    this.hostname = opts.hostname ?? 'tkl';
    this.maxOpenFiles = opts.maxOpenFiles ?? 1024;
    this.sysctl = { protectedHardlinks: 1, protectedSymlinks: 1, protectedRegular: 1, protectedFifos: 1, ...opts.sysctl };

    // 2. Drivers: character devices by number; the open path finds them through here.
    this.chrdevs = standardCharDevices(this.host, this.console);
    this.openContext = {
      charDevice: (rdev) => this.chrdevs.get(rdev),
      blockDevice: (rdev) => this.blockFileOps.get(rdev),
      regularOps: regularFileOps,
      directoryOps,
      noWait: false,
      release: (f) => this.putFile(f),
    };
    this.anon = new AnonInodes(this.anonDev(), this.clock, this.nextMountId++);

    // 3. Filesystem types mount(2) knows by name.
    for (const t of [tmpfsType, devtmpfsType, procfsType, vfatType, ext4Type, ext3Type, ext2Type]) this.registerFilesystem(t);

    // 4. The root filesystem: a tmpfs, mounted nowhere, the root of every path.
    const rootSb = tmpfsType.mount({
      source: 'rootfs', device: null, flags: 0, data: `size=${opts.rootSize ?? '4g'},mode=755`,
      dev: this.anonDev(), clock: this.clock, host: this.host, kernel: this,
    });
    this.rootMount = this.newMount(rootSb, this.rootDentryOf(rootSb), mountFlags(0));
    this.mountList.push(this.rootMount);

    // 5. The first task, pid 1: root and working directory at "/".
    const root = new PathRef(this.rootMount, this.rootMount.root);
    this.init = this.newTask(0, new Cred(opts.uid ?? 0, opts.gid ?? 0, opts.groups ?? []), root, root, opts.umask ?? 0o022, 'init');
    this.current = this.init;

    // 6. The standard tree, made by the first task as root: /dev, /proc, /tmp, /mnt.
    const boot = this.init;
    const cred = boot.cred;
    const umask = boot.umask;
    boot.cred = new Cred(0, 0);
    boot.umask = 0;
    sys_mkdirat(boot, AT_FDCWD, '/dev', 0o755);
    sys_mount(boot, 'devtmpfs', '/dev', 'devtmpfs', 0, 'mode=755,size=64k');
    populateDev(this, this.lookupRoot('/dev'));
    sys_mkdirat(boot, AT_FDCWD, '/proc', 0o555);
    sys_mount(boot, 'proc', '/proc', 'proc', 0, '');
    sys_mkdirat(boot, AT_FDCWD, '/tmp', 0o1777);
    sys_mkdirat(boot, AT_FDCWD, '/mnt', 0o755);
    boot.cred = cred;
    boot.umask = umask;

    // 7. Standard input, output and error of the first task: the console.
    const fd = sys_openat(boot, AT_FDCWD, '/dev/console', O_RDWR);
    sys_dup(boot, fd);
    sys_dup(boot, fd);
  }

  // ---- registries ------------------------------------------------------------------------

  registerFilesystem(t: FileSystemType): void {
    this.fsTypes.set(t.name, t);
  }

  /** A fresh device number for a filesystem without a device (major 0, as get_anon_bdev). */
  anonDev(): number {
    return makedev(0, this.nextAnonMinor++);
  }

  newMountId(): number {
    return this.nextMountId++;
  }

  // ---- tasks ------------------------------------------------------------------------------

  /** Creates a task; `ppid` 0 for the first. */
  newTask(ppid: number, cred: Cred, root: PathRef, cwd: PathRef, umask: number, comm: string): Task {
    const pid = this.nextPid++;
    const t = new Task(this, pid, ppid, cred, root, cwd, umask, new FdTable(this.maxOpenFiles, (f) => this.putFile(f)), comm);
    root.mnt.refs++;
    cwd.mnt.refs++;
    this.tasks.set(pid, t);
    return t;
  }

  /** A child of `parent` sharing nothing but copies of its state (fork without exec). */
  forkTask(parent: Task, cred?: Cred): Task {
    const t = this.newTask(parent.pid, cred ?? parent.cred.clone(), parent.root, parent.cwd, parent.umask, parent.comm);
    const copy = parent.files.clone();
    for (const [fd, f] of copy.entries()) t.files.installAt(fd, f, copy.getCloexec(fd));
    copy.closeAll();
    return t;
  }

  /** Ends a task: closes its descriptors and forgets it. */
  exitTask(t: Task, code: number): void {
    if (t.exitCode !== null) return;
    t.exitCode = code;
    t.files.closeAll();
    this.dropMountRef(t.cwd.mnt);
    this.dropMountRef(t.root.mnt);
    this.tasks.delete(t.pid);
  }

  setCwd(t: Task, p: PathRef): void {
    p.mnt.refs++;
    const old = t.cwd;
    t.cwd = p;
    this.dropMountRef(old.mnt);
  }

  setRoot(t: Task, p: PathRef): void {
    p.mnt.refs++;
    const old = t.root;
    t.root = p;
    this.dropMountRef(old.mnt);
  }

  // ---- files ------------------------------------------------------------------------------

  /** Releases an open file description whose last reference went away. */
  putFile(f: File): void {
    f.ops.release?.(f);
    const inode = f.inode;
    inode.openCount--;
    this.maybeEvict(inode);
    this.dropMountRef(f.path.mnt);
  }

  /** Frees an inode's storage once it has neither names nor open files. */
  maybeEvict(inode: Inode): void {
    if (inode.nlink === 0 && inode.openCount === 0 && !inode.evicted) {
      inode.evicted = true;
      inode.evict();
    }
  }

  /** A new anonymous inode (pipes, sockets) as a path. */
  anonInode(mode: number, kind: string): PathRef {
    return this.anon.make(mode, kind);
  }

  // ---- mounts -----------------------------------------------------------------------------

  /** Makes a Mount of `sb` showing `root`, not yet attached. */
  newMount(sb: SuperBlock, root: Dentry, flags: number): Mount {
    this.sbMounts.set(sb, (this.sbMounts.get(sb) ?? 0) + 1);
    return new Mount(this.nextMountId++, sb, root, flags & (MS_PER_MOUNT | MS_RDONLY));
  }

  /** The dentry of `sb`'s root, shared by every mount of it. */
  rootDentryOf(sb: SuperBlock): Dentry {
    let d = this.sbRoots.get(sb);
    if (d === undefined) {
      d = new Dentry('/', null, sb.root);
      this.sbRoots.set(sb, d);
    }
    return d;
  }

  /** Attaches `m` on `at` (mount_attach). */
  attachMount(m: Mount, at: PathRef): void {
    // A mount point must stay findable by later walks, even in a directory whose children
    // are not cached (procfs, FAT): pin its dentry under its parent.
    const d = at.dentry;
    if (!d.isRoot && d.parent.children?.get(d.name) !== d) (d.parent.children ??= new Map()).set(d.name, d);
    m.parent = at.mnt;
    m.mountpoint = at.dentry;
    m.detached = false;
    at.mnt.children.push(m);
    at.dentry.mounted++;
    this.mountList.push(m);
  }

  /** Takes `m` out of the tree, keeping it alive (to move it, or before releasing it). */
  unlinkMount(m: Mount): void {
    const siblings = m.parent.children;
    const i = siblings.indexOf(m);
    if (i >= 0) siblings.splice(i, 1);
    m.mountpoint.mounted--;
    const j = this.mountList.indexOf(m);
    if (j >= 0) this.mountList.splice(j, 1);
  }

  /**
   * Detaches `m` and everything mounted beneath it (umount_tree). Each detached mount becomes
   * its own parent, as umount_tree disconnects them: a walk that is still inside (an open
   * directory, a working directory) stops at its root on "..", and paths print from there.
   */
  detachMount(m: Mount): void {
    for (const c of m.children.slice()) this.detachMount(c);
    this.unlinkMount(m);
    m.parent = m;
    m.mountpoint = m.root;
    m.detached = true;
    if (m.refs === 0) this.releaseMount(m);
  }

  private dropMountRef(m: Mount): void {
    if (--m.refs === 0 && m.detached) this.releaseMount(m);
  }

  /** Whether `m` is the only mount of its filesystem (unmounting it kills the filesystem). */
  isLastMount(m: Mount): boolean {
    return (this.sbMounts.get(m.sb) ?? 1) === 1;
  }

  /** Drops a detached mount's hold on its filesystem; the last one flushes and kills it. */
  private releaseMount(m: Mount): void {
    const n = (this.sbMounts.get(m.sb) ?? 1) - 1;
    if (n > 0) {
      this.sbMounts.set(m.sb, n);
      return;
    }
    this.sbMounts.delete(m.sb);
    this.sbRoots.delete(m.sb);
    m.sb.kill();
  }

  /** The live filesystem read from block device `rdev`, if one is mounted (or still referenced). */
  superBlockOn(rdev: number): SuperBlock | undefined {
    for (const sb of this.sbMounts.keys()) if (sb.fsType.requiresDevice && sb.dev === rdev) return sb;
    return undefined;
  }

  /** Flushes every mounted filesystem (sync(2)). */
  syncAll(): void {
    for (const sb of this.sbMounts.keys()) sb.sync();
  }

  // ---- network ---------------------------------------------------------------------------

  /** This kernel's TCP/IP stack (net/), made on first use with a loopback interface. */
  get net(): NetStack {
    return (this.netStack ??= new NetStack(this.host, this.timers));
  }

  // ---- block devices ----------------------------------------------------------------------

  blockDevice(rdev: number): BlockDevice | undefined {
    return this.blkdevs.get(rdev)?.device;
  }

  /**
   * Attaches a disk (lkl_disk_add): it appears as /dev/vda, /dev/vdb, … (major 254, 16 minors
   * per disk, as virtio-blk numbers them), its partitions as /dev/vda1, /dev/vda2, … (minor
   * index*16 + n; numbers past 15 on major 259, as Linux's blkext). A corrupt partition
   * table leaves the disk usable whole and is reported on the console. Returns the node's path.
   */
  addDisk(device: BlockDevice): string {
    const index = this.nextDiskIndex++;
    const name = `vd${diskLetters(index)}`;
    const rdev = makedev(VIRTBLK_MAJOR, index * 16);
    this.registerBlockDevice(name, rdev, device);
    for (const p of scanPartitions(device, name, (msg) => this.host.console(msg))) {
      const prdev = p.number < 16 ? makedev(VIRTBLK_MAJOR, index * 16 + p.number) : makedev(BLOCK_EXT_MAJOR, this.nextExtMinor++);
      this.registerBlockDevice(`${name}${p.number}`, prdev, p.device);
    }
    return `/dev/${name}`;
  }

  /** Registers `device` under `rdev` and makes /dev/<name> for it (openable as a file too). */
  registerBlockDevice(name: string, rdev: number, device: BlockDevice): void {
    this.blkdevs.set(rdev, { name, device });
    this.blockFileOps.set(rdev, blockDeviceFileOps(device));
    this.makeNode(this.lookupRoot('/dev'), name, S_IFBLK | 0o660, rdev);
  }

  // ---- helpers ----------------------------------------------------------------------------

  /** Resolves an absolute path from the namespace root without permission checks (boot-time use). */
  lookupRoot(path: string): PathRef {
    let mnt = this.rootMount;
    let d = mnt.root;
    for (const name of path.split('/')) {
      if (name === '') continue;
      const child = d.cached(name) ?? (() => {
        const inode = d.inode.lookup(name);
        if (inode === null) throw E.ENOENT;
        return d.addChild(name, inode);
      })();
      d = child;
      while (d.mounted > 0) {
        const m = mnt.mountedAt(d);
        if (m === undefined) break;
        mnt = m;
        d = m.root;
      }
    }
    return new PathRef(mnt, d);
  }

  /** Makes a device node in the tmpfs directory `dir` (boot and disk registration). */
  makeNode(dir: PathRef, name: string, mode: number, rdev: number): void {
    const inode = (dir.dentry.inode as TmpfsInode).mknod(name, { mode, uid: 0, gid: 0, rdev });
    dir.dentry.addChild(name, inode);
  }

  /** Makes a symlink in the tmpfs directory `dir`. */
  makeSymlink(dir: PathRef, name: string, target: string): void {
    const inode = (dir.dentry.inode as TmpfsInode).symlink(name, target, { mode: S_IFLNK | 0o777, uid: 0, gid: 0, rdev: 0 });
    dir.dentry.addChild(name, inode);
  }
}

/** vd + a, b, …, z, aa, ab, … as Linux names virtio disks. */
function diskLetters(i: number): string {
  let s = '';
  i++;
  while (i > 0) {
    i--;
    s = String.fromCharCode(97 + (i % 26)) + s;
    i = Math.floor(i / 26);
  }
  return s;
}
