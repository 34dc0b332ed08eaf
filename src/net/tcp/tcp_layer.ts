// TCP's part of the stack (Linux's tcp_ipv4.c and inet_hashtables.c): the tables of bound
// ports, listeners and connections; demultiplexing of arriving segments; passive opens from
// LISTEN (RFC 9293 §3.10.7.2); resets for segments nobody owns (§3.10.7.1); ICMP errors for
// connections (RFC 5927 checks); port binding with SO_REUSEADDR as Linux applies it.

import type { Instant } from '../../host/host_ops.js';
import { E } from '../../kernel/errno.js';
import type { NetInterface } from '../interface/interface.js';
import { pickEphemeralPort } from '../socket/ports.js';
import type { NetStack } from '../stack.js';
import { L4_OFF } from '../stack.js';
import { ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, ICMP_PORT_UNREACH, ICMP_PROT_UNREACH } from '../wire/icmp.js';
import { IPPROTO_TCP, type Ipv4Repr, isMulticastIpv4 } from '../wire/ipv4.js';
import { WIRE_BAD_CHECKSUM, WIRE_OK } from '../wire/status.js';
import { emitTcp, parseTcp, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, TcpRepr } from '../wire/tcp.js';
import { errorFromIcmp } from '../udp/udp.js';
import { IsnGenerator } from './isn.js';
import { seqAdd, seqGe, seqLe } from './seq.js';
import { TCP_LISTEN, TCP_SYN_SENT, TCP_TIME_WAIT, TcpSocket } from './tcp_socket.js';

/** RFC 5961 §7 challenge ACK limit (Linux's tcp_challenge_ack_limit) per second. */
const CHALLENGE_ACK_LIMIT = 1000;
/** Half-open connections per listener before SYNs are dropped (no SYN cookies). */
const MAX_SYN_BACKLOG = 1024;

export class TcpLayer {
  readonly rx = new TcpRepr();
  readonly tx = new TcpRepr();
  readonly isn: IsnGenerator;
  /** TCP_CONGESTION for new sockets (net.ipv4.tcp_congestion_control). */
  defaultCongestion = 'cubic';
  /** net.ipv4.tcp_sack, tcp_timestamps, tcp_window_scaling: offer the option in our SYNs. */
  sack = true;
  timestamps = true;
  windowScaling = true;
  /** Connections by (local port << 16 | remote port), checked for addresses. */
  private readonly conns = new Map<number, TcpSocket[]>();
  private readonly listeners = new Map<number, TcpSocket[]>();
  /** Every socket holding a local port (bind conflicts, ephemeral choice). */
  private readonly ports = new Map<number, TcpSocket[]>();
  private readonly tsOffset: number;
  private challengeCount = 0;
  private challengeSecond = -1;
  private readonly rstRepr = new TcpRepr();

  constructor(readonly stack: NetStack) {
    this.isn = new IsnGenerator((b) => stack.host.randomFill(b));
    const r = new Uint8Array(4);
    stack.host.randomFill(r);
    // A random timestamp offset per stack (Linux randomises per connection) hides uptime.
    this.tsOffset = ((r[0]! << 24) | (r[1]! << 16) | (r[2]! << 8) | r[3]!) >>> 0;
  }

  /** The RFC 7323 timestamp clock: milliseconds. */
  tsClock(now: Instant): number {
    return (Math.floor(now / 1e6) + this.tsOffset) >>> 0;
  }

  challengeAllowed(now: Instant): boolean {
    const sec = Math.floor(now / 1e9);
    if (sec !== this.challengeSecond) {
      this.challengeSecond = sec;
      this.challengeCount = 0;
    }
    return this.challengeCount++ < CHALLENGE_ACK_LIMIT;
  }

  // ---- input -------------------------------------------------------------------------------

  input(iface: NetInterface, ip: Ipv4Repr, buf: Uint8Array, off: number, len: number, now: Instant): void {
    const s = this.stack.stats;
    const seg = this.rx;
    const st = parseTcp(buf, off, len, ip.src, ip.dst, !iface.offload, seg);
    if (st !== WIRE_OK) {
      if (st === WIRE_BAD_CHECKSUM) s.TcpInCsumErrors++;
      s.TcpInErrs++;
      return;
    }
    s.TcpInSegs++;
    // Never to or from a broadcast or multicast address (RFC 1122 §4.2.3.10).
    if (iface.isBroadcast(ip.dst) || isMulticastIpv4(ip.dst) || isMulticastIpv4(ip.src)) return;
    const dataOff = off + seg.hdrLen;
    const dataLen = len - seg.hdrLen;
    const sk = this.lookup(ip.dst, seg.dstPort, ip.src, seg.srcPort);
    if (sk !== null) {
      sk.segmentArrived(seg, buf, dataOff, dataLen, now);
      return;
    }
    const l = this.findListener(ip.dst, seg.dstPort);
    if (l !== null) {
      this.listenInput(l, seg, ip, now);
      return;
    }
    this.resetFor(seg, ip.dst, ip.src, dataLen, now);
  }

