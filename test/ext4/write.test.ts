// Writing: random operation sequences (fast-check) applied by tkl to an image and by Linux to a
// reference directory must agree op by op (results and error codes); afterwards e2fsck -fn
// finds nothing, a Linux loop mount shows exactly the reference tree (contents, modes, owners,
// xattrs, times), and when Linux then changes the image tkl reads Linux's changes. Set
// TKL_SOAK=1 for many more runs.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Tkl } from '../../src/index.js';
import { diffSnapshots, e2fsck, hostSnapshot, missingTools, mke2fs, mountTkl, run, tempDir, tklSnapshot, withLoopMount, type Snapshot } from './helpers.js';
import { prng, randomBytes } from './tree.js';

const missing = missingTools();
const SOAK = process.env.TKL_SOAK === '1';

const NAMES = ['a', 'b', 'c', 'dd', 'name with space', 'ünïcödé', 'n'.repeat(200), 'e.txt'];
const XNAMES = ['user.one', 'user.two', 'user.big', 'trusted.t'];
/** Times node's utimes (microseconds, through a double) sets exactly: whole seconds + k/64. */
const TIMES = [0, 1, 1234567890, 1700000000, 2147483647, 2147483648, 4102444800, 8589934592];

type Op =
  | { t: 'create'; dir: number; name: number; size: number; seed: number }
  | { t: 'write'; file: number; off: number; size: number; seed: number }
  | { t: 'append'; file: number; size: number; seed: number }
  | { t: 'truncate'; file: number; size: number }
  | { t: 'unlink'; file: number }
  | { t: 'mkdir'; dir: number; name: number }
  | { t: 'rmdir'; dir: number }
  | { t: 'rename'; src: number; dir: number; name: number }
  | { t: 'link'; file: number; dir: number; name: number }
  | { t: 'symlink'; dir: number; name: number; len: number }
  | { t: 'chmod'; any: number; mode: number }
  | { t: 'chown'; any: number; uid: number; gid: number }
  | { t: 'utimes'; any: number; a: number; m: number; frac: number }
  | { t: 'setxattr'; any: number; x: number; size: number; seed: number }
  | { t: 'removexattr'; any: number; x: number }
  | { t: 'fallocate'; file: number; off: number; len: number; keep: boolean; punch: boolean };

const idx = fc.nat(1000);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('create' as const), dir: idx, name: fc.nat(NAMES.length - 1), size: fc.oneof(fc.nat(100), fc.nat(70000)), seed: fc.nat() }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant('write' as const), file: idx, off: fc.oneof(fc.nat(5000), fc.nat(300000), fc.nat(6000000)), size: fc.integer({ min: 1, max: 40000 }), seed: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('append' as const), file: idx, size: fc.integer({ min: 1, max: 20000 }), seed: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('truncate' as const), file: idx, size: fc.oneof(fc.nat(5000), fc.nat(400000)) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('unlink' as const), file: idx }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('mkdir' as const), dir: idx, name: fc.nat(NAMES.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('rmdir' as const), dir: idx }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('rename' as const), src: idx, dir: idx, name: fc.nat(NAMES.length - 1) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('link' as const), file: idx, dir: idx, name: fc.nat(NAMES.length - 1) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('symlink' as const), dir: idx, name: fc.nat(NAMES.length - 1), len: fc.oneof(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 1000 })) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('chmod' as const), any: idx, mode: fc.nat(0o7777) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('chown' as const), any: idx, uid: fc.oneof(fc.nat(2000), fc.nat(200000)), gid: fc.oneof(fc.nat(2000), fc.nat(200000)) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('utimes' as const), any: idx, a: fc.nat(TIMES.length - 1), m: fc.nat(TIMES.length - 1), frac: fc.nat(63) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('setxattr' as const), any: idx, x: fc.nat(XNAMES.length - 1), size: fc.oneof(fc.nat(40), fc.nat(3000)), seed: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('removexattr' as const), any: idx, x: fc.nat(XNAMES.length - 1) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('fallocate' as const), file: idx, off: fc.oneof(fc.nat(20000), fc.nat(400000)), len: fc.integer({ min: 1, max: 100000 }), keep: fc.boolean(), punch: fc.boolean() }) },
);

