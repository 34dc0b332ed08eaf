// FaultDevice: a NetDevice wrapper that injects faults in both directions — loss,
// duplication, delay with jitter, and reordering — like netem, but on tkl's side of any device
// (TAP, UDP tunnel, passt). Draws from a PRNG seeded by the host, delays on the host's timers.

import type { HostOps } from '../../host/host_ops.js';
import type { DeviceStats, NetDevice } from '../../net/netdevice.js';
import { DeadlineQueue } from '../../kernel/timers.js';
import type { HeapEntry } from '../../util/heap.js';
import { SeededRandom } from '../../util/random.js';

export interface FaultParams {
  /** Probability of losing a frame. */
  loss?: number;
  /** Probability of delivering a frame twice. */
  duplicate?: number;
  /** Delay in ns (every frame), plus uniform jitter in [0, jitter). */
  delay?: number;
  jitter?: number;
  /** Probability that a frame skips the delay and so overtakes those before it (netem's reorder). */
  reorder?: number;
}

interface Pending extends HeapEntry {
  run: () => void;
}

export class FaultDevice implements NetDevice {
  private readonly rng: SeededRandom;
  private readonly delayed: DeadlineQueue<Pending>;
  /** Frames dropped by the injector (not by the device). */
  dropped = 0;

  constructor(
    readonly inner: NetDevice,
    private readonly host: HostOps,
    public params: FaultParams = {},
  ) {
    this.delayed = new DeadlineQueue<Pending>(host, (p) => p.run());
    this.rng = SeededRandom.seededBy((b) => host.randomFill(b));
  }

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
  /** The inner device's segmentation offload while no fault is set: faults act per frame. */
  get gsoMaxSize(): number {
    const p = this.params;
    if (p.loss || p.duplicate || p.delay || p.jitter || p.reorder) return 0;
    return this.inner.gsoMaxSize ?? 0;
  }
  get linkUp(): boolean {
    return this.inner.linkUp;
  }
  get stats(): DeviceStats {
    return this.inner.stats;
  }

  private apply(run: () => void): void {
    const p = this.params;
    if (p.loss && this.rng.next() < p.loss) {
      this.dropped++;
      return;
    }
    const copies = p.duplicate && this.rng.next() < p.duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      let d = p.delay ?? 0;
      if (p.reorder && this.rng.next() < p.reorder) d = 0;
      else if (p.jitter) d += this.rng.next() * p.jitter;
      if (d <= 0 && !p.delay) {
        run();
        continue;
      }
      const at = this.host.monotonic() + d;
      this.delayed.push({ key: at, seq: 0, dead: false, run });
    }
  }

  transmit(frame: Uint8Array): void {
    this.apply(() => this.inner.transmit(frame));
  }

  onReceive(deliver: (frame: Uint8Array) => void): void {
    this.inner.onReceive((frame) => this.apply(() => deliver(frame)));
  }

  close(): void {
    this.delayed.clear();
    this.inner.close?.();
  }
}
