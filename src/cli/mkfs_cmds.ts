// Making filesystems and whole disk images: `tkl mkfs` and `tkl mkimage`. Image files are
// created sparse; nothing is overwritten unless asked (--force) or the target is the image
// the user named explicitly for mkfs.

import type { Command } from 'commander';
import { closeSync, existsSync, openSync, ftruncateSync, statSync, unlinkSync } from 'node:fs';
import { signalExitCode, withStopSignals } from './in_session.js';
import { fileDisk, type FileDisk } from '../drivers/block/file_disk.js';
import type { BlockDevice } from '../block/block_device.js';
import { PartitionDevice } from '../block/partition.js';
import { dataPartitions, readPartitionTable } from '../block/partition_table.js';
import { writeGpt, type GptPartitionSpec } from '../block/gpt.js';
import { writeMbr, type MbrPartitionSpec } from '../block/mbr.js';
import { mkfsFat } from '../fs/fat/mkfs.js';
import { mkfsExt4 } from '../fs/ext4/mkfs.js';
import { CliError, UsageError, cannot, human, parseSize, reason } from './output.js';
import { EFI_SYSTEM_GUID, partitionTypeFor } from './part_types.js';

/** What mkfs may be told beyond the type. */
interface MkfsChoices {
  label?: string;
  fatType?: 12 | 16 | 32;
  blockSize?: number;
  inodeRatio?: number;
  features?: string;
  uuid?: string;
}

function ext(type: 'ext2' | 'ext3' | 'ext4') {
  return (dev: BlockDevice, o: MkfsChoices): string => {
    const r = mkfsExt4(dev, {
      type,
      ...(o.label !== undefined ? { label: o.label } : {}),
      ...(o.blockSize !== undefined ? { blockSize: o.blockSize } : {}),
      ...(o.inodeRatio !== undefined ? { inodeRatio: o.inodeRatio } : {}),
      ...(o.features !== undefined ? { features: o.features } : {}),
      ...(o.uuid !== undefined ? { uuid: o.uuid } : {}),
    });
    return `${type}, ${r.blocks} blocks of ${r.blockSize} bytes, ${r.inodes} inodes, UUID ${r.uuid}`;
  };
}

/** Filesystem types mkfs knows, and what each does to a device. */
const MKFS: Record<string, (dev: BlockDevice, o: MkfsChoices) => string> = {
  ext4: ext('ext4'),
  ext3: ext('ext3'),
  ext2: ext('ext2'),
  vfat: (dev, o) => {
    const l = mkfsFat(dev, { ...(o.label !== undefined ? { label: o.label } : {}), ...(o.fatType ? { type: o.fatType } : {}) });
    return `FAT${l.type}, ${l.clusters} clusters of ${l.clusterSize} bytes`;
  },
};
const ALIASES: Record<string, string> = { fat: 'vfat', msdos: 'vfat', fat12: 'vfat', fat16: 'vfat', fat32: 'vfat', esp: 'vfat' };

function fsName(t: string): string {
  const n = ALIASES[t] ?? t;
  if (MKFS[n] === undefined) {
    throw new UsageError(`unknown filesystem type '${t}' (known: ${[...Object.keys(MKFS), ...Object.keys(ALIASES)].join(', ')})`);
  }
  return n;
}

function fatTypeOf(t: string): 12 | 16 | 32 | undefined {
  return t === 'fat12' ? 12 : t === 'fat16' ? 16 : t === 'fat32' ? 32 : undefined;
}

