// Ethernet II frames (IEEE 802.3 with an EtherType) and MAC addresses. A MAC address is a
// 48-bit number (exact in a JS double), so addresses compare with === and key Maps cheaply.
// Frames carry no FCS: devices add and strip it, as Linux's do.

export const ETH_ALEN = 6;
export const ETH_HLEN = 14;
/** Smallest frame without FCS; shorter frames are padded on transmit. */
export const ETH_ZLEN = 60;
export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;

export const ETH_DST = 0;
export const ETH_SRC = 6;
export const ETH_TYPE = 12;

/** The broadcast address ff:ff:ff:ff:ff:ff. */
export const MAC_BROADCAST = 0xffffffffffff;
const TWO32 = 0x100000000;

export function readMac(buf: Uint8Array, off: number): number {
  const hi = (buf[off]! << 8) | buf[off + 1]!;
  const lo = ((buf[off + 2]! << 24) | (buf[off + 3]! << 16) | (buf[off + 4]! << 8) | buf[off + 5]!) >>> 0;
  return hi * TWO32 + lo;
}

export function writeMac(buf: Uint8Array, off: number, mac: number): void {
  const hi = Math.floor(mac / TWO32);
  const lo = mac - hi * TWO32;
  buf[off] = hi >>> 8;
  buf[off + 1] = hi;
  buf[off + 2] = lo >>> 24;
  buf[off + 3] = lo >>> 16;
  buf[off + 4] = lo >>> 8;
  buf[off + 5] = lo;
}

/** A group (multicast or broadcast) address has the low bit of its first octet set. */
export function isMulticastMac(mac: number): boolean {
  return (Math.floor(mac / 0x10000000000) & 1) === 1;
}

/** "52:54:00:12:34:56". */
export function formatMac(mac: number): string {
  const b = new Uint8Array(6);
  writeMac(b, 0, mac);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}

/** Parses "52:54:00:12:34:56" (or with dashes); returns null when malformed. */
export function parseMac(s: string): number | null {
  const parts = s.split(/[:-]/);
  if (parts.length !== 6) return null;
  let v = 0;
  for (const p of parts) {
    if (!/^[0-9a-fA-F]{1,2}$/.test(p)) return null;
    v = v * 256 + parseInt(p, 16);
  }
  return v;
}

/** The parsed header of an Ethernet frame. */
export interface EthernetRepr {
  dst: number;
  src: number;
  ethertype: number;
}

/** Parses the header; null when the frame is shorter than a header. */
export function parseEthernet(frame: Uint8Array): EthernetRepr | null {
  if (frame.length < ETH_HLEN) return null;
  return { dst: readMac(frame, ETH_DST), src: readMac(frame, ETH_SRC), ethertype: (frame[ETH_TYPE]! << 8) | frame[ETH_TYPE + 1]! };
}

/** Writes the 14-byte header at the start of `frame`. */
export function emitEthernet(frame: Uint8Array, dst: number, src: number, ethertype: number): void {
  writeMac(frame, ETH_DST, dst);
  writeMac(frame, ETH_SRC, src);
  frame[ETH_TYPE] = ethertype >>> 8;
  frame[ETH_TYPE + 1] = ethertype;
}
