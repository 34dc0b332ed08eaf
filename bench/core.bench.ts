// Kernel core: boot time and retained memory per idle kernel; tmpfs metadata and data
// operations side by side with the `memfs` package and the host's tmpfs through node:fs.

import * as nfs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Volume } from 'memfs';
import { boot, type Tkl } from '../src/index.js';
import { AT_FDCWD, O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY } from '../src/abi/linux/fcntl.js';
import { timeIt, type BenchContext, type BenchRow } from './harness.js';

const gc = (globalThis as { gc?: () => void }).gc;

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  rows.push(...bootAndMemory(ctx));
  rows.push(...(await metadata(ctx)));
  rows.push(...(await sequential(ctx)));
  return rows;
}

function bootAndMemory(ctx: BenchContext): BenchRow[] {
  const n = Math.max(500, Math.round(10_000 * ctx.scale));
  for (let i = 0; i < 200; i++) boot(); // warm up
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const kernels: Tkl[] = [];
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) kernels.push(boot());
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / n;
  gc?.();
  const bytes = (process.memoryUsage().heapUsed - before) / n;
  ctx.log(`booted ${kernels.length} kernels`);
  return [
    { case: `boot (${n} kernels)`, subject: 'tkl', value: us, unit: 'µs/boot', higherIsBetter: false },
    {
      case: 'retained memory per idle kernel',
      subject: 'tkl',
      value: bytes,
      unit: 'bytes/instance',
      higherIsBetter: false,
      note: gc ? 'heap after gc' : 'run with --expose-gc for an exact figure',
    },
  ];
}

/** One filesystem API as the workloads see it. */
interface Target {
  name: string;
  writeFile(path: string, data: Uint8Array): Promise<void> | void;
  stat(path: string): unknown;
  readdir(path: string): string[];
  mkdir(path: string): void;
}

function targets(ctx: BenchContext): { list: Target[]; cleanup(): void } {
  const k = boot();
  const vol = new Volume();
  const shm = nfs.existsSync('/dev/shm') ? mkdtempSync('/dev/shm/tkl-bench-') : mkdtempSync(join(ctx.tmpdir, 'host-'));
  const list: Target[] = [
    {
      name: 'tkl',
      async writeFile(p, data) {
        const fd = k.sys.openat(AT_FDCWD, p, O_CREAT | O_WRONLY | O_TRUNC, 0o644);
        await k.sys.write(fd, data);
        k.sys.close(fd);
      },
      stat: (p) => k.sys.stat(p),
      readdir: (p) => k.fs.readdir(p),
      mkdir: (p) => k.sys.mkdir(p, 0o755),
    },
    {
      name: 'memfs',
      writeFile(p, data) {
        const fd = vol.openSync(p, 'w', 0o644);
        vol.writeSync(fd, data);
        vol.closeSync(fd);
      },
      stat: (p) => vol.statSync(p),
      readdir: (p) => vol.readdirSync(p) as string[],
      mkdir: (p) => vol.mkdirSync(p, 0o755),
    },
    {
      name: 'Linux tmpfs via node:fs',
      writeFile(p, data) {
        const fd = nfs.openSync(shm + p, 'w', 0o644);
        nfs.writeSync(fd, data);
        nfs.closeSync(fd);
      },
      stat: (p) => nfs.statSync(shm + p),
      readdir: (p) => nfs.readdirSync(shm + p),
      mkdir: (p) => nfs.mkdirSync(shm + p, 0o755),
    },
  ];
  return { list, cleanup: () => rmSync(shm, { recursive: true, force: true }) };
}

async function metadata(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const files = Math.max(1000, Math.round(10_000 * ctx.scale));
  const data = new Uint8Array(4096).fill(0x61);
  const { list, cleanup } = targets(ctx);
  for (const t of list) {
    t.mkdir('/w');
    const created = await timeIt(async () => {
      for (let i = 0; i < files; i++) await t.writeFile(`/w/f${i}`, data);
    });
    rows.push({ case: `create+write+close 4 KiB files (${files})`, subject: t.name, value: files / created, unit: 'ops/s', higherIsBetter: true });
    const stated = await timeIt(() => {
      for (let i = 0; i < files; i++) t.stat(`/w/f${i}`);
    }, 3);
    rows.push({ case: 'stat', subject: t.name, value: files / stated, unit: 'ops/s', higherIsBetter: true });
    let names = 0;
    const listed = await timeIt(() => {
      names = t.readdir('/w').length;
    }, 5);
    if (names !== files) throw new Error(`${t.name}: readdir found ${names} of ${files}`);
    rows.push({ case: `readdir of ${files} entries`, subject: t.name, value: 1 / listed, unit: 'dirs/s', higherIsBetter: true });
    ctx.log(`${t.name}: metadata done`);
  }
  cleanup();
  return rows;
}

