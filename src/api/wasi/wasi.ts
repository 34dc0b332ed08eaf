// WASI preview1 (wasi_snapshot_preview1) on a tkl kernel: every function the program imports,
// mapped onto the kernel's syscall handlers for one task. Paths resolve beneath the directory
// descriptor they are given (the task walks with LOOKUP_BENEATH), rights are kept per
// descriptor as the spec describes, errors map through errno.ts, and a call that must wait
// halts the thread (waitSync) — the program and the kernel share it, as DESIGN.md's
// "synchronous core, explicit blocking" says.

import {
  AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, F_GETFL, F_SETFL, O_APPEND, O_CREAT, O_DIRECTORY,
  O_DSYNC, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_RDWR, O_SYNC, O_TRUNC, O_WRONLY, __O_SYNC,
} from '../../abi/linux/fcntl.js';
import { EPERM } from '../../abi/linux/errno.js';
import { PATH_MAX } from '../../abi/linux/limits.js';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT } from '../../abi/linux/poll.js';
import {
  S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, UTIME_NOW, UTIME_OMIT,
} from '../../abi/linux/stat.js';
import {
  CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME, CLOCK_THREAD_CPUTIME_ID, POSIX_FADV_RANDOM,
  POSIX_FADV_SEQUENTIAL,
} from '../../abi/linux/time.js';
import type { Halt } from '../../host/halt.js';
import type { Instant } from '../../host/host_ops.js';
import { E, Errno, errno } from '../../kernel/errno.js';
import type { Kernel } from '../../kernel/kernel.js';
import { Pipe } from '../../kernel/pipe.js';
import { waitSync } from '../../kernel/sleep_sync.js';
import type { Task } from '../../kernel/task.js';
import { Blocked, type WaitQueue, type Waiter } from '../../kernel/wait_queue.js';
import { sys_getdents64 } from '../../kernel/syscalls/sys_dir.js';
import { sys_fadvise64 } from '../../kernel/syscalls/sys_fadvise.js';
import { sys_dup2, sys_fcntl } from '../../kernel/syscalls/sys_fd.js';
import { sys_fallocate, sys_ftruncate, sys_utimensat, type UtimeTimes } from '../../kernel/syscalls/sys_attr.js';
import {
  sys_linkat, sys_mkdirat, sys_readlinkat, sys_renameat2, sys_symlinkat, sys_unlinkat,
} from '../../kernel/syscalls/sys_namei.js';
import { sys_close, sys_openat } from '../../kernel/syscalls/sys_open.js';
import { fileReadiness } from '../../kernel/syscalls/sys_poll.js';
import { sys_getrandom } from '../../kernel/syscalls/sys_random.js';
import { doRead, doWrite, sys_lseek } from '../../kernel/syscalls/sys_rw.js';
import { sys_sched_yield } from '../../kernel/syscalls/sys_sched.js';
import { sys_fstat, sys_newfstatat, type Stat } from '../../kernel/syscalls/sys_stat.js';
import { sys_fdatasync, sys_fsync } from '../../kernel/syscalls/sys_sync.js';
import { sys_clock_getres, sys_clock_gettime } from '../../kernel/syscalls/sys_time.js';
import type { File } from '../../vfs/file.js';
import { MSG_NOSIGNAL, MSG_PEEK, MSG_TRUNC, MSG_WAITALL, SHUT_RD, SHUT_RDWR, SHUT_WR, SOCK_DGRAM, SOCK_NONBLOCK } from '../../abi/linux/socket.js';
import { socketOf } from '../../net/socket/socket_file.js';
import { sys_accept4, sys_recvmsg, sys_sendmsg, sys_shutdown, type MsgHdr } from '../../kernel/syscalls/sys_socket.js';
import type { Timespec } from '../../vfs/time.js';
import * as W from './abi.js';
import { wasiErrno } from './errno.js';

/** Thrown by proc_exit through the program's stack; the runner catches it. */
export class WasiExit extends Error {
  constructor(readonly code: number) {
    super(`proc_exit(${code})`);
    this.name = 'WasiExit';
  }
}

/** A directory the program is given at start (fd 3, 4, …), under the name it sees. */
export interface Preopen {
  /** The descriptor in the task, opened O_RDONLY|O_DIRECTORY. */
  fd: number;
  /** The name fd_prestat_dir_name reports ("/", "/data", "."). */
  name: string;
}

export interface WasiOptions {
  /** argv, the program's name first. */
  args: readonly string[];
  /** The environment, as KEY=VALUE strings. */
  env: readonly string[];
  preopens: readonly Preopen[];
  /** How the thread waits when a call must (a WorkerHost or a SimHalt). */
  halt: Halt;
  /** Called with one line per call ("fd_write(1, 1024, 1, 1020) = 0"), like strace. */
  trace?: (line: string) => void;
  /**
   * A shared word another thread sets (to non-zero) to end the program: its next call exits
   * with INTERRUPT_EXIT_CODE, so the kernel syncs and unmounts as after a normal exit.
   */
  interrupt?: Int32Array;
}

/** The exit code of a program ended through `interrupt` (128 + SIGINT, as a shell shows Ctrl-C). */
export const INTERRUPT_EXIT_CODE = 130;

type Imports = Record<string, (...args: never[]) => number | void>;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const TWO_32 = 4294967296;
/** Linux's limit for one getrandom call; random_get loops over larger buffers. */
const RANDOM_CHUNK = 1 << 24;

/**
 * One WASI preview1 instance: a program's view of a kernel task. `imports` is the
 * wasi_snapshot_preview1 import object; start() runs a command module's _start.
 */
export class WasiPreview1 {
  readonly imports: Imports;
  private memory: WebAssembly.Memory | null = null;
  private bytes = new Uint8Array(0);
  private view = new DataView(new ArrayBuffer(0));
  private readonly args: Uint8Array[];
  private readonly env: Uint8Array[];
  private readonly halt: Halt;
  private readonly interrupt: Int32Array;
  /** Per descriptor: base and inheriting rights; undefined means "derive from the file". */
  private readonly base: (number | undefined)[] = [];
  private readonly inheriting: (number | undefined)[] = [];
  /** Per descriptor: the fdflags Linux cannot report back (RSYNC). */
  private readonly rsync: boolean[] = [];
  /** Per descriptor: the preopen name, for fd_prestat_*. */
  private readonly preopenNames = new Map<number, Uint8Array>();

