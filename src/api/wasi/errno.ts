// The one table from Linux errno numbers to WASI preview1 errno values. Names that exist in
// both map by name (EACCES -> acces); the rest map to the nearest WASI meaning, chosen here
// once. An escape from a sandbox (BENEATH_ESCAPE) is `perm`, as cap-std based runtimes answer.

import { ERRNO_TABLE } from '../../abi/linux/errno.js';
import { Errno } from '../../kernel/errno.js';
import { BENEATH_ESCAPE } from '../../vfs/namei.js';
import { ERRNO_IO, ERRNO_PERM, WASI_ERRNO_NAMES } from './abi.js';

/** Linux errnos without a same-named WASI errno, and what they become. */
const NEAREST: Readonly<Record<string, (typeof WASI_ERRNO_NAMES)[number]>> = {
  EWOULDBLOCK: 'again',
  EDEADLOCK: 'deadlk',
  EOPNOTSUPP: 'notsup',
  ENOTBLK: 'notdir',
  ETIME: 'timedout',
  ENODATA: 'noent',
  ENOSTR: 'inval',
  ENOSR: 'nomem',
  EREMOTE: 'io',
  ECOMM: 'io',
  EUCLEAN: 'io',
  EREMOTEIO: 'io',
  ENOMEDIUM: 'nodev',
  EMEDIUMTYPE: 'nodev',
  ESHUTDOWN: 'pipe',
  EHOSTDOWN: 'hostunreach',
  EBADFD: 'badf',
  ESOCKTNOSUPPORT: 'notsup',
  EPFNOSUPPORT: 'afnosupport',
  ETOOMANYREFS: 'nomem',
  EUSERS: 'perm',
  ENOTUNIQ: 'inval',
  ERESTART: 'intr',
  ESTRPIPE: 'pipe',
  EKEYEXPIRED: 'perm',
  EKEYREJECTED: 'perm',
  EKEYREVOKED: 'perm',
  ENOKEY: 'perm',
  ERFKILL: 'netdown',
  EHWPOISON: 'io',
  EOWNERDEAD: 'ownerdead',
};

/** WASI errno by Linux errno number (index), built once. */
const TABLE: Uint8Array = (() => {
  let max = 0;
  for (const n of ERRNO_TABLE.keys()) max = Math.max(max, n);
  const t = new Uint8Array(max + 1).fill(ERRNO_IO);
  const byName = new Map<string, number>(WASI_ERRNO_NAMES.map((name, i) => [name, i]));
  for (const [n, [code]] of ERRNO_TABLE) {
    const direct = byName.get(code.slice(1).toLowerCase());
    const near = NEAREST[code];
    t[n] = direct ?? (near !== undefined ? byName.get(near)! : ERRNO_IO);
  }
  t[0] = 0;
  return t;
})();

/** The WASI errno for a Linux errno number (EIO's counterpart for anything unknown). */
export function wasiErrnoOf(linuxErrno: number): number {
  return linuxErrno >= 0 && linuxErrno < TABLE.length ? TABLE[linuxErrno]! : ERRNO_IO;
}

/** The WASI errno for a thrown kernel error; anything that is not an Errno is rethrown. */
export function wasiErrno(e: unknown): number {
  if (e === BENEATH_ESCAPE) return ERRNO_PERM;
  if (e instanceof Errno) return wasiErrnoOf(e.errno);
  throw e;
}
