// mkfs for FAT12/16/32: lays out a new volume on a block device, choosing the FAT type and
// cluster size from the volume's size as mkfs.fat (dosfstools 4.2) does: FAT32 from 512 MiB
// with 4 KiB clusters up to 8 GiB (8/16/32 KiB beyond); below that 2 KiB clusters, FAT12
// while the clusters fit 12 bits, else FAT16, doubling the cluster size until they fit.
// The data area starts on a cluster boundary (mkfs.fat's default alignment).

import type { BlockDevice } from '../../block/block_device.js';
import { PartitionDevice } from '../../block/partition.js';
import { E, errno } from '../../kernel/errno.js';
import { EINVAL } from '../../abi/linux/errno.js';
import type { FatType } from './boot_sector.js';
import {
  ATTR_VOLUME_ID, BOOT_SIGNATURE_OFFSET, BPB32_BK_BOOT_SEC, BPB32_FAT_SZ32, BPB32_FS_INFO, BPB32_ROOT_CLUS,
  BPB_BYTS_PER_SEC, BPB_FAT_SZ16, BPB_HIDD_SEC, BPB_MEDIA, BPB_NUM_FATS, BPB_NUM_HEADS, BPB_ROOT_ENT_CNT,
  BPB_RSVD_SEC_CNT, BPB_SEC_PER_CLUS, BPB_SEC_PER_TRK, BPB_TOT_SEC16, BPB_TOT_SEC32, BS16_BOOT_SIG, BS16_DRV_NUM,
  BS16_FIL_SYS_TYPE, BS16_VOL_ID, BS16_VOL_LAB, BS32_BOOT_SIG, BS32_DRV_NUM, BS32_FIL_SYS_TYPE, BS32_VOL_ID,
  BS32_VOL_LAB, BS_OEM_NAME, DIR_ATTR, DIR_ENTRY_SIZE, DIR_WRT_DATE, DIR_WRT_TIME, EXT_BOOT_SIG, FAT12_MAX_CLUSTERS,
  FAT16_MAX_CLUSTERS, FSI_FREE_COUNT, FSI_LEAD_SIG, FSI_LEAD_SIG_VALUE, FSI_NXT_FREE, FSI_STRUC_SIG,
  FSI_STRUC_SIG_VALUE, FSI_TRAIL_SIG, FSI_TRAIL_SIG_VALUE, FAT32_MAX_CLUSTERS,
} from './layout.js';
import { timespecToDos } from './dos_time.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

export interface MkfsFatOptions {
  /** 12, 16 or 32; default by size as mkfs.fat chooses. */
  type?: FatType;
  /** Bytes per cluster (a power of two, sector size to 64 KiB); default by size. */
  clusterSize?: number;
  /** Volume label, up to 11 characters; default none ("NO NAME"). */
  label?: string;
  /** Volume serial number; default random. */
  volumeId?: number;
  /** Number of FATs; default 2. */
  numFats?: number;
  /** Root directory entries on FAT12/16; default 512. */
  rootEntries?: number;
  /** BPB_HiddSec: sectors before the volume; default the partition's start for a partition. */
  hiddenSectors?: number;
  /** Time stamped on the label entry; default now. */
  now?: Date;
}

/** What mkfsFat made. */
export interface FatLayout {
  type: FatType;
  clusterSize: number;
  clusters: number;
  reservedSectors: number;
  fatSectors: number;
  rootEntries: number;
  totalSectors: number;
  volumeId: number;
}

interface Plan {
  type: FatType;
  spc: number;
  rsvd: number;
  fatSectors: number;
  rootEntries: number;
  clusters: number;
}

/** Sectors per FAT and clusters for a layout, with the data area aligned to the cluster size. */
function plan(type: FatType, spc: number, total: number, bps: number, nfats: number, rootEntries: number): Plan {
  const rootSecs = Math.ceil((rootEntries * DIR_ENTRY_SIZE) / bps);
  let rsvd = type === 32 ? 32 : 1;
  let fatSectors = 1;
  let clusters = 0;
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < 64; i++) {
      const data = total - rsvd - nfats * fatSectors - rootSecs;
      clusters = Math.max(0, Math.floor(data / spc));
      const bits = type === 12 ? 12 : type === 16 ? 16 : 32;
      const need = Math.max(1, Math.ceil(((clusters + 2) * bits) / 8 / bps));
      if (need <= fatSectors) break;
      fatSectors = need;
    }
    const dataStart = rsvd + nfats * fatSectors + rootSecs;
    rsvd += (spc - (dataStart % spc)) % spc;
  }
  clusters = Math.max(0, Math.floor((total - rsvd - nfats * fatSectors - rootSecs) / spc));
  return { type, spc, rsvd, fatSectors, rootEntries, clusters };
}

const fits = (p: Plan): boolean =>
  p.type === 12 ? p.clusters >= 1 && p.clusters <= FAT12_MAX_CLUSTERS
    : p.type === 16 ? p.clusters > FAT12_MAX_CLUSTERS && p.clusters <= FAT16_MAX_CLUSTERS
    : p.clusters >= 1 && p.clusters <= FAT32_MAX_CLUSTERS;

