// epoll_create, epoll_create1, epoll_ctl, epoll_wait and epoll_pwait over any descriptors
// that have a wait queue: sockets, pipes, devices, other epoll instances.

import { EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLLEXCLUSIVE } from '../../abi/linux/poll.js';
import { O_RDWR } from '../../abi/linux/fcntl.js';
import type { Instant } from '../../host/host_ops.js';
import { File, FMODE_READ, FMODE_WRITE } from '../../vfs/file.js';
import { Epoll, epollFileOps, type EpollEvent } from '../epoll.js';
import { E } from '../errno.js';
import type { Task } from '../task.js';
import { Blocked, type Waiter } from '../wait_queue.js';
import { fileArg, intArg } from './args.js';

/** Linux's EP_MAX_EVENTS (INT_MAX / sizeof(struct epoll_event)). */
const EP_MAX_EVENTS = Math.floor(0x7fffffff / 12);

export function sys_epoll_create1(t: Task, flags: number = 0): number {
  const fl = intArg(flags);
  if (fl & ~EPOLL_CLOEXEC) throw E.EINVAL;
  const f = new File(t.kernel.anonInode(0o600, 'eventpoll'), O_RDWR, FMODE_READ | FMODE_WRITE, epollFileOps, new Epoll());
  try {
    return t.files.install(f, (fl & EPOLL_CLOEXEC) !== 0);
  } catch (e) {
    t.kernel.putFile(f);
    throw e;
  }
}

export function sys_epoll_create(t: Task, size: number): number {
  if (intArg(size) <= 0) throw E.EINVAL;
  return sys_epoll_create1(t, 0);
}

function epollArg(t: Task, epfd: number): Epoll {
  const f = fileArg(t, epfd);
  if (f.ops !== epollFileOps) throw E.EINVAL;
  return f.priv as Epoll;
}

export function sys_epoll_ctl(t: Task, epfd: number, op: number, fd: number, event: EpollEvent | null = null): number {
  const ep = epollArg(t, epfd);
  const f = fileArg(t, fd);
  const o = intArg(op);
  if (fd === epfd) throw E.EINVAL;
  if (o !== EPOLL_CTL_DEL) {
    if (typeof event !== 'object' || event === null) throw E.EFAULT;
    if (!Number.isInteger(event.events)) throw E.EINVAL;
  }
  switch (o) {
    case EPOLL_CTL_ADD:
      if (event!.events & EPOLLEXCLUSIVE && f.ops === epollFileOps) throw E.EINVAL;
      ep.add(fd, f, event!.events >>> 0, event!.data);
      return 0;
    case EPOLL_CTL_MOD:
      ep.modify(fd, f, event!.events >>> 0, event!.data);
      return 0;
    case EPOLL_CTL_DEL:
      ep.remove(fd, f);
      return 0;
    default:
      throw E.EINVAL;
  }
}

/** epoll_wait(epfd, events, maxevents, timeoutMs): fills `events` and returns the count. */
export function sys_epoll_wait(t: Task, epfd: number, events: EpollEvent[], maxevents: number, timeout: number): number {
  const ep = epollArg(t, epfd);
  if (!Array.isArray(events)) throw E.EFAULT;
  const max = intArg(maxevents);
  if (max <= 0 || max > EP_MAX_EVENTS) throw E.EINVAL;
  const ms = intArg(timeout);
  const deadline = ms < 0 ? null : ((t.kernel.host.monotonic() + ms * 1e6) as Instant);
  return waitFor(t, ep, events, max, deadline);
}

export function sys_epoll_pwait(t: Task, epfd: number, events: EpollEvent[], maxevents: number, timeout: number, sigmask: unknown = null): number {
  void sigmask;
  return sys_epoll_wait(t, epfd, events, maxevents, timeout);
}

function waitFor(t: Task, ep: Epoll, events: EpollEvent[], max: number, deadline: Instant | null): number {
  const n = ep.collect(events, max);
  if (n > 0) return n;
  if (deadline !== null && t.kernel.host.monotonic() >= deadline) return 0;
  throw new Blocked<number>(
    (wake) => {
      const w: Waiter = { mask: ~0, wake: () => wake() };
      ep.queue.add(w);
      return () => ep.queue.remove(w);
    },
    () => waitFor(t, ep, events, max, deadline),
    deadline,
    () => {
      events.length = 0;
      return 0;
    },
  );
}
