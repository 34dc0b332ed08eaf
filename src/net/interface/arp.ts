// ARP (RFC 826) for one interface: the neighbour cache with timeouts, a bounded queue of
// packets waiting for resolution, request retries, replies, and gratuitous ARP (RFC 5227
// §3 announcements). Linux's neighbour states reduced to INCOMPLETE, REACHABLE and STALE.

import type { Instant } from '../../host/host_ops.js';
import { ARP_LEN, ARPOP_REPLY, ARPOP_REQUEST, emitArp, parseArp } from '../wire/arp.js';
import { emitEthernet, ETH_HLEN, ETH_P_ARP, MAC_BROADCAST } from '../wire/ethernet.js';
import { WIRE_OK } from '../wire/status.js';
import type { NetInterface } from './interface.js';

const INCOMPLETE = 0;
const REACHABLE = 1;
const STALE = 2;

/** How long a confirmed entry is trusted before it is refreshed (Linux: base_reachable_time 30 s). */
const REACHABLE_NS = 30e9;
/** Stale entries are forgotten after this (Linux: gc_stale_time 60 s). */
const STALE_NS = 60e9;
/** Request retransmission interval and attempts (Linux: retrans_time 1 s, mcast_solicit 3). */
const RETRANS_NS = 1e9;
const MAX_PROBES = 3;
/** Packets kept per unresolved neighbour (Linux's unres_qlen_bytes, in packets). */
const MAX_PENDING = 64;

interface Neighbour {
  ip: number;
  mac: number;
  state: number;
  /** REACHABLE until, then STALE until; INCOMPLETE: next retry. */
  until: number;
  probes: number;
  pending: Uint8Array[];
  /** Called with false when resolution failed (for host-unreachable errors). */
  armed: boolean;
}

export class ArpCache {
  private readonly table = new Map<number, Neighbour>();
  /** Resolution failures and dropped waiting packets, for statistics. */
  failed = 0;

  constructor(private readonly iface: NetInterface) {}

  /** The MAC for `ip` if known and usable now; refreshes stale entries in the background. */
  lookup(ip: number, now: Instant): number | null {
    const n = this.table.get(ip);
    if (n === undefined || n.state === INCOMPLETE) return null;
    if (n.state === REACHABLE && now > n.until) {
      n.state = STALE;
      n.until = now + STALE_NS;
    }
    if (n.state === STALE) {
      if (now > n.until) {
        if (n.probes > 0) {
          // The refresh below went unanswered for MAX_PROBES retransmission times: the
          // neighbour is gone (Linux: PROBE → FAILED). Resolve afresh, which fails with
          // host unreachable if nobody answers.
          this.table.delete(ip);
          return null;
        }
        // Still usable for this packet; ask again so it becomes REACHABLE or goes away.
        this.request(ip, n.mac);
        n.probes = 1;
        n.until = now + RETRANS_NS * MAX_PROBES;
      }
    }
    return n.mac;
  }

  /**
   * Sends `frame` (IP datagram after a 14-byte gap for the Ethernet header) to `ip`, resolving
   * it first when needed; the frame (a copy, on a device that copiesOnTransmit) waits in a
   * bounded queue meanwhile.
   */
  output(ip: number, frame: Uint8Array, now: Instant): void {
    const mac = this.lookup(ip, now);
    if (mac !== null) {
      emitEthernet(frame, mac, this.iface.mac, 0x0800);
      this.iface.transmit(frame);
      return;
    }
    let n = this.table.get(ip);
    if (n === undefined) {
      n = { ip, mac: 0, state: INCOMPLETE, until: now + RETRANS_NS, probes: 1, pending: [], armed: false };
      this.table.set(ip, n);
      this.request(ip, 0);
      this.arm(n, now);
    }
    if (n.pending.length >= MAX_PENDING) {
      n.pending.shift();
      this.failed++;
    }
    // The frame may be the interface's reused transmit buffer (NetStack.txFrame): keep a copy.
    n.pending.push(this.iface.copiesOnTransmit ? frame.slice() : frame);
  }

