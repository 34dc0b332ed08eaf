// The promise adapter for blocking syscalls: waits on a Blocked's wait queues (and its
// deadline, through the kernel's timer queue) and retries until the call completes. While a
// caller waits, the host is held so a Node process does not exit under it.

import type { Kernel } from './kernel.js';
import type { Task } from './task.js';
import { Blocked } from './wait_queue.js';
import type { KernelTimer } from './timers.js';

/** Completes a syscall that threw `first`, sleeping between attempts. */
export async function sleepUntilDone<T>(k: Kernel, task: Task, first: Blocked<T>): Promise<T> {
  const release = k.host.hold();
  let b = first;
  try {
    for (;;) {
      let timedOut = false;
      await new Promise<void>((resolve) => {
        let timer: KernelTimer | null = null;
        let done = false;
        const finish = (): void => {
          if (done) return;
          done = true;
          unsubscribe();
          if (timer !== null) k.timers.cancel(timer);
          resolve();
        };
        const unsubscribe = b.subscribe(finish);
        if (b.deadline !== null) {
          timer = k.timers.add(b.deadline, () => {
            timedOut = true;
            finish();
          });
        }
      });
      k.current = task;
      try {
        return b.retry();
      } catch (e) {
        if (!(e instanceof Blocked)) throw e;
        if (timedOut && b.timeout !== null) return b.timeout();
        b = e as Blocked<T>;
      }
    }
  } finally {
    release();
  }
}
