// FaultDevice: a NetDevice wrapper that injects faults in both directions — loss,
// duplication, delay with jitter, and reordering — like netem, but on tkl's side of any device
// (TAP, UDP tunnel, passt). Draws from a PRNG seeded by the host, delays on the host's timers.
// Over a device that copiesOnTransmit it promises the same, so a frame it holds back is a copy.

import type { HostOps } from '../../host/host_ops.js';
import { DeviceWrapper, type NetDevice } from '../../net/netdevice.js';
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

export class FaultDevice extends DeviceWrapper {
  private readonly rng: SeededRandom;
  private readonly held: DeadlineQueue<Pending>;
  /** Frames dropped by the injector (not by the device). */
  dropped = 0;
  /** Sends held back by a delay, sends that skipped it by the reorder draw, and extra copies. */
  delayed = 0;
  reordered = 0;
  duplicated = 0;

  constructor(
    inner: NetDevice,
    private readonly host: HostOps,
    public params: FaultParams = {},
  ) {
    super(inner);
    this.held = new DeadlineQueue<Pending>(host, (p) => p.run());
    this.rng = SeededRandom.seededBy((b) => host.randomFill(b));
  }

  /** The inner device's segmentation offload while no fault is set: faults act per frame. */
  override get gsoMaxSize(): number {
    const p = this.params;
    if (p.loss || p.duplicate || p.delay || p.jitter || p.reorder) return 0;
    return this.inner.gsoMaxSize ?? 0;
  }
  /**
   * Passes `frame` to `out` now, later, twice or never. `copy`: the caller reuses the frame once
   * this returns, so each send held back gets a copy, taken before anything is sent.
   */
  private apply(frame: Uint8Array, out: (frame: Uint8Array) => void, copy: boolean): void {
    const p = this.params;
    if (p.loss && this.rng.next() < p.loss) {
      this.dropped++;
      return;
    }
    const twice = p.duplicate && this.rng.next() < p.duplicate;
    if (twice) this.duplicated++;
    const d0 = this.delayFor(p);
    const d1 = twice ? this.delayFor(p) : -1;
    if (d0 >= 0) this.hold(d0, copy ? frame.slice() : frame, out);
    if (d1 >= 0) this.hold(d1, copy ? frame.slice() : frame, out);
    if (d0 < 0) out(frame);
    if (twice && d1 < 0) out(frame);
  }

  /** One send's delay in ns, or -1 for "now" (no delay configured and none drawn). */
  private delayFor(p: FaultParams): number {
    let d = p.delay ?? 0;
    if (p.reorder && this.rng.next() < p.reorder) {
      d = 0;
      this.reordered++;
    } else if (p.jitter) d += this.rng.next() * p.jitter;
    if (d <= 0 && !p.delay) return -1;
    if (d > 0) this.delayed++;
    return d;
  }

  private hold(d: number, frame: Uint8Array, out: (frame: Uint8Array) => void): void {
    this.held.push({ key: this.host.monotonic() + d, seq: 0, dead: false, run: () => out(frame) });
  }

  private readonly send = (frame: Uint8Array): void => this.inner.transmit(frame);

  override transmit(frame: Uint8Array): void {
    this.apply(frame, this.send, this.inner.copiesOnTransmit === true);
  }

  override onReceive(deliver: (frame: Uint8Array) => void): void {
    // Delivered frames are the stack's to keep (NetDevice.onReceive): no copy needed.
    this.inner.onReceive((frame) => this.apply(frame, deliver, false));
  }

  override close(): void {
    this.held.clear();
    super.close();
  }
}
