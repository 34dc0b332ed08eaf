// The virtio-net header (Linux's struct virtio_net_hdr, 10 bytes) that a TAP opened with
// IFF_VNET_HDR puts before every frame: checksum and segmentation offload metadata. Pure
// functions over bytes, no allocation: filling the header of an outgoing frame, and validating
// (then checking what Linux did not vouch for) an incoming one. Virtio 1.x §5.1.6 is the spec.

import { checksumAdd, checksumFinish, internetChecksum, pseudoHeaderSum } from '../../net/wire/checksum.js';
import { ETH_HLEN, ETH_P_IP } from '../../net/wire/ethernet.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IP_MF, IP_OFFMASK } from '../../net/wire/ipv4.js';

/** The header without num_buffers (TUNSETVNETHDRSZ 10): that field means nothing on a TAP. */
export const VNET_HDR_LEN = 10;
/** flags: the checksum from csum_start to the end goes at csum_start + csum_offset. */
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
/** flags (receive only): Linux has already verified the checksums. */
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;
export const VIRTIO_NET_HDR_GSO_NONE = 0;
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
export const VIRTIO_NET_HDR_GSO_ECN = 0x80;

// Field offsets (struct virtio_net_hdr).
const FLAGS = 0;
const GSO_TYPE = 1;
const HDR_LEN = 2;
const GSO_SIZE = 4;
const CSUM_START = 6;
const CSUM_OFFSET = 8;

/** Where each L4 protocol keeps its checksum (RFC 9293 §3.1, RFC 768). */
const TCP_CSUM = 16;
const UDP_CSUM = 6;
const IP_OFF = ETH_HLEN;

function put16(b: Uint8Array, off: number, v: number, le: boolean): void {
  if (le) {
    b[off] = v & 0xff;
    b[off + 1] = v >>> 8;
  } else {
    b[off] = v >>> 8;
    b[off + 1] = v & 0xff;
  }
}

function get16(b: Uint8Array, off: number, le: boolean): number {
  return le ? b[off]! | (b[off + 1]! << 8) : (b[off]! << 8) | b[off + 1]!;
}

function be16(b: Uint8Array, off: number): number {
  return (b[off]! << 8) | b[off + 1]!;
}

function be32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

/**
 * Fills `hdr` (VNET_HDR_LEN bytes at `at`, fields in little-endian order when `le`) for an
 * outgoing frame from a stack that left TCP and UDP checksums to the device, and puts the
 * pseudo-header sum in the frame's checksum field, as the spec requires of NEEDS_CSUM (§5.1.6.2:
 * the device adds csum_start…end to what the field holds). A TCP frame whose IP datagram exceeds
 * `mtu` becomes GSO_TCPV4: segments of the largest payload that keeps each within the MTU with
 * this frame's headers (the stack builds super-frames only when that is its MSS). Fragments
 * carry a complete checksum already (the stack completes it before fragmenting); ICMP always.
 * Returns false when the frame cannot go out (too big and not TCP, or headers out of range).
 */
export function fillTxHeader(hdr: Uint8Array, at: number, frame: Uint8Array, mtu: number, le: boolean): boolean {
  hdr.fill(0, at, at + VNET_HDR_LEN);
  const len = frame.length;
  if (len < IP_OFF + 20 || be16(frame, 12) !== ETH_P_IP) return len - ETH_HLEN <= mtu;
  const ihl = (frame[IP_OFF]! & 0x0f) * 4;
  const total = be16(frame, IP_OFF + 2);
  if (ihl < 20 || total < ihl || IP_OFF + total > len) return false;
  const proto = frame[IP_OFF + 9]!;
  const fragment = (be16(frame, IP_OFF + 6) & (IP_MF | IP_OFFMASK)) !== 0;
  const l4 = IP_OFF + ihl;
  const l4Len = total - ihl;
  let csumOff = -1;
  if (!fragment && proto === IPPROTO_TCP && l4Len >= 20) csumOff = TCP_CSUM;
  else if (!fragment && proto === IPPROTO_UDP && l4Len >= 8) csumOff = UDP_CSUM;
  if (csumOff >= 0) {
    // The folded, uncomplemented pseudo-header sum (Linux: ~csum_tcpudp_magic(…, 0)); for a GSO
    // frame with the whole frame's length, which segmentation adjusts per segment.
    const partial = ~checksumFinish(pseudoHeaderSum(be32(frame, IP_OFF + 12), be32(frame, IP_OFF + 16), proto, l4Len)) & 0xffff;
    frame[l4 + csumOff] = partial >>> 8;
    frame[l4 + csumOff + 1] = partial & 0xff;
    hdr[at + FLAGS] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    put16(hdr, at + CSUM_START, l4, le);
    put16(hdr, at + CSUM_OFFSET, csumOff, le);
  }
  if (total <= mtu) return true;
  if (csumOff !== TCP_CSUM) return false;
  const doff = (frame[l4 + 12]! >>> 4) * 4;
  const segPayload = mtu - ihl - doff;
  if (doff < 20 || doff > l4Len || segPayload <= 0) return false;
  hdr[at + GSO_TYPE] = VIRTIO_NET_HDR_GSO_TCPV4;
  put16(hdr, at + HDR_LEN, l4 + doff, le);
  put16(hdr, at + GSO_SIZE, segPayload, le);
  return true;
}

