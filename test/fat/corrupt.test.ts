// Corrupt FAT volumes: a seeded mutator flips bytes in the boot sector, the FATs and the
// directories of a small volume; mounting, walking and reading must then either work or
// fail with an Errno (EUCLEAN/EINVAL/EIO naming what is wrong) — never a JavaScript error,
// a hang or a huge allocation. TKL_SOAK=1 runs many more cases.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot, type Tkl } from '../../src/index.js';
import { memoryDisk } from '../../src/drivers/block/memory_disk.js';
import { SimHost } from '../../src/host/sim/sim_host.js';
import { mkfsFat } from '../../src/fs/fat/mkfs.js';
import { Errno } from '../../src/kernel/errno.js';
import { DT_DIR } from '../../src/abi/linux/stat.js';
import { rng } from './fat_tools.js';

const MIB = 1024 * 1024;
const CASES = process.env.TKL_SOAK === '1' ? 20000 : 600;

/** A small populated volume's bytes and where its metadata ends. */
function template(fat: 12 | 16 | 32): { bytes: Uint8Array; metaEnd: number } {
  const d = memoryDisk(fat === 32 ? 34 * MIB : fat === 16 ? 4 * MIB : MIB);
  const l = mkfsFat(d, { type: fat, clusterSize: 512, volumeId: 1, now: new Date(0) });
  const k = boot({ host: new SimHost({ seed: 1 }) });
  k.fs.mkdir('/m');
  k.sys.mount(k.addDisk(d), '/m', 'vfat', 0, '');
  k.fs.mkdir('/m/dir one/two', { recursive: true });
  for (let i = 0; i < 30; i++) k.fs.writeFile(`/m/dir one/file with a long name ${i}.txt`, 'x'.repeat(i * 50));
  k.fs.writeFile('/m/dir one/two/big', new Uint8Array(20000).fill(3));
  k.sys.umount2('/m');
  const dataStart = (l.reservedSectors + 2 * l.fatSectors) * 512 + l.rootEntries * 32;
  // Metadata plus the first data clusters, where the directories are.
  return { bytes: d.bytes, metaEnd: dataStart + 64 * 512 };
}

/** Directory levels no mutated volume can legitimately have (the template is 3 deep). */
const TOO_DEEP = 64;

/**
 * Reads every file and directory beneath `path`, with no depth limit of its own: a directory
 * that loops back must be reported by the driver (EUCLEAN), or this fails on its depth.
 */
function walk(k: Tkl, path: string): void {
  const todo: [string, number][] = [[path, 0]];
  for (let x = todo.pop(); x !== undefined; x = todo.pop()) {
    const [dir, depth] = x;
    assert.ok(depth < TOO_DEEP, `walked ${depth} levels down to ${dir.slice(0, 200)}…: a directory loop went unnoticed`);
    for (const e of k.fs.entries(dir)) {
      if (e.name === '.' || e.name === '..') continue;
      const p = `${dir}/${e.name}`;
      if (e.type === DT_DIR) todo.push([p, depth + 1]);
      else k.fs.readFile(p);
    }
  }
}

test(`mutated FAT volumes give errors, never crashes (${CASES} cases)`, { timeout: 600_000 }, () => {
  const templates = ([12, 16, 32] as const).map(template);
  const r = rng(Number(process.env.TKL_SEED ?? 4242));
  let errors = 0;
  for (let i = 0; i < CASES; i++) {
    const t = templates[i % 3]!;
    const bytes = t.bytes.slice();
    const flips = 1 + Math.floor(r() * 8);
    for (let f = 0; f < flips; f++) {
      const at = Math.floor(r() * t.metaEnd);
      bytes[at] = r() < 0.5 ? Math.floor(r() * 256) : bytes[at]! ^ (1 << Math.floor(r() * 8));
    }
    const k = boot({ host: new SimHost({ seed: i }) });
    k.fs.mkdir('/m');
    const dev = k.addDisk(memoryDisk(bytes));
    try {
      k.sys.mount(dev, '/m', 'vfat', 0, '');
      walk(k, '/m');
      k.fs.writeFile('/m/new file after corruption', 'y');
      k.sys.umount2('/m');
    } catch (e) {
      if (e instanceof assert.AssertionError) throw new Error(`case ${i}: ${e.message}`);
      const ok = e instanceof Errno || (e as { code?: string }).code?.startsWith('E');
      assert.ok(ok, `case ${i}: ${(e as Error).stack}`);
      errors++;
    }
  }
  // The mutator must actually hit something.
  assert.ok(errors > 0);
});

/** Offset of the short entry named `name11` (11 bytes, padded) with the directory attribute. */
function findDirEntry(bytes: Uint8Array, name11: string, from: number): number {
  const want = Buffer.from(name11, 'latin1');
  for (let at = from; at + 32 <= bytes.length; at += 32) {
    if (Buffer.from(bytes.subarray(at, at + 11)).equals(want) && bytes[at + 11]! & 0x10) return at;
  }
  throw new Error(`no directory entry ${name11}`);
}

const clusterOf = (b: Uint8Array, at: number): number => (b[at + 20]! | (b[at + 21]! << 8)) * 0x10000 + (b[at + 26]! | (b[at + 27]! << 8));
function setCluster(b: Uint8Array, at: number, c: number): void {
  b[at + 20] = (c >>> 16) & 0xff;
  b[at + 21] = c >>> 24;
  b[at + 26] = c & 0xff;
  b[at + 27] = (c >>> 8) & 0xff;
}

