// The kernel's timer queue: any number of timers multiplexed onto one host timer, as Linux
// multiplexes hrtimers onto a clock event device. Firing order is deadline order, FIFO among
// equal deadlines, so runs on the sim host are reproducible.

import type { HostOps, Instant, TimerHandle } from '../host/host_ops.js';
import { MinHeap, type HeapEntry } from '../util/heap.js';

export interface KernelTimer extends HeapEntry {
  fire: () => void;
}

export class TimerQueue {
  private readonly heap = new MinHeap<KernelTimer>();
  private seq = 0;
  private armedAt = Number.POSITIVE_INFINITY;
  private armed: TimerHandle | null = null;

  constructor(private readonly host: HostOps) {}

  /** Calls `fire` at `at` (or as soon after as the host allows). Cancel with cancel(). */
  add(at: Instant, fire: () => void): KernelTimer {
    const t: KernelTimer = { key: at, seq: this.seq++, dead: false, fire };
    this.heap.push(t);
    if (at < this.armedAt) this.arm(at);
    return t;
  }

  cancel(t: KernelTimer): void {
    this.heap.remove(t);
    // While other timers wait, the host timer stays armed (cancels are frequent: an early
    // wake-up with nothing due just re-arms). With none left it goes too, or the sim host
    // would see work pending and move its clock to a deadline nobody waits for.
    if (this.heap.size === 0 && this.armed !== null) {
      this.armed.cancel();
      this.armed = null;
      this.armedAt = Number.POSITIVE_INFINITY;
    }
  }

  get pending(): number {
    return this.heap.size;
  }

  private arm(at: number): void {
    this.armed?.cancel();
    this.armedAt = at;
    this.armed = this.host.setTimer(at as Instant, () => this.expire());
  }

  private expire(): void {
    this.armed = null;
    this.armedAt = Number.POSITIVE_INFINITY;
    const now = this.host.monotonic();
    for (;;) {
      const t = this.heap.peek();
      if (t === undefined) return;
      if (t.key > now) {
        this.arm(t.key);
        return;
      }
      this.heap.pop();
      t.fire();
    }
  }
}
