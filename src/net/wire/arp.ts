// ARP packets for IPv4 over Ethernet (RFC 826): hardware type 1, protocol 0x0800, 6-byte and
// 4-byte addresses. Anything else is refused by the parser.

import { readMac, writeMac } from './ethernet.js';
import { readU16, readU32, writeU16, writeU32 } from './ipv4.js';
import { WIRE_MALFORMED, WIRE_OK, WIRE_TRUNCATED, WIRE_UNSUPPORTED, type WireStatus } from './status.js';

export const ARP_LEN = 28;
export const ARPOP_REQUEST = 1;
export const ARPOP_REPLY = 2;
const ARPHRD_ETHER = 1;

export interface ArpRepr {
  op: number;
  senderMac: number;
  senderIp: number;
  targetMac: number;
  targetIp: number;
}

export function parseArp(buf: Uint8Array, off: number, len: number): { status: WireStatus; arp?: ArpRepr } {
  if (len < ARP_LEN) return { status: WIRE_TRUNCATED };
  if (readU16(buf, off) !== ARPHRD_ETHER || readU16(buf, off + 2) !== 0x0800) return { status: WIRE_UNSUPPORTED };
  if (buf[off + 4] !== 6 || buf[off + 5] !== 4) return { status: WIRE_MALFORMED };
  const op = readU16(buf, off + 6);
  if (op !== ARPOP_REQUEST && op !== ARPOP_REPLY) return { status: WIRE_UNSUPPORTED };
  return {
    status: WIRE_OK,
    arp: { op, senderMac: readMac(buf, off + 8), senderIp: readU32(buf, off + 14), targetMac: readMac(buf, off + 18), targetIp: readU32(buf, off + 24) },
  };
}

export function emitArp(buf: Uint8Array, off: number, a: ArpRepr): void {
  writeU16(buf, off, ARPHRD_ETHER);
  writeU16(buf, off + 2, 0x0800);
  buf[off + 4] = 6;
  buf[off + 5] = 4;
  writeU16(buf, off + 6, a.op);
  writeMac(buf, off + 8, a.senderMac);
  writeU32(buf, off + 14, a.senderIp);
  writeMac(buf, off + 18, a.targetMac);
  writeU32(buf, off + 24, a.targetIp);
}
