// getrandom(2): bytes from the host's randomness (cryptographic on real hosts, the seeded
// generator on the sim host). The pool is always initialised, so nothing ever blocks.

import { GRND_INSECURE, GRND_NONBLOCK, GRND_RANDOM } from '../../abi/linux/time.js';
import { E } from '../errno.js';
import type { Task } from '../task.js';
import { bufArg, countArg, optInt } from './args.js';

/** Linux returns at most this many bytes per call (32 MiB - 1). */
const GETRANDOM_MAX = (1 << 25) - 1;

/** getrandom(buf, count, flags): fills buf[0, n) and returns n. Errors: EINVAL, EFAULT. */
export function sys_getrandom(t: Task, buf: Uint8Array, count?: number, flags: number = 0): number {
  const b = bufArg(buf);
  const n = Math.min(countArg(b, count), GETRANDOM_MAX);
  const fl = optInt(flags, 0);
  if (fl & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) throw E.EINVAL;
  if ((fl & (GRND_RANDOM | GRND_INSECURE)) === (GRND_RANDOM | GRND_INSECURE)) throw E.EINVAL;
  t.kernel.host.randomFill(n === b.length ? b : b.subarray(0, n));
  return n;
}
