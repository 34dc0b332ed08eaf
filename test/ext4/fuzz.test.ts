// Bad input: corrupt, truncated and mutated images must give a clear error (EUCLEAN/EIO/EINVAL
// naming the structure) — never a JavaScript exception, a hang or an unbounded allocation.
// Targeted corruptions check the message; a seeded mutator runs a few thousand cases (many
// more with TKL_SOAK=1). Base images are made by tkl itself, so this runs without root too;
// with e2fsprogs present an mke2fs -d image (htree, inline data) joins them.

import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { boot, memoryDisk, mkfsExt4, type Tkl } from '../../src/index.js';
import { crc32c } from '../../src/fs/ext4/crc.js';
import { SB } from '../../src/fs/ext4/layout.js';
import { missingTools, mke2fs, tempDir } from './helpers.js';
import { makeTree, prng } from './tree.js';

const SOAK = process.env.TKL_SOAK === '1';
/** Errors a corrupt image may legitimately produce. */
const OK_CODES = new Set([
  'EUCLEAN', 'EIO', 'EINVAL', 'ENOENT', 'ENOTDIR', 'EISDIR', 'ELOOP', 'ENAMETOOLONG', 'EROFS', 'ENOSPC', 'EFBIG', 'E2BIG',
  'ERANGE', 'EOPNOTSUPP', 'ENODATA', 'EEXIST', 'ENOTEMPTY', 'EMLINK', 'EPERM', 'EACCES', 'ENXIO', 'EBUSY', 'EOVERFLOW',
]);

/** One kernel serves many cases: each attaches its own disk and mounts it at /mnt/img. */
let shared: Tkl | null = null;
let sharedUses = 0;

function mountMem(bytes: Uint8Array, rw: boolean): Tkl {
  // Disks stay attached to their kernel: a fresh kernel now and then bounds the memory held.
  if (++sharedUses % 40 === 0) shared = null;
  if (shared === null) {
    shared = boot();
    shared.sys.mkdir('/mnt/img', 0o755);
  }
  const k = shared;
  // A mount left behind by a case that failed half-way goes first.
  try {
    k.sys.umount2('/mnt/img', 2 /* MNT_DETACH */);
  } catch {
    // nothing mounted
  }
  const dev = k.addDisk(memoryDisk(bytes, { readOnly: !rw }));
  k.sys.mount(dev, '/mnt/img', 'ext4', rw ? 0 : 1, '');
  return k;
}

/** Reads everything (bounded), then (rw) changes a few things; returns the first error code or 'ok'. */
function exercise(bytes: Uint8Array, rw: boolean): string {
  let k: Tkl;
  try {
    k = mountMem(bytes, rw);
  } catch (e) {
    return codeOf(e);
  }
  let first = 'ok';
  const note = (e: unknown): void => {
    const c = codeOf(e);
    if (first === 'ok') first = c;
  };
  let budget = 3000;
  const buf = new Uint8Array(1 << 16);
  const walk = (p: string, depth: number): void => {
    if (budget-- <= 0 || depth > 12) return;
    let names: string[];
    try {
      names = k.fs.readdir(p);
    } catch (e) {
      note(e);
      return;
    }
    for (const n of names.slice(0, 300)) {
      const c = `${p}/${n}`;
      try {
        const st = k.sys.lstat(c);
        const t = st.mode & 0o170000;
        if (t === 0o040000) walk(c, depth + 1);
        else if (t === 0o120000) k.sys.readlink(c);
        else if (t === 0o100000) {
          const fd = k.sys.open(c, 0);
          try {
            for (let pos = 0, i = 0; i < 16; i++) {
              const r = k.sys.pread64(fd, buf, buf.length, pos);
              if (r === 0) break;
              pos += r;
            }
          } finally {
            k.sys.close(fd);
          }
        }
        k.sys.llistxattr(c);
      } catch (e) {
        note(e);
      }
    }
  };
  walk('/mnt/img', 0);
  if (rw) {
    for (const f of [
      () => k.fs.writeFile('/mnt/img/fuzz-new', 'x'.repeat(5000)),
      () => k.fs.mkdir('/mnt/img/fuzz-dir'),
      () => k.sys.truncate('/mnt/img/fuzz-new', 100),
      () => k.sys.unlink('/mnt/img/fuzz-new'),
      () => k.sys.rename('/mnt/img/fuzz-dir', '/mnt/img/fuzz-dir2'),
    ]) {
      try {
        f();
      } catch (e) {
        note(e);
      }
    }
  }
  try {
    k.sys.umount2('/mnt/img', 0);
  } catch (e) {
    note(e);
  }
  return first;
}