  constructor(
    readonly kernel: Kernel,
    readonly task: Task,
    options: WasiOptions,
  ) {
    this.args = options.args.map((s) => encoder.encode(s + '\0'));
    this.env = options.env.map((s) => encoder.encode(s + '\0'));
    this.halt = options.halt;
    this.interrupt = options.interrupt ?? new Int32Array(1);
    for (const p of options.preopens) {
      this.preopenNames.set(p.fd, encoder.encode(p.name));
      this.base[p.fd] = W.RIGHTS_DIRECTORY;
      this.inheriting[p.fd] = W.RIGHTS_DIRECTORY_INHERITING;
    }
    const imports = this.makeImports();
    const trace = options.trace;
    if (trace !== undefined) {
      for (const [name, fn] of Object.entries(imports)) {
        imports[name] = (...a: never[]): number | void => {
          let r: number | void;
          try {
            r = fn(...a);
          } catch (e) {
            trace(`${name}(${a.join(', ')}) -> ${e instanceof WasiExit ? 'exit' : 'throws'}`);
            throw e;
          }
          trace(`${name}(${a.join(', ')}) = ${r === undefined ? '' : `${r}${r === 0 ? '' : ` (${W.WASI_ERRNO_NAMES[r] ?? '?'})`}`}`);
          return r;
        };
      }
    }
    this.imports = imports;
  }

  /** Gives the instance the program's memory (done by start(); for reactors, call it yourself). */
  bind(memory: WebAssembly.Memory): void {
    this.memory = memory;
    this.refresh();
  }

  /**
   * Runs a command module's `_start`; returns the exit code (proc_exit's, or 0 when _start
   * returns). A trap propagates as the WebAssembly.RuntimeError it is.
   */
  start(instance: WebAssembly.Instance): number {
    const { memory, _start } = instance.exports as { memory?: unknown; _start?: unknown };
    if (!(memory instanceof WebAssembly.Memory)) throw new TypeError('the module does not export its memory as "memory"');
    if (typeof _start !== 'function') throw new TypeError('the module has no _start function (not a WASI command)');
    this.bind(memory);
    try {
      (_start as () => void)();
      return 0;
    } catch (e) {
      if (e instanceof WasiExit) return e.code;
      throw e;
    }
  }

  // ---- memory ------------------------------------------------------------------------------

  private refresh(): void {
    const buf = this.memory!.buffer;
    this.bytes = new Uint8Array(buf);
    this.view = new DataView(buf);
  }

  /** Re-reads the memory's buffer when growth detached the one we hold (growing always does). */
  private mem(): DataView {
    // Every call passes here: the cheapest place to notice a request to stop.
    if (this.interrupt[0] !== 0) throw new WasiExit(INTERRUPT_EXIT_CODE);
    if (this.bytes.byteLength === 0) this.refresh();
    return this.view;
  }

  /** Checks that [ptr, ptr+len) lies in memory. Errors: EFAULT. */
  private check(ptr: number, len: number): void {
    if (ptr + len > this.bytes.length) throw E.EFAULT;
  }

  /** A UTF-8 string argument. Errors: EFAULT, EILSEQ (not UTF-8). */
  private string(ptr: number, len: number): string {
    this.check(ptr, len);
    try {
      return decoder.decode(this.bytes.subarray(ptr, ptr + len));
    } catch {
      throw E.EILSEQ;
    }
  }

  private setU64(ptr: number, v: number): void {
    this.check(ptr, 8);
    this.view.setUint32(ptr, v >>> 0, true);
    this.view.setUint32(ptr + 4, Math.floor(v / TWO_32) >>> 0, true);
  }

  private setU32(ptr: number, v: number): void {
    this.check(ptr, 4);
    this.view.setUint32(ptr, v >>> 0, true);
  }

  /** Writes a timestamp (u64 nanoseconds) without BigInt arithmetic; before 1970 is 0. */
  private setTimestamp(ptr: number, t: Timespec): void {
    this.check(ptr, 8);
    if (t.sec < 0) {
      this.view.setUint32(ptr, 0, true);
      this.view.setUint32(ptr + 4, 0, true);
      return;
    }
    // sec * 1e9 + nsec exceeds 2^53: split sec into parts whose products stay exact.
    const sh = Math.floor(t.sec / TWO_32);
    const sl = t.sec - sh * TWO_32;
    const a = Math.floor(sl / 65536);
    const b = sl - a * 65536;
    const m = a * 1e9;
    let lo = b * 1e9 + t.nsec + (m % 65536) * 65536;
    let hi = sh * 1e9 + Math.floor(m / 65536);
    hi += Math.floor(lo / TWO_32);
    lo %= TWO_32;
    this.view.setUint32(ptr, lo, true);
    this.view.setUint32(ptr + 4, hi >>> 0, true);
  }

  // ---- descriptors and rights --------------------------------------------------------------

  private file(fd: number): File {
    const f = this.task.files.lookup(fd);
    if (f === undefined) throw E.EBADF;
    return f;
  }

  private rightsOf(fd: number, f: File): number {
    return this.base[fd] ?? applicableRights(f);
  }

  /** The File at `fd` when it holds every right in `need`. Errors: EBADF, ENOTCAPABLE. */
  private withRights(fd: number, need: number): File {
    const f = this.file(fd);
    if ((this.rightsOf(fd, f) & need) !== need) throw NOTCAPABLE;
    return f;
  }

  private forget(fd: number): void {
    this.base[fd] = undefined;
    this.inheriting[fd] = undefined;
    this.rsync[fd] = false;
    this.preopenNames.delete(fd);
  }

  private block<T>(b: Blocked<T>): T {
    return waitSync(this.kernel, this.task, b, this.halt);
  }

  /** One error return for anything thrown by a call. */
  private fail(e: unknown): number {
    if (e === NOTCAPABLE) return W.ERRNO_NOTCAPABLE;
    if (e instanceof Errno) return wasiErrno(e);
    if (e instanceof RangeError && !(e instanceof WasiExit)) return W.ERRNO_FAULT;
    throw e;
  }

  // ---- the functions -----------------------------------------------------------------------

