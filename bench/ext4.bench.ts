// ext4 images side by side: populating a 1 GiB image with 5,000 small files in ~100
// directories plus four 64 MiB files, reading the whole tree back out, and a sequential read
// of one 64 MiB file — tkl against mke2fs -d / debugfs rdump (e2fsprogs), Linux (loop mount +
// cp -a + umount), the `ext2fs` npm package (libext2fs in wasm), and the raw image file.

import { execFileSync, spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { boot, fileDisk, mkfsExt4, type Tkl } from '../src/index.js';
import { type BenchContext, type BenchRow, timeIt } from './harness.js';

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

  // ---- populate ----
  emptyImage();
  // Best of three where a run is cheap enough: the disk is shared and its waits vary.
  const R = 3;
  let bestTkl = Infinity;
  for (let i = 0; i < R; i++) {
    emptyImage();
    bestTkl = Math.min(bestTkl, await timeIt(() => {
      const k = mountTkl(img, false);
      tklCopyIn(k, src, '/mnt/img');
      k.sys.umount2('/mnt/img', 0);
    }));
  }
  rows.push({ case: populate, subject: 'tkl', value: bestTkl, unit: 's', higherIsBetter: false, note: 'into an image from mke2fs, umount included' });
  const tTklMkfs = await timeIt(() => {
    sparse(img, IMG);
    const d = fileDisk(img);
    mkfsExt4(d);
    d.close();
    const k = mountTkl(img, false);
    tklCopyIn(k, src, '/mnt/img');
    k.sys.umount2('/mnt/img', 0);
  });
  rows.push({ case: `${populate}, mkfs included`, subject: 'tkl', value: tTklMkfs, unit: 's', higherIsBetter: false, note: 'tkl mkfsExt4 + copy' });
  if (haveE2fs) {
    const t = await timeIt(() => {
      sparse(img, IMG);
      execFileSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', src, img]);
    }, R);
    rows.push({ case: `${populate}, mkfs included`, subject: 'mke2fs -d', value: t, unit: 's', higherIsBetter: false });
    rows.push({ case: populate, subject: 'mke2fs -d', value: t, unit: 's', higherIsBetter: false, note: 'its mkfs included' });
  }
  if (root && haveE2fs) {
    let t = Infinity;
    for (let i = 0; i < R; i++) {
      emptyImage();
      t = Math.min(t, await timeIt(() => {
        execFileSync('mount', ['-o', 'loop', img, mnt]);
        execFileSync('cp', ['-a', `${src}/.`, mnt]);
        execFileSync('umount', [mnt]);
      }));
    }
    rows.push({ case: populate, subject: 'Linux (loop mount + cp -a + umount)', value: t, unit: 's', higherIsBetter: false });
  } else ctx.log('Linux rows skipped: needs root and e2fsprogs');
  const require = createRequire(import.meta.url);
  let ext2fs: Ext2fsModule | null = null;
  try {
    ext2fs = require('ext2fs') as Ext2fsModule;
  } catch {
    ctx.log('ext2fs package rows skipped: `ext2fs` is not installed');
  }
  if (ext2fs !== null) {
    emptyImage();
    const t = await timeIt(async () => {
      const fd = fs.openSync(img, 'r+');
      const efs = await ext2fs!.mount(ext2fsDisk(fd), 0);
      const p = efs.promises;
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
      await ext2fs!.umount(efs);
      fs.closeSync(fd);
    });
    rows.push({ case: populate, subject: 'ext2fs package (libext2fs wasm)', value: t, unit: 's', higherIsBetter: false });
  }

  // ---- read out (from one image for everyone) ----
  sparse(img, IMG);
  {
    const d = fileDisk(img);
    mkfsExt4(d);
    d.close();
    const k = mountTkl(img, false);
    tklCopyIn(k, src, '/mnt/img');
    k.sys.umount2('/mnt/img', 0);
  }
  const out = join(ctx.tmpdir, 'out');
  const fresh = (): void => {
    fs.rmSync(out, { recursive: true, force: true });
    fs.mkdirSync(out);
  };
  fresh();
  rows.push({
    case: readOut, subject: 'tkl', higherIsBetter: false, unit: 's',
    value: await timeIt(() => {
      fresh();
      const k = mountTkl(img, true);
      tklCopyOut(k, '/mnt/img', out);
      k.sys.umount2('/mnt/img', 0);
    }, R),
  });
  if (haveE2fs) {
    fresh();
    rows.push({
      case: readOut, subject: 'debugfs rdump', unit: 's', higherIsBetter: false,
      value: await timeIt(() => {
        fresh();
        execFileSync('debugfs', ['-R', `rdump / ${out}`, img], { stdio: 'ignore' });
      }, R),
    });
  }
  if (root) {
    fresh();
    rows.push({
      case: readOut, subject: 'Linux (loop mount + cp -a + umount)', unit: 's', higherIsBetter: false,
      value: await timeIt(() => {
        fresh();
        execFileSync('mount', ['-o', 'loop,ro', img, mnt]);
        execFileSync('cp', ['-a', `${mnt}/.`, out]);
        execFileSync('umount', [mnt]);
      }, R),
    });
  }
  if (ext2fs !== null) {
    fresh();
    rows.push({
      case: readOut, subject: 'ext2fs package (libext2fs wasm)', unit: 's', higherIsBetter: false,
      value: await timeIt(async () => {
        // The package mounts read-write (it writes the superblock), so its disk must be writable.
        const fd = fs.openSync(img, 'r+');
        const efs = await ext2fs!.mount(ext2fsDisk(fd), 0);
        const p = efs.promises;
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
        await ext2fs!.umount(efs);
        fs.closeSync(fd);
      }),
    });
  }
  fs.rmSync(out, { recursive: true, force: true });

  // ---- sequential read of one big file vs the image file itself ----
  const seq = `sequential read of one ${(bigSize / 2 ** 20).toFixed(0)} MiB file`;
  const k = mountTkl(img, true);
  const buf = new Uint8Array(1 << 20);
  const fd = k.sys.open('/mnt/img/big0.bin', 0);
  const tRead = await timeIt(() => {
    for (let pos = 0; pos < bigSize; ) pos += k.sys.pread64(fd, buf, buf.length, pos);
  }, 5);
  k.sys.close(fd);
  k.sys.umount2('/mnt/img', 0);
  rows.push({ case: seq, subject: 'tkl', value: bigSize / 2 ** 20 / tRead, unit: 'MiB/s', higherIsBetter: true, note: '1 MiB preads, warm page cache' });
  // The same bytes straight from the image: the file's own extents (debugfs tells where).
  const runs: [number, number][] = [];
  if (haveE2fs) {
    const ex = execFileSync('debugfs', ['-R', 'ex /big0.bin', img], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    for (const m of ex.matchAll(/^\s*\d+\/\s*\d+\s+\d+\/\s*\d+\s+\d+\s*-\s*\d+\s+(\d+)\s*-\s*(\d+)/gm)) runs.push([Number(m[1]) * 4096, (Number(m[2]) + 1) * 4096]);
  }
  if (runs.length === 0) runs.push([256 << 20, (256 << 20) + bigSize]);
  const hfd = fs.openSync(img, 'r');
  const tRaw = await timeIt(() => {
    for (const [from, to] of runs) for (let pos = from; pos < to; ) pos += fs.readSync(hfd, buf, 0, Math.min(buf.length, to - pos), pos);
  }, 5);
  fs.closeSync(hfd);
  rows.push({ case: seq, subject: 'raw image file (dd bs=1M)', value: bigSize / 2 ** 20 / tRaw, unit: 'MiB/s', higherIsBetter: true, note: 'the physical limit' });
  return rows;
}
