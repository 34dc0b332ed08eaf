// FAT write: volumes made and filled by tkl pass fsck.fat -n without a word and mtools reads
// them back exactly; mkfs chooses what mkfs.fat chooses; the operations FAT cannot do fail
// as on Linux's vfat; a full volume gives ENOSPC and stays consistent.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync, readdirSync, readFileSync, statSync, openSync, readSync, closeSync, existsSync, writeFileSync } from 'node:fs';
import { boot, type Tkl } from '../../src/index.js';
import { fileDisk } from '../../src/drivers/block/file_disk.js';
import { memoryDisk } from '../../src/drivers/block/memory_disk.js';
import { SimHost } from '../../src/host/sim/sim_host.js';
import { mkfsFat } from '../../src/fs/fat/mkfs.js';
import { writeGpt } from '../../src/block/gpt.js';
import { writeMbr } from '../../src/block/mbr.js';
import { openPartition } from '../../src/block/partition_table.js';
import { S_IFIFO, AT_FDCWD, RENAME_EXCHANGE, O_CREAT, O_WRONLY } from '../../src/abi/linux/index.js';
import { code, missingLoop, missingTools, run, sparseImage, tempDir } from '../block/tools.js';
import { assertFsckClean, assertSameHostTrees, makeTree } from './fat_tools.js';
import type { FatSuper } from '../../src/fs/fat/super.js';

const MIB = 1024 * 1024;
const noTools = missingTools('fsck.fat', 'mcopy', 'mdir', 'mkfs.fat');


/** Copies a host tree into tkl at `to`. */
function copyIn(k: Tkl, from: string, to: string): void {
  for (const name of readdirSync(from)) {
    const hp = join(from, name);
    if (statSync(hp).isDirectory()) {
      k.fs.mkdir(`${to}/${name}`);
      copyIn(k, hp, `${to}/${name}`);
    } else k.fs.writeFile(`${to}/${name}`, readFileSync(hp));
  }
}

function mountImage(img: string, opts = ''): { k: Tkl; sim: SimHost } {
  const sim = new SimHost({ seed: 3, epochNs: BigInt(Date.UTC(2024, 2, 5, 10, 20, 31)) * 1_000_000n + 370_000_000n });
  const k = boot({ host: sim });
  const dev = k.addDisk(fileDisk(img));
  k.fs.mkdir('/mnt/fat');
  k.sys.mount(dev, '/mnt/fat', 'vfat', 0, opts);
  return { k, sim };
}

for (const [fat, size] of [[12, 4 * MIB], [16, 48 * MIB], [32, 600 * MIB]] as const) {
  test(`FAT${fat} made and filled by tkl: fsck.fat -n finds nothing, mcopy reads it back exactly`, { skip: noTools ?? false }, () => {
    const { dir, cleanup } = tempDir();
    try {
      const src = join(dir, 'src');
      mkdirSync(src);
      makeTree(src, 100 + fat, { many: fat === 12 ? 80 : 400, bigSize: fat === 12 ? 200_000 : 3 * MIB });
      const img = sparseImage(dir, 'fat.img', size);
      const d = fileDisk(img);
      const layout = mkfsFat(d, { label: 'TKL VOL' });
      d.close();
      assert.equal(layout.type, fat);
      const { k } = mountImage(img);
      copyIn(k, src, '/mnt/fat');
      // Renames across directories and deletions leave holes that later creates reuse.
      k.fs.rename('/mnt/fat/Sub Dir/deeper', '/mnt/fat/moved deeper');
      k.fs.rename('/mnt/fat/moved deeper', '/mnt/fat/Sub Dir/deeper');
      for (let i = 0; i < 40; i += 3) k.fs.rm(`/mnt/fat/many/file ${i}.bin`);
      k.fs.writeFile('/mnt/fat/many/late arrival with a long name.bin', 'late');
      k.sys.umount2('/mnt/fat');
      assertFsckClean(img);
      const out = join(dir, 'out');
      mkdirSync(out);
      run('mcopy', ['-s', '-n', '-i', img, '::/*', out]);
      // The same edits on the host copy.
      for (let i = 0; i < 40; i += 3) run('rm', [join(src, 'many', `file ${i}.bin`)]);
      run('sh', ['-c', `printf late > '${join(src, 'many', 'late arrival with a long name.bin')}'`]);
      assertSameHostTrees(src, out);
      assert.match(run('mdir', ['-i', img, '::/']).stdout, /Volume in drive : is TKL VOL/);
      assert.equal(run('fatlabel', [img]).stdout.trim(), 'TKL VOL');
    } finally {
      cleanup();
    }
  });
}

