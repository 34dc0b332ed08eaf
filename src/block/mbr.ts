// The MBR ("DOS") partition table: four primary records in sector 0, one of which may be an
// extended partition holding a chain of extended boot records (EBRs), each describing one
// logical partition and the next EBR (UEFI spec §5.2.1; the EBR chain as Linux's
// block/partitions/msdos.c reads it). readMbr parses and checks; writeMbr lays out a new table.

import {
  MBR_DISK_SIGNATURE, MBR_ENTRIES, MBR_ENTRY_SIZE, MBR_EXTENDED_TYPES, MBR_E_CHS_FIRST, MBR_E_CHS_LAST,
  MBR_E_LBA_FIRST, MBR_E_SECTORS, MBR_E_STATUS, MBR_E_TYPE, MBR_PARTITION_TABLE, MBR_SIGNATURE,
  MBR_STATUS_BOOTABLE, GPT_SIGNATURE,
} from './partition_layout.js';
import type { BlockDevice } from './block_device.js';
import type { Partition, PartitionTable } from './partition.js';
import { E, errno } from '../kernel/errno.js';
import { EINVAL, ENOSPC, EUCLEAN } from '../abi/linux/errno.js';

/** Most logical partitions followed in an EBR chain (a loop in a corrupt chain stops here). */
const MAX_LOGICAL = 256;
const MIB = 1024 * 1024;

/** One primary record, decoded. */
export interface MbrRecord {
  status: number;
  type: number;
  firstLba: number;
  sectors: number;
}

/** True when `sector` ends in the 0x55AA signature. */
export function hasBootSignature(sector: Uint8Array): boolean {
  return sector[MBR_SIGNATURE] === 0x55 && sector[MBR_SIGNATURE + 1] === 0xaa;
}

/** The four records of an MBR or EBR sector. */
export function mbrRecords(sector: Uint8Array): MbrRecord[] {
  const dv = new DataView(sector.buffer, sector.byteOffset, sector.byteLength);
  const out: MbrRecord[] = [];
  for (let i = 0; i < MBR_ENTRIES; i++) {
    const o = MBR_PARTITION_TABLE + i * MBR_ENTRY_SIZE;
    out.push({
      status: sector[o + MBR_E_STATUS]!,
      type: sector[o + MBR_E_TYPE]!,
      firstLba: dv.getUint32(o + MBR_E_LBA_FIRST, true),
      sectors: dv.getUint32(o + MBR_E_SECTORS, true),
    });
  }
  return out;
}

/**
 * Whether sector 0 holds an MBR partition table. As Linux does, a sector with the signature
 * but a boot indicator other than 0x00/0x80 is not a table (it is a FAT or other boot sector).
 */