  private makeImports(): Imports {
    const t = this.task;
    const k = this.kernel;
    // Wraps a call that returns nothing but an errno. The fixed parameter list (no function
    // takes more than nine) spares an arguments array per call.
    type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any
    const wrap = (fn: (...a: Any[]) => void) =>
      (a0?: Any, a1?: Any, a2?: Any, a3?: Any, a4?: Any, a5?: Any, a6?: Any, a7?: Any, a8?: Any): number => {
        k.current = t;
        try {
          this.mem();
          fn(a0, a1, a2, a3, a4, a5, a6, a7, a8);
          return W.ERRNO_SUCCESS;
        } catch (e) {
          return this.fail(e);
        }
      };
    const call = <A extends number[]>(fn: (...a: A) => void): ((...a: A) => number) => wrap(fn as (...a: Any[]) => void) as unknown as (...a: A) => number;
    const big = <A extends (number | bigint)[]>(fn: (...a: A) => void): ((...a: A) => number) => wrap(fn as (...a: Any[]) => void) as unknown as (...a: A) => number;

    return {
      args_get: call((argv, buf) => this.writeStrings(this.args, argv >>> 0, buf >>> 0)),
      args_sizes_get: call((countPtr, sizePtr) => this.writeSizes(this.args, countPtr >>> 0, sizePtr >>> 0)),
      environ_get: call((envp, buf) => this.writeStrings(this.env, envp >>> 0, buf >>> 0)),
      environ_sizes_get: call((countPtr, sizePtr) => this.writeSizes(this.env, countPtr >>> 0, sizePtr >>> 0)),

      clock_res_get: call((id, ptr) => {
        const ts = sys_clock_getres(t, linuxClock(id));
        this.setU64(ptr >>> 0, ts.sec * 1e9 + ts.nsec);
      }),
      clock_time_get: big((id: number, _precision: bigint, ptr: number) => {
        const c = linuxClock(id);
        if (c === CLOCK_REALTIME) this.setTimestamp(ptr >>> 0, sys_clock_gettime(t, c));
        else {
          const ts = sys_clock_gettime(t, c);
          this.setU64(ptr >>> 0, ts.sec * 1e9 + ts.nsec);
        }
      }),

      fd_advise: big((fd: number, offset: bigint, len: bigint, advice: number) => {
        this.withRights(fd, W.RIGHTS_FD_ADVISE);
        if (advice < W.ADVICE_NORMAL || advice > W.ADVICE_NOREUSE) throw E.EINVAL;
        // WASI numbers sequential 1 and random 2; Linux the other way round.
        const adv = advice === 1 ? POSIX_FADV_SEQUENTIAL : advice === 2 ? POSIX_FADV_RANDOM : advice;
        sys_fadvise64(t, fd, u64(offset), u64(len), adv);
      }),
      fd_allocate: big((fd: number, offset: bigint, len: bigint) => {
        this.withRights(fd, W.RIGHTS_FD_ALLOCATE);
        sys_fallocate(t, fd, 0, u64(offset), u64(len));
      }),
      fd_close: call((fd) => {
        sys_close(t, fd);
        this.forget(fd);
      }),
      fd_datasync: call((fd) => {
        this.withRights(fd, W.RIGHTS_FD_DATASYNC);
        sys_fdatasync(t, fd);
      }),
      fd_sync: call((fd) => {
        this.withRights(fd, W.RIGHTS_FD_SYNC);
        sys_fsync(t, fd);
      }),
      fd_fdstat_get: call((fd, ptr) => this.fdstat(fd, ptr >>> 0)),
      fd_fdstat_set_flags: call((fd, flags) => this.setFdflags(fd, flags)),
      fd_fdstat_set_rights: big((fd: number, base: bigint, inheriting: bigint) => {
        const f = this.file(fd);
        const b = rightsArg(base);
        const i = rightsArg(inheriting);
        const curBase = this.rightsOf(fd, f);
        const curInh = this.inheriting[fd] ?? (f.inode.isDir ? W.RIGHTS_DIRECTORY_INHERITING : 0);
        // Rights can only be dropped (witx: fd_fdstat_set_rights).
        if ((b & ~curBase) !== 0 || (i & ~curInh) !== 0) throw NOTCAPABLE;
        this.base[fd] = b;
        this.inheriting[fd] = i;
      }),
      fd_filestat_get: call((fd, ptr) => {
        this.withRights(fd, W.RIGHTS_FD_FILESTAT_GET);
        this.filestat(ptr >>> 0, sys_fstat(t, fd));
      }),
      fd_filestat_set_size: big((fd: number, size: bigint) => {
        this.withRights(fd, W.RIGHTS_FD_FILESTAT_SET_SIZE);
        sys_ftruncate(t, fd, u64(size));
      }),
      fd_filestat_set_times: big((fd: number, atim: bigint, mtim: bigint, fst: number) => {
        this.withRights(fd, W.RIGHTS_FD_FILESTAT_SET_TIMES);
        sys_utimensat(t, fd, null as unknown as string, utimes(atim, mtim, fst), 0);
      }),
      fd_pread: (fd: number, iovs: number, n: number, offset: bigint, out: number): number => {
        k.current = t;
        try {
          this.mem();
          const f = this.withRights(fd, W.RIGHTS_FD_READ | W.RIGHTS_FD_SEEK);
          if (f.ops.stream) throw E.ESPIPE;
          this.setU32(out >>> 0, this.readv(f, iovs >>> 0, n >>> 0, u64(offset)));
          return W.ERRNO_SUCCESS;
        } catch (e) {
          return this.fail(e);
        }
      },
      fd_pwrite: (fd: number, iovs: number, n: number, offset: bigint, out: number): number => {
        k.current = t;
        try {
          this.mem();
          const f = this.withRights(fd, W.RIGHTS_FD_WRITE | W.RIGHTS_FD_SEEK);
          if (f.ops.stream) throw E.ESPIPE;
          this.setU32(out >>> 0, this.writev(f, iovs >>> 0, n >>> 0, u64(offset)));
          return W.ERRNO_SUCCESS;
        } catch (e) {
          return this.fail(e);
        }
      },
      fd_read: (fd: number, iovs: number, n: number, out: number): number => {
        k.current = t;
        try {
          this.mem();
          const f = this.withRights(fd, W.RIGHTS_FD_READ);
          this.setU32(out >>> 0, this.readv(f, iovs >>> 0, n >>> 0, -1));
          return W.ERRNO_SUCCESS;
        } catch (e) {
          return this.fail(e);
        }
      },
      fd_write: (fd: number, iovs: number, n: number, out: number): number => {
        k.current = t;
        try {
          this.mem();
          const f = this.withRights(fd, W.RIGHTS_FD_WRITE);
          this.setU32(out >>> 0, this.writev(f, iovs >>> 0, n >>> 0, -1));
          return W.ERRNO_SUCCESS;
        } catch (e) {
          return this.fail(e);
        }
      },
      fd_prestat_get: call((fd, ptr) => {
        this.file(fd);
        const name = this.preopenNames.get(fd);
        if (name === undefined) throw E.EBADF;
        this.check(ptr >>> 0, W.PRESTAT_SIZE);
        this.view.setUint32(ptr >>> 0, W.PREOPENTYPE_DIR, true);
        this.view.setUint32((ptr >>> 0) + 4, name.length, true);
      }),
      fd_prestat_dir_name: call((fd, ptr, len) => {
        this.file(fd);
        const name = this.preopenNames.get(fd);
        if (name === undefined) throw E.EBADF;
        if ((len >>> 0) < name.length) throw E.ENAMETOOLONG;
        this.check(ptr >>> 0, name.length);
        this.bytes.set(name, ptr >>> 0);
      }),
      fd_readdir: big((fd: number, buf: number, len: number, cookie: bigint, out: number) => {
        this.withRights(fd, W.RIGHTS_FD_READDIR);
        this.setU32(out >>> 0, this.readdir(fd, buf >>> 0, len >>> 0, cookie));
      }),
      fd_renumber: call((from, to) => {
        this.file(from);
        this.file(to);
        if (from === to) return;
        sys_dup2(t, from, to);
        sys_close(t, from);
        this.base[to] = this.base[from];
        this.inheriting[to] = this.inheriting[from];
        this.rsync[to] = this.rsync[from] === true;
        const name = this.preopenNames.get(from);
        this.forget(from);
        if (name !== undefined) this.preopenNames.set(to, name);
        else this.preopenNames.delete(to);
      }),
      fd_seek: (fd: number, offset: bigint, whence: number, out: number): number => {
        k.current = t;
        try {
          this.mem();
          const f = this.file(fd);
          if (f.ops.stream) throw E.ESPIPE;
          const off = i64(offset);
          const tellOnly = whence === W.WHENCE_CUR && off === 0;
          const rights = this.rightsOf(fd, f);
          if (!(rights & W.RIGHTS_FD_SEEK) && !(tellOnly && rights & W.RIGHTS_FD_TELL)) throw NOTCAPABLE;
          if (whence !== W.WHENCE_SET && whence !== W.WHENCE_CUR && whence !== W.WHENCE_END) throw E.EINVAL;
          this.check(out >>> 0, 8);
          this.setU64(out >>> 0, sys_lseek(t, fd, off, whence));
          return W.ERRNO_SUCCESS;
        } catch (e) {
          return this.fail(e);
        }
      },
      fd_tell: call((fd, ptr) => {
        const f = this.withRights(fd, W.RIGHTS_FD_TELL);
        if (f.ops.stream) throw E.ESPIPE;
        this.check(ptr >>> 0, 8);
        this.setU64(ptr >>> 0, sys_lseek(t, fd, 0, 1));
      }),

      path_create_directory: call((fd, p, len) => {
        this.withRights(fd, W.RIGHTS_PATH_CREATE_DIRECTORY);
        sys_mkdirat(t, fd, this.string(p >>> 0, len >>> 0), 0o777);
      }),
      path_filestat_get: call((fd, flags, p, len, ptr) => {
        this.withRights(fd, W.RIGHTS_PATH_FILESTAT_GET);
        const follow = (flags & W.LOOKUPFLAGS_SYMLINK_FOLLOW) !== 0;
        this.check(ptr >>> 0, W.FILESTAT_SIZE);
        this.filestat(ptr >>> 0, sys_newfstatat(t, fd, this.string(p >>> 0, len >>> 0), follow ? 0 : AT_SYMLINK_NOFOLLOW));
      }),
      path_filestat_set_times: big((fd: number, flags: number, p: number, len: number, atim: bigint, mtim: bigint, fst: number) => {
        this.withRights(fd, W.RIGHTS_PATH_FILESTAT_SET_TIMES);
        const times = utimes(atim, mtim, fst);
        const follow = (flags & W.LOOKUPFLAGS_SYMLINK_FOLLOW) !== 0;
        sys_utimensat(t, fd, this.string(p >>> 0, len >>> 0), times, follow ? 0 : AT_SYMLINK_NOFOLLOW);
      }),
      path_link: call((oldFd, oldFlags, oldP, oldLen, newFd, newP, newLen) => {
        this.withRights(oldFd, W.RIGHTS_PATH_LINK_SOURCE);
        this.withRights(newFd, W.RIGHTS_PATH_LINK_TARGET);
        const follow = (oldFlags & W.LOOKUPFLAGS_SYMLINK_FOLLOW) !== 0;
        sys_linkat(t, oldFd, this.string(oldP >>> 0, oldLen >>> 0), newFd, this.string(newP >>> 0, newLen >>> 0), follow ? AT_SYMLINK_FOLLOW : 0);
      }),
      path_open: big(
        (fd: number, dirflags: number, p: number, len: number, oflags: number, base: bigint, inh: bigint, fdflags: number, out: number) =>
          this.pathOpen(fd, dirflags, this.string(p >>> 0, len >>> 0), oflags, rightsArg(base), rightsArg(inh), fdflags, out >>> 0),
      ),
      path_readlink: call((fd, p, len, buf, bufLen, out) => {
        this.withRights(fd, W.RIGHTS_PATH_READLINK);
        const body = encoder.encode(sys_readlinkat(t, fd, this.string(p >>> 0, len >>> 0), PATH_MAX));
        const n = Math.min(body.length, bufLen >>> 0);
        this.check(buf >>> 0, n);
        this.check(out >>> 0, 4);
        this.bytes.set(n === body.length ? body : body.subarray(0, n), buf >>> 0);
        this.setU32(out >>> 0, n);
      }),
      path_remove_directory: call((fd, p, len) => {
        this.withRights(fd, W.RIGHTS_PATH_REMOVE_DIRECTORY);
        sys_unlinkat(t, fd, this.string(p >>> 0, len >>> 0), AT_REMOVEDIR);
      }),
      path_rename: call((fd, oldP, oldLen, newFd, newP, newLen) => {
        this.withRights(fd, W.RIGHTS_PATH_RENAME_SOURCE);
        this.withRights(newFd, W.RIGHTS_PATH_RENAME_TARGET);
        sys_renameat2(t, fd, this.string(oldP >>> 0, oldLen >>> 0), newFd, this.string(newP >>> 0, newLen >>> 0), 0);
      }),
      path_symlink: call((oldP, oldLen, fd, newP, newLen) => {
        this.withRights(fd, W.RIGHTS_PATH_SYMLINK);
        const target = this.string(oldP >>> 0, oldLen >>> 0);
        // An absolute target could only ever lead out of the sandbox: refuse to make one.
        if (target.charCodeAt(0) === 47) throw errno(EPERM, 'WASI: absolute symlink targets are not allowed');
        sys_symlinkat(t, target, fd, this.string(newP >>> 0, newLen >>> 0));
      }),
      path_unlink_file: call((fd, p, len) => {
        this.withRights(fd, W.RIGHTS_PATH_UNLINK_FILE);
        sys_unlinkat(t, fd, this.string(p >>> 0, len >>> 0), 0);
      }),

      poll_oneoff: call((inPtr, outPtr, n, countPtr) => this.pollOneoff(inPtr >>> 0, outPtr >>> 0, n >>> 0, countPtr >>> 0)),
      proc_exit: (code: number): void => {
        throw new WasiExit(code >>> 0);
      },
      proc_raise: call(() => {
        // Signals do not exist in this kernel (see README, "Deliberate differences").
        throw E.ENOSYS;
      }),
      sched_yield: call(() => {
        sys_sched_yield(t);
        this.halt.poll();
      }),
      random_get: call((buf, len) => {
        const p = buf >>> 0;
        const n = len >>> 0;
        this.check(p, n);
        for (let off = 0; off < n; off += RANDOM_CHUNK) {
          const chunk = this.bytes.subarray(p + off, p + Math.min(n, off + RANDOM_CHUNK));
          sys_getrandom(t, chunk, chunk.length, 0);
        }
      }),

      sock_accept: call((fd, flags, out) => this.sockAccept(fd, flags, out >>> 0)),
      sock_recv: call((fd, iovs, n, riFlags, outLen, outFlags) => this.sockRecv(fd, iovs >>> 0, n >>> 0, riFlags, outLen >>> 0, outFlags >>> 0)),
      sock_send: call((fd, iovs, n, siFlags, outLen) => this.sockSend(fd, iovs >>> 0, n >>> 0, siFlags, outLen >>> 0)),
      sock_shutdown: call((fd, how) => this.sockShutdown(fd, how)),
    };
  }