/** /LOOPA/LOOPB/LOOPC with a file in each, on a FAT32 or FAT16 volume: its bytes and layout. */
function loopTemplate(fat: 16 | 32): { bytes: Uint8Array; dataStart: number; fatStart: number; fatBytes: number } {
  const d = memoryDisk(fat === 32 ? 34 * MIB : 8 * MIB);
  const l = mkfsFat(d, { type: fat, clusterSize: 512, volumeId: 1, now: new Date(0) });
  const k = boot({ host: new SimHost({ seed: 1 }) });
  k.fs.mkdir('/m');
  k.sys.mount(k.addDisk(d), '/m', 'vfat', 0, '');
  k.fs.mkdir('/m/LOOPA/LOOPB/LOOPC', { recursive: true });
  for (const p of ['/m/top.txt', '/m/LOOPA/a.txt', '/m/LOOPA/LOOPB/b.txt', '/m/LOOPA/LOOPB/LOOPC/c.txt']) k.fs.writeFile(p, 'x'.repeat(1500));
  k.sys.umount2('/m');
  const fatStart = l.reservedSectors * 512;
  return { bytes: d.bytes, dataStart: (l.reservedSectors + 2 * l.fatSectors) * 512 + l.rootEntries * 32, fatStart, fatBytes: l.fatSectors * 512 };
}

function mountBytes(bytes: Uint8Array): Tkl {
  const k = boot({ host: new SimHost({ seed: 2 }) });
  k.fs.mkdir('/m');
  k.sys.mount(k.addDisk(memoryDisk(bytes)), '/m', 'vfat', 0, '');
  return k;
}

function failure(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    return { code: (e as { code: string }).code, message: (e as Error).message };
  }
  assert.fail('no error');
}

test('a directory whose cluster is an ancestor\'s is EUCLEAN on lookup; the rest of the tree reads', () => {
  for (const fat of [32, 16] as const) {
    const t = loopTemplate(fat);
    const a = findDirEntry(t.bytes, 'LOOPA      ', 0);
    const b = findDirEntry(t.bytes, 'LOOPB      ', t.dataStart);
    const c = findDirEntry(t.bytes, 'LOOPC      ', t.dataStart);
    const cases: [string, number, number, string][] = [
      ['/m/LOOPA/LOOPB', b, clusterOf(t.bytes, a), 'LOOPB'], // to its parent
      ['/m/LOOPA/LOOPB/LOOPC', c, clusterOf(t.bytes, a), 'LOOPC'], // to its grandparent
      ['/m/LOOPA/LOOPB/LOOPC', c, clusterOf(t.bytes, b), 'LOOPC'], // to its parent, one level down
    ];
    // FAT32's root is a cluster chain like any directory: an entry can point back at it.
    if (fat === 32) cases.push(['/m/LOOPA', a, 2, 'LOOPA']);
    for (const [path, at, to, name] of cases) {
      const bytes = t.bytes.slice();
      setCluster(bytes, at, to);
      const k = mountBytes(bytes);
      const parent = path.slice(0, path.lastIndexOf('/'));
      assert.ok(k.fs.readdir(parent).includes(name), 'the entry is still listed');
      const f = failure(() => k.sys.lstat(path));
      assert.equal(f.code, 'EUCLEAN', `FAT${fat} ${path} → cluster ${to}`);
      assert.match(f.message, new RegExp(`directory '${name}' \\(cluster ${to}\\) loops back to an ancestor`));
      assert.equal(failure(() => k.fs.readdir(`${path}/x`)).code, 'EUCLEAN');
      assert.equal(k.fs.readFile('/m/top.txt', 'utf8'), 'x'.repeat(1500));
      if (path !== '/m/LOOPA') assert.equal(k.fs.readFile('/m/LOOPA/a.txt', 'utf8').length, 1500);
      // The unbounded walk stops at the loop with the driver's error, not by going deeper.
      assert.equal(failure(() => walk(k, '/m')).code, 'EUCLEAN');
      k.sys.umount2('/m');
    }
  }
});

test('cluster chains that loop (a directory\'s, a file\'s) are EUCLEAN', () => {
  const t = loopTemplate(32);
  const setFat = (bytes: Uint8Array, c: number, v: number): void => {
    for (const base of [t.fatStart, t.fatStart + t.fatBytes]) new DataView(bytes.buffer).setUint32(base + c * 4, v, true);
  };
  const getFat = (c: number): number => new DataView(t.bytes.buffer).getUint32(t.fatStart + c * 4, true) & 0x0fffffff;
  // A directory of one cluster whose FAT entry points at itself.
  let bytes = t.bytes.slice();
  const b = clusterOf(bytes, findDirEntry(bytes, 'LOOPB      ', t.dataStart));
  setFat(bytes, b, b);
  let k = mountBytes(bytes);
  const f = failure(() => k.fs.readdir('/m/LOOPA/LOOPB'));
  assert.equal(f.code, 'EUCLEAN');
  assert.match(f.message, /cluster chain loops/);
  k.sys.umount2('/m');
  // A file of three clusters whose last points back at its first.
  bytes = t.bytes.slice();
  const first = clusterOfFile(bytes, 'TOP     TXT');
  const second = getFat(first);
  const third = getFat(second);
  assert.ok(getFat(third) >= 0x0ffffff8, 'three clusters');
  setFat(bytes, third, first);
  k = mountBytes(bytes);
  const g = failure(() => k.fs.readFile('/m/top.txt'));
  assert.equal(g.code, 'EUCLEAN');
  assert.match(g.message, /cluster chain loops/);
  k.sys.umount2('/m');
});

function clusterOfFile(bytes: Uint8Array, name11: string): number {
  const want = Buffer.from(name11, 'latin1');
  for (let at = 0; at + 32 <= bytes.length; at += 32) {
    if (Buffer.from(bytes.subarray(at, at + 11)).equals(want) && !(bytes[at + 11]! & 0x10)) return clusterOf(bytes, at);
  }
  throw new Error(`no entry ${name11}`);
}
