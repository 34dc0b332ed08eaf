// ext4 images side by side: populating a 1 GiB image with 5,000 small files in ~100
// directories plus four 64 MiB files, reading the whole tree back out, and a sequential read
// of one 64 MiB file — tkl against mke2fs -d / debugfs rdump (e2fsprogs), Linux (loop mount +
// cp -a + umount), the `ext2fs` npm package (libext2fs in wasm), and the raw image file.
// The machine is shared: every subject runs R times, interleaved with the others, and the
// rows give the median with the spread; CPU time (user + system) is reported beside wall time.

import { execFileSync, spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { boot, fileDisk, mkfsExt4, type Tkl } from '../src/index.js';
import type { BenchContext, BenchRow } from './harness.js';

const O_WRONLY = 0o1;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;

interface TreeFile {
  rel: string;
  size: number;
}

function makeTree(src: string, smallFiles: number, bigFiles: number, bigSize: number): TreeFile[] {
  const files: TreeFile[] = [];
  const dirs = Math.max(1, Math.round(smallFiles / 50));
  const buf = new Uint8Array(Math.max(8192, bigSize));
  randomFillSync(buf);
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  for (let d = 0; d < dirs; d++) fs.mkdirSync(join(src, `dir${String(d).padStart(3, '0')}`, 'sub'), { recursive: true });
  for (let i = 0; i < smallFiles; i++) {
    const size = 1024 + Math.floor(rnd() * 7 * 1024);
    const rel = join(`dir${String(i % dirs).padStart(3, '0')}`, i % 3 === 0 ? 'sub' : '', `file${i}.dat`);
    const off = Math.floor(rnd() * (buf.length - size));
    fs.writeFileSync(join(src, rel), buf.subarray(off, off + size));
    files.push({ rel, size });
  }
  for (let i = 0; i < bigFiles; i++) {
    buf[0] = i;
    fs.writeFileSync(join(src, `big${i}.bin`), buf.subarray(0, bigSize));
    files.push({ rel: `big${i}.bin`, size: bigSize });
  }
  return files;
}

function sparse(path: string, size: number): void {
  fs.rmSync(path, { force: true });
  fs.closeSync(fs.openSync(path, 'w'));
  fs.truncateSync(path, size);
}

/** Copies the host tree `src` into tkl at `dst` (what cp -a does, without xattrs). */
function tklCopyIn(k: Tkl, src: string, dst: string): void {
  const sys = k.sys;
  const buf = new Uint8Array(1 << 20);
  const walk = (rel: string): void => {
    for (const ent of fs.readdirSync(join(src, rel), { withFileTypes: true })) {
      const r = rel === '' ? ent.name : `${rel}/${ent.name}`;
      if (ent.isDirectory()) {
        sys.mkdir(`${dst}/${r}`, 0o755);
        walk(r);
      } else if (ent.isFile()) {
        const hfd = fs.openSync(join(src, r), 'r');
        const size = fs.fstatSync(hfd).size;
        const fd = sys.open(`${dst}/${r}`, O_WRONLY | O_CREAT | O_TRUNC, 0o644);
        for (let pos = 0; pos < size; ) {
          const n = fs.readSync(hfd, buf, 0, Math.min(buf.length, size - pos), pos);
          if (n === 0) break;
          sys.pwrite64(fd, n === buf.length ? buf : buf.subarray(0, n), n, pos);
          pos += n;
        }
        sys.close(fd);
        fs.closeSync(hfd);
      }
    }
  };
  walk('');
}

/** Copies tkl's tree at `src` out to the host directory `dst` (what debugfs rdump does). */
function tklCopyOut(k: Tkl, src: string, dst: string): void {
  const sys = k.sys;
  const buf = new Uint8Array(1 << 20);
  const walk = (rel: string): void => {
    for (const e of k.fs.entries(rel === '' ? src : `${src}/${rel}`)) {
      if (e.name === '.' || e.name === '..' || e.name === 'lost+found') continue;
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.type === 4) {
        fs.mkdirSync(join(dst, r));
        walk(r);
      } else if (e.type === 8) {
        const fd = sys.open(`${src}/${r}`, 0);
        const size = sys.fstat(fd).size;
        const hfd = fs.openSync(join(dst, r), 'w');
        for (let pos = 0; pos < size; ) {
          const n = sys.pread64(fd, buf, Math.min(buf.length, size - pos), pos);
          if (n === 0) break;
          fs.writeSync(hfd, buf, 0, n, pos);
          pos += n;
        }
        fs.closeSync(hfd);
        sys.close(fd);
      }
    }
  };
  walk('');
}

