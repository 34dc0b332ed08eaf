// A WASI instance driven from JavaScript, without a compiled program: a kernel on a
// WorkerHost, a task prepared as `tkl run` prepares it, and a linear memory the test writes
// arguments into and reads results from. For tests of single WASI calls (sandbox escapes,
// rights, errno mapping).

import { Kernel } from '../../src/kernel/kernel.js';
import { WorkerHost } from '../../src/host/worker/worker_host.js';
import { BytesInput, inputOps, outputOps } from '../../src/api/wasi/stdio.js';
import { prepare, shutdown, type ProgramConfig } from '../../src/api/wasi/program.js';
import { WasiPreview1 } from '../../src/api/wasi/wasi.js';
import * as W from '../../src/api/wasi/abi.js';

/** What a read-only open asks for: reading, and everything a directory can do. */
export const READ_RIGHTS = W.RIGHTS_DIRECTORY | W.RIGHTS_FD_READ | W.RIGHTS_FD_SEEK | W.RIGHTS_FD_TELL | W.RIGHTS_FD_FILESTAT_GET;

type Fn = (...args: (number | bigint)[]) => number;

export class Harness {
  readonly kernel: Kernel;
  readonly wasi: WasiPreview1;
  readonly memory = new WebAssembly.Memory({ initial: 4 });
  readonly out: string[] = [];
  private top = 1024;
  readonly preopens: { fd: number; name: string }[];
  private readonly closeDisks: () => void;

  constructor(cfg: Partial<ProgramConfig>, kernel?: Kernel) {
    this.kernel = kernel ?? new Kernel({ host: new WorkerHost() });
    const dec = new TextDecoder();
    const stdio = {
      stdin: inputOps(new BytesInput(new Uint8Array(0))),
      stdout: outputOps((b) => this.out.push(dec.decode(b))),
      stderr: outputOps((b) => this.out.push(dec.decode(b))),
      tty: [false, false, false] as [boolean, boolean, boolean],
    };
    const full: ProgramConfig = { args: ['test'], env: [], dirs: [], tmpfs: [], ...cfg };
    const { task, preopens, close } = prepare(this.kernel, full, stdio);
    this.closeDisks = close;
    this.preopens = preopens;
    this.wasi = new WasiPreview1(this.kernel, task, { args: full.args, env: full.env, preopens, halt: this.kernel.host as WorkerHost });
    this.wasi.bind(this.memory);
  }

  get view(): DataView {
    return new DataView(this.memory.buffer);
  }

  /** Calls WASI function `name`; returns its errno. */
  call(name: string, ...args: (number | bigint)[]): number {
    const fn = this.wasi.imports[name] as unknown as Fn | undefined;
    if (fn === undefined) throw new Error(`no WASI function ${name}`);
    return fn(...args);
  }

  /** Reserves `n` bytes of memory (8-aligned); returns the address. */
  alloc(n: number): number {
    const p = this.top;
    this.top = (this.top + n + 7) & ~7;
    return p;
  }

  /** Writes a string; returns [address, length] for a (ptr, len) argument pair. */
  str(s: string): [number, number] {
    const b = new TextEncoder().encode(s);
    const p = this.alloc(b.length);
    new Uint8Array(this.memory.buffer).set(b, p);
    return [p, b.length];
  }

  u32(p: number): number {
    return this.view.getUint32(p, true);
  }

  u64(p: number): bigint {
    return this.view.getBigUint64(p, true);
  }

  /** path_open; returns [errno, fd]. */
  open(dirfd: number, path: string, opts: { oflags?: number; follow?: boolean; rights?: number; fdflags?: number } = {}): [number, number] {
    const [p, n] = this.str(path);
    const out = this.alloc(4);
    const rights = BigInt(opts.rights ?? READ_RIGHTS);
    const e = this.call('path_open', dirfd, opts.follow ? W.LOOKUPFLAGS_SYMLINK_FOLLOW : 0, p, n, opts.oflags ?? 0, rights, rights, opts.fdflags ?? 0, out);
    return [e, e === 0 ? this.u32(out) : -1];
  }

  /** Writes `text` to fd; returns errno. */
  write(fd: number, text: string): number {
    const [p, n] = this.str(text);
    const iov = this.alloc(8);
    this.view.setUint32(iov, p, true);
    this.view.setUint32(iov + 4, n, true);
    return this.call('fd_write', fd, iov, 1, this.alloc(4));
  }

  /** Reads up to `len` bytes from fd; returns [errno, text]. */
  read(fd: number, len = 4096): [number, string] {
    const buf = this.alloc(len);
    const iov = this.alloc(8);
    this.view.setUint32(iov, buf, true);
    this.view.setUint32(iov + 4, len, true);
    const out = this.alloc(4);
    const e = this.call('fd_read', fd, iov, 1, out);
    if (e !== 0) return [e, ''];
    return [0, new TextDecoder().decode(new Uint8Array(this.memory.buffer, buf, this.u32(out)))];
  }

  /** Ends the task and unmounts what prepare() mounted. */
  close(): void {
    this.kernel.exitTask(this.wasi.task, 0);
    shutdown(this.kernel);
    this.closeDisks();
  }
}
