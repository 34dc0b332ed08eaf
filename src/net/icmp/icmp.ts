// ICMP for IPv4 (RFC 792, RFC 1122 §3.2.2): answers echo requests, hands echo replies to ping
// sockets, turns received errors into socket errors (and path MTU changes, RFC 1191), and sends
// errors under RFC 1122's rules (never about an ICMP error, a broadcast, or a non-first
// fragment) with a token-bucket rate limit like Linux's icmp_msgs_per_sec.

import type { Instant } from '../../host/host_ops.js';
import type { NetInterface } from '../interface/interface.js';
import type { NetStack } from '../stack.js';
import { L4_OFF } from '../stack.js';
import {
  emitIcmp, ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_ECHOREPLY, ICMP_FRAG_NEEDED, ICMP_HLEN, ICMP_PARAMETERPROB, ICMP_TIME_EXCEEDED, parseIcmp,
} from '../wire/icmp.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPV4_HLEN, Ipv4Repr, isMulticastIpv4, parseIpv4, readU16 } from '../wire/ipv4.js';
import { WIRE_BAD_CHECKSUM, WIRE_OK } from '../wire/status.js';
import type { PingSocket } from './ping_socket.js';

/** Linux's icmp_msgs_per_sec and icmp_msgs_burst. */
const RATE_PER_SEC = 1000;
const BURST = 50;
/** Largest error message: RFC 1812 §4.3.2.3 — the reply fits in 576 bytes. */
const MAX_ERROR_LEN = 576 - IPV4_HLEN;

export class IcmpLayer {
  /** Ping sockets by identifier (their "port"). */
  readonly pingSockets = new Map<number, PingSocket>();
  /** Answer echo requests sent to a broadcast address (icmp_echo_ignore_broadcasts=0). */
  echoBroadcasts = false;
  private tokens = BURST;
  private tokensAt = 0;
  private readonly quoted = new Ipv4Repr();

  constructor(private readonly stack: NetStack) {}

  input(iface: NetInterface, ip: Ipv4Repr, buf: Uint8Array, off: number, len: number, now: Instant): void {
    const s = this.stack.stats;
    s.IcmpInMsgs++;
    const { status, icmp } = parseIcmp(buf, off, len, !iface.offload);
    if (status !== WIRE_OK || icmp === undefined) {
      if (status === WIRE_BAD_CHECKSUM) s.IcmpInCsumErrors++;
      s.IcmpInErrors++;
      return;
    }
    switch (icmp.type) {
      case ICMP_ECHO: {
        s.IcmpInEchos++;
        if (iface.isBroadcast(ip.dst) && !this.echoBroadcasts) return;
        // The reply carries the request's identifier, sequence and data (RFC 792).
        const r = this.stack.route(ip.src);
        if (r === null) return;
        const src = this.stack.isLocal(ip.dst) ? ip.dst : this.stack.sourceFor(r, ip.src);
        const f = this.stack.allocFrame(len);
        f.set(buf.subarray(off, off + len), L4_OFF);
        emitIcmp(f, L4_OFF, len, ICMP_ECHOREPLY, 0, icmp.id, icmp.seq);
        s.IcmpOutMsgs++;
        s.IcmpOutEchoReps++;
        this.stack.ipOutput(f, len, IPPROTO_ICMP, src, ip.src, r, this.stack.defaultTtl, ip.tos, false, now);
        return;
      }
      case ICMP_ECHOREPLY: {
        s.IcmpInEchoReps++;
        this.pingSockets.get(icmp.id)?.deliver(ip.src, buf, off, len, now);
        return;
      }
      case ICMP_DEST_UNREACH:
      case ICMP_TIME_EXCEEDED:
      case ICMP_PARAMETERPROB: {
        if (icmp.type === ICMP_DEST_UNREACH) s.IcmpInDestUnreachs++;
        if (icmp.type === ICMP_TIME_EXCEEDED) s.IcmpInTimeExcds++;
        // The body quotes our datagram: its IP header and at least 8 bytes of transport header.
        const q = this.quoted;
        const qoff = icmp.dataOff;
        const qlen = icmp.dataLen;
        if (qlen < IPV4_HLEN || parseQuoted(buf, qoff, qlen, q) !== WIRE_OK || qlen < q.hdrLen + 8) {
          s.IcmpInErrors++;
          return;
        }
        if (!this.stack.isLocal(q.src)) return;
        const info = icmp.seq; // the next-hop MTU for fragmentation needed
        this.deliverError(q, buf, qoff + q.hdrLen, qlen - q.hdrLen, icmp.type, icmp.code, info, now);
        return;
      }
      default:
        return;
    }
  }