function codeOf(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && OK_CODES.has(code)) return code;
  throw new Error(`not a clean errno: ${(e as Error)?.stack ?? String(e)}`);
}

/** A base image made by tkl: mkfs, then files of every kind. */
function tklImage(opts: Parameters<typeof mkfsExt4>[1], size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  const disk = memoryDisk(bytes);
  mkfsExt4(disk, { now: 1700000000, random: (b) => b.fill(7), ...opts });
  const k = boot();
  const dev = k.addDisk(disk);
  k.sys.mkdir('/mnt/img', 0o755);
  k.sys.mount(dev, '/mnt/img', 'ext4', 0, '');
  const r = prng(5);
  k.fs.mkdir('/mnt/img/d/e', { recursive: true });
  for (let i = 0; i < 60; i++) k.fs.writeFile(`/mnt/img/d/f${i}`, new Uint8Array(Math.floor(r() * 9000)).fill(i));
  const fd = k.sys.open('/mnt/img/frag', 0o1 | 0o100, 0o644);
  for (let i = 0; i < 40; i++) k.sys.pwrite64(fd, new Uint8Array(1024).fill(i), 1024, i * 4096);
  k.sys.close(fd);
  k.fs.symlink('short', '/mnt/img/d/ls');
  k.fs.symlink('l'.repeat(300), '/mnt/img/d/ll');
  k.sys.link('/mnt/img/d/f1', '/mnt/img/d/e/hard');
  k.sys.setxattr('/mnt/img/d/f2', 'user.a', new Uint8Array(20).fill(1), 0);
  k.sys.setxattr('/mnt/img/d/f2', 'user.b', new Uint8Array(700).fill(2), 0);
  k.sys.umount2('/mnt/img', 0);
  return bytes;
}

function fixSbCsum(b: Uint8Array): void {
  const sb = b.subarray(1024, 2048);
  const c = crc32c(0xffffffff, sb, 0, SB.CHECKSUM);
  new DataView(sb.buffer, sb.byteOffset).setUint32(SB.CHECKSUM, c, true);
}