/** The entries of the reference tree (relative paths, sorted), by kind. */
function listRef(root: string): { files: string[]; dirs: string[]; all: string[] } {
  const files: string[] = [];
  const dirs: string[] = [''];
  const all: string[] = [];
  const walk = (rel: string): void => {
    for (const name of fs.readdirSync(join(root, rel)).sort()) {
      if (rel === '' && name === 'lost+found') continue;
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = fs.lstatSync(join(root, r));
      all.push(r);
      if (st.isDirectory()) {
        dirs.push(r);
        walk(r);
      } else if (st.isFile()) files.push(r);
    }
  };
  walk('');
  return { files, dirs, all };
}

function pick<T>(list: T[], i: number): T | undefined {
  return list.length === 0 ? undefined : list[i % list.length];
}

const ns = (frac: number): number => frac * 15625000;

/** Runs `f` and returns 'ok' or the error code. */
function outcome(f: () => void): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

/** Applies one op to the reference directory (host) and to tkl; returns both outcomes. */
function applyOp(op: Op, ref: string, k: Tkl, mnt: string): [string, string, string] {
  const l = listRef(ref);
  const H = (p: string): string => join(ref, p);
  const T = (p: string): string => (p === '' ? mnt : `${mnt}/${p}`);
  const sys = k.sys;
  const child = (dir: string, name: string): string => (dir === '' ? name : `${dir}/${name}`);
  switch (op.t) {
    case 'create': {
      const d = pick(l.dirs, op.dir)!;
      const p = child(d, NAMES[op.name]!);
      const data = randomBytes(prng(op.seed), op.size);
      return [`create ${p} ${op.size}`, outcome(() => fs.writeFileSync(H(p), data, { flag: 'wx', mode: 0o644 })), outcome(() => {
        const fd = sys.open(T(p), 0o1 | 0o100 | 0o200, 0o644);
        try {
          if (data.length > 0) sys.pwrite64(fd, data, data.length, 0);
        } finally {
          sys.close(fd);
        }
      })];
    }
    case 'write': {
      const p = pick(l.files, op.file);
      if (p === undefined) return ['skip', 'ok', 'ok'];
      const data = randomBytes(prng(op.seed), op.size);
      return [`write ${p} @${op.off}+${op.size}`, outcome(() => {
        const fd = fs.openSync(H(p), 'r+');
        fs.writeSync(fd, data, 0, data.length, op.off);
        fs.closeSync(fd);
      }), outcome(() => {
        const fd = sys.open(T(p), 0o1);
        sys.pwrite64(fd, data, data.length, op.off);
        sys.close(fd);
      })];
    }
    case 'append': {
      const p = pick(l.files, op.file);
      if (p === undefined) return ['skip', 'ok', 'ok'];
      const data = randomBytes(prng(op.seed), op.size);
      return [`append ${p} +${op.size}`, outcome(() => fs.appendFileSync(H(p), data)), outcome(() => {
        const fd = sys.open(T(p), 0o1);
        sys.pwrite64(fd, data, data.length, sys.fstat(fd).size);
        sys.close(fd);
      })];
    }
    case 'truncate': {
      const p = pick(l.files, op.file);
      if (p === undefined) return ['skip', 'ok', 'ok'];
      return [`truncate ${p} ${op.size}`, outcome(() => fs.truncateSync(H(p), op.size)), outcome(() => sys.truncate(T(p), op.size))];
    }
    case 'unlink': {
      const p = pick(l.all, op.file);
      if (p === undefined) return ['skip', 'ok', 'ok'];
      return [`unlink ${p}`, outcome(() => fs.unlinkSync(H(p))), outcome(() => sys.unlink(T(p)))];
    }
    case 'mkdir': {
      const p = child(pick(l.dirs, op.dir)!, NAMES[op.name]!);
      return [`mkdir ${p}`, outcome(() => fs.mkdirSync(H(p), 0o755)), outcome(() => sys.mkdir(T(p), 0o755))];
    }
    case 'rmdir': {
      const p = pick(l.dirs.slice(1), op.dir);
      if (p === undefined) return ['skip', 'ok', 'ok'];
      return [`rmdir ${p}`, outcome(() => fs.rmdirSync(H(p))), outcome(() => sys.rmdir(T(p)))];
    }
    case 'rename': {
      const s = pick(l.all, op.src);
      if (s === undefined) return ['skip', 'ok', 'ok'];
      const d = child(pick(l.dirs, op.dir)!, NAMES[op.name]!);
      return [`rename ${s} -> ${d}`, outcome(() => fs.renameSync(H(s), H(d))), outcome(() => sys.rename(T(s), T(d)))];
    }
    case 'link': {
      const s = pick(l.files, op.file);
      if (s === undefined) return ['skip', 'ok', 'ok'];
      const d = child(pick(l.dirs, op.dir)!, NAMES[op.name]!);
      return [`link ${s} -> ${d}`, outcome(() => fs.linkSync(H(s), H(d))), outcome(() => sys.link(T(s), T(d)))];
    }
    case 'symlink': {
      const d = child(pick(l.dirs, op.dir)!, NAMES[op.name]!);
      let target = '';
      while (target.length < op.len) target += `t${target.length}/`;
      target = target.slice(0, op.len);
      return [`symlink ${d} (${op.len})`, outcome(() => fs.symlinkSync(target, H(d))), outcome(() => sys.symlink(target, T(d)))];
    }
    case 'chmod': {
      const p = pick(l.all, op.any);
      if (p === undefined || fs.lstatSync(H(p)).isSymbolicLink()) return ['skip', 'ok', 'ok'];
      return [`chmod ${p} ${op.mode.toString(8)}`, outcome(() => fs.chmodSync(H(p), op.mode)), outcome(() => sys.chmod(T(p), op.mode))];
    }
    case 'chown': {
      const p = pick(l.all, op.any);
      if (p === undefined) return ['skip', 'ok', 'ok'];
      return [`chown ${p}`, outcome(() => fs.lchownSync(H(p), op.uid, op.gid)), outcome(() => sys.lchown(T(p), op.uid, op.gid))];
    }
    case 'utimes': {
      const p = pick(l.all, op.any);
      if (p === undefined) return ['skip', 'ok', 'ok'];
      const a = TIMES[op.a]!;
      const m = TIMES[op.m]!;
      return [`utimes ${p}`, outcome(() => fs.lutimesSync(H(p), a + op.frac / 64, m)), outcome(() => sys.utimensat(-100, T(p), [{ sec: a, nsec: ns(op.frac) }, { sec: m, nsec: 0 }], 0x100))];
    }
    case 'setxattr': {
      const p = pick(l.all, op.any);
      if (p === undefined || fs.lstatSync(H(p)).isSymbolicLink()) return ['skip', 'ok', 'ok'];
      const v = randomBytes(prng(op.seed), op.size);
      const name = XNAMES[op.x]!;
      return [`setxattr ${p} ${name} ${op.size}`, outcome(() => {
        const r = spawnSync('setfattr', ['-h', '-n', name, '-v', '0x' + Buffer.from(v).toString('hex'), H(p)], { encoding: 'utf8' });
        if (r.status !== 0) throw Object.assign(new Error(r.stderr), { code: /No space/.test(r.stderr) ? 'ENOSPC' : /too large|Argument list/.test(r.stderr) ? 'E2BIG' : r.stderr.trim() });
      }), outcome(() => sys.lsetxattr(T(p), name, v, 0))];
    }
    case 'fallocate': {
      const p = pick(l.files, op.file);
      if (p === undefined) return ['skip', 'ok', 'ok'];
      const args = ['-o', String(op.off), '-l', String(op.len)];
      if (op.punch) args.unshift('-p');
      else if (op.keep) args.unshift('-n');
      const mode = op.punch ? 0x3 : op.keep ? 0x1 : 0;
      return [`fallocate ${p} ${op.punch ? 'punch' : op.keep ? 'keep' : ''} @${op.off}+${op.len}`, outcome(() => {
        const r = spawnSync('fallocate', [...args, H(p)], { encoding: 'utf8' });
        if (r.status !== 0) throw Object.assign(new Error(r.stderr), { code: /No space/.test(r.stderr) ? 'ENOSPC' : /not supported|unsupported/.test(r.stderr) ? 'EOPNOTSUPP' : r.stderr.trim() });
      }), outcome(() => {
        const fd = sys.open(T(p), 0o1);
        try {
          sys.fallocate(fd, mode, op.off, op.len);
        } finally {
          sys.close(fd);
        }
      })];
    }
    case 'removexattr': {
      const p = pick(l.all, op.any);
      if (p === undefined || fs.lstatSync(H(p)).isSymbolicLink()) return ['skip', 'ok', 'ok'];
      const name = XNAMES[op.x]!;
      return [`removexattr ${p} ${name}`, outcome(() => {
        const r = spawnSync('setfattr', ['-h', '-x', name, H(p)], { encoding: 'utf8' });
        if (r.status !== 0) throw Object.assign(new Error(r.stderr), { code: /No such attribute/.test(r.stderr) ? 'ENODATA' : r.stderr.trim() });
      }), outcome(() => sys.lremovexattr(T(p), name))];
    }
  }
}

