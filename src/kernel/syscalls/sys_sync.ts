// Durability: fsync, fdatasync, sync, syncfs.

import { E } from '../errno.js';
import type { Task } from '../task.js';
import { FMODE_PATH } from '../../vfs/file.js';
import { fileArg } from './args.js';

export function sys_fsync(t: Task, fd: number): number {
  return doFsync(t, fd, false);
}

export function sys_fdatasync(t: Task, fd: number): number {
  return doFsync(t, fd, true);
}

function doFsync(t: Task, fd: unknown, datasync: boolean): number {
  const f = fileArg(t, fd);
  if (f.fmode & FMODE_PATH) throw E.EBADF;
  if (f.ops.fsync === undefined) throw E.EINVAL;
  f.ops.fsync(f, datasync);
  return 0;
}

export function sys_sync(t: Task): number {
  t.kernel.syncAll();
  return 0;
}

export function sys_syncfs(t: Task, fd: number): number {
  const f = fileArg(t, fd);
  if (f.fmode & FMODE_PATH) throw E.EBADF;
  f.path.mnt.sb.sync();
  return 0;
}