describe('ext4 bad input: targeted corruptions', () => {
  const base = tklImage({ blockSize: 1024 }, 8 << 20);
  const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const mountErr = (b: Uint8Array, rw = false): Error => {
    try {
      mountMem(b, rw);
    } catch (e) {
      return e as Error;
    }
    throw new Error('mounted a corrupt image');
  };

  it('the base image is sound', () => {
    assert.equal(exercise(base.slice(), true), 'ok');
  });
  it('truncated image: EUCLEAN saying the filesystem exceeds the device', () => {
    const e = mountErr(base.slice(0, 3 << 20));
    assert.equal((e as { code?: string }).code, 'EUCLEAN');
    assert.match(e.message, /exceed the device/);
  });
  it('wrong magic: EINVAL', () => {
    const b = base.slice();
    b[1024 + SB.MAGIC] = 0;
    assert.match(mountErr(b).message, /bad magic/);
  });
  it('corrupt superblock checksum: EUCLEAN naming the superblock', () => {
    const b = base.slice();
    b[1024 + SB.VOLUME_NAME] ^= 1;
    assert.match(mountErr(b).message, /superblock checksum mismatch/);
  });
  it('corrupt group descriptor: EUCLEAN naming the group', () => {
    const b = base.slice();
    b[2048 + 0x0c] ^= 0x40;
    assert.match(mountErr(b).message, /group descriptor 0 checksum mismatch/);
  });
  it('unknown incompat feature: refused by name; unknown ro_compat: read-only only', () => {
    const b = base.slice();
    dv(b).setUint32(1024 + SB.FEATURE_INCOMPAT, dv(b).getUint32(1024 + SB.FEATURE_INCOMPAT, true) | 0x10000, true);
    fixSbCsum(b);
    assert.match(mountErr(b).message, /unsupported incompat features: encrypt/);
    const c = base.slice();
    dv(c).setUint32(1024 + SB.FEATURE_RO_COMPAT, dv(c).getUint32(1024 + SB.FEATURE_RO_COMPAT, true) | 0x100000, true);
    fixSbCsum(c);
    assert.match(mountErr(c, true).message, /unsupported ro_compat features.*read-only/);
    assert.equal(exercise(c, false), 'ok');
  });
  it('absurd counts: EUCLEAN naming the field', () => {
    const b = base.slice();
    dv(b).setUint32(1024 + SB.INODES_PER_GROUP, 0x7fffffff, true);
    fixSbCsum(b);
    assert.equal((mountErr(b) as { code?: string }).code, 'EUCLEAN');
    const c = base.slice();
    dv(c).setUint32(1024 + SB.BLOCKS_PER_GROUP, 0, true);
    fixSbCsum(c);
    assert.match(mountErr(c).message, /blocks per group/);
    const d = base.slice();
    dv(d).setUint32(1024 + SB.LOG_BLOCK_SIZE, 30, true);
    fixSbCsum(d);
    assert.match(mountErr(d).message, /block size/);
  });
});

describe('ext4 bad input: corruptions made with debugfs', { skip: missingTools(false) ?? false }, () => {
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir();
  });
  after(() => tmp?.cleanup());
  const debugfs = (img: string, cmd: string): string => spawnSync('debugfs', ['-w', '-R', cmd, img], { encoding: 'utf8' }).stdout;

  it('an extent pointing outside the device: EUCLEAN naming the inode', () => {
    const img = join(tmp.dir, 'ext.img');
    fs.writeFileSync(img, tklImage({}, 8 << 20));
    // Inode 12's first extent start (i_block + 12 header + 8) set far past the end.
    const loc = /located at block (\d+), offset (0x[0-9a-f]+)/.exec(spawnSync('debugfs', ['-R', 'imap /frag', img], { encoding: 'utf8' }).stdout)!;
    const b = fs.readFileSync(img);
    const off = Number(loc[1]) * 1024 + Number(loc[2]) + 0x28 + 12 + 8;
    b.writeUInt32LE(0x7fffff00, off);
    const k = mountMem(new Uint8Array(b), false);
    assert.throws(() => k.fs.readFile('/mnt/img/frag'), (e: Error) => /inode \d+ checksum mismatch|outside the filesystem/.test(e.message));
  });
  it('a directory cycle (a hard link to an ancestor directory): EUCLEAN, no hang', () => {
    const img = join(tmp.dir, 'cycle.img');
    fs.writeFileSync(img, tklImage({}, 8 << 20));
    debugfs(img, 'ln /d /d/e/loop');
    const k = mountMem(new Uint8Array(fs.readFileSync(img)), false);
    k.fs.readdir('/mnt/img/d');
    assert.throws(() => k.fs.readdir('/mnt/img/d/e/loop'), (e: Error) => (e as { code?: string }).code === 'EUCLEAN' && /directory cycle|loops back/.test(e.message));
  });
  it('a corrupt inode checksum: EUCLEAN naming the inode', () => {
    const img = join(tmp.dir, 'icsum.img');
    fs.writeFileSync(img, tklImage({}, 8 << 20));
    const loc = /located at block (\d+), offset (0x[0-9a-f]+)/.exec(spawnSync('debugfs', ['-R', 'imap /d/f3', img], { encoding: 'utf8' }).stdout)!;
    const b = fs.readFileSync(img);
    b[Number(loc[1]) * 1024 + Number(loc[2]) + 0x10] ^= 0xff;
    const k = mountMem(new Uint8Array(b), false);
    assert.throws(() => k.sys.stat('/mnt/img/d/f3'), /inode \d+ checksum mismatch/);
    assert.equal(k.fs.readFile('/mnt/img/d/f4').length >= 0, true, 'other inodes still read');
  });
});