/** Snapshot fields the reference and the image must agree on (directory sizes and ctimes are the filesystems' own). */
function comparable(s: Snapshot): Snapshot {
  const out: Snapshot = new Map();
  for (const [p, e] of s) out.set(p, { ...e, nlink: p === '/' ? 0 : e.nlink, size: e.type === 'dir' ? 0 : e.size, ctime: undefined, atime: e.type === 'file' ? e.atime : undefined, mtime: e.type === 'dir' ? '' : e.mtime });
  return out;
}

function untimed(s: Snapshot): Snapshot {
  const out: Snapshot = new Map();
  for (const [p, e] of comparable(s)) out.set(p, { ...e, mtime: '', atime: undefined });
  return out;
}

interface Flavour {
  name: string;
  args: string[];
  type: string;
}
const FLAVOURS: Flavour[] = [
  { name: 'ext4 4k', args: ['-t', 'ext4', '-b', '4096'], type: 'ext4' },
  { name: 'ext4 1k', args: ['-t', 'ext4', '-b', '1024'], type: 'ext4' },
  { name: 'ext4 2k gdt_csum (uninit_bg)', args: ['-t', 'ext4', '-b', '2048', '-O', '^metadata_csum,^64bit,uninit_bg'], type: 'ext4' },
  { name: 'ext4 inline_data', args: ['-t', 'ext4', '-b', '4096', '-O', 'inline_data'], type: 'ext4' },
  { name: 'ext3 1k', args: ['-t', 'ext3', '-b', '1024'], type: 'ext3' },
  { name: 'ext2 4k', args: ['-t', 'ext2', '-b', '4096'], type: 'ext2' },
];

