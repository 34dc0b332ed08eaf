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
import { boot } from '../../src/index.js';
import { HostWorld, snapshotHost } from './host_world.js';
import { TklWorld, snapshotTkl, PAD, TKL_ROOT } from './tkl_world.js';
import { opSequences } from './ops.js';
import { diffSeed, hostSysctl } from './host_world.js';

const runs = Number(process.env.TKL_DIFF_RUNS ?? (process.env.TKL_SOAK ? 40000 : 2000));

test(`differential: ${runs} random syscall sequences agree with Linux tmpfs`, { timeout: 600_000 }, (t) => {
  const base = nfs.existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  if (base !== '/dev/shm') t.diagnostic('no /dev/shm: comparing against the host temporary directory (directory sizes may differ)');
  const hostRoot = mkdtempSync(join(base, 'tkl-diff-'));
  const oldUmask = process.umask(0o022);
  try {
    // A fixed seed keeps CI reproducible; TKL_DIFF_SEED=random (or a number) explores.
    const seed = diffSeed(1122);
    fc.assert(
      fc.property(opSequences(['a', 'b', 'c', 'd']), (ops) => {
        rmSync(join(hostRoot, 'p'), { recursive: true, force: true });
        const dir = join(hostRoot, PAD, 'w');
        nfs.mkdirSync(dir, { recursive: true, mode: 0o755 });
        const host = new HostWorld(dir);
        const k = boot({ sysctl: hostSysctl() });
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
      { numRuns: runs, seed },
    );
  } finally {
    process.umask(oldUmask);
    rmSync(hostRoot, { recursive: true, force: true });
  }
});