  // ---- implementations ---------------------------------------------------------------------

  private writeStrings(list: Uint8Array[], ptrs: number, buf: number): void {
    let total = 0;
    for (const s of list) total += s.length;
    this.check(ptrs, list.length * 4);
    this.check(buf, total);
    let at = buf;
    for (let i = 0; i < list.length; i++) {
      this.view.setUint32(ptrs + i * 4, at, true);
      this.bytes.set(list[i]!, at);
      at += list[i]!.length;
    }
  }

  private writeSizes(list: Uint8Array[], countPtr: number, sizePtr: number): void {
    let total = 0;
    for (const s of list) total += s.length;
    this.setU32(countPtr, list.length);
    this.setU32(sizePtr, total);
  }

  private fdstat(fd: number, ptr: number): void {
    const f = this.file(fd);
    this.check(ptr, W.FDSTAT_SIZE);
    let flags = 0;
    if (f.flags & O_APPEND) flags |= W.FDFLAGS_APPEND;
    if (f.flags & O_NONBLOCK) flags |= W.FDFLAGS_NONBLOCK;
    if (f.flags & __O_SYNC) flags |= W.FDFLAGS_SYNC;
    else if (f.flags & O_DSYNC) flags |= W.FDFLAGS_DSYNC;
    if (this.rsync[fd]) flags |= W.FDFLAGS_RSYNC;
    const v = this.view;
    v.setUint8(ptr, fileFiletype(f));
    v.setUint8(ptr + 1, 0);
    v.setUint16(ptr + 2, flags, true);
    v.setUint32(ptr + 4, 0, true);
    this.setU64(ptr + 8, this.rightsOf(fd, f));
    this.setU64(ptr + 16, this.inheriting[fd] ?? (f.inode.isDir ? W.RIGHTS_DIRECTORY_INHERITING : 0));
  }

