// Partition tables against the real tools: tables made by sfdisk and sgdisk are read exactly
// as `sfdisk --json` and `sgdisk -p` report them; tables tkl writes pass `sfdisk --verify`
// and `sgdisk -v` and Linux sees their partitions through a partition-scanning loop device.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, closeSync, existsSync, readFileSync, writeSync, readSync } from 'node:fs';
import { fileDisk } from '../../src/drivers/block/file_disk.js';
import { memoryDisk } from '../../src/drivers/block/memory_disk.js';
import { readPartitionTable, dataPartitions, openPartition } from '../../src/block/partition_table.js';
import { writeMbr } from '../../src/block/mbr.js';
import { writeGpt, GPT_TYPES } from '../../src/block/gpt.js';
import { PartitionDevice, type PartitionTable } from '../../src/block/partition.js';
import { Errno } from '../../src/kernel/errno.js';
import { loopAttach, missingLoop, missingTools, run, sparseImage, tempDir } from './tools.js';

const MIB = 1024 * 1024;

interface SfdiskJson {
  partitiontable: {
    label: string; id: string; firstlba?: number; lastlba?: number; sectorsize: number;
    partitions: { node: string; start: number; size: number; type: string; uuid?: string; name?: string; bootable?: boolean }[];
  };
}

function sfdiskJson(image: string): SfdiskJson['partitiontable'] {
  return (JSON.parse(run('sfdisk', ['--json', image]).stdout) as SfdiskJson).partitiontable;
}

/** Compares tkl's reading with sfdisk's, partition by partition. */
function assertSameAsSfdisk(t: PartitionTable, image: string): void {
  const s = sfdiskJson(image);
  assert.equal(t.label, s.label);
  assert.equal(t.id.toLowerCase(), s.id.toLowerCase());
  if (s.firstlba !== undefined) assert.equal(t.firstUsableLba, s.firstlba);
  if (s.lastlba !== undefined) assert.equal(t.lastUsableLba, s.lastlba);
  const theirs = s.partitions.map((p) => ({
    number: Number(p.node.slice(image.length)),
    firstLba: p.start, sectors: p.size,
    type: s.label === 'dos' ? parseInt(p.type, 16) : p.type,
    bootable: p.bootable ?? false,
    guid: p.uuid, name: p.name,
  }));
  const ours = t.partitions.map((p) => ({
    number: p.number, firstLba: p.firstLba, sectors: p.sectors,
    type: t.label === 'dos' ? parseInt(p.type, 16) : p.type,
    bootable: p.bootable ?? false,
    guid: p.guid, name: p.name,
  }));
  // sfdisk shows an extended partition's full extent; tkl's is what the table says too.
  assert.deepEqual(ours, theirs);
}

const noSfdisk = missingTools('sfdisk');
const noSgdisk = missingTools('sgdisk', 'sfdisk');

test('reads an MBR with primary, extended and logical partitions made by sfdisk', { skip: noSfdisk ?? false }, () => {
  const { dir, cleanup } = tempDir();
  try {
    const img = sparseImage(dir, 'mbr.img', 64 * MIB);
    run('sfdisk', ['-q', img], { input: 'label: dos\nlabel-id: 0x1234abcd\n,8M,83,*\n,8M,c\n,,5\n,10M,83\n,4M,82\n,,b\n' });
    const d = fileDisk(img, { readOnly: true });
    const t = readPartitionTable(d)!;
    assert.equal(t.label, 'dos');
    assertSameAsSfdisk(t, img);
    assert.deepEqual(dataPartitions(t).map((p) => p.number), [1, 2, 5, 6, 7]);
    assert.ok(t.partitions.find((p) => p.number === 3)!.extended);
    assert.ok(t.partitions.find((p) => p.number === 6)!.logical);
    d.close();
  } finally {
    cleanup();
  }
});

