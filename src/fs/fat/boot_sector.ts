// The FAT boot sector: parsing and checking the BPB into a Geometry (where the FATs, the
// root directory and the data area lie, and which FAT type the cluster count makes it,
// FAT spec §3.5), and the state byte Linux keeps its dirty bit in.

import {
  BOOT_SIGNATURE_OFFSET, BPB32_BK_BOOT_SEC, BPB32_FAT_SZ32, BPB32_FS_INFO, BPB32_ROOT_CLUS, BPB_BYTS_PER_SEC,
  BPB_FAT_SZ16, BPB_HIDD_SEC, BPB_MEDIA, BPB_NUM_FATS, BPB_ROOT_ENT_CNT, BPB_RSVD_SEC_CNT, BPB_SEC_PER_CLUS,
  BPB_TOT_SEC16, BPB_TOT_SEC32, BS16_BOOT_SIG, BS16_STATE, BS16_VOL_ID, BS16_VOL_LAB, BS32_BOOT_SIG, BS32_STATE,
  BS32_VOL_ID, BS32_VOL_LAB, DIR_ENTRY_SIZE, EXT_BOOT_SIG, FAT12_MAX_CLUSTERS, FAT16_MAX_CLUSTERS, FAT32_MAX_CLUSTERS,
  FIRST_CLUSTER, BPB32_EXT_FLAGS,
} from './layout.js';
import { errno } from '../../kernel/errno.js';
import { EINVAL, EUCLEAN } from '../../abi/linux/errno.js';

export type FatType = 12 | 16 | 32;

/** Where everything is, in sectors from the start of the volume. */
export interface Geometry {
  type: FatType;
  bytesPerSector: number;
  sectorsPerCluster: number;
  clusterSize: number;
  reservedSectors: number;
  numFats: number;
  fatSectors: number;
  /** FAT12/16: the fixed root directory's first sector and length; 0 on FAT32. */
  rootDirSector: number;
  rootDirSectors: number;
  rootEntries: number;
  /** First sector of cluster 2. */
  dataStart: number;
  totalSectors: number;
  /** Data clusters: valid cluster numbers are 2 … clusterCount + 1. */
  clusterCount: number;
  /** FAT32: the root directory's first cluster, the FSInfo and backup boot sectors. */
  rootCluster: number;
  fsInfoSector: number;
  backupBootSector: number;
  /** FAT32 BPB_ExtFlags bit 7: only one FAT is active (mirroring off). */
  mirroringOff: boolean;
  media: number;
  hiddenSectors: number;
  /** Volume serial number and the label in the BPB (trailing spaces removed), when present. */
  volumeId: number | null;
  bpbLabel: string | null;
  /** Byte offset of the state (dirty bit) byte. */
  stateOffset: number;
}

const isPow2 = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

/**
 * Parses and checks the boot sector of a volume of `deviceBytes`. Errors: EINVAL when this
 * is not a FAT boot sector at all (the "wrong fs type" case of mount), EUCLEAN when it is
 * one but inconsistent (naming the field).
 */
