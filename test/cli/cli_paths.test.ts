// Paths inside an image resolve inside that image, as if it were the root: absolute symlinks
// lead to the image's own files, ".." stops at its root, and nothing reaches the CLI
// session's own kernel tree (/proc, /dev, the other images' mount points).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tkl, sh, have, scratch } from './harness.js';

const skip = have('mkfs.ext4') ? false : 'needs mkfs.ext4 (Debian: e2fsprogs)';

function image(dir: string): string {
  const src = join(dir, 'tree');
  mkdirSync(join(src, 'usr/share/zoneinfo'), { recursive: true });
  mkdirSync(join(src, 'etc'));
  writeFileSync(join(src, 'usr/share/zoneinfo/UTC'), 'TZif from the image');
  symlinkSync('/usr/share/zoneinfo/UTC', join(src, 'etc/localtime'));
  symlinkSync('/usr', join(src, 'usrlink'));
  symlinkSync('/proc/self/mounts', join(src, 'mtab'));
  const img = join(dir, 'root.img');
  assert.equal(sh(`truncate -s 16M '${img}' && mkfs.ext4 -q -F -d '${src}' '${img}'`).code, 0);
  return img;
}

test('absolute symlinks in an image lead to its own files; ".." stops at its root', { skip }, () => {
  const s = scratch();
  try {
    const img = image(s.dir);
    let r = tkl(['cat', `${img}:/etc/localtime`]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'TZif from the image');
    r = tkl(['cp', `${img}:/etc/localtime`, join(s.dir, 'tz')]);
    assert.equal(r.code, 0, r.err);
    assert.equal(readFileSync(join(s.dir, 'tz'), 'utf8'), 'TZif from the image', 'cp follows a top-level link, inside the image');
    r = tkl(['cat', `${img}:/mtab`]);
    assert.equal(r.code, 1, 'the image has no /proc: the session kernel\'s own files are out of reach');
    assert.equal(r.out, '');
    assert.match(r.err, /No such file or directory/);
    r = tkl(['ls', `${img}:/../..`]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.out.trim().split('\n'), ['etc', 'lost+found', 'mtab', 'usr', 'usrlink']);
    r = tkl(['ls', '-a', '--json', `${img}:/`]);
    const entries = JSON.parse(r.out) as { name: string; ino: number }[];
    assert.equal(entries.find((e) => e.name === '..')!.ino, entries.find((e) => e.name === '.')!.ino, "the root's '..' is itself");
    writeFileSync(join(s.dir, 'new.txt'), 'copied in');
    r = tkl(['cp', join(s.dir, 'new.txt'), `${img}:/usrlink/`]);
    assert.equal(r.code, 0, r.err);
    assert.equal(tkl(['cat', `${img}:/usr/new.txt`]).out, 'copied in', 'written through the absolute link, inside the image');
    r = tkl(['rm', '-r', `${img}:/..`]);
    assert.equal(r.code, 1);
    assert.match(r.err, /refusing to remove '\.' or '\.\.' directory/, 'as GNU rm answers');
    r = tkl(['rm', '-r', `${img}://`]);
    assert.equal(r.code, 1);
    assert.match(r.err, /refusing to remove the root/);
    assert.match(tkl(['ls', `${img}:/`]).out, /^etc$/m, 'nothing was removed');
  } finally {
    s.done();
  }
});

test('one filesystem named two ways (number and GPT name) is mounted once: mv between the names moves', () => {
  const s = scratch();
  try {
    const img = join(s.dir, 'd.img');
    let r = tkl(['mkimage', img, '--size', '64M', '--table', 'gpt', '--part', 'ext4:rest:root']);
    assert.equal(r.code, 0, r.err);
    for (const n of ['1', '2', '3']) writeFileSync(join(s.dir, n), n);
    assert.equal(tkl(['mkdir', `${img}:root:/dir`]).code, 0);
    r = tkl(['cp', join(s.dir, '1'), join(s.dir, '2'), join(s.dir, '3'), `${img}:root:/dir/`]);
    assert.equal(r.code, 0, r.err);
    // Two mounts of one filesystem would each flush their own view: the move was lost.
    r = tkl(['mv', `${img}:1:/dir`, `${img}:root:/moved`]);
    assert.equal(r.code, 0, r.err);
    r = tkl(['ls', `${img}:/moved`]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.out.trim().split('\n'), ['1', '2', '3']);
    assert.equal(tkl(['ls', `${img}:root:/dir`]).code, 1, 'the old name is gone');
    r = tkl(['stat', '--json', `${img}:/dir`]);
    assert.equal(r.code, 1);
    assert.equal(r.out, '', 'no "undefined" on stdout for a --json stat that failed');
  } finally {
    s.done();
  }
});

test("'..' and '.' as the last name of a source never lead outside the destination", () => {
  const s = scratch();
  try {
    const img = join(s.dir, 'a.img');
    let r = tkl(['mkfs', '-t', 'vfat', '--size', '16M', img]);
    assert.equal(r.code, 0, r.err);
    assert.equal(tkl(['mkdir', '-p', `${img}:/sub/inner`]).code, 0);
    writeFileSync(join(s.dir, 'f'), 'data');
    assert.equal(tkl(['cp', join(s.dir, 'f'), `${img}:/sub/inner/f`]).code, 0);
    const out = join(s.dir, 'out');
    mkdirSync(out);
    // GNU cp copies the contents of "x/.." into DST itself; DST/.. is the scratch directory.
    r = tkl(['cp', '-r', `${img}:/sub/inner/..`, out]);
    assert.equal(r.code, 0, r.err);
    assert.equal(readFileSync(join(out, 'inner/f'), 'utf8'), 'data');
    assert.equal(existsSync(join(s.dir, 'inner')), false, 'nothing written next to the destination');
    // Moving "x/.." to another image would copy the parent and then empty it: refused.
    const other = join(s.dir, 'b.img');
    assert.equal(tkl(['mkfs', '-t', 'vfat', '--size', '16M', other]).code, 0);
    r = tkl(['mv', `${img}:/sub/inner/..`, `${other}:/`]);
    assert.equal(r.code, 1);
    assert.match(r.err, /cannot move .*Device or resource busy/);
    r = tkl(['mv', `${img}:/`, `${other}:/`]);
    assert.equal(r.code, 1, 'nor a whole filesystem');
    assert.equal(tkl(['cat', `${img}:/sub/inner/f`]).out, 'data', 'the source image is intact');
  } finally {
    s.done();
  }
});