test('reads a GPT with names made by sgdisk, as sfdisk --json and sgdisk -p report it', { skip: noSgdisk ?? false }, () => {
  const { dir, cleanup } = tempDir();
  try {
    const img = sparseImage(dir, 'gpt.img', 64 * MIB);
    run('sgdisk', ['-n', '1:0:+8M', '-t', '1:ef00', '-c', '1:EFI system', '-n', '2:0:+16M', '-t', '2:8200', '-c', '2:swap',
      '-n', '4:0:0', '-t', '4:8300', '-c', '4:root ünïcode', img]);
    const d = fileDisk(img, { readOnly: true });
    const t = readPartitionTable(d)!;
    assert.equal(t.label, 'gpt');
    assert.equal(t.header, 'primary');
    assert.deepEqual(t.warnings, []);
    assertSameAsSfdisk(t, img);
    // sgdisk -p: "   1            2048           18431   8.0 MiB     EF00  EFI system"
    const rows = run('sgdisk', ['-p', img]).stdout.split('\n').filter((l) => /^\s+\d+\s+\d+\s+\d+/.test(l));
    const fromSgdisk = rows.map((l) => {
      const m = /^\s+(\d+)\s+(\d+)\s+(\d+)\s+\S+ \S+\s+(\w{4})  (.*)$/.exec(l)!;
      return { number: Number(m[1]), first: Number(m[2]), last: Number(m[3]), name: m[5] };
    });
    assert.deepEqual(t.partitions.map((p) => ({ number: p.number, first: p.firstLba, last: p.firstLba + p.sectors - 1, name: p.name })), fromSgdisk);
    assert.equal(t.partitions[0]!.type, GPT_TYPES.efi);
    assert.equal(t.partitions[2]!.name, 'root ünïcode');
    d.close();
  } finally {
    cleanup();
  }
});

test('an MBR written by tkl passes sfdisk --verify and Linux sees every partition', { skip: noSfdisk ?? missingLoop() ?? false }, () => {
  const { dir, cleanup } = tempDir();
  let loop: { dev: string; detach: () => void } | null = null;
  try {
    const img = sparseImage(dir, 'mbr.img', 128 * MIB);
    const d = fileDisk(img);
    const t = writeMbr(d, [
      { type: 0x0c, size: 16 * MIB, bootable: true },
      { type: 0x83, size: 32 * MIB },
      { type: 0x83, size: 8 * MIB, logical: true },
      { type: 0x82, size: 8 * MIB, logical: true },
      { type: 0x83, logical: true },
    ], { diskId: 0xdeadbeef });
    d.close();
    assert.deepEqual(dataPartitions(t).map((p) => p.number), [1, 2, 5, 6, 7]);
    const v = run('sfdisk', ['--verify', img]);
    assert.match(v.stdout, /No errors detected/);
    assert.doesNotMatch(v.stdout + v.stderr, /overlap|warning/i);
    assertSameAsSfdisk(t, img);
    assert.match(run('sfdisk', ['-d', img]).stdout, /label-id: 0xdeadbeef/);
    // Every start is on a 1 MiB boundary, as sfdisk would place it.
    for (const p of dataPartitions(t)) assert.equal(p.start % MIB, 0);
    loop = loopAttach(img, { partscan: true });
    checkLinuxSees(loop.dev, t);
  } finally {
    loop?.detach();
    cleanup();
  }
});

test('a GPT written by tkl passes sgdisk -v and Linux sees every partition with its name', { skip: noSgdisk ?? missingLoop() ?? false }, () => {
  const { dir, cleanup } = tempDir();
  let loop: { dev: string; detach: () => void } | null = null;
  try {
    const img = sparseImage(dir, 'gpt.img', 128 * MIB);
    const d = fileDisk(img);
    const t = writeGpt(d, [
      { type: 'efi', name: 'EFI system', size: 32 * MIB },
      { type: 'swap', name: 'swap', size: 16 * MIB, guid: '11111111-2222-4333-8444-555555555555' },
      { type: 'linux', name: 'root ✓', attributes: 1n << 60n },
    ], { diskGuid: '01234567-89AB-4CDE-8F01-23456789ABCD' });
    d.close();
    const v = run('sgdisk', ['-v', img]);
    assert.match(v.stdout, /No problems found/);
    assertSameAsSfdisk(t, img);
    assert.equal(t.id, '01234567-89AB-4CDE-8F01-23456789ABCD');
    const info = run('sgdisk', ['-i', '2', img]).stdout;
    assert.match(info, /Partition unique GUID: 11111111-2222-4333-8444-555555555555/);
    assert.match(run('sgdisk', ['-i', '3', img]).stdout, /Attribute flags: 1000000000000000/);
    loop = loopAttach(img, { partscan: true });
    checkLinuxSees(loop.dev, t);
    const partx = run('partx', ['--show', '-o', 'NR,START,SECTORS,NAME', '-g', loop.dev]).stdout.trim().split('\n');
    assert.deepEqual(partx.map((l) => l.trim().split(/\s+/).slice(0, 3).map(Number)), t.partitions.map((p) => [p.number, p.firstLba, p.sectors]));
    assert.match(partx[2]!, /root ✓/);
  } finally {
    loop?.detach();
    cleanup();
  }
});

