// The GUID Partition Table (UEFI spec 2.10 §5.3): a protective MBR in LBA 0, the primary
// header in LBA 1 followed by the entry array, and a backup entry array and header at the
// end of the disk. Headers and the array carry CRC32s. readGpt checks everything and falls
// back to the backup header when the primary is bad (saying so); writeGpt lays out a new one.

import {
  GPT_DEFAULT_ENTRIES, GPT_ENTRY_SIZE, GPT_E_ATTRIBUTES, GPT_E_FIRST_LBA, GPT_E_LAST_LBA, GPT_E_NAME,
  GPT_E_NAME_UNITS, GPT_E_TYPE_GUID, GPT_E_UNIQUE_GUID, GPT_HEADER_SIZE, GPT_H_ALTERNATE_LBA, GPT_H_DISK_GUID,
  GPT_H_ENTRIES_CRC, GPT_H_ENTRIES_LBA, GPT_H_ENTRY_COUNT, GPT_H_ENTRY_SIZE, GPT_H_FIRST_USABLE,
  GPT_H_HEADER_CRC, GPT_H_HEADER_SIZE, GPT_H_LAST_USABLE, GPT_H_MY_LBA, GPT_H_REVISION, GPT_H_SIGNATURE,
  GPT_MAX_ENTRY_ARRAY, GPT_REVISION, GPT_SIGNATURE, MBR_DISK_SIGNATURE, MBR_SIGNATURE, MBR_TYPE_GPT_PROTECTIVE,
} from './partition_layout.js';
import type { BlockDevice } from './block_device.js';
import type { Partition, PartitionTable } from './partition.js';
import { crc32 } from './crc32.js';
import { guidIsZero, guidToBytes, guidToString, isGuid, randomGuid } from './guid.js';
import { putRecord } from './mbr.js';
import { E, errno } from '../kernel/errno.js';
import { EINVAL, ENOSPC, EUCLEAN } from '../abi/linux/errno.js';

const MIB = 1024 * 1024;

/** Well-known partition type GUIDs by the short names sfdisk and systemd use. */
export const GPT_TYPES: Readonly<Record<string, string>> = {
  linux: '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
  efi: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  esp: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  swap: '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F',
  home: '933AC7E1-2EB4-4F13-B844-0E14E2AEF915',
  'root-x86-64': '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709',
  'root-arm64': 'B921B045-1DF0-41C3-AF44-4C6F280D3FAE',
  bios: '21686148-6449-6E6F-744E-656564454649',
  msdata: 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7',
  lvm: 'E6D6D379-F507-44C2-A23C-238F2A3DF928',
  raid: 'A19D880F-05FC-4D3B-A006-743F0F84911E',
};

/** A validated GPT header. */
interface GptHeader {
  myLba: number;
  alternateLba: number;
  firstUsable: number;
  lastUsable: number;
  diskGuid: string;
  entriesLba: number;
  entryCount: number;
  entrySize: number;
  entriesCrc: number;
}

/** True when LBA 0 is a protective (or hybrid) MBR: a record of type 0xEE (UEFI spec §5.2.3). */
export function hasProtectiveMbr(sector0: Uint8Array): boolean {
  if (sector0[MBR_SIGNATURE] !== 0x55 || sector0[MBR_SIGNATURE + 1] !== 0xaa) return false;
  for (let i = 0; i < 4; i++) if (sector0[446 + i * 16 + 4] === MBR_TYPE_GPT_PROTECTIVE) return true;
  return false;
}

/**
 * Reads the GPT of `device`. The primary header and its array are checked (signature, size,
 * CRCs, MyLBA, usable range, array placement); if they are bad the backup is used and the
 * table's `header` is 'backup' with a warning naming the primary's fault. Errors: EUCLEAN
 * when neither header is valid (naming both faults) or the entries are inconsistent
 * (beyond the usable range, overlapping, end before start); EIO from the device.
 */
