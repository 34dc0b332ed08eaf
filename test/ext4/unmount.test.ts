// Unmount when the host disk under the image is full: umount fails with the error and keeps
// the mount, so nothing written is lost; once there is room again it succeeds, the image is
// clean, and the device is free for another kernel to mount.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { boot, fileDisk, SystemError } from '../../src/index.js';
import { e2fsck, missingTools, mke2fs, tempDir } from './helpers.js';

test('umount on a full host disk fails and keeps the mount; after room is made it succeeds, e2fsck clean, device free', { timeout: 120_000 }, (t) => {
  const why = missingTools(false);
  if (why !== null) return t.skip(why);
  const tmp = tempDir('tkl-umount-');
  const host = join(tmp.dir, 'small');
  spawnSync('mkdir', [host]);
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=24M', 'tkl-test', host], { encoding: 'utf8' });
  if (m.status !== 0) {
    tmp.cleanup();
    return t.skip(`cannot mount a small tmpfs for the host side: ${m.stderr.trim()}`);
  }
  try {
    const img = join(host, 'fs.img');
    mke2fs(img, 128 << 20, ['-t', 'ext4']);
    const k = boot();
    const dev = fileDisk(img);
    k.sys.mkdir('/mnt/img', 0o755);
    k.sys.mount(k.addDisk(dev), '/mnt/img', 'ext4', 0, '');
    // Files written while the host has room, then more than it can take: the cache holds them.
    const data = new Uint8Array(1 << 20).map((_, i) => (i * 7) & 0xff);
    let written = 0;
    let failedWith = '';
    for (let i = 0; i < 60 && failedWith === ''; i++) {
      try {
        k.fs.writeFile(`/mnt/img/f${i}`, data);
        written++;
      } catch (e) {
        failedWith = (e as SystemError).code ?? String(e);
      }
    }
    let umountError = '';
    try {
      k.sys.umount2('/mnt/img', 0);
    } catch (e) {
      umountError = (e as SystemError).code ?? String(e);
    }
    if (failedWith === '') {
      assert.match(umountError, /ENOSPC|EIO/, 'the host filled up: the sync at umount must fail');
      assert.match(k.fs.readFile('/proc/mounts', 'utf8'), / \/mnt\/img ext4 /, 'a failed umount keeps the mount');
      assert.equal(k.fs.readFile(`/mnt/img/f${written - 1}`).length, data.length, 'what was written is still readable');
    }
    // Room again: the retry goes through.
    assert.equal(spawnSync('mount', ['-o', 'remount,size=256M', host]).status, 0);
    if (k.fs.readFile('/proc/mounts', 'utf8').includes(' /mnt/img ext4 ')) k.sys.umount2('/mnt/img', 0);
    const fsck = e2fsck(img);
    assert.equal(fsck.status, 0, `${written} written, failed with ${failedWith}, umount ${umountError}\n${fsck.output}`);
    // The device is free: another kernel mounts it and finds every file that was written.
    const k2 = boot();
    k2.sys.mkdir('/mnt/img', 0o755);
    k2.sys.mount(k2.addDisk(dev), '/mnt/img', 'ext4', 1, '');
    for (let i = 0; i < written; i++) assert.deepEqual(k2.fs.readFile(`/mnt/img/f${i}`), data, `f${i}`);
    k2.sys.umount2('/mnt/img', 0);
    dev.close();
    t.diagnostic(`${written} MiB written before ${failedWith || 'nothing failed'}; first umount: ${umountError || 'succeeded'}`);
  } finally {
    spawnSync('umount', [host]);
    tmp.cleanup();
  }
});