/** Sets every entry's atime/mtime to fixed values on both sides, so times compare exactly. */
function pinTimes(ref: string, k: Tkl, mnt: string, seed: number): void {
  const l = listRef(ref);
  const r = prng(seed);
  for (const p of l.all) {
    const a = TIMES[Math.floor(r() * TIMES.length)]!;
    const m = TIMES[Math.floor(r() * TIMES.length)]!;
    const frac = Math.floor(r() * 64);
    fs.lutimesSync(join(ref, p), a, m + frac / 64);
    k.sys.utimensat(-100, `${mnt}/${p}`, [{ sec: a, nsec: 0 }, { sec: m, nsec: ns(frac) }], 0x100);
  }
}

/** What Linux does to the image afterwards, applied to the reference the same way. */
function linuxChanges(root: string): void {
  fs.mkdirSync(join(root, 'linux-dir'), { recursive: true });
  for (let i = 0; i < 30; i++) fs.writeFileSync(join(root, 'linux-dir', `f${i}`), randomBytes(prng(i + 1), i * 300));
  fs.writeFileSync(join(root, 'linux-big'), randomBytes(prng(99), 300000));
  const l = listRef(root);
  const f = l.files.find((x) => !x.startsWith('linux'));
  if (f !== undefined) fs.appendFileSync(join(root, f), 'appended by Linux');
  const victim = l.files.filter((x) => !x.startsWith('linux'))[1];
  if (victim !== undefined) fs.unlinkSync(join(root, victim));
  fs.symlinkSync('linux-target', join(root, 'linux-link'));
  fs.renameSync(join(root, 'linux-dir/f3'), join(root, 'linux-moved'));
}