export function readGpt(device: BlockDevice): PartitionTable {
  const ss = device.sectorSize;
  const lastLba = Math.floor(device.size / ss) - 1;
  if (lastLba < 3) throw errno(EUCLEAN, `gpt: the disk is too small for a GPT (${device.size} bytes)`);
  const warnings: string[] = [];
  const primary = loadHeader(device, 1, lastLba);
  let used: { h: GptHeader; entries: Uint8Array };
  let which: 'primary' | 'backup';
  if (typeof primary !== 'string') {
    used = primary;
    which = 'primary';
    const backup = loadHeader(device, primary.h.alternateLba <= lastLba ? primary.h.alternateLba : lastLba, lastLba);
    if (typeof backup === 'string') warnings.push(`the backup GPT header is bad: ${backup}`);
    else if (backup.h.entriesCrc !== primary.h.entriesCrc) warnings.push('the backup GPT entries differ from the primary ones');
    if (primary.h.alternateLba !== lastLba) {
      warnings.push(`the backup GPT header is not at the end of the disk (LBA ${primary.h.alternateLba}, disk ends at ${lastLba})`);
    }
  } else {
    const backup = loadHeader(device, lastLba, lastLba);
    if (typeof backup === 'string') {
      throw errno(EUCLEAN, `gpt: the primary header is bad (${primary}) and so is the backup (${backup})`);
    }
    used = backup;
    which = 'backup';
    warnings.push(`the primary GPT header is bad (${primary}); using the backup header at LBA ${lastLba}`);
  }
  const { h, entries } = used;
  const partitions: Partition[] = [];
  const dv = new DataView(entries.buffer, entries.byteOffset, entries.byteLength);
  for (let i = 0; i < h.entryCount; i++) {
    const o = i * h.entrySize;
    if (guidIsZero(entries, o + GPT_E_TYPE_GUID)) continue;
    const first = u64(dv, o + GPT_E_FIRST_LBA);
    const last = u64(dv, o + GPT_E_LAST_LBA);
    const n = i + 1;
    if (last < first) throw errno(EUCLEAN, `gpt: partition ${n} ends (LBA ${last}) before it starts (LBA ${first})`);
    if (first < h.firstUsable || last > h.lastUsable) {
      throw errno(EUCLEAN, `gpt: partition ${n} (LBA ${first}–${last}) lies outside the usable range ${h.firstUsable}–${h.lastUsable}`);
    }
    let name = '';
    for (let k = 0; k < GPT_E_NAME_UNITS; k++) {
      const u = dv.getUint16(o + GPT_E_NAME + k * 2, true);
      if (u === 0) break;
      name += String.fromCharCode(u);
    }
    partitions.push({
      number: n, start: first * ss, size: (last - first + 1) * ss, firstLba: first, sectors: last - first + 1,
      type: guidToString(entries, o + GPT_E_TYPE_GUID), guid: guidToString(entries, o + GPT_E_UNIQUE_GUID),
      name, attributes: dv.getBigUint64(o + GPT_E_ATTRIBUTES, true),
    });
  }
  const sorted = [...partitions].sort((a, b) => a.firstLba - b.firstLba);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (b.firstLba < a.firstLba + a.sectors) throw errno(EUCLEAN, `gpt: partitions ${a.number} and ${b.number} overlap (LBA ${b.firstLba})`);
  }
  return {
    label: 'gpt', id: h.diskGuid, sectorSize: ss, partitions, firstUsableLba: h.firstUsable,
    lastUsableLba: h.lastUsable, header: which, warnings,
  };
}