  /** RFC 9293 §3.10.7.2: a segment for a LISTEN socket. */
  private listenInput(l: TcpSocket, seg: TcpRepr, ip: Ipv4Repr, now: Instant): void {
    const s = this.stack.stats;
    if (seg.flags & TCP_RST) return;
    if (seg.flags & TCP_ACK) {
      this.sendReset(ip.dst, seg.dstPort, ip.src, seg.srcPort, seg.ack, 0, TCP_RST, now);
      return;
    }
    if (!(seg.flags & TCP_SYN)) return;
    if (l.acceptQueue.length > l.backlog || l.synQueue >= Math.max(MAX_SYN_BACKLOG, l.backlog)) {
      s.TcpExtListenOverflows++;
      s.TcpExtListenDrops++;
      return;
    }
    const c = new TcpSocket(this);
    c.initFromSyn(l, seg, ip.dst, ip.src, now);
    this.holdPort(c);
    this.hash(c);
    l.synQueue++;
    c.sendSyn(now);
  }

  /** RFC 9293 §3.10.7.1: a reset for a segment that matches no socket (never for a RST). */
  private resetFor(seg: TcpRepr, laddr: number, raddr: number, dataLen: number, now: Instant): void {
    if (seg.flags & TCP_RST) return;
    if (seg.flags & TCP_ACK) this.sendReset(laddr, seg.dstPort, raddr, seg.srcPort, seg.ack, 0, TCP_RST, now);
    else {
      const segLen = dataLen + (seg.flags & TCP_SYN ? 1 : 0) + (seg.flags & TCP_FIN ? 1 : 0);
      this.sendReset(laddr, seg.dstPort, raddr, seg.srcPort, 0, seqAdd(seg.seq, segLen), TCP_RST | TCP_ACK, now);
    }
  }

  /** Sends a bare reset (no connection state involved). */
  sendReset(laddr: number, lport: number, raddr: number, rport: number, seq: number, ack: number, flags: number, now: Instant): void {
    const r = this.stack.route(raddr);
    if (r === null) return;
    const t = this.rstRepr;
    t.resetOptions();
    t.srcPort = lport;
    t.dstPort = rport;
    t.seq = seq;
    t.ack = ack;
    t.flags = flags;
    t.window = 0;
    t.urgent = 0;
    const hlen = t.headerLen();
    const f = this.stack.allocFrame(hlen);
    emitTcp(f, L4_OFF, t, 0, laddr, raddr, !r.iface.offload);
    this.stack.stats.TcpOutSegs++;
    this.stack.stats.TcpOutRsts++;
    this.stack.ipOutput(f, hlen, IPPROTO_TCP, laddr, raddr, r, this.stack.defaultTtl, 0, true, now);
  }

  /** An ICMP error about a segment we sent (RFC 5927 §4.1: only if its sequence number is in flight). */
  error(laddr: number, lport: number, raddr: number, rport: number, seq: number, type: number, code: number, info: number, now: Instant): void {
    void info;
    const sk = this.lookup(laddr, lport, raddr, rport);
    if (sk === null) return;
    if (!(seqGe(seq, sk.sndUna) && seqLe(seq, sk.sndMax))) return;
    if (type === ICMP_DEST_UNREACH && code === ICMP_FRAG_NEEDED) {
      sk.pmtuChanged(now);
      return;
    }
    // Port and protocol unreachable are hard errors; the rest are soft (RFC 1122 §4.2.3.9).
    // During the handshake any of them ends the attempt (as Linux's tcp_v4_err does).
    if ((type === ICMP_DEST_UNREACH && (code === ICMP_PORT_UNREACH || code === ICMP_PROT_UNREACH)) || sk.state === TCP_SYN_SENT) sk.icmpError(errorFromIcmp(type, code), now);
    else sk.softError = errorFromIcmp(type, code);
  }

  // ---- tables ------------------------------------------------------------------------------

  lookup(laddr: number, lport: number, raddr: number, rport: number): TcpSocket | null {
    const list = this.conns.get(lport * 65536 + rport);
    if (list === undefined) return null;
    for (const sk of list) if (sk.remoteAddr === raddr && sk.localAddr === laddr) return sk;
    return null;
  }