/** The `ext2fs` package's disk interface over a file descriptor. */
function ext2fsDisk(fd: number): object {
  return {
    async read(buffer: Uint8Array, bufferOffset: number, length: number, fileOffset: number) {
      const bytesRead = fs.readSync(fd, buffer, bufferOffset, length, fileOffset);
      return { bytesRead, buffer };
    },
    async write(buffer: Uint8Array, bufferOffset: number, length: number, fileOffset: number) {
      const bytesWritten = fs.writeSync(fd, buffer, bufferOffset, length, fileOffset);
      return { bytesWritten, buffer };
    },
    async flush() {
      fs.fsyncSync(fd);
    },
    async discard() {},
    async getCapacity() {
      return fs.fstatSync(fd).size;
    },
  };
}

interface Ext2fsModule {
  mount(disk: object, offset: number): Promise<{ promises: Record<string, (...a: unknown[]) => Promise<unknown>> }>;
  umount(fs: unknown): Promise<void>;
}

/** The `file-disk` package: the disk its README pairs with `ext2fs` (async I/O on a FileHandle). */
interface FileDiskModule {
  FileDisk: new (handle: fs.promises.FileHandle) => object;
}

/** One measurement: wall seconds and CPU seconds (user + system; for a command, its own). */
interface Sample {
  wall: number;
  cpu: number;
}

/** Wall and CPU time (every thread of this process) of `fn`. */
async function sample(fn: () => unknown | Promise<unknown>): Promise<Sample> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e6 };
}

