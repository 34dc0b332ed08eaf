// run(): a WASI program as a unikernel — the program and its own kernel in a worker thread,
// this thread owning host I/O. Stdin is read only once the program wants it and is handed
// over through a ByteRing; output goes straight to the host's descriptors from the worker
// (or to callbacks); aborting (Ctrl-C in `tkl run`) ends the worker. runSync() runs a
// program in-process on a kernel whose host can halt (no stdin, no network).

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Doorbell } from '../../host/worker/doorbell.js';
import { ByteRing } from '../../host/worker/ring.js';
import { NodeHost } from '../../host/node/node_host.js';
import { SimHalt } from '../../host/sim/sim_halt.js';
import { SimHost } from '../../host/sim/sim_host.js';
import { WorkerHost } from '../../host/worker/worker_host.js';
import type { Halt } from '../../host/halt.js';
import type { Kernel } from '../../kernel/kernel.js';
import { BytesInput, inputOps, outputOps, type OutputSink } from './stdio.js';
import { TRAP_EXIT_CODE, runProgram, type DirMount, type ProgramConfig } from './program.js';
import { parseDiskSpec, parseMountSpec, type DiskMount } from './disks.js';
import { RingBridge } from '../../drivers/net/ring_link.js';
import type { NetDevice } from '../../net/netdevice.js';
import { openDevice } from '../../cli/netopts.js';
import type { OutputSpec, WorkerInit, WorkerMessage } from './worker_main.js';

export interface RunOptions {
  /** The program: a compiled module, its bytes, or a path to a .wasm file. */
  module: WebAssembly.Module | Uint8Array | ArrayBuffer | string;
  /** Arguments after the program's name. */
  args?: string[];
  /** argv[0]; by default the module path's base name, or "main.wasm". */
  argv0?: string;
  /** The whole environment the program sees. */
  env?: Record<string, string> | string[];
  /** Host directories to expose: "HOST[:GUEST]" strings or DirMount records. */
  dirs?: (string | DirMount)[];
  /** Guest paths that get a fresh tmpfs. */
  tmpfs?: string[];
  /** Run on the simulated host: virtual time, randomness from `seed`. */
  sim?: boolean;
  /**
   * Seed of the program's randomness (random_get, and the kernel's own: ports, sequence
   * numbers): the sim host's (default 1), or on the real host a seeded generator replacing
   * the cryptographic one, so a run's random bytes repeat. For reproducing runs, not secrets.
   */
  seed?: number;
  /** stdin: this process's ('inherit'), nothing ('null', the default), or fixed bytes. */
  stdin?: 'inherit' | 'null' | Uint8Array | string;
  /** stdout/stderr: this process's descriptors ('inherit', the default) or a callback. */
  stdout?: 'inherit' | OutputSink;
  stderr?: 'inherit' | OutputSink;
  /**
   * Ends the program when aborted, as Ctrl-C: it leaves the call it waits in, or stops at its
   * next call, then the kernel syncs and unmounts every disk, and run() resolves with exit
   * code 130. A program that makes no call within `abortGraceMs` is stopped where it is;
   * what it wrote to disks and not yet synced is then lost.
   */
  signal?: AbortSignal;
  /** How long an aborted program has to reach a call (default 5000 ms). */
  abortGraceMs?: number;
  /** The kernel's hostname. */
  hostname?: string;
  /** Log every WASI call to stderr. */
  trace?: boolean;
  /** Preopen a /dev with null, zero, full, random and urandom. */
  devices?: boolean;
  /** The root filesystem: a disk image "IMAGE[:PART]" or a DiskMount (guest "/"). */
  disk?: string | DiskMount;
  /** A read-only root disk. */
  readOnly?: boolean;
  /** More disk images: "IMAGE[:PART]:/path" strings or DiskMount records. */
  mounts?: (string | DiskMount)[];
  /** The network: a device (`tap:NAME`, `udp:LOCAL,REMOTE`, `passt[:SOCKET]`, or an open NetDevice) and its address. */
  net?: { device: string | NetDevice; ip?: string; gw?: string; mtu?: number; dhcp?: boolean };
  /** TCP ports the program gets as listening sockets: descriptors 3, 4, … */
  listen?: number[];
}

export interface RunResult {
  /** The program's exit code; 134 after a trap, 130 when aborted. */
  exitCode: number;
  /** Why the program did not exit normally (a trap, a setup error), if it did not. */
  error?: string;
}

/** Exit code after an abort (128 + SIGINT, as a shell reports Ctrl-C). */
export const ABORT_EXIT_CODE = 130;

/** A malformed --dir value (a usage mistake). */
export class DirSpecError extends Error {
  override name = 'DirSpecError';
}

