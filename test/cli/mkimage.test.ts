// `tkl mkimage` and `tkl mkfs` checked by Linux tools only: sgdisk/sfdisk read the tables,
// fsck.fat checks each filesystem (extracted with dd), mtools reads the files tkl copied in.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tkl, sh, have, scratch } from './harness.js';

const missing = ['sfdisk', 'sgdisk', 'fsck.fat', 'mdir', 'mtype'].filter((t) => !have(t));
const skip = missing.length > 0 ? `needs ${missing.join(', ')} (Debian: fdisk, gdisk, dosfstools, mtools)` : false;

interface SfPart { node: string; start: number; size: number; type: string; name?: string }

function sfdisk(img: string): { label: string; partitions: SfPart[] } {
  const r = sh(`sfdisk --json '${img}'`);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out).partitiontable;
}

function fsckPartition(dir: string, img: string, p: SfPart): void {
  const part = join(dir, 'part.bin');
  assert.equal(sh(`dd if='${img}' of='${part}' bs=512 skip=${p.start} count=${p.size} status=none`).code, 0);
  const r = sh(`fsck.fat -n '${part}'`);
  assert.equal(r.code, 0, `${p.node}: ${r.out}${r.err}`);
  assert.doesNotMatch(r.out, /differ|invalid|wrong|mismatch/i, r.out);
}