/** Reads and checks the header at `lba` and its entry array; a string says what is wrong. */
function loadHeader(device: BlockDevice, lba: number, lastLba: number): { h: GptHeader; entries: Uint8Array } | string {
  const ss = device.sectorSize;
  const s = new Uint8Array(ss);
  device.read(lba * ss, s);
  const dv = new DataView(s.buffer);
  const sig = String.fromCharCode(...s.subarray(GPT_H_SIGNATURE, GPT_H_SIGNATURE + 8));
  if (sig !== GPT_SIGNATURE) return `no "EFI PART" signature at LBA ${lba}`;
  const hsize = dv.getUint32(GPT_H_HEADER_SIZE, true);
  if (hsize < GPT_HEADER_SIZE || hsize > ss) return `header size ${hsize} at LBA ${lba} is invalid`;
  const stored = dv.getUint32(GPT_H_HEADER_CRC, true);
  dv.setUint32(GPT_H_HEADER_CRC, 0, true);
  const actual = crc32(s, 0, hsize);
  if (stored !== actual) return `header CRC32 mismatch at LBA ${lba} (stored 0x${hex8(stored)}, computed 0x${hex8(actual)})`;
  const h: GptHeader = {
    myLba: u64(dv, GPT_H_MY_LBA),
    alternateLba: u64(dv, GPT_H_ALTERNATE_LBA),
    firstUsable: u64(dv, GPT_H_FIRST_USABLE),
    lastUsable: u64(dv, GPT_H_LAST_USABLE),
    diskGuid: guidToString(s, GPT_H_DISK_GUID),
    entriesLba: u64(dv, GPT_H_ENTRIES_LBA),
    entryCount: dv.getUint32(GPT_H_ENTRY_COUNT, true),
    entrySize: dv.getUint32(GPT_H_ENTRY_SIZE, true),
    entriesCrc: dv.getUint32(GPT_H_ENTRIES_CRC, true),
  };
  if (h.myLba !== lba) return `header at LBA ${lba} says it is at LBA ${h.myLba}`;
  if (h.entrySize < GPT_ENTRY_SIZE || (h.entrySize & (h.entrySize - 1)) !== 0) return `entry size ${h.entrySize} is invalid`;
  const arrayBytes = h.entryCount * h.entrySize;
  if (arrayBytes > GPT_MAX_ENTRY_ARRAY) return `entry array of ${h.entryCount} × ${h.entrySize} bytes is too large`;
  const arraySectors = Math.ceil(arrayBytes / ss);
  if (h.firstUsable > h.lastUsable || h.lastUsable > lastLba || h.firstUsable < 2) {
    return `usable range ${h.firstUsable}–${h.lastUsable} does not fit the disk (last LBA ${lastLba})`;
  }
  const arrEnd = h.entriesLba + arraySectors - 1;
  const insideUsable = h.entriesLba <= h.lastUsable && arrEnd >= h.firstUsable;
  if (h.entriesLba < 2 || arrEnd > lastLba || insideUsable || (h.entriesLba <= lba && arrEnd >= lba)) {
    return `entry array at LBA ${h.entriesLba}–${arrEnd} overlaps the header or the usable range`;
  }
  const entries = new Uint8Array(arraySectors * ss);
  device.read(h.entriesLba * ss, entries);
  const ecrc = crc32(entries, 0, arrayBytes);
  if (ecrc !== h.entriesCrc) return `entry array CRC32 mismatch (stored 0x${hex8(h.entriesCrc)}, computed 0x${hex8(ecrc)})`;
  return { h, entries: entries.subarray(0, arrayBytes) };
}

