// `tkl attrib` and the FAT attributes in `tkl stat`, checked against mtools: attributes set
// with mattrib are shown, attributes set by tkl are seen by mattrib and mdir -a, and they
// survive tkl's truncate, mv and chmod; fsck.fat -n stays quiet.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tkl, sh, have, scratch } from './harness.js';

const tools = ['mkfs.fat', 'mcopy', 'mmd', 'mattrib', 'mdir', 'fsck.fat'];
const missing = tools.filter((t) => !have(t));
const skip = missing.length > 0 ? `needs ${missing.join(', ')} (Debian: dosfstools, mtools)` : false;

/** mattrib's letters for `path` (A, S, H, R). */
function mattrib(img: string, path: string): string {
  return sh(`mattrib -i '${img}' '::${path}'`).out.split('\n')[0]!.slice(0, 8).replace(/ /g, '');
}

test('tkl stat shows FAT attributes; tkl attrib changes them as mattrib does; they survive truncate, mv, chmod', { skip }, () => {
  const s = scratch();
  try {
    const img = join(s.dir, 'fat.img');
    writeFileSync(join(s.dir, 'boot.bin'), 'boot\n');
    assert.equal(sh(`truncate -s 32M '${img}' && mkfs.fat -F 16 '${img}' && mcopy -i '${img}' boot.bin ::/boot.bin && mmd -i '${img}' ::/dir ::/other && mattrib -i '${img}' +h +s ::/boot.bin`, s.dir).code, 0);
    // Read: what mattrib set.
    let r = tkl(['stat', `${img}:/boot.bin`]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /\n Attrs: hidden system archive\n$/);
    const st = JSON.parse(tkl(['stat', '--json', `${img}:/boot.bin`, `${img}:/dir`]).out);
    assert.deepEqual(st.map((x: { fatAttributes: string[] }) => x.fatAttributes), [['hidden', 'system', 'archive'], []]);
    r = tkl(['attrib', `${img}:/boot.bin`, `${img}:/dir`]);
    assert.equal(r.out, `  A  SH      ${img}:/boot.bin\n             ${img}:/dir\n`, "mattrib's columns");
    assert.deepEqual(JSON.parse(tkl(['attrib', '--json', `${img}:/boot.bin`]).out), [{ path: `${img}:/boot.bin`, fatAttributes: ['hidden', 'system', 'archive'] }]);
    // Write: mattrib and mdir -a see what tkl set.
    r = tkl(['attrib', '-s', '-a', '+r', `${img}:/boot.bin`]);
    assert.deepEqual([r.code, r.err, r.out], [0, '', '']);
    r = tkl(['attrib', '+hs', `${img}:/dir`]);
    assert.deepEqual([r.code, r.err], [0, '']);
    assert.equal(mattrib(img, '/boot.bin'), 'HR');
    assert.equal(mattrib(img, '/dir'), 'SH');
    assert.doesNotMatch(sh(`mdir -i '${img}' ::/`).out, /^dir\s/m, 'mdir hides hidden entries');
    assert.match(sh(`mdir -a -i '${img}' ::/`).out, /^dir\s+<DIR>/m);
    assert.equal(JSON.parse(tkl(['stat', '--json', `${img}:/boot.bin`]).out).mode, 0o555, 'read-only is chmod a-w');
    // Kept through the commands that rewrite an entry.
    for (const args of [
      ['chmod', 'u+w', `${img}:/boot.bin`],
      ['truncate', '-s', '100', `${img}:/boot.bin`],
      ['chmod', '0700', `${img}:/boot.bin`],
      ['mv', `${img}:/boot.bin`, `${img}:/other/boot.bin`],
      ['mv', `${img}:/dir`, `${img}:/other/dir`],
      ['touch', `${img}:/other/dir`],
    ]) {
      r = tkl(args);
      assert.deepEqual([r.code, r.err], [0, ''], args.join(' '));
    }
    assert.equal(mattrib(img, '/other/boot.bin'), 'AH', 'chmod u+w cleared read-only; truncate set archive; hidden kept');
    assert.equal(mattrib(img, '/other/dir'), 'SH');
    const fsck = sh(`fsck.fat -n '${img}'`);
    assert.equal(fsck.code, 0, fsck.out);
    // Errors: the root takes no attributes; other filesystems have none; bad usage.
    r = tkl(['attrib', '+h', `${img}:/`]);
    assert.deepEqual([r.code, r.err], [1, `tkl: cannot change attributes of '${img}:/': Invalid argument\n`]);
    const ext = join(s.dir, 'e.img');
    assert.equal(tkl(['mkfs', '-t', 'ext4', '--size', '16M', ext]).code, 0);
    r = tkl(['attrib', `${ext}:/lost+found`]);
    assert.deepEqual([r.code, r.err], [1, `tkl: cannot read attributes of '${ext}:/lost+found': Inappropriate ioctl for device\n`]);
    assert.equal(JSON.parse(tkl(['stat', '--json', `${ext}:/lost+found`]).out).fatAttributes, undefined, 'no field off FAT');
    assert.equal(tkl(['attrib', '+h', '-h', `${img}:/other`]).code, 2);
    assert.equal(tkl(['attrib', '-x', `${img}:/other`]).code, 2);
    assert.match(tkl(['attrib', '--help']).out, /^Usage: tkl attrib/);
  } finally {
    s.done();
  }
});
