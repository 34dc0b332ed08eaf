// Disks and their partitions as device nodes: addDisk registers /dev/vda and /dev/vda1, …
// with virtio-blk's numbering, and the nodes open as files (raw, unaligned I/O through the
// syscalls, as on Linux). Also the file-backed device's sparse and read-only behaviour.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { statSync, readFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { boot } from '../../src/index.js';
import { SimHost } from '../../src/host/sim/sim_host.js';
import { memoryDisk } from '../../src/drivers/block/memory_disk.js';
import { fileDisk } from '../../src/drivers/block/file_disk.js';
import { writeGpt } from '../../src/block/gpt.js';
import { writeMbr } from '../../src/block/mbr.js';
import { O_RDONLY, O_RDWR, AT_FDCWD, SEEK_END, SEEK_SET, SEEK_HOLE, SEEK_DATA, S_IFBLK, S_IFMT } from '../../src/abi/linux/index.js';
import { major, minor } from '../../src/abi/linux/limits.js';
import { code, sparseImage, tempDir } from './tools.js';
import type { BlockDevice } from '../../src/block/block_device.js';

const MIB = 1024 * 1024;


test('addDisk registers partitions as /dev/vdaN with minors index*16 + N', () => {
  const k = boot({ host: new SimHost({ seed: 1 }) });
  const d1 = memoryDisk(32 * MIB);
  writeGpt(d1, [{ size: 4 * MIB }, { size: 4 * MIB }, { name: 'last' }]);
  const d2 = memoryDisk(32 * MIB);
  writeMbr(d2, [{ size: 4 * MIB }, { size: 4 * MIB, logical: true }, { logical: true }]);
  assert.equal(k.addDisk(d1), '/dev/vda');
  assert.equal(k.addDisk(d2), '/dev/vdb');
  assert.equal(k.addDisk(memoryDisk(MIB)), '/dev/vdc');
  const names = k.fs.readdir('/dev').filter((n) => n.startsWith('vd')).sort();
  assert.deepEqual(names, ['vda', 'vda1', 'vda2', 'vda3', 'vdb', 'vdb1', 'vdb2', 'vdb5', 'vdb6', 'vdc']);
  for (const [n, min] of [['vda', 0], ['vda3', 3], ['vdb', 16], ['vdb5', 21], ['vdc', 32]] as const) {
    const st = k.sys.stat(`/dev/${n}`);
    assert.equal(st.mode & S_IFMT, S_IFBLK);
    assert.equal(major(st.rdev), 254);
    assert.equal(minor(st.rdev), min);
  }
});

test('more than 15 partitions: the rest get major 259 (blkext), as on Linux', () => {
  const k = boot({ host: new SimHost({ seed: 1 }) });
  const d = memoryDisk(64 * MIB);
  writeGpt(d, Array.from({ length: 17 }, () => ({ size: MIB })));
  k.addDisk(d);
  assert.equal(major(k.sys.stat('/dev/vda15').rdev), 254);
  assert.equal(major(k.sys.stat('/dev/vda16').rdev), 259);
  assert.equal(minor(k.sys.stat('/dev/vda17').rdev), 1);
});

test('a corrupt table leaves the whole disk usable and says why on the console', () => {
  const sim = new SimHost({ seed: 1 });
  const k = boot({ host: sim });
  const d = memoryDisk(16 * MIB);
  writeGpt(d, [{ size: MIB }]);
  d.bytes[512 + 30] ^= 1; // primary header
  d.bytes[d.bytes.length - 512 + 30] ^= 1; // backup header
  k.addDisk(d);
  assert.deepEqual(k.fs.readdir('/dev').filter((n) => n.startsWith('vd')), ['vda']);
  assert.match(sim.consoleLog.join(''), /vda: partition table not used: .*gpt: the primary header is bad/);
  const d2 = memoryDisk(16 * MIB);
  writeGpt(d2, [{ size: MIB }]);
  d2.bytes[512 + 30] ^= 1;
  k.addDisk(d2);
  assert.ok(k.fs.exists('/dev/vdb1'));
  assert.match(sim.consoleLog.join(''), /vdb: the primary GPT header is bad .*using the backup header/);
});

