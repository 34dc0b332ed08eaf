// In-memory links and switches between kernels in one process (network simulation): latency,
// jitter, loss, duplication, reordering, a bandwidth limit, an MTU and partitions. Faults are
// drawn from a PRNG seeded by the host's randomFill, and delays run on the host's timers, so
// on the sim host a run is reproducible frame for frame.

import type { HostOps } from '../../host/host_ops.js';
import { DeviceStats, randomMac, type NetDevice } from '../../net/netdevice.js';
import { isMulticastMac, readMac } from '../../net/wire/ethernet.js';
import { DeadlineQueue } from '../../kernel/timers.js';
import type { HeapEntry } from '../../util/heap.js';
import { SeededRandom } from '../../util/random.js';

export interface LinkParams {
  /** One-way delay in ns. Default 0. */
  latency?: number;
  /** Uniform extra delay in [0, jitter) ns. Jitter alone never reorders frames (as a FIFO link). */
  jitter?: number;
  /** Probability that a frame is lost. */
  loss?: number;
  /** Probability that a frame is delivered twice. */
  duplicate?: number;
  /** Probability that a frame is held back by `reorderDelay` and overtaken by later frames. */
  reorder?: number;
  /** Extra delay for reordered frames, ns. Default 1 ms. */
  reorderDelay?: number;
  /** Bits per second; 0 or absent: unlimited. */
  bandwidth?: number;
  /** Largest IP datagram a frame may carry. Default 1500. */
  mtu?: number;
  /** Frames waiting to be delivered per direction before tail drop. Default 10 000. */
  queueLimit?: number;
  /** Checksum offload, as veth: both ends trust the link. Default true. */
  checksumOffload?: boolean;
  /**
   * TCP segmentation offload, as veth: with checksum offload and no per-frame faults (no
   * latency, jitter, loss, duplication, reordering or bandwidth limit), TCP hands the link
   * segments of up to 64 KiB that the peer receives whole. Default true.
   */
  segmentationOffload?: boolean;
}

/** The largest IP datagram a segmentation-offload frame may carry (Linux's GSO_MAX_SIZE). */
const GSO_MAX_SIZE = 65535;

interface InFlight extends HeapEntry {
  to: LinkPort;
  frame: Uint8Array;
}

/** The medium both link ends and switch ports send through. */
class Medium {
  readonly rng: SeededRandom;
  partitioned = false;
  private readonly inFlight: DeadlineQueue<InFlight>;
  /** Frames for an undelayed link, delivered in one deferred batch (parallel arrays: no object per frame). */
  private immTo: (LinkPort | undefined)[] = [];
  private immFrame: (Uint8Array | undefined)[] = [];
  private immCount = 0;
  private spareTo: (LinkPort | undefined)[] = [];
  private spareFrame: (Uint8Array | undefined)[] = [];
  private immediateScheduled = false;
  private readonly flush = (): void => this.flushImmediate();
  /** When each sender's transmitter is free again (bandwidth serialisation). */
  private readonly busy = new Map<LinkPort, number>();
  private fifoTail = new Map<LinkPort, number>();

  constructor(
    readonly host: HostOps,
    public params: LinkParams,
  ) {
    this.inFlight = new DeadlineQueue<InFlight>(host, (f) => f.to.receive(f.frame));
    this.rng = SeededRandom.seededBy((b) => host.randomFill(b));
  }

  /** True when frames pass untouched and at once: nothing per frame to simulate. */
  get simple(): boolean {
    const p = this.params;
    return !p.latency && !p.jitter && !p.bandwidth && !p.reorder && !p.loss && !p.duplicate;
  }

  /** Queues `frame` from `from` for `to`, applying the link's faults. */
  send(from: LinkPort, to: LinkPort, frame: Uint8Array): void {
    const p = this.params;
    if (this.partitioned) {
      from.stats.txDropped++;
      return;
    }
    if (p.loss && this.rng.next() < p.loss) return;
    const copies = p.duplicate && this.rng.next() < p.duplicate ? 2 : 1;
    const latency = p.latency ?? 0;
    const simple = latency === 0 && !p.jitter && !p.bandwidth && !p.reorder;
    for (let i = 0; i < copies; i++) {
      if (simple) {
        this.immTo[this.immCount] = to;
        this.immFrame[this.immCount++] = frame;
        if (!this.immediateScheduled) {
          this.immediateScheduled = true;
          this.host.defer(this.flush);
        }
        continue;
      }
      const now: number = this.host.monotonic();
      let at: number = now;
      if (p.bandwidth) {
        const start = Math.max(now, this.busy.get(from) ?? 0);
        const done = start + ((frame.length + 24) * 8 * 1e9) / p.bandwidth; // + preamble, FCS, gap
        this.busy.set(from, done);
        at = done;
      }
      at += latency;
      if (p.jitter) {
        // Jitter without reordering: never earlier than the previous frame on this path.
        at = Math.max(at + this.rng.next() * p.jitter, this.fifoTail.get(from) ?? 0);
        this.fifoTail.set(from, at);
      }
      if (p.reorder && this.rng.next() < p.reorder) at += p.reorderDelay ?? 1e6;
      if (this.inFlight.size >= (p.queueLimit ?? 10000)) {
        from.stats.txDropped++;
        continue;
      }
      this.inFlight.push({ key: at, seq: 0, dead: false, to, frame });
    }
  }

