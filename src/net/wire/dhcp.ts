// DHCP messages (RFC 2131 §2, BOOTP layout of RFC 951) with options (RFC 2132): the fixed
// 236-byte header, the magic cookie, and TLV options. The parser checks every length.

import { readMac, writeMac } from './ethernet.js';
import { readU16, readU32, writeU16, writeU32 } from './ipv4.js';
import { WIRE_MALFORMED, WIRE_OK, WIRE_TRUNCATED, type WireStatus } from './status.js';

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
const FIXED = 236;
const COOKIE = 0x63825363;
export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
/** RFC 2131 §2: ask the server to broadcast replies (we have no address yet). */
export const DHCP_BROADCAST_FLAG = 0x8000;

// Message types (option 53).
export const DHCPDISCOVER = 1;
export const DHCPOFFER = 2;
export const DHCPREQUEST = 3;
export const DHCPDECLINE = 4;
export const DHCPACK = 5;
export const DHCPNAK = 6;
export const DHCPRELEASE = 7;

// Options (RFC 2132).
export const OPT_PAD = 0;
export const OPT_SUBNET_MASK = 1;
export const OPT_ROUTER = 3;
export const OPT_DNS = 6;
export const OPT_HOSTNAME = 12;
export const OPT_DOMAIN = 15;
export const OPT_MTU = 26;
export const OPT_REQUESTED_IP = 50;
export const OPT_LEASE_TIME = 51;
export const OPT_MSG_TYPE = 53;
export const OPT_SERVER_ID = 54;
export const OPT_PARAM_LIST = 55;
export const OPT_RENEWAL_T1 = 58;
export const OPT_REBINDING_T2 = 59;
export const OPT_CLIENT_ID = 61;
export const OPT_END = 255;

export interface DhcpMessage {
  op: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: number;
  yiaddr: number;
  siaddr: number;
  giaddr: number;
  chaddr: number;
  /** Options by code, raw values. */
  options: Map<number, Uint8Array>;
}

export function parseDhcp(buf: Uint8Array): { status: WireStatus; msg?: DhcpMessage } {
  if (buf.length < FIXED + 4) return { status: WIRE_TRUNCATED };
  if (buf[1] !== 1 || buf[2] !== 6) return { status: WIRE_MALFORMED };
  if (readU32(buf, FIXED) !== COOKIE) return { status: WIRE_MALFORMED };
  const options = new Map<number, Uint8Array>();
  let at = FIXED + 4;
  while (at < buf.length) {
    const code = buf[at]!;
    if (code === OPT_PAD) {
      at++;
      continue;
    }
    if (code === OPT_END) break;
    if (at + 1 >= buf.length) return { status: WIRE_MALFORMED };
    const len = buf[at + 1]!;
    if (at + 2 + len > buf.length) return { status: WIRE_MALFORMED };
    // RFC 3396: repeated options concatenate.
    const v = buf.subarray(at + 2, at + 2 + len);
    const old = options.get(code);
    options.set(code, old === undefined ? v : concat(old, v));
    at += 2 + len;
  }
  return {
    status: WIRE_OK,
    msg: {
      op: buf[0]!,
      xid: readU32(buf, 4),
      secs: readU16(buf, 8),
      flags: readU16(buf, 10),
      ciaddr: readU32(buf, 12),
      yiaddr: readU32(buf, 16),
      siaddr: readU32(buf, 20),
      giaddr: readU32(buf, 24),
      chaddr: readMac(buf, 28),
      options,
    },
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const o = new Uint8Array(a.length + b.length);
  o.set(a);
  o.set(b, a.length);
  return o;
}

export function emitDhcp(m: DhcpMessage): Uint8Array {
  let optLen = 0;
  for (const v of m.options.values()) optLen += 2 + v.length;
  // At least the BOOTP minimum of 300 bytes (some servers insist).
  const buf = new Uint8Array(Math.max(300, FIXED + 4 + optLen + 1));
  buf[0] = m.op;
  buf[1] = 1;
  buf[2] = 6;
  writeU32(buf, 4, m.xid);
  writeU16(buf, 8, m.secs);
  writeU16(buf, 10, m.flags);
  writeU32(buf, 12, m.ciaddr);
  writeU32(buf, 16, m.yiaddr);
  writeU32(buf, 20, m.siaddr);
  writeU32(buf, 24, m.giaddr);
  writeMac(buf, 28, m.chaddr);
  writeU32(buf, FIXED, COOKIE);
  let at = FIXED + 4;
  for (const [code, v] of m.options) {
    buf[at] = code;
    buf[at + 1] = v.length;
    buf.set(v, at + 2);
    at += 2 + v.length;
  }
  buf[at] = OPT_END;
  return buf;
}

export function optU32(m: DhcpMessage, code: number): number | null {
  const v = m.options.get(code);
  return v !== undefined && v.length >= 4 ? readU32(v, 0) : null;
}

export function optAddrs(m: DhcpMessage, code: number): number[] {
  const v = m.options.get(code);
  const out: number[] = [];
  if (v !== undefined) for (let i = 0; i + 4 <= v.length; i += 4) out.push(readU32(v, i));
  return out;
}

export function u32Bytes(v: number): Uint8Array {
  const b = new Uint8Array(4);
  writeU32(b, 0, v);
  return b;
}