/** Wall and CPU time of a command, as bash's `time` reports them (getrusage of the child). */
function sampleCmd(cmd: string, args: string[]): Sample {
  const r = spawnSync('bash', ['-c', 'TIMEFORMAT="%3R %3U %3S"; time "$@" >/dev/null 2>&1', 'bash', cmd, ...args], { encoding: 'utf8' });
  const m = /([\d.]+) ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  if (r.status !== 0 || m === null) throw new Error(`${cmd} failed: ${r.stderr}`);
  return { wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/** Rows for one case from each subject's samples: median wall (and CPU), with the spread in the note. */
function rowsOf(caseName: string, samples: Map<string, Sample[]>, notes: Map<string, string>, cpu: boolean): BenchRow[] {
  const rows: BenchRow[] = [];
  const spread = (xs: number[]): string => (xs.length > 1 ? `median of ${xs.length}, ${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)} s` : 'one run');
  for (const [subject, ss] of samples) {
    if (ss.length === 0) continue;
    const w = ss.map((x) => x.wall);
    const extra = notes.get(subject);
    rows.push({ case: caseName, subject, value: median(w), unit: 's', higherIsBetter: false, note: extra ? `${spread(w)}; ${extra}` : spread(w) });
  }
  if (cpu) {
    for (const [subject, ss] of samples) {
      if (ss.length === 0 || Number.isNaN(ss[0]!.cpu)) continue;
      const c = ss.map((x) => x.cpu);
      rows.push({ case: `${caseName}, CPU time (user + system)`, subject, value: median(c), unit: 's', higherIsBetter: false, note: spread(c) });
    }
  }
  return rows;
}

function mountTkl(img: string, ro: boolean): Tkl {
  const k = boot();
  const dev = k.addDisk(fileDisk(img, { readOnly: ro }));
  k.sys.mkdir('/mnt/img', 0o755);
  k.sys.mount(dev, '/mnt/img', 'ext4', ro ? 1 : 0, '');
  return k;
}

/** A scratch directory on tmpfs when there is room (so the shared disk's waits do not swamp the figures). */
function scratchDir(fallback: string): { dir: string; cleanup(): void } {
  try {
    const st = fs.statfsSync('/dev/shm');
    if (st.bavail * st.bsize > 3 * 2 ** 30) {
      const dir = fs.mkdtempSync('/dev/shm/tkl-bench-ext4-');
      return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
    }
  } catch {
    // no /dev/shm
  }
  return { dir: fallback, cleanup: () => {} };
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const scratch = scratchDir(ctx.tmpdir);
  try {
    return await runIn({ ...ctx, tmpdir: scratch.dir });
  } finally {
    scratch.cleanup();
  }
}

/** Copies the host tree `src` into an ext2fs-package filesystem through its promises API. */
async function ext2fsCopyIn(p: Record<string, (...a: unknown[]) => Promise<unknown>>, src: string): Promise<void> {
  const walk = async (rel: string): Promise<void> => {
    for (const ent of fs.readdirSync(join(src, rel), { withFileTypes: true })) {
      const r = rel === '' ? ent.name : `${rel}/${ent.name}`;
      if (ent.isDirectory()) {
        await p.mkdir!(`/${r}`);
        await walk(r);
      } else {
        // 1 MiB pieces through a file handle: a 64 MiB writeFile exhausts the wasm heap.
        const data = fs.readFileSync(join(src, r));
        const h = (await p.open!(`/${r}`, 'w')) as { write(b: Buffer, o: number, l: number, pos: number): Promise<unknown>; close(): Promise<void> };
        for (let pos = 0; pos < data.length; pos += 1 << 20) {
          const n = Math.min(1 << 20, data.length - pos);
          await h.write(data.subarray(pos, pos + n), 0, n, pos);
        }
        await h.close();
      }
    }
  };
  await walk('');
}

/** Copies an ext2fs-package filesystem's tree out to the host directory `out`. */
async function ext2fsCopyOut(p: Record<string, (...a: unknown[]) => Promise<unknown>>, out: string): Promise<void> {
  const ebuf = Buffer.alloc(1 << 20);
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await p.readdir!(`/${rel}`)) as string[]) {
      if (name === 'lost+found') continue;
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = (await p.stat!(`/${r}`)) as { isDirectory(): boolean };
      if (st.isDirectory()) {
        fs.mkdirSync(join(out, r));
        await walk(r);
      } else {
        // Through a file handle in 1 MiB pieces: the package's readFile returns a string.
        const h = (await p.open!(`/${r}`, 'r')) as { read(b: Buffer, o: number, l: number, pos: number): Promise<{ bytesRead: number }>; close(): Promise<void> };
        const hfd = fs.openSync(join(out, r), 'w');
        for (let pos = 0; ; ) {
          const { bytesRead } = await h.read(ebuf, 0, ebuf.length, pos);
          if (bytesRead === 0) break;
          fs.writeSync(hfd, ebuf, 0, bytesRead, pos);
          pos += bytesRead;
        }
        fs.closeSync(hfd);
        await h.close();
      }
    }
  };
  await walk('');
}

/**
 * The floor of populating: every file's bytes read from the tree and written into the sparse
 * image file, block-aligned one after another — the host work any tool must do, with no
 * filesystem at all.
 */
