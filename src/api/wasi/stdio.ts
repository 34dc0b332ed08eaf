// A WASI program's standard streams as kernel files: input from a fixed buffer or from a
// ByteRing fed by another thread, output to a sink called with each write's bytes. A stream
// from a terminal is a character device (WASI's isatty sees it); anything else is a FIFO.

import { POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../../abi/linux/poll.js';
import { O_RDONLY, O_WRONLY } from '../../abi/linux/fcntl.js';
import { S_IFCHR, S_IFIFO } from '../../abi/linux/stat.js';
import { E } from '../../kernel/errno.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/task.js';
import { WaitQueue } from '../../kernel/wait_queue.js';
import type { ByteRing } from '../../host/worker/ring.js';
import { File, FMODE_READ, FMODE_WRITE, type FileOps } from '../../vfs/file.js';

/** Receives a program's output; the bytes are only valid during the call. */
export type OutputSink = (bytes: Uint8Array) => void;

/** Input for a program's stdin. */
export interface InputSource {
  /** Copies up to `len` bytes; 0 at end of input; throws E.EAGAIN when none are there yet. */
  read(buf: Uint8Array, off: number, len: number): number;
  /** Input (or its end) is there to read. */
  ready(): boolean;
  /** Notified when input arrives. */
  readonly queue: WaitQueue;
}

/** A fixed input: the bytes, then end of file. */
export class BytesInput implements InputSource {
  readonly queue = new WaitQueue();
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}
  read(buf: Uint8Array, off: number, len: number): number {
    const n = Math.min(len, this.bytes.length - this.at);
    buf.set(this.bytes.subarray(this.at, this.at + n), off);
    this.at += n;
    return n;
  }
  ready(): boolean {
    return true;
  }
}

/** Input another thread writes into a ByteRing; call arrived() when its doorbell rang. */
export class RingInput implements InputSource {
  readonly queue = new WaitQueue();
  constructor(private readonly ring: ByteRing) {}
  read(buf: Uint8Array, off: number, len: number): number {
    const n = this.ring.read(buf, off, len);
    if (n > 0 || len === 0) return n;
    // The producer may have closed right after writing its last bytes: look once more.
    if (this.ring.closed) return this.ring.read(buf, off, len);
    throw E.EAGAIN;
  }
  ready(): boolean {
    if (this.ring.available > 0 || this.ring.closed) return true;
    // Polling for input counts as wanting it: the producer starts reading on demand.
    this.ring.read(new Uint8Array(0), 0, 0);
    return false;
  }
  arrived(): void {
    if (this.ready()) this.queue.notify(POLLIN | POLLRDNORM);
  }
}

export function inputOps(src: InputSource): FileOps {
  return {
    stream: true,
    read: (_f, buf, off, len) => src.read(buf, off, len),
    poll: () => (src.ready() ? POLLIN | POLLRDNORM : 0),
    waitQueue: () => src.queue,
  };
}

export function outputOps(sink: OutputSink): FileOps {
  return {
    stream: true,
    write: (_f, buf, off, len) => {
      sink(buf.subarray(off, off + len));
      return len;
    },
    poll: () => POLLOUT | POLLWRNORM,
  };
}

/** Puts a stream file at descriptor `fd` of `t`. */
export function installStream(k: Kernel, t: Task, fd: number, ops: FileOps, writable: boolean, tty: boolean): void {
  const path = k.anonInode((tty ? S_IFCHR | 0o620 : S_IFIFO | 0o600), tty ? 'tty' : 'pipe');
  const file = new File(path, writable ? O_WRONLY : O_RDONLY, writable ? FMODE_WRITE : FMODE_READ, ops);
  t.files.installAt(fd, file, false);
}