test('mkfs picks the FAT type and cluster size mkfs.fat picks', { skip: missingTools('mkfs.fat', 'fsck.fat') ?? false }, () => {
  const { dir, cleanup } = tempDir();
  try {
    for (const size of [1, 4, 8, 16, 64, 200, 300, 511, 512, 2048, 9 * 1024]) {
      const theirs = sparseImage(dir, `theirs-${size}.img`, size * MIB);
      run('mkfs.fat', [theirs]);
      const b = Buffer.alloc(512);
      const fd = openSync(theirs, 'r');
      readSync(fd, b, 0, 512, 0);
      closeSync(fd);
      const ours = sparseImage(dir, `ours-${size}.img`, size * MIB);
      const d = fileDisk(ours);
      const l = mkfsFat(d);
      d.close();
      const theirType = b.readUInt16LE(22) === 0 ? 32 : b.toString('latin1', 54, 59) === 'FAT12' ? 12 : 16;
      assert.deepEqual({ size, type: l.type, cluster: l.clusterSize }, { size, type: theirType, cluster: b[13]! * 512 });
      assertFsckClean(ours);
      run('rm', [theirs, ours]);
    }
  } finally {
    cleanup();
  }
});

test('symlink, link, mknod, chown and xattrs fail as on Linux vfat', () => {
  const sim = new SimHost({ seed: 1 });
  const k = boot({ host: sim });
  const d = memoryDisk(8 * MIB);
  mkfsFat(d);
  k.fs.mkdir('/mnt/fat');
  k.sys.mount(k.addDisk(d), '/mnt/fat', 'vfat', 0, '');
  k.fs.writeFile('/mnt/fat/f', 'x');
  k.fs.writeFile('/mnt/fat/g', 'y');
  assert.equal(code(() => k.sys.symlink('f', '/mnt/fat/l')), 'EPERM');
  assert.equal(code(() => k.sys.link('/mnt/fat/f', '/mnt/fat/h')), 'EPERM');
  assert.equal(code(() => k.sys.mknod('/mnt/fat/p', S_IFIFO | 0o644, 0)), 'EPERM');
  assert.equal(code(() => k.sys.chown('/mnt/fat/f', 1000, -1)), 'EPERM');
  assert.equal(code(() => k.sys.chown('/mnt/fat/f', 0, 0)), 'no error');
  assert.equal(code(() => k.sys.setxattr('/mnt/fat/f', 'user.x', new Uint8Array(1), 0)), 'EOPNOTSUPP');
  // Names FAT cannot hold.
  assert.equal(code(() => k.fs.writeFile('/mnt/fat/a:b', '')), 'EINVAL');
  assert.equal(code(() => k.fs.writeFile('/mnt/fat/trailing ', '')), 'EINVAL');
  assert.equal(code(() => k.fs.writeFile(`/mnt/fat/${'n'.repeat(256)}`, '')), 'ENAMETOOLONG');
  // Case-insensitive: the same name in another case is the same file.
  assert.equal(code(() => k.sys.mkdir('/mnt/fat/F', 0o755)), 'EEXIST');
  k.sys.umount2('/mnt/fat');
});

