// Sandbox escapes: no WASI path, `..` or symlink may resolve outside the directory descriptor
// it starts from (a release-blocking bug if it does). Every path-taking function is tried with
// escaping paths against a host directory (hostfs) that holds symlinks pointing out of it, a
// seeded property test throws random paths at path_open, and the outside is checked untouched.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Harness } from './harness.js';
import * as W from '../../src/api/wasi/abi.js';

interface Jail {
  base: string;
  jail: string;
  h: Harness;
  root: number;
}

function makeJail(): Jail {
  const base = mkdtempSync(join(tmpdir(), 'tkl-sandbox-'));
  writeFileSync(join(base, 'secret.txt'), 'outside\n');
  const jail = join(base, 'jail');
  mkdirSync(join(jail, 'sub', 'deeper'), { recursive: true });
  writeFileSync(join(jail, 'file.txt'), 'inside\n');
  writeFileSync(join(jail, 'sub', 'inner.txt'), 'inner\n');
  symlinkSync('/', join(jail, 'abs'));
  symlinkSync(join(base, 'secret.txt'), join(jail, 'abs2'));
  symlinkSync('../secret.txt', join(jail, 'up'));
  symlinkSync('../../', join(jail, 'sub', 'upup'));
  symlinkSync('sub/../../secret.txt', join(jail, 'subup'));
  symlinkSync('deeper/../..', join(jail, 'sub', 'toroot'));
  symlinkSync('loop', join(jail, 'loop'));
  const h = new Harness({ dirs: [{ host: jail, guest: '/' }] });
  return { base, jail, h, root: h.preopens[0]!.fd };
}

function outsideUntouched(j: Jail): void {
  assert.deepEqual(readdirSync(j.base).sort(), ['jail', 'secret.txt'], 'nothing was made next to the jail');
  assert.equal(readFileSync(join(j.base, 'secret.txt'), 'utf8'), 'outside\n');
}

const ESCAPES = [
  '..', '../secret.txt', '/secret.txt', '/', 'sub/../../secret.txt', './../secret.txt', 'sub/deeper/../../../secret.txt',
  'up', 'abs', 'abs/etc/passwd', 'abs2', 'sub/upup/secret.txt', 'subup', 'sub/../../jail/file.txt',
];

test('path_open: escaping paths and symlinks fail with PERM, following or not', () => {
  const j = makeJail();
  try {
    for (const p of ESCAPES) {
      const [e] = j.h.open(j.root, p, { follow: true });
      assert.equal(e, W.ERRNO_PERM, `open ${p} (follow)`);
      const [e2] = j.h.open(j.root, p + (p.endsWith('/') ? '' : '/x'), { follow: true, oflags: W.OFLAGS_CREAT });
      assert.notEqual(e2, 0, `create beneath ${p}`);
    }
    // Without following, a symlink inside the jail is only itself (ELOOP to open).
    assert.equal(j.h.open(j.root, 'up')[0], 32 /* loop */);
    assert.equal(j.h.open(j.root, 'loop', { follow: true })[0], 32);
    // Inside stays reachable through "..", and through a link that stays inside.
    assert.equal(j.h.open(j.root, 'sub/../file.txt')[0], 0);
    assert.equal(j.h.open(j.root, 'sub/toroot/file.txt', { follow: true })[0], 0);
    outsideUntouched(j);
  } finally {
    j.h.close();
    rmSync(j.base, { recursive: true, force: true });
  }
});