export function parseBootSector(bs: Uint8Array, deviceBytes: number): Geometry {
  const dv = new DataView(bs.buffer, bs.byteOffset, bs.byteLength);
  const bps = dv.getUint16(BPB_BYTS_PER_SEC, true);
  const spc = bs[BPB_SEC_PER_CLUS]!;
  const rsvd = dv.getUint16(BPB_RSVD_SEC_CNT, true);
  const nfats = bs[BPB_NUM_FATS]!;
  const media = bs[BPB_MEDIA]!;
  // Linux's fat_read_bpb: these decide whether this is FAT at all.
  if (bs[BOOT_SIGNATURE_OFFSET] !== 0x55 || bs[BOOT_SIGNATURE_OFFSET + 1] !== 0xaa) {
    if (!(bs[0] === 0xeb || bs[0] === 0xe9)) throw errno(EINVAL, 'vfat: no FAT boot sector (no 0x55AA signature)');
  }
  if (!isPow2(bps) || bps < 512 || bps > 4096) throw errno(EINVAL, `vfat: bogus logical sector size ${bps}`);
  if (!isPow2(spc) || spc > 128) throw errno(EINVAL, `vfat: bogus sectors per cluster ${spc}`);
  if (rsvd === 0) throw errno(EINVAL, 'vfat: bogus number of reserved sectors');
  if (nfats === 0) throw errno(EINVAL, 'vfat: bogus number of FAT structures');
  if (!(media === 0xf0 || media >= 0xf8)) throw errno(EINVAL, `vfat: invalid media value 0x${media.toString(16)}`);
  const rootEntries = dv.getUint16(BPB_ROOT_ENT_CNT, true);
  const fatSz16 = dv.getUint16(BPB_FAT_SZ16, true);
  const fatSectors = fatSz16 !== 0 ? fatSz16 : dv.getUint32(BPB32_FAT_SZ32, true);
  const tot16 = dv.getUint16(BPB_TOT_SEC16, true);
  const totalSectors = tot16 !== 0 ? tot16 : dv.getUint32(BPB_TOT_SEC32, true);
  if (fatSectors === 0) throw errno(EUCLEAN, 'vfat: the FAT size is 0');
  if (totalSectors === 0) throw errno(EUCLEAN, 'vfat: the volume size is 0');
  if ((rootEntries * DIR_ENTRY_SIZE) % bps !== 0) throw errno(EUCLEAN, `vfat: root entry count ${rootEntries} does not fill whole sectors`);
  const rootDirSectors = (rootEntries * DIR_ENTRY_SIZE) / bps;
  const rootDirSector = rsvd + nfats * fatSectors;
  const dataStart = rootDirSector + rootDirSectors;
  if (dataStart >= totalSectors) throw errno(EUCLEAN, `vfat: no data area (data starts at sector ${dataStart} of ${totalSectors})`);
  if (totalSectors * bps > deviceBytes) {
    throw errno(EUCLEAN, `vfat: the filesystem (${totalSectors} sectors of ${bps}) is larger than the device (${deviceBytes} bytes)`);
  }
  const clusterCount = Math.floor((totalSectors - dataStart) / spc);
  const type: FatType = fatSz16 === 0 ? 32 : clusterCount <= FAT12_MAX_CLUSTERS ? 12 : 16;
  if (type === 32 && clusterCount > FAT32_MAX_CLUSTERS) throw errno(EUCLEAN, `vfat: ${clusterCount} clusters is too many for FAT32`);
  if (type !== 32 && clusterCount > FAT16_MAX_CLUSTERS) throw errno(EUCLEAN, `vfat: ${clusterCount} clusters is too many for FAT16`);
  // The FAT must map every cluster (fat_fill_super's "bogus number of FAT sectors").
  const entryBits = type === 12 ? 12 : type === 16 ? 16 : 32;
  if (Math.ceil(((clusterCount + 2) * entryBits) / 8) > fatSectors * bps) {
    throw errno(EUCLEAN, `vfat: the FAT (${fatSectors} sectors) is too small for ${clusterCount} clusters`);
  }
  let rootCluster = 0;
  let fsInfoSector = 0;
  let backupBootSector = 0;
  let mirroringOff = false;
  if (type === 32) {
    if (rootEntries !== 0) throw errno(EUCLEAN, 'vfat: FAT32 with a fixed root directory');
    rootCluster = dv.getUint32(BPB32_ROOT_CLUS, true) & 0x0fffffff;
    if (rootCluster < FIRST_CLUSTER || rootCluster >= clusterCount + FIRST_CLUSTER) throw errno(EUCLEAN, `vfat: root cluster ${rootCluster} is invalid`);
    fsInfoSector = dv.getUint16(BPB32_FS_INFO, true);
    backupBootSector = dv.getUint16(BPB32_BK_BOOT_SEC, true);
    mirroringOff = (dv.getUint16(BPB32_EXT_FLAGS, true) & 0x80) !== 0;
  } else if (rootEntries === 0) throw errno(EUCLEAN, 'vfat: FAT12/16 without root directory entries');
  const sigOff = type === 32 ? BS32_BOOT_SIG : BS16_BOOT_SIG;
  const extended = bs[sigOff] === EXT_BOOT_SIG;
  const idOff = type === 32 ? BS32_VOL_ID : BS16_VOL_ID;
  const labOff = type === 32 ? BS32_VOL_LAB : BS16_VOL_LAB;
  return {
    type, bytesPerSector: bps, sectorsPerCluster: spc, clusterSize: bps * spc, reservedSectors: rsvd, numFats: nfats,
    fatSectors, rootDirSector: type === 32 ? 0 : rootDirSector, rootDirSectors, rootEntries, dataStart, totalSectors,
    clusterCount, rootCluster, fsInfoSector, backupBootSector, mirroringOff, media,
    hiddenSectors: dv.getUint32(BPB_HIDD_SEC, true),
    volumeId: extended ? dv.getUint32(idOff, true) : null,
    bpbLabel: extended ? String.fromCharCode(...bs.subarray(labOff, labOff + 11)).replace(/ +$/, '') : null,
    stateOffset: type === 32 ? BS32_STATE : BS16_STATE,
  };
}
