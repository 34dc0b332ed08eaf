// epoll instances (Linux's fs/eventpoll.c): an interest list of (descriptor, file) pairs with
// event masks, and a ready list fed by waiters on each file's wait queue. Level-triggered by
// default; EPOLLET reports a readiness change once; EPOLLONESHOT disarms after one report.

import { EPOLLERR, EPOLLET, EPOLLEXCLUSIVE, EPOLLHUP, EPOLLONESHOT, EPOLLWAKEUP, POLLIN, POLLRDNORM } from '../abi/linux/poll.js';
import type { File, FileOps } from '../vfs/file.js';
import { E } from './errno.js';
import { WaitQueue, type Waiter } from './wait_queue.js';
import { fileReadiness } from './syscalls/sys_poll.js';

/** struct epoll_event: `data` is whatever the caller registered. */
export interface EpollEvent {
  events: number;
  data: unknown;
}

interface Item {
  fd: number;
  file: File;
  events: number;
  data: unknown;
  ready: boolean;
  waiter: Waiter | null;
}

export class Epoll {
  readonly queue = new WaitQueue();
  private readonly items = new Map<number, Item>();
  private ready: Item[] = [];

  /** EPOLL_CTL_ADD. Errors: EEXIST, EPERM (a file that cannot be waited on), ELOOP/EINVAL (itself). */
  add(fd: number, file: File, events: number, data: unknown): void {
    if (file.ops === epollFileOps && file.priv === this) throw E.EINVAL;
    const old = this.items.get(fd);
    if (old !== undefined && old.file === file && old.file.refs > 0) throw E.EEXIST;
    if (old !== undefined) this.drop(old);
    const q = file.ops.waitQueue?.(file);
    // Regular files have no wait queue; Linux refuses them with EPERM.
    if (q === undefined && file.ops.poll === undefined) throw E.EPERM;
    const item: Item = { fd, file, events, data, ready: false, waiter: null };
    if (q !== undefined) {
      item.waiter = {
        mask: ~0,
        wake: (ev) => {
          if (ev & (item.events | EPOLLERR | EPOLLHUP)) this.markReady(item);
        },
      };
      q.add(item.waiter);
    }
    this.items.set(fd, item);
    if (fileReadiness(file) & (events | EPOLLERR | EPOLLHUP)) this.markReady(item);
  }

  /** EPOLL_CTL_MOD. Errors: ENOENT, EINVAL (EPOLLEXCLUSIVE may not be modified). */
  modify(fd: number, file: File, events: number, data: unknown): void {
    const item = this.items.get(fd);
    if (item === undefined || item.file !== file) throw E.ENOENT;
    if (events & EPOLLEXCLUSIVE || item.events & EPOLLEXCLUSIVE) throw E.EINVAL;
    item.events = events;
    item.data = data;
    if (fileReadiness(file) & (events | EPOLLERR | EPOLLHUP)) this.markReady(item);
  }

  /** EPOLL_CTL_DEL. Errors: ENOENT. */
  remove(fd: number, file: File): void {
    const item = this.items.get(fd);
    if (item === undefined || item.file !== file) throw E.ENOENT;
    this.drop(item);
  }

  private drop(item: Item): void {
    if (item.waiter !== null) item.file.ops.waitQueue?.(item.file)?.remove(item.waiter);
    item.waiter = null;
    item.ready = false;
    this.items.delete(item.fd);
  }

  private markReady(item: Item): void {
    if (item.events & EPOLLONESHOT && (item.events & ~(EPOLLONESHOT | EPOLLET | EPOLLWAKEUP | EPOLLEXCLUSIVE)) === 0) return;
    if (!item.ready) {
      item.ready = true;
      this.ready.push(item);
    }
    this.queue.notify(POLLIN | POLLRDNORM);
  }

  /** True when a wait would return something now. */
  get hasReady(): boolean {
    return this.ready.length > 0;
  }

  /** Fills `out` with up to `max` ready events (ep_send_events). */
  collect(out: EpollEvent[], max: number): number {
    const keep: Item[] = [];
    let n = 0;
    const list = this.ready;
    this.ready = [];
    for (const item of list) {
      if (!item.ready) continue;
      if (n >= max) {
        keep.push(item);
        continue;
      }
      item.ready = false;
      if (item.file.refs === 0 || this.items.get(item.fd) !== item) {
        // The file was closed behind our back: forget it.
        if (this.items.get(item.fd) === item) this.drop(item);
        continue;
      }
      const want = item.events | EPOLLERR | EPOLLHUP;
      const rev = fileReadiness(item.file) & want & ~(EPOLLET | EPOLLONESHOT | EPOLLWAKEUP | EPOLLEXCLUSIVE);
      if (rev === 0) continue;
      out[n++] = { events: rev, data: item.data };
      if (item.events & EPOLLONESHOT) item.events &= EPOLLONESHOT | EPOLLET | EPOLLWAKEUP | EPOLLEXCLUSIVE;
      else if (!(item.events & EPOLLET)) {
        // Level-triggered: stays on the list while it is ready.
        item.ready = true;
        keep.push(item);
      }
    }
    this.ready = keep.concat(this.ready);
    out.length = n;
    return n;
  }

  release(): void {
    for (const item of [...this.items.values()]) this.drop(item);
    this.ready = [];
  }
}

export const epollFileOps: FileOps = {
  stream: true,
  poll(f) {
    const ep = f.priv as Epoll;
    return ep.hasReady ? POLLIN | POLLRDNORM : 0;
  },
  waitQueue(f) {
    return (f.priv as Epoll).queue;
  },
  release(f) {
    (f.priv as Epoll).release();
  },
};