async function sequential(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const total = Math.max(64, Math.round(1024 * ctx.scale)) * 1024 * 1024;
  const chunk = new Uint8Array(65536).fill(0x5a);
  const label = `${total / 2 ** 20} MiB`;

  // tkl
  {
    const k = boot();
    const fd = k.sys.openat(AT_FDCWD, '/tmp/big', O_CREAT | O_WRONLY, 0o644);
    const w = await timeIt(async () => {
      for (let off = 0; off < total; off += chunk.length) await k.sys.write(fd, chunk);
    });
    k.sys.close(fd);
    const rfd = k.sys.openat(AT_FDCWD, '/tmp/big', O_RDONLY);
    const buf = new Uint8Array(65536);
    let got = 0;
    const r = await timeIt(async () => {
      for (let n = await k.sys.read(rfd, buf); n > 0; n = await k.sys.read(rfd, buf)) got += n;
    });
    if (got !== total) throw new Error(`tkl read ${got} of ${total}`);
    rows.push({ case: `sequential write ${label} in 64 KiB calls`, subject: 'tkl', value: total / 2 ** 20 / w, unit: 'MiB/s', higherIsBetter: true });
    rows.push({ case: `sequential read ${label} in 64 KiB calls`, subject: 'tkl', value: total / 2 ** 20 / r, unit: 'MiB/s', higherIsBetter: true });
  }
  gc?.();
  // memfs
  {
    const vol = new Volume();
    const fd = vol.openSync('/big', 'w');
    const w = await timeIt(() => {
      for (let off = 0; off < total; off += chunk.length) vol.writeSync(fd, chunk);
    });
    vol.closeSync(fd);
    const rfd = vol.openSync('/big', 'r');
    const buf = new Uint8Array(65536);
    let got = 0;
    const r = await timeIt(() => {
      for (let n = vol.readSync(rfd, buf, 0, buf.length, null); n > 0; n = vol.readSync(rfd, buf, 0, buf.length, null)) got += n;
    });
    if (got !== total) throw new Error(`memfs read ${got} of ${total}`);
    rows.push({ case: `sequential write ${label} in 64 KiB calls`, subject: 'memfs', value: total / 2 ** 20 / w, unit: 'MiB/s', higherIsBetter: true });
    rows.push({ case: `sequential read ${label} in 64 KiB calls`, subject: 'memfs', value: total / 2 ** 20 / r, unit: 'MiB/s', higherIsBetter: true });
  }
  gc?.();
  // host tmpfs
  {
    const dir = nfs.existsSync('/dev/shm') ? mkdtempSync('/dev/shm/tkl-bench-') : ctx.tmpdir;
    try {
      const p = join(dir, 'big');
      const fd = nfs.openSync(p, 'w');
      const w = await timeIt(() => {
        for (let off = 0; off < total; off += chunk.length) nfs.writeSync(fd, chunk);
      });
      nfs.closeSync(fd);
      const rfd = nfs.openSync(p, 'r');
      const buf = new Uint8Array(65536);
      let got = 0;
      const r = await timeIt(() => {
        for (let n = nfs.readSync(rfd, buf); n > 0; n = nfs.readSync(rfd, buf)) got += n;
      });
      nfs.closeSync(rfd);
      if (got !== total) throw new Error(`host read ${got} of ${total}`);
      rows.push({ case: `sequential write ${label} in 64 KiB calls`, subject: 'Linux tmpfs via node:fs', value: total / 2 ** 20 / w, unit: 'MiB/s', higherIsBetter: true });
      rows.push({ case: `sequential read ${label} in 64 KiB calls`, subject: 'Linux tmpfs via node:fs', value: total / 2 ** 20 / r, unit: 'MiB/s', higherIsBetter: true });
    } finally {
      if (dir !== ctx.tmpdir) rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}