function u64(dv: DataView, o: number): number {
  const v = dv.getBigUint64(o, true);
  // LBAs beyond 2^53 cannot be on a disk a JS number can address; treat them as absurd.
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

// ---- writing --------------------------------------------------------------------------------

/** A partition for writeGpt. Positions and sizes are bytes, multiples of the sector size. */
export interface GptPartitionSpec {
  /** Type GUID or a name from GPT_TYPES; default 'linux'. */
  type?: string;
  /** The partition name (at most 36 UTF-16 code units). */
  name?: string;
  /** Unique GUID; default random. */
  guid?: string;
  /** First byte; default the next alignment boundary after the previous partition. */
  start?: number;
  /** Length; default the rest of the usable space (only for the last partition). */
  size?: number;
  /** The 64 attribute bits (bit 0 required, 2 legacy BIOS bootable, 48–63 type-specific). */
  attributes?: bigint;
}

export interface GptOptions {
  /** The disk GUID; default random. */
  diskGuid?: string;
  /** Entries in the array; default 128 (16 KiB, the minimum the spec allows). */
  entries?: number;
  /** Alignment of default starts in bytes; default 1 MiB, as sgdisk and sfdisk use. */
  alignment?: number;
  /** Randomness for GUIDs; default crypto.getRandomValues. */
  random?: (buf: Uint8Array) => void;
}

/**
 * Writes a new GPT for `parts` on `device` — protective MBR, primary header and array,
 * backup array and header — and returns it as readGpt sees it. Partitions are numbered in
 * order from 1. Errors: EINVAL (bad GUID or type name, a name too long, misaligned or
 * overlapping ranges, fewer than 128 entries), ENOSPC (the partitions do not fit), EROFS, EIO.
 */
export function writeGpt(device: BlockDevice, parts: GptPartitionSpec[], options: GptOptions = {}): PartitionTable {
  if (device.readOnly) throw E.EROFS;
  const ss = device.sectorSize;
  const diskSectors = Math.floor(device.size / ss);
  const entryCount = options.entries ?? GPT_DEFAULT_ENTRIES;
  if (!Number.isInteger(entryCount) || entryCount < GPT_DEFAULT_ENTRIES || entryCount * GPT_ENTRY_SIZE > GPT_MAX_ENTRY_ARRAY) {
    throw errno(EINVAL, `gpt: ${entryCount} entries (the array must hold 128 to ${GPT_MAX_ENTRY_ARRAY / GPT_ENTRY_SIZE})`);
  }
  if (parts.length > entryCount) throw errno(EINVAL, `gpt: ${parts.length} partitions do not fit ${entryCount} entries`);
  const arraySectors = Math.ceil((entryCount * GPT_ENTRY_SIZE) / ss);
  const lastLba = diskSectors - 1;
  const firstUsable = 2 + arraySectors;
  const lastUsable = lastLba - arraySectors - 1;
  if (lastUsable < firstUsable) throw errno(ENOSPC, `gpt: the disk (${device.size} bytes) is too small for a GPT`);
  const align = Math.max(1, Math.floor((options.alignment ?? MIB) / ss));
  const random = options.random ?? ((b: Uint8Array) => globalThis.crypto.getRandomValues(b as Uint8Array<ArrayBuffer>));
  const toSectors = (bytes: number, what: string): number => {
    if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes % ss !== 0) throw errno(EINVAL, `gpt: ${what} ${bytes} is not a multiple of the ${ss}-byte sector`);
    return bytes / ss;
  };

  const entries = new Uint8Array(arraySectors * ss);
  const edv = new DataView(entries.buffer);
  let cursor = firstUsable;
  parts.forEach((spec, i) => {
    const n = i + 1;
    const type = resolveType(spec.type ?? 'linux');
    const guid = spec.guid ?? randomGuid(random);
    if (!isGuid(guid)) throw errno(EINVAL, `gpt: partition ${n}: '${guid}' is not a GUID`);
    const first = spec.start !== undefined ? toSectors(spec.start, 'start') : Math.ceil(cursor / align) * align;
    if (first < cursor) throw errno(EINVAL, `gpt: partition ${n} starts at LBA ${first}, before LBA ${cursor}`);
    let last: number;
    if (spec.size !== undefined) last = first + toSectors(spec.size, 'size') - 1;
    else {
      if (i !== parts.length - 1) throw errno(EINVAL, 'gpt: only the last partition may take the rest of the disk');
      last = lastUsable;
    }
    if (last < first || last > lastUsable) throw errno(ENOSPC, `gpt: partition ${n} does not fit (usable LBA ${firstUsable}–${lastUsable})`);
    const name = spec.name ?? '';
    if (name.length > GPT_E_NAME_UNITS) throw errno(EINVAL, `gpt: partition ${n}: name longer than ${GPT_E_NAME_UNITS} UTF-16 units`);
    const o = i * GPT_ENTRY_SIZE;
    guidToBytes(type, entries, o + GPT_E_TYPE_GUID);
    guidToBytes(guid, entries, o + GPT_E_UNIQUE_GUID);
    edv.setBigUint64(o + GPT_E_FIRST_LBA, BigInt(first), true);
    edv.setBigUint64(o + GPT_E_LAST_LBA, BigInt(last), true);
    edv.setBigUint64(o + GPT_E_ATTRIBUTES, BigInt.asUintN(64, spec.attributes ?? 0n), true);
    for (let k = 0; k < name.length; k++) edv.setUint16(o + GPT_E_NAME + k * 2, name.charCodeAt(k), true);
    cursor = last + 1;
  });
  const diskGuid = options.diskGuid ?? randomGuid(random);
  if (!isGuid(diskGuid)) throw errno(EINVAL, `gpt: '${diskGuid}' is not a GUID`);
  const entriesCrc = crc32(entries, 0, entryCount * GPT_ENTRY_SIZE);
  const header = (my: number, alt: number, entriesLba: number): Uint8Array => {
    const s = new Uint8Array(ss);
    const dv = new DataView(s.buffer);
    s.set(new TextEncoder().encode(GPT_SIGNATURE), GPT_H_SIGNATURE);
    dv.setUint32(GPT_H_REVISION, GPT_REVISION, true);
    dv.setUint32(GPT_H_HEADER_SIZE, GPT_HEADER_SIZE, true);
    dv.setBigUint64(GPT_H_MY_LBA, BigInt(my), true);
    dv.setBigUint64(GPT_H_ALTERNATE_LBA, BigInt(alt), true);
    dv.setBigUint64(GPT_H_FIRST_USABLE, BigInt(firstUsable), true);
    dv.setBigUint64(GPT_H_LAST_USABLE, BigInt(lastUsable), true);
    guidToBytes(diskGuid, s, GPT_H_DISK_GUID);
    dv.setBigUint64(GPT_H_ENTRIES_LBA, BigInt(entriesLba), true);
    dv.setUint32(GPT_H_ENTRY_COUNT, entryCount, true);
    dv.setUint32(GPT_H_ENTRY_SIZE, GPT_ENTRY_SIZE, true);
    dv.setUint32(GPT_H_ENTRIES_CRC, entriesCrc, true);
    dv.setUint32(GPT_H_HEADER_CRC, crc32(s, 0, GPT_HEADER_SIZE), true);
    return s;
  };
  // Protective MBR (UEFI spec §5.2.3): one 0xEE record over the whole disk (capped at 2^32-1).
  const pmbr = new Uint8Array(ss);
  device.read(0, pmbr);
  pmbr.fill(0, MBR_DISK_SIGNATURE);
  if (pmbr[MBR_SIGNATURE] !== 0x55 || pmbr[MBR_SIGNATURE + 1] !== 0xaa) pmbr.fill(0);
  putRecord(pmbr, 0, false, MBR_TYPE_GPT_PROTECTIVE, 1, Math.min(diskSectors - 1, 0xffffffff));
  // The protective record's CHS start is fixed at 0/0/2 by the spec.
  pmbr.set([0x00, 0x02, 0x00], 446 + 1);
  pmbr[MBR_SIGNATURE] = 0x55;
  pmbr[MBR_SIGNATURE + 1] = 0xaa;
  // Backup first, primary last: an interrupted write leaves at worst a bad primary with a good backup.
  device.write((lastLba - arraySectors) * ss, entries);
  device.write(lastLba * ss, header(lastLba, 1, lastLba - arraySectors));
  device.write(2 * ss, entries);
  device.write(1 * ss, header(1, lastLba, 2));
  device.write(0, pmbr);
  device.flush();
  return readGpt(device);
}

function resolveType(t: string): string {
  const known = GPT_TYPES[t.toLowerCase()];
  if (known !== undefined) return known;
  if (!isGuid(t)) throw errno(EINVAL, `gpt: unknown partition type '${t}' (a GUID or one of ${Object.keys(GPT_TYPES).join(', ')})`);
  return t.toUpperCase();
}