export function looksLikeMbr(sector: Uint8Array): boolean {
  if (!hasBootSignature(sector)) return false;
  return mbrRecords(sector).every((r) => r.status === 0 || r.status === MBR_STATUS_BOOTABLE);
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/**
 * Reads the MBR table of `device` (whose sector 0 looksLikeMbr). Errors: EUCLEAN naming the
 * record for a partition beyond the end of the disk, overlapping primaries, a broken or
 * looping EBR chain; EIO from the device.
 */
export function readMbr(device: BlockDevice, sector0?: Uint8Array): PartitionTable {
  const ss = device.sectorSize;
  const diskSectors = Math.floor(device.size / ss);
  const s0 = sector0 ?? readSector(device, 0);
  const dv = new DataView(s0.buffer, s0.byteOffset, s0.byteLength);
  const id = '0x' + dv.getUint32(MBR_DISK_SIGNATURE, true).toString(16).padStart(8, '0');
  const partitions: Partition[] = [];
  const warnings: string[] = [];
  const records = mbrRecords(s0);
  let extended: Partition | null = null;
  records.forEach((r, i) => {
    if (r.type === 0 || r.sectors === 0) return;
    const p = makePartition(i + 1, r, r.firstLba, ss, diskSectors, 'mbr');
    if (r.status === MBR_STATUS_BOOTABLE) p.bootable = true;
    if (MBR_EXTENDED_TYPES.has(r.type)) {
      if (extended !== null) throw errno(EUCLEAN, `mbr: partitions ${extended.number} and ${p.number} are both extended`);
      p.extended = true;
      extended = p;
    }
    partitions.push(p);
  });
  checkOverlap(partitions, 'mbr');
  if (extended !== null) partitions.push(...readLogicals(device, extended, diskSectors));
  return { label: 'dos', id, sectorSize: ss, partitions, warnings };
}

/** Follows the EBR chain of `ext` (Linux's parse_extended). */
function readLogicals(device: BlockDevice, ext: Partition, diskSectors: number): Partition[] {
  const ss = device.sectorSize;
  const out: Partition[] = [];
  const seen = new Set<number>();
  let ebr = ext.firstLba;
  const extEnd = ext.firstLba + ext.sectors;
  for (;;) {
    if (seen.has(ebr)) throw errno(EUCLEAN, `mbr: the chain of extended boot records loops at sector ${ebr}`);
    if (seen.size >= MAX_LOGICAL) throw errno(EUCLEAN, `mbr: more than ${MAX_LOGICAL} logical partitions`);
    seen.add(ebr);
    const sec = readSector(device, ebr);
    if (!hasBootSignature(sec)) throw errno(EUCLEAN, `mbr: extended boot record at sector ${ebr} has no 0x55AA signature`);
    const recs = mbrRecords(sec);
    let next: MbrRecord | null = null;
    // The first data record describes the logical partition (relative to this EBR), the first
    // extended record the next EBR (relative to the extended partition's start).
    let data: MbrRecord | null = null;
    for (const r of recs.slice(0, 2)) {
      if (r.type === 0 || r.sectors === 0) continue;
      if (MBR_EXTENDED_TYPES.has(r.type)) next ??= r;
      else data ??= r;
    }
    if (data !== null) {
      const p = makePartition(5 + out.length, data, ebr + data.firstLba, ss, diskSectors, 'mbr');
      if (p.firstLba + p.sectors > extEnd || p.firstLba <= ebr) {
        throw errno(EUCLEAN, `mbr: logical partition ${p.number} (sectors ${p.firstLba}–${p.firstLba + p.sectors - 1}) lies outside the extended partition (${ext.firstLba}–${extEnd - 1})`);
      }
      p.logical = true;
      if (data.status === MBR_STATUS_BOOTABLE) p.bootable = true;
      out.push(p);
    }
    if (next === null) break;
    const nextLba = ext.firstLba + next.firstLba;
    if (nextLba >= extEnd) throw errno(EUCLEAN, `mbr: extended boot record after sector ${ebr} points outside the extended partition (sector ${nextLba})`);
    ebr = nextLba;
  }
  checkOverlap(out, 'mbr');
  return out;
}

function makePartition(number: number, r: MbrRecord, firstLba: number, ss: number, diskSectors: number, what: string): Partition {
  if (firstLba + r.sectors > diskSectors) {
    throw errno(EUCLEAN, `${what}: partition ${number} (sectors ${firstLba}–${firstLba + r.sectors - 1}) extends beyond the end of the disk (${diskSectors} sectors)`);
  }
  if (firstLba === 0) throw errno(EUCLEAN, `${what}: partition ${number} starts at sector 0, over the partition table`);
  return { number, start: firstLba * ss, size: r.sectors * ss, firstLba, sectors: r.sectors, type: hex2(r.type) };
}

function checkOverlap(parts: Partition[], what: string): void {
  const sorted = [...parts].sort((a, b) => a.firstLba - b.firstLba);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (b.firstLba < a.firstLba + a.sectors) {
      throw errno(EUCLEAN, `${what}: partitions ${a.number} and ${b.number} overlap (sector ${b.firstLba})`);
    }
  }
}

function readSector(device: BlockDevice, lba: number): Uint8Array {
  const s = new Uint8Array(device.sectorSize);
  device.read(lba * device.sectorSize, s);
  return s;
}

// ---- writing --------------------------------------------------------------------------------