for (const [fat, size] of [[16, 48 * MIB], [32, 600 * MIB]] as const) {
  test(`FAT${fat}: RENAME_EXCHANGE swaps two entries as Linux vfat (≥ 6.0) does; fsck.fat and mtools agree`, { skip: noTools ?? false }, () => {
    const { dir, cleanup } = tempDir();
    try {
      const img = sparseImage(dir, 'fat.img', size);
      const d = fileDisk(img);
      mkfsFat(d);
      d.close();
      const { k } = mountImage(img);
      const m = (p: string): string => `/mnt/fat${p}`;
      const xchg = (a: string, b: string): string => code(() => k.sys.renameat2(AT_FDCWD, m(a), AT_FDCWD, m(b), RENAME_EXCHANGE));
      const LONG = '/Second file with a long name.txt';
      k.fs.writeFile(m('/f.txt'), 'first');
      k.fs.writeFile(m(LONG), 'second, longer');
      k.fs.mkdir(m('/a/x/y'), { recursive: true });
      k.fs.writeFile(m('/a/inner.txt'), 'inner a');
      k.fs.mkdir(m('/b/sub'), { recursive: true });
      k.fs.writeFile(m('/b/sub/deep.txt'), 'deep');
      k.fs.writeFile(m('/b/plain.txt'), 'plain');
      const inoLong = k.sys.stat(m(LONG)).ino;

      // Two files in one directory: names stay, the inodes (contents, numbers) trade places.
      assert.equal(xchg('/f.txt', LONG), 'no error');
      assert.equal(k.fs.readFile(m('/f.txt'), 'utf8'), 'second, longer');
      assert.equal(k.fs.readFile(m(LONG), 'utf8'), 'first');
      assert.equal(k.sys.stat(m('/f.txt')).ino, inoLong);
      assert.equal(k.fs.entries('/mnt/fat').find((e) => e.name === 'f.txt')?.ino, inoLong, 'readdir agrees with stat');
      // A file and a directory in different directories: the parents' link counts follow.
      assert.equal(xchg('/a/inner.txt', '/b/sub'), 'no error');
      assert.equal(k.fs.readFile(m('/a/inner.txt/deep.txt'), 'utf8'), 'deep');
      assert.equal(k.fs.readFile(m('/b/sub'), 'utf8'), 'inner a');
      assert.equal(k.sys.stat(m('/a')).nlink, 4);
      assert.equal(k.sys.stat(m('/b')).nlink, 2);
      // Two directories at different depths: each ".." names its new parent.
      assert.equal(xchg('/a/x', '/b'), 'no error');
      assert.deepEqual(k.fs.readdir(m('/a/x')).sort(), ['plain.txt', 'sub']);
      assert.deepEqual(k.fs.readdir(m('/b')), ['y']);
      assert.equal(k.fs.readFile(m('/a/x/../inner.txt/deep.txt'), 'utf8'), 'deep');
      // Never into its own subtree, from either side; both names must exist.
      assert.equal(xchg('/a', '/a/x/sub'), 'EINVAL');
      assert.equal(xchg('/a/x/sub', '/a'), 'EINVAL');
      assert.equal(xchg('/f.txt', '/nothing'), 'ENOENT');
      k.sys.umount2('/mnt/fat');
      assertFsckClean(img);

      // What a fresh mount reads back (link counts from the disk) and what mtools sees.
      const again = mountImage(img).k;
      assert.equal(again.sys.stat(m('/a')).nlink, 4);
      assert.equal(again.sys.stat(m('/a/x')).nlink, 2);
      assert.equal(again.sys.stat(m('/b')).nlink, 3);
      again.sys.umount2('/mnt/fat');
      const want = join(dir, 'want');
      mkdirSync(join(want, 'a', 'inner.txt'), { recursive: true });
      mkdirSync(join(want, 'a', 'x'), { recursive: true });
      mkdirSync(join(want, 'b', 'y'), { recursive: true });
      writeFileSync(join(want, 'f.txt'), 'second, longer');
      writeFileSync(join(want, LONG.slice(1)), 'first');
      writeFileSync(join(want, 'a', 'inner.txt', 'deep.txt'), 'deep');
      writeFileSync(join(want, 'a', 'x', 'plain.txt'), 'plain');
      writeFileSync(join(want, 'a', 'x', 'sub'), 'inner a');
      const out = join(dir, 'out');
      mkdirSync(out);
      run('mcopy', ['-s', '-n', '-i', img, '::/*', out]);
      assertSameHostTrees(want, out);
      // mtools' own walk through ".." of a moved directory lands in its new parent.
      assert.match(run('mdir', ['-b', '-i', img, '::/a/x/../inner.txt']).stdout, /deep\.txt/i);
    } finally {
      cleanup();
    }
  });
}

