// WASI side by side: one C program (bench/wasi/syscalls.c, built once with clang for
// wasm32-wasi) under tkl, node:wasi and @bjorn3/browser_wasi_shim, each in this thread:
// one-byte writes to /dev/null, reading a 64 MiB file in 4 KiB chunks, open/fstat/close.
// The program times its own loop with the monotonic clock, so start-up is not counted.

import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WASI as NodeWASI } from 'node:wasi';
import { ConsoleStdout, File, OpenFile, PreopenDirectory, WASI as ShimWASI } from '@bjorn3/browser_wasi_shim';
import type { BenchContext, BenchRow } from './harness.js';
import { Kernel } from '../src/kernel/kernel.js';
import { WorkerHost } from '../src/host/worker/worker_host.js';
import { runSync } from '../src/api/wasi/run.js';

const SRC = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'bench', 'wasi', 'syscalls.c');

type Runner = (module: WebAssembly.Module, args: string[], ctx: BenchContext) => string;

/** tkl: a kernel in this thread (WorkerHost), the program's /data on tmpfs, a host directory or an ext4 image. */
function tkl(where: 'tmpfs' | 'host' | 'ext4'): Runner {
  return (module, args, ctx) => {
    const k = new Kernel({ host: new WorkerHost() });
    let img: string | null = null;
    if (where === 'ext4') {
      img = join(ctx.tmpdir, 'data.img');
      rmSync(img, { force: true });
      spawnSync('truncate', ['-s', '256M', img]);
      const r = spawnSync('mkfs.ext4', ['-q', '-F', img]);
      if (r.status !== 0) throw new Error('mkfs.ext4 failed (is e2fsprogs installed?)');
    }
    let out = '';
    const dec = new TextDecoder();
    const hostDir = join(ctx.tmpdir, 'tkl-data');
    mkdirSync(hostDir, { recursive: true });
    const code = runSync(k, {
      module,
      args,
      devices: true,
      tmpfs: where === 'tmpfs' ? ['/data'] : [],
      dirs: where === 'host' ? [{ host: hostDir, guest: '/data' }] : [],
      mounts: img !== null ? [{ image: img, part: null, guest: '/data' }] : [],
      stdout: (b) => (out += dec.decode(b)),
      stderr: (b) => process.stderr.write(b),
    });
    if (code !== 0) throw new Error(`tkl: exit ${code}`);
    return out;
  };
}

const nodeWasi: Runner = (module, args, ctx) => {
  const dataDir = join(ctx.tmpdir, 'node-data');
  mkdirSync(dataDir, { recursive: true });
  const outPath = join(ctx.tmpdir, 'node-stdout');
  const fd = openSync(outPath, 'w');
  try {
    const w = new NodeWASI({ version: 'preview1', args: ['syscalls', ...args], env: {}, preopens: { '/dev': '/dev', '/data': dataDir }, stdout: fd, returnOnExit: true });
    const inst = new WebAssembly.Instance(module, w.getImportObject() as WebAssembly.Imports);
    const code = w.start(inst);
    if (code !== 0) throw new Error(`node:wasi: exit ${code}`);
  } finally {
    closeSync(fd);
  }
  return readFileSync(outPath, 'utf8');
};

const shim: Runner = (module, args) => {
  let out = '';
  const fds = [
    new OpenFile(new File([])),
    new ConsoleStdout((b: Uint8Array) => (out += new TextDecoder().decode(b))),
    new ConsoleStdout((b: Uint8Array) => process.stderr.write(b)),
    new PreopenDirectory('/dev', new Map([['null', new File([])]])),
    new PreopenDirectory('/data', new Map()),
  ];
  const w = new ShimWASI(['syscalls', ...args], [], fds, { debug: false });
  const inst = new WebAssembly.Instance(module, { wasi_snapshot_preview1: w.wasiImport } as WebAssembly.Imports);
  const code = w.start(inst as unknown as { exports: { memory: WebAssembly.Memory; _start: () => unknown } });
  if (code !== 0) throw new Error(`browser_wasi_shim: exit ${code}`);
  return out;
};

function nsPerOp(out: string): number {
  const m = /ns_per_op=([\d.]+)/.exec(out);
  if (m === null) throw new Error(`no result in: ${out}`);
  return Number(m[1]);
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const wasmPath = join(ctx.tmpdir, 'syscalls.wasm');
  const cc = spawnSync('clang', ['--target=wasm32-wasi', '-O2', '-o', wasmPath, SRC], { encoding: 'utf8' });
  if (cc.status !== 0) {
    ctx.log(`skipped: cannot build ${SRC} with clang for wasm32-wasi (${cc.error?.message ?? cc.stderr})`);
    return [];
  }
  const module = await WebAssembly.compile(readFileSync(wasmPath));
  const writes = Math.max(10_000, Math.round(1_000_000 * ctx.scale));
  const mib = Math.max(4, Math.round(64 * ctx.scale));
  const opens = Math.max(500, Math.round(10_000 * ctx.scale));
  const cases: { name: string; args: string[]; subjects: [string, Runner, string?][] }[] = [
    {
      name: `${writes.toLocaleString('en-US')} × 1-byte write to /dev/null`,
      args: ['write1', String(writes), '/dev/null'],
      subjects: [['tkl', tkl('tmpfs'), "the kernel's own /dev/null"], ['node:wasi', nodeWasi, "the host's /dev/null"], ['browser_wasi_shim', shim, 'an in-memory file']],
    },
    {
      name: `read a ${mib} MiB file in 4 KiB chunks`,
      args: ['read4k', String(mib), '/data/big'],
      subjects: [
        ['tkl', tkl('ext4'), 'an ext4 image (file on the host, through the buffer cache)'],
        ['tkl tmpfs', tkl('tmpfs'), 'tmpfs'],
        ['tkl hostfs', tkl('host'), 'a host directory through hostfs'],
        ['node:wasi', nodeWasi, "the host's page cache"],
        ['browser_wasi_shim', shim, 'an in-memory file'],
      ],
    },
    {
      name: `${opens.toLocaleString('en-US')} × open, fstat, close`,
      args: ['openstat', String(opens), '/data/f'],
      subjects: [
        ['tkl', tkl('tmpfs'), 'tmpfs'],
        ['tkl ext4', tkl('ext4'), 'an ext4 image'],
        ['tkl hostfs', tkl('host'), 'a host directory through hostfs'],
        ['node:wasi', nodeWasi, 'a host directory'],
        ['browser_wasi_shim', shim, 'an in-memory directory'],
      ],
    },
  ];
  const rows: BenchRow[] = [];
  for (const c of cases) {
    for (const [subject, runner, note] of c.subjects) {
      // One untimed run first, so every subject is measured with its code compiled by the JIT.
      runner(module, c.args, ctx);
      let best = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 3; i++) best = Math.min(best, nsPerOp(runner(module, c.args, ctx)));
      ctx.log(`${c.name}: ${subject} ${best.toFixed(1)} ns/op`);
      rows.push({ case: c.name, subject, value: best, unit: 'ns/op', higherIsBetter: false, note });
    }
    rmSync(join(ctx.tmpdir, 'tkl-data'), { recursive: true, force: true });
  }
  return rows;
}
