// A whole disk made only with Linux tools (sgdisk, mkfs.fat, mkfs.ext4 at partition
// offsets): tkl lists both partitions, changes files in each, and then fsck.fat, e2fsck and
// Linux loop mounts with offsets confirm the result. Also: copying out of an ext4 image whose
// symlinks point anywhere never follows them on the host.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, readFileSync, lstatSync, readlinkSync, existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tkl, sh, have, scratch } from './harness.js';

const tools = ['sgdisk', 'sfdisk', 'mkfs.fat', 'mkfs.ext4', 'fsck.fat', 'e2fsck', 'debugfs'];
const missing = tools.filter((t) => !have(t));
const skip = missing.length > 0 ? `needs ${missing.join(', ')} (Debian: gdisk, fdisk, dosfstools, e2fsprogs)` : false;
const root = process.getuid?.() === 0;
const loopSkip = !root ? 'not root: Linux loop mounts are impossible' : sh('losetup -f').code !== 0 ? 'no free loop device' : false;

interface Part { start: number; size: number }

function linuxDisk(dir: string): { img: string; p1: Part; p2: Part } {
  const img = join(dir, 'disk.img');
  const cmd = [
    `truncate -s 160M '${img}'`,
    `sgdisk -o -n 1:2048:+48M -t 1:0700 -c 1:boot -n 2:0:0 -t 2:8300 -c 2:root '${img}' >/dev/null`,
  ].join(' && ');
  assert.equal(sh(cmd).code, 0);
  const t = JSON.parse(sh(`sfdisk --json '${img}'`).out).partitiontable.partitions as Part[];
  const [p1, p2] = t as [Part, Part];
  // Each filesystem made at its partition's offset, as a Linux installer would through a loop device.
  assert.equal(sh(`mkfs.fat -F 32 --offset ${p1.start} -n BOOT '${img}' ${Math.floor((p1.size * 512) / 1024)}`).code, 0);
  assert.equal(sh(`mkfs.ext4 -q -F -L root -E offset=${p2.start * 512} '${img}' ${Math.floor((p2.size * 512) / 4096) * 4}k`).code, 0);
  return { img, p1, p2 };
}

function extract(dir: string, img: string, p: Part, name: string): string {
  const out = join(dir, name);
  assert.equal(sh(`dd if='${img}' of='${out}' bs=512 skip=${p.start} count=${p.size} status=none`).code, 0);
  return out;
}