/** The attribute letters mattrib prints for `path` (A, S, H, R in its fixed columns). */
function mattribOf(img: string, path: string): string {
  const line = run('mattrib', ['-i', img, `::${path}`]).stdout.split('\n')[0]!;
  return line.slice(0, 8).replace(/ /g, '');
}

// Linux's vfat cannot be loop-mounted on this machine (no vfat in the kernel), so these are
// checked against the behaviour documented for fs/fat/file.c's fat_setattr and
// fat_sanitize_mode_change: EPERM only for an owner change or setuid/setgid/sticky (nothing
// at all with `quiet`); a mode FAT cannot store is left as it was and the call succeeds; only
// the write bits reach the disk, as the read-only attribute (directories: only with `rodir`).
test('modes: umask/fmask/dmask/uid/gid; chmod as Linux vfat (unstorable modes ignored, EPERM only for owners and setuid)', { skip: missingTools('mattrib') ?? false }, () => {
  const { dir, cleanup } = tempDir();
  try {
    const img = sparseImage(dir, 'm.img', 8 * MIB);
    const d = fileDisk(img);
    mkfsFat(d);
    d.close();
    let { k } = mountImage(img, 'uid=1000,gid=100,fmask=0133,dmask=0022');
    k.fs.mkdir('/mnt/fat/d');
    k.fs.writeFile('/mnt/fat/d/f', 'x');
    const mode = (p: string): number => k.sys.stat(p).mode & 0o7777;
    // The mode given at creation is not stored (vfat_create ignores it): the file is writable.
    k.sys.close(k.sys.openat(AT_FDCWD, '/mnt/fat/d/made-0444', O_CREAT | O_WRONLY, 0o444));
    assert.equal(mode('/mnt/fat/d/made-0444'), 0o644);
    k.sys.unlink('/mnt/fat/d/made-0444');
    let st = k.sys.stat('/mnt/fat/d/f');
    assert.deepEqual([st.mode & 0o7777, st.uid, st.gid], [0o644, 1000, 100]);
    assert.equal(mode('/mnt/fat/d'), 0o755);
    k.sys.chmod('/mnt/fat/d/f', 0o444);
    assert.equal(mode('/mnt/fat/d/f'), 0o444, 'all write bits off: the read-only attribute');
    // Read or execute bits that differ, or some but not all write bits: succeeds, changes nothing.
    for (const m of [0o700, 0o400, 0o000, 0o111, 0o666 & ~0o040]) {
      assert.equal(k.sys.chmod('/mnt/fat/d/f', m), 0, `chmod ${m.toString(8)}`);
      assert.equal(mode('/mnt/fat/d/f'), 0o444, `chmod ${m.toString(8)} leaves the mode`);
    }
    k.sys.chmod('/mnt/fat/d/f', 0o755); // & ~fmask 0133 = 0644: r and x as they are, every write bit the mask allows
    assert.equal(mode('/mnt/fat/d/f'), 0o644);
    k.sys.chmod('/mnt/fat/d/f', 0o640);
    assert.equal(mode('/mnt/fat/d/f'), 0o644, 'some write bits: ignored');
    // What FAT cannot express at all, and other owners: EPERM.
    for (const m of [0o4644, 0o2644, 0o1644]) assert.equal(code(() => k.sys.chmod('/mnt/fat/d/f', m)), 'EPERM');
    assert.equal(code(() => k.sys.chown('/mnt/fat/d/f', 0, -1)), 'EPERM');
    assert.equal(code(() => k.sys.chown('/mnt/fat/d/f', -1, 0)), 'EPERM');
    assert.equal(k.sys.chown('/mnt/fat/d/f', 1000, 100), 0, 'the mount\'s own owner is fine');
    // A directory cannot hold the read-only attribute without rodir: a-w is ignored.
    assert.equal(k.sys.chmod('/mnt/fat/d', 0o555), 0);
    assert.equal(mode('/mnt/fat/d'), 0o755);
    // The mode is dropped but the rest of the same setattr (here the times) still applies.
    const sb = k.kernel.mountList.find((m) => m.sb.fsType.name === 'vfat')!.sb as FatSuper;
    const f = sb.root.lookup('d')!.lookup('f')!;
    f.setattr({ mode: 0o100700, mtime: { sec: 1_600_000_000, nsec: 0 }, atime: { sec: 1_600_000_000, nsec: 0 } });
    st = k.sys.stat('/mnt/fat/d/f');
    assert.deepEqual([st.mode & 0o7777, st.mtime.sec], [0o644, 1_600_000_000]);
    k.sys.chmod('/mnt/fat/d/f', 0o444);
    k.sys.umount2('/mnt/fat');
    // mtools sees the read-only attribute tkl set, and nothing on the directory.
    assert.equal(mattribOf(img, '/d/f'), 'AR');
    assert.equal(mattribOf(img, '/d'), '');
    ({ k } = mountImage(img, 'umask=077'));
    assert.equal(mode('/mnt/fat/d/f'), 0o500);
    assert.equal(mode('/mnt/fat/d'), 0o700);
    k.sys.umount2('/mnt/fat');
    // quiet: refused changes succeed and change nothing.
    ({ k } = mountImage(img, 'quiet'));
    assert.equal(k.sys.chmod('/mnt/fat/d/f', 0o4755), 0);
    assert.equal(k.sys.chown('/mnt/fat/d/f', 1234, 1234), 0);
    st = k.sys.stat('/mnt/fat/d/f');
    assert.deepEqual([st.mode & 0o7777, st.uid, st.gid], [0o555, 0, 0]);
    k.sys.umount2('/mnt/fat');
    // rodir: a directory's write bits become its read-only attribute, and back.
    ({ k } = mountImage(img, 'rodir'));
    k.sys.chmod('/mnt/fat/d', 0o555);
    assert.equal(mode('/mnt/fat/d'), 0o555);
    k.sys.umount2('/mnt/fat');
    assert.equal(mattribOf(img, '/d'), 'R');
    ({ k } = mountImage(img));
    assert.equal(mode('/mnt/fat/d'), 0o755, 'without rodir the attribute does not show');
    k.sys.utimensat(AT_FDCWD, '/mnt/fat/d', null, 0); // rewrites the entry: the attribute stays
    k.sys.umount2('/mnt/fat');
    assert.equal(mattribOf(img, '/d'), 'R');
    ({ k } = mountImage(img, 'rodir'));
    assert.equal(mode('/mnt/fat/d'), 0o555);
    k.sys.chmod('/mnt/fat/d', 0o777);
    assert.equal(mode('/mnt/fat/d'), 0o755);
    k.sys.umount2('/mnt/fat');
    assert.equal(mattribOf(img, '/d'), '');
    // A mask that takes every write bit away leaves the attribute alone: chmod cannot clear it.
    ({ k } = mountImage(img, 'fmask=0222'));
    assert.equal(mode('/mnt/fat/d/f'), 0o555);
    assert.equal(k.sys.chmod('/mnt/fat/d/f', 0o777), 0);
    k.sys.umount2('/mnt/fat');
    assert.equal(mattribOf(img, '/d/f'), 'AR');
    assertFsckClean(img);
  } finally {
    cleanup();
  }
});

