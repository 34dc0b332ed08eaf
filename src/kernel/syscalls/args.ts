// Argument checks at the syscall boundary. Callers from JavaScript can pass anything; the
// kernel answers with the errno Linux gives for the equivalent C mistake (EBADF for a bad
// descriptor, EFAULT for a bad buffer or a path that is not a string, EINVAL for a bad
// number) and never lets a TypeError escape from inside.

import { E } from '../errno.js';
import type { File } from '../../vfs/file.js';
import type { Task } from '../task.js';

/** The File behind `fd`. Errors: EBADF. */
export function fileArg(t: Task, fd: unknown): File {
  if (typeof fd !== 'number') throw E.EBADF;
  const f = t.files.lookup(fd);
  if (f === undefined) throw E.EBADF;
  return f;
}

/** An integer argument. Errors: EINVAL. */
export function intArg(x: unknown): number {
  if (typeof x !== 'number' || !Number.isInteger(x)) throw E.EINVAL;
  return x;
}

/** An optional integer argument with a default. Errors: EINVAL. */
export function optInt(x: unknown, dflt: number): number {
  return x === undefined ? dflt : intArg(x);
}

/** A file offset or length: a non-negative safe integer. Errors: EINVAL. */
export function offsetArg(x: unknown): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) throw E.EINVAL;
  return x;
}

/** A byte buffer. Errors: EFAULT. */
export function bufArg(buf: unknown): Uint8Array {
  if (!(buf instanceof Uint8Array)) throw E.EFAULT;
  return buf;
}

/**
 * The byte count for a transfer into or out of `buf`: all of it by default. Errors: EINVAL
 * for a negative or non-integer count, EFAULT when the buffer is shorter than the count.
 */
export function countArg(buf: Uint8Array, count: unknown): number {
  if (count === undefined) return buf.length;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) throw E.EINVAL;
  if (count > buf.length) throw E.EFAULT;
  return count;
}

/** An array of byte buffers (an iovec). Errors: EFAULT, EINVAL past IOV_MAX. */
export function iovArg(iov: unknown, max: number): Uint8Array[] {
  if (!Array.isArray(iov)) throw E.EFAULT;
  if (iov.length > max) throw E.EINVAL;
  for (const b of iov) if (!(b instanceof Uint8Array)) throw E.EFAULT;
  return iov as Uint8Array[];
}

/** A string argument that is not a path (an xattr name, a filesystem type). Errors: EFAULT. */
export function stringArg(s: unknown): string {
  if (typeof s !== 'string') throw E.EFAULT;
  return s;
}
