// The Node.js host: process.hrtime for the monotonic clock, setTimeout for timers,
// crypto for randomness, process.stdout for the console, worker_threads for threads.

import { randomFillSync } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { HostOps, HostThread, Instant, TimerHandle } from '../host_ops.js';
import { deadlineTimer } from '../host_ops.js';

const ORIGIN = process.hrtime.bigint();
const RESOLVED = Promise.resolve();

export interface NodeHostOptions {
  /** Where console text goes; by default process.stderr (the kernel log is not program output). */
  console?: (text: string) => void;
}

export class NodeHost implements HostOps {
  readonly kind = 'node';
  private readonly out: (text: string) => void;

  constructor(options: NodeHostOptions = {}) {
    this.out = options.console ?? ((text) => void process.stderr.write(text));
  }

  monotonic(): Instant {
    return Number(process.hrtime.bigint() - ORIGIN) as Instant;
  }

  realtimeNs(): bigint {
    return nodeRealtimeNs();
  }

  setTimer(at: Instant, fire: () => void): TimerHandle {
    return deadlineTimer(() => this.monotonic(), at, fire, true);
  }

  // Deferred work runs as one promise job per batch: Node's queueMicrotask makes an
  // AsyncResource per call, which cost more than the work itself on per-frame paths.
  private deferred: (() => void)[] = [];
  private deferScheduled = false;
  private readonly runDeferred = (): void => {
    const q = this.deferred;
    this.deferred = [];
    this.deferScheduled = false;
    for (const fn of q) {
      try {
        fn();
      } catch (e) {
        // As an uncaught exception, like a throwing queueMicrotask callback.
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  };

  defer(fn: () => void): void {
    this.deferred.push(fn);
    if (!this.deferScheduled) {
      this.deferScheduled = true;
      void RESOLVED.then(this.runDeferred);
    }
  }

  hold(): () => void {
    holdProcess();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      releaseProcess();
    };
  }

  randomFill(buf: Uint8Array): void {
    nodeRandomFill(buf);
  }

  console(text: string): void {
    this.out(text);
  }

  startThread(url: URL | string, data: unknown): HostThread {
    return startNodeThread(url, data);
  }
}

// One interval for the whole process keeps Node alive while any caller waits: ref'd while
// holds are taken, unref'd (not cleared) when none are, so a blocking call that waits and
// wakes again costs two counter updates instead of a timer insertion and removal.
let holds = 0;
let keeper: ReturnType<typeof setInterval> | undefined;

function holdProcess(): void {
  if (holds++ > 0) return;
  if (keeper === undefined) keeper = setInterval(() => {}, 1 << 30);
  else keeper.ref();
}

function releaseProcess(): void {
  if (--holds === 0) keeper!.unref();
}

// The parts every host on Node shares (NodeHost, and WorkerHost in a worker thread).

let lastRealtime = 0n;

/**
 * Wall-clock time in ns: Date.now()'s milliseconds plus the high-resolution time since this
 * thread first saw that millisecond (at most 999,999 ns). The millisecond began at or before
 * that first sight, so a reading is never ahead of the true time — a file stamped now is
 * never "in the future" for a tool that reads the clock next (e2fsck compares the
 * superblock's times with time()). Readings never go back within a thread.
 */
export function nodeRealtimeNs(): bigint {
  const ms = Date.now();
  const hr = process.hrtime.bigint();
  if (ms !== msSeen) {
    msSeen = ms;
    hrAtMs = hr;
  }
  let sub = hr - hrAtMs;
  if (sub > 999_999n) sub = 999_999n;
  const ns = BigInt(ms) * 1_000_000n + sub;
  if (ns > lastRealtime) lastRealtime = ns;
  return lastRealtime;
}
let msSeen = -1;
let hrAtMs = 0n;

/** Cryptographic random bytes; randomFillSync takes at most 2^31-1 bytes a call. */
export function nodeRandomFill(buf: Uint8Array): void {
  for (let off = 0; off < buf.length; off += 65536) randomFillSync(buf, off, Math.min(65536, buf.length - off));
}

/** A worker_threads Worker as a HostThread. */
export function startNodeThread(url: URL | string, data: unknown): HostThread {
  const worker = new Worker(url, { workerData: data });
  return {
    postMessage: (message, transfer) => worker.postMessage(message, transfer as never),
    onMessage: (handler) => void worker.on('message', handler),
    onError: (handler) => void worker.on('error', handler),
    onExit: (handler) => void worker.on('exit', handler),
    terminate: async () => void (await worker.terminate()),
  };
}
