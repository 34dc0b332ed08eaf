// NetDevice: the network card as the stack sees it (virtio-net's role) — Ethernet frames out
// and in, a MAC address, an MTU and link state, nothing else. No clock inside: a device that
// delays frames does so on the host's timers. Wrappers (pcap capture) are NetDevices too.
// Frame ownership: a transmitted frame belongs to the device unless it copiesOnTransmit; a
// delivered frame belongs to the stack, which may keep it but never modifies it.

/** Counters every device keeps (Linux's rtnl_link_stats64, the part that matters here). */
export class DeviceStats {
  rxPackets = 0;
  rxBytes = 0;
  txPackets = 0;
  txBytes = 0;
  rxDropped = 0;
  txDropped = 0;
  rxErrors = 0;
  txErrors = 0;
}

export interface NetDevice {
  /** The device's name for messages (a driver's choice: "link0", "tap0"). */
  readonly name: string;
  /** The station address, a 48-bit number (see wire/ethernet.ts). */
  readonly mac: number;
  /** The largest IP datagram one frame carries (Linux's dev->mtu, Ethernet header not included). */
  readonly mtu: number;
  /**
   * Checksums are offloaded, as on veth: outgoing frames need no TCP/UDP/ICMP checksums and
   * incoming ones were produced by a peer that trusts the same link, so they are not verified.
   */
  readonly checksumOffload: boolean;
  /**
   * TCP segmentation offload, as on veth (TSO/GSO there, GRO at the peer): the largest IP
   * datagram carrying one TCP segment (DF set) that the device takes although it exceeds the
   * MTU; the peer receives it whole. 0 or absent: none. May change as the device's condition
   * does (a link with per-frame faults offers none); the stack reads it at each send.
   */
  readonly gsoMaxSize?: number;
  /**
   * The device is done with a frame when transmit() returns: it copied the bytes out (write(2)
   * into a TAP, into a stream socket's buffer or a shared ring), so the caller may reuse the
   * frame's memory for the next one — the stack then builds TCP segments in one buffer per
   * interface instead of allocating each. Absent or false: the device owns every frame it is
   * given (an in-memory link hands that very frame to the receiving stack, which may keep it).
   * Constant for the device's life. A wrapper that advertises it and keeps a frame past
   * transmit() (a delay) must keep a copy.
   */
  readonly copiesOnTransmit?: boolean;
  readonly linkUp: boolean;
  readonly stats: DeviceStats;
  /**
   * Sends one frame (Ethernet header included, no FCS). Without copiesOnTransmit the device
   * owns `frame` from now on and the caller never touches it again; with it, the caller owns
   * it again once transmit() returns. Either way the device never modifies it. A full or down
   * device drops it and counts txDropped.
   */
  transmit(frame: Uint8Array): void;
  /**
   * Registers the receiver. Frames are delivered from the host's event loop, never from
   * inside transmit(); the receiver must not modify them (one frame may be delivered twice),
   * and the device never modifies a frame once delivered: the stack may keep one (a large
   * TCP payload is queued in its frame rather than copied).
   */
  onReceive(deliver: (frame: Uint8Array) => void): void;
  /** Called when linkUp changes (optional). */
  onLinkChange?(cb: (up: boolean) => void): void;
  /** Releases host resources (sockets, file descriptors). Idempotent. */
  close?(): void;
}

/**
 * A device that stands in front of another (a capture, a fault injector): everything is the
 * inner device's unless the subclass says otherwise; subclasses override transmit/onReceive.
 * A subclass that keeps a frame past transmit() must copy it while it advertises
 * copiesOnTransmit (the inner device's value, by default).
 */
export abstract class DeviceWrapper implements NetDevice {
  constructor(readonly inner: NetDevice) {}

  get name(): string {
    return this.inner.name;
  }
  get mac(): number {
    return this.inner.mac;
  }
  get mtu(): number {
    return this.inner.mtu;
  }
  get checksumOffload(): boolean {
    return this.inner.checksumOffload;
  }
  get gsoMaxSize(): number {
    return this.inner.gsoMaxSize ?? 0;
  }
  get copiesOnTransmit(): boolean {
    return this.inner.copiesOnTransmit === true;
  }
  get linkUp(): boolean {
    return this.inner.linkUp;
  }
  get stats(): DeviceStats {
    return this.inner.stats;
  }

  transmit(frame: Uint8Array): void {
    this.inner.transmit(frame);
  }

  onReceive(deliver: (frame: Uint8Array) => void): void {
    this.inner.onReceive(deliver);
  }

  onLinkChange(cb: (up: boolean) => void): void {
    this.inner.onLinkChange?.(cb);
  }

  close(): void {
    this.inner.close?.();
  }
}

/** A locally administered unicast MAC made from 5 random bytes (02:xx:xx:xx:xx:xx). */
export function randomMac(fill: (b: Uint8Array) => void): number {
  const b = new Uint8Array(5);
  fill(b);
  let v = 0x02;
  for (const x of b) v = v * 256 + x;
  return v;
}
