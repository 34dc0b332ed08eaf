// TCP segment headers (RFC 9293 §3.1) with the options tkl speaks: MSS (§3.7.1), window
// scale and timestamps (RFC 7323), SACK-permitted and SACK blocks (RFC 2018). TcpRepr is
// reused for every segment of a stack (parse into it, emit from it): no per-segment allocation.

import { checksumAdd, checksumFinish, pseudoHeaderSum } from './checksum.js';
import { IPPROTO_TCP, readU16, readU32, writeU16, writeU32 } from './ipv4.js';
import { WIRE_BAD_CHECKSUM, WIRE_MALFORMED, WIRE_OK, WIRE_TRUNCATED, type WireStatus } from './status.js';

export const TCP_HLEN = 20;
export const TCP_MAX_HLEN = 60;
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

const OPT_EOL = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;
const OPT_WSCALE = 3;
const OPT_SACK_PERM = 4;
const OPT_SACK = 5;
const OPT_TIMESTAMP = 8;

/** At most 4 SACK blocks fit (3 with timestamps): RFC 2018 §3. */
export const MAX_SACK_BLOCKS = 4;

export class TcpRepr {
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  window = 0;
  urgent = 0;
  /** Header length in bytes (data offset × 4). */
  hdrLen = TCP_HLEN;
  /** Options; 0 / -1 / false when absent. */
  mss = 0;
  wscale = -1;
  sackPermitted = false;
  tsPresent = false;
  tsVal = 0;
  tsEcr = 0;
  sackCount = 0;
  /** [start0, end0, start1, end1, …] */
  readonly sack = new Uint32Array(MAX_SACK_BLOCKS * 2);

  /** Clears the options before building a segment. */
  resetOptions(): void {
    this.mss = 0;
    this.wscale = -1;
    this.sackPermitted = false;
    this.tsPresent = false;
    this.sackCount = 0;
  }

  /** The header length that emit will write for the current options (bufferLen). */
  headerLen(): number {
    let n = TCP_HLEN;
    if (this.mss) n += 4;
    if (this.wscale >= 0) n += 4; // NOP + 3
    if (this.sackPermitted) n += this.tsPresent ? 0 : 4; // rides in the timestamp option's padding
    if (this.tsPresent) n += 12; // (NOP NOP | SACK-perm) + 10
    if (this.sackCount > 0) n += 4 + 8 * this.sackCount; // NOP NOP + 2 + 8n
    return n;
  }
}

/**
 * Parses the segment in buf[off, off+len) from `src` to `dst` into `out`; verifies the
 * checksum when `verify`. Options must be well formed: a known option of the wrong length
 * or an option running past the header is malformed.
 */
export function parseTcp(buf: Uint8Array, off: number, len: number, src: number, dst: number, verify: boolean, out: TcpRepr): WireStatus {
  if (len < TCP_HLEN) return WIRE_TRUNCATED;
  const hdrLen = (buf[off + 12]! >>> 4) * 4;
  if (hdrLen < TCP_HLEN) return WIRE_MALFORMED;
  if (hdrLen > len) return WIRE_TRUNCATED;
  if (verify && checksumFinish(checksumAdd(pseudoHeaderSum(src, dst, IPPROTO_TCP, len), buf, off, len)) !== 0) return WIRE_BAD_CHECKSUM;
  out.srcPort = readU16(buf, off);
  out.dstPort = readU16(buf, off + 2);
  out.seq = readU32(buf, off + 4);
  out.ack = readU32(buf, off + 8);
  out.flags = buf[off + 13]!;
  out.window = readU16(buf, off + 14);
  out.urgent = readU16(buf, off + 18);
  out.hdrLen = hdrLen;
  out.resetOptions();
  let at = off + TCP_HLEN;
  const end = off + hdrLen;
  while (at < end) {
    const kind = buf[at]!;
    if (kind === OPT_EOL) break;
    if (kind === OPT_NOP) {
      at++;
      continue;
    }
    if (at + 1 >= end) return WIRE_MALFORMED;
    const l = buf[at + 1]!;
    if (l < 2 || at + l > end) return WIRE_MALFORMED;
    switch (kind) {
      case OPT_MSS:
        if (l !== 4) return WIRE_MALFORMED;
        out.mss = readU16(buf, at + 2);
        break;
      case OPT_WSCALE:
        if (l !== 3) return WIRE_MALFORMED;
        // RFC 7323 §2.3: a shift above 14 is used as 14.
        out.wscale = Math.min(buf[at + 2]!, 14);
        break;
      case OPT_SACK_PERM:
        if (l !== 2) return WIRE_MALFORMED;
        out.sackPermitted = true;
        break;
      case OPT_SACK: {
        if ((l - 2) % 8 !== 0 || l === 2) return WIRE_MALFORMED;
        const n = Math.min((l - 2) / 8, MAX_SACK_BLOCKS);
        for (let i = 0; i < n; i++) {
          out.sack[2 * i] = readU32(buf, at + 2 + 8 * i);
          out.sack[2 * i + 1] = readU32(buf, at + 6 + 8 * i);
        }
        out.sackCount = n;
        break;
      }
      case OPT_TIMESTAMP:
        if (l !== 10) return WIRE_MALFORMED;
        out.tsPresent = true;
        out.tsVal = readU32(buf, at + 2);
        out.tsEcr = readU32(buf, at + 6);
        break;
      default:
        // Unknown options are skipped (RFC 9293 §3.1: must be ignored).
        break;
    }
    at += l;
  }
  return WIRE_OK;
}

