// Journal replay against Linux's own journal: Linux writes through a loop mount and an fsync
// forces a JBD2 commit; the image copied at that instant holds the new metadata only in the
// journal (home locations are written back much later). tkl must replay it — onto the image
// when writable, into memory when read-only — and show what Linux shows after its unmount.
// tkl's own commits must leave a clean, empty journal that e2fsck accepts.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { diffSnapshots, e2fsck, hostSnapshot, missingTools, mke2fs, mountTkl, run, sha, tempDir, tklSnapshot, withLoopMount } from './helpers.js';
import { randomBytes, prng } from './tree.js';
import { fileDisk, mkfsExt4 } from '../../src/index.js';
import { crc32c, crc32cBE32 } from '../../src/fs/ext4/crc.js';

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

  it('MS_SYNCHRONOUS commits every operation before it returns', () => {
    const img = join(tmp.dir, 'sync.img');
    mke2fs(img, 16 << 20, ['-t', 'ext4']);
    const k = mountTkl(img, { flags: 16 /* MS_SYNCHRONOUS */ });
    k.fs.writeFile('/mnt/img/a', 'synchronous');
    // A crash now: the image already holds the file, consistently.
    const copy = join(tmp.dir, 'sync-copy.img');
    fs.copyFileSync(img, copy);
    run('debugfs', ['-w', '-R', 'feature -needs_recovery', copy]);
    assert.deepEqual(e2fsck(copy).problems, []);
    assert.equal(run('debugfs', ['-R', 'cat /a', copy]), 'synchronous');
    k.sys.umount2('/mnt/img', 0);
  });

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
    // As Linux records them: where it was mounted, and when (never after e2fsck's clock).
    assert.match(dump, /Last mounted on:\s+\/mnt\/img\n/);
    const mounted = Date.parse(/Last mount time:\s+(.*)\n/.exec(dump)![1]! + ' UTC');
    assert.ok(Math.abs(Date.now() - mounted) < 120_000 && mounted <= Date.now(), dump);
  });
});

describe('ext4 remount', { skip: missing ?? false }, () => {
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir();
  });
  after(() => tmp?.cleanup());

  it('read-only → read-write → read-only: writes land, the image is clean after each', () => {
    const img = join(tmp.dir, 'remount.img');
    mke2fs(img, 16 << 20, ['-t', 'ext4']);
    const k = mountTkl(img, { readOnly: false, flags: 1 });
    assert.throws(() => k.fs.writeFile('/mnt/img/x', 'no'), { code: 'EROFS' });
    k.sys.mount('', '/mnt/img', '', 32 /* MS_REMOUNT */, '');
    k.fs.writeFile('/mnt/img/x', 'yes');
    assert.match(run('dumpe2fs', ['-h', img]), /needs_recovery/);
    k.sys.mount('', '/mnt/img', '', 32 | 1, '');
    assert.doesNotMatch(run('dumpe2fs', ['-h', img]), /needs_recovery/);
    const f = e2fsck(img);
    assert.deepEqual(f.problems, [], f.output);
    assert.throws(() => k.fs.writeFile('/mnt/img/y', 'no'), { code: 'EROFS' });
    k.sys.umount2('/mnt/img', 0);
    withLoopMount(img, 'ro', (m) => assert.equal(fs.readFileSync(join(m, 'x'), 'utf8'), 'yes'));
  });
});

