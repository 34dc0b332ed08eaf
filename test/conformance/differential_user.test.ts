// The differential test as an unprivileged user: the same random sequences run by uid 1000 on
// Linux (node:fs in a child process started as uid 1000) and by a uid-1000 task on tkl, in a
// tree that holds what such a user meets — a root-owned directory, a sticky world-writable one
// with root's file in it, another user's world-writable directory — so permission checks,
// the sticky rule and ownership rules are compared with Linux's, errno for errno.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as nfs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, chmodSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { boot, type Tkl } from '../../src/index.js';
import { snapshotHost, type Op, type Outcome } from './host_world.js';
import { TklWorld, snapshotTkl, PAD, TKL_ROOT } from './tkl_world.js';
import { opSequences } from './ops.js';
import { diffSeed, hostSysctl } from './host_world.js';

const USER = 1000;
const OTHER = 1001;
const NAMES = ['a', 'b', 'r', 's', 'o', 'f'];

/** What the user finds in its directory `w` (made by root before the user runs). */
const SETUP: { path: string; dir: boolean; mode: number; uid: number; data?: string }[] = [
  { path: 'r', dir: true, mode: 0o755, uid: 0 },
  { path: 'r/f', dir: false, mode: 0o644, uid: 0, data: 'root' },
  { path: 's', dir: true, mode: 0o1777, uid: 0 },
  { path: 's/f', dir: false, mode: 0o666, uid: 0, data: 'sticky' },
  { path: 'o', dir: true, mode: 0o777, uid: OTHER },
  { path: 'o/f', dir: false, mode: 0o644, uid: OTHER, data: 'other' },
];

function setupHost(w: string): void {
  nfs.mkdirSync(w, { recursive: true, mode: 0o755 });
  nfs.chownSync(w, USER, USER);
  for (const e of SETUP) {
    const p = join(w, e.path);
    if (e.dir) nfs.mkdirSync(p);
    else writeFileSync(p, e.data ?? '');
    chmodSync(p, e.mode);
    nfs.chownSync(p, e.uid, e.uid);
  }
}

function setupTkl(k: Tkl): void {
  k.fs.mkdir(TKL_ROOT, { recursive: true, mode: 0o755 });
  k.sys.chown(TKL_ROOT, USER, USER);
  for (const e of SETUP) {
    const p = `${TKL_ROOT}/${e.path}`;
    if (e.dir) k.sys.mkdir(p, 0o700);
    else k.fs.writeFile(p, e.data ?? '');
    k.sys.chmod(p, e.mode);
    k.sys.chown(p, e.uid, e.uid);
  }
}

const runs = Number(process.env.TKL_DIFF_USER_RUNS ?? (process.env.TKL_SOAK ? 10_000 : 500));
const skip = process.getuid?.() !== 0 ? 'needs root to run the Linux side as uid 1000 and to make root-owned files' : false;

test(`differential as uid ${USER}: ${runs} sequences agree with Linux, permissions included`, { skip, timeout: 600_000 }, () => {
  const base = mkdtempSync(join(nfs.existsSync('/dev/shm') ? '/dev/shm' : '/tmp', 'tkl-diffu-'));
  chmodSync(base, 0o755);
  try {
    // A fixed seed keeps CI reproducible; TKL_DIFF_SEED=random (or a number) explores.
    const seed = diffSeed(20261122);
    const sequences = fc.sample(opSequences(NAMES, 20), { numRuns: runs, seed });
    const dirs = sequences.map((_, i) => {
      const w = join(base, String(i), PAD, 'w');
      setupHost(w);
      return w;
    });
    // The runner and its one dependency, where uid 1000 can read them.
    const here = fileURLToPath(new URL('.', import.meta.url));
    const bin = join(base, 'bin');
    nfs.mkdirSync(bin, { mode: 0o755 });
    copyFileSync(join(here, 'host_world.js'), join(bin, 'host_world.mjs'));
    writeFileSync(join(bin, 'runner.mjs'), readFileSync(join(here, 'host_runner.js'), 'utf8').replace("'./host_world.js'", "'./host_world.mjs'"));
    const r = spawnSync(process.execPath, [join(bin, 'runner.mjs')], {
      input: JSON.stringify({ dirs, sequences }), uid: USER, gid: USER, encoding: 'utf8', maxBuffer: 1 << 28, timeout: 300_000,
    });
    assert.equal(r.status, 0, `the host runner failed: ${r.stderr}`);
    const want = JSON.parse(r.stdout) as Outcome[][];
    for (let i = 0; i < sequences.length; i++) {
      const ops = sequences[i]!;
      const k = boot({ sysctl: hostSysctl() });
      k.sys.mkdir('/r', 0o755);
      setupTkl(k);
      const user = k.process({ uid: USER, gid: USER, umask: 0o022 });
      const world = new TklWorld(user);
      const context = (): string => `seed ${seed}, sequence ${i}: ${JSON.stringify(ops)}`;
      for (let j = 0; j < ops.length; j++) {
        const got = world.run(ops[j] as Op);
        assert.deepEqual(got, want[i]![j], `step ${j} ${JSON.stringify(ops[j])} — ${context()}`);
      }
      assert.deepEqual(snapshotTkl(k, true), snapshotHost(dirs[i]!, true), `final trees differ — ${context()}`);
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
