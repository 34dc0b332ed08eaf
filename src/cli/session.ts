// A CLI session: one kernel in this process, the images a command names attached to it as
// disks and mounted under /images/N, and a clean unmount (which flushes) on success, on
// error and on Ctrl-C. Read commands open images read-only, so they can never change them.
// Each image is worked on by its own process chrooted to it: a path in an image (and an
// absolute symlink, and "..") resolves inside that image, never in the session's own tree.

import { closeSync, openSync, statSync, type Stats } from 'node:fs';
import { boot, type Process, type Tkl } from '../index.js';
import { NodeHost } from '../host/node/node_host.js';
import { fileDisk, type FileDisk } from '../drivers/block/file_disk.js';
import { MS_RDONLY } from '../abi/linux/mount.js';
import { dataPartitions, readPartitionTable } from '../block/partition_table.js';
import type { BlockDevice } from '../block/block_device.js';
import { PartitionDevice } from '../block/partition.js';
import type { ImageAddress } from './address.js';
import { probe, type Probe } from './probe.js';
import { LOOKUP_FOLLOW, pathLookup } from '../vfs/namei.js';
import { AT_FDCWD } from '../abi/linux/fcntl.js';
import { CliError, cannot, reason } from './output.js';

export interface OpenedImage {
  /** "disk.img" or "disk.img:2", as written. */
  name: string;
  mountPoint: string;
  probe: Probe;
  readOnly: boolean;
  /** The partition number, or null for a bare filesystem image. */
  partition: number | null;
  /** A process whose root is this filesystem: image paths are its paths. */
  proc: Process;
  /** The device the filesystem is on (the image, or its partition), for reading raw metadata. */
  device: BlockDevice;
}

/** An image address, resolved: the image, its process, and the path to give that process. */
export interface ImageTarget {
  img: OpenedImage;
  proc: Process;
  path: string;
}

export class Session {
  readonly k: Tkl;
  /** By the address as written (image and selector), and by what it resolved to. */
  private readonly images = new Map<string, OpenedImage>();
  /** By the image file's device and inode and the partition: one mount per filesystem. */
  private readonly filesystems = new Map<string, OpenedImage>();
  private readonly disks: FileDisk[] = [];
  private next = 0;
  private closed = false;

  /** Kernel device names ("/dev/vda2") → the image addresses they stand for ("disk.img:2"). */
  private readonly deviceNames = new Map<string, string>();

  constructor() {
    // Kernel messages (a FAT volume not cleanly unmounted) name the image, not /dev/vdX.
    const console = (text: string): void => {
      process.stderr.write(text.replace(/\/dev\/vd[a-z]+\d*/g, (dev) => this.deviceNames.get(dev) ?? dev));
    };
    this.k = boot({ hostname: 'tkl', host: new NodeHost({ console }) });
  }

  /**
   * Attaches and mounts the filesystem an address names, once per filesystem however it is
   * named (disk.img:1 and disk.img:root may be one partition; two mounts of it would each
   * flush their own view). Errors: CliError with a coreutils-style message.
   */
  open(a: ImageAddress, write: boolean): OpenedImage {
    const key = `${a.image}\0${a.part ?? ''}`;
    const known = this.images.get(key);
    if (known !== undefined) {
      if (write && known.readOnly) throw new CliError(`tkl: '${known.name}' is open read-only`);
      return known;
    }
    const name = a.part === null ? a.image : `${a.image}:${a.part}`;
    // The host's own errno each time: EACCES for a directory we may not search, EROFS for a
    // read-only mount, EACCES or EPERM for a file we may not write.
    let disk: FileDisk;
    let file: Stats;
    try {
      file = statSync(a.image);
    } catch (e) {
      throw new CliError(cannot('open', a.image, e));
    }
    if (write) {
      try {
        closeSync(openSync(a.image, 'r+'));
      } catch (e) {
        throw new CliError(`tkl: cannot open '${a.image}' for writing: ${reason(e)}`);
      }
    }
    try {
      disk = fileDisk(a.image, { readOnly: !write });
    } catch (e) {
      throw new CliError(cannot('open', a.image, e));
    }
    this.disks.push(disk);
    if (write && disk.readOnly) throw new CliError(`tkl: cannot open '${a.image}' for writing: Permission denied`);
    const { device, partition } = choosePartition(disk, a);
    const fsKey = `${file.dev}:${file.ino}\0${partition ?? ''}`;
    const same = this.filesystems.get(fsKey);
    if (same !== undefined) {
      this.disks.pop();
      disk.close();
      if (write && same.readOnly) throw new CliError(`tkl: '${same.name}' is open read-only`);
      this.images.set(key, same);
      return same;
    }
    const p = probe(device);
    if (p === null) throw new CliError(`tkl: cannot mount '${name}': no ext2/3/4 or FAT filesystem found`);
    const k = this.k;
    const node = k.addDisk(disk);
    const source = partition === null ? node : `${node}${partition}`;
    this.deviceNames.set(source, name);
    const mountPoint = `/images/${this.next++}`;
    k.fs.mkdir(mountPoint, { recursive: true });
    try {
      k.sys.mount(source, mountPoint, p.type, write ? 0 : MS_RDONLY, '');
    } catch (e) {
      throw new CliError(cannot('mount', name, e));
    }
    const proc = k.process();
    proc.sys.chroot(mountPoint);
    proc.sys.chdir('/');
    const opened: OpenedImage = { name, mountPoint, probe: p, readOnly: !write, partition, proc, device };
    this.images.set(key, opened);
    this.filesystems.set(fsKey, opened);
    return opened;
  }

