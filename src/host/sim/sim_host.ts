// The simulated host: a virtual clock and a seeded RNG. Time advances only when nothing is
// runnable: deferred work runs first, then the clock jumps to the earliest timer. With the
// same seed and the same inputs, two runs make the same calls in the same order at the same
// virtual instants. Nothing here touches a real clock; the simulation is driven explicitly
// with runSync() (callbacks only) or runUntil() (when callers await promises).

import type { HostOps, HostThread, Instant, TimerHandle, Duration } from '../host_ops.js';
import { MinHeap, type HeapEntry } from '../../util/heap.js';
import { SeededRandom } from '../../util/random.js';

export interface SimHostOptions {
  /** Seed for randomFill and everything derived from it. Default 1. */
  seed?: number;
  /** Wall-clock time at virtual instant 0, ns since the epoch. Default 2024-01-01T00:00:00Z. */
  epochNs?: bigint;
  /** Where console text goes; by default it is kept in `consoleLog`. */
  console?: (text: string) => void;
}

interface SimTimer extends HeapEntry {
  fire: () => void;
}

export class SimHost implements HostOps {
  readonly kind = 'sim';
  readonly seed: number;
  readonly rng: SeededRandom;
  readonly consoleLog: string[] = [];
  private now = 0;
  private seq = 0;
  private readonly epochNs: bigint;
  private readonly timers = new MinHeap<SimTimer>();
  private runQueue: (() => void)[] = [];
  private readonly out: ((text: string) => void) | undefined;

  constructor(options: SimHostOptions = {}) {
    this.seed = options.seed ?? 1;
    this.rng = new SeededRandom(this.seed);
    this.epochNs = options.epochNs ?? 1_704_067_200_000_000_000n;
    this.out = options.console;
  }

  monotonic(): Instant {
    return this.now as Instant;
  }

  realtimeNs(): bigint {
    return this.epochNs + BigInt(Math.round(this.now));
  }

  setTimer(at: Instant, fire: () => void): TimerHandle {
    const t: SimTimer = { key: Math.max(at, this.now), seq: this.seq++, dead: false, fire };
    this.timers.push(t);
    return { cancel: () => this.timers.remove(t) };
  }

  defer(fn: () => void): void {
    this.runQueue.push(fn);
  }

  hold(): () => void {
    return () => {};
  }

  randomFill(buf: Uint8Array): void {
    this.rng.fill(buf);
  }

  console(text: string): void {
    if (this.out) this.out(text);
    else this.consoleLog.push(text);
  }

  startThread(): HostThread {
    throw new Error('ENOSYS: the sim host runs everything on one thread (threads would make runs irreproducible)');
  }

  /** True when neither deferred work nor timers remain. */
  get idle(): boolean {
    return this.runQueue.length === 0 && this.timers.size === 0;
  }

  /** The instant of the earliest pending timer, or undefined. */
  nextTimerAt(): Instant | undefined {
    return this.timers.peek()?.key as Instant | undefined;
  }

  /**
   * Runs deferred work and timers synchronously, advancing the clock from timer to timer,
   * until nothing is left or the next timer lies beyond `until`; then sets the clock to
   * `until` (when given). Returns the number of callbacks run. Promise continuations do not
   * run inside; use runUntil() when callers await.
   */
  runSync(until?: Instant, maxEvents = Number.POSITIVE_INFINITY): number {
    let n = 0;
    while (n < maxEvents) {
      n += this.drainQueue();
      const t = this.timers.peek();
      if (!t || (until !== undefined && t.key > until)) break;
      this.timers.pop();
      this.now = t.key;
      t.fire();
      n++;
    }
    if (until !== undefined && until > this.now && n < maxEvents) this.now = until;
    return n;
  }

  /** Advances virtual time by `d`, running everything due. */
  advance(d: Duration): number {
    return this.runSync((this.now + d) as Instant);
  }

  /**
   * Drives the simulation until `promise` settles, letting promise continuations run between
   * steps; returns its value. Rejects when the simulation goes idle with the promise pending
   * (a deadlock: nothing could ever settle it) or when virtual time passes `limit`.
   */
  async runUntil<T>(promise: Promise<T>, limit?: Instant): Promise<T> {
    let settled = false;
    const watched = promise.then(
      (v) => {
        settled = true;
        return v;
      },
      (e: unknown) => {
        settled = true;
        throw e;
      },
    );
    // The caller receives `watched` once it settles; until then its rejection is not "unhandled".
    watched.catch(() => {});
    for (;;) {
      this.drainQueue();
      await yieldToEventLoop();
      if (settled) return watched;
      if (this.runQueue.length > 0) continue;
      const t = this.timers.peek();
      if (!t) throw new Error(`simulation deadlock at t=${this.now} ns: nothing runnable and no timer pending (seed ${this.seed})`);
      if (limit !== undefined && t.key > limit) throw new Error(`simulation passed its time limit ${limit} ns (seed ${this.seed})`);
      this.now = t.key;
      // Fire every timer due at this instant before letting continuations run.
      while (this.timers.peek()?.key === this.now) {
        const due = this.timers.pop()!;
        due.fire();
      }
    }
  }

  private drainQueue(): number {
    let n = 0;
    while (this.runQueue.length > 0) {
      const q = this.runQueue;
      this.runQueue = [];
      for (const fn of q) fn();
      n += q.length;
    }
    return n;
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof setImmediate === 'function') setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
}
