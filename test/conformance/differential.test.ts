// Differential test against Linux: random sequences of filesystem syscalls run both on a tkl
// tmpfs and on a fresh directory of the host's tmpfs (/dev/shm) through node:fs; every result
// and errno, and afterwards the whole tree (names, types, modes, sizes, link counts, contents,
// link targets), must agree. TKL_SOAK=1 runs 20× more sequences. A failure prints fast-check's
// seed and the shrunk sequence; `TKL_DIFF_SEED=<seed>` replays it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as nfs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import fc from 'fast-check';
import { boot, type Tkl } from '../../src/index.js';
import { AT_FDCWD, O_CLOEXEC, O_RDONLY, O_WRONLY } from '../../src/abi/linux/fcntl.js';

type Op =
  | { op: 'open'; path: string; flags: number; mode: number; data: number[] | null }
  | { op: 'pwrite'; path: string; offset: number; data: number[] }
  | { op: 'truncate'; path: string; len: number }
  | { op: 'mkdir'; path: string; mode: number }
  | { op: 'rename'; from: string; to: string }
  | { op: 'link'; from: string; to: string }
  | { op: 'symlink'; target: string; path: string }
  | { op: 'unlink'; path: string }
  | { op: 'rmdir'; path: string }
  | { op: 'chmod'; path: string; mode: number }
  | { op: 'readdir'; path: string }
  | { op: 'stat'; path: string; follow: boolean }
  | { op: 'read'; path: string }
  | { op: 'readlink'; path: string };

const NAMES = ['a', 'b', 'c', 'd'];
const seg = fc.constantFrom(...NAMES, ...NAMES, '.', '..');
const path = fc
  .tuple(fc.array(seg, { minLength: 1, maxLength: 3 }), fc.constantFrom('', '', '', '/', '//'))
  .map(([parts, trail]) => parts.join('/') + trail)
  // Never climb above the test directory: the two worlds differ outside it.
  .filter((p) => {
    let depth = 0;
    for (const s of p.split('/')) {
      if (s === '..') depth--;
      else if (s !== '.' && s !== '') depth++;
      if (depth < 0) return false;
    }
    return true;
  });
const target = fc.oneof(
  path,
  fc.constantFrom('a', 'b', 'a/b', '../a', 'nowhere', '.', 'c/../a'),
);
const mode = fc.constantFrom(0o777, 0o755, 0o700, 0o644, 0o600, 0o444, 0o000, 0o1777, 0o4755, 0o2755);
const data = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 0, maxLength: 9000 });
const openFlags = fc
  .record({
    acc: fc.constantFrom(0, 1, 2),
    creat: fc.boolean(),
    excl: fc.boolean(),
    trunc: fc.boolean(),
    append: fc.boolean(),
    directory: fc.boolean(),
    nofollow: fc.boolean(),
    path: fc.boolean(),
  })
  .map((f) => {
    const C = nfs.constants;
    let flags = f.acc;
    if (f.creat) flags |= C.O_CREAT;
    if (f.excl) flags |= C.O_EXCL;
    if (f.trunc) flags |= C.O_TRUNC;
    if (f.append) flags |= C.O_APPEND;
    if (f.directory) flags |= C.O_DIRECTORY;
    if (f.nofollow) flags |= C.O_NOFOLLOW;
    if (f.path) flags |= 0o10000000; // O_PATH
    return flags;
  });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('open' as const), path, flags: openFlags, mode, data: fc.option(data, { nil: null }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('pwrite' as const), path, offset: fc.integer({ min: 0, max: 20000 }), data }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), path, len: fc.integer({ min: 0, max: 20000 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('mkdir' as const), path, mode }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('rename' as const), from: path, to: path }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('link' as const), from: path, to: path }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('symlink' as const), target, path }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('unlink' as const), path }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('rmdir' as const), path }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('chmod' as const), path, mode }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('readdir' as const), path }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('stat' as const), path, follow: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('read' as const), path }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('readlink' as const), path }) },
);

/** What one operation produced, in a form both worlds can be compared by. */
type Outcome = { ok: true; value?: unknown } | { ok: false; code: string };

interface World {
  run(op: Op): Outcome;
}

function outcome(fn: () => unknown): Outcome {
  try {
    const value = fn();
    return value === undefined ? { ok: true } : { ok: true, value };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') throw e;
    return { ok: false, code };
  }
}

function statSummary(s: { mode: number; size: number; nlink: number }) {
  const type = s.mode & 0o170000;
  // Directory sizes count entries on both tmpfs; compare them too.
  return { mode: s.mode, nlink: s.nlink, size: s.size, type };
}