/** Creates (sparse) or grows the image file to `size`; returns whether it was created. */
function ensureFile(path: string, size: number | null): boolean {
  const exists = existsSync(path);
  if (!exists && size === null) throw new CliError(`tkl: '${path}' does not exist; give --size to create it`);
  if (exists && size === null) return false;
  try {
    const fd = openSync(path, exists ? 'r+' : 'wx', 0o644);
    try {
      if (!exists || statSync(path).size < size!) ftruncateSync(fd, size!);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw new CliError(cannot(exists ? 'resize' : 'create', path, e));
  }
  return !exists;
}

export function registerMkfs(p: Command): void {
  p.command('mkfs')
    .description('make a filesystem in an image file or one of its partitions')
    .requiredOption('-t, --type <type>', `filesystem type: ${Object.keys(MKFS).join(', ')} (or fat12/fat16/fat32)`)
    .option('--size <size>', 'create (sparse) or grow the image to this size first, e.g. 1G')
    .option('-L, --label <label>', 'volume label')
    .option('-b, --block-size <bytes>', 'ext2/3/4: block size (1024, 2048, 4096)')
    .option('-i, --inode-ratio <bytes>', 'ext2/3/4: bytes per inode')
    .option('-O, --features <list>', 'ext2/3/4: feature changes as mke2fs -O takes them, e.g. ^metadata_csum,inline_data')
    .option('-U, --uuid <uuid>', 'ext2/3/4: the filesystem UUID')
    .argument('<image>', 'IMAGE or IMAGE:PART (a partition number or GPT name)')
    .addHelpText('after', '\nExamples:\n  tkl mkfs -t vfat --size 64M boot.img\n  tkl mkfs -t ext4 -L root disk.img:2\n  tkl mkfs -t ext4 --size 1G -b 4096 -O ^metadata_csum rootfs.img')
    .action(async (target: string, o: MkfsFlags) => {
      // SIGTERM/SIGHUP/SIGINT wait for the filesystem to be complete and flushed.
      const { signal } = await withStopSignals(() => mkfsCommand(target, o));
      if (signal !== null) process.exitCode = signalExitCode(signal);
    });

  p.command('mkimage')
    .description('make a whole-disk image: a partition table and a formatted filesystem in each partition')
    .requiredOption('--size <size>', 'size of the disk, e.g. 4G (the file is sparse)')
    .option('--table <table>', 'gpt or mbr', 'gpt')
    .option('--part <spec>', 'FSTYPE:SIZE[:NAME] (SIZE "rest" for the remainder; repeatable; "esp" = FAT with the EFI System type)', collect, [])
    .option('-f, --force', 'overwrite an existing file')
    .argument('<image>', 'the image file to create')
    .addHelpText(
      'after',
      '\nExamples:\n  tkl mkimage disk.img --size 4G --table gpt --part vfat:256M:boot --part ext4:rest:root\n  tkl mkimage sd.img --size 2G --table mbr --part fat32:256M:BOOT --part ext4:rest:rootfs',
    )
    .action(async (image: string, o: MkimageFlags) => {
      const { signal } = await withStopSignals(() => mkimageCommand(image, o));
      if (signal !== null) process.exitCode = signalExitCode(signal);
    });
}

interface MkfsFlags {
  type: string;
  size?: string;
  label?: string;
  blockSize?: string;
  inodeRatio?: string;
  features?: string;
  uuid?: string;
}

interface MkimageFlags {
  size: string;
  table: string;
  part: string[];
  force?: boolean;
}

function mkfsCommand(target: string, o: MkfsFlags): void {
  const type = fsName(o.type);
  const size = o.size === undefined ? null : parseSize(o.size);
  let image = target;
  let part: string | null = null;
  const colon = target.lastIndexOf(':');
  if (colon > 0 && !existsSync(target)) {
    image = target.slice(0, colon);
    part = target.slice(colon + 1);
  }
  if (part !== null && size !== null) throw new UsageError('--size applies to a whole image, not a partition');
  ensureFile(image, size);
  const disk = openDisk(image);
  try {
    let dev: BlockDevice = disk;
    if (part !== null) {
      const parts = dataPartitions(readPartitionTable(disk));
      const pp = /^\d+$/.test(part) ? parts.find((x) => x.number === Number(part)) : parts.find((x) => x.name === part);
      if (pp === undefined) throw new CliError(`tkl: '${image}' has no partition ${part}`);
      dev = new PartitionDevice(disk, pp.start, pp.size);
    }
    const num = (v: string | undefined, what: string): number | undefined => {
      if (v === undefined) return undefined;
      if (!/^\d+$/.test(v)) throw new UsageError(`invalid ${what} '${v}'`);
      return Number(v);
    };
    const blockSize = num(o.blockSize, 'block size');
    const inodeRatio = num(o.inodeRatio, 'inode ratio');
    const what = MKFS[type]!(dev, {
      ...(o.label !== undefined ? { label: o.label } : {}),
      fatType: fatTypeOf(o.type),
      ...(blockSize !== undefined ? { blockSize } : {}),
      ...(inodeRatio !== undefined ? { inodeRatio } : {}),
      ...(o.features !== undefined ? { features: o.features } : {}),
      ...(o.uuid !== undefined ? { uuid: o.uuid } : {}),
    });
    disk.flush();
    process.stdout.write(`${target}: ${what}, ${human(dev.size)}\n`);
  } catch (e) {
    if (e instanceof CliError || e instanceof UsageError) throw e;
    throw new CliError(cannot('make a filesystem on', target, e));
  } finally {
    disk.close();
  }
}

function mkimageCommand(image: string, o: MkimageFlags): void {
  if (o.table !== 'gpt' && o.table !== 'mbr') throw new UsageError(`--table must be gpt or mbr, not '${o.table}'`);
  if (o.part.length === 0) throw new UsageError('give at least one --part FSTYPE:SIZE[:NAME]');
  const size = parseSize(o.size);
  const specs = o.part.map((text, i) => {
    const f = text.split(':');
    if (f.length < 2 || f.length > 3) throw new UsageError(`invalid --part '${text}' (FSTYPE:SIZE[:NAME])`);
    const rest = f[1] === 'rest';
    if (rest && i !== o.part.length - 1) throw new UsageError("only the last partition can take the 'rest'");
    return { raw: f[0]!, fs: fsName(f[0]!), size: rest ? null : parseSize(f[1]!), name: f[2] };
  });
  if (existsSync(image) && !o.force) throw new CliError(`tkl: '${image}' exists; use --force to overwrite it`);
  if (existsSync(image)) {
    const fd = openSync(image, 'r+');
    ftruncateSync(fd, 0);
    closeSync(fd);
  }
  const created = ensureFile(image, size);
  let disk: FileDisk;
  try {
    disk = openDisk(image);
  } catch (e) {
    if (created) unlinkSync(image);
    throw e;
  }
  let ok = false;
  try {
    const table =
      o.table === 'gpt'
        ? writeGpt(disk, specs.map((s): GptPartitionSpec => ({
            type: s.raw === 'esp' ? EFI_SYSTEM_GUID : partitionTypeFor('gpt', s.fs, s.size ?? size),
            ...(s.name !== undefined ? { name: s.name } : {}),
            ...(s.size !== null ? { size: s.size } : {}),
          })))
        : writeMbr(disk, specs.map((s, i): MbrPartitionSpec => ({
            type: s.raw === 'esp' ? 0xef : parseInt(partitionTypeFor('dos', s.fs, s.size ?? size), 16),
            ...(s.size !== null ? { size: s.size } : {}),
            ...(specs.length > 4 && i >= 3 ? { logical: true } : {}),
            ...(i === 0 && s.fs === 'vfat' ? { bootable: true } : {}),
          })));
    const parts = dataPartitions(table);
    specs.forEach((s, i) => {
      const pp = parts[i]!;
      const dev = new PartitionDevice(disk, pp.start, pp.size);
      const what = MKFS[s.fs]!(dev, { ...(s.name !== undefined ? { label: s.name } : {}), fatType: fatTypeOf(s.raw) });
      process.stdout.write(`${image}:${pp.number}${s.name ? ` (${s.name})` : ''}: ${human(pp.size)} ${what}\n`);
    });
    disk.flush();
    ok = true;
  } catch (e) {
    if (e instanceof CliError || e instanceof UsageError) throw e;
    if ((e as { code?: string }).code === 'ENOSPC') {
      // Say what does not fit: each fixed size, their sum, and the room there is.
      const fixed = specs.filter((x) => x.size !== null).map((x) => x.size!);
      const sum = fixed.reduce((a, b) => a + b, 0);
      const room = size - ALIGN - (o.table === 'gpt' ? GPT_BACKUP_BYTES : 0);
      throw new CliError(
        `tkl: cannot make '${image}': the partitions do not fit: ${fixed.length > 1 ? `${fixed.map(human).join(' + ')} = ` : ''}${human(sum)}` +
          `${specs.some((x) => x.size === null) ? ' and a rest' : ''}, but a ${human(size)} disk has ${human(Math.max(0, room))} for partitions` +
          ` (${o.table === 'gpt' ? 'the GPT and its backup, and ' : ''}1 MiB alignment)`,
      );
    }
    throw new CliError(`tkl: cannot make '${image}': ${reason(e)}`);
  } finally {
    disk.close();
    // A file this command created is not left behind half made.
    if (!ok && created) unlinkSync(image);
  }
}

/** The first partition starts at 1 MiB, as fdisk and sgdisk place it. */
const ALIGN = 1 << 20;
/** The backup GPT at the disk's end: 32 sectors of entries and the header. */
const GPT_BACKUP_BYTES = 33 * 512;

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

function openDisk(image: string): FileDisk {
  try {
    const d = fileDisk(image);
    if (d.readOnly) throw Object.assign(new Error('read-only'), { code: 'EACCES' });
    return d;
  } catch (e) {
    throw new CliError(cannot('open', image, e));
  }
}
