// Disk images for a WASI program (`tkl run --disk IMAGE[:PART]`, `--mount IMAGE[:PART]:/mnt`):
// the image file becomes a kernel disk (/dev/vda, its partitions /dev/vda1, …), the chosen
// filesystem (ext2/3/4 or FAT, found by probing) is mounted, and after the program the disk
// is flushed and closed. PART is a partition number, a GPT partition name or a filesystem
// label; without it, a bare filesystem image or the disk's only partition.

import { existsSync, realpathSync } from 'node:fs';
import { MS_RDONLY } from '../../abi/linux/mount.js';
import type { BlockDevice } from '../../block/block_device.js';
import { PartitionDevice } from '../../block/partition.js';
import { dataPartitions, readPartitionTable } from '../../block/partition_table.js';
import { fileDisk, type FileDisk } from '../../drivers/block/file_disk.js';
import { ReadAheadDisk } from '../../drivers/block/readahead.js';
import type { Kernel } from '../../kernel/kernel.js';
import { sys_mount } from '../../kernel/syscalls/sys_mount.js';
import { probe } from '../../cli/probe.js';

/** A disk image to mount for the program. */
export interface DiskMount {
  /** The image file on the host. */
  image: string;
  /** Partition number, GPT name or filesystem label; null for a bare image or the only partition. */
  part: string | null;
  /** Where the program sees it: "/" for the root (`--disk`), or an absolute path. */
  guest: string;
  readOnly?: boolean;
}

/** Thrown for an image that cannot be used, with a message for the user. */
export class DiskError extends Error {
  override name = 'DiskError';
}

/** What identifies an image file: its real path (the path as given when it cannot be resolved). */
export function imageKey(image: string): string {
  try {
    return realpathSync(image);
  } catch {
    return image;
  }
}

/** An image attached once for all the program's mounts of it. */
export interface SharedDisk {
  disk: ReadAheadDisk;
  /** Its kernel node, /dev/vdX. */
  node: string;
}

/**
 * Attaches `d`'s image to the kernel (it must happen while /dev is reachable, before "/" is
 * covered) and returns how to mount it and how to close it. An image named again (another
 * partition, or the same filesystem at a second place) is found in `shared` by its real path
 * and attached only once: two devices over one file would be two filesystems writing the same
 * blocks. `writable` says whether any use of the image writes to it.
 */
export function attachDisk(k: Kernel, d: DiskMount, shared: Map<string, SharedDisk> = new Map(), writable = !d.readOnly): { mount: (at: string) => void; close: () => void } {
  const key = imageKey(d.image);
  let entry = shared.get(key);
  const first = entry === undefined;
  if (entry === undefined) {
    let file: FileDisk;
    try {
      file = fileDisk(d.image, { readOnly: !writable });
    } catch (e) {
      throw new DiskError(`cannot open '${d.image}': ${(e as Error).message}`);
    }
    if (writable && file.readOnly) {
      file.close();
      throw new DiskError(`cannot open '${d.image}' for writing (use --ro for a read-only root)`);
    }
    // Sequential small reads of file data become one host read per 128 KiB.
    entry = { disk: new ReadAheadDisk(file), node: '' };
  }
  const disk = entry.disk;
  const name = d.part === null ? d.image : `${d.image}:${d.part}`;
  const { device, partition } = choosePartition(disk, d);
  const fs = probe(device);
  if (fs === null) {
    if (first) disk.close();
    throw new DiskError(`cannot mount '${name}': no ext2/3/4 or FAT filesystem found`);
  }
  if (first) {
    entry.node = k.addDisk(disk);
    shared.set(key, entry);
  }
  const source = partition === null ? entry.node : `${entry.node}${partition}`;
  return {
    mount: (at) => {
      sys_mount(k.init, source, at, fs.type, d.readOnly ? MS_RDONLY : 0, '');
    },
    close: () => {
      if (!first) return; // the first use closes it
      disk.flush();
      disk.close();
    },
  };
}

function choosePartition(disk: BlockDevice, d: DiskMount): { device: BlockDevice; partition: number | null } {
  let parts;
  try {
    parts = dataPartitions(readPartitionTable(disk));
  } catch (e) {
    throw new DiskError(`cannot read the partition table of '${d.image}': ${(e as Error).message}`);
  }
  const open = (n: number): { device: BlockDevice; partition: number } => {
    const p = parts.find((x) => x.number === n);
    if (p === undefined) throw new DiskError(`'${d.image}' has no partition ${n}`);
    return { device: new PartitionDevice(disk, p.start, p.size, { readOnly: disk.readOnly }), partition: n };
  };
  if (d.part === null) {
    if (parts.length === 0) return { device: disk, partition: null };
    if (parts.length === 1) return open(parts[0]!.number);
    throw new DiskError(`'${d.image}' has ${parts.length} partitions; name one as ${d.image}:N`);
  }
  if (/^\d+$/.test(d.part)) return open(Number(d.part));
  const byName = parts.find((p) => p.name === d.part);
  if (byName !== undefined) return open(byName.number);
  for (const p of parts) {
    if (probe(new PartitionDevice(disk, p.start, p.size, { readOnly: true }))?.label === d.part) return open(p.number);
  }
  throw new DiskError(`'${d.image}' has no partition named or labelled '${d.part}'`);
}

/** Parses "IMAGE[:PART]" (for --disk). */
export function parseDiskSpec(spec: string, guest: string, readOnly: boolean): DiskMount {
  if (existsSync(spec)) return { image: spec, part: null, guest, readOnly };
  const colon = spec.lastIndexOf(':');
  if (colon > 0 && !/[/]/.test(spec.slice(colon + 1))) {
    return { image: spec.slice(0, colon), part: spec.slice(colon + 1), guest, readOnly };
  }
  return { image: spec, part: null, guest, readOnly };
}

/** Parses "IMAGE[:PART]:/path" (for --mount). */
export function parseMountSpec(spec: string, readOnly = false): DiskMount {
  const at = spec.indexOf(':/');
  if (at <= 0) throw new DiskError(`bad --mount '${spec}': expected IMAGE[:PART]:/PATH`);
  return parseDiskSpec(spec.slice(0, at), spec.slice(at + 1), readOnly);
}
