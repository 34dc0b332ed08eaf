// NetInterface: a NetDevice as the stack configures it (Linux's net_device plus in_device):
// name, index, state, MTU, IPv4 addresses and the ARP table. Frames the device delivers come
// in through here; frames to send leave through here once their next hop's MAC is known.

import type { NetDevice } from '../netdevice.js';
import { formatIpv4, prefixMask } from '../wire/ipv4.js';
import { ArpCache } from './arp.js';
import type { NetStack } from '../stack.js';

export interface IfAddr {
  readonly addr: number;
  readonly prefix: number;
  /** The directed broadcast address of the subnet. */
  readonly broadcast: number;
}

/** Linux's IFF_* bits that `ip link` shows. */
export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
export const IFF_RUNNING = 0x40;
export const IFF_NOARP = 0x80;

export class NetInterface {
  readonly addrs: IfAddr[] = [];
  readonly arp: ArpCache;
  up = false;
  /** The interface MTU; at most the device's. */
  mtu: number;
  /** The loopback interface: no ARP, frames never leave the stack. */
  readonly loopback: boolean;
  /** Checksums neither computed on output nor verified on input (device offload). */
  readonly offload: boolean;
  /**
   * The device is done with a frame when transmit() returns (NetDevice.copiesOnTransmit): the
   * stack builds TCP segments in `txBuf` (NetStack.txFrame), and whoever holds a frame for this
   * interface past the send that built it (ARP's pending queue) keeps a copy.
   */
  readonly copiesOnTransmit: boolean;
  /** The reused transmit buffer and its last view (NetStack.txFrame); null until first used. */
  txBuf: ArrayBuffer | null = null;
  txView: Uint8Array | null = null;

  constructor(
    readonly stack: NetStack,
    readonly name: string,
    readonly index: number,
    readonly device: NetDevice,
    loopback: boolean,
  ) {
    this.mtu = device.mtu;
    this.loopback = loopback;
    this.offload = device.checksumOffload;
    this.copiesOnTransmit = device.copiesOnTransmit === true;
    this.arp = new ArpCache(this);
  }

  get mac(): number {
    return this.device.mac;
  }

  /**
   * The largest IP datagram of one TCP segment the device takes beyond the MTU (segmentation
   * offload), or 0. Only while the interface MTU is the device's: a lowered MTU means a smaller
   * path somewhere, which offloaded segments would not respect.
   */
  get gsoMax(): number {
    return this.mtu === this.device.mtu ? (this.device.gsoMaxSize ?? 0) : 0;
  }

  get flags(): number {
    let f = 0;
    if (this.up) f |= IFF_UP;
    if (this.up && this.device.linkUp) f |= IFF_RUNNING;
    if (this.loopback) f |= IFF_LOOPBACK | IFF_NOARP;
    else f |= IFF_BROADCAST;
    return f;
  }

  /** The address to send from toward `dst` on this interface (same subnet first). */
  sourceFor(dst: number): number {
    for (const a of this.addrs) if (((a.addr ^ dst) & prefixMask(a.prefix)) === 0) return a.addr;
    return this.addrs[0]?.addr ?? 0;
  }

  hasAddr(a: number): boolean {
    for (const x of this.addrs) if (x.addr === a) return true;
    return false;
  }

  isBroadcast(a: number): boolean {
    if (a === 0xffffffff) return true;
    for (const x of this.addrs) if (x.broadcast === a && x.prefix < 31) return true;
    return false;
  }

  /** Sends a frame as is (Ethernet header complete). Counted drops when down. */
  transmit(frame: Uint8Array): void {
    if (!this.up) {
      this.device.stats.txDropped++;
      return;
    }
    this.device.transmit(frame);
  }

  /** `ip addr` style description. */
  format(): string {
    const lines = [`${this.index}: ${this.name}: mtu ${this.mtu} ${this.up ? 'UP' : 'DOWN'}`];
    for (const a of this.addrs) lines.push(`    inet ${formatIpv4(a.addr)}/${a.prefix} brd ${formatIpv4(a.broadcast)}`);
    return lines.join('\n');
  }
}
