// mkfs: tkl-made ext2/3/4 images pass e2fsck -fn, dumpe2fs -h shows the features mke2fs 1.47
// would choose (or those asked for), Linux mounts them and writes to them, and tkl mounts them.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fileDisk, mkfsExt4 } from '../../src/index.js';
import { e2fsck, missingTools, mountTkl, run, tempDir, withLoopMount } from './helpers.js';

const missing = missingTools();

function features(img: string): string[] {
  const m = /Filesystem features:\s+(.*)\n/.exec(run('dumpe2fs', ['-h', img]));
  return (m?.[1] ?? '').trim().split(/\s+/).sort();
}

/** dumpe2fs's description of the journal (features, sizes, sequence, users). */
function journalLines(img: string): string[] {
  return run('dumpe2fs', ['-h', img]).split('\n').filter((l) => /^(Journal|Total journal|Max transaction|Fast commit)/.test(l));
}

describe('ext4 mkfs', { skip: missing ?? false }, () => {
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir();
  });
  after(() => tmp?.cleanup());

  const cases: [string, number, Parameters<typeof mkfsExt4>[1], string[]][] = [
    ['ext4 defaults, 1 GiB (4 KiB blocks)', 1 << 30, {}, ['-t', 'ext4']],
    ['ext4 defaults, 64 MiB (1 KiB blocks, "small")', 64 << 20, {}, ['-t', 'ext4']],
    ['ext3', 48 << 20, { type: 'ext3' }, ['-t', 'ext3']],
    ['ext2', 16 << 20, { type: 'ext2' }, ['-t', 'ext2']],
    ['ext4 2 KiB without metadata_csum and 64bit, inode ratio 8192', 100 << 20, { blockSize: 2048, inodeRatio: 8192, features: '^metadata_csum,^64bit' }, ['-t', 'ext4', '-b', '2048', '-i', '8192', '-O', '^metadata_csum,^64bit']],
    ['ext4 meta_bg, inline_data', 80 << 20, { features: 'meta_bg,^resize_inode,inline_data' }, ['-t', 'ext4', '-O', 'meta_bg,^resize_inode,inline_data']],
  ];
  for (const [name, size, opts, mke2fsArgs] of cases) {
    it(name, () => {
      const i = cases.findIndex((c) => c[0] === name);
      const img = join(tmp.dir, `mk${i}.img`);
      fs.closeSync(fs.openSync(img, 'w'));
      fs.truncateSync(img, size);
      const disk = fileDisk(img);
      const r = mkfsExt4(disk, { ...opts, label: 'tkl-made', uuid: '0b1c2d3e-4f50-4162-8374-85a6b7c8d9e0' });
      disk.close();
      const f = e2fsck(img);
      assert.deepEqual(f.problems, [], f.output);
      assert.equal(f.status, 0);
      // The same features mke2fs picks with the same arguments.
      const ref = join(tmp.dir, `ref${i}.img`);
      fs.closeSync(fs.openSync(ref, 'w'));
      fs.truncateSync(ref, size);
      run('mke2fs', ['-q', '-F', ...mke2fsArgs, ref]);
      assert.deepEqual(features(img), features(ref));
      // The journal as mke2fs leaves it: no features yet (a mount sets them), no user list.
      assert.deepEqual(journalLines(img), journalLines(ref));
      const dump = run('dumpe2fs', ['-h', img]);
      assert.match(dump, /Filesystem volume name:\s+tkl-made\n/);
      assert.match(dump, /Filesystem UUID:\s+0b1c2d3e-4f50-4162-8374-85a6b7c8d9e0\n/);
      assert.match(dump, new RegExp(`Block count:\\s+${r.blocks}\\n`));
      fs.rmSync(ref);
      // Linux mounts it and writes; then it is still clean, and tkl reads Linux's files.
      withLoopMount(img, 'rw', (m) => {
        fs.mkdirSync(join(m, 'linux'));
        for (let k = 0; k < 100; k++) fs.writeFileSync(join(m, 'linux', `f${k}`), 'x'.repeat(k * 100));
      });
      const f2 = e2fsck(img);
      assert.deepEqual(f2.problems, [], f2.output);
      // statfs as Linux reports it.
      const linuxDf = withLoopMount(img, 'ro', (m) => run('stat', ['-f', '-c', '%b %f %a %c %d %S', m]).trim());
      const ro = mountTkl(img, { readOnly: true, type: opts?.type ?? 'ext4' });
      const st = ro.sys.statfs('/mnt/img');
      ro.sys.umount2('/mnt/img', 0);
      assert.equal(`${st.blocks} ${st.bfree} ${st.bavail} ${st.files} ${st.ffree} ${st.bsize}`, linuxDf);
      const k = mountTkl(img, { type: opts?.type ?? 'ext4' });
      assert.equal(k.fs.readFile('/mnt/img/linux/f99', 'utf8'), 'x'.repeat(9900));
      assert.deepEqual(k.fs.readdir('/mnt/img').sort(), ['linux', 'lost+found']);
      k.fs.writeFile('/mnt/img/by-tkl', 'hello');
      k.sys.umount2('/mnt/img', 0);
      const f3 = e2fsck(img);
      assert.deepEqual(f3.problems, [], f3.output);
    });
  }

  it('refuses impossible options with EINVAL naming them', () => {
    const img = join(tmp.dir, 'bad.img');
    fs.closeSync(fs.openSync(img, 'w'));
    fs.truncateSync(img, 8 << 20);
    const disk = fileDisk(img);
    assert.throws(() => mkfsExt4(disk, { features: 'no_such_feature' }), /unknown feature 'no_such_feature'/);
    assert.throws(() => mkfsExt4(disk, { blockSize: 3000 }), /block size 3000/);
    assert.throws(() => mkfsExt4(disk, { features: '^extent' }), /64bit needs extents/);
    assert.throws(() => mkfsExt4(disk, { size: 100 << 20 }), /does not fit/);
    disk.close();
  });
});