/**
 * /sys/block/loopN/loopNpM/{start,size} must match the table (sizes in 512-byte units). A
 * kernel built without the msdos/efi partition parsers (CONFIG_MSDOS_PARTITION,
 * CONFIG_EFI_PARTITION) finds nothing on `losetup -P`; then `partx -a` (libblkid parses the
 * table, the kernel adds the partitions with BLKPG) stands in for the kernel's own scan.
 */
function checkLinuxSees(dev: string, t: PartitionTable): void {
  const name = dev.replace('/dev/', '');
  if (!existsSync(`/sys/block/${name}/${name}p1`)) run('partx', ['-a', dev]);
  for (const p of t.partitions) {
    const sys = `/sys/block/${name}/${name}p${p.number}`;
    assert.equal(Number(readFileSync(`${sys}/start`, 'utf8')), p.firstLba, `${sys}/start`);
    // Linux shows an extended partition as 2 sectors (1 KiB) at its start.
    assert.equal(Number(readFileSync(`${sys}/size`, 'utf8')), p.extended ? 2 : p.sectors, `${sys}/size`);
  }
}

test('tkl reads back its own tables (round trip in memory)', () => {
  const d = memoryDisk(64 * MIB);
  const g = writeGpt(d, [{ name: 'a', size: MIB }, { name: 'b' }]);
  assert.deepEqual(readPartitionTable(d), g);
  const m = writeMbr(d, [{ size: MIB }, { size: MIB, logical: true }, { logical: true }]);
  // The MBR replaced the GPT, whose stale headers were wiped.
  assert.deepEqual(readPartitionTable(d), m);
  assert.equal(readPartitionTable(memoryDisk(MIB)), null);
});

function corrupt(img: string, offset: number): void {
  const fd = openSync(img, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, offset);
  b[0] = b[0]! ^ 0xff;
  writeSync(fd, b, 0, 1, offset);
  closeSync(fd);
}

function assertEuclean(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof Errno && e.code === 'EUCLEAN' && re.test(e.message));
}