describe('ext4 journal: crafted transactions (revoke records, an uncommitted tail)', { skip: missing ?? false }, () => {
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir();
  });
  after(() => tmp?.cleanup());

  for (const kind of ['none', 'v2', 'v3'] as const) {
    const csum = kind !== 'none';
    it(`${kind === 'v3' ? 'csum v3 + 64-bit tags' : kind === 'v2' ? 'csum v2 + 64-bit tags' : 'no journal checksums'}: revoked blocks stay, committed ones land, the uncommitted tail is ignored — as e2fsck replays it`, () => {
      const img = join(tmp.dir, `craft-${kind}`);
      fs.closeSync(fs.openSync(img, 'w'));
      fs.truncateSync(img, 16 << 20);
      const d = fileDisk(img);
      mkfsExt4(d, { blockSize: 1024 });
      d.close();
      const k = mountTkl(img);
      k.fs.writeFile('/mnt/img/f', new Uint8Array(3072).fill(0x11));
      k.sys.umount2('/mnt/img', 0);
      const blocks = run('debugfs', ['-R', 'blocks /f', img]).trim().split(/\s+/).map(Number);
      const jblocks = run('debugfs', ['-R', 'blocks <8>', img]).trim().split(/\s+/).map(Number);
      const [X, Y] = [blocks[0]!, blocks[1]!];
      const bs = 1024;
      const b = new Uint8Array(fs.readFileSync(img));
      const dv = new DataView(b.buffer);
      const jb = (l: number): Uint8Array => b.subarray(jblocks[l]! * bs, (jblocks[l]! + 1) * bs);
      const be = (blk: Uint8Array, o: number, v: number): void => new DataView(blk.buffer, blk.byteOffset).setUint32(o, v >>> 0, false);
      const jsb = jb(0);
      const uuid = jsb.slice(0x30, 0x40);
      const seed = crc32c(0xffffffff, uuid);
      if (csum) {
        be(jsb, 0x28, (kind === 'v3' ? 0x10 : 0x8) | 0x2 | 0x1); // CSUM_V3 or CSUM_V2 | 64BIT | REVOKE
        jsb[0x50] = 4; // crc32c
      }
      const S = 7;
      const header = (blk: Uint8Array, type: number, seq: number): void => {
        blk.fill(0);
        be(blk, 0, 0xc03b3998);
        be(blk, 4, type);
        be(blk, 8, seq);
      };
      const tail = (blk: Uint8Array): void => {
        if (!csum) return;
        be(blk, bs - 4, 0);
        be(blk, bs - 4, crc32c(seed, blk));
      };
      const descriptor = (l: number, seq: number, target: number, fill: number): void => {
        const desc = jb(l);
        header(desc, 1, seq);
        const data = jb(l + 1);
        data.fill(fill);
        if (kind === 'v3') {
          be(desc, 12, target);
          be(desc, 16, 0x8); // LAST_TAG (first tag: the UUID follows)
          be(desc, 20, 0);
          be(desc, 24, crc32c(crc32cBE32(seed, seq), data));
          desc.set(uuid, 28);
        } else if (kind === 'v2') {
          // journal_block_tag_t with 64-bit numbers and the v2 pad: 14 bytes.
          const dvd = new DataView(desc.buffer, desc.byteOffset);
          be(desc, 12, target);
          dvd.setUint16(16, crc32c(crc32cBE32(seed, seq), data) & 0xffff, false);
          dvd.setUint16(18, 0x8, false);
          be(desc, 20, 0);
          desc.set(uuid, 26);
        } else {
          be(desc, 12, target);
          new DataView(desc.buffer, desc.byteOffset).setUint16(18, 0x8, false);
          desc.set(uuid, 20);
        }
        tail(desc);
      };
      const commit = (l: number, seq: number): void => {
        const c = jb(l);
        header(c, 2, seq);
        if (csum) be(c, 0x10, crc32c(seed, c));
      };
      descriptor(1, S, X, 0xaa);
      commit(3, S);
      const rv = jb(4);
      header(rv, 5, S + 1);
      if (csum) {
        be(rv, 12, 16 + 8);
        be(rv, 16, 0);
        be(rv, 20, X);
      } else {
        be(rv, 12, 16 + 4);
        be(rv, 16, X);
      }
      tail(rv);
      descriptor(5, S + 1, Y, 0xbb);
      commit(7, S + 1);
      descriptor(8, S + 2, X, 0xcc); // never committed
      be(jsb, 0x18, S);
      be(jsb, 0x1c, 1);
      if (csum) {
        be(jsb, 0xfc, 0);
        be(jsb, 0xfc, crc32c(0xffffffff, jsb.subarray(0, 1024)));
      }
      // The superblock says the journal needs recovery.
      const sbo = 1024;
      dv.setUint32(sbo + 0x60, dv.getUint32(sbo + 0x60, true) | 0x4, true);
      dv.setUint32(sbo + 0x3fc, crc32c(0xffffffff, b.subarray(sbo, sbo + 0x3fc)), true);
      fs.writeFileSync(img, b);
      const viaE2fsck = join(tmp.dir, `e2fsck-${kind}`);
      fs.copyFileSync(img, viaE2fsck);
      spawnSync('e2fsck', ['-fy', viaE2fsck]);
      const expected = new Uint8Array(3072).fill(0x11);
      expected.fill(0xbb, 1024, 2048);
      const e2 = new Uint8Array(fs.readFileSync(viaE2fsck));
      assert.deepEqual(e2.subarray(X * bs, X * bs + 1024), expected.subarray(0, 1024), 'e2fsck kept the revoked block');
      assert.deepEqual(e2.subarray(Y * bs, Y * bs + 1024), expected.subarray(1024, 2048), 'e2fsck replayed the committed block');
      const t = mountTkl(img);
      assert.deepEqual(t.fs.readFile('/mnt/img/f'), expected);
      t.sys.umount2('/mnt/img', 0);
      const f = e2fsck(img);
      assert.deepEqual(f.problems, [], f.output);
    });
  }
});