class HostWorld implements World {
  constructor(readonly root: string) {}
  p(rel: string): string {
    // Plain concatenation: path.join would normalise "a/.." away before Linux sees it.
    return `${this.root}/${rel}`;
  }
  run(op: Op): Outcome {
    const fs = nfs;
    switch (op.op) {
      case 'open':
        return outcome(() => {
          const fd = fs.openSync(this.p(op.path), op.flags | O_CLOEXEC, op.mode);
          try {
            if (op.data !== null) return fs.writeSync(fd, Buffer.from(op.data));
          } catch (e) {
            return `write:${(e as NodeJS.ErrnoException).code}`;
          } finally {
            fs.closeSync(fd);
          }
          return undefined;
        });
      case 'pwrite':
        return outcome(() => {
          const fd = fs.openSync(this.p(op.path), O_WRONLY);
          try {
            return fs.writeSync(fd, Buffer.from(op.data), 0, op.data.length, op.offset);
          } finally {
            fs.closeSync(fd);
          }
        });
      case 'truncate':
        // node:fs has no truncate(2): it opens O_RDWR and ftruncates (and clamps negative
        // lengths to 0, so the generator makes none; the unit tests cover EINVAL).
        return outcome(() => fs.truncateSync(this.p(op.path), op.len));
      case 'mkdir':
        return outcome(() => fs.mkdirSync(this.p(op.path), op.mode));
      case 'rename':
        return outcome(() => fs.renameSync(this.p(op.from), this.p(op.to)));
      case 'link':
        return outcome(() => fs.linkSync(this.p(op.from), this.p(op.to)));
      case 'symlink':
        return outcome(() => fs.symlinkSync(op.target, this.p(op.path)));
      case 'unlink':
        return outcome(() => fs.unlinkSync(this.p(op.path)));
      case 'rmdir':
        return outcome(() => fs.rmdirSync(this.p(op.path)));
      case 'chmod':
        return outcome(() => fs.chmodSync(this.p(op.path), op.mode));
      case 'readdir':
        return outcome(() => fs.readdirSync(this.p(op.path)).sort());
      case 'stat':
        return outcome(() => statSummary(op.follow ? fs.statSync(this.p(op.path)) : fs.lstatSync(this.p(op.path))));
      case 'read':
        return outcome(() => [...fs.readFileSync(this.p(op.path))]);
      case 'readlink':
        return outcome(() => fs.readlinkSync(this.p(op.path)));
    }
  }
}

/**
 * Symlinks such as a -> "." let a path climb above the test directory, so both worlds put it
 * beneath the same stack of padding directories (PAD), inside a 0700 directory like mkdtemp's.
 */
const PAD = 'p/p/p/p/p';
const TKL_ROOT = '/r/' + PAD + '/w';

class TklWorld implements World {
  constructor(readonly k: Tkl) {}
  p(rel: string): string {
    return `${TKL_ROOT}/${rel}`;
  }
  run(op: Op): Outcome {
    const s = this.k.sys;
    switch (op.op) {
      case 'open':
        return outcome(() => {
          const fd = s.openat(AT_FDCWD, this.p(op.path), op.flags | O_CLOEXEC, op.mode);
          try {
            if (op.data !== null) return this.writeSync(fd, Uint8Array.from(op.data), -1);
          } catch (e) {
            return `write:${(e as { code: string }).code}`;
          } finally {
            s.close(fd);
          }
          return undefined;
        });
      case 'pwrite':
        return outcome(() => {
          const fd = s.openat(AT_FDCWD, this.p(op.path), O_WRONLY);
          try {
            return this.writeSync(fd, Uint8Array.from(op.data), op.offset);
          } finally {
            s.close(fd);
          }
        });
      case 'truncate':
        return outcome(() => void s.truncate(this.p(op.path), op.len));
      case 'mkdir':
        return outcome(() => void s.mkdir(this.p(op.path), op.mode));
      case 'rename':
        return outcome(() => void s.rename(this.p(op.from), this.p(op.to)));
      case 'link':
        return outcome(() => void s.link(this.p(op.from), this.p(op.to)));
      case 'symlink':
        return outcome(() => void s.symlink(op.target, this.p(op.path)));
      case 'unlink':
        return outcome(() => void s.unlink(this.p(op.path)));
      case 'rmdir':
        return outcome(() => void s.rmdir(this.p(op.path)));
      case 'chmod':
        return outcome(() => void s.chmod(this.p(op.path), op.mode));
      case 'readdir':
        return outcome(() => {
          const fd = s.openat(AT_FDCWD, this.p(op.path), O_RDONLY | 0o200000);
          try {
            const names: string[] = [];
            for (let batch = s.getdents64(fd); batch.length > 0; batch = s.getdents64(fd)) {
              for (const d of batch) if (d.name !== '.' && d.name !== '..') names.push(d.name);
            }
            return names.sort();
          } finally {
            s.close(fd);
          }
        });
      case 'stat':
        return outcome(() => statSummary(op.follow ? s.stat(this.p(op.path)) : s.lstat(this.p(op.path))));
      case 'read':
        return outcome(() => [...this.k.fs.readFile(this.p(op.path))]);
      case 'readlink':
        return outcome(() => s.readlink(this.p(op.path)));
    }
  }
  /** write/pwrite through the kernel's synchronous core (regular files never wait). */
  private writeSync(fd: number, data: Uint8Array, pos: number): number {
    return pos < 0 ? this.k.sys.pwritev(fd, [data], this.k.sys.lseek(fd, 0, 1)) && this.advance(fd, data.length) : this.k.sys.pwrite64(fd, data, data.length, pos);
  }
  private advance(fd: number, n: number): number {
    this.k.sys.lseek(fd, n, 1);
    return n;
  }
}

