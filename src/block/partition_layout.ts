// On-disk layout of partition tables, in one place: the MBR and its extended boot records
// (the "DOS" table, as fdisk calls it), and GPT (UEFI spec 2.10 §5.2–5.3). Offsets are in
// bytes from the start of the sector holding the structure; all fields are little-endian.

// ---- MBR / EBR (UEFI spec §5.2.1, Table 5-1 and 5-2) ----------------------------------------

/** The 32-bit disk signature (what `sfdisk --json` shows as "id"). */
export const MBR_DISK_SIGNATURE = 440;
/** The four 16-byte partition records. */
export const MBR_PARTITION_TABLE = 446;
export const MBR_ENTRY_SIZE = 16;
export const MBR_ENTRIES = 4;
/** 0x55 0xAA at 510 marks a valid MBR, EBR or boot sector. */
export const MBR_SIGNATURE = 510;

// Fields of one partition record.
export const MBR_E_STATUS = 0; // 0x80 bootable, 0x00 not; anything else is invalid
export const MBR_E_CHS_FIRST = 1; // 3 bytes
export const MBR_E_TYPE = 4;
export const MBR_E_CHS_LAST = 5; // 3 bytes
export const MBR_E_LBA_FIRST = 8; // 4 bytes
export const MBR_E_SECTORS = 12; // 4 bytes

export const MBR_STATUS_BOOTABLE = 0x80;
/** The type of GPT's protective MBR partition (UEFI spec §5.2.3). */
export const MBR_TYPE_GPT_PROTECTIVE = 0xee;
/** Extended partition types: DOS (CHS), Win95 (LBA) and Linux extended. */
export const MBR_EXTENDED_TYPES: ReadonlySet<number> = new Set([0x05, 0x0f, 0x85]);

// ---- GPT header (UEFI spec §5.3.2, Table 5-5) -------------------------------------------------

/** "EFI PART" */
export const GPT_SIGNATURE = 'EFI PART';
export const GPT_REVISION = 0x00010000;
/** The size of the header fields defined by the specification. */
export const GPT_HEADER_SIZE = 92;
export const GPT_H_SIGNATURE = 0; // 8 bytes
export const GPT_H_REVISION = 8;
export const GPT_H_HEADER_SIZE = 12;
export const GPT_H_HEADER_CRC = 16; // CRC32 of the first HeaderSize bytes, this field zero
export const GPT_H_RESERVED = 20;
export const GPT_H_MY_LBA = 24; // 8 bytes
export const GPT_H_ALTERNATE_LBA = 32;
export const GPT_H_FIRST_USABLE = 40;
export const GPT_H_LAST_USABLE = 48;
export const GPT_H_DISK_GUID = 56; // 16 bytes
export const GPT_H_ENTRIES_LBA = 72;
export const GPT_H_ENTRY_COUNT = 80;
export const GPT_H_ENTRY_SIZE = 84;
export const GPT_H_ENTRIES_CRC = 88;

// ---- GPT partition entry (UEFI spec §5.3.3, Table 5-6) ----------------------------------------

export const GPT_E_TYPE_GUID = 0;
export const GPT_E_UNIQUE_GUID = 16;
export const GPT_E_FIRST_LBA = 32;
export const GPT_E_LAST_LBA = 40; // inclusive
export const GPT_E_ATTRIBUTES = 48;
export const GPT_E_NAME = 56; // 36 UTF-16LE code units
export const GPT_E_NAME_UNITS = 36;
/** The smallest entry size; a larger one must be 128 × 2^n (UEFI spec §5.3.2). */
export const GPT_ENTRY_SIZE = 128;
/** Entries a new table gets; the array must be at least 16 KiB (UEFI spec §5.3.2). */
export const GPT_DEFAULT_ENTRIES = 128;
/** Largest entry array tkl accepts when reading (bounded allocation for corrupt headers). */
export const GPT_MAX_ENTRY_ARRAY = 4 * 1024 * 1024;
