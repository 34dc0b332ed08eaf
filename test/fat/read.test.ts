// FAT read: volumes made by mkfs.fat (FAT12, FAT16, FAT32) and filled by mcopy are read
// exactly: every name (long, Unicode, 8.3 in either case), type, size, content and mtime.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { boot } from '../../src/index.js';
import { fileDisk } from '../../src/drivers/block/file_disk.js';
import { memoryDisk } from '../../src/drivers/block/memory_disk.js';
import { SimHost } from '../../src/host/sim/sim_host.js';
import { MS_RDONLY } from '../../src/abi/linux/mount.js';
import { Errno } from '../../src/kernel/errno.js';
import { missingTools, run, sparseImage, tempDir } from '../block/tools.js';
import { assertSameTree, makeTree } from './fat_tools.js';

const MIB = 1024 * 1024;
const noTools = missingTools('mkfs.fat', 'mcopy', 'mdir');

for (const [fat, size, extra] of [[12, 4 * MIB, []], [16, 32 * MIB, []], [32, 80 * MIB, ['-s', '1']]] as const) {
  test(`reads a FAT${fat} volume made by mkfs.fat and filled by mcopy`, { skip: noTools ?? false }, () => {
    const { dir, cleanup } = tempDir();
    try {
      const src = join(dir, 'src');
      mkdirSync(src);
      makeTree(src, fat, { many: fat === 12 ? 60 : 200, bigSize: fat === 12 ? 100_000 : 700_000 });
      const img = sparseImage(dir, 'fat.img', size);
      run('mkfs.fat', ['-F', String(fat), ...extra, '-n', 'TESTVOL', img]);
      run('mcopy', ['-s', '-m', '-i', img, ...['Sub Dir', 'EMPTYDIR', 'many', 'big.bin'].map((n) => join(src, n)), '::/']);
      // The root's loose files one by one (mcopy -s of a glob would need a shell).
      const rootFiles = run('sh', ['-c', `cd '${src}' && ls -A`]).stdout.trim().split('\n')
        .filter((n) => !['Sub Dir', 'EMPTYDIR', 'many', 'big.bin'].includes(n));
      run('mcopy', ['-m', '-i', img, ...rootFiles.map((n) => join(src, n)), '::/']);
      const k = boot({ host: new SimHost({ seed: 1 }) });
      const dev = k.addDisk(fileDisk(img, { readOnly: true }));
      k.fs.mkdir('/mnt/fat');
      k.sys.mount(dev, '/mnt/fat', 'vfat', MS_RDONLY, '');
      assertSameTree(k, '/mnt/fat', src, { mtime: true });
      // Case-insensitive lookup finds long names and aliases alike, as Linux vfat.
      assert.equal(k.sys.stat('/mnt/fat/readme.txt').size, k.sys.stat('/mnt/fat/README.TXT').size);
      const statfs = k.sys.statfs('/mnt/fat');
      assert.equal(statfs.type, 0x4d44);
      k.sys.umount2('/mnt/fat');
    } finally {
      cleanup();
    }
  });
}

test('mount refuses what is not FAT (EINVAL) and corrupt FAT (EUCLEAN), never crashing', () => {
  const k = boot({ host: new SimHost({ seed: 1 }) });
  k.fs.mkdir('/mnt/x');
  const blank = k.addDisk(memoryDisk(MIB));
  assert.throws(() => k.sys.mount(blank, '/mnt/x', 'vfat', 0, ''), (e: unknown) => (e as Errno).code === 'EINVAL');
  // A boot sector claiming a volume larger than the device.
  const bytes = new Uint8Array(MIB);
  const dv = new DataView(bytes.buffer);
  bytes.set([0xeb, 0x3c, 0x90], 0);
  dv.setUint16(11, 512, true);
  bytes[13] = 4;
  dv.setUint16(14, 1, true);
  bytes[16] = 2;
  dv.setUint16(17, 512, true);
  dv.setUint16(19, 65000, true);
  bytes[21] = 0xf8;
  dv.setUint16(22, 16, true);
  bytes[510] = 0x55;
  bytes[511] = 0xaa;
  const big = k.addDisk(memoryDisk(bytes));
  assert.throws(() => k.sys.mount(big, '/mnt/x', 'vfat', 0, ''), (e: unknown) => (e as Errno).code === 'EUCLEAN' && /larger than the device/.test((e as Error).message));
  assert.throws(() => k.sys.mount(blank, '/mnt/x', 'vfat', 0, 'bogus=1'), (e: unknown) => (e as Errno).code === 'EINVAL');
});