test('GPT: a bad primary header falls back to the backup and says so; both bad is EUCLEAN', { skip: noSgdisk ?? false }, () => {
  const { dir, cleanup } = tempDir();
  try {
    const img = sparseImage(dir, 'gpt.img', 32 * MIB);
    run('sgdisk', ['-n', '1:0:+4M', '-c', '1:one', '-n', '2:0:0', '-c', '2:two', img]);
    const good = readPartitionTable(fileDisk(img, { readOnly: true }))!;
    corrupt(img, 512 + 40); // FirstUsableLBA of the primary header: its CRC no longer matches
    let t = readPartitionTable(fileDisk(img, { readOnly: true }))!;
    assert.equal(t.header, 'backup');
    assert.match(t.warnings.join('\n'), /primary GPT header is bad \(header CRC32 mismatch at LBA 1.*using the backup header/);
    assert.deepEqual(t.partitions, good.partitions);
    corrupt(img, 512 + 40);
    corrupt(img, 1024 + 5); // the primary entry array: entries CRC mismatch
    t = readPartitionTable(fileDisk(img, { readOnly: true }))!;
    assert.equal(t.header, 'backup');
    assert.match(t.warnings[0]!, /entry array CRC32 mismatch/);
    corrupt(img, 32 * MIB - 512 + 3); // the backup header's signature
    assertEuclean(() => readPartitionTable(fileDisk(img, { readOnly: true })), /primary header is bad .*and so is the backup \(no "EFI PART" signature/);
  } finally {
    cleanup();
  }
});

test('GPT: a bad backup is a warning; inconsistent entries are EUCLEAN', () => {
  const d = memoryDisk(16 * MIB);
  writeGpt(d, [{ size: 4 * MIB }, { size: 4 * MIB }]);
  d.bytes[d.bytes.length - 512] ^= 1;
  const t = readPartitionTable(d)!;
  assert.equal(t.header, 'primary');
  assert.match(t.warnings[0]!, /backup GPT header is bad/);
  // Make entry 2 overlap entry 1, with correct CRCs, by writing through the writer's own layout.
  const d2 = memoryDisk(16 * MIB);
  assert.throws(() => writeGpt(d2, [{ start: MIB, size: 4 * MIB }, { start: 2 * MIB, size: MIB }]), /starts at LBA/);
  assert.throws(() => writeGpt(d2, [{ size: 64 * MIB }]), (e: unknown) => (e as Errno).code === 'ENOSPC');
  assert.throws(() => writeGpt(d2, [{ type: 'nonsense' }]), (e: unknown) => (e as Errno).code === 'EINVAL');
  assert.throws(() => writeGpt(d2, [{ name: 'x'.repeat(37) }]), /name longer/);
});

test('MBR: partitions beyond the disk, overlaps and looping EBR chains are EUCLEAN', () => {
  const d = memoryDisk(16 * MIB);
  writeMbr(d, [{ size: 4 * MIB }, { size: 4 * MIB, logical: true }, { size: 4 * MIB, logical: true }]);
  const t = readPartitionTable(d)!;
  const ext = t.partitions.find((p) => p.extended)!;
  // Record 1's sector count enlarged past the end of the disk.
  const copy = memoryDisk(d.bytes.slice());
  new DataView(copy.bytes.buffer).setUint32(446 + 12, 0x100000, true);
  assertEuclean(() => readPartitionTable(copy), /partition 1 .* extends beyond the end of the disk/);
  // Record 1 overlapping the extended partition.
  const ov = memoryDisk(d.bytes.slice());
  new DataView(ov.bytes.buffer).setUint32(446 + 12, ext.firstLba, true);
  assertEuclean(() => readPartitionTable(ov), /partitions 1 and 2 overlap/);
  // The second EBR pointing back at the first.
  const loop = memoryDisk(d.bytes.slice());
  const ebr2 = t.partitions.find((p) => p.number === 6)!.firstLba - 2048;
  new DataView(loop.bytes.buffer).setUint32(ebr2 * 512 + 446 + 16 + 8, 0, true);
  new DataView(loop.bytes.buffer).setUint32(ebr2 * 512 + 446 + 16 + 12, 2048, true);
  new DataView(loop.bytes.buffer).setUint8(ebr2 * 512 + 446 + 16 + 4, 0x05);
  assertEuclean(() => readPartitionTable(loop), /loops at sector/);
  // A missing EBR signature.
  const nosig = memoryDisk(d.bytes.slice());
  nosig.bytes[ext.firstLba * 512 + 510] = 0;
  assertEuclean(() => readPartitionTable(nosig), /no 0x55AA signature/);
});

test('a partition device refuses I/O outside its range and maps offsets onto the disk', () => {
  const d = memoryDisk(16 * MIB);
  writeMbr(d, [{ size: 4 * MIB }, { size: 4 * MIB }]);
  const p2 = openPartition(d, 2);
  assert.ok(p2 instanceof PartitionDevice);
  assert.equal(p2.size, 4 * MIB);
  p2.write(0, new Uint8Array(512).fill(7));
  assert.equal(d.bytes[5 * MIB], 7);
  assert.equal(d.bytes[5 * MIB - 1], 0);
  assert.throws(() => p2.read(4 * MIB - 511, new Uint8Array(512)), (e: unknown) => (e as Errno).code === 'EIO');
  assert.throws(() => p2.write(-512, new Uint8Array(512)), (e: unknown) => (e as Errno).code === 'EIO');
  assert.throws(() => openPartition(d, 3), (e: unknown) => (e as Errno).code === 'ENXIO');
  const ro = openPartition(d, 1, { readOnly: true });
  assert.throws(() => ro.write(0, new Uint8Array(512)), (e: unknown) => (e as Errno).code === 'EROFS');
  p2.discard!(0, 512);
  assert.equal(d.bytes[5 * MIB], 0);
});