/** A partition for writeMbr. Positions and sizes are bytes, multiples of the sector size. */
export interface MbrPartitionSpec {
  /** The type byte; default 0x83 (Linux). 0x0c FAT32 (LBA), 0x0e FAT16 (LBA), 0xef EFI, 0x82 swap. */
  type?: number;
  /** First byte; default the next alignment boundary after the previous partition. */
  start?: number;
  /** Length; default the rest of the disk (only for the last partition). */
  size?: number;
  bootable?: boolean;
  /** A logical partition (5, 6, …) inside an extended partition made for it; logicals come last. */
  logical?: boolean;
}

export interface MbrOptions {
  /** The 32-bit disk signature; default random. */
  diskId?: number;
  /** Alignment of default starts in bytes; default 1 MiB, as sfdisk and fdisk use. */
  alignment?: number;
}

/**
 * Writes a new MBR table for `parts` on `device` and returns it as readMbr would see it.
 * Primaries fill slots 1–4 in order; logical partitions go into one extended partition
 * (type 0x05): the first EBR opens it on an alignment boundary, each later EBR sits right
 * after the previous logical partition, and each logical partition starts at the next
 * boundary after its EBR. Boot code in sector 0 is kept; stale GPT headers are wiped.
 * Errors: EINVAL (too many primaries, misaligned or overlapping ranges, beyond 2 TiB
 * sectors), ENOSPC (partitions do not fit), EROFS, EIO.
 */
export function writeMbr(device: BlockDevice, parts: MbrPartitionSpec[], options: MbrOptions = {}): PartitionTable {
  if (device.readOnly) throw E.EROFS;
  const ss = device.sectorSize;
  const diskSectors = Math.floor(device.size / ss);
  const align = Math.max(1, Math.floor((options.alignment ?? MIB) / ss));
  const alignUp = (lba: number): number => Math.ceil(lba / align) * align;
  const toSectors = (bytes: number, what: string): number => {
    if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes % ss !== 0) throw errno(EINVAL, `mbr: ${what} ${bytes} is not a multiple of the ${ss}-byte sector`);
    return bytes / ss;
  };
  const primaries = parts.filter((p) => !p.logical);
  const logicals = parts.filter((p) => p.logical);
  if (parts.findIndex((p) => p.logical) >= 0 && parts.slice(parts.findIndex((p) => p.logical)).some((p) => !p.logical)) {
    throw errno(EINVAL, 'mbr: logical partitions must come after the primary ones');
  }
  if (primaries.length + (logicals.length > 0 ? 1 : 0) > 4) throw errno(EINVAL, 'mbr: at most four primary partitions (or three and an extended one)');

  interface Placed { first: number; sectors: number; type: number; bootable: boolean; ebr: number }
  const placed: Placed[] = [];
  let cursor = 1;
  let extStart = -1;
  parts.forEach((spec, i) => {
    const n = i + 1;
    let ebr = -1;
    let first: number;
    if (spec.logical) {
      // An EBR precedes each logical partition; the first EBR opens the extended partition.
      const ebrAt = extStart < 0 ? alignUp(cursor) : cursor;
      if (extStart < 0) extStart = ebrAt;
      ebr = ebrAt;
      first = spec.start !== undefined ? toSectors(spec.start, 'start') : alignUp(ebrAt + 1);
      if (first <= ebrAt) throw errno(EINVAL, `mbr: logical partition ${n} needs a sector for its EBR before it`);
    } else {
      first = spec.start !== undefined ? toSectors(spec.start, 'start') : alignUp(cursor);
    }
    if (first < cursor) throw errno(EINVAL, `mbr: partition ${n} starts at sector ${first}, inside the previous one`);
    let sectors: number;
    if (spec.size !== undefined) sectors = toSectors(spec.size, 'size');
    else {
      if (i !== parts.length - 1) throw errno(EINVAL, `mbr: only the last partition may take the rest of the disk`);
      sectors = diskSectors - first;
    }
    if (sectors <= 0 || first + sectors > diskSectors) throw errno(ENOSPC, `mbr: partition ${n} does not fit on the disk (${diskSectors} sectors)`);
    if (first + sectors > 0xffffffff) throw errno(EINVAL, `mbr: partition ${n} ends beyond sector 2^32 (use GPT)`);
    placed.push({ first, sectors, type: spec.type ?? 0x83, bootable: spec.bootable ?? false, ebr });
    cursor = first + sectors;
  });

  const s0 = readSector(device, 0);
  if (!hasBootSignature(s0)) s0.fill(0, 0, MBR_DISK_SIGNATURE);
  s0.fill(0, MBR_DISK_SIGNATURE);
  const dv = new DataView(s0.buffer);
  const diskId = options.diskId ?? globalThis.crypto.getRandomValues(new Uint32Array(1))[0]!;
  dv.setUint32(MBR_DISK_SIGNATURE, diskId >>> 0, true);
  let slot = 0;
  for (const p of placed) if (p.ebr < 0) putRecord(s0, slot++, p.bootable, p.type, p.first, p.sectors);
  const logicalPlaced = placed.filter((p) => p.ebr >= 0);
  if (logicalPlaced.length > 0) {
    const last = logicalPlaced[logicalPlaced.length - 1]!;
    putRecord(s0, slot, false, 0x05, extStart, last.first + last.sectors - extStart);
    logicalPlaced.forEach((p, j) => {
      const e = new Uint8Array(ss);
      putRecord(e, 0, p.bootable, p.type, p.first - p.ebr, p.sectors);
      const nx = logicalPlaced[j + 1];
      if (nx !== undefined) putRecord(e, 1, false, 0x05, nx.ebr - extStart, nx.first + nx.sectors - nx.ebr);
      e[MBR_SIGNATURE] = 0x55;
      e[MBR_SIGNATURE + 1] = 0xaa;
      device.write(p.ebr * ss, e);
    });
  }
  s0[MBR_SIGNATURE] = 0x55;
  s0[MBR_SIGNATURE + 1] = 0xaa;
  wipeGptHeaders(device);
  device.write(0, s0);
  device.flush();
  return readMbr(device, s0);
}