  /** fd_fdstat_set_flags: APPEND and NONBLOCK change; the sync flags are fixed at open, as on Linux. */
  private setFdflags(fd: number, flags: number): void {
    const f = this.withRights(fd, W.RIGHTS_FD_FDSTAT_SET_FLAGS);
    if (flags & ~W.FDFLAGS_ALL) throw E.EINVAL;
    const cur = sys_fcntl(this.task, fd, F_GETFL);
    const sync = (cur & __O_SYNC ? W.FDFLAGS_SYNC : cur & O_DSYNC ? W.FDFLAGS_DSYNC : 0) | (this.rsync[fd] ? W.FDFLAGS_RSYNC : 0);
    if ((flags & (W.FDFLAGS_SYNC | W.FDFLAGS_DSYNC | W.FDFLAGS_RSYNC)) !== sync) throw E.EOPNOTSUPP;
    let next = cur & ~(O_APPEND | O_NONBLOCK);
    if (flags & W.FDFLAGS_APPEND) next |= O_APPEND;
    if (flags & W.FDFLAGS_NONBLOCK) next |= O_NONBLOCK;
    void f;
    sys_fcntl(this.task, fd, F_SETFL, next);
  }

  private filestat(ptr: number, st: Stat): void {
    this.check(ptr, W.FILESTAT_SIZE);
    const v = this.view;
    this.setU64(ptr, st.dev);
    this.setU64(ptr + 8, st.ino);
    v.setUint8(ptr + 16, filetypeOf(st.mode));
    for (let i = 17; i < 24; i++) v.setUint8(ptr + i, 0);
    this.setU64(ptr + 24, st.nlink);
    this.setU64(ptr + 32, st.size);
    this.setTimestamp(ptr + 40, st.atime);
    this.setTimestamp(ptr + 48, st.mtime);
    this.setTimestamp(ptr + 56, st.ctime);
  }

  /** Reads into the iovecs at `iovs`; pos -1 reads at (and advances) the file position. */
  private readv(f: File, iovs: number, n: number, pos: number): number {
    this.check(iovs, n * W.IOVEC_SIZE);
    const v = this.view;
    if (n === 1 || (n > 1 && !f.ops.stream)) {
      let total = 0;
      for (let i = 0; i < n; i++) {
        const p = v.getUint32(iovs + i * 8, true);
        const len = v.getUint32(iovs + i * 8 + 4, true);
        this.check(p, len);
        if (len === 0) continue;
        const got = this.read1(f, p, len, pos < 0 ? -1 : pos + total, total > 0);
        total += got;
        if (got < len) break;
      }
      return total;
    }
    // A stream: one transfer (which may wait), scattered over the vectors.
    let want = 0;
    for (let i = 0; i < n; i++) want += v.getUint32(iovs + i * 8 + 4, true);
    if (want === 0) return 0;
    const tmp = new Uint8Array(Math.min(want, 1 << 24));
    let got: number;
    try {
      got = doRead(f, tmp, 0, tmp.length, pos);
    } catch (e) {
      if (!(e instanceof Blocked)) throw e;
      got = this.block(e as Blocked<number>);
    }
    this.mem();
    let at = 0;
    for (let i = 0; i < n && at < got; i++) {
      const p = this.view.getUint32(iovs + i * 8, true);
      const len = Math.min(this.view.getUint32(iovs + i * 8 + 4, true), got - at);
      this.check(p, len);
      this.bytes.set(tmp.subarray(at, at + len), p);
      at += len;
    }
    return got;
  }

  /** One read into memory[p, p+len); after the first vector it never waits. */
  private read1(f: File, p: number, len: number, pos: number, noWait: boolean): number {
    try {
      return doRead(f, this.bytes, p, len, pos);
    } catch (e) {
      if (!(e instanceof Blocked)) throw e;
      if (noWait) return 0;
      const n = this.block(e as Blocked<number>);
      // The wait may have run code that grew the memory; nothing was read into the old one.
      this.mem();
      return n;
    }
  }

