// Journal replay against Linux's own journal: Linux writes through a loop mount and an fsync
// forces a JBD2 commit; the image copied at that instant holds the new metadata only in the
// journal (home locations are written back much later). tkl must replay it — onto the image
// when writable, into memory when read-only — and show what Linux shows after its unmount.
// tkl's own commits must leave a clean, empty journal that e2fsck accepts.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { diffSnapshots, e2fsck, hostSnapshot, missingTools, mke2fs, mountTkl, run, sha, tempDir, tklSnapshot, withLoopMount } from './helpers.js';
import { randomBytes, prng } from './tree.js';

const missing = missingTools();

/** Makes `img` and a copy `crash` taken right after a journal commit, before Linux's checkpoint. */
function crashCopy(img: string, crash: string, args: string[]): void {
  mke2fs(img, 64 << 20, args);
  const rand = prng(3);
  withLoopMount(img, 'rw', (m) => {
    fs.mkdirSync(join(m, 'dir/sub'), { recursive: true });
    for (let i = 0; i < 200; i++) fs.writeFileSync(join(m, 'dir', `f${i}`), randomBytes(rand, (i * 997) % 20000));
    fs.symlinkSync('x'.repeat(300), join(m, 'dir/slow-link'));
    fs.renameSync(join(m, 'dir/f7'), join(m, 'dir/sub/moved'));
    fs.unlinkSync(join(m, 'dir/f8'));
    const fd = fs.openSync(join(m, 'dir/f9'), 'r+');
    fs.writeSync(fd, randomBytes(rand, 100), 0, 100, 50);
    // fsync commits the running transaction (and, in ordered mode, the data first).
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.copyFileSync(img, crash);
  });
}

describe('ext4 journal replay (JBD2 written by Linux)', { skip: missing ?? false }, () => {
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir();
  });
  after(() => tmp?.cleanup());

  const cases: [string, string[], string][] = [
    ['ext4 (csum v3, 64-bit tags)', ['-t', 'ext4', '-b', '4096'], 'ext4'],
    ['ext4 1 KiB without metadata_csum', ['-t', 'ext4', '-b', '1024', '-O', '^metadata_csum,^64bit'], 'ext4'],
    ['ext3 (no journal checksums, 32-bit tags)', ['-t', 'ext3', '-b', '2048'], 'ext3'],
  ];
  for (const [name, args, type] of cases) {
    it(`${name}: replay on a writable image, then a clean unmount`, () => {
      const i = cases.findIndex((c) => c[0] === name);
      const img = join(tmp.dir, `orig-${i}`);
      const crash = join(tmp.dir, `crash-${i}`);
      crashCopy(img, crash, args);
      const dump = run('dumpe2fs', ['-h', crash]);
      assert.match(dump, /needs_recovery/, 'the copy needs recovery');
      assert.doesNotMatch(dump, /Journal start:\s+0\n/, 'the copy has a non-empty journal');
      // The truth: Linux's own replay of the same copy (a loop mount replays even read-only).
      const linuxCopy = join(tmp.dir, `linux-${i}`);
      fs.copyFileSync(crash, linuxCopy);
      const linux = withLoopMount(linuxCopy, 'rw,noatime', (m) => hostSnapshot(m, { times: true, ctime: true }));
      assert.ok(linux.has('/dir/f199') && linux.has('/dir/sub/moved') && !linux.has('/dir/f8'), 'the journal held the changes');

      // Read-only device: replayed in memory, the image stays as it was.
      const before = sha(crash);
      const ro = mountTkl(crash, { readOnly: true, type });
      assert.deepEqual(diffSnapshots(linux, tklSnapshot(ro, '/mnt/img', { times: true, ctime: true })), []);
      ro.sys.umount2('/mnt/img', 0);
      assert.equal(sha(crash), before, 'a read-only replay does not write');

      // Writable: replayed onto the image.
      const k = mountTkl(crash, { type });
      assert.deepEqual(diffSnapshots(linux, tklSnapshot(k, '/mnt/img', { times: true, ctime: true })), []);
      k.fs.writeFile('/mnt/img/dir/after-replay', 'written by tkl');
      k.sys.umount2('/mnt/img', 0);
      const after = run('dumpe2fs', ['-h', crash]);
      assert.doesNotMatch(after, /needs_recovery/);
      assert.match(after, /Journal start:\s+0\n/);
      const f = e2fsck(crash);
      assert.deepEqual(f.problems, [], f.output);
      assert.equal(f.status, 0);
      withLoopMount(crash, 'ro', (m) => assert.equal(fs.readFileSync(join(m, 'dir/after-replay'), 'utf8'), 'written by tkl'));
    });
  }

  it('the changes live only in the journal: without replay the copy lacks them', () => {
    const img = join(tmp.dir, 'orig-x');
    const crash = join(tmp.dir, 'crash-x');
    crashCopy(img, crash, ['-t', 'ext4']);
    const unreplayed = join(tmp.dir, 'unreplayed');
    fs.copyFileSync(crash, unreplayed);
    run('debugfs', ['-w', '-R', 'feature -needs_recovery', unreplayed]);
    const k0 = mountTkl(unreplayed, { readOnly: true });
    const stale = k0.fs.exists('/mnt/img/dir') ? k0.fs.readdir('/mnt/img/dir') : [];
    k0.sys.umount2('/mnt/img', 0);
    const k = mountTkl(crash, { readOnly: true });
    const names = k.fs.readdir('/mnt/img/dir');
    k.sys.umount2('/mnt/img', 0);
    assert.ok(names.includes('f199') && names.includes('sub') && !names.includes('f8'));
    assert.notDeepEqual(stale.sort(), names.sort(), 'replay changed what the image shows');
  });
});

describe('ext4 journal: tkl commits', { skip: missing ?? false }, () => {
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir();
  });
  after(() => tmp?.cleanup());

  it('a tkl mount leaves needs_recovery set while mounted, and logs through the journal', () => {
    const img = join(tmp.dir, 'img');
    mke2fs(img, 32 << 20, ['-t', 'ext4']);
    const k = mountTkl(img);
    assert.match(run('dumpe2fs', ['-h', img]), /needs_recovery/);
    for (let i = 0; i < 50; i++) k.fs.writeFile(`/mnt/img/f${i}`, `file ${i}`);
    k.sys.sync();
    // Between commits the journal is empty and the image is consistent.
    const mid = join(tmp.dir, 'mid');
    fs.copyFileSync(img, mid);
    run('debugfs', ['-w', '-R', 'feature -needs_recovery', mid]);
    const f = e2fsck(mid);
    assert.deepEqual(f.problems, [], f.output);
    k.sys.umount2('/mnt/img', 0);
    const dump = run('dumpe2fs', ['-h', img]);
    assert.doesNotMatch(dump, /needs_recovery/);
    assert.match(dump, /Mount count:\s+1\n/);
  });
});