describe('ext4 write: random operation sequences vs Linux', { skip: missing ?? false }, () => {
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir();
  });
  after(() => tmp?.cleanup());

  it('tkl and Linux agree op by op; e2fsck -fn is silent; Linux sees the reference tree; tkl reads Linux changes', () => {
    let runNo = 0;
    fc.assert(
      fc.property(fc.nat(FLAVOURS.length - 1), fc.array(opArb, { minLength: 10, maxLength: SOAK ? 150 : 60 }), fc.nat(), (fi, ops, seed) => {
        const fl = FLAVOURS[fi]!;
        const n = runNo++;
        const img = join(tmp.dir, `w${n}.img`);
        const refImg = join(tmp.dir, `ref${n}.img`);
        const ref = join(tmp.dir, `ref${n}`);
        fs.mkdirSync(ref);
        // The reference is Linux itself on an image made the same way, so limits (xattr room,
        // symlink length) and error codes are those of the same filesystem.
        mke2fs(refImg, 32 << 20, fl.args);
        run('mount', ['-o', 'loop,noatime', refImg, ref]);
        try {
          mke2fs(img, 32 << 20, fl.args);
          // noatime: the snapshots below read everything and must not change what they compare.
          const k = mountTkl(img, { type: fl.type, flags: 1024 });
          const mnt = '/mnt/img';
          const log: string[] = [];
          for (const op of ops) {
            const [what, h, t] = applyOp(op, ref, k, mnt);
            log.push(`${what}: linux ${h}, tkl ${t}`);
            assert.equal(t, h, `${fl.name}: op results differ\n${log.join('\n')}`);
          }
          pinTimes(ref, k, mnt, seed);
          const mine = tklSnapshot(k, mnt, { times: true, ctime: true, xattrs: true });
          k.sys.umount2(mnt, 0);
          const f = e2fsck(img);
          assert.deepEqual(f.problems, [], `${fl.name}: e2fsck -fn\n${f.output}\n${log.join('\n')}`);
          assert.equal(f.status, 0);
          const refSnap = hostSnapshot(ref, { times: true, xattrs: true });
          withLoopMount(img, 'ro', (m) => {
            const linux = hostSnapshot(m, { times: true, ctime: true, xattrs: true });
            assert.deepEqual(diffSnapshots(linux, mine, 'linux', 'tkl'), [], `${fl.name}: what Linux reads differs from what tkl wrote\n${log.join('\n')}`);
            assert.deepEqual(diffSnapshots(comparable(refSnap), comparable(linux), 'reference', 'image'), [], `${fl.name}: image differs from the reference\n${log.join('\n')}`);
          });
          // Linux changes the image; tkl must read the changes.
          withLoopMount(img, 'rw', (m) => linuxChanges(m));
          linuxChanges(ref);
          const k2 = mountTkl(img, { readOnly: true, type: fl.type });
          const after2 = tklSnapshot(k2, mnt, { xattrs: true });
          k2.sys.umount2(mnt, 0);
          const ref2 = hostSnapshot(ref, { xattrs: true });
          // Times differ here by construction (two clocks); everything else must agree.
          assert.deepEqual(diffSnapshots(untimed(ref2), untimed(after2), 'reference', 'tkl'), [], `${fl.name}: tkl misreads Linux's changes`);
        } finally {
          spawnSync('umount', [ref]);
          fs.rmSync(img, { force: true });
          fs.rmSync(refImg, { force: true });
          fs.rmdirSync(ref);
        }
      }),
      { numRuns: SOAK ? 300 : 48, seed: Number(process.env.TKL_SEED ?? 20240601), endOnFailure: true },
    );
  });
});