/** Fills MBR record `slot` of `sector`, with CHS fields from LBA on a 255-head, 63-sector geometry. */
export function putRecord(sector: Uint8Array, slot: number, bootable: boolean, type: number, firstLba: number, sectors: number): void {
  const o = MBR_PARTITION_TABLE + slot * MBR_ENTRY_SIZE;
  const dv = new DataView(sector.buffer, sector.byteOffset, sector.byteLength);
  sector[o + MBR_E_STATUS] = bootable ? MBR_STATUS_BOOTABLE : 0;
  putChs(sector, o + MBR_E_CHS_FIRST, firstLba);
  sector[o + MBR_E_TYPE] = type;
  putChs(sector, o + MBR_E_CHS_LAST, firstLba + sectors - 1);
  dv.setUint32(o + MBR_E_LBA_FIRST, firstLba, true);
  dv.setUint32(o + MBR_E_SECTORS, sectors, true);
}

function putChs(sector: Uint8Array, o: number, lba: number): void {
  let c = Math.floor(lba / (255 * 63));
  let h = Math.floor(lba / 63) % 255;
  let s = (lba % 63) + 1;
  // Past cylinder 1023 CHS cannot say where: the conventional "maximum" 1023/254/63.
  if (c > 1023) {
    c = 1023;
    h = 254;
    s = 63;
  }
  sector[o] = h;
  sector[o + 1] = (s & 0x3f) | ((c >> 2) & 0xc0);
  sector[o + 2] = c & 0xff;
}

/** Erases GPT headers (primary at LBA 1, backup at the last LBA) left by an earlier table. */
export function wipeGptHeaders(device: BlockDevice): void {
  const ss = device.sectorSize;
  const last = Math.floor(device.size / ss) - 1;
  const sig = new TextEncoder().encode(GPT_SIGNATURE);
  for (const lba of [1, last]) {
    if (lba < 1) continue;
    const s = readSector(device, lba);
    if (sig.every((b, i) => s[i] === b)) device.write(lba * ss, new Uint8Array(ss));
  }
}