/** Parses "HOST[:GUEST]": the guest name defaults to the host path as given. Errors: DirSpecError. */
export function parseDir(spec: string): DirMount {
  let ro = false;
  let s = spec;
  if (s.endsWith(':ro')) {
    ro = true;
    s = s.slice(0, -3);
  }
  const i = s.indexOf(':');
  const hostPath = i < 0 ? s : s.slice(0, i);
  const guest = i < 0 ? s : s.slice(i + 1);
  if (hostPath === '' || guest === '') throw new DirSpecError(`bad --dir '${spec}': expected HOST[:GUEST] (neither part empty)`);
  return { host: resolve(hostPath), guest, readOnly: ro };
}

function envList(env: RunOptions['env']): string[] {
  if (env === undefined) return [];
  if (Array.isArray(env)) return env.slice();
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

async function compile(m: RunOptions['module']): Promise<{ module: WebAssembly.Module; name: string }> {
  if (m instanceof WebAssembly.Module) return { module: m, name: 'main.wasm' };
  if (typeof m === 'string') {
    const bytes = readFileSync(m);
    return { module: await WebAssembly.compile(bytes), name: m.split('/').pop() ?? m };
  }
  return { module: await WebAssembly.compile(m as BufferSource), name: 'main.wasm' };
}

function configOf(o: RunOptions, name: string): ProgramConfig {
  return {
    args: [o.argv0 ?? name, ...(o.args ?? [])],
    env: envList(o.env),
    dirs: (o.dirs ?? []).map((d) => (typeof d === 'string' ? parseDir(d) : d)),
    tmpfs: o.tmpfs ?? [],
    trace: o.trace === true,
    devices: o.devices === true,
    disks: [
      ...(o.disk === undefined ? [] : [typeof o.disk === 'string' ? parseDiskSpec(o.disk, '/', o.readOnly === true) : o.disk]),
      ...(o.mounts ?? []).map((m) => (typeof m === 'string' ? parseMountSpec(m) : m)),
    ],
    listen: o.listen ?? [],
  };
}

/** Runs a WASI program in a worker thread with its own kernel; resolves with its exit code. */
export async function run(options: RunOptions): Promise<RunResult> {
  const { module, name } = await compile(options.module);
  const config = configOf(options, name);
  const doorbell = new Int32Array(new SharedArrayBuffer(4));
  const interrupt = new Int32Array(new SharedArrayBuffer(4));
  const stdinOpt = options.stdin ?? 'null';
  const ring = stdinOpt === 'null' ? null : ByteRing.create();
  const stdinTty = stdinOpt === 'inherit' && process.stdin.isTTY === true;
  const outSpec = (o: RunOptions['stdout'], fd: 1 | 2): OutputSpec => {
    if (o === undefined || o === 'inherit') {
      const stream = fd === 1 ? process.stdout : process.stderr;
      return { kind: 'fd', fd, tty: stream.isTTY === true };
    }
    return { kind: 'message', tty: false };
  };
  let bridge: RingBridge | null = null;
  if (options.net !== undefined) {
    const dev = typeof options.net.device === 'string' ? await openDevice(options.net.device, options.net.mtu ?? null) : options.net.device;
    if (dev !== null) bridge = new RingBridge(dev, doorbell);
  }
  const init: WorkerInit = {
    module,
    config,
    doorbell,
    interrupt,
    stdin: ring === null ? null : { ring: ring.sab, tty: stdinTty },
    stdout: outSpec(options.stdout, 1),
    stderr: outSpec(options.stderr, 2),
    sim: options.sim ? { seed: options.seed ?? 1 } : null,
    seed: options.sim ? null : options.seed ?? null,
    hostname: options.hostname,
    net: bridge === null ? null : { link: bridge.init, ip: options.net?.ip ?? null, gw: options.net?.gw ?? null, dns: [], dhcp: options.net?.dhcp === true },
  };
  const thread = new NodeHost().startThread(new URL('./worker_main.js', import.meta.url), init);

  let finished = false;
  const stopInput: (() => void)[] = [];
  if (ring !== null) {
    if (stdinOpt === 'inherit') feedStream(ring, doorbell, process.stdin, stopInput, () => finished);
    else {
      const bytes = typeof stdinOpt === 'string' ? new TextEncoder().encode(stdinOpt) : (stdinOpt as Uint8Array);
      void feedBytes(ring, doorbell, bytes, () => finished);
    }
  }

  return new Promise<RunResult>((resolveRun, reject) => {
    let result: RunResult | null = null;
    const finish = (r: RunResult): void => {
      if (finished) return;
      finished = true;
      for (const stop of stopInput) stop();
      bridge?.stop();
      options.signal?.removeEventListener('abort', onAbort);
      if (grace !== null) clearTimeout(grace);
      resolveRun(r);
    };
    let grace: ReturnType<typeof setTimeout> | null = null;
    const onAbort = (): void => {
      // Ask first: the worker's kernel holds the disks' caches, and only it can flush them.
      Atomics.store(interrupt, 0, 1);
      Doorbell.ring(doorbell);
      grace = setTimeout(() => {
        result = { exitCode: ABORT_EXIT_CODE, error: 'aborted: the program made no system call in time; data it had not synced is lost' };
        void thread.terminate();
      }, options.abortGraceMs ?? 5000);
      grace.unref();
    };
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort);
    thread.onMessage((m) => {
      const msg = m as WorkerMessage;
      if (msg.type === 'output') {
        const sink = msg.fd === 1 ? options.stdout : options.stderr;
        if (typeof sink === 'function') sink(msg.data);
      } else if (msg.type === 'exit') result = { exitCode: msg.code };
      else result = { exitCode: msg.trap ? TRAP_EXIT_CODE : 1, error: msg.message };
    });
    thread.onError((e) => {
      if (finished) return;
      finished = true;
      for (const stop of stopInput) stop();
      bridge?.stop();
      reject(e);
    });
    thread.onExit(() => {
      if (result !== null) finish(result);
      else finish({ exitCode: 1, error: 'the worker ended without a result' });
    });
  });
}