  private flushImmediate(): void {
    this.immediateScheduled = false;
    // Swap in the spare arrays: frames sent while delivering go to the next batch.
    const to = this.immTo;
    const frames = this.immFrame;
    const n = this.immCount;
    this.immTo = this.spareTo;
    this.immFrame = this.spareFrame;
    this.immCount = 0;
    try {
      for (let i = 0; i < n; i++) {
        const f = frames[i]!;
        frames[i] = undefined; // the slot keeps no frame (and its slab) alive
        to[i]!.receive(f);
      }
    } finally {
      for (let i = 0; i < n; i++) frames[i] = undefined;
      this.spareTo = to;
      this.spareFrame = frames;
    }
  }
}

/** One end of a link or one port of a switch: a NetDevice. */
export class LinkPort implements NetDevice {
  readonly stats = new DeviceStats();
  readonly checksumOffload: boolean;
  /** Set by the link or switch: whether segmentation offload may be offered now. */
  gsoAllowed: () => boolean = () => false;
  linkUp = true;
  private deliver: ((frame: Uint8Array) => void) | null = null;

  constructor(
    readonly name: string,
    readonly mac: number,
    readonly mtu: number,
    offload: boolean,
    private readonly out: (from: LinkPort, frame: Uint8Array) => void,
  ) {
    this.checksumOffload = offload;
  }

  get gsoMaxSize(): number {
    return this.gsoAllowed() ? GSO_MAX_SIZE : 0;
  }

  transmit(frame: Uint8Array): void {
    if (!this.linkUp || (frame.length > this.mtu + 14 && (frame.length > GSO_MAX_SIZE + 14 || !this.gsoAllowed()))) {
      this.stats.txDropped++;
      return;
    }
    this.stats.txPackets++;
    this.stats.txBytes += frame.length;
    this.out(this, frame);
  }

  receive(frame: Uint8Array): void {
    if (!this.linkUp || this.deliver === null) {
      this.stats.rxDropped++;
      return;
    }
    this.stats.rxPackets++;
    this.stats.rxBytes += frame.length;
    this.deliver(frame);
  }

  onReceive(deliver: (frame: Uint8Array) => void): void {
    this.deliver = deliver;
  }
}

/** A point-to-point cable: `a` and `b` are the two NetDevices. */
export class MemoryLink {
  readonly a: LinkPort;
  readonly b: LinkPort;
  private readonly medium: Medium;

  constructor(host: HostOps, params: LinkParams = {}) {
    this.medium = new Medium(host, params);
    const mtu = params.mtu ?? 1500;
    const offload = params.checksumOffload ?? true;
    const send = (from: LinkPort, frame: Uint8Array): void => this.medium.send(from, from === this.a ? this.b : this.a, frame);
    const fill = (b: Uint8Array): void => host.randomFill(b);
    this.a = new LinkPort('link-a', randomMac(fill), mtu, offload, send);
    this.b = new LinkPort('link-b', randomMac(fill), mtu, offload, send);
    const gso = (): boolean => offload && (this.medium.params.segmentationOffload ?? true) && !this.medium.partitioned && this.medium.simple;
    this.a.gsoAllowed = gso;
    this.b.gsoAllowed = gso;
  }

  get params(): LinkParams {
    return this.medium.params;
  }
  /** Changes the fault parameters (latency, loss, …) from now on. */
  set params(p: LinkParams) {
    this.medium.params = p;
  }

  /** Cuts (true) or heals (false) the link; frames sent meanwhile are lost. */
  partition(on: boolean): void {
    this.medium.partitioned = on;
  }
}

/**
 * A learning Ethernet switch: ports() are NetDevices; frames go to the port where the
 * destination was last seen, broadcasts and unknown destinations to every other port.
 */
export class MemorySwitch {
  private readonly ports: LinkPort[] = [];
  private readonly fdb = new Map<number, LinkPort>();
  private readonly medium: Medium;
  /** Ports cut off from the rest (a partition). */
  private readonly isolated = new Set<LinkPort>();

  constructor(
    private readonly host: HostOps,
    params: LinkParams = {},
  ) {
    this.medium = new Medium(host, params);
  }

  /** A new port (a NetDevice with a fresh MAC). */
  port(name = `sw${this.ports.length}`): LinkPort {
    const p = this.medium.params;
    const port = new LinkPort(name, randomMac((b) => this.host.randomFill(b)), p.mtu ?? 1500, p.checksumOffload ?? true, (from, frame) => this.forward(from, frame));
    this.ports.push(port);
    return port;
  }

  /** Isolates `port` (true) from every other port, or reconnects it. */
  isolate(port: LinkPort, on: boolean): void {
    if (on) this.isolated.add(port);
    else this.isolated.delete(port);
  }

  private forward(from: LinkPort, frame: Uint8Array): void {
    if (frame.length < 14 || this.isolated.has(from)) return;
    this.fdb.set(readMac(frame, 6), from);
    const dst = readMac(frame, 0);
    const known = isMulticastMac(dst) ? undefined : this.fdb.get(dst);
    if (known !== undefined) {
      if (known !== from && !this.isolated.has(known)) this.medium.send(from, known, frame);
      return;
    }
    for (const p of this.ports) if (p !== from && !this.isolated.has(p)) this.medium.send(from, p, frame);
  }
}