/** The whole tree beneath the test directory, as comparable data. */
function snapshotHost(root: string): unknown {
  const out: Record<string, unknown> = {};
  const walk = (rel: string): void => {
    const full = join(root, rel);
    const st = nfs.lstatSync(full);
    const entry: Record<string, unknown> = statSummary(st);
    if (st.isSymbolicLink()) entry.target = nfs.readlinkSync(full);
    else if (st.isFile()) entry.data = nfs.readFileSync(full).toString('base64');
    out[rel] = entry;
    if (st.isDirectory()) for (const n of nfs.readdirSync(full).sort()) walk(rel === '' ? n : `${rel}/${n}`);
  };
  walk('');
  return out;
}

function snapshotTkl(k: Tkl): unknown {
  const out: Record<string, unknown> = {};
  const walk = (rel: string): void => {
    const full = rel === '' ? TKL_ROOT : `${TKL_ROOT}/${rel}`;
    const st = k.sys.lstat(full);
    const entry: Record<string, unknown> = statSummary(st);
    const type = st.mode & 0o170000;
    if (type === 0o120000) entry.target = k.sys.readlink(full);
    else if (type === 0o100000) entry.data = Buffer.from(k.fs.readFile(full)).toString('base64');
    out[rel] = entry;
    if (type === 0o040000) for (const n of k.fs.readdir(full).sort()) walk(rel === '' ? n : `${rel}/${n}`);
  };
  walk('');
  return out;
}

const runs = Number(process.env.TKL_DIFF_RUNS ?? (process.env.TKL_SOAK ? 40000 : 2000));

test(`differential: ${runs} random syscall sequences agree with Linux tmpfs`, { timeout: 600_000 }, (t) => {
  const base = nfs.existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  if (base !== '/dev/shm') t.diagnostic('no /dev/shm: comparing against the host temporary directory (directory sizes may differ)');
  const hostRoot = mkdtempSync(join(base, 'tkl-diff-'));
  const oldUmask = process.umask(0o022);
  try {
    const seed = process.env.TKL_DIFF_SEED ? Number(process.env.TKL_DIFF_SEED) : undefined;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), (ops) => {
        rmSync(join(hostRoot, 'p'), { recursive: true, force: true });
        const dir = join(hostRoot, PAD, 'w');
        nfs.mkdirSync(dir, { recursive: true, mode: 0o755 });
        const host = new HostWorld(dir);
        const k = boot();
        k.sys.mkdir('/r', 0o700);
        k.fs.mkdir(TKL_ROOT, { recursive: true, mode: 0o755 });
        const mine = new TklWorld(k);
        for (let i = 0; i < ops.length; i++) {
          const op = ops[i]!;
          const want = host.run(op);
          const got = mine.run(op);
          assert.deepEqual(got, want, `step ${i}: ${JSON.stringify(op)}`);
        }
        assert.deepEqual(snapshotTkl(k), snapshotHost(dir), 'final trees differ');
      }),
      { numRuns: runs, ...(seed !== undefined ? { seed } : {}) },
    );
  } finally {
    process.umask(oldUmask);
    rmSync(hostRoot, { recursive: true, force: true });
  }
});
