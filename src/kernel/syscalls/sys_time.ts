// Clocks and sleeping: clock_gettime, clock_getres, clock_nanosleep, nanosleep. Every clock
// reads the kernel's host, so on the sim host they all run on virtual time. A sleep is a
// Blocked with only a deadline: the caller's adapter waits (a promise, Atomics.wait, or a
// jump of virtual time) and the call then returns 0.

import {
  CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW, CLOCK_PROCESS_CPUTIME_ID,
  CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_THREAD_CPUTIME_ID, TIMER_ABSTIME,
} from '../../abi/linux/time.js';
import type { Instant } from '../../host/host_ops.js';
import { E } from '../errno.js';
import type { Task } from '../task.js';
import { Blocked } from '../wait_queue.js';
import type { Timespec } from '../../vfs/time.js';
import { intArg } from './args.js';

/** What the coarse clocks advance by (a 250 Hz jiffy, Linux's common CONFIG_HZ). */
const COARSE_RESOLUTION_NS = 4_000_000;

/**
 * The clock's time in nanoseconds as a JS number (monotonic clocks; exact below 2^53 ns) or
 * null for CLOCK_REALTIME, which needs a Timespec. Errors: EINVAL for an unknown clock.
 */
function monotonicNs(t: Task, clock: number): number | null {
  const host = t.kernel.host;
  switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
      return null;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
      return host.monotonic();
    case CLOCK_PROCESS_CPUTIME_ID:
    case CLOCK_THREAD_CPUTIME_ID:
      // A one-CPU library kernel cannot see the host's CPU accounting: the process is
      // taken to have run for all of its life (an upper bound of its CPU time).
      return host.monotonic() - t.startTime;
    default:
      throw E.EINVAL;
  }
}

function fromNs(ns: number): Timespec {
  const sec = Math.floor(ns / 1e9);
  return { sec, nsec: ns - sec * 1e9 };
}

/** clock_gettime(clockid). Errors: EINVAL for an unknown clock. */
export function sys_clock_gettime(t: Task, clockid: number): Timespec {
  const c = intArg(clockid);
  const ns = monotonicNs(t, c);
  return ns === null ? t.kernel.clock.now() : fromNs(ns);
}

/** clock_getres(clockid): 1 ns for the high-resolution clocks, a jiffy for the coarse ones. */
export function sys_clock_getres(t: Task, clockid: number): Timespec {
  const c = intArg(clockid);
  monotonicNs(t, c);
  return { sec: 0, nsec: c === CLOCK_REALTIME_COARSE || c === CLOCK_MONOTONIC_COARSE ? COARSE_RESOLUTION_NS : 1 };
}

/**
 * clock_nanosleep(clockid, flags, request): sleeps until the request passes (TIMER_ABSTIME)
 * or for its length. Blocks. Errors: EINVAL (bad clock, flags or timespec), ENOTSUP for the
 * CPU-time clocks (as Linux answers for another thread's clock; this kernel has no CPU clock
 * to sleep on).
 */
export function sys_clock_nanosleep(t: Task, clockid: number, flags: number, request: Timespec): number {
  const c = intArg(clockid);
  const fl = intArg(flags);
  const req = timespecArg(request);
  if (fl & ~TIMER_ABSTIME) throw E.EINVAL;
  if (c === CLOCK_PROCESS_CPUTIME_ID || c === CLOCK_THREAD_CPUTIME_ID) throw E.EOPNOTSUPP;
  const host = t.kernel.host;
  const reqNs = req.sec * 1e9 + req.nsec;
  let deadline: number;
  if (fl & TIMER_ABSTIME) {
    const now = monotonicNs(t, c);
    if (now === null) {
      // Realtime: convert the absolute wall time into a monotonic deadline.
      const wall = t.kernel.clock.now();
      deadline = host.monotonic() + (req.sec - wall.sec) * 1e9 + (req.nsec - wall.nsec);
    } else deadline = reqNs;
  } else deadline = host.monotonic() + reqNs;
  return sleepUntil(t, deadline as Instant);
}

/** nanosleep(request): clock_nanosleep on CLOCK_MONOTONIC, relative. */
export function sys_nanosleep(t: Task, request: Timespec): number {
  return sys_clock_nanosleep(t, CLOCK_MONOTONIC, 0, request);
}

/** Returns 0 once the monotonic clock reaches `deadline`; until then throws a Blocked. */
export function sleepUntil(t: Task, deadline: Instant): number {
  if (t.kernel.host.monotonic() >= deadline) return 0;
  const b: Blocked<number> = new Blocked<number>(
    () => () => {},
    () => {
      if (t.kernel.host.monotonic() >= deadline) return 0;
      throw b;
    },
    deadline,
    () => 0,
  );
  throw b;
}

function timespecArg(ts: unknown): Timespec {
  if (typeof ts !== 'object' || ts === null) throw E.EFAULT;
  const { sec, nsec } = ts as Timespec;
  if (!Number.isInteger(sec) || !Number.isInteger(nsec)) throw E.EINVAL;
  if (sec < 0 || nsec < 0 || nsec > 999_999_999) throw E.EINVAL;
  return ts as Timespec;
}
