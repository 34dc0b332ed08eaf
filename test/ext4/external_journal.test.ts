// A filesystem whose journal lives on another device (mke2fs -J device=…): tkl cannot reach
// that device, so it mounts read-only (reading works) and refuses read-write with a message
// that says why — the CLI shows it too.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { boot, fileDisk, SystemError } from '../../src/index.js';
import { missingTools, run, tempDir } from './helpers.js';

const TKL = fileURLToPath(new URL('../../../bin/tkl.js', import.meta.url));

test('an external journal: read-only mounts work, read-write is refused by name', (t) => {
  const why = missingTools(true);
  if (why !== null) return t.skip(why);
  const tmp = tempDir('tkl-extj-');
  try {
    const jimg = join(tmp.dir, 'journal');
    const img = join(tmp.dir, 'fs.img');
    run('truncate', ['-s', '8M', jimg]);
    run('truncate', ['-s', '32M', img]);
    run('mke2fs', ['-q', '-F', '-O', 'journal_dev', '-b', '4096', jimg]);
    const loop = run('losetup', ['-f', '--show', jimg]).trim();
    try {
      run('mke2fs', ['-q', '-F', '-t', 'ext4', '-b', '4096', '-J', `device=${loop}`, img]);
      run('debugfs', ['-w', '-R', 'mkdir hello', img]);
    } finally {
      spawnSync('losetup', ['-d', loop]);
    }
    const k = boot();
    k.sys.mkdir('/mnt/img', 0o755);
    const dev = k.addDisk(fileDisk(img));
    k.sys.mount(dev, '/mnt/img', 'ext4', 1, '');
    assert.deepEqual(k.fs.readdir('/mnt/img').sort(), ['hello', 'lost+found']);
    k.sys.umount2('/mnt/img', 0);
    let err: unknown;
    try {
      k.sys.mount(dev, '/mnt/img', 'ext4', 0, '');
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof SystemError && err.code === 'EINVAL', String(err));
    assert.match(err.detail ?? '', /journal is on an external device/);
    const ls = spawnSync(process.execPath, [TKL, 'ls', `${img}:/`], { encoding: 'utf8' });
    assert.equal(ls.stdout, 'hello\nlost+found\n', ls.stderr);
    const mk = spawnSync(process.execPath, [TKL, 'mkdir', `${img}:/x`], { encoding: 'utf8' });
    assert.equal(mk.status, 1);
    assert.match(mk.stderr, /^tkl: cannot mount '.*fs\.img': Invalid argument \(ext4: the journal is on an external device, which tkl does not support; mount it read-only\)\n$/);
  } finally {
    tmp.cleanup();
  }
});
