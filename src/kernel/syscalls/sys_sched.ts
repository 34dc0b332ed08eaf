// Scheduling: sched_yield. A library kernel runs one task at a time on its caller's thread,
// so yielding has nothing to switch to; adapters use the call as a point to run pending
// bottom halves (timers, arrived frames) before the program continues.

import type { Task } from '../task.js';

export function sys_sched_yield(t: Task): number {
  void t;
  return 0;
}
