// The browser host: performance.now for the monotonic clock, setTimeout for timers,
// crypto.getRandomValues for randomness, console.log for the console, Web Workers for threads.
// Works in a window and in a worker.

import type { HostOps, HostThread, Instant, TimerHandle } from '../host_ops.js';
import { NS_PER_MS, deadlineTimer } from '../host_ops.js';

export interface BrowserHostOptions {
  console?: (text: string) => void;
}

export class BrowserHost implements HostOps {
  readonly kind = 'browser';
  private readonly out: (text: string) => void;
  private readonly origin = performance.now();
  private readonly epochNsAtOrigin: bigint;

  constructor(options: BrowserHostOptions = {}) {
    this.out = options.console ?? ((text) => console.log(text.replace(/\n$/, '')));
    this.epochNsAtOrigin = BigInt(Math.round((performance.timeOrigin + this.origin) * NS_PER_MS));
  }

  monotonic(): Instant {
    return Math.round((performance.now() - this.origin) * NS_PER_MS) as Instant;
  }

  realtimeNs(): bigint {
    // performance.timeOrigin + now() is wall time at sub-millisecond resolution.
    return this.epochNsAtOrigin + BigInt(this.monotonic());
  }

  setTimer(at: Instant, fire: () => void): TimerHandle {
    return deadlineTimer(() => this.monotonic(), at, fire, false);
  }

  defer(fn: () => void): void {
    queueMicrotask(fn);
  }

  hold(): () => void {
    // A page stays alive by itself.
    return () => {};
  }

  randomFill(buf: Uint8Array): void {
    // getRandomValues takes at most 65,536 bytes a call.
    for (let off = 0; off < buf.length; off += 65536) {
      crypto.getRandomValues(buf.subarray(off, Math.min(buf.length, off + 65536)) as Uint8Array<ArrayBuffer>);
    }
  }

  console(text: string): void {
    this.out(text);
  }

  startThread(url: URL | string, data: unknown): HostThread {
    const worker = new Worker(url, { type: 'module' });
    worker.postMessage({ __tklWorkerData: data });
    return {
      postMessage: (message, transfer) => worker.postMessage(message, transfer ?? []),
      onMessage: (handler) => worker.addEventListener('message', (e) => handler((e as MessageEvent).data)),
      onError: (handler) => worker.addEventListener('error', (e) => handler(new Error((e as ErrorEvent).message))),
      onExit: () => {
        // Browser workers report no exit; the runner posts its exit code as a message.
      },
      terminate: async () => worker.terminate(),
    };
  }
}