  private arm(n: Neighbour, now: Instant): void {
    if (n.armed) return;
    n.armed = true;
    this.iface.stack.timer((now + RETRANS_NS) as Instant, (t) => {
      n.armed = false;
      if (n.state !== INCOMPLETE || this.table.get(n.ip) !== n) return;
      if (n.probes >= MAX_PROBES) {
        // Unresolvable: drop what waited and tell the senders (ICMP host unreachable, locally).
        this.table.delete(n.ip);
        this.failed += n.pending.length;
        const frames = n.pending;
        n.pending = [];
        for (const f of frames) this.iface.stack.hostUnreachable(f, t);
        return;
      }
      n.probes++;
      this.request(n.ip, 0);
      this.arm(n, t);
    });
  }

  /** Handles an ARP packet in frame[14…]. */
  input(frame: Uint8Array, now: Instant): void {
    const { status, arp } = parseArp(frame, ETH_HLEN, frame.length - ETH_HLEN);
    const stats = this.iface.stack.stats;
    if (status !== WIRE_OK || arp === undefined) {
      stats.ArpInErrors++;
      return;
    }
    // RFC 826 merge: update an entry we have; add one when the packet is for us.
    const forUs = this.iface.hasAddr(arp.targetIp);
    if (arp.senderIp !== 0) {
      const n = this.table.get(arp.senderIp);
      if (n !== undefined) this.confirm(n, arp.senderMac, now);
      else if (forUs) this.confirm(this.newEntry(arp.senderIp), arp.senderMac, now);
    }
    if (arp.op === ARPOP_REQUEST && forUs) {
      this.send(ARPOP_REPLY, arp.senderMac, this.iface.mac, arp.targetIp, arp.senderMac, arp.senderIp);
    }
  }

  private newEntry(ip: number): Neighbour {
    const n: Neighbour = { ip, mac: 0, state: INCOMPLETE, until: 0, probes: 0, pending: [], armed: false };
    this.table.set(ip, n);
    return n;
  }

  private confirm(n: Neighbour, mac: number, now: Instant): void {
    n.mac = mac;
    n.state = REACHABLE;
    n.probes = 0;
    n.until = now + REACHABLE_NS;
    const frames = n.pending;
    n.pending = [];
    for (const f of frames) {
      emitEthernet(f, mac, this.iface.mac, 0x0800);
      this.iface.transmit(f);
    }
  }

  /** Adds a permanent-looking entry (tests, static neighbours). */
  set(ip: number, mac: number, now: Instant): void {
    this.confirm(this.table.get(ip) ?? this.newEntry(ip), mac, now);
  }

  /** Broadcasts a request for `ip` (unicast to `knownMac` when refreshing). */
  private request(ip: number, knownMac: number): void {
    const src = this.iface.sourceFor(ip);
    this.send(ARPOP_REQUEST, knownMac || MAC_BROADCAST, this.iface.mac, src, 0, ip);
  }

  /** Announces `addr` (gratuitous ARP request: sender and target are both `addr`). */
  announce(addr: number): void {
    this.send(ARPOP_REQUEST, MAC_BROADCAST, this.iface.mac, addr, 0, addr);
  }

  private send(op: number, ethDst: number, senderMac: number, senderIp: number, targetMac: number, targetIp: number): void {
    const f = new Uint8Array(ETH_HLEN + ARP_LEN);
    emitEthernet(f, ethDst, this.iface.mac, ETH_P_ARP);
    emitArp(f, ETH_HLEN, { op, senderMac, senderIp, targetMac, targetIp });
    this.iface.stack.stats.ArpOut++;
    this.iface.transmit(f);
  }

  /** `ip neigh` style lines. */
  entries(): { ip: number; mac: number; state: string }[] {
    return [...this.table.values()].map((n) => ({ ip: n.ip, mac: n.mac, state: ['INCOMPLETE', 'REACHABLE', 'STALE'][n.state]! }));
  }

  clear(): void {
    this.table.clear();
  }
}
