// IPv4 headers (RFC 791) and addresses. An address is an unsigned 32-bit number in host
// order. parseIpv4 validates version, header length, total length, options layout and (unless
// the device verified it) the header checksum before anything reads the fields.

import { checksumAdd, checksumFinish } from './checksum.js';
import { WIRE_BAD_CHECKSUM, WIRE_MALFORMED, WIRE_OK, WIRE_TRUNCATED, type WireStatus } from './status.js';

export const IPV4_HLEN = 20;
export const IPV4_MAX_HLEN = 60;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
/** Don't Fragment and More Fragments bits of the flags/fragment-offset word. */
export const IP_DF = 0x4000;
export const IP_MF = 0x2000;
export const IP_OFFMASK = 0x1fff;
export const IPV4_BROADCAST = 0xffffffff;
export const IPV4_ANY = 0;

// Field offsets (RFC 791 §3.1).
const VER_IHL = 0;
const TOS = 1;
const TOTAL_LEN = 2;
const IDENT = 4;
const FRAG = 6;
const TTL = 8;
const PROTO = 9;
const CSUM = 10;
const SRC = 12;
const DST = 16;

/** A parsed IPv4 header. `fragOffset` is in bytes. */
export class Ipv4Repr {
  hdrLen = IPV4_HLEN;
  tos = 0;
  totalLen = 0;
  id = 0;
  df = false;
  mf = false;
  fragOffset = 0;
  ttl = 64;
  protocol = 0;
  src = 0;
  dst = 0;

  get payloadLen(): number {
    return this.totalLen - this.hdrLen;
  }
  get isFragment(): boolean {
    return this.mf || this.fragOffset !== 0;
  }
}

/**
 * Parses the header at buf[off, off+len) into `out`. `len` may exceed the datagram (Ethernet
 * padding); the datagram is totalLen bytes. Checks the header checksum when `verify`.
 */
export function parseIpv4(buf: Uint8Array, off: number, len: number, out: Ipv4Repr, verify: boolean): WireStatus {
  if (len < IPV4_HLEN) return WIRE_TRUNCATED;
  const vi = buf[off + VER_IHL]!;
  if (vi >>> 4 !== 4) return WIRE_MALFORMED;
  const hdrLen = (vi & 0xf) * 4;
  if (hdrLen < IPV4_HLEN) return WIRE_MALFORMED;
  if (len < hdrLen) return WIRE_TRUNCATED;
  const totalLen = (buf[off + TOTAL_LEN]! << 8) | buf[off + TOTAL_LEN + 1]!;
  if (totalLen < hdrLen) return WIRE_MALFORMED;
  if (totalLen > len) return WIRE_TRUNCATED;
  if (verify && checksumFinish(checksumAdd(0, buf, off, hdrLen)) !== 0) return WIRE_BAD_CHECKSUM;
  if (hdrLen > IPV4_HLEN && !validOptions(buf, off + IPV4_HLEN, off + hdrLen)) return WIRE_MALFORMED;
  const frag = (buf[off + FRAG]! << 8) | buf[off + FRAG + 1]!;
  if (frag & 0x8000) return WIRE_MALFORMED; // the reserved flag must be zero
  out.hdrLen = hdrLen;
  out.tos = buf[off + TOS]!;
  out.totalLen = totalLen;
  out.id = (buf[off + IDENT]! << 8) | buf[off + IDENT + 1]!;
  out.df = (frag & IP_DF) !== 0;
  out.mf = (frag & IP_MF) !== 0;
  out.fragOffset = (frag & IP_OFFMASK) * 8;
  if (out.fragOffset + totalLen - hdrLen > 65535) return WIRE_MALFORMED; // RFC 791: the whole datagram fits 64 KiB
  out.ttl = buf[off + TTL]!;
  out.protocol = buf[off + PROTO]!;
  out.src = readU32(buf, off + SRC);
  out.dst = readU32(buf, off + DST);
  return WIRE_OK;
}

/** Options (RFC 791 §3.1): End of List, No-Op, or type, length ≥ 2, data — within the header. */
function validOptions(buf: Uint8Array, at: number, end: number): boolean {
  while (at < end) {
    const type = buf[at]!;
    if (type === 0) return true;
    if (type === 1) {
      at++;
      continue;
    }
    if (at + 1 >= end) return false;
    const l = buf[at + 1]!;
    if (l < 2 || at + l > end) return false;
    at += l;
  }
  return true;
}

/** Writes a 20-byte header (no options) at buf[off]; the checksum is filled in when `checksum`. */
export function emitIpv4(buf: Uint8Array, off: number, r: Ipv4Repr, checksum: boolean): void {
  buf[off + VER_IHL] = 0x45;
  buf[off + TOS] = r.tos;
  buf[off + TOTAL_LEN] = r.totalLen >>> 8;
  buf[off + TOTAL_LEN + 1] = r.totalLen;
  buf[off + IDENT] = r.id >>> 8;
  buf[off + IDENT + 1] = r.id;
  const frag = (r.df ? IP_DF : 0) | (r.mf ? IP_MF : 0) | ((r.fragOffset >>> 3) & IP_OFFMASK);
  buf[off + FRAG] = frag >>> 8;
  buf[off + FRAG + 1] = frag;
  buf[off + TTL] = r.ttl;
  buf[off + PROTO] = r.protocol;
  buf[off + CSUM] = 0;
  buf[off + CSUM + 1] = 0;
  writeU32(buf, off + SRC, r.src);
  writeU32(buf, off + DST, r.dst);
  if (checksum) {
    const c = checksumFinish(checksumAdd(0, buf, off, IPV4_HLEN));
    buf[off + CSUM] = c >>> 8;
    buf[off + CSUM + 1] = c;
  }
}

export function readU32(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
}

export function writeU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v >>> 24;
  buf[off + 1] = v >>> 16;
  buf[off + 2] = v >>> 8;
  buf[off + 3] = v;
}

export function readU16(buf: Uint8Array, off: number): number {
  return (buf[off]! << 8) | buf[off + 1]!;
}

export function writeU16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v >>> 8;
  buf[off + 1] = v;
}

/** Parses dotted-quad "10.0.0.1"; null when malformed. */
export function parseIpv4Addr(s: string): number | null {
  // Dotted quad, 1–3 decimal digits per part (no regex: sendto parses its address each call).
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (++digits > 3) return null;
      part = part * 10 + (c - 0x30);
    } else if (c === 0x2e && digits > 0 && dots < 3) {
      if (part > 255) return null;
      v = v * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else return null;
  }
  if (dots !== 3 || digits === 0 || part > 255) return null;
  return v * 256 + part;
}

let lastFormatted = -1;
let lastText = '';

export function formatIpv4(a: number): string {
  // One-entry cache: a socket's peers repeat, and each received datagram names its sender.
  if (a === lastFormatted) return lastText;
  lastText = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
  lastFormatted = a;
  return lastText;
}

/** Parses "10.0.0.1/24" into address and prefix length; null when malformed. */
export function parseCidr(s: string): { addr: number; prefix: number } | null {
  const [a, p, ...rest] = s.split('/');
  if (rest.length > 0 || a === undefined) return null;
  const addr = parseIpv4Addr(a);
  if (addr === null) return null;
  if (p === undefined) return { addr, prefix: 32 };
  if (!/^\d{1,2}$/.test(p) || Number(p) > 32) return null;
  return { addr, prefix: Number(p) };
}

/** The netmask for a prefix length, as a number. */
export function prefixMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function isMulticastIpv4(a: number): boolean {
  return a >>> 28 === 0xe;
}