test('mkimage --table gpt: sgdisk finds no problem; each FAT is fsck-clean and holds what cp put there', { skip }, () => {
  const s = scratch();
  try {
    const img = join(s.dir, 'disk.img');
    let r = tkl(['mkimage', img, '--size', '300M', '--table', 'gpt', '--part', 'esp:64M:EFI', '--part', 'vfat:rest:data']);
    assert.equal(r.code, 0, r.err);
    const v = sh(`sgdisk -v '${img}'`);
    assert.match(v.out, /No problems found/);
    const t = sfdisk(img);
    assert.equal(t.label, 'gpt');
    assert.equal(t.partitions.length, 2);
    assert.equal(t.partitions[0]!.type, 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
    assert.equal(t.partitions[0]!.name, 'EFI');
    assert.equal(t.partitions[0]!.start % 2048, 0, '1 MiB aligned');
    assert.equal(t.partitions[0]!.size * 512, 64 * 2 ** 20);
    mkdirSync(join(s.dir, 'site/css'), { recursive: true });
    writeFileSync(join(s.dir, 'site/index.html'), '<h1>hi</h1>\n');
    writeFileSync(join(s.dir, 'site/css/style.css'), 'body {}\n');
    r = tkl(['cp', '-r', join(s.dir, 'site'), `${img}:data:/`]);
    assert.equal(r.code, 0, r.err);
    r = tkl(['mkdir', '-p', `${img}:1:/EFI/BOOT`]);
    assert.equal(r.code, 0, r.err);
    for (const p of t.partitions) fsckPartition(s.dir, img, p);
    const off = t.partitions[1]!.start * 512;
    assert.equal(sh(`mtype -i '${img}@@${off}' ::/site/css/style.css`).out, 'body {}\n');
    const parts = JSON.parse(tkl(['parts', '--json', img]).out);
    assert.equal(parts.table, 'gpt');
    // mkfs.fat's choice by size: FAT16 below 512 MiB.
    assert.deepEqual(parts.partitions.map((p: { name: string; filesystem: string }) => [p.name, p.filesystem]), [['EFI', 'FAT16'], ['data', 'FAT16']]);
    r = tkl(['ls', `${img}:/`]);
    assert.equal(r.code, 1, 'two partitions: the address must name one');
    assert.match(r.err, /has 2 partitions; name one/);
  } finally {
    s.done();
  }
});

test('mkimage --table mbr with five partitions uses logical ones; sfdisk agrees', { skip }, () => {
  const s = scratch();
  try {
    const img = join(s.dir, 'mbr.img');
    const args = ['mkimage', img, '--size', '200M', '--table', 'mbr'];
    for (let i = 0; i < 4; i++) args.push('--part', `fat16:32M:P${i + 1}`);
    args.push('--part', 'vfat:rest:LAST');
    const r = tkl(args);
    assert.equal(r.code, 0, r.err);
    const t = sfdisk(img);
    assert.equal(t.label, 'dos');
    const nodes = t.partitions.map((p) => p.node.replace(img, ''));
    assert.deepEqual(nodes, ['1', '2', '3', '4', '5', '6']);
    assert.ok(['5', 'f', '85'].includes(t.partitions[3]!.type), 'the fourth slot is the extended partition');
    for (const p of t.partitions) if (p.type !== 'f' && p.type !== '5') fsckPartition(s.dir, img, p);
    const json = JSON.parse(tkl(['parts', '--json', img]).out);
    assert.deepEqual(
      json.partitions.filter((p: { extended?: boolean }) => !p.extended).map((p: { number: number }) => p.number),
      [1, 2, 3, 5, 6],
    );
    assert.equal(tkl(['ls', `${img}:6:/`]).code, 0);
  } finally {
    s.done();
  }
});

test('mkfs creates a sparse image and refuses nonsense', { skip }, () => {
  const s = scratch();
  try {
    const img = join(s.dir, 'f.img');
    let r = tkl(['mkfs', '-t', 'fat12', '--size', '4M', '-L', 'SMALL', img]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /FAT12/);
    const du = sh(`du -k '${img}'`).out.split('\t')[0];
    assert.ok(Number(du) < 1024, `sparse: ${du} KiB on disk`);
    assert.equal(sh(`fsck.fat -n '${img}'`).code, 0);
    const info = JSON.parse(tkl(['info', '--json', img]).out);
    assert.equal(info.type, 'FAT12');
    assert.equal(info.label, 'SMALL');
    r = tkl(['mkfs', '-t', 'nosuchfs', img]);
    assert.equal(r.code, 2);
    r = tkl(['mkfs', '-t', 'vfat', join(s.dir, 'absent.img')]);
    assert.equal(r.code, 1);
    assert.match(r.err, /give --size to create it/);
    r = tkl(['mkimage', img, '--size', '8M', '--part', 'vfat:rest']);
    assert.equal(r.code, 1, 'an existing file is not overwritten without --force');
  } finally {
    s.done();
  }
});

test('mkimage with an ext4 partition: e2fsck finds it clean, dumpe2fs shows mkfs.ext4 features, Linux mounts what cp wrote', { skip: skip || (!have('e2fsck') ? 'needs e2fsprogs' : false) }, async (t) => {
  const s = scratch();
  try {
    const img = join(s.dir, 'disk.img');
    let r = tkl(['mkimage', img, '--size', '300M', '--table', 'gpt', '--part', 'vfat:64M:boot', '--part', 'ext4:rest:root']);
    assert.equal(r.code, 0, r.err);
    mkdirSync(join(s.dir, 'etc'));
    writeFileSync(join(s.dir, 'etc/hostname'), 'made-by-tkl\n');
    r = tkl(['cp', '-r', join(s.dir, 'etc'), `${img}:root:/`]);
    assert.equal(r.code, 0, r.err);
    const t2 = sfdisk(img);
    const p = t2.partitions[1]!;
    const part = join(s.dir, 'root.bin');
    assert.equal(sh(`dd if='${img}' of='${part}' bs=512 skip=${p.start} count=${p.size} status=none`).code, 0);
    const e = sh(`e2fsck -fn '${part}'`);
    assert.equal(e.code, 0, e.out + e.err);
    const features = sh(`dumpe2fs -h '${part}' 2>/dev/null`).out.match(/^Filesystem features:\s+(.*)$/m)?.[1]?.split(/\s+/) ?? [];
    for (const f of ['has_journal', 'ext_attr', 'resize_inode', 'dir_index', 'filetype', 'extent', '64bit', 'flex_bg', 'sparse_super', 'large_file', 'huge_file', 'dir_nlink', 'extra_isize', 'metadata_csum']) {
      assert.ok(features.includes(f), `feature ${f} in ${features.join(' ')}`);
    }
    // Its own subtest, so that without root it shows as skipped (with the reason), never as passed.
    const loopSkip = process.getuid?.() !== 0 ? 'not root: Linux loop mounts are impossible' : sh('losetup -f').code !== 0 ? 'no free loop device' : false;
    await t.test('a Linux loop mount (with offset) reads what tkl cp wrote', { skip: loopSkip }, () => {
      const mnt = join(s.dir, 'mnt');
      mkdirSync(mnt);
      const m = sh(`mount -o ro,loop,offset=${p.start * 512},sizelimit=${p.size * 512} -t ext4 '${img}' '${mnt}'`);
      assert.equal(m.code, 0, m.err);
      try {
        assert.equal(sh(`cat '${mnt}/etc/hostname'`).out, 'made-by-tkl\n');
      } finally {
        sh(`umount '${mnt}'`);
      }
    });
  } finally {
    s.done();
  }
});