test('timestamps: creation to 10 ms, modification to 2 s, access as a date; the dirty bit while mounted', { skip: noTools ?? false }, () => {
  const { dir, cleanup } = tempDir();
  try {
    const img = sparseImage(dir, 't.img', 8 * MIB);
    const d = fileDisk(img);
    mkfsFat(d);
    d.close();
    const { k } = mountImage(img);
    k.fs.writeFile('/mnt/fat/t', 'x');
    // While mounted read-write the boot sector's dirty bit is set (Linux's fat_set_state).
    const bs = readFileSync(img).subarray(0, 64);
    assert.equal(bs[37]! & 1, 1);
    k.sys.umount2('/mnt/fat');
    assert.equal(readFileSync(img)[37]! & 1, 0);
    const k2 = mountImage(img).k;
    const sx = k2.sys.statx(AT_FDCWD, '/mnt/fat/t', 0);
    // 2024-03-05 10:20:31.370 UTC
    const t0 = Date.UTC(2024, 2, 5, 10, 20, 31) / 1000;
    assert.deepEqual(sx.btime, { sec: t0, nsec: 370_000_000 });
    assert.deepEqual(sx.mtime, { sec: t0 - 1, nsec: 0 });
    assert.deepEqual(sx.atime, { sec: Date.UTC(2024, 2, 5) / 1000, nsec: 0 });
    k2.sys.umount2('/mnt/fat');
    assert.match(run('mdir', ['-i', img, '::/']).stdout, /T\s+1 2024-03-05\s+10:20/);
    assertFsckClean(img);
  } finally {
    cleanup();
  }
});