test('raw read/write/pread/pwrite/lseek on /dev/vda1 with unaligned offsets', async () => {
  const k = boot({ host: new SimHost({ seed: 1 }) });
  const d = memoryDisk(16 * MIB);
  const t = writeMbr(d, [{ size: 4 * MIB }, { size: 4 * MIB }]);
  const p2 = t.partitions[1]!;
  k.addDisk(d);
  const fd = k.sys.openat(AT_FDCWD, '/dev/vda2', O_RDWR);
  assert.equal(k.sys.lseek(fd, 0, SEEK_END), 4 * MIB);
  // An unaligned write crossing sector boundaries lands exactly there, neighbours untouched.
  const data = new Uint8Array(3000).map((_, i) => (i * 7 + 1) & 0xff);
  d.bytes.fill(0xee, p2.start, p2.start + 8192);
  assert.equal(k.sys.pwrite64(fd, data, data.length, 1001), 3000);
  assert.deepEqual(d.bytes.subarray(p2.start + 1001, p2.start + 4001), data);
  assert.equal(d.bytes[p2.start + 1000], 0xee);
  assert.equal(d.bytes[p2.start + 4001], 0xee);
  const back = new Uint8Array(3002);
  assert.equal(k.sys.pread64(fd, back, 3002, 1000), 3002);
  assert.equal(back[0], 0xee);
  assert.deepEqual(back.subarray(1, 3001), data);
  // Small write inside one sector; read() and write() at the file position.
  k.sys.lseek(fd, 5, SEEK_SET);
  assert.equal(await k.sys.write(fd, new Uint8Array([1, 2, 3])), 3);
  assert.deepEqual([...d.bytes.subarray(p2.start + 5, p2.start + 8)], [1, 2, 3]);
  k.sys.lseek(fd, 4, SEEK_SET);
  const b4 = new Uint8Array(4);
  assert.equal(await k.sys.read(fd, b4), 4);
  assert.deepEqual([...b4], [0xee, 1, 2, 3]);
  // The end of the device: reads stop, writes are short then ENOSPC, seeks past it EINVAL.
  assert.equal(k.sys.pread64(fd, new Uint8Array(10), 10, 4 * MIB), 0);
  assert.equal(k.sys.pread64(fd, new Uint8Array(10), 10, 4 * MIB - 3), 3);
  assert.equal(k.sys.pwrite64(fd, new Uint8Array(10).fill(9), 10, 4 * MIB - 4), 4);
  assert.equal(d.bytes[p2.start + 4 * MIB - 1], 9);
  assert.equal(d.bytes[p2.start + 4 * MIB], 0, 'nothing written past the partition');
  assert.equal(code(() => k.sys.pwrite64(fd, new Uint8Array(10), 10, 4 * MIB)), 'ENOSPC');
  assert.equal(code(() => k.sys.lseek(fd, 4 * MIB + 1, SEEK_SET)), 'EINVAL');
  assert.equal(k.sys.lseek(fd, 100, SEEK_HOLE), 4 * MIB);
  assert.equal(k.sys.lseek(fd, 100, SEEK_DATA), 100);
  k.sys.fsync(fd);
  k.sys.close(fd);
  // The whole disk sees the partition's bytes at the partition's offset.
  const whole = k.sys.openat(AT_FDCWD, '/dev/vda', O_RDONLY);
  const w = new Uint8Array(3000);
  k.sys.pread64(whole, w, 3000, p2.start + 1001);
  assert.deepEqual(w, data);
  assert.equal(k.sys.lseek(whole, 0, SEEK_END), 16 * MIB);
  k.sys.close(whole);
});

test('a read-only disk opens for writing but writes fail with EPERM, as on Linux', () => {
  const k = boot({ host: new SimHost({ seed: 1 }) });
  k.addDisk(memoryDisk(MIB, { readOnly: true }));
  const fd = k.sys.openat(AT_FDCWD, '/dev/vda', O_RDWR);
  assert.equal(code(() => k.sys.pwrite64(fd, new Uint8Array(1), 1, 0)), 'EPERM');
  k.sys.close(fd);
});

test('fileDisk keeps a sparse image sparse and has no discard (Node cannot punch holes)', () => {
  const { dir, cleanup } = tempDir();
  try {
    const img = sparseImage(dir, 'sparse.img', 256 * MIB);
    const d = fileDisk(img);
    d.write(128 * MIB, new Uint8Array(4096).fill(1));
    d.flush();
    d.close();
    const st = statSync(img);
    assert.equal(st.size, 256 * MIB);
    assert.ok(st.blocks * 512 <= 64 * 1024, `image allocates ${st.blocks * 512} bytes`);
    assert.equal((d as BlockDevice).discard, undefined);
  } finally {
    cleanup();
  }
});

test('fileDisk opens read-only when asked, and when the file is not writable', () => {
  const { dir, cleanup } = tempDir();
  try {
    const img = sparseImage(dir, 'ro.img', MIB);
    const ro = fileDisk(img, { readOnly: true });
    assert.equal(ro.readOnly, true);
    assert.equal(code(() => ro.write(0, new Uint8Array(512))), 'EROFS');
    ro.close();
    chmodSync(img, 0o444);
    chmodSync(dir, 0o755);
    // Root may write any file; the not-writable case is checked as an unprivileged user.
    const script = `import(${JSON.stringify(new URL('../../src/drivers/block/file_disk.js', import.meta.url).href)}).then((m) => {
      const d = m.fileDisk(${JSON.stringify(img)});
      let c = 'none'; try { d.write(0, new Uint8Array(512)); } catch (e) { c = e.code; }
      console.log(JSON.stringify({ readOnly: d.readOnly, code: c }));
    })`;
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', ...asNobody });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { readOnly: true, code: 'EROFS' });
    assert.deepEqual([...readFileSync(join(dir, 'ro.img')).subarray(0, 4)], [0, 0, 0, 0]);
  } finally {
    cleanup();
  }
});