  /** Where an image address leads (opening the image if needed). Errors: CliError. */
  target(a: ImageAddress, write: boolean): ImageTarget {
    const img = this.open(a, write);
    return { img, proc: img.proc, path: a.path };
  }

  /**
   * The address as a path of the session kernel itself, for code that works in its tree
   * (httpd serves from a process it chroots there). Commands use target() instead.
   */
  path(a: ImageAddress, write: boolean): string {
    const img = this.open(a, write);
    const rel = a.path.replace(/^\/+/, '');
    return rel === '' ? img.mountPoint : `${img.mountPoint}/${rel}`;
  }

  /** The filesystem's own description of itself (features and the like), if it has one. */
  describe(img: OpenedImage): Record<string, unknown> {
    const t = this.k.kernel.init;
    const p = pathLookup(t, AT_FDCWD, img.mountPoint, LOOKUP_FOLLOW);
    return p.mnt.sb.describe?.() ?? {};
  }

  /** Unmounts everything (flushing each filesystem) and closes the image files. */
  close(): string[] {
    if (this.closed) return [];
    this.closed = true;
    const problems: string[] = [];
    for (const img of this.filesystems.values()) {
      // Its end closes whatever a failed command left open, and lets go of the mount.
      img.proc.exit(0);
      try {
        this.k.sys.umount2(img.mountPoint, 0);
      } catch (e) {
        problems.push(cannot('unmount', img.name, e));
      }
    }
    for (const d of this.disks) {
      try {
        d.flush();
        d.close();
      } catch (e) {
        problems.push(`tkl: closing '${d.path}': ${reason(e)}`);
      }
    }
    return problems;
  }
}

/**
 * The device holding the filesystem: the whole disk for a bare filesystem image, else the
 * chosen partition (a number, a GPT name or a filesystem label), or the only one.
 */
function choosePartition(disk: BlockDevice, a: ImageAddress): { device: BlockDevice; partition: number | null } {
  let table;
  try {
    table = readPartitionTable(disk);
  } catch (e) {
    throw new CliError(`tkl: cannot read the partition table of '${a.image}': ${reason(e)}`);
  }
  const parts = dataPartitions(table);
  const open = (n: number): { device: BlockDevice; partition: number } => {
    const p = parts.find((x) => x.number === n);
    if (p === undefined) throw new CliError(`tkl: '${a.image}' has no partition ${n}`);
    return { device: new PartitionDevice(disk, p.start, p.size, { readOnly: disk.readOnly }), partition: n };
  };
  if (a.part === null) {
    if (table === null || parts.length === 0) return { device: disk, partition: null };
    if (parts.length === 1) return open(parts[0]!.number);
    throw new CliError(
      `tkl: '${a.image}' has ${parts.length} partitions; name one, e.g. '${a.image}:${parts[0]!.number}:${a.path}' (see 'tkl parts ${a.image}')`,
    );
  }
  if (/^\d+$/.test(a.part)) return open(Number(a.part));
  const byName = parts.find((p) => p.name === a.part);
  if (byName !== undefined) return open(byName.number);
  for (const p of parts) {
    const dev = new PartitionDevice(disk, p.start, p.size, { readOnly: true });
    if (probe(dev)?.label === a.part) return open(p.number);
  }
  throw new CliError(`tkl: '${a.image}' has no partition named or labelled '${a.part}'`);
}
