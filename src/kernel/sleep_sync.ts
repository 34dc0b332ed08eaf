// The synchronous adapter for blocking syscalls, for callers that own their thread (a WASI
// program and its kernel in a worker): subscribe to the Blocked's wait queues, halt until
// woken or until its deadline, retry. The promise adapter (sleep.ts) does the same with await.

import { EDEADLK } from '../abi/linux/errno.js';
import type { Halt } from '../host/halt.js';
import { errno } from './errno.js';
import type { Kernel } from './kernel.js';
import type { Task } from './task.js';
import { Blocked } from './wait_queue.js';

/**
 * Completes a syscall that threw `first`, halting the thread between attempts. Errors: the
 * syscall's own, and EDEADLK when nothing could ever wake the wait (no input source, no
 * timer, no deadline).
 */
export function waitSync<T>(k: Kernel, task: Task, first: Blocked<T>, halt: Halt): T {
  const host = k.host;
  let b = first;
  for (;;) {
    let woken = false;
    const unsubscribe = b.subscribe(() => {
      woken = true;
    });
    let timedOut = false;
    let gaveUp = true;
    try {
      for (;;) {
        if (woken) break;
        if (b.deadline !== null && host.monotonic() >= b.deadline) {
          timedOut = true;
          break;
        }
        if (!halt.halt(b.deadline)) throw errno(EDEADLK, 'a blocking call waits for something that can never happen');
      }
      gaveUp = false;
    } finally {
      unsubscribe();
      if (gaveUp) b.abandon?.();
    }
    k.current = task;
    try {
      return b.retry();
    } catch (e) {
      if (!(e instanceof Blocked)) throw e;
      if (timedOut && b.timeout !== null) return b.timeout() as T;
      b = e as Blocked<T>;
    }
  }
}