/**
 * Feeds a readable stream into the ring, starting once the program first wants input. Chunks
 * queue up in order and one pump moves them into the ring as it drains; the stream is paused
 * while the queue is long, and the ring is closed only after the last byte went in.
 */
function feedStream(ring: ByteRing, doorbell: Int32Array, stream: NodeJS.ReadStream, stops: (() => void)[], done: () => boolean): void {
  let started = false;
  let ended = false;
  let pumping = false;
  const queue: Uint8Array[] = [];
  let queued = 0;
  const pump = async (): Promise<void> => {
    if (pumping) return;
    pumping = true;
    try {
      while (!done()) {
        const chunk = queue[0];
        if (chunk === undefined) break;
        const n = ring.write(chunk, 0, chunk.length);
        Doorbell.ring(doorbell);
        queued -= n;
        if (n === chunk.length) queue.shift();
        else {
          queue[0] = chunk.subarray(n);
          await ring.waitForSpace(100);
        }
        if (queued < ring.capacity && stream.isPaused() && !ended) stream.resume();
      }
      if (ended && queue.length === 0 && !done()) {
        ring.close();
        Doorbell.ring(doorbell);
      }
    } finally {
      pumping = false;
    }
  };
  const onData = (chunk: Buffer): void => {
    queue.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    queued += chunk.length;
    if (queued >= ring.capacity) stream.pause();
    void pump();
  };
  const onEnd = (): void => {
    ended = true;
    void pump();
  };
  stops.push(() => {
    if (!started) return;
    stream.off('data', onData);
    stream.off('end', onEnd);
    stream.pause();
    // A terminal or pipe we read from would keep this process alive.
    (stream as unknown as { unref?: () => void }).unref?.();
  });
  void ring.waitForWant().then(() => {
    if (done()) return;
    started = true;
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.resume();
  });
}

async function feedBytes(ring: ByteRing, doorbell: Int32Array, bytes: Uint8Array, done: () => boolean): Promise<void> {
  let off = 0;
  while (!done()) {
    off += ring.write(bytes, off, bytes.length - off);
    if (off === bytes.length) ring.close();
    Doorbell.ring(doorbell);
    if (off === bytes.length) return;
    await ring.waitForSpace(100);
  }
}

/**
 * Runs a WASI program in this thread on kernel `k`, whose host must be able to halt: a
 * WorkerHost (real time) or a SimHost (virtual time). Stdin is `stdin` (then end of file);
 * nothing outside the thread can wake a wait, so a program that waits for input it cannot
 * get fails with EDEADLK instead of hanging.
 */
export function runSync(
  k: Kernel,
  options: Omit<RunOptions, 'module' | 'stdin' | 'signal' | 'sim' | 'seed' | 'stdout' | 'stderr'> & {
    module: WebAssembly.Module;
    stdin?: Uint8Array | string;
    stdout: OutputSink;
    stderr: OutputSink;
  },
): number {
  let halt: Halt;
  if (k.host instanceof WorkerHost) halt = k.host;
  else if (k.host instanceof SimHost) halt = new SimHalt(k.host);
  else throw new Error('runSync needs a kernel on a WorkerHost or a SimHost (a host that can halt); use run() otherwise');
  const input = typeof options.stdin === 'string' ? new TextEncoder().encode(options.stdin) : options.stdin ?? new Uint8Array(0);
  const stdio = {
    stdin: inputOps(new BytesInput(input)),
    stdout: outputOps(options.stdout),
    stderr: outputOps(options.stderr),
    tty: [false, false, false] as [boolean, boolean, boolean],
  };
  return runProgram(k, halt, options.module, configOf(options, 'main.wasm'), stdio);
}
