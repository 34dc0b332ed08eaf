// Running a command body inside a Session: the images are unmounted (flushed) whatever
// happens — success, failure, or a signal. SIGINT (Ctrl-C), SIGTERM and SIGHUP stop the work
// at the next safe point; the images are unmounted cleanly and the exit status is the one a
// shell shows for a process that signal ended: 128 + its number (130, 143, 129).

import { constants } from 'node:os';
import { Session } from './session.js';
import { CliError, Status } from './output.js';

/** Thrown at a safe point after a stopping signal arrived. */
export class Interrupted extends Error {
  override name = 'Interrupted';
}

/** The signals that stop a command at a safe point instead of killing it mid-write. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type StopSignal = (typeof STOP_SIGNALS)[number];

let stopSignal: StopSignal | null = null;

/** Throws Interrupted once a stopping signal arrived; long loops call it between steps. */
export function checkInterrupt(): void {
  if (stopSignal !== null) throw new Interrupted(stopSignal);
}

/** Lets a pending signal be noticed during long synchronous work. */
export function breathe(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** The exit status a shell shows for a process ended by `sig`. */
export function signalExitCode(sig: NodeJS.Signals): number {
  return 128 + (constants.signals[sig] ?? 0);
}

/**
 * Catches the stopping signals while `work` runs, so that work ends by itself (flushing what it
 * wrote) rather than the process dying half-way; returns which signal came first, if any.
 */
export async function withStopSignals<T>(work: () => Promise<T> | T): Promise<{ value: T; signal: StopSignal | null }> {
  stopSignal = null;
  const handlers = STOP_SIGNALS.map((sig) => {
    const h = (): void => {
      stopSignal ??= sig;
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  try {
    const value = await work();
    // A signal that came during synchronous work waits in the event loop's poll phase: two
    // turns through the check phase pass through one poll, where its handler runs.
    await breathe();
    await breathe();
    return { value, signal: stopSignal };
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}

export async function inSession(body: (s: Session, status: Status) => Promise<void> | void): Promise<number> {
  const status = new Status();
  let s: Session | null = null;
  const { signal } = await withStopSignals(async () => {
    try {
      s = new Session();
      await body(s, status);
    } catch (e) {
      if (e instanceof Interrupted) {
        const what = e.message === 'SIGINT' ? 'interrupted' : `${e.message === 'SIGTERM' ? 'terminated' : 'hung up'} (${e.message})`;
        status.fail(`tkl: ${what}; unmounting cleanly`);
      } else if (e instanceof CliError) status.fail(e.message);
      else throw e;
    } finally {
      // Still under the handlers: a second signal during the unmount does not cut it short.
      if (s !== null) for (const problem of (s as Session).close()) status.fail(problem);
    }
  });
  if (signal !== null) status.code = signalExitCode(signal);
  return status.code;
}
