// Task: a process as the kernel sees it (Linux's task_struct with its fs_struct and
// files_struct): pid, credentials, root and working directory, umask and descriptors.
// Syscalls act on behalf of a Task.

import type { Cred } from './cred.js';
import type { FdTable } from './fd_table.js';
import type { PathRef } from '../vfs/mount.js';
import type { Kernel } from './kernel.js';

export class Task {
  /** Exit status once the task has exited, else null. */
  exitCode: number | null = null;
  /**
   * LOOKUP_* flags added to every path walk of this task: LOOKUP_BENEATH confines each path
   * to the directory it starts from (a capability sandbox, as WASI's preopens require).
   */
  resolveFlags = 0;
  /** When the task was made, on the host's monotonic clock (for the CPU-time clocks). */
  readonly startTime: number;

  constructor(
    readonly kernel: Kernel,
    readonly pid: number,
    public ppid: number,
    public cred: Cred,
    public root: PathRef,
    public cwd: PathRef,
    public umask: number,
    readonly files: FdTable,
    /** The command name (/proc/PID/comm). */
    public comm: string,
  ) {
    this.startTime = kernel.host.monotonic();
  }
}