/** mkfs.fat's FAT32 cluster size by volume size (after Microsoft's table for format). */
function fat32SectorsPerCluster(bytes: number, bps: number): number {
  const c = bytes <= 260 * MIB ? 512 : bytes <= 8 * GIB ? 4096 : bytes <= 16 * GIB ? 8192 : bytes <= 32 * GIB ? 16384 : 32768;
  return Math.max(1, c / bps);
}

/**
 * Makes a new FAT volume on `device`. Errors: EINVAL (a type or cluster size the volume
 * cannot take, a bad label), EROFS, EIO.
 */
export function mkfsFat(device: BlockDevice, options: MkfsFatOptions = {}): FatLayout {
  if (device.readOnly) throw E.EROFS;
  const bps = Math.max(512, device.sectorSize);
  const total = Math.min(Math.floor(device.size / bps), 0xffffffff);
  const nfats = options.numFats ?? 2;
  if (!Number.isInteger(nfats) || nfats < 1 || nfats > 4) throw errno(EINVAL, `mkfs.vfat: ${nfats} FATs`);
  const label = options.label ?? '';
  if (label.length > 11 || !/^[\x20-\x7e]*$/.test(label) || /["*+,./:;<=>?[\\\]|]/.test(label)) {
    throw errno(EINVAL, `mkfs.vfat: bad volume label '${label}' (up to 11 printable ASCII characters, none of "*+,./:;<=>?[\\]|)`);
  }
  let spcFixed: number | null = null;
  if (options.clusterSize !== undefined) {
    const c = options.clusterSize;
    if (!(c >= bps && c <= 65536 && (c & (c - 1)) === 0)) throw errno(EINVAL, `mkfs.vfat: bad cluster size ${c}`);
    spcFixed = c / bps;
  }
  const rootEntriesFor = (t: FatType): number => (t === 32 ? 0 : options.rootEntries ?? 512);
  let p: Plan | null = null;
  const tryType = (t: FatType, startSpc: number): Plan | null => {
    for (let spc = startSpc; spc <= 128; spc *= 2) {
      const q = plan(t, spc, total, bps, nfats, rootEntriesFor(t));
      if (fits(q)) return q;
      if (spcFixed !== null || (t !== 32 && q.clusters < FAT12_MAX_CLUSTERS && t === 16)) break;
    }
    return null;
  };
  if (options.type !== undefined) {
    if (![12, 16, 32].includes(options.type)) throw errno(EINVAL, `mkfs.vfat: FAT type ${options.type}`);
    p = tryType(options.type, spcFixed ?? (options.type === 32 ? fat32SectorsPerCluster(total * bps, bps) : Math.max(1, 2048 / bps)));
  } else if (total * bps >= 512 * MIB) {
    p = tryType(32, spcFixed ?? fat32SectorsPerCluster(total * bps, bps));
  } else {
    for (let spc = spcFixed ?? Math.max(1, 2048 / bps); spc <= 128 && p === null; spc *= 2) {
      const q12 = plan(12, spc, total, bps, nfats, rootEntriesFor(12));
      const q16 = plan(16, spc, total, bps, nfats, rootEntriesFor(16));
      p = fits(q12) ? q12 : fits(q16) ? q16 : null;
      if (spcFixed !== null) break;
    }
  }
  if (p === null) {
    throw errno(EINVAL, `mkfs.vfat: a ${options.type !== undefined ? `FAT${options.type} ` : 'FAT '}volume of ${total} sectors is not possible${spcFixed !== null ? ` with ${spcFixed * bps}-byte clusters` : ''}`);
  }
  const volumeId = (options.volumeId ?? globalThis.crypto.getRandomValues(new Uint32Array(1))[0]!) >>> 0;
  const hidden = options.hiddenSectors ?? (device instanceof PartitionDevice ? Math.floor(device.start / 512) : 0);
  writeVolume(device, p, bps, total, nfats, label, volumeId, hidden, options.now ?? new Date());
  return {
    type: p.type, clusterSize: p.spc * bps, clusters: p.clusters, reservedSectors: p.rsvd, fatSectors: p.fatSectors,
    rootEntries: p.rootEntries, totalSectors: total, volumeId,
  };
}

function writeVolume(device: BlockDevice, p: Plan, bps: number, total: number, nfats: number, label: string, volumeId: number, hidden: number, now: Date): void {
  const rootSecs = Math.ceil((p.rootEntries * DIR_ENTRY_SIZE) / bps);
  const dataStart = p.rsvd + nfats * p.fatSectors + rootSecs;
  // Zero everything up to the data area, and FAT32's root cluster; the rest stays as it was (sparse).
  const zeroEnd = (dataStart + (p.type === 32 ? p.spc : 0)) * bps;
  const zeros = new Uint8Array(Math.min(MIB, zeroEnd));
  for (let at = 0; at < zeroEnd; at += zeros.length) device.write(at, zeros.subarray(0, Math.min(zeros.length, zeroEnd - at)));

  const bs = new Uint8Array(bps);
  const dv = new DataView(bs.buffer);
  // A jump over the BPB to a loop that halts: this volume is not bootable.
  const bootAt = p.type === 32 ? 0x5a : 0x3e;
  bs.set([0xeb, bootAt - 2, 0x90], 0);
  bs.set([0xfa, 0xf4, 0xeb, 0xfd], bootAt);
  bs.set(ascii('MSWIN4.1', 8), BS_OEM_NAME);
  dv.setUint16(BPB_BYTS_PER_SEC, bps, true);
  bs[BPB_SEC_PER_CLUS] = p.spc;
  dv.setUint16(BPB_RSVD_SEC_CNT, p.rsvd, true);
  bs[BPB_NUM_FATS] = nfats;
  dv.setUint16(BPB_ROOT_ENT_CNT, p.rootEntries, true);
  if (total < 0x10000 && p.type !== 32) dv.setUint16(BPB_TOT_SEC16, total, true);
  else dv.setUint32(BPB_TOT_SEC32, total, true);
  bs[BPB_MEDIA] = 0xf8;
  dv.setUint16(BPB_SEC_PER_TRK, 63, true);
  dv.setUint16(BPB_NUM_HEADS, 255, true);
  dv.setUint32(BPB_HIDD_SEC, hidden, true);
  const lab = ascii(label === '' ? 'NO NAME' : label, 11);
  if (p.type === 32) {
    dv.setUint32(BPB32_FAT_SZ32, p.fatSectors, true);
    dv.setUint32(BPB32_ROOT_CLUS, 2, true);
    dv.setUint16(BPB32_FS_INFO, 1, true);
    dv.setUint16(BPB32_BK_BOOT_SEC, 6, true);
    bs[BS32_DRV_NUM] = 0x80;
    bs[BS32_BOOT_SIG] = EXT_BOOT_SIG;
    dv.setUint32(BS32_VOL_ID, volumeId, true);
    bs.set(lab, BS32_VOL_LAB);
    bs.set(ascii('FAT32', 8), BS32_FIL_SYS_TYPE);
  } else {
    dv.setUint16(BPB_FAT_SZ16, p.fatSectors, true);
    bs[BS16_DRV_NUM] = 0x80;
    bs[BS16_BOOT_SIG] = EXT_BOOT_SIG;
    dv.setUint32(BS16_VOL_ID, volumeId, true);
    bs.set(lab, BS16_VOL_LAB);
    bs.set(ascii(p.type === 12 ? 'FAT12' : 'FAT16', 8), BS16_FIL_SYS_TYPE);
  }
  bs[BOOT_SIGNATURE_OFFSET] = 0x55;
  bs[BOOT_SIGNATURE_OFFSET + 1] = 0xaa;
  device.write(0, bs);

  if (p.type === 32) {
    // FSInfo (FAT spec §5) at sector 1, the backup boot sector at 6 and its FSInfo at 7.
    const fsi = new Uint8Array(bps);
    const fdv = new DataView(fsi.buffer);
    fdv.setUint32(FSI_LEAD_SIG, FSI_LEAD_SIG_VALUE, true);
    fdv.setUint32(FSI_STRUC_SIG, FSI_STRUC_SIG_VALUE, true);
    fdv.setUint32(FSI_FREE_COUNT, p.clusters - 1, true);
    fdv.setUint32(FSI_NXT_FREE, 3, true);
    fdv.setUint32(FSI_TRAIL_SIG, FSI_TRAIL_SIG_VALUE, true);
    device.write(1 * bps, fsi);
    device.write(6 * bps, bs);
    device.write(7 * bps, fsi);
  }

  // FAT[0] holds the media byte, FAT[1] end-of-chain; on FAT32 FAT[2] ends the root's chain.
  const fat0 = new Uint8Array(bps);
  const f = new DataView(fat0.buffer);
  if (p.type === 32) {
    f.setUint32(0, 0x0fffff00 | 0xf8, true);
    f.setUint32(4, 0x0fffffff, true);
    f.setUint32(8, 0x0fffffff, true);
  } else if (p.type === 16) {
    f.setUint16(0, 0xfff8, true);
    f.setUint16(2, 0xffff, true);
  } else fat0.set([0xf8, 0xff, 0xff], 0);
  for (let k = 0; k < nfats; k++) device.write((p.rsvd + k * p.fatSectors) * bps, fat0);

  if (label !== '') {
    const e = new Uint8Array(DIR_ENTRY_SIZE);
    e.set(lab, 0);
    e[DIR_ATTR] = ATTR_VOLUME_ID;
    const [d, t] = timespecToDos({ sec: Math.floor(now.getTime() / 1000), nsec: 0 });
    new DataView(e.buffer).setUint16(DIR_WRT_TIME, t, true);
    new DataView(e.buffer).setUint16(DIR_WRT_DATE, d, true);
    device.write((p.rsvd + nfats * p.fatSectors) * bps, e);
  }
  device.flush();
}

function ascii(s: string, len: number): Uint8Array {
  const b = new Uint8Array(len).fill(0x20);
  for (let i = 0; i < s.length && i < len; i++) b[i] = s.charCodeAt(i);
  return b;
}