  /**
   * Hands an error about our datagram `q` (transport header at buf[off, off+len)) to the
   * protocol that sent it. Fragmentation needed also lowers the path MTU first.
   */
  deliverError(q: Ipv4Repr, buf: Uint8Array, off: number, len: number, type: number, code: number, info: number, now: Instant): void {
    if (type === ICMP_DEST_UNREACH && code === ICMP_FRAG_NEEDED && info > 0) this.stack.learnPmtu(q.dst, info, now);
    if (len < 4 && q.protocol !== IPPROTO_ICMP) return;
    switch (q.protocol) {
      case IPPROTO_UDP:
        this.stack.udp.error(q.src, readU16(buf, off), q.dst, readU16(buf, off + 2), type, code, now);
        break;
      case IPPROTO_TCP:
        this.stack.tcp.error(q.src, readU16(buf, off), q.dst, readU16(buf, off + 2), len >= 8 ? ((buf[off + 4]! << 24) | (buf[off + 5]! << 16) | (buf[off + 6]! << 8) | buf[off + 7]!) >>> 0 : 0, type, code, info, now);
        break;
      case IPPROTO_ICMP:
        if (len >= 8 && buf[off] === ICMP_ECHO) this.pingSockets.get(readU16(buf, off + 4))?.error(type, code);
        break;
    }
  }

  /**
   * Sends an ICMP error about the datagram at buf[ipOff, ipOff+ipLen) back to its source.
   * Silently does nothing where RFC 1122 §3.2.2 forbids an error or the rate limit is spent.
   */
  sendErrorFor(buf: Uint8Array, ipOff: number, ipLen: number, type: number, code: number, info: number, now: Instant): void {
    const s = this.stack.stats;
    const ip = new Ipv4Repr();
    if (parseIpv4(buf, ipOff, ipLen, ip, false) !== WIRE_OK && ipLen >= IPV4_HLEN) {
      // The quoted head of a reassembly timeout is truncated by design; read what is there.
      if (parseQuoted(buf, ipOff, ipLen, ip) !== WIRE_OK) return;
    }
    if (ip.fragOffset !== 0) return;
    if (ip.src === 0 || ip.src === 0xffffffff || isMulticastIpv4(ip.src) || isMulticastIpv4(ip.dst) || ip.dst === 0xffffffff) return;
    for (const i of this.stack.interfaces) if (i.isBroadcast(ip.dst) || i.isBroadcast(ip.src)) return;
    if (ip.protocol === IPPROTO_ICMP) {
      const t = buf[ipOff + ip.hdrLen];
      if (t !== ICMP_ECHO && t !== ICMP_ECHOREPLY) return;
    }
    if (!this.takeToken(now)) {
      s.IcmpOutRateLimited++;
      return;
    }
    const r = this.stack.route(ip.src);
    if (r === null) return;
    const quote = Math.min(ipLen, MAX_ERROR_LEN - ICMP_HLEN);
    const len = ICMP_HLEN + quote;
    const f = this.stack.allocFrame(len);
    f.set(buf.subarray(ipOff, ipOff + quote), L4_OFF + ICMP_HLEN);
    // Frag-needed carries the next-hop MTU in the low 16 bits of the second word (RFC 1191).
    emitIcmp(f, L4_OFF, len, type, code, 0, info);
    s.IcmpOutMsgs++;
    s.IcmpOutErrors++;
    if (type === ICMP_DEST_UNREACH) s.IcmpOutDestUnreachs++;
    if (type === ICMP_TIME_EXCEEDED) s.IcmpOutTimeExcds++;
    const src = this.stack.isLocal(ip.dst) ? ip.dst : this.stack.sourceFor(r, ip.src);
    this.stack.ipOutput(f, len, IPPROTO_ICMP, src, ip.src, r, this.stack.defaultTtl, 0xc0, false, now);
  }

  private takeToken(now: Instant): boolean {
    const elapsed = now - this.tokensAt;
    if (elapsed > 0) {
      this.tokens = Math.min(BURST, this.tokens + (elapsed * RATE_PER_SEC) / 1e9);
      this.tokensAt = now;
    }
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}

/** Parses a quoted IP header, where the datagram itself is usually truncated. */
function parseQuoted(buf: Uint8Array, off: number, len: number, out: Ipv4Repr): number {
  if (len < IPV4_HLEN) return 1;
  const vi = buf[off]!;
  const hl = (vi & 0xf) * 4;
  if (vi >>> 4 !== 4 || hl < IPV4_HLEN || hl > len) return 3;
  out.hdrLen = hl;
  out.totalLen = readU16(buf, off + 2);
  const frag = readU16(buf, off + 6);
  out.fragOffset = (frag & 0x1fff) * 8;
  out.mf = (frag & 0x2000) !== 0;
  out.df = (frag & 0x4000) !== 0;
  out.id = readU16(buf, off + 4);
  out.ttl = buf[off + 8]!;
  out.protocol = buf[off + 9]!;
  out.src = ((buf[off + 12]! << 24) | (buf[off + 13]! << 16) | (buf[off + 14]! << 8) | buf[off + 15]!) >>> 0;
  out.dst = ((buf[off + 16]! << 24) | (buf[off + 17]! << 16) | (buf[off + 18]! << 8) | buf[off + 19]!) >>> 0;
  return WIRE_OK;
}