describe('ext4 bad input: seeded mutation fuzzing', () => {
  const bases: [string, Uint8Array][] = [
    ['ext4 1k', tklImage({ blockSize: 1024 }, 4 << 20)],
    ['ext4 4k gdt_csum', tklImage({ blockSize: 4096, features: '^metadata_csum,^64bit,uninit_bg' }, 8 << 20)],
    ['ext3', tklImage({ type: 'ext3', blockSize: 1024 }, 4 << 20)],
    ['ext2', tklImage({ type: 'ext2', blockSize: 2048 }, 4 << 20)],
  ];
  if (missingTools(false) === null) {
    const t = tempDir();
    try {
      const src = join(t.dir, 'src');
      fs.mkdirSync(src);
      makeTree(src, { bigDir: 200, maxLink: 1000, noSpecial: true });
      const img = join(t.dir, 'img');
      mke2fs(img, 6 << 20, ['-t', 'ext4', '-b', '1024', '-O', 'inline_data', '-N', '1024'], src);
      bases.push(['mke2fs -d inline_data + htree', new Uint8Array(fs.readFileSync(img))]);
    } finally {
      t.cleanup();
    }
  }
  const cases = SOAK ? 40000 : 2000;

  it(`${cases} mutated images: only clean errors`, () => {
    const rand = prng(Number(process.env.TKL_SEED ?? 4242));
    const counts = new Map<string, number>();
    for (let n = 0; n < cases; n++) {
      const [name, base] = bases[n % bases.length]!;
      const b = base.slice();
      const mode = rand();
      let what: string;
      if (mode < 0.05) {
        const len = Math.floor(rand() * b.length);
        what = `truncate to ${len}`;
        const r = runCase(b.subarray(0, len), rand() < 0.5);
        counts.set(r, (counts.get(r) ?? 0) + 1);
        continue;
      }
      // Metadata lives in the first part of these small images: mutate there mostly.
      const region = rand() < 0.8 ? Math.min(b.length, 512 * 1024) : b.length;
      const muts = 1 + Math.floor(rand() * 8);
      const edits: string[] = [];
      for (let m = 0; m < muts; m++) {
        const off = Math.floor(rand() * region);
        const kind = rand();
        if (kind < 0.5) b[off] ^= 1 << Math.floor(rand() * 8);
        else if (kind < 0.8) b[off] = Math.floor(rand() * 256);
        else {
          const v = [0, 0xffffffff, 0x80000000, 0x7fffffff, 1, 0xffff][Math.floor(rand() * 6)]!;
          new DataView(b.buffer).setUint32(off & ~3, v >>> 0, true);
        }
        edits.push(String(off));
      }
      what = `${name}: bytes ${edits.join(',')}`;
      let r: string;
      try {
        r = runCase(b, rand() < 0.4);
      } catch (e) {
        throw new Error(`case ${n} (${what}): ${(e as Error).message}`);
      }
      counts.set(r, (counts.get(r) ?? 0) + 1);
    }
    // The mutations must have reached the checks, not only bounced off the magic number.
    assert.ok((counts.get('EUCLEAN') ?? 0) > cases / 20, `outcomes: ${JSON.stringify([...counts])}`);
  });
});

function runCase(b: Uint8Array, rw: boolean): string {
  const t0 = Date.now();
  const r = exercise(b, rw);
  const dt = Date.now() - t0;
  if (dt > 5000) throw new Error(`took ${dt} ms`);
  return r;
}
