// Running a command body inside a Session: the images are unmounted (flushed) whatever
// happens — success, failure, or Ctrl-C (which stops at the next safe point, exit 130).

import { Session } from './session.js';
import { CliError, Status } from './output.js';

/** Thrown at a safe point after Ctrl-C. */
export class Interrupted extends Error {
  override name = 'Interrupted';
}

let interrupted = false;

/** Throws Interrupted once the user pressed Ctrl-C; long loops call it between steps. */
export function checkInterrupt(): void {
  if (interrupted) throw new Interrupted('interrupted');
}

/** Lets a pending Ctrl-C be noticed during long synchronous work. */
export function breathe(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

export async function inSession(body: (s: Session, status: Status) => Promise<void> | void): Promise<number> {
  const status = new Status();
  let s: Session | null = null;
  const onInt = (): void => {
    interrupted = true;
  };
  process.on('SIGINT', onInt);
  try {
    s = new Session();
    await body(s, status);
  } catch (e) {
    if (e instanceof Interrupted) {
      status.fail('tkl: interrupted; unmounting cleanly');
      status.code = 130;
    } else if (e instanceof CliError) status.fail(e.message);
    else throw e;
  } finally {
    process.off('SIGINT', onInt);
    if (s !== null) for (const problem of s.close()) status.fail(problem);
  }
  return status.code;
}
