// UDP headers (RFC 768). The length field must cover the header and fit in the IP payload;
// a zero checksum means "none" over IPv4, and a computed zero is sent as 0xffff.

import { checksumAdd, checksumFinish, pseudoHeaderSum } from './checksum.js';
import { IPPROTO_UDP, readU16, writeU16 } from './ipv4.js';
import { WIRE_BAD_CHECKSUM, WIRE_MALFORMED, WIRE_OK, WIRE_TRUNCATED, type WireStatus } from './status.js';

export const UDP_HLEN = 8;

export class UdpRepr {
  srcPort = 0;
  dstPort = 0;
  /** Header plus payload, from the length field. */
  length = 0;
}

/**
 * Parses the datagram in buf[off, off+len) (len: the IP payload length) sent from `src` to
 * `dst`; checks the checksum when `verify` and one is present.
 */
export function parseUdp(buf: Uint8Array, off: number, len: number, src: number, dst: number, verify: boolean, out: UdpRepr): WireStatus {
  if (len < UDP_HLEN) return WIRE_TRUNCATED;
  const length = readU16(buf, off + 4);
  if (length < UDP_HLEN) return WIRE_MALFORMED;
  if (length > len) return WIRE_TRUNCATED;
  if (verify && readU16(buf, off + 6) !== 0) {
    const s = checksumAdd(pseudoHeaderSum(src, dst, IPPROTO_UDP, length), buf, off, length);
    if (checksumFinish(s) !== 0) return WIRE_BAD_CHECKSUM;
  }
  out.srcPort = readU16(buf, off);
  out.dstPort = readU16(buf, off + 2);
  out.length = length;
  return WIRE_OK;
}

/** Writes the header; the payload is at buf[off+8, off+length). Checksums unless offloaded. */
export function emitUdp(buf: Uint8Array, off: number, srcPort: number, dstPort: number, length: number, src: number, dst: number, checksum: boolean): void {
  writeU16(buf, off, srcPort);
  writeU16(buf, off + 2, dstPort);
  writeU16(buf, off + 4, length);
  writeU16(buf, off + 6, 0);
  if (checksum) {
    const c = checksumFinish(checksumAdd(pseudoHeaderSum(src, dst, IPPROTO_UDP, length), buf, off, length));
    writeU16(buf, off + 6, c === 0 ? 0xffff : c);
  }
}