/** What checkRxHeader found: the frame is fine, or why it is dropped. */
export const RX_OK = 0;
export const RX_BAD_HEADER = 1;
export const RX_BAD_CHECKSUM = 2;
export type RxStatus = typeof RX_OK | typeof RX_BAD_HEADER | typeof RX_BAD_CHECKSUM;

/** What one received frame was: GSO (a coalesced TCP frame) or not. */
export class RxInfo {
  gso = false;
}

/**
 * Validates the header at buf[at] for the frame at buf[frameOff, frameOff+frameLen) before
 * the frame is believed: only the flags and GSO types TUNSETOFFLOAD asked for (NEEDS_CSUM,
 * DATA_VALID; NONE or TCPV4, with ECN), a GSO frame must be TCP/IPv4 with a segment size, and
 * every offset must lie inside the frame. Then, since the stack trusts an offloading device,
 * checks here what Linux did not vouch for: the IPv4 header checksum always, and the TCP, UDP
 * or ICMP checksum of a frame with neither NEEDS_CSUM nor DATA_VALID (a fragment's transport
 * checksum spans the datagram: it goes unchecked, as on any offloading device).
 */
export function checkRxHeader(buf: Uint8Array, at: number, frameOff: number, frameLen: number, le: boolean, info: RxInfo): RxStatus {
  info.gso = false;
  if (frameLen < ETH_HLEN) return RX_BAD_HEADER;
  const flags = buf[at + FLAGS]!;
  if (flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)) return RX_BAD_HEADER;
  const gsoType = buf[at + GSO_TYPE]!;
  const isIp = frameLen >= ETH_HLEN + 20 && be16(buf, frameOff + 12) === ETH_P_IP;
  const ip = frameOff + ETH_HLEN;
  if (gsoType !== VIRTIO_NET_HDR_GSO_NONE) {
    if ((gsoType & ~VIRTIO_NET_HDR_GSO_ECN) !== VIRTIO_NET_HDR_GSO_TCPV4) return RX_BAD_HEADER;
    if (get16(buf, at + GSO_SIZE, le) === 0 || get16(buf, at + HDR_LEN, le) > frameLen) return RX_BAD_HEADER;
    if (!isIp || buf[ip + 9] !== IPPROTO_TCP) return RX_BAD_HEADER;
    info.gso = true;
  }
  if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
    if (get16(buf, at + CSUM_START, le) + get16(buf, at + CSUM_OFFSET, le) + 2 > frameLen) return RX_BAD_HEADER;
  }
  if (!isIp) return RX_OK;
  const ihl = (buf[ip]! & 0x0f) * 4;
  const total = be16(buf, ip + 2);
  // Malformed IP is the stack's to count; only a header it can read is checked here.
  if (buf[ip]! >>> 4 !== 4 || ihl < 20 || total < ihl || ETH_HLEN + total > frameLen) return RX_OK;
  if (internetChecksum(buf, ip, ihl) !== 0) return RX_BAD_CHECKSUM;
  if (flags !== 0 || (be16(buf, ip + 6) & (IP_MF | IP_OFFMASK)) !== 0) return RX_OK;
  const proto = buf[ip + 9]!;
  const l4 = ip + ihl;
  const l4Len = total - ihl;
  let sum: number;
  if (proto === IPPROTO_TCP || proto === IPPROTO_UDP) {
    // UDP over IPv4 may carry no checksum (zero, RFC 768).
    if (proto === IPPROTO_UDP && (l4Len < 8 || be16(buf, l4 + UDP_CSUM) === 0)) return RX_OK;
    sum = checksumAdd(pseudoHeaderSum(be32(buf, ip + 12), be32(buf, ip + 16), proto, l4Len), buf, l4, l4Len);
  } else if (proto === IPPROTO_ICMP) sum = checksumAdd(0, buf, l4, l4Len);
  else return RX_OK;
  return checksumFinish(sum) === 0 ? RX_OK : RX_BAD_CHECKSUM;
}