test('a full volume: ENOSPC (short writes first), and the image stays consistent', { skip: noTools ?? false }, () => {
  const { dir, cleanup } = tempDir();
  try {
    const img = sparseImage(dir, 'full.img', 2 * MIB);
    const d = fileDisk(img);
    mkfsFat(d);
    d.close();
    const { k } = mountImage(img);
    const chunk = new Uint8Array(100_000).fill(0x5a);
    let written = 0;
    let err = '';
    for (let i = 0; i < 100 && err === ''; i++) {
      try {
        k.fs.writeFile(`/mnt/fat/file ${i}`, chunk);
        written++;
      } catch (e) {
        err = (e as { code: string }).code;
      }
    }
    assert.equal(err, 'ENOSPC');
    assert.ok(written >= 8);
    // Directories cannot grow either; removing a file makes room again.
    k.fs.rm('/mnt/fat/file 0');
    k.fs.writeFile('/mnt/fat/after', 'ok');
    const sb = k.kernel.mountList.find((m) => m.sb.fsType.name === 'vfat')!.sb as FatSuper;
    assert.ok(sb.fat.freeCount >= 0);
    k.sys.umount2('/mnt/fat');
    assertFsckClean(img);
    assert.equal(run('mtype', ['-i', img, '::/after']).stdout, 'ok');
  } finally {
    cleanup();
  }
});

