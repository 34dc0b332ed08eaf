// The promise adapter for blocking syscalls: waits on a Blocked's wait queues (and its
// deadline, through the kernel's timer queue) and retries until the call completes. While a
// caller waits, the host is held so a Node process does not exit under it.
// One promise per blocked call: a wake-up schedules the retry as a microtask (never inside the
// notifier, which is in the middle of a kernel operation) and the retry settles the promise.

import type { Kernel } from './kernel.js';
import type { Task } from './task.js';
import { Blocked } from './wait_queue.js';
import type { KernelTimer } from './timers.js';

const RESOLVED = Promise.resolve();

/**
 * Completes a syscall that threw `first`, sleeping between attempts. A failure rejects with
 * `mapError(e)` (the error itself when no mapper is given).
 */
export function sleepUntilDone<T>(k: Kernel, task: Task, first: Blocked<T>, mapError?: (e: unknown) => unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const s = new Sleeper<T>(k, task, first, resolve, reject, mapError);
    try {
      s.sleep();
    } catch (e) {
      s.fail(e);
    }
  });
}

/** One blocked call: its current Blocked, its subscription and deadline timer, its promise. */
class Sleeper<T> {
  private unsubscribe: (() => void) | null = null;
  private waiting = false;
  private timer: KernelTimer | null = null;
  private timedOut = false;
  private readonly release: () => void;
  /** Bound once: the wake-up passed to every subscription and timer of this call. */
  private readonly wake = (): void => this.onWake();
  private readonly step = (): void => this.retry();

  constructor(
    private readonly k: Kernel,
    private readonly task: Task,
    private b: Blocked<T>,
    private readonly resolve: (v: T) => void,
    private readonly reject: (e: unknown) => void,
    private readonly mapError: ((e: unknown) => unknown) | undefined,
  ) {
    this.release = k.host.hold();
  }

  sleep(): void {
    this.waiting = true;
    const unsubscribe = this.b.subscribe(this.wake);
    if (!this.waiting) {
      // Woken from inside subscribe: the retry is already scheduled.
      unsubscribe();
      return;
    }
    this.unsubscribe = unsubscribe;
    if (this.b.deadline !== null) {
      this.timer = this.k.timers.add(this.b.deadline, () => {
        this.timedOut = true;
        this.onWake();
      });
    }
  }

  private onWake(): void {
    if (!this.waiting) return; // already woken
    this.waiting = false;
    if (this.unsubscribe !== null) {
      this.unsubscribe();
      this.unsubscribe = null;
    }
    if (this.timer !== null) {
      this.k.timers.cancel(this.timer);
      this.timer = null;
    }
    // A promise job rather than queueMicrotask, which allocates an AsyncResource on Node.
    void RESOLVED.then(this.step);
  }

  private retry(): void {
    this.k.current = this.task;
    let v: T;
    try {
      v = this.b.retry();
    } catch (e) {
      if (e instanceof Blocked && !(this.timedOut && this.b.timeout !== null)) {
        this.b = e as Blocked<T>;
        this.timedOut = false;
        try {
          this.sleep();
        } catch (e2) {
          this.fail(e2);
        }
        return;
      }
      if (e instanceof Blocked) {
        // The deadline passed and the call would still block: its timeout result. The new
        // attempt is given up, so it lets go of what it holds.
        e.abandon?.();
        try {
          v = this.b.timeout!();
        } catch (e2) {
          this.fail(e2);
          return;
        }
        this.release();
        this.resolve(v);
        return;
      }
      this.fail(e);
      return;
    }
    this.release();
    this.resolve(v);
  }

  /** Settles the call with `e` (mapped) and releases the host. */
  fail(e: unknown): void {
    this.release();
    this.reject(this.mapError !== undefined ? this.mapError(e) : e);
  }
}
