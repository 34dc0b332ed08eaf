// Finding the partition table of a disk (Linux's check_partition for the msdos and efi
// parsers): a protective MBR means GPT, another valid MBR means DOS partitions, anything
// else (a bare filesystem image) means none. Also opens a partition as a block device.

import type { BlockDevice } from './block_device.js';
import { PartitionDevice, type Partition, type PartitionTable } from './partition.js';
import { looksLikeMbr, readMbr } from './mbr.js';
import { hasProtectiveMbr, readGpt } from './gpt.js';
import { errno } from '../kernel/errno.js';
import { ENXIO } from '../abi/linux/errno.js';

/**
 * The partition table of `device`, or null when it has none (a bare filesystem image, an
 * empty disk). Errors: EUCLEAN for a table that is present but corrupt (GPT with both
 * headers bad, entries out of range or overlapping, a broken EBR chain), EIO.
 */
export function readPartitionTable(device: BlockDevice): PartitionTable | null {
  const ss = device.sectorSize;
  if (device.size < ss * 2) return null;
  const s0 = new Uint8Array(ss);
  device.read(0, s0);
  if (hasProtectiveMbr(s0)) return readGpt(device);
  if (looksLikeMbr(s0)) return readMbr(device, s0);
  return null;
}

/** The data partitions of a table: extended containers left out. */
export function dataPartitions(table: PartitionTable | null): Partition[] {
  return table === null ? [] : table.partitions.filter((p) => !p.extended);
}

/**
 * Partition `which` of `device` as a block device: a number, or a GPT partition name.
 * Errors: ENXIO when there is no table or no such partition, EUCLEAN for a corrupt table.
 */
export function openPartition(device: BlockDevice, which: number | string, options: { readOnly?: boolean } = {}): PartitionDevice {
  const table = readPartitionTable(device);
  if (table === null) throw errno(ENXIO, 'the disk has no partition table');
  const p = dataPartitions(table).find((x) => (typeof which === 'number' ? x.number === which : x.name === which));
  if (p === undefined) throw errno(ENXIO, `the disk has no partition ${typeof which === 'number' ? which : `named '${which}'`}`);
  return new PartitionDevice(device, p.start, p.size, options);
}

/** A partition to register as a device node. */
export interface DiskPartition {
  number: number;
  device: PartitionDevice;
}

/**
 * The partitions Linux would show for `device` (check_partition + add_partition): data
 * partitions, and an MBR extended partition as a 1 KiB device over its first sectors. Never
 * throws for a bad table: the disk is then used whole and `log` says why, as the kernel
 * log does; table warnings (a GPT read from its backup) are logged too.
 */
export function scanPartitions(device: BlockDevice, diskName: string, log: (msg: string) => void): DiskPartition[] {
  let table: PartitionTable | null;
  try {
    table = readPartitionTable(device);
  } catch (e) {
    log(`${diskName}: partition table not used: ${(e as Error).message}\n`);
    return [];
  }
  if (table === null) return [];
  for (const w of table.warnings) log(`${diskName}: ${w}\n`);
  return table.partitions.map((p) => ({
    number: p.number,
    device: new PartitionDevice(device, p.start, p.extended ? Math.min(p.size, 1024) : p.size),
  }));
}