  private writev(f: File, iovs: number, n: number, pos: number): number {
    this.check(iovs, n * W.IOVEC_SIZE);
    const v = this.view;
    if (n === 1) {
      const p = v.getUint32(iovs, true);
      const len = v.getUint32(iovs + 4, true);
      this.check(p, len);
      return this.write1(f, this.bytes, p, len, pos);
    }
    if (f.ops.stream) {
      // Gathered into one write, so a small vector stays atomic on a pipe.
      let want = 0;
      for (let i = 0; i < n; i++) want += v.getUint32(iovs + i * 8 + 4, true);
      const tmp = new Uint8Array(want);
      let at = 0;
      for (let i = 0; i < n; i++) {
        const p = v.getUint32(iovs + i * 8, true);
        const len = v.getUint32(iovs + i * 8 + 4, true);
        this.check(p, len);
        tmp.set(this.bytes.subarray(p, p + len), at);
        at += len;
      }
      return this.write1(f, tmp, 0, want, pos);
    }
    let total = 0;
    for (let i = 0; i < n; i++) {
      const p = v.getUint32(iovs + i * 8, true);
      const len = v.getUint32(iovs + i * 8 + 4, true);
      this.check(p, len);
      if (len === 0) continue;
      const put = this.write1(f, this.bytes, p, len, pos < 0 ? -1 : pos + total);
      total += put;
      if (put < len) break;
    }
    return total;
  }

  private write1(f: File, buf: Uint8Array, p: number, len: number, pos: number): number {
    try {
      return doWrite(this.task, f, buf, p, len, pos, 0);
    } catch (e) {
      if (!(e instanceof Blocked)) throw e;
      // A blocking stream write completes in full after waiting (the kernel resumes it).
      return this.block(e as Blocked<number>);
    }
  }

  /**
   * fd_readdir: dirents from `cookie` on, as many as fit; the last one may be cut short
   * (witx: the caller grows its buffer or skips it). Cookies are the kernel's readdir
   * positions (getdents64's d_off).
   */
  private readdir(fd: number, buf: number, len: number, cookie: bigint): number {
    const f = this.file(fd);
    if (!f.inode.isDir) throw E.ENOTDIR;
    const at = u64(cookie);
    this.check(buf, len);
    sys_lseek(this.task, fd, at, 0);
    let used = 0;
    const v = this.view;
    const header = new Uint8Array(W.DIRENT_SIZE);
    const hv = new DataView(header.buffer);
    for (;;) {
      const entries = sys_getdents64(this.task, fd, Math.max(4096, (len - used) * 2));
      if (entries.length === 0) return used;
      for (const e of entries) {
        const name = encoder.encode(e.name);
        hv.setUint32(0, e.off >>> 0, true);
        hv.setUint32(4, Math.floor(e.off / TWO_32), true);
        hv.setUint32(8, e.ino >>> 0, true);
        hv.setUint32(12, Math.floor(e.ino / TWO_32), true);
        hv.setUint32(16, name.length, true);
        hv.setUint32(20, dtypeToFiletype(e.type), true);
        const room = len - used;
        if (room < W.DIRENT_SIZE + name.length) {
          // Fill the buffer to its end: a short count would mean "end of directory".
          const h = Math.min(room, W.DIRENT_SIZE);
          this.bytes.set(header.subarray(0, h), buf + used);
          if (room > h) this.bytes.set(name.subarray(0, room - h), buf + used + h);
          return len;
        }
        this.bytes.set(header, buf + used);
        this.bytes.set(name, buf + used + W.DIRENT_SIZE);
        used += W.DIRENT_SIZE + name.length;
      }
      void v;
    }
  }

  private pathOpen(
    dirfd: number, dirflags: number, path: string, oflags: number, base: number, inheriting: number, fdflags: number, out: number,
  ): void {
    const dir = this.file(dirfd);
    const dirBase = this.rightsOf(dirfd, dir);
    const dirInh = this.inheriting[dirfd] ?? (dir.inode.isDir ? W.RIGHTS_DIRECTORY_INHERITING : 0);
    let need = W.RIGHTS_PATH_OPEN;
    if (oflags & W.OFLAGS_CREAT) need |= W.RIGHTS_PATH_CREATE_FILE;
    if (oflags & W.OFLAGS_TRUNC) need |= W.RIGHTS_PATH_FILESTAT_SET_SIZE;
    if ((dirBase & need) !== need) throw NOTCAPABLE;
    if (oflags & ~(W.OFLAGS_CREAT | W.OFLAGS_DIRECTORY | W.OFLAGS_EXCL | W.OFLAGS_TRUNC)) throw E.EINVAL;
    if (fdflags & ~W.FDFLAGS_ALL) throw E.EINVAL;
    this.check(out, 4);
    // What is opened gets what was asked for and the directory passes on, no more.
    const granted = base & dirInh;
    const grantedInh = inheriting & dirInh;
    const read = (granted & W.RIGHTS_NEED_READ) !== 0;
    const write = (granted & W.RIGHTS_NEED_WRITE) !== 0;
    let flags = write ? (read ? O_RDWR : O_WRONLY) : O_RDONLY;
    if (oflags & W.OFLAGS_CREAT) flags |= O_CREAT;
    if (oflags & W.OFLAGS_DIRECTORY) flags |= O_DIRECTORY;
    if (oflags & W.OFLAGS_EXCL) flags |= O_EXCL;
    if (oflags & W.OFLAGS_TRUNC) flags |= O_TRUNC;
    if (!(dirflags & W.LOOKUPFLAGS_SYMLINK_FOLLOW)) flags |= O_NOFOLLOW;
    if (fdflags & W.FDFLAGS_APPEND) flags |= O_APPEND;
    if (fdflags & W.FDFLAGS_NONBLOCK) flags |= O_NONBLOCK;
    if (fdflags & W.FDFLAGS_DSYNC) flags |= O_DSYNC;
    if (fdflags & (W.FDFLAGS_SYNC | W.FDFLAGS_RSYNC)) flags |= O_SYNC;
    let fd: number;
    try {
      fd = sys_openat(this.task, dirfd, path, flags, 0o666);
    } catch (e) {
      if (!(e instanceof Blocked)) throw e;
      fd = this.block(e as Blocked<number>);
    }
    const f = this.file(fd);
    this.forget(fd);
    this.base[fd] = granted & applicableRights(f);
    this.inheriting[fd] = f.inode.isDir ? grantedInh : grantedInh & applicableRights(f);
    this.rsync[fd] = (fdflags & W.FDFLAGS_RSYNC) !== 0;
    this.mem();
    this.setU32(out, fd);
  }