describe('ext4 write: structures under growth', { skip: missing ?? false }, () => {
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir();
  });
  after(() => tmp?.cleanup());

  it('an extent tree grows to depth 2 and shrinks again, staying valid', () => {
    const img = join(tmp.dir, 'deep.img');
    mke2fs(img, 64 << 20, ['-t', 'ext4', '-b', '1024']);
    const k = mountTkl(img);
    const fd = k.sys.open('/mnt/img/frag', 0o1 | 0o100, 0o644);
    const block = new Uint8Array(1024);
    // Every other block: 3000 extents, 36 leaves of 84 → two index levels.
    for (let i = 0; i < 3000; i++) {
      block.fill(i & 0xff);
      k.sys.pwrite64(fd, block, 1024, i * 2048);
    }
    k.sys.close(fd);
    k.sys.sync();
    assert.match(run('debugfs', ['-R', 'ex /frag', img]), /^\s*2\/\s*2\s/m, 'the tree has depth 2');
    k.sys.truncate('/mnt/img/frag', 300 * 2048);
    k.sys.umount2('/mnt/img', 0);
    const f = e2fsck(img);
    assert.deepEqual(f.problems, [], f.output);
    withLoopMount(img, 'ro', (m) => {
      const b = fs.readFileSync(join(m, 'frag'));
      assert.equal(b.length, 300 * 2048);
      for (let i = 0; i < 300; i++) {
        assert.equal(b[i * 2048], i & 0xff);
        assert.equal(b[i * 2048 + 1024], 0);
      }
    });
  });

  it('a Linux htree directory changed by tkl stays valid for e2fsck and Linux', () => {
    const img = join(tmp.dir, 'htree.img');
    mke2fs(img, 32 << 20, ['-t', 'ext4', '-b', '1024']);
    withLoopMount(img, 'rw', (m) => {
      fs.mkdirSync(join(m, 'd'));
      for (let i = 0; i < 2000; i++) fs.writeFileSync(join(m, 'd', `entry-${i}`), `${i}`);
    });
    const k = mountTkl(img);
    for (let i = 0; i < 2000; i += 3) k.sys.unlink(`/mnt/img/d/entry-${i}`);
    for (let i = 0; i < 500; i++) k.fs.writeFile(`/mnt/img/d/new-${i}`, `n${i}`);
    k.sys.rename('/mnt/img/d/entry-1', '/mnt/img/d/renamed');
    k.sys.umount2('/mnt/img', 0);
    const f = e2fsck(img);
    assert.deepEqual(f.problems, [], f.output);
    withLoopMount(img, 'ro', (m) => {
      const names = new Set(fs.readdirSync(join(m, 'd')));
      assert.equal(names.size, 2000 - 667 + 500);
      assert.ok(names.has('renamed') && !names.has('entry-1') && !names.has('entry-0') && names.has('new-499'));
      assert.equal(fs.readFileSync(join(m, 'd', 'entry-1999'), 'utf8'), '1999');
    });
  });

  it('fallocate (unwritten extents, punch hole), SEEK_DATA/SEEK_HOLE, RENAME_EXCHANGE, unlink while open', () => {
    const img = join(tmp.dir, 'misc.img');
    mke2fs(img, 32 << 20, ['-t', 'ext4', '-b', '4096']);
    const k = mountTkl(img);
    const sys = k.sys;
    const fd = sys.open('/mnt/img/pre', 0o2 | 0o100, 0o644);
    sys.fallocate(fd, 0, 0, 1 << 20);
    assert.equal(sys.fstat(fd).size, 1 << 20);
    const data = new Uint8Array(10000).fill(0xab);
    sys.pwrite64(fd, data, data.length, 300000);
    sys.fallocate(fd, 0x01 | 0x02, 0, 8192);
    sys.pwrite64(fd, data, 100, 0);
    sys.fallocate(fd, 0x01 | 0x02, 4096, 4096);
    // Unwritten extents read as zeros and count as holes for SEEK_DATA.
    assert.equal(sys.lseek(fd, 4096, 3 /* SEEK_DATA */), 299008);
    assert.equal(sys.lseek(fd, 300000, 4 /* SEEK_HOLE */), 311296);
    sys.close(fd);
    k.fs.writeFile('/mnt/img/x', 'file x');
    k.fs.mkdir('/mnt/img/dx');
    k.fs.writeFile('/mnt/img/dx/inside', 'in dx');
    k.fs.mkdir('/mnt/img/other');
    sys.renameat2(-100, '/mnt/img/x', -100, '/mnt/img/other', 2 /* RENAME_EXCHANGE */);
    sys.renameat2(-100, '/mnt/img/dx', -100, '/mnt/img/x', 2);
    const ofd = sys.open('/mnt/img/gone', 0o2 | 0o100, 0o644);
    sys.pwrite64(ofd, new Uint8Array(50000).fill(1), 50000, 0);
    sys.unlink('/mnt/img/gone');
    sys.pwrite64(ofd, new Uint8Array(50000).fill(2), 50000, 50000);
    const back = new Uint8Array(100000);
    assert.equal(sys.pread64(ofd, back, back.length, 0), 100000);
    assert.equal(back[99999], 2);
    sys.close(ofd);
    sys.umount2('/mnt/img', 0);
    const f = e2fsck(img);
    assert.deepEqual(f.problems, [], f.output);
    withLoopMount(img, 'ro', (m) => {
      const b = fs.readFileSync(join(m, 'pre'));
      assert.equal(b.length, 1 << 20);
      assert.equal(b[0], 0xab);
      assert.equal(b[100], 0);
      assert.equal(b[300000], 0xab);
      assert.equal(b[310000], 0);
      assert.equal(fs.readFileSync(join(m, 'other'), 'utf8'), 'file x');
      assert.deepEqual(fs.readdirSync(join(m, 'dx')), []);
      assert.ok(fs.statSync(join(m, 'x')).isDirectory());
      assert.equal(fs.readFileSync(join(m, 'x', 'inside'), 'utf8'), 'in dx');
      assert.ok(!fs.existsSync(join(m, 'gone')));
    });
  });

  it('a file unlinked while open is on the orphan list; after a crash tkl and Linux both free it', () => {
    const img = join(tmp.dir, 'orphan.img');
    mke2fs(img, 32 << 20, ['-t', 'ext4', '-b', '1024']);
    const k = mountTkl(img);
    const fd = k.sys.open('/mnt/img/victim', 0o2 | 0o100, 0o644);
    k.sys.pwrite64(fd, new Uint8Array(200000).fill(3), 200000, 0);
    k.sys.unlink('/mnt/img/victim');
    k.sys.sync();
    // A crash now: the image as it is with the file open.
    const crash = join(tmp.dir, 'orphan-crash.img');
    fs.copyFileSync(img, crash);
    const crash2 = join(tmp.dir, 'orphan-crash2.img');
    fs.copyFileSync(img, crash2);
    assert.match(run('dumpe2fs', ['-h', crash]), /First orphan inode:\s+\d+/);
    k.sys.close(fd);
    k.sys.umount2('/mnt/img', 0);
    assert.deepEqual(e2fsck(img).problems, []);
    // tkl's mount frees the orphan.
    const k2 = mountTkl(crash);
    k2.sys.umount2('/mnt/img', 0);
    const f = e2fsck(crash);
    assert.deepEqual(f.problems, [], f.output);
    assert.doesNotMatch(run('dumpe2fs', ['-h', crash]), /First orphan inode/);
    // So does Linux's.
    withLoopMount(crash2, 'rw', () => {});
    const f2 = e2fsck(crash2);
    assert.deepEqual(f2.problems, [], f2.output);
  });

  it('inline-data files and directories made by Linux, and shared xattr blocks, change correctly', () => {
    const img = join(tmp.dir, 'inline.img');
    mke2fs(img, 32 << 20, ['-t', 'ext4', '-b', '4096', '-O', 'inline_data']);
    withLoopMount(img, 'rw', (m) => {
      fs.mkdirSync(join(m, 'small'));
      for (let i = 0; i < 3; i++) fs.writeFileSync(join(m, 'small', `s${i}`), `tiny ${i}`);
      fs.writeFileSync(join(m, 'in60'), 'x'.repeat(50));
      fs.writeFileSync(join(m, 'in100'), 'y'.repeat(100));
      for (const f of ['a', 'b']) {
        fs.writeFileSync(join(m, f), f);
        run('setfattr', ['-n', 'user.shared', '-v', '0x' + '5a'.repeat(1500), join(m, f)]);
      }
    });
    assert.match(run('debugfs', ['-R', 'stat /in60', img]), /Flags: 0x10000000/, 'Linux made an inline file');
    const acl = (p: string): string => /File ACL: (\d+)/.exec(run('debugfs', ['-R', `stat ${p}`, img]))![1]!;
    assert.ok(acl('/a') !== '0' && acl('/a') === acl('/b'), 'Linux shares one xattr block between a and b');
    const k = mountTkl(img);
    k.fs.appendFile('/mnt/img/in60', 'z'.repeat(5000));
    k.sys.truncate('/mnt/img/in100', 10);
    for (let i = 3; i < 40; i++) k.fs.writeFile(`/mnt/img/small/s${i}`, `more ${i}`);
    k.sys.unlink('/mnt/img/small/s0');
    k.sys.setxattr('/mnt/img/a', 'user.shared', new Uint8Array(1500).fill(1), 0);
    k.sys.umount2('/mnt/img', 0);
    const f = e2fsck(img);
    assert.deepEqual(f.problems, [], f.output);
    withLoopMount(img, 'ro', (m) => {
      assert.equal(fs.readFileSync(join(m, 'in60'), 'utf8'), 'x'.repeat(50) + 'z'.repeat(5000));
      assert.equal(fs.readFileSync(join(m, 'in100'), 'utf8'), 'y'.repeat(10));
      assert.equal(fs.readdirSync(join(m, 'small')).length, 39);
      assert.equal(fs.readFileSync(join(m, 'small', 's39'), 'utf8'), 'more 39');
      assert.equal(fs.readFileSync(join(m, 'small', 's1'), 'utf8'), 'tiny 1');
      assert.match(run('getfattr', ['-n', 'user.shared', '-e', 'hex', join(m, 'a')]), /=0x(01)+\n/);
      assert.match(run('getfattr', ['-n', 'user.shared', '-e', 'hex', join(m, 'b')]), /=0x(5a)+\n/);
    });
  });

  it('filling the filesystem gives ENOSPC and leaves it consistent', () => {
    const img = join(tmp.dir, 'full.img');
    mke2fs(img, 8 << 20, ['-t', 'ext4', '-b', '1024']);
    const k = mountTkl(img);
    const chunk = new Uint8Array(64 * 1024).fill(1);
    let code = '';
    const fd = k.sys.open('/mnt/img/fill', 0o1 | 0o100, 0o644);
    try {
      for (let pos = 0; pos < 1 << 30; ) pos += k.sys.pwrite64(fd, chunk, chunk.length, pos);
    } catch (e) {
      code = (e as { code: string }).code;
    }
    k.sys.close(fd);
    assert.equal(code, 'ENOSPC');
    let created = 0;
    try {
      for (let i = 0; i < 100000; i++) {
        k.fs.writeFile(`/mnt/img/small${i}`, 'x'.repeat(2000));
        created++;
      }
    } catch (e) {
      assert.equal((e as { code: string }).code, 'ENOSPC');
    }
    const size = k.sys.stat('/mnt/img/fill').size;
    k.sys.unlink('/mnt/img/fill');
    k.fs.writeFile('/mnt/img/after', 'space again');
    k.sys.umount2('/mnt/img', 0);
    const f = e2fsck(img);
    assert.deepEqual(f.problems, [], f.output);
    assert.ok(size > 4 << 20, `wrote ${size} bytes before ENOSPC (then ${created} small files)`);
  });
});
