// Halt: how a thread that runs a kernel synchronously waits for its next event — the idle
// loop of a one-CPU kernel ("halt until the next interrupt"). A WASI program and its kernel
// share one thread, so nothing runs behind their back: arrived input, deferred work and
// expired timers run only when the thread polls or halts.

import type { Instant } from './host_ops.js';

export interface Halt {
  /**
   * Runs what is pending now — input that arrived from other threads, deferred work, timers
   * that are due — without sleeping. Returns true when anything ran.
   */
  poll(): boolean;
  /**
   * Runs what is pending; if nothing was, sleeps until input may have arrived, a timer is
   * due, or `until` (monotonic; null: no limit) passes, and runs what is pending then.
   * Returns false, without sleeping, when nothing could ever happen: no input source, no
   * timer and no limit — the caller would wait for ever.
   */
  halt(until: Instant | null): boolean;
}