  /**
   * poll_oneoff: clock subscriptions become one deadline; descriptor subscriptions ask the
   * file for readiness and wait on its queue. Regular files are always ready (witx).
   */
  private pollOneoff(inPtr: number, outPtr: number, n: number, countPtr: number): void {
    if (n === 0) throw E.EINVAL;
    this.check(inPtr, n * W.SUBSCRIPTION_SIZE);
    this.check(outPtr, n * W.EVENT_SIZE);
    this.check(countPtr, 4);
    const t = this.task;
    const host = this.kernel.host;
    const v = this.view;
    interface Sub {
      at: number;
      type: number;
      fd: number;
      deadline: number;
      error: number;
    }
    const subs: Sub[] = [];
    let deadline = Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const at = inPtr + i * W.SUBSCRIPTION_SIZE;
      const type = v.getUint8(at + 8);
      const s: Sub = { at, type, fd: -1, deadline: Number.POSITIVE_INFINITY, error: 0 };
      if (type === W.EVENTTYPE_CLOCK) {
        const id = v.getUint32(at + 16, true);
        const timeout = v.getBigUint64(at + 24, true);
        const abs = (v.getUint16(at + 40, true) & W.SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME) !== 0;
        try {
          s.deadline = clockDeadline(t, id, timeout, abs);
          deadline = Math.min(deadline, s.deadline);
        } catch (e) {
          s.error = this.fail(e);
        }
      } else if (type === W.EVENTTYPE_FD_READ || type === W.EVENTTYPE_FD_WRITE) {
        s.fd = v.getUint32(at + 16, true);
        const f = t.files.lookup(s.fd);
        if (f === undefined) s.error = W.ERRNO_BADF;
        else if (!(this.rightsOf(s.fd, f) & W.RIGHTS_POLL_FD_READWRITE)) s.error = W.ERRNO_NOTCAPABLE;
      } else throw E.EINVAL;
      subs.push(s);
    }

    const pass = (): number => {
      this.mem();
      const now = host.monotonic();
      let count = 0;
      for (const s of subs) {
        let ready = false;
        let nbytes = 0;
        let hangup = false;
        if (s.error !== 0) ready = true;
        else if (s.type === W.EVENTTYPE_CLOCK) ready = now >= s.deadline;
        else {
          const f = t.files.lookup(s.fd);
          if (f === undefined) {
            s.error = W.ERRNO_BADF;
            ready = true;
          } else {
            const want = s.type === W.EVENTTYPE_FD_READ ? POLLIN : POLLOUT;
            const r = fileReadiness(f);
            if (r & POLLNVAL) {
              s.error = W.ERRNO_BADF;
              ready = true;
            } else if (r & (want | POLLHUP | POLLERR)) {
              ready = true;
              hangup = (r & (POLLHUP | POLLERR)) !== 0;
              nbytes = available(f, s.type === W.EVENTTYPE_FD_READ);
            }
          }
        }
        if (!ready) continue;
        const o = outPtr + count * W.EVENT_SIZE;
        this.view.setUint32(o, this.view.getUint32(s.at, true), true);
        this.view.setUint32(o + 4, this.view.getUint32(s.at + 4, true), true);
        this.view.setUint16(o + 8, s.error, true);
        this.view.setUint8(o + 10, s.type);
        this.view.setUint8(o + 11, 0);
        this.view.setUint32(o + 12, 0, true);
        this.setU64(o + 16, s.type === W.EVENTTYPE_CLOCK ? 0 : nbytes);
        this.view.setUint16(o + 24, hangup ? W.EVENTRWFLAGS_FD_READWRITE_HANGUP : 0, true);
        this.view.setUint16(o + 26, 0, true);
        this.view.setUint32(o + 28, 0, true);
        count++;
      }
      return count;
    };

    let count = pass();
    if (count === 0) {
      const queues: WaitQueue[] = [];
      for (const s of subs) {
        const f = s.fd >= 0 ? t.files.lookup(s.fd) : undefined;
        const q = f?.ops.waitQueue?.(f);
        if (q !== undefined && !queues.includes(q)) queues.push(q);
      }
      const blocked: Blocked<number> = new Blocked<number>(
        (wake) => {
          const w: Waiter = { mask: ~0, wake: () => wake() };
          for (const q of queues) q.add(w);
          return () => {
            for (const q of queues) q.remove(w);
          };
        },
        () => {
          const c = pass();
          if (c === 0) throw blocked;
          return c;
        },
        deadline === Number.POSITIVE_INFINITY ? null : (deadline as Instant),
        () => pass(),
      );
      count = this.block(blocked);
    }
    this.mem();
    this.setU32(countPtr, count);
  }

  // ---- sockets ----------------------------------------------------------------------------
  // Preview1 has no socket() or connect(): a program gets listening sockets preopened
  // (`tkl run --listen PORT`) and accepts on them; the rest map onto the kernel's socket calls.

  private socket(fd: number, need: number): File {
    const f = this.file(fd);
    socketOf(f);
    if ((this.rightsOf(fd, f) & need) !== need) throw NOTCAPABLE;
    return f;
  }

  private sockAccept(fd: number, flags: number, out: number): void {
    this.socket(fd, W.RIGHTS_SOCK_ACCEPT);
    if (flags & ~W.FDFLAGS_NONBLOCK) throw E.EINVAL;
    this.check(out, 4);
    const fl = flags & W.FDFLAGS_NONBLOCK ? SOCK_NONBLOCK : 0;
    let n: number;
    try {
      n = sys_accept4(this.task, fd, null, fl);
    } catch (e) {
      if (!(e instanceof Blocked)) throw e;
      n = this.block(e as Blocked<number>);
    }
    this.forget(n);
    this.base[n] = W.RIGHTS_SOCKET & ~W.RIGHTS_SOCK_ACCEPT;
    this.inheriting[n] = 0;
    this.mem();
    this.setU32(out, n);
  }

  /** The iovecs at `iovs` as views of memory (valid for the call: nothing else runs wasm). */
  private iovecs(iovs: number, n: number): Uint8Array[] {
    this.check(iovs, n * W.IOVEC_SIZE);
    const list: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const p = this.view.getUint32(iovs + i * 8, true);
      const len = this.view.getUint32(iovs + i * 8 + 4, true);
      this.check(p, len);
      list.push(this.bytes.subarray(p, p + len));
    }
    return list;
  }

  private sockRecv(fd: number, iovs: number, n: number, riFlags: number, outLen: number, outFlags: number): void {
    this.socket(fd, W.RIGHTS_FD_READ);
    if (riFlags & ~(W.RIFLAGS_RECV_PEEK | W.RIFLAGS_RECV_WAITALL)) throw E.EINVAL;
    this.check(outLen, 4);
    this.check(outFlags, 2);
    let flags = 0;
    if (riFlags & W.RIFLAGS_RECV_PEEK) flags |= MSG_PEEK;
    if (riFlags & W.RIFLAGS_RECV_WAITALL) flags |= MSG_WAITALL;
    const msg: MsgHdr = { iov: this.iovecs(iovs, n) };
    let got: number;
    try {
      got = sys_recvmsg(this.task, fd, msg, flags);
    } catch (e) {
      if (!(e instanceof Blocked)) throw e;
      got = this.block(e as Blocked<number>);
    }
    this.mem();
    this.setU32(outLen, got);
    this.view.setUint16(outFlags, (msg.flags ?? 0) & MSG_TRUNC ? W.ROFLAGS_RECV_DATA_TRUNCATED : 0, true);
  }

  private sockSend(fd: number, iovs: number, n: number, siFlags: number, outLen: number): void {
    this.socket(fd, W.RIGHTS_FD_WRITE);
    if (siFlags !== 0) throw E.EINVAL;
    this.check(outLen, 4);
    let sent: number;
    try {
      sent = sys_sendmsg(this.task, fd, { iov: this.iovecs(iovs, n) }, MSG_NOSIGNAL);
    } catch (e) {
      if (!(e instanceof Blocked)) throw e;
      sent = this.block(e as Blocked<number>);
    }
    this.mem();
    this.setU32(outLen, sent);
  }

  private sockShutdown(fd: number, how: number): void {
    this.socket(fd, W.RIGHTS_SOCK_SHUTDOWN);
    const rd = (how & W.SDFLAGS_RD) !== 0;
    const wr = (how & W.SDFLAGS_WR) !== 0;
    if (how & ~(W.SDFLAGS_RD | W.SDFLAGS_WR) || (!rd && !wr)) throw E.EINVAL;
    sys_shutdown(this.task, fd, rd && wr ? SHUT_RDWR : rd ? SHUT_RD : SHUT_WR);
  }
}

