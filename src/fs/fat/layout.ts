// On-disk layout of FAT12/16/32, in one place (Microsoft "FAT: General Overview of On-Disk
// Format" v1.03, the "FAT spec"): the boot sector and BPB (§3), the FSInfo sector (§5),
// short directory entries (§6) and long-name entries (§7). All fields are little-endian.

// ---- Boot sector and BPB (FAT spec §3.1–3.3) --------------------------------------------------
export const BS_JMP_BOOT = 0; // 3 bytes: EB xx 90 or E9 xx xx
export const BS_OEM_NAME = 3; // 8 bytes
export const BPB_BYTS_PER_SEC = 11;
export const BPB_SEC_PER_CLUS = 13;
export const BPB_RSVD_SEC_CNT = 14;
export const BPB_NUM_FATS = 16;
export const BPB_ROOT_ENT_CNT = 17;
export const BPB_TOT_SEC16 = 19;
export const BPB_MEDIA = 21;
export const BPB_FAT_SZ16 = 22;
export const BPB_SEC_PER_TRK = 24;
export const BPB_NUM_HEADS = 26;
export const BPB_HIDD_SEC = 28;
export const BPB_TOT_SEC32 = 32;
// FAT12/16 extended BPB (§3.2)
export const BS16_DRV_NUM = 36;
/** Reserved byte Linux uses as the "state" byte: bit 0 is the dirty bit (FAT_STATE_DIRTY). */
export const BS16_STATE = 37;
export const BS16_BOOT_SIG = 38; // 0x29: the next three fields are valid
export const BS16_VOL_ID = 39;
export const BS16_VOL_LAB = 43; // 11 bytes
export const BS16_FIL_SYS_TYPE = 54; // 8 bytes, informational only
// FAT32 extended BPB (§3.3)
export const BPB32_FAT_SZ32 = 36;
export const BPB32_EXT_FLAGS = 40;
export const BPB32_FS_VER = 42;
export const BPB32_ROOT_CLUS = 44;
export const BPB32_FS_INFO = 48;
export const BPB32_BK_BOOT_SEC = 50;
export const BS32_DRV_NUM = 64;
export const BS32_STATE = 65;
export const BS32_BOOT_SIG = 66;
export const BS32_VOL_ID = 67;
export const BS32_VOL_LAB = 71;
export const BS32_FIL_SYS_TYPE = 82;
export const BOOT_SIGNATURE_OFFSET = 510; // 0x55 0xAA
export const EXT_BOOT_SIG = 0x29;
export const FAT_STATE_DIRTY = 0x01;

// ---- FSInfo sector, FAT32 only (§5) -----------------------------------------------------------
export const FSI_LEAD_SIG = 0;
export const FSI_LEAD_SIG_VALUE = 0x41615252;
export const FSI_STRUC_SIG = 484;
export const FSI_STRUC_SIG_VALUE = 0x61417272;
export const FSI_FREE_COUNT = 488;
export const FSI_NXT_FREE = 492;
export const FSI_TRAIL_SIG = 508;
export const FSI_TRAIL_SIG_VALUE = 0xaa550000;
/** "Unknown" for the free count and the next-free hint. */
export const FSI_UNKNOWN = 0xffffffff;

// ---- The FAT (§4) -----------------------------------------------------------------------------
/** The cluster-count limits that decide the FAT type (§3.5): below 4085 FAT12, below 65525 FAT16. */
export const FAT12_MAX_CLUSTERS = 4084;
export const FAT16_MAX_CLUSTERS = 65524;
export const FAT32_MAX_CLUSTERS = 0x0ffffff5;
/** The first data cluster. */
export const FIRST_CLUSTER = 2;

// ---- Directory entries (§6) -------------------------------------------------------------------
export const DIR_ENTRY_SIZE = 32;
export const DIR_NAME = 0; // 11 bytes: 8 name + 3 extension, space-padded
export const DIR_ATTR = 11;
/** Linux/Windows NT case flags for a short name shown in lower case. */
export const DIR_NT_RES = 12;
export const DIR_CRT_TIME_TENTH = 13; // 0–199, units of 10 ms
export const DIR_CRT_TIME = 14;
export const DIR_CRT_DATE = 16;
export const DIR_LST_ACC_DATE = 18;
export const DIR_FST_CLUS_HI = 20;
export const DIR_WRT_TIME = 22;
export const DIR_WRT_DATE = 24;
export const DIR_FST_CLUS_LO = 26;
export const DIR_FILE_SIZE = 28;

export const ATTR_READ_ONLY = 0x01;
export const ATTR_HIDDEN = 0x02;
export const ATTR_SYSTEM = 0x04;
export const ATTR_VOLUME_ID = 0x08;
export const ATTR_DIRECTORY = 0x10;
export const ATTR_ARCHIVE = 0x20;
export const ATTR_LONG_NAME = 0x0f;
export const ATTR_LONG_NAME_MASK = 0x3f;

/** First name byte of a free entry; 0x00 also ends the directory. */
export const DIR_ENTRY_FREE = 0xe5;
export const DIR_ENTRY_END = 0x00;
/** A short name really starting with 0xE5 is stored with 0x05. */
export const DIR_KANJI_E5 = 0x05;
export const CASE_LOWER_BASE = 0x08;
export const CASE_LOWER_EXT = 0x10;

// ---- Long-name entries (§7) -------------------------------------------------------------------
export const LDIR_ORD = 0;
export const LDIR_NAME1 = 1; // 5 UTF-16 units
export const LDIR_ATTR = 11;
export const LDIR_TYPE = 12;
export const LDIR_CHKSUM = 13;
export const LDIR_NAME2 = 14; // 6 units
export const LDIR_FST_CLUS_LO = 26;
export const LDIR_NAME3 = 28; // 2 units
export const LAST_LONG_ENTRY = 0x40;
export const LFN_CHARS_PER_ENTRY = 13;
/** The offsets of the 13 UTF-16 units of a long-name entry, in order. */
export const LFN_CHAR_OFFSETS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30] as const;
/** Longest long name in UTF-16 units (§7). */
export const LFN_MAX = 255;
/** Largest directory: 65536 entries of 32 bytes (§6; Linux's FAT_MAX_DIR_SIZE). */
export const MAX_DIR_BYTES = 2 * 1024 * 1024;
/** Largest file (the size field is 32 bits). */
export const MAX_FILE_SIZE = 0xffffffff;

/** FAT_SUPER_MAGIC / MSDOS_SUPER_MAGIC for statfs. */
export const MSDOS_SUPER_MAGIC = 0x4d44;
