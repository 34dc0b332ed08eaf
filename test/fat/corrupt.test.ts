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

function walk(k: Tkl, path: string, depth: number): void {
  if (depth > 6) return;
  for (const e of k.fs.entries(path)) {
    if (e.name === '.' || e.name === '..') continue;
    const p = `${path}/${e.name}`;
    if (e.type === DT_DIR) walk(k, p, depth + 1);
    else k.fs.readFile(p);
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
      walk(k, '/m', 0);
      k.fs.writeFile('/m/new file after corruption', 'y');
      k.sys.umount2('/m');
    } catch (e) {
      const ok = e instanceof Errno || (e as { code?: string }).code?.startsWith('E');
      assert.ok(ok, `case ${i}: ${(e as Error).stack}`);
      errors++;
    }
  }
  // The mutator must actually hit something.
  assert.ok(errors > 0);
});
