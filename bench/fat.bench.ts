// FAT benchmark: copying a 5,000-file tree (1–8 KiB files in 100 directories plus four
// large files) into a fresh FAT32 image and back out, tkl (through its API, in this
// process) side by side with mtools' `mcopy -s`. Each side formats its own image first
// (untimed): tkl with mkfsFat, mtools' with mkfs.fat.

import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readSync, writeSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext, BenchRow } from './harness.js';
import { timeIt } from './harness.js';
import { boot, type Tkl } from '../src/index.js';
import { fileDisk } from '../src/drivers/block/file_disk.js';
import { mkfsFat } from '../src/fs/fat/mkfs.js';
import { DT_DIR } from '../src/abi/linux/stat.js';
import { AT_FDCWD, O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY } from '../src/abi/linux/fcntl.js';

const MIB = 1024 * 1024;

function makeTree(root: string, scale: number): { files: number; bytes: number } {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 4294967296;
  };
  const dirs = Math.max(5, Math.round(100 * scale));
  const perDir = 50;
  let files = 0;
  let bytes = 0;
  const pool = Buffer.alloc(8192);
  for (let i = 0; i < pool.length; i++) pool[i] = Math.floor(rnd() * 256);
  for (let d = 0; d < dirs; d++) {
    const dir = join(root, `directory ${d}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < perDir; f++) {
      const size = 1024 + Math.floor(rnd() * 7 * 1024);
      writeFileSync(join(dir, `file number ${f}.dat`), pool.subarray(0, size));
      files++;
      bytes += size;
    }
  }
  const big = Math.max(1, Math.round(64 * scale)) * MIB;
  const chunk = Buffer.alloc(big);
  for (let i = 0; i < chunk.length; i += 4096) chunk[i] = i & 0xff;
  for (let i = 0; i < 4; i++) {
    writeFileSync(join(root, `large ${i}.bin`), chunk);
    files++;
    bytes += big;
  }
  return { files, bytes };
}

/** One buffer for every copy: large files move through it in 1 MiB pieces, as `cp` does. */
const CHUNK = Buffer.alloc(MIB);

function copyIn(k: Tkl, from: string, to: string): void {
  for (const ent of readdirSync(from, { withFileTypes: true })) {
    const hp = join(from, ent.name);
    const tp = `${to}/${ent.name}`;
    if (ent.isDirectory()) {
      k.sys.mkdir(tp, 0o755);
      copyIn(k, hp, tp);
      continue;
    }
    const src = openSync(hp, 'r');
    const dst = k.sys.openat(AT_FDCWD, tp, O_WRONLY | O_CREAT | O_TRUNC, 0o644);
    for (let pos = 0; ; ) {
      const n = readSync(src, CHUNK, 0, CHUNK.length, pos);
      if (n === 0) break;
      k.sys.pwrite64(dst, CHUNK, n, pos);
      pos += n;
    }
    k.sys.close(dst);
    closeSync(src);
  }
}

function copyOut(k: Tkl, from: string, to: string): void {
  for (const e of k.fs.entries(from)) {
    if (e.name === '.' || e.name === '..') continue;
    const tp = `${from}/${e.name}`;
    const hp = join(to, e.name);
    if (e.type === DT_DIR) {
      mkdirSync(hp);
      copyOut(k, tp, hp);
      continue;
    }
    const src = k.sys.openat(AT_FDCWD, tp, O_RDONLY);
    const dst = openSync(hp, 'w');
    for (let pos = 0; ; ) {
      const n = k.sys.pread64(src, CHUNK, CHUNK.length, pos);
      if (n === 0) break;
      writeSync(dst, CHUNK, 0, n, pos);
      pos += n;
    }
    closeSync(dst);
    k.sys.close(src);
  }
}

function sparse(path: string, size: number): void {
  rmSync(path, { force: true });
  writeFileSync(path, '');
  truncateSync(path, size);
}

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' }, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  // Trees and images live on tmpfs where there is one: this machine's disk is slow and erratic
  // for writes (cp -r of the tree takes 2–7 s), which would drown what the tools themselves do.
  const shm = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/tkl-bench-fat-') : null;
  try {
    return await runIn(ctx, shm ?? ctx.tmpdir, shm !== null);
  } finally {
    if (shm !== null) rmSync(shm, { recursive: true, force: true });
  }
}

async function runIn(ctx: BenchContext, base: string, onTmpfs: boolean): Promise<BenchRow[]> {
  const src = join(base, 'src');
  const { files, bytes } = makeTree(src, ctx.scale);
  const note = `${files} files, ${(bytes / MIB).toFixed(0)} MiB, FAT32 image of 1 GiB${onTmpfs ? ', all on tmpfs' : ''}`;
  ctx.log(`tree: ${note}`);
  const rows: BenchRow[] = [];
  const imgSize = 1024 * MIB;
  const topLevel = readdirSync(src).map((n) => join(src, n));

  // Each side runs twice on fresh images and directories (best of two), after a host sync so
  // neither pays for the other's page-cache writeback.
  let tIn = Infinity;
  let tOut = Infinity;
  let mIn = Infinity;
  let mOut = Infinity;
  const reps = ctx.scale < 1 ? 1 : 2;
  for (let rep = 0; rep < reps; rep++) {
    const theirs = join(base, `mtools-${rep}.img`);
    sparse(theirs, imgSize);
    sh('mkfs.fat', ['-F', '32', theirs]);
    sh('sync', []);
    mIn = Math.min(mIn, await timeIt(() => sh('mcopy', ['-s', '-i', theirs, ...topLevel, '::/'])));
    sh('sync', []);
    const outM = join(base, `out-mtools-${rep}`);
    mkdirSync(outM);
    mOut = Math.min(mOut, await timeIt(() => sh('mcopy', ['-s', '-n', '-i', theirs, '::/*', outM])));

    const ours = join(base, `tkl-${rep}.img`);
    sparse(ours, imgSize);
    const d = fileDisk(ours);
    mkfsFat(d, { type: 32 });
    d.close();
    sh('sync', []);
    tIn = Math.min(tIn, await timeIt(() => {
      const k = boot();
      k.fs.mkdir('/mnt/fat');
      k.sys.mount(k.addDisk(fileDisk(ours)), '/mnt/fat', 'vfat', 0, '');
      copyIn(k, src, '/mnt/fat');
      k.sys.umount2('/mnt/fat');
    }));
    sh('sync', []);
    const outTkl = join(base, `out-tkl-${rep}`);
    tOut = Math.min(tOut, await timeIt(() => {
      mkdirSync(outTkl);
      const k = boot();
      k.fs.mkdir('/mnt/fat');
      k.sys.mount(k.addDisk(fileDisk(ours, { readOnly: true })), '/mnt/fat', 'vfat', 1, '');
      copyOut(k, '/mnt/fat', outTkl);
      k.sys.umount2('/mnt/fat');
    }));
    // Both copies out must be the tree that went in (spot check: one small file, one large).
    for (const rel of ['directory 0/file number 7.dat', 'large 3.bin']) {
      const want = readFileSync(join(src, rel));
      if (!readFileSync(join(outTkl, rel)).equals(want) || !readFileSync(join(outM, rel)).equals(want)) throw new Error(`copy out differs: ${rel}`);
    }
    for (const p of [theirs, ours, outM, outTkl]) rmSync(p, { recursive: true, force: true });
  }

  rows.push({ case: 'copy tree into FAT32 image', subject: 'tkl', value: tIn, unit: 's', higherIsBetter: false, note: `${note}; tkl's time includes the fsync at umount` });
  rows.push({ case: 'copy tree into FAT32 image', subject: 'mcopy -s (mtools)', value: mIn, unit: 's', higherIsBetter: false });
  rows.push({ case: 'copy tree out of FAT32 image', subject: 'tkl', value: tOut, unit: 's', higherIsBetter: false });
  rows.push({ case: 'copy tree out of FAT32 image', subject: 'mcopy -s (mtools)', value: mOut, unit: 's', higherIsBetter: false });
  return rows;
}
