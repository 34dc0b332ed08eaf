// A capturing device for the network tests: records every frame an interface sends and
// receives with its sim time, and lets a test inject forged frames as if they arrived.

import { DeviceWrapper, type NetDevice } from '../../src/net/netdevice.js';
import type { HostOps } from '../../src/host/host_ops.js';
import { checksumAdd, checksumFinish, pseudoHeaderSum, internetChecksum } from '../../src/net/wire/checksum.js';

export interface Captured {
  dir: 'tx' | 'rx';
  at: number;
  frame: Uint8Array;
}

export class Tap extends DeviceWrapper {
  readonly frames: Captured[] = [];
  private deliver: ((frame: Uint8Array) => void) | null = null;

  constructor(
    inner: NetDevice,
    private readonly host: HostOps,
  ) {
    super(inner);
  }

  override transmit(frame: Uint8Array): void {
    this.frames.push({ dir: 'tx', at: this.host.monotonic(), frame: frame.slice() });
    super.transmit(frame);
  }

  override onReceive(deliver: (frame: Uint8Array) => void): void {
    this.deliver = deliver;
    super.onReceive((f) => {
      this.frames.push({ dir: 'rx', at: this.host.monotonic(), frame: f.slice() });
      deliver(f);
    });
  }

  /** Hands `frame` to the stack as if the link delivered it (not recorded). */
  inject(frame: Uint8Array): void {
    this.deliver!(frame);
  }

  /** Frames recorded from index `from` on. */
  since(from: number): Captured[] {
    return this.frames.slice(from);
  }
}

const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const u32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

export interface Seg {
  src: number;
  dst: number;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  len: number;
  ipOff: number;
  tcpOff: number;
}

/** The TCP segment in an Ethernet frame, or null. */
export function tcpOf(f: Uint8Array): Seg | null {
  if (u16(f, 12) !== 0x0800 || f[23] !== 6) return null;
  const ihl = (f[14]! & 15) * 4;
  const t = 14 + ihl;
  const doff = (f[t + 12]! >> 4) * 4;
  return {
    src: u32(f, 26), dst: u32(f, 30), sport: u16(f, t), dport: u16(f, t + 2), seq: u32(f, t + 4), ack: u32(f, t + 8),
    flags: f[t + 13]!, window: u16(f, t + 14), len: u16(f, 16) - ihl - doff, ipOff: 14, tcpOff: t,
  };
}

/** ARP fields of an Ethernet frame, or null. */
export function arpOf(f: Uint8Array): { op: number; ethDst: number; senderMac: number; senderIp: number; targetIp: number } | null {
  if (u16(f, 12) !== 0x0806) return null;
  const mac = (o: number): number => u16(f, o) * 2 ** 32 + u32(f, o + 2);
  return { op: u16(f, 20), ethDst: mac(0), senderMac: mac(22), senderIp: u32(f, 28), targetIp: u32(f, 38) };
}

/**
 * A copy of the TCP frame `template` with new seq/ack/flags and `payload`, lengths and both
 * checksums recomputed (so it is valid also on a link without checksum offload).
 */
export function forgeTcp(template: Uint8Array, seq: number, ack: number, flags: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const s = tcpOf(template)!;
  const doff = (template[s.tcpOff + 12]! >> 4) * 4;
  const hdrEnd = s.tcpOff + doff;
  const f = new Uint8Array(hdrEnd + payload.length);
  f.set(template.subarray(0, hdrEnd));
  f.set(payload, hdrEnd);
  const dv = new DataView(f.buffer);
  dv.setUint16(16, f.length - 14);
  dv.setUint16(24, 0);
  dv.setUint16(24, internetChecksum(f, 14, s.tcpOff - 14));
  dv.setUint32(s.tcpOff + 4, seq >>> 0);
  dv.setUint32(s.tcpOff + 8, ack >>> 0);
  f[s.tcpOff + 13] = flags;
  dv.setUint16(s.tcpOff + 16, 0);
  const tcpLen = f.length - s.tcpOff;
  dv.setUint16(s.tcpOff + 16, checksumFinish(checksumAdd(pseudoHeaderSum(s.src, s.dst, 6, tcpLen), f, s.tcpOff, tcpLen)));
  return f;
}