test('a full fixed root directory (FAT12/16) is ENOSPC; subdirectories grow', { skip: noTools ?? false }, () => {
  const { dir, cleanup } = tempDir();
  try {
    const img = sparseImage(dir, 'root.img', 4 * MIB);
    const d = fileDisk(img);
    mkfsFat(d, { rootEntries: 64 });
    d.close();
    const { k } = mountImage(img);
    let made = 0;
    let err = '';
    for (let i = 0; i < 100 && err === ''; i++) {
      try {
        k.fs.writeFile(`/mnt/fat/F${i}`, '');
        made++;
      } catch (e) {
        err = (e as { code: string }).code;
      }
    }
    assert.deepEqual([made, err], [64, 'ENOSPC']);
    k.fs.rm('/mnt/fat/F3');
    k.fs.mkdir('/mnt/fat/D');
    for (let i = 0; i < 300; i++) k.fs.writeFile(`/mnt/fat/D/a rather long file name number ${i}`, '');
    k.sys.umount2('/mnt/fat');
    assertFsckClean(img);
  } finally {
    cleanup();
  }
});

test('8.3 aliases never collide, also among many similar long names', { skip: noTools ?? false }, () => {
  const { dir, cleanup } = tempDir();
  try {
    const img = sparseImage(dir, 'a.img', 16 * MIB);
    const d = fileDisk(img);
    mkfsFat(d);
    d.close();
    const { k } = mountImage(img);
    const names = Array.from({ length: 120 }, (_, i) => `Program Files ${i}.config`);
    names.push('program files.config', 'Program Files (x86)');
    for (const n of names) k.fs.writeFile(`/mnt/fat/${n}`, n);
    // An alias names the same file, as on Linux.
    assert.equal(k.sys.stat('/mnt/fat/PROGRA~1.CON').ino, k.sys.stat('/mnt/fat/Program Files 0.config').ino);
    k.sys.umount2('/mnt/fat');
    assertFsckClean(img);
    const listing = run('mdir', ['-i', img, '::/']).stdout.split('\n');
    const shorts = listing.filter((l) => /^\S/.test(l) && !/^(Volume|Directory|\s)/.test(l)).map((l) => l.slice(0, 12));
    assert.equal(new Set(shorts).size, shorts.length);
    for (const n of names) assert.equal(run('mtype', ['-i', img, `::/${n}`]).stdout, n);
  } finally {
    cleanup();
  }
});

test('a whole-disk image with partitions: FAT made by mkfs.fat in partition 1 mounts from /dev/vda1', { skip: missingTools('sgdisk', 'mkfs.fat', 'mcopy', 'fsck.fat') ?? false }, () => {
  const { dir, cleanup } = tempDir();
  let loop: { dev: string; detach: () => void } | null = null;
  try {
    const img = sparseImage(dir, 'disk.img', 64 * MIB);
    run('sgdisk', ['-n', '1:2048:+32M', '-t', '1:ef00', '-c', '1:ESP', '-n', '2:0:0', img]);
    run('mkfs.fat', ['-F', '16', '--offset=2048', img, String(32 * 1024)]);
    run('sh', ['-c', `echo from-linux > '${dir}/hello.txt'`]);
    run('mcopy', ['-i', `${img}@@1M`, join(dir, 'hello.txt'), '::/']);
    const { k } = (() => {
      const k = boot({ host: new SimHost({ seed: 1 }) });
      k.addDisk(fileDisk(img));
      k.fs.mkdir('/mnt/esp');
      k.sys.mount('/dev/vda1', '/mnt/esp', 'vfat', 0, '');
      return { k };
    })();
    assert.equal(k.fs.readFile('/mnt/esp/hello.txt', 'utf8'), 'from-linux\n');
    k.fs.writeFile('/mnt/esp/EFI Boot Entry.conf', 'from tkl');
    k.sys.umount2('/mnt/esp');
    assert.equal(run('mtype', ['-i', `${img}@@1M`, '::/EFI Boot Entry.conf']).stdout, 'from tkl');
    // fsck.fat has no offset option: check the partition through a loop device over it.
    const why = missingLoop();
    if (why === null) {
      loop = { dev: run('losetup', ['-f', '--show', '-r', '-o', String(MIB), '--sizelimit', String(32 * MIB), img]).stdout.trim(), detach: () => {} };
      const dev = loop.dev;
      loop.detach = () => void run('losetup', ['-d', dev], { check: false });
      assertFsckClean(loop.dev);
    }
  } finally {
    loop?.detach();
    cleanup();
  }
});

