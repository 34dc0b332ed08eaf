// UDP (RFC 768, RFC 1122 §4.1): the port table, input demultiplexing (most specific socket
// first; broadcasts to every match), ICMP port unreachable when nobody listens, and UDP
// sockets — connected or not, with SO_BROADCAST and SO_REUSEADDR as Linux has them.

import type { Instant } from '../../host/host_ops.js';
import { E, type Errno } from '../../kernel/errno.js';
import { POLLERR, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../../abi/linux/poll.js';
import { IP_MTU_DISCOVER, IP_PMTUDISC_DO, IP_TOS, IP_TTL, IPPROTO_UDP, SOCK_DGRAM, SOL_IP } from '../../abi/linux/socket.js';
import type { NetInterface } from '../interface/interface.js';
import { DgramQueue } from '../socket/dgram_queue.js';
import { pickEphemeralPort } from '../socket/ports.js';
import { AF_INET, AF_UNSPEC, inetAddr, inetArg, type SockAddr } from '../socket/sockaddr.js';
import { intOpt, Socket, type RecvInfo, type SockOptValue } from '../socket/socket.js';
import type { NetStack } from '../stack.js';
import { IP_OFF, L4_OFF } from '../stack.js';
import { ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, ICMP_NET_UNREACH, ICMP_PORT_UNREACH, ICMP_PROT_UNREACH, ICMP_TIME_EXCEEDED } from '../wire/icmp.js';
import type { Ipv4Repr } from '../wire/ipv4.js';
import { WIRE_BAD_CHECKSUM, WIRE_OK } from '../wire/status.js';
import { emitUdp, parseUdp, UDP_HLEN, UdpRepr } from '../wire/udp.js';

/** Largest UDP payload over IPv4: 65535 − 20 − 8. */
export const UDP_MAX_PAYLOAD = 65507;
/** Linux's default net.core.rmem_default / wmem_default. */
const UDP_BUF_DEFAULT = 212992;

/** The errno an ICMP error becomes for a socket (Linux's icmp_err_convert). */
export function errorFromIcmp(type: number, code: number): Errno {
  if (type === ICMP_TIME_EXCEEDED) return E.EHOSTUNREACH;
  if (type !== ICMP_DEST_UNREACH) return E.EPROTO;
  switch (code) {
    case ICMP_NET_UNREACH:
      return E.ENETUNREACH;
    case ICMP_PROT_UNREACH:
      return E.ENOPROTOOPT;
    case ICMP_PORT_UNREACH:
      return E.ECONNREFUSED;
    case ICMP_FRAG_NEEDED:
      return E.EMSGSIZE;
    default:
      return E.EHOSTUNREACH;
  }
}

export class UdpLayer {
  private readonly ports = new Map<number, UdpSocket[]>();
  private readonly rx = new UdpRepr();

  constructor(readonly stack: NetStack) {}

  input(iface: NetInterface, ip: Ipv4Repr, buf: Uint8Array, off: number, len: number, now: Instant): void {
    const s = this.stack.stats;
    const u = this.rx;
    const st = parseUdp(buf, off, len, ip.src, ip.dst, !iface.offload, u);
    if (st !== WIRE_OK) {
      if (st === WIRE_BAD_CHECKSUM) s.UdpInCsumErrors++;
      s.UdpInErrors++;
      return;
    }
    const list = this.ports.get(u.dstPort);
    const bcast = iface.isBroadcast(ip.dst) || (ip.dst >>> 28) === 0xe;
    const payload = buf.subarray(off + UDP_HLEN, off + u.length);
    let matched = false;
    let delivered = false;
    if (list !== undefined) {
      if (bcast) {
        for (const sk of list) {
          if (sk.matches(ip.dst, ip.src, u.srcPort, true) < 0) continue;
          matched = true;
          if (sk.deliver(payload, ip.src, u.srcPort)) delivered = true;
        }
      } else {
        let best: UdpSocket | null = null;
        let score = -1;
        for (const sk of list) {
          const m = sk.matches(ip.dst, ip.src, u.srcPort, false);
          if (m > score) {
            score = m;
            best = sk;
          }
        }
        if (best !== null) {
          matched = true;
          delivered = best.deliver(payload, ip.src, u.srcPort);
        }
      }
    }
    if (!matched) {
      s.UdpNoPorts++;
      // RFC 1122 §4.1.3.1: port unreachable, quoting the datagram (not for broadcasts).
      if (!bcast) {
        const orig = off === IP_OFF + ip.hdrLen ? buf.subarray(IP_OFF) : reframe(buf, off, ip);
        this.stack.icmp.sendErrorFor(orig, 0, Math.min(orig.length, ip.totalLen), ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, now);
      }
      return;
    }
    if (delivered) s.UdpInDatagrams++;
  }

  /** An ICMP error about a datagram we sent from lport to raddr:rport. */
  error(laddr: number, lport: number, raddr: number, rport: number, type: number, code: number, now: Instant): void {
    void now;
    for (const sk of this.ports.get(lport) ?? []) {
      // Like Linux without IP_RECVERR: only connected sockets hear about errors.
      if (sk.remoteAddr === raddr && sk.remotePort === rport && (sk.localAddr === 0 || sk.localAddr === laddr)) sk.icmpError(errorFromIcmp(type, code));
    }
  }

  /** Binds `sk` to addr:port (0: an ephemeral port). Errors: EADDRINUSE. */
  bind(sk: UdpSocket, addr: number, port: number): void {
    if (port === 0) port = pickEphemeralPort(this.stack.host, (p) => this.conflicts(sk, addr, p));
    else if (this.conflicts(sk, addr, port)) throw E.EADDRINUSE;
    sk.localAddr = addr;
    sk.localPort = port;
    let list = this.ports.get(port);
    if (list === undefined) this.ports.set(port, (list = []));
    list.push(sk);
  }

  private conflicts(sk: UdpSocket, addr: number, port: number): boolean {
    for (const o of this.ports.get(port) ?? []) {
      if (o.localAddr !== 0 && addr !== 0 && o.localAddr !== addr) continue;
      if (sk.reuseAddr && o.reuseAddr) continue;
      if (sk.reusePort && o.reusePort) continue;
      return true;
    }
    return false;
  }

  unbind(sk: UdpSocket): void {
    const list = this.ports.get(sk.localPort);
    if (list === undefined) return;
    const i = list.indexOf(sk);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.ports.delete(sk.localPort);
  }
}

/** The datagram whose payload was reassembled into `buf`: rebuild a quotable IP header. */
function reframe(buf: Uint8Array, off: number, ip: Ipv4Repr): Uint8Array {
  // Reassembled payloads have no header in front: quote a fresh 20-byte one (RFC 792 needs the header + 8 bytes).
  const q = new Uint8Array(20 + Math.min(8, buf.length - off));
  q[0] = 0x45;
  q[2] = (ip.totalLen >>> 8) & 0xff;
  q[3] = ip.totalLen & 0xff;
  q[8] = ip.ttl;
  q[9] = ip.protocol;
  for (let i = 0; i < 4; i++) {
    q[12 + i] = (ip.src >>> (24 - 8 * i)) & 0xff;
    q[16 + i] = (ip.dst >>> (24 - 8 * i)) & 0xff;
  }
  q.set(buf.subarray(off, off + q.length - 20), 20);
  return q;
}

export class UdpSocket extends Socket {
  readonly family = AF_INET;
  readonly type = SOCK_DGRAM;
  readonly protocol = IPPROTO_UDP;
  localAddr = 0;
  localPort = 0;
  remoteAddr = 0;
  remotePort = 0;
  ttl = -1;
  tos = 0;
  pmtudisc = 1;
  private readonly rxq = new DgramQueue();
  private bound = false;
  /** localAddr was chosen by connect, not bind. */
  private addrFromConnect = false;
  private shutRd = false;

  constructor(private readonly layer: UdpLayer) {
    super(UDP_BUF_DEFAULT, UDP_BUF_DEFAULT);
  }

  /** How well this socket matches a datagram: -1 no, higher is more specific. */
  matches(dst: number, src: number, sport: number, bcast: boolean): number {
    let score = 0;
    if (this.localAddr !== 0) {
      if (this.localAddr !== dst && !bcast) return -1;
      score += 2;
    }
    if (this.remotePort !== 0) {
      if (this.remoteAddr !== src || this.remotePort !== sport) return -1;
      score += 4;
    }
    return score;
  }

  deliver(payload: Uint8Array, from: number, port: number): boolean {
    if (this.shutRd) return false;
    // Copied: the frame may be a slice of a shared slab (see NetStack.allocFrame).
    if (!this.rxq.push(payload, 0, payload.length, inetAddr(from, port), this.rcvbuf)) {
      this.layer.stack.stats.UdpRcvbufErrors++;
      this.layer.stack.stats.UdpInErrors++;
      return false;
    }
    this.queue.notify(POLLIN | POLLRDNORM);
    return true;
  }

  icmpError(e: Errno): void {
    this.softError = e;
    this.queue.notify(POLLERR);
  }

  override bind(addr: SockAddr, now: Instant): void {
    void now;
    const a = inetArg(addr);
    if (this.bound) throw E.EINVAL;
    if (a.addr !== 0 && a.addr !== 0xffffffff && !this.layer.stack.isLocal(a.addr)) throw E.EADDRNOTAVAIL;
    this.layer.bind(this, a.addr, a.port);
    this.bound = true;
  }

  private autobind(): void {
    if (!this.bound) {
      this.layer.bind(this, 0, 0);
      this.bound = true;
    }
  }

  override connect(addr: SockAddr, now: Instant): void {
    void now;
    if (typeof addr === 'object' && addr !== null && addr.family === AF_UNSPEC) {
      // Dissolve the association (connect(2) with AF_UNSPEC).
      this.remoteAddr = 0;
      this.remotePort = 0;
      // An address that connect chose is released again (Linux: inet_reset_saddr).
      if (this.addrFromConnect) this.localAddr = 0;
      this.addrFromConnect = false;
      return;
    }
    const a = inetArg(addr);
    if (a.port === 0) throw E.EINVAL;
    const r = this.layer.stack.route(a.addr === 0 ? 0x7f000001 : a.addr);
    if (r === null) throw E.ENETUNREACH;
    this.autobind();
    this.remoteAddr = a.addr === 0 ? 0x7f000001 : a.addr;
    this.remotePort = a.port;
    // Linux (ip4_datagram_connect) fixes an unbound source address to the route's, so
    // getsockname reports it and only datagrams to that address are received.
    if (this.localAddr === 0) {
      this.localAddr = this.layer.stack.sourceFor(r, this.remoteAddr);
      this.addrFromConnect = true;
    }
  }

  sendmsg(buf: Uint8Array, off: number, len: number, to: SockAddr | null, flags: number, now: Instant): number {
    void flags;
    let dst: number;
    let dport: number;
    if (to !== null) {
      const a = inetArg(to);
      dst = a.addr === 0 ? 0x7f000001 : a.addr;
      dport = a.port;
      if (dport === 0) throw E.EINVAL;
    } else {
      if (this.remotePort === 0) throw E.EDESTADDRREQ;
      dst = this.remoteAddr;
      dport = this.remotePort;
    }
    if (len > UDP_MAX_PAYLOAD) throw E.EMSGSIZE;
    const stack = this.layer.stack;
    const r = stack.route(dst);
    if (r === null) throw E.ENETUNREACH;
    const bcast = dst === 0xffffffff || r.iface.isBroadcast(dst);
    if (bcast && !this.broadcast) throw E.EACCES;
    this.autobind();
    const src = this.localAddr !== 0 && !bcast ? this.localAddr : stack.sourceFor(r, dst);
    const l4 = UDP_HLEN + len;
    const f = stack.allocFrame(l4);
    f.set(buf.subarray(off, off + len), L4_OFF + UDP_HLEN);
    emitUdp(f, L4_OFF, this.localPort, dport, l4, src, dst, !r.iface.offload);
    const err = stack.ipOutput(f, l4, IPPROTO_UDP, src, dst, r, this.ttl < 0 ? stack.defaultTtl : this.ttl, this.tos, this.pmtudisc === IP_PMTUDISC_DO, now);
    if (err !== null) throw err;
    stack.stats.UdpOutDatagrams++;
    return len;
  }

  recvmsg(buf: Uint8Array, off: number, len: number, flags: number, info: RecvInfo | null, now: Instant): number {
    void now;
    if (this.rxq.length === 0) {
      const e = this.takeError();
      if (e !== null) throw e;
      if (this.shutRd) return 0;
    }
    return this.rxq.recv(buf, off, len, flags, info);
  }

  override recvWouldBlock(): boolean {
    return this.rxq.length === 0 && this.softError === null && !this.shutRd;
  }

  override shutdown(how: number): void {
    if (how < 0 || how > 2) throw E.EINVAL;
    if (this.remotePort === 0) throw E.ENOTCONN;
    if (how !== 1) this.shutRd = true;
    this.queue.notify(POLLIN | POLLOUT);
  }

  getsockname(): SockAddr {
    return inetAddr(this.localAddr, this.localPort);
  }

  getpeername(): SockAddr {
    if (this.remotePort === 0) throw E.ENOTCONN;
    return inetAddr(this.remoteAddr, this.remotePort);
  }

  poll(): number {
    let m = POLLOUT | POLLWRNORM;
    if (this.rxq.length > 0 || this.shutRd) m |= POLLIN | POLLRDNORM;
    if (this.softError !== null) m |= POLLERR;
    return m;
  }

  /** Bytes of the next datagram (FIONREAD). */
  get nextSize(): number {
    return this.rxq.peekSize();
  }

  override setsockopt(level: number, name: number, value: SockOptValue, now: Instant): void {
    if (level === SOL_IP) {
      if (name === IP_TTL) {
        const v = intOpt(value);
        if (v < -1 || v === 0 || v > 255) throw E.EINVAL;
        this.ttl = v;
        return;
      }
      if (name === IP_TOS) {
        this.tos = intOpt(value) & 0xff;
        return;
      }
      if (name === IP_MTU_DISCOVER) {
        this.pmtudisc = intOpt(value);
        return;
      }
      throw E.ENOPROTOOPT;
    }
    super.setsockopt(level, name, value, now);
  }

  override getsockopt(level: number, name: number): SockOptValue {
    if (level === SOL_IP) {
      if (name === IP_TTL) return this.ttl < 0 ? this.layer.stack.defaultTtl : this.ttl;
      if (name === IP_TOS) return this.tos;
      if (name === IP_MTU_DISCOVER) return this.pmtudisc;
      throw E.ENOPROTOOPT;
    }
    return super.getsockopt(level, name);
  }

  release(): void {
    if (this.bound) this.layer.unbind(this);
    this.rxq.clear();
  }
}
