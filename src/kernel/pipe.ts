// Pipes and FIFOs (Linux's fs/pipe.c): a 64 KiB byte ring shared by a read end and a write
// end. Writes of at most PIPE_BUF (4096) bytes are atomic: they go in whole or wait. Reading
// an empty pipe with writers left would block (E.EAGAIN to the syscall layer), with none it
// is end of file; writing with no reader left is EPIPE. A FIFO's pipe lives while some end
// is open: the last close discards it, unread data included, as Linux frees pipe_inode_info.

import { PIPE_BUF, PIPE_DEF_CAPACITY } from '../abi/linux/limits.js';
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../abi/linux/poll.js';
import { E } from './errno.js';
import { WaitQueue } from './wait_queue.js';
import type { File, FileOps } from '../vfs/file.js';

export class Pipe {
  readonly queue = new WaitQueue();
  readers = 0;
  writers = 0;
  /**
   * Opens of each end so far (Linux's r_counter/w_counter): a blocking FIFO open waits for
   * the other counter to move, and a read end reports HUP only once a writer came after it.
   */
  rCounter = 0;
  wCounter = 0;
  capacity = PIPE_DEF_CAPACITY;
  private buf: Uint8Array | null = null;
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  get space(): number {
    return this.capacity - this.count;
  }

  read(into: Uint8Array, off: number, len: number): number {
    if (len === 0) return 0;
    if (this.count === 0) {
      if (this.writers === 0) return 0;
      throw E.EAGAIN;
    }
    const n = Math.min(len, this.count);
    const buf = this.buf!;
    const first = Math.min(n, this.capacity - this.head);
    into.set(buf.subarray(this.head, this.head + first), off);
    if (first < n) into.set(buf.subarray(0, n - first), off + first);
    this.head = (this.head + n) % this.capacity;
    this.count -= n;
    if (this.count === 0) this.head = 0;
    this.queue.notify(POLLOUT | POLLWRNORM);
    return n;
  }

  write(from: Uint8Array, off: number, len: number): number {
    // pipe_write: an empty write succeeds before the reader check.
    if (len === 0) return 0;
    if (this.readers === 0) throw E.EPIPE;
    const space = this.capacity - this.count;
    // Small writes are atomic: all or nothing.
    if (space === 0 || (len <= PIPE_BUF && space < len)) throw E.EAGAIN;
    const n = Math.min(len, space);
    const buf = (this.buf ??= new Uint8Array(this.capacity));
    const tail = (this.head + this.count) % this.capacity;
    const first = Math.min(n, this.capacity - tail);
    buf.set(from.subarray(off, off + first), tail);
    if (first < n) buf.set(from.subarray(off + first, off + n), 0);
    this.count += n;
    this.queue.notify(POLLIN | POLLRDNORM);
    return n;
  }

  /**
   * F_SETPIPE_SZ: capacity rounded up to a power of two of pages, one page at least (0 too,
   * as round_pipe_size). Errors: EINVAL past 1 MiB (pipe-max-size), EBUSY when data would
   * not fit.
   */
  resize(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0 || bytes > 1 << 20) throw E.EINVAL;
    let cap = 4096;
    while (cap < bytes) cap *= 2;
    if (cap < this.count) throw E.EBUSY;
    if (this.buf !== null) {
      const next = new Uint8Array(cap);
      const tmp = new Uint8Array(this.count);
      const n = this.count;
      this.read(tmp, 0, n);
      next.set(tmp);
      this.buf = next;
      this.head = 0;
      this.count = n;
    }
    this.capacity = cap;
    return cap;
  }

  /** `version` is the read end's File.pipeVersion (pipe_poll's filp->f_pipe test). */
  readEndPoll(version: number): number {
    let m = 0;
    if (this.count > 0) m |= POLLIN | POLLRDNORM;
    if (this.writers === 0 && version !== this.wCounter) m |= POLLHUP;
    return m;
  }

  writeEndPoll(): number {
    let m = 0;
    if (this.capacity - this.count >= PIPE_BUF || this.capacity - this.count === this.capacity) m |= POLLOUT | POLLWRNORM;
    if (this.readers === 0) m |= POLLERR;
    return m;
  }

  /** A reader or writer went away: wake everyone so they see EOF, EPIPE or HUP. */
  endClosed(): void {
    this.queue.notify(POLLIN | POLLOUT | POLLHUP | POLLERR | POLLRDNORM | POLLWRNORM);
  }
}

/** File operations for either end of a pipe; `priv` is the Pipe. */
export const pipeFileOps: FileOps = {
  stream: true,
  read(f, buf, off, len) {
    return (f.priv as Pipe).read(buf, off, len);
  },
  write(f, buf, off, len) {
    return (f.priv as Pipe).write(buf, off, len);
  },
  poll(f) {
    const p = f.priv as Pipe;
    let m = 0;
    if (f.readable) m |= p.readEndPoll(f.pipeVersion);
    if (f.writable) m |= p.writeEndPoll();
    return m;
  },
  waitQueue(f) {
    return (f.priv as Pipe).queue;
  },
  release(f) {
    releasePipeEnd(f);
  },
};

/** Counts a new read and/or write end (and wakes FIFO opens waiting for a partner). */
export function openPipeEnd(p: Pipe, readable: boolean, writable: boolean): void {
  if (readable) {
    p.readers++;
    p.rCounter++;
  }
  if (writable) {
    p.writers++;
    p.wCounter++;
  }
  if (readable || writable) p.queue.notify(POLLIN | POLLOUT);
}

function releasePipeEnd(f: File): void {
  const p = f.priv as Pipe;
  if (f.readable) p.readers--;
  if (f.writable) p.writers--;
  // The last end of a FIFO closed: the next open starts a fresh, empty pipe.
  if (p.readers === 0 && p.writers === 0 && f.inode.special === p) f.inode.special = null;
  p.endClosed();
}
