// poll(2) and ppoll(2) over any descriptors: files (always ready), pipes, devices, and later
// sockets. One pass asks every file for its readiness; if nothing is ready and time remains,
// the call blocks on all their wait queues at once, with the deadline as a timeout.

import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLRDNORM, POLLWRNORM } from '../../abi/linux/poll.js';
import type { Instant } from '../../host/host_ops.js';
import { E } from '../errno.js';
import type { Task } from '../task.js';
import { Blocked, type WaitQueue, type Waiter } from '../wait_queue.js';
import { FMODE_PATH, type File } from '../../vfs/file.js';
import type { Timespec } from '../../vfs/time.js';
import { intArg } from './args.js';

/** Linux's struct pollfd; revents is filled in. */
export interface PollFd {
  fd: number;
  events: number;
  revents: number;
}

/** What files without a poll operation report: always readable and writable. */
const DEFAULT_POLLMASK = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;

/** The events `f` has ready now. */
export function fileReadiness(f: File): number {
  if (f.fmode & FMODE_PATH) return POLLNVAL;
  return f.ops.poll ? f.ops.poll(f) : DEFAULT_POLLMASK;
}

function pollfdsArg(t: Task, fds: unknown): PollFd[] {
  if (!Array.isArray(fds)) throw E.EFAULT;
  if (fds.length > t.files.limit) throw E.EINVAL;
  for (const p of fds as unknown[]) {
    if (typeof p !== 'object' || p === null) throw E.EFAULT;
    const { fd, events } = p as PollFd;
    if (!Number.isInteger(fd) || !Number.isInteger(events)) throw E.EFAULT;
  }
  return fds as PollFd[];
}

/** poll(fds, timeoutMs): a negative timeout waits for ever, 0 does not wait. */
export function sys_poll(t: Task, fds: PollFd[], timeout: number): number {
  const list = pollfdsArg(t, fds);
  const ms = intArg(timeout);
  const host = t.kernel.host;
  const deadline = ms < 0 ? null : ((host.monotonic() + ms * 1e6) as Instant);
  return doPoll(t, list, deadline);
}

/** ppoll(fds, timeout, sigmask): timeout null waits for ever. Signals are not modelled. */
export function sys_ppoll(t: Task, fds: PollFd[], timeout: Timespec | null = null, sigmask: unknown = null): number {
  void sigmask;
  const list = pollfdsArg(t, fds);
  let deadline: Instant | null = null;
  if (timeout !== null && timeout !== undefined) {
    if (typeof timeout !== 'object') throw E.EFAULT;
    const { sec, nsec } = timeout as Timespec;
    if (!Number.isInteger(sec) || !Number.isInteger(nsec) || sec < 0 || nsec < 0 || nsec > 999_999_999) throw E.EINVAL;
    deadline = (t.kernel.host.monotonic() + sec * 1e9 + nsec) as Instant;
  }
  return doPoll(t, list, deadline);
}

/** One pass over `fds`; blocks (throws Blocked) when nothing is ready before `deadline`. */
export function doPoll(t: Task, fds: PollFd[], deadline: Instant | null): number {
  let count = 0;
  for (const p of fds) {
    p.revents = 0;
    if (p.fd < 0) continue;
    const f = t.files.lookup(p.fd);
    const ready = f === undefined ? POLLNVAL : fileReadiness(f);
    p.revents = ready & (p.events | POLLERR | POLLHUP | POLLNVAL);
    if (p.revents !== 0) count++;
  }
  if (count > 0) return count;
  if (deadline !== null && t.kernel.host.monotonic() >= deadline) return 0;
  const queues: WaitQueue[] = [];
  for (const p of fds) {
    const f = p.fd >= 0 ? t.files.lookup(p.fd) : undefined;
    const q = f?.ops.waitQueue?.(f);
    if (q !== undefined && !queues.includes(q)) queues.push(q);
  }
  throw new Blocked<number>(
    (wake) => {
      const w: Waiter = { mask: ~0, wake: () => wake() };
      for (const q of queues) q.add(w);
      return () => {
        for (const q of queues) q.remove(w);
      };
    },
    () => doPoll(t, fds, deadline),
    deadline,
    () => {
      for (const p of fds) p.revents = 0;
      return 0;
    },
  );
}
