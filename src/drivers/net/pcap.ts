// A pcap capture (the libpcap file format: nanosecond-resolution variant, magic 0xa1b23c4d,
// LINKTYPE_ETHERNET) and PcapTap, a NetDevice wrapper that records every frame sent and
// received by the device it wraps. Timestamps come from the host's wall clock, so captures
// made on the sim host are reproducible byte for byte.

import type { HostOps } from '../../host/host_ops.js';
import { DeviceWrapper, type NetDevice } from '../../net/netdevice.js';

const MAGIC_NS = 0xa1b23c4d;
const LINKTYPE_ETHERNET = 1;
/** tcpdump's default snapshot length. */
const SNAPLEN = 262144;

export class PcapWriter {
  frames = 0;

  constructor(
    private readonly sink: (chunk: Uint8Array) => void,
    private readonly host: HostOps,
  ) {
    const h = new Uint8Array(24);
    const v = new DataView(h.buffer);
    v.setUint32(0, MAGIC_NS, true);
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    v.setUint32(16, SNAPLEN, true);
    v.setUint32(20, LINKTYPE_ETHERNET, true);
    sink(h);
  }

  /** Appends one frame with the current time. */
  record(frame: Uint8Array): void {
    const ns = this.host.realtimeNs();
    const rec = new Uint8Array(16 + Math.min(frame.length, SNAPLEN));
    const v = new DataView(rec.buffer);
    v.setUint32(0, Number(ns / 1_000_000_000n), true);
    v.setUint32(4, Number(ns % 1_000_000_000n), true);
    v.setUint32(8, rec.length - 16, true);
    v.setUint32(12, frame.length, true);
    rec.set(frame.subarray(0, rec.length - 16), 16);
    this.frames++;
    this.sink(rec);
  }
}

/** Wraps `inner` so every frame through it is also written to `pcap`. */
export class PcapTap extends DeviceWrapper {
  // copiesOnTransmit stays the inner device's: the capture copies each frame as it records it.
  constructor(
    inner: NetDevice,
    readonly pcap: PcapWriter,
  ) {
    super(inner);
  }

  override transmit(frame: Uint8Array): void {
    this.pcap.record(frame);
    this.inner.transmit(frame);
  }

  override onReceive(deliver: (frame: Uint8Array) => void): void {
    this.inner.onReceive((frame) => {
      this.pcap.record(frame);
      deliver(frame);
    });
  }
}
