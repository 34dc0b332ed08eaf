// The kernel's timer queue: any number of timers multiplexed onto one host timer, as Linux
// multiplexes hrtimers onto a clock event device. Firing order is deadline order, FIFO among
// equal deadlines, so runs on the sim host are reproducible.

import type { HostOps, Instant, TimerHandle } from '../host/host_ops.js';
import { MinHeap, type HeapEntry } from '../util/heap.js';

/**
 * Entries of any shape, due at `key` (ns on the host's monotonic clock), multiplexed onto one
 * host timer; `due(entry)` runs for each in deadline order, FIFO among equal deadlines. The
 * kernel's timers, a link's frames in flight and a fault injector's delayed frames all queue
 * here, each with the entry type it needs (no closure per entry where the owner has none).
 */
export class DeadlineQueue<T extends HeapEntry> {
  private readonly heap = new MinHeap<T>();
  private seq = 0;
  private armedAt = Number.POSITIVE_INFINITY;
  private armed: TimerHandle | null = null;

  constructor(
    private readonly host: HostOps,
    private readonly due: (entry: T) => void,
  ) {}

  /** Queues `entry` for `entry.key`; its `seq` is assigned here. */
  push(entry: T): void {
    entry.seq = this.seq++;
    this.heap.push(entry);
    if (entry.key < this.armedAt) this.arm(entry.key);
  }

  remove(entry: T): void {
    this.heap.remove(entry);
    // While other entries wait, the host timer stays armed (cancels are frequent: an early
    // wake-up with nothing due just re-arms). With none left it goes too, or the sim host
    // would see work pending and move its clock to a deadline nobody waits for.
    if (this.heap.size === 0) this.disarm();
  }

  /** Drops every entry and the host timer (the owner is going away). */
  clear(): void {
    while (this.heap.pop() !== undefined);
    this.disarm();
  }

  get size(): number {
    return this.heap.size;
  }

  private disarm(): void {
    if (this.armed === null) return;
    this.armed.cancel();
    this.armed = null;
    this.armedAt = Number.POSITIVE_INFINITY;
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
      this.due(t);
    }
  }
}

export interface KernelTimer extends HeapEntry {
  fire: () => void;
}

/** The kernel's timers: callbacks at deadlines. */
export class TimerQueue {
  private readonly q: DeadlineQueue<KernelTimer>;

  constructor(host: HostOps) {
    this.q = new DeadlineQueue<KernelTimer>(host, (t) => t.fire());
  }

  /** Calls `fire` at `at` (or as soon after as the host allows). Cancel with cancel(). */
  add(at: Instant, fire: () => void): KernelTimer {
    const t: KernelTimer = { key: at, seq: 0, dead: false, fire };
    this.q.push(t);
    return t;
  }

  cancel(t: KernelTimer): void {
    this.q.remove(t);
  }

  get pending(): number {
    return this.q.size;
  }
}
