// FAT benchmark: copying a 5,000-file tree (1–8 KiB files in 100 directories plus four
// large files) into a fresh FAT32 image and back out, tkl (through its API, in this
// process) side by side with mtools' `mcopy -s`. Each side formats its own image first
// (untimed): tkl with mkfsFat, mtools' with mkfs.fat.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext, BenchRow } from './harness.js';
import { timeIt } from './harness.js';
import { boot, type Tkl } from '../src/index.js';
import { fileDisk } from '../src/drivers/block/file_disk.js';
import { mkfsFat } from '../src/fs/fat/mkfs.js';
import { DT_DIR } from '../src/abi/linux/stat.js';

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

function copyIn(k: Tkl, from: string, to: string): void {
  for (const name of readdirSync(from)) {
    const hp = join(from, name);
    if (statSync(hp).isDirectory()) {
      k.fs.mkdir(`${to}/${name}`);
      copyIn(k, hp, `${to}/${name}`);
    } else k.fs.writeFile(`${to}/${name}`, readFileSync(hp));
  }
}

function copyOut(k: Tkl, from: string, to: string): void {
  for (const e of k.fs.entries(from)) {
    const tp = `${from}/${e.name}`;
    const hp = join(to, e.name);
    if (e.name === '.' || e.name === '..') continue;
    if (e.type === DT_DIR) {
      mkdirSync(hp);
      copyOut(k, tp, hp);
    } else writeFileSync(hp, k.fs.readFile(tp));
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
  const src = join(ctx.tmpdir, 'src');
  const { files, bytes } = makeTree(src, ctx.scale);
  const note = `${files} files, ${(bytes / MIB).toFixed(0)} MiB, FAT32 image of 1 GiB`;
  ctx.log(`tree: ${note}`);
  const rows: BenchRow[] = [];
  const imgSize = 1024 * MIB;
  const topLevel = readdirSync(src).map((n) => join(src, n));

  // tkl
  const ours = join(ctx.tmpdir, 'tkl.img');
  sparse(ours, imgSize);
  {
    const d = fileDisk(ours);
    mkfsFat(d, { type: 32 });
    d.close();
  }
  const tIn = await timeIt(() => {
    const k = boot();
    k.fs.mkdir('/mnt/fat');
    k.sys.mount(k.addDisk(fileDisk(ours)), '/mnt/fat', 'vfat', 0, '');
    copyIn(k, src, '/mnt/fat');
    k.sys.umount2('/mnt/fat');
  });
  const outTkl = join(ctx.tmpdir, 'out-tkl');
  const tOut = await timeIt(() => {
    mkdirSync(outTkl);
    const k = boot();
    k.fs.mkdir('/mnt/fat');
    k.sys.mount(k.addDisk(fileDisk(ours, { readOnly: true })), '/mnt/fat', 'vfat', 1, '');
    copyOut(k, '/mnt/fat', outTkl);
    k.sys.umount2('/mnt/fat');
  });

  // mtools
  const theirs = join(ctx.tmpdir, 'mtools.img');
  sparse(theirs, imgSize);
  sh('mkfs.fat', ['-F', '32', theirs]);
  const mIn = await timeIt(() => sh('mcopy', ['-s', '-i', theirs, ...topLevel, '::/']));
  const outM = join(ctx.tmpdir, 'out-mtools');
  mkdirSync(outM);
  const mOut = await timeIt(() => sh('mcopy', ['-s', '-n', '-i', theirs, '::/*', outM]));

  // Both copies out must be the tree that went in (spot check: one small file, one large).
  for (const rel of ['directory 0/file number 7.dat', 'large 3.bin']) {
    const want = readFileSync(join(src, rel));
    if (!readFileSync(join(outTkl, rel)).equals(want) || !readFileSync(join(outM, rel)).equals(want)) throw new Error(`copy out differs: ${rel}`);
  }

  rows.push({ case: 'copy tree into FAT32 image', subject: 'tkl', value: tIn, unit: 's', higherIsBetter: false, note });
  rows.push({ case: 'copy tree into FAT32 image', subject: 'mcopy -s (mtools)', value: mIn, unit: 's', higherIsBetter: false });
  rows.push({ case: 'copy tree out of FAT32 image', subject: 'tkl', value: tOut, unit: 's', higherIsBetter: false });
  rows.push({ case: 'copy tree out of FAT32 image', subject: 'mcopy -s (mtools)', value: mOut, unit: 's', higherIsBetter: false });
  return rows;
}