/**
 * Writes the header for `r` at buf[off]; the payload is at buf[off+hdrLen, off+hdrLen+payloadLen).
 * Returns the header length. Computes the checksum unless `checksum` is false (offloaded).
 */
export function emitTcp(buf: Uint8Array, off: number, r: TcpRepr, payloadLen: number, src: number, dst: number, checksum: boolean): number {
  const hdrLen = r.headerLen();
  writeU16(buf, off, r.srcPort);
  writeU16(buf, off + 2, r.dstPort);
  writeU32(buf, off + 4, r.seq);
  writeU32(buf, off + 8, r.ack);
  buf[off + 12] = (hdrLen / 4) << 4;
  buf[off + 13] = r.flags;
  writeU16(buf, off + 14, r.window);
  writeU16(buf, off + 16, 0);
  writeU16(buf, off + 18, r.urgent);
  let at = off + TCP_HLEN;
  if (r.mss) {
    buf[at] = OPT_MSS;
    buf[at + 1] = 4;
    writeU16(buf, at + 2, r.mss);
    at += 4;
  }
  if (r.wscale >= 0) {
    buf[at] = OPT_NOP;
    buf[at + 1] = OPT_WSCALE;
    buf[at + 2] = 3;
    buf[at + 3] = r.wscale;
    at += 4;
  }
  if (r.tsPresent) {
    if (r.sackPermitted) {
      buf[at] = OPT_SACK_PERM;
      buf[at + 1] = 2;
    } else {
      buf[at] = OPT_NOP;
      buf[at + 1] = OPT_NOP;
    }
    buf[at + 2] = OPT_TIMESTAMP;
    buf[at + 3] = 10;
    writeU32(buf, at + 4, r.tsVal);
    writeU32(buf, at + 8, r.tsEcr);
    at += 12;
  } else if (r.sackPermitted) {
    buf[at] = OPT_NOP;
    buf[at + 1] = OPT_NOP;
    buf[at + 2] = OPT_SACK_PERM;
    buf[at + 3] = 2;
    at += 4;
  }
  if (r.sackCount > 0) {
    buf[at] = OPT_NOP;
    buf[at + 1] = OPT_NOP;
    buf[at + 2] = OPT_SACK;
    buf[at + 3] = 2 + 8 * r.sackCount;
    at += 4;
    for (let i = 0; i < r.sackCount; i++) {
      writeU32(buf, at, r.sack[2 * i]!);
      writeU32(buf, at + 4, r.sack[2 * i + 1]!);
      at += 8;
    }
  }
  if (checksum) {
    const len = hdrLen + payloadLen;
    writeU16(buf, off + 16, checksumFinish(checksumAdd(pseudoHeaderSum(src, dst, IPPROTO_TCP, len), buf, off, len)));
  }
  return hdrLen;
}
