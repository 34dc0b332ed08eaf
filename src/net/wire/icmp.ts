// ICMP messages for IPv4 (RFC 792, RFC 1191 for fragmentation needed): the 8-byte header and
// its body. Echo carries identifier and sequence; errors carry the offending datagram's IP
// header plus at least 8 bytes of it, from which the stack finds the socket to tell.

import { internetChecksum } from './checksum.js';
import { readU16, writeU16 } from './ipv4.js';
import { WIRE_BAD_CHECKSUM, WIRE_OK, WIRE_TRUNCATED, type WireStatus } from './status.js';

export const ICMP_HLEN = 8;
export const ICMP_ECHOREPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_ECHO = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAMETERPROB = 12;
// Destination-unreachable codes.
export const ICMP_NET_UNREACH = 0;
export const ICMP_HOST_UNREACH = 1;
export const ICMP_PROT_UNREACH = 2;
export const ICMP_PORT_UNREACH = 3;
export const ICMP_FRAG_NEEDED = 4;
// Time-exceeded codes.
export const ICMP_EXC_TTL = 0;
export const ICMP_EXC_FRAGTIME = 1;

export interface IcmpRepr {
  type: number;
  code: number;
  /** Echo: identifier; fragmentation needed: unused. */
  id: number;
  /** Echo: sequence number; fragmentation needed: next-hop MTU (RFC 1191). */
  seq: number;
  /** Offset and length of the body (echo data, or the quoted datagram). */
  dataOff: number;
  dataLen: number;
}

/** Parses an ICMP message of exactly `len` bytes; verifies its checksum when `verify`. */
export function parseIcmp(buf: Uint8Array, off: number, len: number, verify: boolean): { status: WireStatus; icmp?: IcmpRepr } {
  if (len < ICMP_HLEN) return { status: WIRE_TRUNCATED };
  if (verify && internetChecksum(buf, off, len) !== 0) return { status: WIRE_BAD_CHECKSUM };
  return {
    status: WIRE_OK,
    icmp: { type: buf[off]!, code: buf[off + 1]!, id: readU16(buf, off + 4), seq: readU16(buf, off + 6), dataOff: off + ICMP_HLEN, dataLen: len - ICMP_HLEN },
  };
}

/** Writes the header at buf[off]; the body must already be at buf[off+8, off+len). */
export function emitIcmp(buf: Uint8Array, off: number, len: number, type: number, code: number, id: number, seq: number): void {
  buf[off] = type;
  buf[off + 1] = code;
  buf[off + 2] = 0;
  buf[off + 3] = 0;
  writeU16(buf, off + 4, id);
  writeU16(buf, off + 6, seq);
  writeU16(buf, off + 2, internetChecksum(buf, off, len));
}
