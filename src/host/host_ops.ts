// HostOps: everything the kernel needs from the environment it runs in (LKL's host_ops).
// Only code under host/ may touch a runtime's clocks, timers, randomness, console or threads;
// the kernel sees nothing else. Times are nanoseconds: monotonic time is a JS number
// (`Instant`, exact for 2^53 ns ≈ 104 days of uptime, then losing single nanoseconds),
// wall-clock time is a bigint because file timestamps must round-trip exactly.

/** Nanoseconds on the host's monotonic clock; never goes back. Virtual on the sim host. */
export type Instant = number & { readonly __unit: 'Instant' };
/** A span of time in nanoseconds. */
export type Duration = number & { readonly __unit: 'Duration' };

export const NS_PER_MS = 1_000_000;
export const NS_PER_SEC = 1_000_000_000;

export function nanoseconds(n: number): Duration {
  return n as Duration;
}
export function milliseconds(n: number): Duration {
  return (n * NS_PER_MS) as Duration;
}
export function seconds(n: number): Duration {
  return (n * NS_PER_SEC) as Duration;
}
export function after(t: Instant, d: Duration): Instant {
  return (t + d) as Instant;
}
export function since(later: Instant, earlier: Instant): Duration {
  return (later - earlier) as Duration;
}

/** A pending one-shot timer. cancel() is idempotent and safe after the timer fired. */
export interface TimerHandle {
  cancel(): void;
}

/** A worker thread started by the host (Node worker_threads or a browser Worker). */
export interface HostThread {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onMessage(handler: (message: unknown) => void): void;
  onError(handler: (error: Error) => void): void;
  onExit(handler: (code: number) => void): void;
  terminate(): Promise<void>;
}

export interface HostOps {
  /** 'node', 'browser' or 'sim'. */
  readonly kind: string;
  /** The monotonic clock. */
  monotonic(): Instant;
  /** Wall-clock time, nanoseconds since the Unix epoch. */
  realtimeNs(): bigint;
  /**
   * Calls `fire` once, at or soon after `at` on the monotonic clock, from the host's event
   * loop (never synchronously from inside setTimer). The kernel multiplexes all of its timers
   * onto one host timer, so hosts need not be efficient with many of them.
   */
  setTimer(at: Instant, fire: () => void): TimerHandle;
  /** Runs `fn` after the current synchronous work, in FIFO order (a bottom half). */
  defer(fn: () => void): void;
  /** Fills `buf` with random bytes: cryptographic on real hosts, seeded on the sim host. */
  randomFill(buf: Uint8Array): void;
  /**
   * Keeps the host's event loop alive (a Node process from exiting) until the returned
   * function is called. The kernel holds one while a caller is blocked in a syscall;
   * its own background timers (TIME_WAIT, ARP expiry) do not keep a program alive.
   */
  hold(): () => void;
  /** Kernel console output (the log, and what a tty device writes). */
  console(text: string): void;
  /**
   * Starts a worker thread running the ES module at `url`, or throws ENOSYS-shaped Error
   * where the host has no threads (the sim host keeps one thread for determinism).
   */
  startThread(url: URL | string, data: unknown): HostThread;
}

/**
 * A one-shot timer for `at` on `monotonic`, built on the runtime's setTimeout, which can fire
 * a little early against a high-resolution clock: it re-arms until the deadline has passed.
 * `unref` lets a Node process exit while only such timers are pending.
 */
export function deadlineTimer(monotonic: () => number, at: Instant, fire: () => void, unref: boolean): TimerHandle {
  let handle: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    const left = at - monotonic();
    handle = setTimeout(() => {
      if (at - monotonic() > 0) arm();
      else {
        handle = undefined;
        fire();
      }
    }, Math.max(0, Math.ceil(left / NS_PER_MS)));
    if (unref) (handle as { unref?: () => void }).unref?.();
  };
  arm();
  return {
    cancel: () => {
      if (handle !== undefined) clearTimeout(handle);
      handle = undefined;
    },
  };
}
