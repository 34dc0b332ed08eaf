// Extended attributes on disk (§ Extended Attributes): entries in the inode body after
// i_extra_isize and in one separate block, parsed into a list and laid out again on change.
// POSIX ACLs are stored in ext4's compact form and converted to and from the generic
// posix_acl_xattr form the syscalls use.

import { crc32c, crc32cU64 } from './crc.js';
import {
  EXT2_GOOD_OLD_INODE_SIZE, XATTR_BLOCK_HEADER, XATTR_ENTRY_HEADER, XATTR_IBODY_HEADER, XATTR_INDEX_POSIX_ACL_ACCESS,
  XATTR_INDEX_POSIX_ACL_DEFAULT, XATTR_MAGIC, XATTR_PREFIXES, XE, XH, corrupt, le16, le32, set16, set32,
  xattrEntryHash, xattrEntryHashSigned, xattrEntrySize, xattrValueSize,
} from './layout.js';

export interface XattrEntry {
  index: number;
  /** The name after the prefix its index stands for, as bytes. */
  name: Uint8Array;
  value: Uint8Array;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function fullName(e: XattrEntry): string {
  return (XATTR_PREFIXES[e.index] ?? `unknown${e.index}.`) + dec.decode(e.name);
}

export function sameName(e: XattrEntry, index: number, name: Uint8Array): boolean {
  if (e.index !== index || e.name.length !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (e.name[i] !== name[i]) return false;
  return true;
}

export function encodeName(s: string): Uint8Array {
  return enc.encode(s);
}

/** Parses entries from `data` starting at `first`, values at `valueBase + e_value_offs`, within [valueBase, end). */
function parseEntries(data: Uint8Array, first: number, valueBase: number, end: number, where: string, out: XattrEntry[]): void {
  let o = first;
  let n = 0;
  while (o + 4 <= end && le32(data, o) !== 0) {
    if (o + XATTR_ENTRY_HEADER > end) throw corrupt(`${where}: xattr entry runs past the end`);
    const nameLen = data[o + XE.NAME_LEN]!;
    const index = data[o + XE.NAME_INDEX]!;
    const offs = le16(data, o + XE.VALUE_OFFS);
    const inum = le32(data, o + XE.VALUE_INUM);
    const size = le32(data, o + XE.VALUE_SIZE);
    const next = o + xattrEntrySize(nameLen);
    if (next > end) throw corrupt(`${where}: xattr entry name runs past the end`);
    if (inum !== 0) throw corrupt(`${where}: xattr value in an inode (ea_inode) is not supported`);
    const vs = valueBase + offs;
    if (size > end - valueBase || vs < valueBase || vs + size > end) throw corrupt(`${where}: xattr value at ${offs}+${size} lies outside its area`);
    out.push({ index, name: data.slice(o + XE.NAME, o + XE.NAME + nameLen), value: data.slice(vs, vs + size) });
    o = next;
    if (++n > 4096) throw corrupt(`${where}: too many xattr entries`);
  }
}

/** The in-inode entries (after 128 + i_extra_isize), or [] when the area has no magic. */
export function parseIbody(raw: Uint8Array, inodeSize: number, extraIsize: number, ino: number): XattrEntry[] {
  const start = EXT2_GOOD_OLD_INODE_SIZE + extraIsize;
  if (start + XATTR_IBODY_HEADER > inodeSize || le32(raw, start) !== XATTR_MAGIC) return [];
  const out: XattrEntry[] = [];
  const first = start + XATTR_IBODY_HEADER;
  parseEntries(raw, first, first, inodeSize, `inode ${ino}`, out);
  return out;
}

/** The entries of an xattr block, checked. Returns them and the block's reference count. */
export function parseBlock(data: Uint8Array, block: number, ino: number, csumSeed: number | null): { entries: XattrEntry[]; refcount: number } {
  const where = `inode ${ino}: xattr block ${block}`;
  if (le32(data, XH.MAGIC) !== XATTR_MAGIC) throw corrupt(`${where}: bad magic`);
  if (le32(data, XH.BLOCKS) !== 1) throw corrupt(`${where}: h_blocks ${le32(data, XH.BLOCKS)}`);
  if (csumSeed !== null) {
    const want = le32(data, XH.CHECKSUM);
    const copy = data.slice();
    set32(copy, XH.CHECKSUM, 0);
    const got = crc32c(crc32cU64(csumSeed, block), copy);
    if (want !== got) throw corrupt(`${where}: checksum mismatch`);
  }
  const out: XattrEntry[] = [];
  parseEntries(data, XATTR_BLOCK_HEADER, 0, data.length, where, out);
  return { entries: out, refcount: le32(data, XH.REFCOUNT) };
}

/** Bytes the entries take in an entry table (entries + 4-byte terminator) and in values. */
export function spaceFor(entries: XattrEntry[]): number {
  let n = 4;
  for (const e of entries) n += xattrEntrySize(e.name.length) + xattrValueSize(e.value.length);
  return n;
}

/** Room for entries in the inode body, or 0 when there is none. */
export function ibodyRoom(inodeSize: number, extraIsize: number): number {
  const r = inodeSize - EXT2_GOOD_OLD_INODE_SIZE - extraIsize - XATTR_IBODY_HEADER;
  return r > 0 ? r : 0;
}

/** Room for entries in a block. */
export function blockRoom(bs: number): number {
  return bs - XATTR_BLOCK_HEADER;
}

/** Lays `entries` out in [first, end) of `data`: entries from the front, values from the back. */
function emitEntries(data: Uint8Array, first: number, valueBase: number, end: number, entries: XattrEntry[]): void {
  data.fill(0, first, end);
  let o = first;
  let v = end;
  for (const e of entries) {
    const vs = xattrValueSize(e.value.length);
    v -= vs;
    data[o + XE.NAME_LEN] = e.name.length;
    data[o + XE.NAME_INDEX] = e.index;
    set16(data, o + XE.VALUE_OFFS, e.value.length === 0 ? 0 : v - valueBase);
    set32(data, o + XE.VALUE_INUM, 0);
    set32(data, o + XE.VALUE_SIZE, e.value.length);
    set32(data, o + XE.HASH, xattrEntryHash(e.name, e.value));
    data.set(e.name, o + XE.NAME);
    data.set(e.value, v);
    o += xattrEntrySize(e.name.length);
  }
  if (o + 4 > v) throw new Error('tkl panic: xattr layout overflow');
}

/** Writes the in-inode entries (with the magic), or clears the area when there are none. */
export function emitIbody(raw: Uint8Array, inodeSize: number, extraIsize: number, entries: XattrEntry[]): void {
  const start = EXT2_GOOD_OLD_INODE_SIZE + extraIsize;
  if (start + XATTR_IBODY_HEADER > inodeSize) return;
  raw.fill(0, start, inodeSize);
  if (entries.length === 0) return;
  set32(raw, start, XATTR_MAGIC);
  const first = start + XATTR_IBODY_HEADER;
  emitEntries(raw, first, first, inodeSize, entries);
}

/** Sorted as Linux searches block entries: by index, then name length, then name. */
export function sortForBlock(entries: XattrEntry[]): XattrEntry[] {
  return entries.slice().sort((a, b) => {
    if (a.index !== b.index) return a.index - b.index;
    if (a.name.length !== b.name.length) return a.name.length - b.name.length;
    for (let i = 0; i < a.name.length; i++) if (a.name[i] !== b.name[i]) return a.name[i]! - b.name[i]!;
    return 0;
  });
}

/** Fills a whole xattr block (header, sorted entries, values, header hash); the checksum is set at commit. */
export function emitBlock(data: Uint8Array, entries: XattrEntry[], refcount: number): void {
  data.fill(0);
  set32(data, XH.MAGIC, XATTR_MAGIC);
  set32(data, XH.REFCOUNT, refcount);
  set32(data, XH.BLOCKS, 1);
  const sorted = sortForBlock(entries);
  emitEntries(data, XATTR_BLOCK_HEADER, 0, data.length, sorted);
  // h_hash: a rotating combination of the entry hashes (ext4_xattr_rehash).
  let h = 0;
  for (const e of sorted) h = ((h << 16) ^ (h >>> 16) ^ xattrEntryHash(e.name, e.value)) >>> 0;
  set32(data, XH.HASH, h);
}

/** Whether an entry's stored hash is one a kernel could have written (for verification). */
export function entryHashOk(stored: number, e: XattrEntry): boolean {
  return stored === 0 || stored === xattrEntryHash(e.name, e.value) || stored === xattrEntryHashSigned(e.name, e.value);
}

// ---- POSIX ACLs: ext4's compact form <-> posix_acl_xattr --------------------------------------

const ACL_USER_OBJ = 0x01;
const ACL_USER = 0x02;
const ACL_GROUP_OBJ = 0x04;
const ACL_GROUP = 0x08;
const ACL_MASK = 0x10;
const ACL_OTHER = 0x20;
const EXT4_ACL_VERSION = 1;
const POSIX_ACL_XATTR_VERSION = 2;

export function isAclIndex(index: number): boolean {
  return index === XATTR_INDEX_POSIX_ACL_ACCESS || index === XATTR_INDEX_POSIX_ACL_DEFAULT;
}

/** ext4's stored ACL → the posix_acl_xattr value getxattr returns. */
export function aclFromDisk(v: Uint8Array, ino: number): Uint8Array {
  if (v.length < 4 || le32(v, 0) !== EXT4_ACL_VERSION) throw corrupt(`inode ${ino}: bad ACL version`);
  const out: number[][] = [];
  let o = 4;
  while (o < v.length) {
    if (o + 4 > v.length) throw corrupt(`inode ${ino}: truncated ACL`);
    const tag = le16(v, o);
    const perm = le16(v, o + 2);
    if (tag === ACL_USER || tag === ACL_GROUP) {
      if (o + 8 > v.length) throw corrupt(`inode ${ino}: truncated ACL`);
      out.push([tag, perm, le32(v, o + 4)]);
      o += 8;
    } else if (tag === ACL_USER_OBJ || tag === ACL_GROUP_OBJ || tag === ACL_MASK || tag === ACL_OTHER) {
      out.push([tag, perm, 0xffffffff]);
      o += 4;
    } else throw corrupt(`inode ${ino}: unknown ACL tag ${tag}`);
  }
  const r = new Uint8Array(4 + out.length * 8);
  set32(r, 0, POSIX_ACL_XATTR_VERSION);
  out.forEach(([tag, perm, id], i) => {
    set16(r, 4 + i * 8, tag!);
    set16(r, 6 + i * 8, perm!);
    set32(r, 8 + i * 8, id!);
  });
  return r;
}

/** A posix_acl_xattr value → ext4's stored form. Returns null when the value is malformed (EINVAL). */
export function aclToDisk(v: Uint8Array): Uint8Array | null {
  if (v.length < 4 || (v.length - 4) % 8 !== 0 || le32(v, 0) !== POSIX_ACL_XATTR_VERSION) return null;
  const parts: number[] = [];
  let size = 4;
  for (let o = 4; o < v.length; o += 8) {
    const tag = le16(v, o);
    if (tag === ACL_USER || tag === ACL_GROUP) size += 8;
    else if (tag === ACL_USER_OBJ || tag === ACL_GROUP_OBJ || tag === ACL_MASK || tag === ACL_OTHER) size += 4;
    else return null;
    parts.push(o);
  }
  const r = new Uint8Array(size);
  set32(r, 0, EXT4_ACL_VERSION);
  let w = 4;
  for (const o of parts) {
    const tag = le16(v, o);
    set16(r, w, tag);
    set16(r, w + 2, le16(v, o + 2));
    if (tag === ACL_USER || tag === ACL_GROUP) {
      set32(r, w + 4, le32(v, o + 4));
      w += 8;
    } else w += 4;
  }
  return r;
}
