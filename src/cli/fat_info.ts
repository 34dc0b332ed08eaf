// What `tkl info` tells about a FAT volume beyond usage, read from its boot sector, FSInfo
// sector and FAT (FAT spec §3, §4, §5) as `fsck.fat -v` and `minfo` show them. Read-only: the
// raw device is read, never written; a field that is absent or invalid is reported as null.

import type { BlockDevice } from '../block/block_device.js';
import { parseBootSector } from '../fs/fat/boot_sector.js';
import {
  BS_OEM_NAME, FAT_STATE_DIRTY, FSI_FREE_COUNT, FSI_LEAD_SIG, FSI_LEAD_SIG_VALUE, FSI_NXT_FREE, FSI_STRUC_SIG,
  FSI_STRUC_SIG_VALUE, FSI_UNKNOWN,
} from '../fs/fat/layout.js';

export interface FatInfo {
  fatType: 12 | 16 | 32;
  oemName: string;
  bytesPerSector: number;
  sectorsPerCluster: number;
  clusterSize: number;
  reservedSectors: number;
  fatCount: number;
  sectorsPerFat: number;
  /** FAT12/16: entries of the fixed root directory; FAT32: null (the root is a chain). */
  rootEntries: number | null;
  /** FAT32: the root directory's first cluster. */
  rootCluster: number | null;
  totalSectors: number;
  dataClusters: number;
  media: string;
  hiddenSectors: number;
  /** FAT32: the FSInfo sector's free-cluster count and next-free hint (null: unknown or no FSInfo). */
  fsinfoFreeClusters: number | null;
  fsinfoNextFree: number | null;
  /** Linux's dirty bit in the boot sector's state byte: set while mounted read-write, or after a crash. */
  dirty: boolean;
  /** FAT16/32: the "clean shutdown" bit of FAT entry 1 (FAT spec §4.2); null on FAT12. */
  fatCleanShutdown: boolean | null;
  volumeId: string | null;
}

/** Reads the FAT details of the volume on `dev`. Errors: the Errno of parseBootSector (EINVAL, EUCLEAN) or of the device (EIO). */
export function fatInfo(dev: BlockDevice): FatInfo {
  const bs = new Uint8Array(512);
  dev.read(0, bs);
  const g = parseBootSector(bs, dev.size);
  const sector = new Uint8Array(g.bytesPerSector);
  let freeCount: number | null = null;
  let nextFree: number | null = null;
  if (g.type === 32 && g.fsInfoSector > 0 && g.fsInfoSector < g.reservedSectors) {
    dev.read(g.fsInfoSector * g.bytesPerSector, sector);
    const dv = new DataView(sector.buffer);
    if (dv.getUint32(FSI_LEAD_SIG, true) === FSI_LEAD_SIG_VALUE && dv.getUint32(FSI_STRUC_SIG, true) === FSI_STRUC_SIG_VALUE) {
      const f = dv.getUint32(FSI_FREE_COUNT, true);
      const n = dv.getUint32(FSI_NXT_FREE, true);
      freeCount = f === FSI_UNKNOWN || f > g.clusterCount ? null : f;
      nextFree = n === FSI_UNKNOWN ? null : n;
    }
  }
  // FAT entry 1 of the first FAT: bit 15 (FAT16) or bit 27 (FAT32) set means "clean".
  let clean: boolean | null = null;
  if (g.type !== 12) {
    dev.read(g.reservedSectors * g.bytesPerSector, sector);
    const dv = new DataView(sector.buffer);
    clean = g.type === 16 ? (dv.getUint16(2, true) & 0x8000) !== 0 : (dv.getUint32(4, true) & 0x08000000) !== 0;
  }
  return {
    fatType: g.type,
    oemName: new TextDecoder('latin1').decode(bs.subarray(BS_OEM_NAME, BS_OEM_NAME + 8)).replace(/[\0 ]+$/, ''),
    bytesPerSector: g.bytesPerSector,
    sectorsPerCluster: g.sectorsPerCluster,
    clusterSize: g.clusterSize,
    reservedSectors: g.reservedSectors,
    fatCount: g.numFats,
    sectorsPerFat: g.fatSectors,
    rootEntries: g.type === 32 ? null : g.rootEntries,
    rootCluster: g.type === 32 ? g.rootCluster : null,
    totalSectors: g.totalSectors,
    dataClusters: g.clusterCount,
    media: `0x${g.media.toString(16).padStart(2, '0')}`,
    hiddenSectors: g.hiddenSectors,
    fsinfoFreeClusters: freeCount,
    fsinfoNextFree: nextFree,
    dirty: (bs[g.stateOffset]! & FAT_STATE_DIRTY) !== 0,
    fatCleanShutdown: clean,
    volumeId: g.volumeId === null ? null : `0x${g.volumeId.toString(16).padStart(8, '0')}`,
  };
}