/** Thrown (by identity) for a missing right: WASI's `notcapable` has no Linux errno. */
const NOTCAPABLE: Errno = (() => {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const e = new Errno(EPERM, 'WASI: the descriptor lacks the right for this call');
  Error.stackTraceLimit = limit;
  return e;
})();

/** The rights that make sense for what `f` is. */
export function applicableRights(f: File): number {
  switch (f.inode.mode & S_IFMT) {
    case S_IFREG:
      return W.RIGHTS_REGULAR_FILE;
    case S_IFDIR:
      return W.RIGHTS_DIRECTORY;
    case S_IFSOCK:
      return W.RIGHTS_SOCKET;
    case S_IFCHR:
    case S_IFBLK:
      return f.ops.stream ? W.RIGHTS_STREAM : W.RIGHTS_CHAR_DEVICE;
    default:
      return W.RIGHTS_STREAM;
  }
}

/** WASI's filetype for a Linux mode. FIFOs have none of their own: `unknown`. */
export function filetypeOf(mode: number): number {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return W.FILETYPE_REGULAR_FILE;
    case S_IFDIR:
      return W.FILETYPE_DIRECTORY;
    case S_IFLNK:
      return W.FILETYPE_SYMBOLIC_LINK;
    case S_IFCHR:
      return W.FILETYPE_CHARACTER_DEVICE;
    case S_IFBLK:
      return W.FILETYPE_BLOCK_DEVICE;
    case S_IFSOCK:
      return W.FILETYPE_SOCKET_STREAM;
    case S_IFIFO:
    default:
      return W.FILETYPE_UNKNOWN;
  }
}

/** A descriptor's filetype: sockets say whether they are streams or datagrams. */
function fileFiletype(f: File): number {
  if ((f.inode.mode & S_IFMT) === S_IFSOCK) return socketOf(f).type === SOCK_DGRAM ? W.FILETYPE_SOCKET_DGRAM : W.FILETYPE_SOCKET_STREAM;
  return filetypeOf(f.inode.mode);
}

function dtypeToFiletype(dtype: number): number {
  return filetypeOf(dtype << 12);
}

function linuxClock(id: number): number {
  switch (id) {
    case W.CLOCKID_REALTIME:
      return CLOCK_REALTIME;
    case W.CLOCKID_MONOTONIC:
      return CLOCK_MONOTONIC;
    case W.CLOCKID_PROCESS_CPUTIME_ID:
      return CLOCK_PROCESS_CPUTIME_ID;
    case W.CLOCKID_THREAD_CPUTIME_ID:
      return CLOCK_THREAD_CPUTIME_ID;
    default:
      throw E.EINVAL;
  }
}

/** A poll clock subscription's deadline on the monotonic clock. Errors: EINVAL (clock). */
function clockDeadline(t: Task, id: number, timeout: bigint, abs: boolean): number {
  const c = linuxClock(id);
  const mono = t.kernel.host.monotonic();
  // Timeouts past 2^53 ns (104 days) are "never" for all practical purposes.
  const ns = timeout > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(timeout);
  if (!abs) return mono + ns;
  if (c === CLOCK_REALTIME) {
    const now = sys_clock_gettime(t, c);
    const nowNs = BigInt(now.sec) * 1_000_000_000n + BigInt(now.nsec);
    return mono + Number(timeout - nowNs);
  }
  const now = sys_clock_gettime(t, c);
  return mono + (ns - (now.sec * 1e9 + now.nsec));
}

/** Bytes readable (or writable) on `f` now, for poll events; 0 where unknown. */
function available(f: File, read: boolean): number {
  if (f.priv instanceof Pipe) return read ? f.priv.length : f.priv.space;
  if (f.inode.isReg) return read ? Math.max(0, f.inode.size - f.pos) : 0;
  return 0;
}

/** utimensat's times for WASI's (atim, mtim, fst_flags). Errors: EINVAL for bad flags. */
function utimes(atim: bigint, mtim: bigint, fst: number): UtimeTimes {
  if (fst & ~(W.FSTFLAGS_ATIM | W.FSTFLAGS_ATIM_NOW | W.FSTFLAGS_MTIM | W.FSTFLAGS_MTIM_NOW)) throw E.EINVAL;
  if ((fst & W.FSTFLAGS_ATIM && fst & W.FSTFLAGS_ATIM_NOW) || (fst & W.FSTFLAGS_MTIM && fst & W.FSTFLAGS_MTIM_NOW)) throw E.EINVAL;
  const one = (ns: bigint, set: number, now: number): Timespec => {
    if (fst & now) return { sec: 0, nsec: UTIME_NOW };
    if (!(fst & set)) return { sec: 0, nsec: UTIME_OMIT };
    return { sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n) };
  };
  return [one(atim, W.FSTFLAGS_ATIM, W.FSTFLAGS_ATIM_NOW), one(mtim, W.FSTFLAGS_MTIM, W.FSTFLAGS_MTIM_NOW)];
}

/** A u64 argument as a JS number. Errors: EINVAL beyond 2^53 (no file is that large). */
function u64(x: bigint): number {
  if (x >= 0n && x <= MAX_SAFE) return Number(x);
  throw E.EINVAL;
}

/** An s64 argument as a JS number (wasm passes i64 as a signed BigInt). Errors: EINVAL. */
function i64(x: bigint): number {
  if (x > MAX_SAFE || x < -MAX_SAFE) throw E.EINVAL;
  return Number(x);
}

/** A rights argument: every defined right fits in 30 bits; undefined bits are ignored. */
function rightsArg(x: bigint): number {
  return Number(x & RIGHTS_MASK);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const RIGHTS_MASK = BigInt(W.RIGHTS_ALL);
