// fadvise64 (posix_fadvise): access-pattern advice. The checks are Linux's (mm/fadvise.c);
// the advice itself changes nothing yet, since filesystems read through the buffer cache on
// demand and keep no read-ahead state to tune.

import { S_IFIFO } from '../../abi/linux/stat.js';
import { POSIX_FADV_NOREUSE, POSIX_FADV_NORMAL } from '../../abi/linux/time.js';
import { E } from '../errno.js';
import type { Task } from '../task.js';
import { FMODE_PATH } from '../../vfs/file.js';
import { fileArg, intArg } from './args.js';

/** fadvise64(fd, offset, len, advice). Errors: EBADF, ESPIPE (pipes, sockets), EINVAL. */
export function sys_fadvise64(t: Task, fd: number, offset: number, len: number, advice: number): number {
  const f = fileArg(t, fd);
  intArg(offset);
  const n = intArg(len);
  const adv = intArg(advice);
  if (f.fmode & FMODE_PATH) throw E.EBADF;
  if (f.ops.stream || f.inode.type === S_IFIFO) throw E.ESPIPE;
  if (adv < POSIX_FADV_NORMAL || adv > POSIX_FADV_NOREUSE) throw E.EINVAL;
  if (n < 0) throw E.EINVAL;
  return 0;
}
