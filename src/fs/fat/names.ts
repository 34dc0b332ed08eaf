// VFAT names (FAT spec §6.1 and §7; Linux fs/fat/namei_vfat.c's rules, shortname=mixed): which
// long names are valid, the 8.3 short name stored for each (exact when the name already is
// an upper-case 8.3 name, else an alias with a ~N tail that no other entry uses), the long
// name checksum, and how short names are shown (code page 437, NT lower-case flags).

import { E } from '../../kernel/errno.js';
import { CASE_LOWER_BASE, CASE_LOWER_EXT, DIR_KANJI_E5, LFN_MAX } from './layout.js';

/** Code page 437's upper half (Linux's default codepage=437) for short names. */
const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

/** Characters a short name may hold besides A–Z and 0–9 (FAT spec §6.1). */
const SHORT_SPECIALS = new Set("!#$%&'()-@^_`{}~");
/** Characters valid in a long name but replaced by '_' in an alias (FAT spec §7.4). */
const ALIAS_REPLACED = new Set('+,;=[]');

/**
 * The name as it will be stored: trailing dots dropped (vfat_striptail_len). Errors: ENOENT
 * for a name that is empty then, EINVAL for a trailing space or a character FAT forbids
 * (control characters and "*?<>|:/\), ENAMETOOLONG beyond 255 UTF-16 units.
 */
export function checkLongName(name: string): string {
  let n = name;
  while (n.endsWith('.')) n = n.slice(0, -1);
  if (n.length === 0) throw E.ENOENT;
  if (n.endsWith(' ')) throw E.EINVAL;
  if (n.length > LFN_MAX) throw E.ENAMETOOLONG;
  for (let i = 0; i < n.length; i++) {
    const c = n.charCodeAt(i);
    if (c < 0x20 || c === 0x2a || c === 0x3f || c === 0x3c || c === 0x3e || c === 0x7c || c === 0x22 || c === 0x3a || c === 0x2f || c === 0x5c) {
      throw E.EINVAL;
    }
  }
  return n;
}

/** The key names are compared by: FAT names match regardless of case. */
export function foldName(name: string): string {
  let n = name;
  while (n.endsWith('.')) n = n.slice(0, -1);
  return n.toUpperCase();
}

/** The long-name checksum of an 11-byte short name (FAT spec §7.2). */
export function shortNameChecksum(short: Uint8Array, off = 0): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + short[off + i]!) & 0xff;
  return sum;
}

/** The short name in raw[off, off+11) as shown: "NAME.EXT", lower-cased where `ntRes` says. */
export function shortNameToString(raw: Uint8Array, off: number, ntRes: number): string {
  const part = (from: number, to: number, lower: boolean): string => {
    let end = to;
    while (end > from && raw[off + end - 1] === 0x20) end--;
    let s = '';
    for (let i = from; i < end; i++) {
      let b = raw[off + i]!;
      if (i === 0 && b === DIR_KANJI_E5) b = 0xe5;
      s += b < 0x80 ? String.fromCharCode(b) : CP437_HIGH[b - 0x80]!;
    }
    return lower ? s.toLowerCase() : s;
  };
  const base = part(0, 8, (ntRes & CASE_LOWER_BASE) !== 0);
  const ext = part(8, 11, (ntRes & CASE_LOWER_EXT) !== 0);
  return ext === '' ? base : `${base}.${ext}`;
}

/** What to store for a new name: the 11-byte short name and whether a long name goes with it. */
export interface ShortName {
  raw: Uint8Array;
  /** The short name as upper-case text ("NAME.EXT"), for collision checks. */
  text: string;
  needLfn: boolean;
}

const isShortChar = (c: string): boolean => (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || SHORT_SPECIALS.has(c);

/**
 * The short name for `name` in a directory whose short names (upper-case "NAME.EXT") are
 * `taken`. An upper-case 8.3 name is stored as itself alone; an 8.3 name in other case keeps
 * its upper-case form plus a long name; anything else gets an alias BASE~N.EXT with the
 * smallest N whose alias is free (Linux's vfat_create_shortname, shortname=mixed). Errors:
 * EEXIST when an exact 8.3 name is already some other entry's alias.
 */
export function makeShortName(name: string, taken: (text: string) => boolean, tails?: Map<string, number>): ShortName {
  const exact = /^[^.]{1,8}(\.[^.]{1,3})?$/.test(name) && [...name.toUpperCase()].every((c) => c === '.' || isShortChar(c));
  if (exact) {
    const up = name.toUpperCase();
    const [b, e = ''] = up.split('.') as [string, string?];
    if (taken(up)) throw E.EEXIST;
    return { raw: pack(b, e), text: up, needLfn: up !== name };
  }
  // The alias: upper case, spaces and extra dots dropped, other invalid characters as '_'.
  const clean = (s: string): string => {
    let out = '';
    for (const ch of s.toUpperCase()) {
      if (ch === ' ' || ch === '.') continue;
      // '+,;=[]' (FAT spec §7.4) and anything outside the short name's set become '_'.
      out += isShortChar(ch) && !ALIAS_REPLACED.has(ch) ? ch : '_';
    }
    return out;
  };
  const stem = name.replace(/^\.+/, '');
  const d = stem.lastIndexOf('.');
  let base = clean(d > 0 ? stem.slice(0, d) : stem);
  const ext = clean(d > 0 ? stem.slice(d + 1) : '').slice(0, 3);
  if (base === '') base = '_';
  // Probing resumes after the last tail given for this stem (`tails`), so a directory of many
  // similar names does not try ~1, ~2, … again for every new one; wrapping finds freed tails.
  const stemKey = `${base.slice(0, 6)}.${ext}`;
  const start = tails?.get(stemKey) ?? 1;
  for (let i = 0; i < 999999; i++) {
    const n = ((start - 1 + i) % 999999) + 1;
    const tail = `~${n}`;
    const b = base.slice(0, 8 - tail.length) + tail;
    const text = ext === '' ? b : `${b}.${ext}`;
    if (!taken(text)) {
      tails?.set(stemKey, n + 1 > 999999 ? 1 : n + 1);
      return { raw: pack(b, ext), text, needLfn: true };
    }
  }
  throw E.EEXIST;
}

function pack(base: string, ext: string): Uint8Array {
  const raw = new Uint8Array(11).fill(0x20);
  for (let i = 0; i < base.length && i < 8; i++) raw[i] = base.charCodeAt(i);
  for (let i = 0; i < ext.length && i < 3; i++) raw[8 + i] = ext.charCodeAt(i);
  if (raw[0] === 0xe5) raw[0] = DIR_KANJI_E5;
  return raw;
}
