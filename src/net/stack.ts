// NetStack: one kernel's TCP/IP stack — interfaces, routes, IPv4 in and out (with
// fragmentation and reassembly), and the ICMP, UDP and TCP layers. It never reads a clock
// deep inside: each entry point (a frame from a device, a syscall, a timer) takes `now` once
// and passes it down. Everything runs synchronously from device and timer events.

import type { HostOps, Instant } from '../host/host_ops.js';
import type { TimerQueue } from '../kernel/timers.js';
import { E, type Errno } from '../kernel/errno.js';
import type { NetDevice } from './netdevice.js';
import { NetInterface, type IfAddr } from './interface/interface.js';
import { RouteTable, type Route } from './interface/route.js';
import { NetStats } from './stats.js';
import { emitEthernet, ETH_HLEN, ETH_P_ARP, ETH_P_IP, isMulticastMac, MAC_BROADCAST, readMac } from './wire/ethernet.js';
import { emitIpv4, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPV4_HLEN, Ipv4Repr, isMulticastIpv4, parseCidr, parseIpv4, parseIpv4Addr, prefixMask } from './wire/ipv4.js';
import { WIRE_BAD_CHECKSUM, WIRE_OK } from './wire/status.js';
import { checksumAdd, checksumFinish, pseudoHeaderSum } from './wire/checksum.js';
import { Reassembler, REASM_DONE } from './ipv4/reassembly.js';
import { IcmpLayer } from './icmp/icmp.js';
import { UdpLayer } from './udp/udp.js';
import { TcpLayer } from './tcp/tcp_layer.js';
import { LoopbackDevice } from '../drivers/net/loopback.js';
import { UnixNamespace } from './unix/unix.js';
import { ICMP_DEST_UNREACH, ICMP_EXC_FRAGTIME, ICMP_HOST_UNREACH, ICMP_TIME_EXCEEDED } from './wire/icmp.js';

/** Where the IP header starts in a frame, and where the transport header starts after it. */
export const IP_OFF = ETH_HLEN;
export const L4_OFF = ETH_HLEN + IPV4_HLEN;

export const LOOPBACK_ADDR = 0x7f000001;
const SLAB_SIZE = 256 * 1024;
const SLAB_MAX_FRAME = 16 * 1024;

/** A path MTU learnt from ICMP "fragmentation needed" (RFC 1191), valid for 10 minutes as on Linux. */
interface PmtuEntry {
  mtu: number;
  expires: number;
}
const PMTU_EXPIRES_NS = 600e9;
/** RFC 1191 §3: never believe a path MTU below 68; Linux's min_pmtu is 552. */
const MIN_PMTU = 552;

export interface RouteSpec {
  /** "10.0.0.0/8", "default", or a host address. */
  dst: string;
  /** Next hop; omitted for a directly connected network. */
  via?: string;
  /** Interface name; found from the gateway when omitted. */
  dev?: string;
  metric?: number;
  src?: string;
}

export class NetStack {
  readonly interfaces: NetInterface[] = [];
  readonly routes = new RouteTable();
  readonly stats = new NetStats();
  readonly lo: NetInterface;
  readonly icmp: IcmpLayer;
  readonly udp: UdpLayer;
  readonly tcp: TcpLayer;
  readonly reasm: Reassembler;
  readonly pmtu = new Map<number, PmtuEntry>();
  /** AF_UNIX names of this kernel. */
  readonly unix = new UnixNamespace();
  /** Default TTL for outgoing datagrams (net.ipv4.ip_default_ttl). */
  defaultTtl = 64;
  private ipId: number;
  private nextIndex = 1;
  private reasmTimerArmed = false;
  /** Reused for every received datagram (the stack runs one packet at a time). */
  private readonly rxIp = new Ipv4Repr();
  private readonly txIp = new Ipv4Repr();

  constructor(
    readonly host: HostOps,
    readonly timers: TimerQueue,
  ) {
    const r = new Uint8Array(2);
    host.randomFill(r);
    this.ipId = (r[0]! << 8) | r[1]!;
    this.reasm = new Reassembler((head) => {
      this.stats.IpReasmTimeout++;
      this.stats.IpReasmFails++;
      // RFC 792: time exceeded (fragment reassembly) when the first fragment had arrived.
      if (head !== null) this.icmp.sendErrorFor(head, 0, head.length, ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME, 0, this.now());
    });
    this.icmp = new IcmpLayer(this);
    this.udp = new UdpLayer(this);
    this.tcp = new TcpLayer(this);
    this.lo = this.addInterface(new LoopbackDevice(host), { name: 'lo', loopback: true });
    this.addAddress(this.lo, '127.0.0.1/8');
    this.setUp(this.lo, true);
  }

