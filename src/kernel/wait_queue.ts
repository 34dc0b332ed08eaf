// Wait queues and the "would block" signal. A syscall that cannot complete now throws a
// Blocked: what to wait on, and how to try again. The caller's adapter decides how to sleep
// (await in the promise API, Atomics.wait in a worker, advancing virtual time in a
// simulation) and then calls retry(). Nothing in the kernel ever sleeps itself.

import type { Instant } from '../host/host_ops.js';

export interface Waiter {
  /** Event bits (POLL*) this waiter cares about. */
  mask: number;
  wake: (events: number) => void;
}

/** Linux's wait_queue_head: whoever changes an object's readiness notifies its queue. */
export class WaitQueue {
  private waiters: Waiter[] = [];

  get empty(): boolean {
    return this.waiters.length === 0;
  }

  add(w: Waiter): void {
    this.waiters.push(w);
  }

  remove(w: Waiter): void {
    const i = this.waiters.indexOf(w);
    if (i >= 0) this.waiters.splice(i, 1);
  }

  /** Wakes every waiter interested in any of `events`. Waiters may remove themselves. */
  notify(events: number): void {
    const ws = this.waiters;
    if (ws.length === 0) return;
    if (ws.length === 1) {
      // The common case (one sleeper) without copying the list.
      const w = ws[0]!;
      if (w.mask & events) w.wake(events);
      return;
    }
    for (const w of ws.slice()) if (w.mask & events) w.wake(events);
  }
}

/**
 * Thrown by a syscall that would have to wait. `subscribe` registers `wake` on everything
 * that could make progress possible and returns a function that unregisters it; `retry`
 * repeats the attempt (and may throw another Blocked). When `deadline` passes first, the
 * adapter calls `timeout()` for the result instead. An attempt that holds something while it
 * waits (a FIFO open counts its end, so the other side can find it) says how to let go in
 * `abandon`: whoever gives up on the Blocked instead of retrying it to the end must call it.
 */
export class Blocked<T = unknown> {
  constructor(
    readonly subscribe: (wake: () => void) => () => void,
    readonly retry: () => T,
    readonly deadline: Instant | null = null,
    readonly timeout: (() => T) | null = null,
    readonly abandon: (() => void) | null = null,
  ) {}
}

/** A Blocked that waits for `mask` on one queue. */
export function blockOn<T>(queue: WaitQueue, mask: number, retry: () => T): Blocked<T> {
  return new Blocked<T>((wake) => {
    const w: Waiter = { mask, wake: () => wake() };
    queue.add(w);
    return () => queue.remove(w);
  }, retry);
}

/**
 * A Blocked that waits like `b` and, once `b` completes, passes its result through `then`.
 * Further Blocked thrown by `b.retry()` are mapped the same way.
 */
export function mapBlocked<T, U>(b: Blocked<T>, then: (v: T) => U): Blocked<U> {
  const retry = (): U => {
    let v: T;
    try {
      v = b.retry();
    } catch (e) {
      if (e instanceof Blocked) throw mapBlocked(e as Blocked<T>, then);
      throw e;
    }
    return then(v);
  };
  return new Blocked<U>(b.subscribe, retry, b.deadline, b.timeout ? () => then(b.timeout!()) : null, b.abandon);
}
