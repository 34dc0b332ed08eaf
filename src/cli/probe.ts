// What filesystem a device holds, and its label: enough of each on-disk format to choose a
// driver and to find a partition by label. The drivers themselves validate everything.

import type { BlockDevice } from '../block/block_device.js';

export interface Probe {
  /** The kernel's filesystem type name to mount with. */
  type: 'ext4' | 'vfat';
  /** A friendlier name for messages: ext2, ext3, ext4, FAT12, FAT16, FAT32. */
  variant: string;
  label: string;
  uuid: string;
}

function readAt(dev: BlockDevice, off: number, len: number): Uint8Array | null {
  if (off + len > dev.size) return null;
  const b = new Uint8Array(len);
  dev.read(off, b);
  return b;
}

const ascii = (b: Uint8Array): string => new TextDecoder('latin1').decode(b).replace(/[\0 ]+$/, '');

/** The filesystem on `dev`, or null when it is none tkl knows. */
export function probe(dev: BlockDevice): Probe | null {
  const sb = readAt(dev, 1024, 1024);
  if (sb !== null && sb[56] === 0x53 && sb[57] === 0xef) {
    const v = new DataView(sb.buffer);
    const compat = v.getUint32(92, true);
    const incompat = v.getUint32(96, true);
    const hasJournal = (compat & 0x4) !== 0;
    const ext4ish = (incompat & (0x40 /* extents */ | 0x80 /* 64bit */ | 0x200 /* flex_bg */)) !== 0;
    const uuid = [...sb.subarray(104, 120)].map((x) => x.toString(16).padStart(2, '0')).join('');
    return {
      type: 'ext4',
      variant: ext4ish ? 'ext4' : hasJournal ? 'ext3' : 'ext2',
      label: new TextDecoder().decode(sb.subarray(120, 136)).replace(/\0+$/, ''),
      uuid: `${uuid.slice(0, 8)}-${uuid.slice(8, 12)}-${uuid.slice(12, 16)}-${uuid.slice(16, 20)}-${uuid.slice(20)}`,
    };
  }
  const bs = readAt(dev, 0, 512);
  if (bs !== null && bs[510] === 0x55 && bs[511] === 0xaa) {
    const v = new DataView(bs.buffer);
    const bps = v.getUint16(11, true);
    const spc = bs[13]!;
    const reserved = v.getUint16(14, true);
    const fats = bs[16]!;
    const okBps = bps === 512 || bps === 1024 || bps === 2048 || bps === 4096;
    const okSpc = spc > 0 && (spc & (spc - 1)) === 0;
    if (okBps && okSpc && reserved > 0 && fats > 0) {
      const rootEntries = v.getUint16(17, true);
      const total = v.getUint16(19, true) || v.getUint32(32, true);
      const fatSize = v.getUint16(22, true) || v.getUint32(36, true);
      const rootSectors = Math.ceil((rootEntries * 32) / bps);
      const clusters = Math.floor((total - reserved - fats * fatSize - rootSectors) / spc);
      const variant = clusters < 4085 ? 'FAT12' : clusters < 65525 ? 'FAT16' : 'FAT32';
      const ext = variant === 'FAT32' ? 64 : 36; // extended BPB: serial at +3, label at +7
      const serial = v.getUint32(ext + 3, true).toString(16).toUpperCase().padStart(8, '0');
      return {
        type: 'vfat',
        variant,
        label: bs[ext + 2] === 0x29 ? ascii(bs.subarray(ext + 7, ext + 18)) : '',
        uuid: `${serial.slice(0, 4)}-${serial.slice(4)}`,
      };
    }
  }
  return null;
}
