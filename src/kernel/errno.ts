// The kernel's one error type. Inside the kernel a failing operation throws an Errno;
// the common ones are made once (E.ENOENT, …) so throwing costs no allocation. Each API
// layer converts an Errno once: k.sys into a Node-shaped SystemError, WASI through its table.

import { ERRNO_TABLE } from '../abi/linux/errno.js';

export class Errno extends Error {
  /** Linux's errno number (positive, as in errno.h). */
  readonly errno: number;
  /** Linux's name for it, e.g. 'ENOENT'. */
  readonly code: string;

  constructor(errno: number, detail?: string) {
    const [code, text] = ERRNO_TABLE.get(errno) ?? [`E${errno}`, `Unknown error ${errno}`];
    super(detail === undefined ? text : `${text}: ${detail}`);
    this.errno = errno;
    this.code = code;
    this.name = 'Errno';
  }

  /** The strerror text alone, without any detail. */
  get text(): string {
    return ERRNO_TABLE.get(this.errno)?.[1] ?? `Unknown error ${this.errno}`;
  }
}

/** Makes an Errno that names what failed (for rare paths: a corrupt inode, a bad block). */
export function errno(code: number, detail?: string): Errno {
  return new Errno(code, detail);
}

function makeShared(): Readonly<Record<string, Errno>> {
  // Shared instances carry no useful stack; skip capturing one.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const table: Record<string, Errno> = {};
  for (const [n, [name]] of ERRNO_TABLE) table[name] = new Errno(n);
  Error.stackTraceLimit = limit;
  return Object.freeze(table);
}

const shared = makeShared();

/** One frozen Errno per code, for throwing without allocation: `throw E.ENOENT`. */
export const E = shared as Readonly<{
  [K in
    | 'EPERM' | 'ENOENT' | 'ESRCH' | 'EINTR' | 'EIO' | 'ENXIO' | 'E2BIG' | 'ENOEXEC' | 'EBADF' | 'ECHILD'
    | 'EAGAIN' | 'ENOMEM' | 'EACCES' | 'EFAULT' | 'ENOTBLK' | 'EBUSY' | 'EEXIST' | 'EXDEV' | 'ENODEV'
    | 'ENOTDIR' | 'EISDIR' | 'EINVAL' | 'ENFILE' | 'EMFILE' | 'ENOTTY' | 'ETXTBSY' | 'EFBIG' | 'ENOSPC'
    | 'ESPIPE' | 'EROFS' | 'EMLINK' | 'EPIPE' | 'EDOM' | 'ERANGE' | 'EDEADLK' | 'ENAMETOOLONG' | 'ENOLCK'
    | 'ENOSYS' | 'ENOTEMPTY' | 'ELOOP' | 'ENODATA' | 'ETIME' | 'EPROTO' | 'EBADMSG' | 'EOVERFLOW'
    | 'EILSEQ' | 'ENOTSOCK' | 'EDESTADDRREQ' | 'EMSGSIZE' | 'EPROTOTYPE' | 'ENOPROTOOPT'
    | 'EPROTONOSUPPORT' | 'ESOCKTNOSUPPORT' | 'EOPNOTSUPP' | 'EPFNOSUPPORT' | 'EAFNOSUPPORT'
    | 'EADDRINUSE' | 'EADDRNOTAVAIL' | 'ENETDOWN' | 'ENETUNREACH' | 'ENETRESET' | 'ECONNABORTED'
    | 'ECONNRESET' | 'ENOBUFS' | 'EISCONN' | 'ENOTCONN' | 'ESHUTDOWN' | 'ETIMEDOUT' | 'ECONNREFUSED'
    | 'EHOSTDOWN' | 'EHOSTUNREACH' | 'EALREADY' | 'EINPROGRESS' | 'ESTALE' | 'EUCLEAN' | 'EREMOTEIO'
    | 'EDQUOT' | 'ENOMEDIUM' | 'ECANCELED' | 'EBADFD']: Errno;
}>;

export function isErrno(e: unknown): e is Errno {
  return e instanceof Errno;
}

/**
 * A broken internal invariant: a bug in tkl, never a user error. Thrown as a plain Error
 * with a message so it is never mistaken for an errno.
 */
export function panic(message: string): never {
  throw new Error(`tkl panic: ${message}`);
}
