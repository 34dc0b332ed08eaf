// WorkerHost: the host of a kernel that runs synchronously on one thread together with its
// program (a WASI program in a worker, or in-process). Its timers and deferred work do not
// use the runtime's event loop, which never runs while the program does: they run when the
// thread polls or halts (see halt.ts). Other threads feed it through shared memory and ring
// its Doorbell, which wakes a halted thread and makes the next poll run the interrupt handlers.

import type { Halt } from '../halt.js';
import type { HostOps, HostThread, Instant, TimerHandle } from '../host_ops.js';
import { NS_PER_MS } from '../host_ops.js';
import { MinHeap, type HeapEntry } from '../../util/heap.js';
import { Doorbell } from './doorbell.js';
import { nodeRandomFill, nodeRealtimeNs, startNodeThread } from '../node/node_host.js';

interface WorkerTimer extends HeapEntry {
  fire: () => void;
}

export interface WorkerHostOptions {
  /**
   * The doorbell other threads ring when they have put input in shared memory for this one.
   * By default a private one: nothing outside the thread can wake it (halting with no timer
   * and no deadline then reports a deadlock instead of sleeping for ever).
   */
  doorbell?: Doorbell;
  /** Where console text goes; by default process.stderr. */
  console?: (text: string) => void;
  /**
   * The randomness, by default the runtime's cryptographic generator. `tkl run --seed` gives
   * a seeded generator here so a program's random bytes repeat on the real clock too.
   */
  randomFill?: (buf: Uint8Array) => void;
}

const ORIGIN_MS = performance.now();

export class WorkerHost implements HostOps, Halt {
  readonly kind = 'worker';
  readonly doorbell: Doorbell;
  private readonly timers = new MinHeap<WorkerTimer>();
  private seq = 0;
  private deferred: (() => void)[] = [];
  private readonly out: (text: string) => void;
  private readonly random: (buf: Uint8Array) => void;

  constructor(options: WorkerHostOptions = {}) {
    this.doorbell = options.doorbell ?? Doorbell.private();
    this.out = options.console ?? ((text) => void process.stderr.write(text));
    this.random = options.randomFill ?? nodeRandomFill;
  }

  monotonic(): Instant {
    // performance.now() is the same monotonic clock as hrtime, without a BigInt per call.
    return Math.floor((performance.now() - ORIGIN_MS) * 1e6) as Instant;
  }

  realtimeNs(): bigint {
    return nodeRealtimeNs();
  }

  setTimer(at: Instant, fire: () => void): TimerHandle {
    const t: WorkerTimer = { key: at, seq: this.seq++, dead: false, fire };
    this.timers.push(t);
    return { cancel: () => this.timers.remove(t) };
  }

  defer(fn: () => void): void {
    this.deferred.push(fn);
  }

  randomFill(buf: Uint8Array): void {
    this.random(buf);
  }

  hold(): () => void {
    // The thread is busy running its program; there is no event loop to keep alive.
    return () => {};
  }

  console(text: string): void {
    this.out(text);
  }

  startThread(url: URL | string, data: unknown): HostThread {
    return startNodeThread(url, data);
  }

  /** The earliest pending timer, or undefined. */
  nextTimerAt(): Instant | undefined {
    return this.timers.peek()?.key as Instant | undefined;
  }

  poll(): boolean {
    let ran = false;
    for (;;) {
      let any = false;
      if (this.doorbell.check()) any = true;
      if (this.deferred.length > 0) {
        const q = this.deferred;
        this.deferred = [];
        for (const fn of q) fn();
        any = true;
      }
      const t = this.timers.peek();
      if (t !== undefined && t.key <= this.monotonic()) {
        this.timers.pop();
        t.fire();
        any = true;
      }
      if (!any) return ran;
      ran = true;
    }
  }

  /**
   * Drives this host from the thread's event loop until `p` settles, for setup that awaits
   * (a DHCP exchange) before the program runs: pending work and due timers run every few
   * milliseconds, and arrived input as the doorbell rings.
   */
  async runAsync<T>(p: Promise<T>): Promise<T> {
    let settled = false;
    const watched = p.finally(() => {
      settled = true;
    });
    while (!settled) {
      this.poll();
      if (settled) break;
      const next = this.timers.peek()?.key;
      const ms = next === undefined ? 5 : Math.min(5, Math.max(0, (next - this.monotonic()) / NS_PER_MS));
      await new Promise((resolve) => setTimeout(resolve, ms));
    }
    return watched;
  }

  halt(until: Instant | null): boolean {
    if (this.poll()) return true;
    const next = this.timers.peek()?.key;
    const wake = until === null ? next : next === undefined ? until : Math.min(until, next);
    if (wake === undefined && !this.doorbell.external) return false;
    this.doorbell.wait(wake === undefined ? Number.POSITIVE_INFINITY : Math.max(0, (wake - this.monotonic()) / NS_PER_MS));
    this.poll();
    return true;
  }
}