  /** The clock, read at an entry point only. */
  now(): Instant {
    return this.host.monotonic();
  }

  /** Runs `fire(now)` at `at` on the kernel's timer queue. */
  timer(at: Instant, fire: (now: Instant) => void): { cancel(): void } {
    const t = this.timers.add(at, () => fire(this.host.monotonic()));
    return { cancel: () => this.timers.cancel(t) };
  }

  // ---- configuration ---------------------------------------------------------------------

  /** Attaches a device as a new interface (down until setUp). Names default to eth0, eth1, … */
  addInterface(device: NetDevice, opts: { name?: string; loopback?: boolean } = {}): NetInterface {
    const name = opts.name ?? `eth${this.interfaces.filter((i) => !i.loopback).length}`;
    if (this.interfaces.some((i) => i.name === name)) throw E.EEXIST;
    const iface = new NetInterface(this, name, this.nextIndex++, device, opts.loopback === true);
    this.interfaces.push(iface);
    device.onReceive((frame) => this.receive(iface, frame));
    return iface;
  }

  /** The interface called `name`. Errors: ENODEV. */
  interface(name: string): NetInterface {
    const i = this.interfaces.find((x) => x.name === name);
    if (i === undefined) throw E.ENODEV;
    return i;
  }

  removeInterface(iface: NetInterface): void {
    this.setUp(iface, false);
    this.routes.removeInterface(iface);
    const i = this.interfaces.indexOf(iface);
    if (i >= 0) this.interfaces.splice(i, 1);
    iface.device.close?.();
  }

  /** Brings an interface up or down (ip link set … up/down). */
  setUp(iface: NetInterface, up: boolean): void {
    if (iface.up === up) return;
    iface.up = up;
    this.routes.generation++;
    if (up) for (const a of iface.addrs) if (!iface.loopback) iface.arp.announce(a.addr);
    if (!up) iface.arp.clear();
  }

