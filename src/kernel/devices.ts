// Character devices (Linux's drivers/char/mem.c and the console): /dev/null, /dev/zero,
// /dev/full, /dev/random, /dev/urandom, and the console behind /dev/tty and /dev/console.
// A device is a FileOps found by device number when its node is opened.

import { MEM_MAJOR, TTY_MAJOR, makedev } from '../abi/linux/limits.js';
import { POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../abi/linux/poll.js';
import type { HostOps } from '../host/host_ops.js';
import type { FileOps } from '../vfs/file.js';
import { E } from './errno.js';
import { WaitQueue } from './wait_queue.js';

export const DEV_NULL = makedev(MEM_MAJOR, 3);
export const DEV_ZERO = makedev(MEM_MAJOR, 5);
export const DEV_FULL = makedev(MEM_MAJOR, 7);
export const DEV_RANDOM = makedev(MEM_MAJOR, 8);
export const DEV_URANDOM = makedev(MEM_MAJOR, 9);
export const DEV_TTY = makedev(TTY_MAJOR, 0);
export const DEV_CONSOLE = makedev(TTY_MAJOR, 1);

const nullOps: FileOps = {
  read: () => 0,
  write: (_f, _b, _o, len) => len,
  llseek: () => 0,
};

const zeroOps: FileOps = {
  read(_f, buf, off, len) {
    buf.fill(0, off, off + len);
    return len;
  },
  write: (_f, _b, _o, len) => len,
  llseek: () => 0,
};

const fullOps: FileOps = {
  read: zeroOps.read,
  write() {
    throw E.ENOSPC;
  },
  llseek: () => 0,
};

function randomOps(host: HostOps): FileOps {
  return {
    read(_f, buf, off, len) {
      host.randomFill(buf.subarray(off, off + len));
      return len;
    },
    // Writing mixes into the pool on Linux; there is nothing to mix into here.
    write: (_f, _b, _o, len) => len,
    llseek: () => 0,
  };
}

/**
 * The system console: what is written goes to the host's console; what is read comes from
 * input the embedder feeds with feed(). With no input attached, reads see end of file.
 */
export class Console {
  readonly queue = new WaitQueue();
  private input: Uint8Array[] = [];
  private inputOpen = false;
  private readonly decoder = new TextDecoder();

  constructor(private readonly host: HostOps) {}

  /** Attaches an input stream: reads now wait for feed() until endInput(). */
  attachInput(): void {
    this.inputOpen = true;
  }

  feed(bytes: Uint8Array): void {
    this.input.push(bytes.slice());
    this.queue.notify(POLLIN | POLLRDNORM);
  }

  endInput(): void {
    this.inputOpen = false;
    this.queue.notify(POLLIN | POLLRDNORM);
  }

  readonly ops: FileOps = {
    stream: true,
    read: (_f, buf, off, len) => {
      if (this.input.length === 0) {
        if (this.inputOpen) throw E.EAGAIN;
        return 0;
      }
      let done = 0;
      while (done < len && this.input.length > 0) {
        const chunk = this.input[0]!;
        const n = Math.min(chunk.length, len - done);
        buf.set(chunk.subarray(0, n), off + done);
        done += n;
        if (n === chunk.length) this.input.shift();
        else this.input[0] = chunk.subarray(n);
      }
      return done;
    },
    write: (_f, buf, off, len) => {
      this.host.console(this.decoder.decode(buf.subarray(off, off + len), { stream: true }));
      return len;
    },
    poll: () => {
      let m = POLLOUT | POLLWRNORM;
      if (this.input.length > 0 || !this.inputOpen) m |= POLLIN | POLLRDNORM;
      return m;
    },
    waitQueue: () => this.queue,
    ioctl: () => {
      throw E.ENOTTY;
    },
  };
}

/** The character devices every kernel has, by device number. */
export function standardCharDevices(host: HostOps, console: Console): Map<number, FileOps> {
  const rnd = randomOps(host);
  return new Map<number, FileOps>([
    [DEV_NULL, nullOps],
    [DEV_ZERO, zeroOps],
    [DEV_FULL, fullOps],
    [DEV_RANDOM, rnd],
    [DEV_URANDOM, rnd],
    [DEV_TTY, console.ops],
    [DEV_CONSOLE, console.ops],
  ]);
}
