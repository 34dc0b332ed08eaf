// boot(): makes a kernel and the handle programs use: k.sys (the syscalls, as the first
// task), k.fs (conveniences), k.process() (more tasks with their own credentials).

import type { HostOps } from '../host/host_ops.js';
import type { BlockDevice } from '../block/block_device.js';
import { Cred } from '../kernel/cred.js';
import { Kernel, type KernelOptions } from '../kernel/kernel.js';
import type { Task } from '../kernel/task.js';
import { Fs } from './fs.js';
import { Sys } from './syscall/sys.js';

export interface BootOptions extends Omit<KernelOptions, 'host'> {
  /** Where the kernel runs; by default the host of the current runtime. */
  host?: HostOps;
}

export interface ProcessOptions {
  uid?: number;
  gid?: number;
  groups?: number[];
  umask?: number;
}

/** A process inside a kernel: its syscalls and conveniences. */
export class Process {
  readonly sys: Sys;
  private _fs: Fs | undefined;

  constructor(
    readonly kernel: Kernel,
    readonly task: Task,
  ) {
    this.sys = new Sys(kernel, task);
  }

  get fs(): Fs {
    return (this._fs ??= new Fs(this.task));
  }

  get pid(): number {
    return this.task.pid;
  }

  /** Ends the process, closing its descriptors. */
  exit(code = 0): void {
    this.kernel.exitTask(this.task, code);
  }
}

/** A booted kernel: the first process (pid 1) plus the kernel itself. */
export class Tkl extends Process {
  constructor(kernel: Kernel) {
    super(kernel, kernel.init);
  }

  get host(): HostOps {
    return this.kernel.host;
  }

  /** Attaches a disk; returns its node (/dev/vda, /dev/vdb, …). */
  addDisk(device: BlockDevice): string {
    return this.kernel.addDisk(device);
  }

  /**
   * A new process, a child of pid 1 with copies of its descriptors, working directory and
   * umask, running with the given credentials (by default those of pid 1).
   */
  process(options: ProcessOptions = {}): Process {
    const parent = this.kernel.init;
    let cred: Cred | undefined;
    if (options.uid !== undefined || options.gid !== undefined || options.groups !== undefined) {
      cred = new Cred(options.uid ?? parent.cred.uid, options.gid ?? parent.cred.gid, options.groups ?? []);
    }
    const t = this.kernel.forkTask(parent, cred);
    if (options.umask !== undefined) t.umask = options.umask & 0o777;
    return new Process(this.kernel, t);
  }
}

export function bootWith(host: HostOps, options: BootOptions): Tkl {
  return new Tkl(new Kernel({ ...options, host }));
}