test('tkl partitions and formats a disk itself (MBR and GPT), partitions mount by node', () => {
  const k = boot({ host: new SimHost({ seed: 1 }) });
  const d = memoryDisk(64 * MIB);
  writeMbr(d, [{ type: 0x0e, size: 16 * MIB }, { type: 0x0c, logical: true }]);
  mkfsFat(openPartition(d, 1));
  mkfsFat(openPartition(d, 5), { type: 32 });
  const g = memoryDisk(64 * MIB);
  writeGpt(g, [{ type: 'efi', size: 32 * MIB }]);
  mkfsFat(openPartition(g, 1), { label: 'ESP' });
  k.addDisk(d);
  k.addDisk(g);
  for (const [node, at] of [['/dev/vda1', '/a'], ['/dev/vda5', '/b'], ['/dev/vdb1', '/c']]) {
    k.fs.mkdir(at!);
    k.sys.mount(node!, at!, 'vfat', 0, '');
    k.fs.writeFile(`${at}/x`, node!);
  }
  assert.equal(k.fs.readFile('/b/x', 'utf8'), '/dev/vda5');
  assert.equal((k.kernel.mountList.find((m) => m.sb.source === '/dev/vdb1')!.sb as FatSuper).label, 'ESP');
});

test('Linux vfat loop mount shows the tree tkl wrote', { skip: noTools ?? missingLoop() ?? false }, (t) => {
  const fsList = readFileSync('/proc/filesystems', 'utf8');
  if (!/\bvfat\b/.test(fsList)) {
    run('modprobe', ['vfat'], { check: false });
    if (!/\bvfat\b/.test(readFileSync('/proc/filesystems', 'utf8'))) {
      t.skip('the running kernel has no vfat filesystem (not in /proc/filesystems, modprobe vfat failed): Linux loop mounts of FAT are impossible here; fsck.fat and mtools check the images instead');
      return;
    }
  }
  const { dir, cleanup } = tempDir();
  const mnt = join(dir, 'mnt');
  let mounted = false;
  try {
    const src = join(dir, 'src');
    mkdirSync(src);
    mkdirSync(mnt);
    makeTree(src, 9, { many: 50 });
    const img = sparseImage(dir, 'l.img', 32 * MIB);
    const d = fileDisk(img);
    mkfsFat(d);
    d.close();
    const { k } = mountImage(img);
    copyIn(k, src, '/mnt/fat');
    k.sys.umount2('/mnt/fat');
    run('mount', ['-o', 'loop,ro', '-t', 'vfat', img, mnt]);
    mounted = true;
    assertSameHostTrees(src, mnt);
  } finally {
    if (mounted) run('umount', [mnt], { check: false });
    if (existsSync(dir)) cleanup();
  }
});

test('a filesystem mounted on a directory inside a FAT volume is found by later walks', () => {
  const k = boot();
  const disk = memoryDisk(8 * MIB);
  mkfsFat(disk);
  k.sys.mount(k.addDisk(disk), '/mnt', 'vfat', 0, '');
  k.fs.mkdir('/mnt/efi');
  k.sys.mount('none', '/mnt/efi', 'tmpfs', 0, '');
  k.fs.writeFile('/mnt/efi/inside-tmpfs', 'x');
  assert.equal(k.sys.statfs('/mnt/efi').type, 0x01021994, 'the tmpfs shows at the mount point');
  assert.deepEqual(k.fs.readdir('/mnt/efi'), ['inside-tmpfs']);
  k.sys.umount2('/mnt/efi', 0);
  assert.deepEqual(k.fs.readdir('/mnt/efi'), [], 'the FAT directory shows again');
  k.sys.umount2('/mnt', 0);
});
