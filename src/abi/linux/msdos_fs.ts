// Linux's <linux/msdos_fs.h> for users of the FAT ioctls: the attribute bits of a directory
// entry and the ioctl numbers that read and change them. Values only.

export const ATTR_RO = 0x01;
export const ATTR_HIDDEN = 0x02;
export const ATTR_SYS = 0x04;
export const ATTR_VOLUME = 0x08;
export const ATTR_DIR = 0x10;
export const ATTR_ARCH = 0x20;

/** _IOR('r', 0x10, __u32): the entry's attribute bits into a u32. */
export const FAT_IOCTL_GET_ATTRIBUTES = 0x80047210;
/** _IOW('r', 0x11, __u32): new attribute bits from a u32 (volume and directory bits are kept). */
export const FAT_IOCTL_SET_ATTRIBUTES = 0x40047211;