test('a disk made by sgdisk, mkfs.fat and mkfs.ext4: tkl lists and changes both partitions; the Linux tools agree', { skip }, async (t) => {
  const s = scratch();
  try {
    const { img, p1, p2 } = linuxDisk(s.dir);
    const parts = JSON.parse(tkl(['parts', '--json', img]).out);
    assert.deepEqual(parts.partitions.map((p: { name: string; filesystem: string; label: string }) => [p.name, p.filesystem, p.label]), [
      ['boot', 'FAT32', 'BOOT'],
      ['root', 'ext4', 'root'],
    ]);
    mkdirSync(join(s.dir, 'etc'));
    writeFileSync(join(s.dir, 'etc/hostname'), 'tkl-test\n');
    writeFileSync(join(s.dir, 'config.txt'), 'arm_64bit=1\n');
    for (const args of [
      ['cp', join(s.dir, 'config.txt'), `${img}:boot:/config.txt`],
      ['mkdir', '-p', `${img}:1:/overlays`],
      ['cp', '-r', join(s.dir, 'etc'), `${img}:root:/`],
      ['ln', '-s', 'hostname', `${img}:root:/etc/name`],
      ['chmod', '0600', `${img}:root:/etc/hostname`],
      ['chown', '1000:1000', `${img}:root:/etc/hostname`],
      ['mkdir', `${img}:2:/lost+found/extra`],
      ['rm', '-r', `${img}:2:/lost+found/extra`],
    ]) {
      const r = tkl(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
    }
    const fat = extract(s.dir, img, p1, 'p1.bin');
    const ext = extract(s.dir, img, p2, 'p2.bin');
    const f = sh(`fsck.fat -n '${fat}'`);
    assert.equal(f.code, 0, f.out);
    const e = sh(`e2fsck -fn '${ext}'`);
    assert.equal(e.code, 0, e.out + e.err);
    assert.equal(sh(`debugfs -R 'cat /etc/hostname' '${ext}' 2>/dev/null`).out, 'tkl-test\n');
    assert.match(sh(`debugfs -R 'stat /etc/hostname' '${ext}' 2>/dev/null`).out, /User:\s+1000\s+Group:\s+1000/);
    assert.equal(sh(`mtype -i '${img}@@${p1.start * 512}' ::/config.txt`).out, 'arm_64bit=1\n');
    // Its own subtest, so that without root it shows as skipped (with the reason), never as passed.
    await t.test('a Linux loop mount (with offset) of the ext4 partition shows the same', { skip: loopSkip }, () => {
      const mnt = join(s.dir, 'mnt');
      mkdirSync(mnt);
      const m = sh(`mount -o ro,loop,offset=${p2.start * 512},sizelimit=${p2.size * 512} -t ext4 '${img}' '${mnt}'`);
      assert.equal(m.code, 0, m.err);
      try {
        assert.equal(readFileSync(join(mnt, 'etc/hostname'), 'utf8'), 'tkl-test\n');
        assert.equal(readlinkSync(join(mnt, 'etc/name')), 'hostname');
        const st = lstatSync(join(mnt, 'etc/hostname'));
        assert.equal(st.mode & 0o7777, 0o600);
        assert.equal(st.uid, 1000);
      } finally {
        sh(`umount '${mnt}'`);
      }
    });
  } finally {
    s.done();
  }
});

test('copying out of an ext4 image: its symlinks are recreated, never followed on the host', { skip }, () => {
  const s = scratch();
  try {
    const src = join(s.dir, 'tree');
    mkdirSync(join(src, 'd'), { recursive: true });
    writeFileSync(join(src, 'd/file'), 'data');
    const img = join(s.dir, 'e.img');
    assert.equal(sh(`truncate -s 32M '${img}' && mkfs.ext4 -q -F -d '${src}' '${img}'`).code, 0);
    for (const [target, name] of [['/etc/passwd', 'abs'], ['../../../../../../etc', 'up'], ['d', 'dir-link'], ['/', 'root']]) {
      assert.equal(tkl(['ln', '-s', target!, `${img}:/${name}`]).code, 0);
    }
    // A host destination that already holds a symlink where a file will land.
    const out = join(s.dir, 'out');
    mkdirSync(out);
    const victim = join(s.dir, 'victim');
    writeFileSync(victim, 'keep me');
    symlinkSync(victim, join(out, 'd-file-target'));
    const r = tkl(['cp', '-r', `${img}:/`, out]);
    assert.equal(r.code, 0, r.err);
    assert.equal(readlinkSync(join(out, 'abs')), '/etc/passwd');
    assert.equal(readlinkSync(join(out, 'up')), '../../../../../../etc');
    assert.equal(readlinkSync(join(out, 'root')), '/');
    assert.ok(lstatSync(join(out, 'dir-link')).isSymbolicLink());
    assert.equal(readFileSync(join(out, 'd/file'), 'utf8'), 'data');
    assert.equal(readFileSync(victim, 'utf8'), 'keep me');
    assert.equal(existsSync(join(out, 'lost+found')), true);
    // Copying onto a symlink that points out of the destination replaces the link.
    const r2 = tkl(['cp', `${img}:/d/file`, join(out, 'd-file-target')]);
    assert.equal(r2.code, 0, r2.err);
    assert.equal(readFileSync(victim, 'utf8'), 'keep me');
    assert.equal(lstatSync(join(out, 'd-file-target')).isFile(), true);
  } finally {
    s.done();
  }
});

test('tkl info names the same ext4 features as dumpe2fs, and the label and UUID', { skip }, () => {
  const s = scratch();
  try {
    const img = join(s.dir, 'e.img');
    assert.equal(sh(`truncate -s 64M '${img}' && mkfs.ext4 -q -F -L infotest -U 0d2c7c3e-1111-4222-8333-944455566677 '${img}'`).code, 0);
    const info = JSON.parse(tkl(['info', '--json', img]).out);
    const dump = sh(`dumpe2fs -h '${img}' 2>/dev/null`).out;
    const want = dump.match(/^Filesystem features:\s+(.*)$/m)![1]!.trim().split(/\s+/).sort();
    assert.deepEqual([...info.features].sort(), want);
    assert.equal(info.label, 'infotest');
    assert.equal(info.uuid, '0d2c7c3e-1111-4222-8333-944455566677');
    assert.equal(info.type, 'ext4');
    assert.equal(info.journal, 'internal (inode 8)');
  } finally {
    s.done();
  }
});