test('every path function refuses escapes and leaves the outside untouched', () => {
  const j = makeJail();
  const h = j.h;
  const r = j.root;
  try {
    const s = (p: string): [number, number] => h.str(p);
    for (const p of ['../x', '/x', 'sub/../../x', 'up/x', 'abs/tmp/x']) {
      assert.notEqual(h.call('path_create_directory', r, ...s(p)), 0, `mkdir ${p}`);
      assert.notEqual(h.call('path_symlink', ...s('file.txt'), r, ...s(p)), 0, `symlink at ${p}`);
      assert.notEqual(h.call('path_link', r, 0, ...s('file.txt'), r, ...s(p)), 0, `link to ${p}`);
      assert.notEqual(h.call('path_rename', r, ...s('file.txt'), r, ...s(p)), 0, `rename to ${p}`);
    }
    for (const p of ['../secret.txt', '/secret.txt', 'sub/../../secret.txt', 'abs2', 'up']) {
      const follow = W.LOOKUPFLAGS_SYMLINK_FOLLOW;
      assert.equal(h.call('path_filestat_get', r, follow, ...s(p), h.alloc(64)), W.ERRNO_PERM, `stat ${p}`);
      assert.equal(h.call('path_filestat_set_times', r, follow, ...s(p), 0n, 0n, W.FSTFLAGS_MTIM), W.ERRNO_PERM, `utimes ${p}`);
      assert.equal(h.call('path_link', r, follow, ...s(p), r, ...s('stolen')), W.ERRNO_PERM, `link from ${p}`);
    }
    for (const p of ['../secret.txt', '/secret.txt', 'sub/../../secret.txt', 'sub/upup/secret.txt']) {
      assert.equal(h.call('path_unlink_file', r, ...s(p)), W.ERRNO_PERM, `unlink ${p}`);
      assert.equal(h.call('path_rename', r, ...s(p), r, ...s('stolen')), W.ERRNO_PERM, `rename from ${p}`);
      assert.equal(h.call('path_readlink', r, ...s(p), h.alloc(64), 64, h.alloc(4)), W.ERRNO_PERM, `readlink ${p}`);
    }
    assert.equal(h.call('path_remove_directory', r, ...s('../jail')), W.ERRNO_PERM);
    // Absolute symlink targets are refused outright; relative ones may be made, not followed out.
    assert.equal(h.call('path_symlink', ...s('/etc/passwd'), r, ...s('evil')), W.ERRNO_PERM);
    assert.equal(h.call('path_symlink', ...s('../secret.txt'), r, ...s('rel')), 0);
    assert.equal(h.open(r, 'rel', { follow: true })[0], W.ERRNO_PERM);
    outsideUntouched(j);
    assert.equal(lstatSync(join(j.jail, 'file.txt')).isFile(), true);
  } finally {
    h.close();
    rmSync(j.base, { recursive: true, force: true });
  }
});

test('a directory descriptor is its own sandbox: ".." cannot leave it, even into the preopen', () => {
  const j = makeJail();
  try {
    const [e, sub] = j.h.open(j.root, 'sub', { oflags: W.OFLAGS_DIRECTORY });
    assert.equal(e, 0);
    assert.equal(j.h.open(sub, 'inner.txt')[0], 0);
    assert.equal(j.h.open(sub, '../file.txt')[0], W.ERRNO_PERM);
    assert.equal(j.h.open(sub, 'upup', { follow: true })[0], W.ERRNO_PERM);
    assert.equal(j.h.open(sub, 'toroot', { follow: true })[0], W.ERRNO_PERM);
  } finally {
    j.h.close();
    rmSync(j.base, { recursive: true, force: true });
  }
});

test('a tmpfs preopen in the kernel namespace cannot reach /proc, /dev or the root', () => {
  const h = new Harness({ tmpfs: ['/jail'] });
  const r = h.preopens[0]!.fd;
  try {
    assert.equal(h.call('path_symlink', ...h.str('../proc/self/root'), r, ...h.str('p')), 0);
    for (const p of ['../proc/self/root', '../dev/null', '/dev/null', 'p', 'p/etc']) {
      assert.equal(h.open(r, p, { follow: true })[0], W.ERRNO_PERM, p);
    }
  } finally {
    h.close();
  }
});

test('property: whatever path_open opens lies inside the jail', () => {
  const j = makeJail();
  try {
    // Every inode inside the jail, as the host sees it (no symlink followed).
    const inside = new Set<bigint>();
    const walk = (p: string): void => {
      const st = lstatSync(p, { bigint: true });
      inside.add(st.ino);
      if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
    };
    walk(j.jail);
    const part = fc.constantFrom('..', '.', '', 'sub', 'deeper', 'file.txt', 'inner.txt', 'up', 'upup', 'abs', 'abs2', 'subup', 'toroot', 'loop', 'secret.txt', 'jail');
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 8 }), fc.boolean(), fc.boolean(), (parts, follow, absolute) => {
        const path = (absolute ? '/' : '') + parts.join('/');
        if (path === '') return;
        const [e, fd] = j.h.open(j.root, path, { follow });
        if (e !== 0) return;
        const st = j.h.alloc(64);
        assert.equal(j.h.call('fd_filestat_get', fd, st), 0);
        const ino = j.h.u64(st + 8);
        j.h.call('fd_close', fd);
        assert.ok(inside.has(ino), `${path} (follow ${follow}) opened inode ${ino}, which is outside the jail`);
      }),
      { seed: 20240601, numRuns: 2000 },
    );
    outsideUntouched(j);
  } finally {
    j.h.close();
    rmSync(j.base, { recursive: true, force: true });
  }
});
