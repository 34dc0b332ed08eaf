// Partitions: what a partition table says (Partition, PartitionTable) and a partition as a
// block device of its own (PartitionDevice: an offset/length window over its disk that
// refuses I/O outside its range, as Linux's bdev partitions do).

import type { BlockDevice } from './block_device.js';
import { E, errno } from '../kernel/errno.js';
import { EIO } from '../abi/linux/errno.js';

/** One partition as a table describes it. Positions are in bytes and in sectors of the disk. */
export interface Partition {
  /** Linux's number: MBR primaries 1–4 by slot, logicals 5, 6, …; GPT entry index + 1. */
  number: number;
  /** First byte on the disk. */
  start: number;
  /** Length in bytes. */
  size: number;
  /** First sector (LBA). */
  firstLba: number;
  /** Length in sectors. */
  sectors: number;
  /** MBR: the type byte as two hex digits ("83"); GPT: the type GUID ("0FC63DAF-…"). */
  type: string;
  /** MBR: the boot indicator (0x80). */
  bootable?: boolean;
  /** MBR: a logical partition inside the extended one. */
  logical?: boolean;
  /** MBR: the extended partition itself (a container; Linux shows it as a 1 KiB device). */
  extended?: boolean;
  /** GPT: the partition's unique GUID. */
  guid?: string;
  /** GPT: the partition name (UTF-16 in the table). */
  name?: string;
  /** GPT: the 64 attribute bits. */
  attributes?: bigint;
}

/** A partition table as read from a disk. */
export interface PartitionTable {
  /** 'dos' for MBR (sfdisk's label name), 'gpt' for GPT. */
  label: 'dos' | 'gpt';
  /** The disk's identity: MBR signature as "0x1234abcd", GPT disk GUID. */
  id: string;
  sectorSize: number;
  /** Partitions by number (extended MBR containers included, marked `extended`). */
  partitions: Partition[];
  /** GPT: the first and last sectors partitions may use. */
  firstUsableLba?: number;
  lastUsableLba?: number;
  /** GPT: the header that was used ('primary', or 'backup' when the primary is bad). */
  header?: 'primary' | 'backup';
  /** Problems that did not prevent reading (a bad backup GPT, a disk that grew). */
  warnings: string[];
}

/** A partition as a block device: I/O at `offset` of the partition goes to `start + offset` of the disk. */
export class PartitionDevice implements BlockDevice {
  readonly sectorSize: number;
  readonly readOnly: boolean;
  readonly discard?: (offset: number, length: number) => void;

  constructor(
    readonly disk: BlockDevice,
    /** First byte on the disk. */
    readonly start: number,
    readonly size: number,
    options: { readOnly?: boolean } = {},
  ) {
    if (start < 0 || size < 0 || start + size > disk.size) {
      throw errno(EIO, `partition ${start}+${size} lies outside the disk (${disk.size} bytes)`);
    }
    this.sectorSize = disk.sectorSize;
    this.readOnly = disk.readOnly || (options.readOnly ?? false);
    if (disk.discard !== undefined) {
      this.discard = (offset, length) => {
        if (this.readOnly) throw E.EROFS;
        this.check(offset, length, 'discard');
        disk.discard!(start + offset, length);
      };
    }
  }

  /** Errors: EIO for a range outside the partition, and the disk's. */
  read(offset: number, into: Uint8Array): void {
    this.check(offset, into.length, 'read');
    this.disk.read(this.start + offset, into);
  }

  /** Errors: EROFS, EIO for a range outside the partition, and the disk's. */
  write(offset: number, from: Uint8Array): void {
    if (this.readOnly) throw E.EROFS;
    this.check(offset, from.length, 'write');
    this.disk.write(this.start + offset, from);
  }

  flush(): void {
    this.disk.flush();
  }

  private check(offset: number, length: number, what: string): void {
    if (!(offset >= 0 && length >= 0 && offset + length <= this.size)) {
      throw errno(EIO, `${what} of ${length} bytes at ${offset} lies outside the partition (${this.size} bytes)`);
    }
  }
}
