// k.sys: the syscall API for programs, generated from the syscall table. Each method runs
// the syscall as one task of one kernel. Calls that cannot wait are synchronous; calls that
// can (read, write, poll, …: `blocking` in the table) return a Promise. Failures throw a
// SystemError shaped like Node's: code ('ENOENT'), errno (negative, as Node has it),
// syscall, and path/dest where the call has them.

import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/task.js';
import { Errno } from '../../kernel/errno.js';
import { sleepUntilDone } from '../../kernel/sleep.js';
import { Blocked } from '../../kernel/wait_queue.js';
import { SYSCALLS, type SyscallEntry, type SyscallName } from '../../kernel/syscalls/table.js';
import { E } from '../../kernel/errno.js';

/** An error from a syscall, in Node's SystemError shape. */
export class SystemError extends Error {
  readonly code: string;
  /** Negative errno, as Node reports it (-2 for ENOENT). */
  readonly errno: number;
  readonly syscall: string;
  declare readonly path?: string;
  declare readonly dest?: string;
  /** What the kernel said failed, when it said more than the errno (a corrupt structure named). */
  declare readonly detail?: string;

  constructor(e: Errno, syscall: string, path?: string, dest?: string) {
    let msg = `${e.code}: ${e.message}, ${syscall}`;
    if (path !== undefined) msg += ` '${path}'`;
    if (dest !== undefined) msg += ` -> '${dest}'`;
    super(msg);
    this.name = 'SystemError';
    this.code = e.code;
    this.errno = -e.errno;
    this.syscall = syscall;
    if (path !== undefined) this.path = path;
    if (dest !== undefined) this.dest = dest;
    if (e.message !== e.text && e.message.startsWith(`${e.text}: `)) (this as { detail?: string }).detail = e.message.slice(e.text.length + 2);
  }
}

/** Converts a kernel Errno into a SystemError for `syscall`; anything else passes through. */
export function toSystemError(e: unknown, syscall: string, paths: readonly number[] | undefined, args: unknown[]): unknown {
  if (!(e instanceof Errno)) {
    if (e instanceof Blocked) return new SystemError(E.EAGAIN, syscall, pathAt(paths, 0, args), pathAt(paths, 1, args));
    return e;
  }
  return new SystemError(e, syscall, pathAt(paths, 0, args), pathAt(paths, 1, args));
}

function pathAt(paths: readonly number[] | undefined, i: number, args: unknown[]): string | undefined {
  if (paths === undefined || paths[i] === undefined) return undefined;
  const p = args[paths[i]!];
  return typeof p === 'string' ? p : undefined;
}

type Table = typeof SYSCALLS;
type Args<F> = F extends (t: Task, ...a: infer A) => unknown ? A : never;
type Ret<F> = F extends (...a: never[]) => infer R ? R : never;
type Method<T> = T extends { fn: infer F; blocking: true } ? (...a: Args<F>) => Promise<Ret<F>> : T extends { fn: infer F } ? (...a: Args<F>) => Ret<F> : never;
export type SysMethods = { [K in SyscallName]: Method<Table[K]> };

export class Sys {
  constructor(
    readonly kernel: Kernel,
    readonly task: Task,
  ) {}
}
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface Sys extends SysMethods {}

function defineSync(name: string, entry: SyscallEntry): void {
  const fn = entry.fn;
  const paths = entry.paths;
  Object.defineProperty(Sys.prototype, name, {
    value: function (this: Sys, ...args: unknown[]): unknown {
      const k = this.kernel;
      k.current = this.task;
      k.openContext.noWait = true;
      try {
        return fn(this.task, ...args);
      } catch (e) {
        // A call that would wait answers EAGAIN here, letting go of what its attempt holds.
        if (e instanceof Blocked) e.abandon?.();
        throw toSystemError(e, name, paths, args);
      } finally {
        k.openContext.noWait = false;
      }
    },
    writable: true,
    configurable: true,
  });
}

function defineBlocking(name: string, entry: SyscallEntry): void {
  const fn = entry.fn;
  const paths = entry.paths;
  Object.defineProperty(Sys.prototype, name, {
    // Not an async function: a call that completes at once costs one resolved promise, and a
    // call that blocks one promise from the sleep adapter (no extra await layers).
    value: function (this: Sys, ...args: unknown[]): Promise<unknown> {
      const k = this.kernel;
      k.current = this.task;
      try {
        return Promise.resolve(fn(this.task, ...args));
      } catch (e) {
        if (!(e instanceof Blocked)) return Promise.reject(toSystemError(e, name, paths, args));
        return sleepUntilDone(k, this.task, e, (err) => toSystemError(err, name, paths, args));
      }
    },
    writable: true,
    configurable: true,
  });
}

for (const [name, entry] of Object.entries(SYSCALLS) as [string, SyscallEntry][]) {
  if (entry.blocking) defineBlocking(name, entry);
  else defineSync(name, entry);
}