  /** Sets the interface MTU (68 … the device's). Errors: EINVAL. */
  setMtu(iface: NetInterface, mtu: number): void {
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > iface.device.mtu) throw E.EINVAL;
    iface.mtu = mtu;
    this.routes.generation++;
  }

  /**
   * Adds an address ("10.0.0.2/24") and its connected route, and announces it with a
   * gratuitous ARP when the interface is up. Errors: EINVAL (malformed), EEXIST.
   */
  addAddress(iface: NetInterface, cidr: string): IfAddr {
    const c = parseCidr(cidr);
    if (c === null) throw E.EINVAL;
    if (iface.hasAddr(c.addr)) throw E.EEXIST;
    const mask = prefixMask(c.prefix);
    const a: IfAddr = { addr: c.addr, prefix: c.prefix, broadcast: ((c.addr & mask) | ~mask) >>> 0 };
    iface.addrs.push(a);
    this.routes.add({ dst: c.addr, prefix: c.prefix, gateway: 0, iface, prefSrc: c.addr, metric: 0, proto: 'kernel' });
    if (iface.up && !iface.loopback) iface.arp.announce(c.addr);
    return a;
  }

  /** Removes an address and its connected route. Errors: EADDRNOTAVAIL. */
  removeAddress(iface: NetInterface, cidr: string): void {
    const c = parseCidr(cidr);
    if (c === null) throw E.EINVAL;
    const i = iface.addrs.findIndex((x) => x.addr === c.addr);
    if (i < 0) throw E.EADDRNOTAVAIL;
    const a = iface.addrs[i]!;
    iface.addrs.splice(i, 1);
    this.routes.remove(a.addr, a.prefix, iface);
  }

  /** Adds a route (ip route add/replace). Errors: EINVAL, ENETUNREACH (gateway not reachable), ENODEV. */
  addRoute(spec: RouteSpec): void {
    let dst = 0;
    let prefix = 0;
    if (spec.dst !== 'default') {
      const c = parseCidr(spec.dst);
      if (c === null) throw E.EINVAL;
      dst = c.addr;
      prefix = c.prefix;
    }
    const gw = spec.via === undefined ? 0 : parseIpv4Addr(spec.via);
    if (gw === null) throw E.EINVAL;
    let iface: NetInterface;
    if (spec.dev !== undefined) iface = this.interface(spec.dev);
    else {
      if (gw === 0) throw E.EINVAL;
      const r = this.routes.lookup(gw);
      if (r === null || r.gateway !== 0) throw E.ENETUNREACH;
      iface = r.iface;
    }
    const src = spec.src === undefined ? 0 : parseIpv4Addr(spec.src);
    if (src === null) throw E.EINVAL;
    this.routes.add({ dst, prefix, gateway: gw, iface, prefSrc: src, metric: spec.metric ?? 0, proto: 'static' });
  }

  /** Removes routes to `dst` ("default" or a prefix). Errors: ESRCH when none matched. */
  removeRoute(dst: string): void {
    let d = 0;
    let p = 0;
    if (dst !== 'default') {
      const c = parseCidr(dst);
      if (c === null) throw E.EINVAL;
      d = c.addr;
      p = c.prefix;
    }
    if (this.routes.remove(d, p) === 0) throw E.ESRCH;
  }

  /** True when `a` is one of this host's addresses. */
  isLocal(a: number): boolean {
    for (const i of this.interfaces) if (i.up && i.hasAddr(a)) return true;
    return (a >>> 24) === 127 && this.lo.up;
  }

  /** The route for `dst`; local addresses go through the loopback interface. Null: unreachable. */
  route(dst: number): Route | null {
    if (this.isLocal(dst)) return { dst, prefix: 32, gateway: 0, iface: this.lo, prefSrc: dst, metric: 0, proto: 'local' };
    if (dst === 0xffffffff) {
      const i = this.interfaces.find((x) => x.up && !x.loopback);
      if (i === undefined) return null;
      return { dst, prefix: 32, gateway: 0, iface: i, prefSrc: i.addrs[0]?.addr ?? 0, metric: 0, proto: 'broadcast' };
    }
    return this.routes.lookup(dst);
  }

  /** The source address for packets to `dst` over `r`. */
  sourceFor(r: Route, dst: number): number {
    if (r.prefSrc) return r.prefSrc;
    return r.iface.sourceFor(r.gateway || dst);
  }

  /** The path MTU to `dst` over `r`: the interface MTU, lowered by ICMP frag-needed. */
  pathMtu(r: Route, dst: number, now: Instant): number {
    const p = this.pmtu.get(dst);
    if (p !== undefined) {
      if (p.expires > now) return Math.min(p.mtu, r.iface.mtu);
      this.pmtu.delete(dst);
    }
    return r.iface.mtu;
  }

  /** Records a smaller path MTU to `dst` (ICMP fragmentation needed). Returns the value used. */
  learnPmtu(dst: number, mtu: number, now: Instant): number {
    const m = Math.max(mtu, MIN_PMTU);
    const old = this.pmtu.get(dst);
    if (old === undefined || m < old.mtu || old.expires <= now) this.pmtu.set(dst, { mtu: m, expires: now + PMTU_EXPIRES_NS });
    return this.pmtu.get(dst)!.mtu;
  }

  // ---- input -------------------------------------------------------------------------------

  private receive(iface: NetInterface, frame: Uint8Array): void {
    const dev = iface.device.stats;
    if (!iface.up) {
      dev.rxDropped++;
      return;
    }
    if (frame.length < ETH_HLEN) {
      this.stats.EthInUnknown++;
      return;
    }
    // Frames for another station (a switch flooding, a TAP in promiscuous mode) are not ours.
    if (!iface.loopback) {
      const dst = readMac(frame, 0);
      if (dst !== iface.mac && !isMulticastMac(dst)) return;
    }
    const type = (frame[12]! << 8) | frame[13]!;
    const now = this.host.monotonic();
    if (type === ETH_P_IP) this.ipInput(iface, frame, now);
    else if (type === ETH_P_ARP && !iface.loopback) iface.arp.input(frame, now);
    else this.stats.EthInUnknown++;
  }

  private ipInput(iface: NetInterface, frame: Uint8Array, now: Instant): void {
    const s = this.stats;
    s.IpInReceives++;
    const ip = this.rxIp;
    const st = parseIpv4(frame, IP_OFF, frame.length - IP_OFF, ip, !iface.offload);
    if (st !== WIRE_OK) {
      if (st === WIRE_BAD_CHECKSUM) s.IpInCsumErrors++;
      s.IpInHdrErrors++;
      return;
    }
    // No forwarding: a host accepts its addresses, broadcasts, and nothing else — except on an
    // interface with no address yet, where DHCP servers (passt among them) send unicast offers
    // to the address they are about to assign (RFC 2131 §4.1; Linux clients use packet sockets).
    const dst = ip.dst;
    const unconfigured = iface.addrs.length === 0 && ip.protocol === IPPROTO_UDP;
    if (!(iface.loopback || unconfigured || this.isLocal(dst) || iface.isBroadcast(dst) || isMulticastIpv4(dst))) {
      s.IpInAddrErrors++;
      return;
    }
    let buf = frame;
    let off = IP_OFF + ip.hdrLen;
    let len = ip.payloadLen;
    if (ip.isFragment) {
      s.IpReasmReqds++;
      const data = frame.slice(off, off + len);
      const head = ip.fragOffset === 0 ? frame.slice(IP_OFF, off + Math.min(8, len)) : null;
      const before = this.reasm.overlaps + this.reasm.overLimit;
      const r = this.reasm.add(ip.src, ip.dst, ip.protocol, ip.id, ip.fragOffset, ip.mf, data, head, now);
      if (this.reasm.overlaps + this.reasm.overLimit > before) {
        s.IpReasmFails++;
        if (this.reasm.overlaps > 0) s.IpReasmOverlaps = this.reasm.overlaps;
      }
      this.armReassemblyTimer();
      if (r !== REASM_DONE) return;
      s.IpReasmOKs++;
      buf = this.reasm.result!;
      off = 0;
      len = buf.length;
    }
    s.IpInDelivers++;
    switch (ip.protocol) {
      case IPPROTO_TCP:
        this.tcp.input(iface, ip, buf, off, len, now);
        break;
      case IPPROTO_UDP:
        this.udp.input(iface, ip, buf, off, len, now);
        break;
      case IPPROTO_ICMP:
        this.icmp.input(iface, ip, buf, off, len, now);
        break;
      default:
        s.IpInUnknownProtos++;
        s.IpInDelivers--;
        // RFC 1122 §3.2.2.1: protocol unreachable.
        if (!iface.isBroadcast(dst)) this.icmp.sendErrorFor(frame, IP_OFF, ip.totalLen, ICMP_DEST_UNREACH, 2, 0, now);
    }
  }

  private armReassemblyTimer(): void {
    if (this.reasmTimerArmed) return;
    const at = this.reasm.nextExpiry();
    if (at === null) return;
    this.reasmTimerArmed = true;
    this.timer(at as Instant, (now) => {
      this.reasmTimerArmed = false;
      this.reasm.expire(now);
      this.armReassemblyTimer();
    });
  }

  // ---- output ------------------------------------------------------------------------------

  /**
   * A frame with room for the Ethernet and IP headers plus `l4Len` bytes at L4_OFF, zeroed.
   * Frames up to 16 KiB are carved from 256 KiB slabs that are never reused (so they start
   * zeroed): one backing store per slab instead of one per frame. Larger frames (jumbo MTUs,
   * offloaded TCP segments) get a backing store of their own, so a receiver may keep one (a
   * TCP receive queue does) without pinning anything else. Whoever keeps a small frame's bytes
   * (socket queues, reassembly) copies them, so a slab is not pinned by one datagram.
   */
  allocFrame(l4Len: number): Uint8Array {
    // No padding to Ethernet's 60-byte minimum: that is the NIC's job, and virtual peers
    // (passt) take the frame length at its word.
    const n = L4_OFF + l4Len;
    // Start 2 bytes into an 8-byte boundary: the IP header and the transport header after it
    // then sit on 4-byte boundaries, where checksums take their fast path.
    if (n > SLAB_MAX_FRAME) return new Uint8Array(new ArrayBuffer(n + 2), 2, n);
    const size = (n + 2 + 7) & ~7;
    if (this.slab === null || this.slabUsed + size > SLAB_SIZE) {
      this.slab = new ArrayBuffer(SLAB_SIZE);
      this.slabUsed = 0;
    }
    const f = new Uint8Array(this.slab, this.slabUsed + 2, n);
    this.slabUsed += size;
    return f;
  }
  private slab: ArrayBuffer | null = null;
  private slabUsed = 0;

  /**
   * Sends the datagram whose transport part (l4Len bytes) is at frame[L4_OFF…] from `src` to
   * `dst` through `r`: fills the IP header, fragments when it exceeds the MTU (unless `df`),
   * resolves the next hop and transmits. Returns null, or EMSGSIZE (too big with DF) /
   * ENETUNREACH (no route).
   */
  ipOutput(frame: Uint8Array, l4Len: number, proto: number, src: number, dst: number, r: Route | null, ttl: number, tos: number, df: boolean, now: Instant): Errno | null {
    const s = this.stats;
    s.IpOutRequests++;
    if (r === null) {
      s.IpOutNoRoutes++;
      return E.ENETUNREACH;
    }
    const ip = this.txIp;
    ip.totalLen = IPV4_HLEN + l4Len;
    ip.tos = tos;
    ip.id = this.ipId = (this.ipId + 1) & 0xffff;
    ip.ttl = ttl;
    ip.protocol = proto;
    ip.src = src;
    ip.dst = dst;
    ip.mf = false;
    ip.fragOffset = 0;
    const mtu = this.pathMtu(r, dst, now);
    // A TCP segment may exceed the MTU on a device with segmentation offload (gsoMax()).
    if (ip.totalLen > mtu && !(df && proto === IPPROTO_TCP && mtu === r.iface.mtu && ip.totalLen <= r.iface.gsoMax)) {
      if (df) {
        s.IpFragFails++;
        return E.EMSGSIZE;
      }
      this.fragmentOut(frame, l4Len, r, mtu, now);
      return null;
    }
    ip.df = df;
    emitIpv4(frame, IP_OFF, ip, true);
    this.linkOutput(r, dst, frame, now);
    return null;
  }

  /** RFC 791 §3.2 fragmentation: payload pieces of a multiple of 8 bytes, MF on all but the last. */
  private fragmentOut(frame: Uint8Array, l4Len: number, r: Route, mtu: number, now: Instant): void {
    const ip = this.txIp;
    const maxData = (mtu - IPV4_HLEN) & ~7;
    ip.df = false;
    if (r.iface.offload && ip.protocol === IPPROTO_UDP && l4Len >= 8) {
      // A device cannot finish a checksum that spans fragments (Linux's ip_fragment completes a
      // partial checksum first, skb_checksum_help): the UDP checksum is computed here.
      const c = checksumFinish(checksumAdd(pseudoHeaderSum(ip.src, ip.dst, IPPROTO_UDP, l4Len), frame, L4_OFF, l4Len));
      frame[L4_OFF + 6] = c === 0 ? 0xff : c >>> 8;
      frame[L4_OFF + 7] = c === 0 ? 0xff : c & 0xff;
    }
    for (let off = 0; off < l4Len; off += maxData) {
      const n = Math.min(maxData, l4Len - off);
      const f = new Uint8Array(L4_OFF + n);
      f.set(frame.subarray(L4_OFF + off, L4_OFF + off + n), L4_OFF);
      ip.totalLen = IPV4_HLEN + n;
      ip.fragOffset = off;
      ip.mf = off + n < l4Len;
      emitIpv4(f, IP_OFF, ip, true);
      this.stats.IpFragCreates++;
      this.linkOutput(r, ip.dst, f, now);
    }
    this.stats.IpFragOKs++;
  }

  /** Ethernet framing: loopback directly, broadcasts to ff:…, everything else through ARP. */
  private linkOutput(r: Route, dst: number, frame: Uint8Array, now: Instant): void {
    const iface = r.iface;
    if (iface.loopback) {
      emitEthernet(frame, 0, 0, ETH_P_IP);
      iface.transmit(frame);
      return;
    }
    if (iface.isBroadcast(dst) || isMulticastIpv4(dst)) {
      emitEthernet(frame, MAC_BROADCAST, iface.mac, ETH_P_IP);
      iface.transmit(frame);
      return;
    }
    iface.arp.output(r.gateway || dst, frame, now);
  }

  /** Next-hop resolution failed for a frame we built: tell the sender as ICMP host unreachable would. */
  hostUnreachable(frame: Uint8Array, now: Instant): void {
    const ip = new Ipv4Repr();
    if (parseIpv4(frame, IP_OFF, frame.length - IP_OFF, ip, false) !== WIRE_OK) return;
    this.icmp.deliverError(ip, frame, IP_OFF + ip.hdrLen, ip.totalLen - ip.hdrLen, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0, now);
  }
}
