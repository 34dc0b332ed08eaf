// Names for common partition types, as fdisk and sgdisk print them.

const MBR: Record<string, string> = {
  '01': 'FAT12', '04': 'FAT16 <32M', '05': 'Extended', '06': 'FAT16', '07': 'HPFS/NTFS/exFAT', '0b': 'W95 FAT32',
  '0c': 'W95 FAT32 (LBA)', '0e': 'W95 FAT16 (LBA)', '0f': 'W95 Ext\'d (LBA)', '82': 'Linux swap', '83': 'Linux',
  '85': 'Linux extended', '8e': 'Linux LVM', ee: 'GPT', ef: 'EFI (FAT-12/16/32)', fd: 'Linux raid autodetect',
};

const GPT: Record<string, string> = {
  'C12A7328-F81F-11D2-BA4B-00A0C93EC93B': 'EFI System',
  '0FC63DAF-8483-4772-8E79-3D69D8477DE4': 'Linux filesystem',
  'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7': 'Microsoft basic data',
  '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F': 'Linux swap',
  '21686148-6449-6E6F-744E-656564454649': 'BIOS boot',
  '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709': 'Linux root (x86-64)',
  'E6D6D379-F507-44C2-A23C-238F2A3DF928': 'Linux LVM',
};

export function partitionTypeName(label: 'dos' | 'gpt', type: string): string {
  return (label === 'dos' ? MBR[type.toLowerCase()] : GPT[type.toUpperCase()]) ?? type;
}

/** Type codes for mkimage: the type to give a partition holding `fs`. */
export function partitionTypeFor(label: 'dos' | 'gpt', fs: string, size: number): string {
  const fat = fs === 'vfat' || fs === 'fat' || fs === 'fat32' || fs === 'fat16' || fs === 'fat12';
  if (label === 'gpt') return fat ? 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7' : '0FC63DAF-8483-4772-8E79-3D69D8477DE4';
  if (!fat) return '83';
  return size >= 512 * 2 ** 20 ? '0c' : '0e';
}

export const EFI_SYSTEM_GUID = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
