// ioctl(2): a request for the open file's own driver (Linux's vfs_ioctl → f_op->unlocked_ioctl).
// Only requests a file type defines are served (the FAT attribute ioctls); the generic ones
// do_vfs_ioctl answers itself (FIOCLEX, FIONBIO, …) are not, and get ENOTTY like any unknown one.

import { E } from '../errno.js';
import type { Task } from '../task.js';
import { FMODE_PATH } from '../../vfs/file.js';
import { fileArg, intArg } from './args.js';

/**
 * ioctl(fd, request, arg). `arg` is what the request says: for requests that pass a pointer,
 * an ArrayBufferView at least as long as the value, holding it as it would be in memory
 * (little-endian, as on x86_64). Errors: EBADF (bad or O_PATH descriptor), ENOTTY (no such
 * request for this file), EFAULT (an arg of the wrong shape), and the request's own.
 */
export function sys_ioctl(t: Task, fd: number, request: number, arg: unknown = null): number {
  const f = fileArg(t, fd);
  if (f.fmode & FMODE_PATH) throw E.EBADF;
  // The request is an unsigned int in Linux: 0x80047210 and its negative int32 form are one.
  const req = intArg(request) >>> 0;
  if (f.ops.ioctl === undefined) throw E.ENOTTY;
  return f.ops.ioctl(f, req, arg, t.cred);
}