  private findListener(laddr: number, port: number): TcpSocket | null {
    const list = this.listeners.get(port);
    if (list === undefined) return null;
    let wild: TcpSocket | null = null;
    for (const l of list) {
      if (l.localAddr === laddr) return l;
      if (l.localAddr === 0) wild = l;
    }
    return wild;
  }

  hash(sk: TcpSocket): void {
    if (sk.hashed) return;
    const key = sk.localPort * 65536 + sk.remotePort;
    let list = this.conns.get(key);
    if (list === undefined) this.conns.set(key, (list = []));
    list.push(sk);
    sk.hashed = true;
  }

  unhash(sk: TcpSocket): void {
    if (!sk.hashed) return;
    const key = sk.localPort * 65536 + sk.remotePort;
    const list = this.conns.get(key);
    if (list !== undefined) {
      const i = list.indexOf(sk);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.conns.delete(key);
    }
    sk.hashed = false;
  }

  addListener(sk: TcpSocket): void {
    let list = this.listeners.get(sk.localPort);
    if (list === undefined) this.listeners.set(sk.localPort, (list = []));
    list.push(sk);
  }

  removeListener(sk: TcpSocket): void {
    const list = this.listeners.get(sk.localPort);
    if (list === undefined) return;
    const i = list.indexOf(sk);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.listeners.delete(sk.localPort);
  }

  /** Another listener on an overlapping address and the same port. Errors: EADDRINUSE. */
  listenConflict(sk: TcpSocket): void {
    for (const o of this.listeners.get(sk.localPort) ?? []) {
      if (o === sk) continue;
      if (o.localAddr === 0 || sk.localAddr === 0 || o.localAddr === sk.localAddr) {
        if (sk.reusePort && o.reusePort) continue;
        throw E.EADDRINUSE;
      }
    }
  }

  /**
   * Binds `sk` to addr:port (0: ephemeral). Linux's rules: overlapping addresses conflict
   * unless both sockets set SO_REUSEADDR and the other is not listening; a TIME_WAIT socket
   * yields to any socket with SO_REUSEADDR. Errors: EADDRINUSE.
   */
  bind(sk: TcpSocket, addr: number, port: number): void {
    if (port === 0) port = pickEphemeralPort(this.stack.host, (p) => this.bindConflict(sk, addr, p, true));
    else if (this.bindConflict(sk, addr, port, false)) throw E.EADDRINUSE;
    sk.localAddr = addr;
    sk.localPort = port;
    this.holdPort(sk);
  }

  private bindConflict(sk: TcpSocket, addr: number, port: number, ephemeral: boolean): boolean {
    const list = this.ports.get(port);
    if (list === undefined) return false;
    if (ephemeral && list.length > 0) return true;
    for (const o of list) {
      if (o === sk) continue;
      if (o.localAddr !== 0 && addr !== 0 && o.localAddr !== addr) continue;
      if (o.state === TCP_TIME_WAIT && sk.reuseAddr) continue;
      if (sk.reuseAddr && o.reuseAddr && o.state !== TCP_LISTEN) continue;
      if (sk.reusePort && o.reusePort) continue;
      return true;
    }
    return false;
  }

  /** connect() without bind(): an ephemeral port whose 4-tuple is unused. */
  bindForConnect(sk: TcpSocket): void {
    const port = pickEphemeralPort(this.stack.host, (p) => (this.ports.get(p)?.length ?? 0) > 0);
    sk.localPort = port;
    this.holdPort(sk);
  }

  tupleInUse(sk: TcpSocket): boolean {
    const o = this.lookup(sk.localAddr, sk.localPort, sk.remoteAddr, sk.remotePort);
    return o !== null && o !== sk;
  }

  private holdPort(sk: TcpSocket): void {
    let list = this.ports.get(sk.localPort);
    if (list === undefined) this.ports.set(sk.localPort, (list = []));
    list.push(sk);
    sk.bound = true;
  }

  /** Releases the port (idempotent). */
  unbind(sk: TcpSocket): void {
    if (!sk.bound) return;
    sk.bound = false;
    const list = this.ports.get(sk.localPort);
    if (list === undefined) return;
    const i = list.indexOf(sk);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.ports.delete(sk.localPort);
  }

  /** Every connection (for `ss`-like listings and tests). */
  connections(): TcpSocket[] {
    const out: TcpSocket[] = [];
    for (const l of this.conns.values()) out.push(...l);
    return out;
  }
}
