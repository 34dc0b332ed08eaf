// The worker thread of `tkl run`: boots a kernel whose host polls instead of using an event
// loop (WorkerHost, or the sim host on virtual time), wires stdin to the ring the main thread
// fills and stdout/stderr to the host's descriptors (or to messages), runs the program and
// reports its exit code. Everything here is synchronous; the main thread owns host I/O.

import { writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { SimHalt } from '../../host/sim/sim_halt.js';
import { SimHost } from '../../host/sim/sim_host.js';
import { SeededRandom } from '../../util/random.js';
import { Doorbell } from '../../host/worker/doorbell.js';
import { ByteRing } from '../../host/worker/ring.js';
import { WorkerHost } from '../../host/worker/worker_host.js';
import type { Halt } from '../../host/halt.js';
import type { HostOps } from '../../host/host_ops.js';
import { Kernel } from '../../kernel/kernel.js';
import { Process } from '../boot.js';
import { dhcpConfigure } from '../../net/dhcp/client.js';
import { RingNetDevice, type RingLinkInit } from '../../drivers/net/ring_link.js';
import { BytesInput, RingInput, inputOps, outputOps, type OutputSink } from './stdio.js';
import { SetupError, TRAP_EXIT_CODE, runProgram, type ProgramConfig } from './program.js';
import { INTERRUPT_EXIT_CODE, WasiExit } from './wasi.js';

/** Where an output stream goes: a host descriptor written directly, or messages to the main thread. */
export type OutputSpec = { kind: 'fd'; fd: number; tty: boolean } | { kind: 'message'; tty: boolean };

/** What the main thread hands the worker. */
export interface WorkerInit {
  module: WebAssembly.Module;
  config: ProgramConfig;
  /** The doorbell word (an Int32Array over a SharedArrayBuffer). */
  doorbell: Int32Array;
  /** Set to non-zero (then the doorbell rung) to end the program cleanly, as Ctrl-C. */
  interrupt: Int32Array;
  /** stdin: a ring the main thread fills, or null for an empty stdin. */
  stdin: { ring: SharedArrayBuffer; tty: boolean } | null;
  stdout: OutputSpec;
  stderr: OutputSpec;
  sim: { seed: number } | null;
  /** On the real host: the seed of a generator that replaces its randomness, or null. */
  seed: number | null;
  hostname?: string;
  /** The network: a link to the device the main thread holds, and its configuration. */
  net: WorkerNet | null;
}

export interface WorkerNet {
  link: RingLinkInit;
  /** ADDR/PREFIX, or null. */
  ip: string | null;
  gw: string | null;
  dns: string[];
  /** Take the address and gateway from DHCP before the program starts. */
  dhcp: boolean;
}

/** Messages to the main thread. */
export type WorkerMessage =
  | { type: 'output'; fd: 1 | 2; data: Uint8Array }
  | { type: 'exit'; code: number }
  | { type: 'error'; message: string; trap: boolean };

const init = workerData as WorkerInit;
const port = parentPort!;

function sinkFor(spec: OutputSpec, fd: 1 | 2): OutputSink {
  if (spec.kind === 'message') return (bytes) => port.postMessage({ type: 'output', fd, data: bytes.slice() } satisfies WorkerMessage);
  const hostFd = spec.fd;
  return (bytes) => writeAll(hostFd, bytes);
}

/** The exit code a shell shows for a program killed by SIGPIPE (128 + 13). */
export const SIGPIPE_EXIT_CODE = 141;

/**
 * Writes all of `bytes` to a host descriptor, waiting out EAGAIN on a non-blocking pipe.
 * When the reader has gone (`tkl run app.wasm | head`), the program ends as SIGPIPE would
 * end it on Linux: quietly, with exit code 141 (Node ignores SIGPIPE, so EPIPE comes here).
 */
function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (off < bytes.length) {
    try {
      off += writeSync(fd, bytes, off, bytes.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') throw new WasiExit(SIGPIPE_EXIT_CODE);
      if (code !== 'EAGAIN') throw e;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

const doorbell = new Doorbell(init.doorbell);
let host: HostOps;
let halt: Halt;
if (init.sim !== null) {
  const sim = new SimHost({ seed: init.sim.seed, console: (text) => writeAll(2, new TextEncoder().encode(text)) });
  host = sim;
  halt = new SimHalt(sim, doorbell);
} else {
  const rng = init.seed === null ? null : new SeededRandom(init.seed);
  const wh = new WorkerHost({ doorbell, ...(rng !== null ? { randomFill: (b: Uint8Array) => rng.fill(b) } : {}) });
  host = wh;
  halt = wh;
}
const k = new Kernel({ host, hostname: init.hostname ?? 'tkl' });
let netError: string | null = null;
if (init.net !== null) {
  const dev = new RingNetDevice(init.net.link);
  doorbell.onRing(() => dev.poll());
  const iface = k.net.addInterface(dev);
  k.net.setUp(iface, true);
  if (init.net.ip !== null) k.net.addAddress(iface, init.net.ip);
  if (init.net.dhcp) {
    if (!(host instanceof WorkerHost)) netError = '--dhcp needs the real host (not --sim)';
    else {
      try {
        const lease = await host.runAsync(dhcpConfigure(new Process(k, k.init), iface, { writeResolvConf: false }));
        writeAll(2, new TextEncoder().encode(`tkl run: dhcp: ${lease.addr}/${lease.prefix} gw ${lease.router ?? '-'} from ${lease.server}\n`));
      } catch (e) {
        netError = (e as Error).message;
      }
    }
  }
  if (init.net.gw !== null) k.net.addRoute({ dst: 'default', via: init.net.gw, dev: iface.name });
}

let stdinOps;
if (init.stdin === null) stdinOps = inputOps(new BytesInput(new Uint8Array(0)));
else {
  const input = new RingInput(new ByteRing(init.stdin.ring));
  doorbell.onRing(() => input.arrived());
  stdinOps = inputOps(input);
}
const stdio = {
  stdin: stdinOps,
  stdout: outputOps(sinkFor(init.stdout, 1)),
  stderr: outputOps(sinkFor(init.stderr, 2)),
  tty: [init.stdin?.tty ?? false, init.stdout.tty, init.stderr.tty] as [boolean, boolean, boolean],
};

// Last of the doorbell's handlers: a program waiting in a call when asked to stop leaves it
// now (the wait is abandoned cleanly); one that is running stops at its next call.
doorbell.onRing(() => {
  if (Atomics.load(init.interrupt, 0) !== 0) throw new WasiExit(INTERRUPT_EXIT_CODE);
});

let msg: WorkerMessage;
try {
  if (netError !== null) throw new SetupError(netError);
  msg = { type: 'exit', code: runProgram(k, halt, init.module, init.config, stdio, init.interrupt) };
} catch (e) {
  // An interrupt that arrived outside the program's own calls (during setup).
  if (e instanceof WasiExit) msg = { type: 'exit', code: e.code };
  else if (e instanceof WebAssembly.RuntimeError) msg = { type: 'error', message: `wasm trap: ${e.message}`, trap: true };
  else if (e instanceof SetupError || e instanceof WebAssembly.LinkError) msg = { type: 'error', message: e.message, trap: false };
  // WasiPreview1.start's refusals of a module that is no WASI command (no memory, no _start).
  else if (e instanceof TypeError && e.message.startsWith('the module ')) msg = { type: 'error', message: e.message, trap: false };
  else msg = { type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e), trap: false };
}
port.postMessage(msg);
void TRAP_EXIT_CODE;