function bareCopy(src: string, img: string): void {
  const ifd = fs.openSync(img, 'r+');
  const buf = new Uint8Array(1 << 20);
  let at = 1 << 20;
  const walk = (rel: string): void => {
    for (const ent of fs.readdirSync(join(src, rel), { withFileTypes: true })) {
      const r = rel === '' ? ent.name : `${rel}/${ent.name}`;
      if (ent.isDirectory()) walk(r);
      else {
        const h = fs.openSync(join(src, r), 'r');
        const size = fs.fstatSync(h).size;
        for (let pos = 0; pos < size; ) {
          const n = fs.readSync(h, buf, 0, Math.min(buf.length, size - pos), pos);
          if (n === 0) break;
          fs.writeSync(ifd, buf, 0, n, at);
          at += Math.ceil(n / 4096) * 4096;
          pos += n;
        }
        fs.closeSync(h);
      }
    }
  };
  walk('');
  fs.fsyncSync(ifd);
  fs.closeSync(ifd);
}

async function runIn(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const root = process.getuid?.() === 0;
  const haveE2fs = spawnSync('which', ['mke2fs']).status === 0;
  const small = Math.max(100, Math.round(5000 * ctx.scale));
  const bigSize = Math.max(1 << 20, Math.round((64 << 20) * ctx.scale));
  const src = join(ctx.tmpdir, 'src');
  fs.mkdirSync(src);
  const files = makeTree(src, small, 4, bigSize);
  const total = files.reduce((a, f) => a + f.size, 0);
  const what = `${files.length} files, ${(total / 2 ** 20).toFixed(0)} MiB`;
  ctx.log(`tree: ${what}`);
  const IMG = 1 << 30;
  const img = join(ctx.tmpdir, 'img');
  const mnt = join(ctx.tmpdir, 'mnt');
  fs.mkdirSync(mnt);
  const populate = `populate a 1 GiB ext4 image (${what})`;
  const populateMkfs = `${populate}, mkfs included`;
  const readOut = `read the tree back out (${what})`;
  const emptyImage = (): void => {
    sparse(img, IMG);
    if (haveE2fs) execFileSync('mke2fs', ['-q', '-F', '-t', 'ext4', img]);
    else {
      const d = fileDisk(img);
      mkfsExt4(d);
      d.close();
    }
  };
  const tklPopulate = (): void => {
    const k = mountTkl(img, false);
    tklCopyIn(k, src, '/mnt/img');
    k.sys.umount2('/mnt/img', 0);
  };
  // Interleaved repeats: a burst of load from the machine's other users hits every subject alike.
  const R = ctx.scale < 1 ? 3 : 5;
  const require = createRequire(import.meta.url);
  let ext2fs: Ext2fsModule | null = null;
  let fileDiskPkg: FileDiskModule | null = null;
  try {
    ext2fs = require('ext2fs') as Ext2fsModule;
    fileDiskPkg = require('file-disk') as FileDiskModule;
  } catch {
    ctx.log('ext2fs package rows skipped: `ext2fs` or `file-disk` is not installed');
  }
  const ext2fsSyncDisk = (): { disk: object; close(): Promise<void> } => {
    const fd = fs.openSync(img, 'r+');
    return { disk: ext2fsDisk(fd), close: async () => fs.closeSync(fd) };
  };
  const ext2fsFileDisk = async (): Promise<{ disk: object; close(): Promise<void> }> => {
    const h = await fs.promises.open(img, 'r+');
    return { disk: new fileDiskPkg!.FileDisk(h), close: () => h.close() };
  };
  const E2_SYNC = 'ext2fs package (libext2fs wasm)';
  const E2_ASYNC = 'ext2fs package + file-disk (as its README)';

  // ---- populate ----
  const pop = new Map<string, Sample[]>([['tkl', []], ['mke2fs -d', []], ['Linux (loop mount + cp -a + umount)', []], [E2_SYNC, []], [E2_ASYNC, []], ['bare byte copy, no filesystem (the floor)', []]]);
  const popMkfs = new Map<string, Sample[]>([['tkl', []], ['mke2fs -d', []]]);
  // One untimed run, so tkl is measured with its code compiled (mke2fs is compiled ahead).
  emptyImage();
  tklPopulate();
  for (let i = 0; i < R; i++) {
    emptyImage();
    pop.get('tkl')!.push(await sample(tklPopulate));
    sparse(img, IMG);
    popMkfs.get('tkl')!.push(await sample(() => {
      const d = fileDisk(img);
      mkfsExt4(d);
      d.close();
      tklPopulate();
    }));
    if (haveE2fs) {
      sparse(img, IMG);
      const s = sampleCmd('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', src, img]);
      pop.get('mke2fs -d')!.push(s);
      popMkfs.get('mke2fs -d')!.push(s);
    }
    if (root && haveE2fs) {
      emptyImage();
      // The loop device's work runs in kernel threads no process is charged for: wall time only.
      const s = await sample(() => {
        execFileSync('mount', ['-o', 'loop', img, mnt]);
        execFileSync('cp', ['-a', `${src}/.`, mnt]);
        execFileSync('umount', [mnt]);
      });
      pop.get('Linux (loop mount + cp -a + umount)')!.push({ wall: s.wall, cpu: NaN });
    }
    sparse(img, IMG);
    pop.get('bare byte copy, no filesystem (the floor)')!.push(await sample(() => bareCopy(src, img)));
    // The package takes seconds a run (tens with file-disk): fewer repeats.
    if (ext2fs !== null && i < 2) {
      emptyImage();
      pop.get(E2_SYNC)!.push(await sample(async () => {
        const d = ext2fsSyncDisk();
        const efs = await ext2fs!.mount(d.disk, 0);
        await ext2fsCopyIn(efs.promises, src);
        await ext2fs!.umount(efs);
        await d.close();
      }));
    }
    if (ext2fs !== null && i === 0) {
      emptyImage();
      pop.get(E2_ASYNC)!.push(await sample(async () => {
        const d = await ext2fsFileDisk();
        const efs = await ext2fs!.mount(d.disk, 0);
        await ext2fsCopyIn(efs.promises, src);
        await ext2fs!.umount(efs);
        await d.close();
      }));
    }
  }
  if (!(root && haveE2fs)) ctx.log('Linux rows skipped: needs root and e2fsprogs');
  const popNotes = new Map([
    ['tkl', 'into an image from mke2fs, umount included'],
    ['mke2fs -d', 'its mkfs included'],
    [E2_SYNC, 'a synchronous disk (fs.readSync/writeSync inside its async callbacks), the fastest way to drive it'],
    [E2_ASYNC, "file-disk's FileDisk over a fs.promises FileHandle"],
    ['bare byte copy, no filesystem (the floor)', "every file's bytes read and written into the image file, nothing else"],
  ]);
  rows.push(...rowsOf(populate, pop, popNotes, true));
  rows.push(...rowsOf(populateMkfs, popMkfs, new Map([['tkl', 'tkl mkfsExt4 + copy']]), true));

  // ---- read out (from one image for everyone) ----
  sparse(img, IMG);
  {
    const d = fileDisk(img);
    mkfsExt4(d);
    d.close();
    tklPopulate();
  }
  const out = join(ctx.tmpdir, 'out');
  const fresh = (): void => {
    fs.rmSync(out, { recursive: true, force: true });
    fs.mkdirSync(out);
  };
  const tklReadOut = (): void => {
    const k = mountTkl(img, true);
    tklCopyOut(k, '/mnt/img', out);
    k.sys.umount2('/mnt/img', 0);
  };
  const rd = new Map<string, Sample[]>([['tkl', []], ['debugfs rdump', []], ['Linux (loop mount + cp -a + umount)', []], [E2_SYNC, []], [E2_ASYNC, []]]);
  fresh();
  tklReadOut();
  for (let i = 0; i < R; i++) {
    fresh();
    rd.get('tkl')!.push(await sample(tklReadOut));
    if (haveE2fs) {
      fresh();
      rd.get('debugfs rdump')!.push(sampleCmd('debugfs', ['-R', `rdump / ${out}`, img]));
    }
    if (root) {
      fresh();
      const s = await sample(() => {
        execFileSync('mount', ['-o', 'loop,ro', img, mnt]);
        execFileSync('cp', ['-a', `${mnt}/.`, out]);
        execFileSync('umount', [mnt]);
      });
      rd.get('Linux (loop mount + cp -a + umount)')!.push({ wall: s.wall, cpu: NaN });
    }
    // The package mounts read-write (it writes the superblock), so its disk must be writable.
    if (ext2fs !== null && i < 2) {
      fresh();
      rd.get(E2_SYNC)!.push(await sample(async () => {
        const d = ext2fsSyncDisk();
        const efs = await ext2fs!.mount(d.disk, 0);
        await ext2fsCopyOut(efs.promises, out);
        await ext2fs!.umount(efs);
        await d.close();
      }));
    }
    if (ext2fs !== null && i === 0) {
      fresh();
      rd.get(E2_ASYNC)!.push(await sample(async () => {
        const d = await ext2fsFileDisk();
        const efs = await ext2fs!.mount(d.disk, 0);
        await ext2fsCopyOut(efs.promises, out);
        await ext2fs!.umount(efs);
        await d.close();
      }));
    }
  }
  const rdNotes = new Map([
    ['tkl', 'read-only mount of the image, every file pread in 1 MiB pieces and written to the host'],
    [E2_SYNC, popNotes.get(E2_SYNC)!],
    [E2_ASYNC, popNotes.get(E2_ASYNC)!],
  ]);
  rows.push(...rowsOf(readOut, rd, rdNotes, true));
  fs.rmSync(out, { recursive: true, force: true });

  // ---- sequential read of one big file vs the image file itself ----
  const seq = `sequential read of one ${(bigSize / 2 ** 20).toFixed(0)} MiB file`;
  const k = mountTkl(img, true);
  const buf = new Uint8Array(1 << 20);
  const fd = k.sys.open('/mnt/img/big0.bin', 0);
  // The same bytes straight from the image: the file's own extents (debugfs tells where).
  const runs: [number, number][] = [];
  if (haveE2fs) {
    const ex = execFileSync('debugfs', ['-R', 'ex /big0.bin', img], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    for (const m of ex.matchAll(/^\s*\d+\/\s*\d+\s+\d+\/\s*\d+\s+\d+\s*-\s*\d+\s+(\d+)\s*-\s*(\d+)/gm)) runs.push([Number(m[1]) * 4096, (Number(m[2]) + 1) * 4096]);
  }
  if (runs.length === 0) runs.push([256 << 20, (256 << 20) + bigSize]);
  const hfd = fs.openSync(img, 'r');
  const tk: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < 2 * R + 1; i++) {
    tk.push((await sample(() => {
      for (let pos = 0; pos < bigSize; ) pos += k.sys.pread64(fd, buf, buf.length, pos);
    })).wall);
    raw.push((await sample(() => {
      for (const [from, to] of runs) for (let pos = from; pos < to; ) pos += fs.readSync(hfd, buf, 0, Math.min(buf.length, to - pos), pos);
    })).wall);
  }
  fs.closeSync(hfd);
  k.sys.close(fd);
  k.sys.umount2('/mnt/img', 0);
  const mibs = (t: number): number => bigSize / 2 ** 20 / t;
  const range = (ts: number[]): string => `median of ${ts.length}, ${Math.round(mibs(Math.max(...ts)))}–${Math.round(mibs(Math.min(...ts)))} MiB/s`;
  rows.push({ case: seq, subject: 'tkl', value: mibs(median(tk)), unit: 'MiB/s', higherIsBetter: true, note: `1 MiB preads, warm page cache; ${range(tk)}` });
  rows.push({ case: seq, subject: 'raw image file (dd bs=1M)', value: mibs(median(raw)), unit: 'MiB/s', higherIsBetter: true, note: `the physical limit; ${range(raw)}` });
  return rows;
}
