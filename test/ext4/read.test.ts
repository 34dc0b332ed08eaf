// Reading real images: trees built by mke2fs -d (ext2, ext3, ext4; 1, 2 and 4 KiB blocks; with
// and without metadata_csum and 64bit; meta_bg; inline_data; a 50,000-entry htree directory;
// every symlink length 1..4095; sparse files past 4 GiB) and trees written by Linux itself
// (htree hash variants, signed and unsigned, xattrs and ACLs) must look to tkl exactly as a
// read-only Linux loop mount of the same image shows them.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { diffSnapshots, e2fsck, hostSnapshot, missingTools, mke2fs, mountTkl, run, sha, tempDir, tklSnapshot, withLoopMount } from './helpers.js';
import { makeTree, prng } from './tree.js';

const missing = missingTools();

interface Variant {
  name: string;
  args: string[];
  size: number;
  tree: NonNullable<Parameters<typeof makeTree>[1]>;
  type?: string;
  /** Entries Linux adds in /big after mke2fs -d (mke2fs -d is quadratic in directory size). */
  linuxBig?: number;
}

const variants: Variant[] = [
  {
    name: 'ext4 4 KiB (mkfs defaults: metadata_csum, 64bit, flex_bg), every symlink length, 50,000-entry directory, 5 GiB sparse file',
    args: ['-t', 'ext4', '-b', '4096', '-N', '60000'],
    size: 160 << 20,
    tree: { links: 'all', hugeSparse: 5 * 2 ** 30 + 12345 },
    linuxBig: 50000,
  },
  { name: 'ext4 1 KiB without metadata_csum and 64bit (gdt_csum)', args: ['-t', 'ext4', '-b', '1024', '-O', '^metadata_csum,^64bit,uninit_bg'], size: 48 << 20, tree: { bigDir: 400, maxLink: 1023 } },
  { name: 'ext4 2 KiB, meta_bg, no flex_bg', args: ['-t', 'ext4', '-b', '2048', '-O', 'meta_bg,^resize_inode,^flex_bg'], size: 64 << 20, tree: { bigDir: 300, maxLink: 2047 } },
  { name: 'ext4 4 KiB inline_data', args: ['-t', 'ext4', '-b', '4096', '-O', 'inline_data'], size: 48 << 20, tree: { bigDir: 30 } },
  { name: 'ext3 2 KiB (indirect blocks, journal)', args: ['-t', 'ext3', '-b', '2048'], size: 48 << 20, tree: { bigDir: 500, maxLink: 2047 }, type: 'ext3' },
  { name: 'ext2 1 KiB (triple-indirect sparse file)', args: ['-t', 'ext2', '-b', '1024'], size: 48 << 20, tree: { bigDir: 500, hugeSparse: 5 * 2 ** 30 + 77, maxLink: 1023 }, type: 'ext2' },
];

describe('ext4 read: images made by mke2fs -d', { skip: missing ?? false }, () => {
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir();
  });
  after(() => tmp?.cleanup());

  for (const v of variants) {
    it(v.name, () => {
      const src = join(tmp.dir, `src-${variants.indexOf(v)}`);
      const img = join(tmp.dir, `img-${variants.indexOf(v)}`);
      fs.mkdirSync(src);
      makeTree(src, v.tree);
      mke2fs(img, v.size, v.args, src);
      const big = v.tree.bigDir ?? v.linuxBig;
      if (v.linuxBig) {
        withLoopMount(img, 'rw', (m) => {
          fs.mkdirSync(join(m, 'big'));
          for (let i = 0; i < v.linuxBig!; i++) fs.writeFileSync(join(m, 'big', `entry-${String(i).padStart(6, '0')}-ünï`), '');
        });
      }
      const before = sha(img);
      const linux = withLoopMount(img, 'ro', (m) => hostSnapshot(m, { times: true, ctime: true }));
      const k = mountTkl(img, { readOnly: true, type: v.type });
      const mine = tklSnapshot(k, '/mnt/img', { times: true, ctime: true });
      assert.deepEqual(diffSnapshots(linux, mine), []);
      assert.ok(linux.size > 40, 'the snapshot covers the tree');
      // Lookups through the index (not only readdir) for a sample of the big directory.
      if (big) {
        const r = prng(7);
        for (let i = 0; i < 200; i++) {
          const n = Math.floor(r() * big);
          const st = k.sys.lstat(`/mnt/img/big/entry-${String(n).padStart(6, '0')}-ünï`);
          assert.equal(st.size, 0);
        }
        assert.throws(() => k.sys.lstat('/mnt/img/big/entry-999999-ünï'), { code: 'ENOENT' });
      }
      k.sys.umount2('/mnt/img', 0);
      assert.equal(sha(img), before, 'a read-only mount leaves the image untouched');
    });
  }
});

describe('ext4 read: trees written by Linux (hash variants, xattrs, ACLs)', { skip: missing ?? false }, () => {
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir();
  });
  after(() => tmp?.cleanup());

  const cases: [string, string[], string, string][] = [
    ['half_md4 unsigned', ['-t', 'ext4', '-b', '1024'], 'half_md4', '2'],
    ['tea signed', ['-t', 'ext4', '-b', '4096'], 'tea', '1'],
    ['legacy unsigned', ['-t', 'ext4', '-b', '2048'], 'legacy', '2'],
  ];
  for (const [name, args, hash, flags] of cases) {
    it(`${name}: Linux-built htree with UTF-8 names, user xattrs in inode and block, ACLs`, () => {
      const img = join(tmp.dir, `lx-${cases.findIndex((c) => c[0] === name)}`);
      mke2fs(img, 48 << 20, args);
      run('debugfs', ['-w', '-R', `ssv def_hash_version ${hash}`, img]);
      run('debugfs', ['-w', '-R', `ssv flags ${flags}`, img]);
      withLoopMount(img, 'rw', (m) => {
        fs.mkdirSync(join(m, 'dir'));
        for (let i = 0; i < 3000; i++) fs.writeFileSync(join(m, 'dir', `é-${i}-名前-${'z'.repeat(i % 40)}`), `${i}`);
        fs.writeFileSync(join(m, 'x'), 'xattrs');
        run('setfattr', ['-n', 'user.small', '-v', 'tiny', join(m, 'x')]);
        run('setfattr', ['-n', 'user.big', '-v', '0x' + 'ab'.repeat(900), join(m, 'x')]);
        run('setfattr', ['-n', 'user.empty', join(m, 'x')]);
        run('setfacl', ['-m', 'u:1234:rwx,g:55:r', join(m, 'x')]);
        run('setfacl', ['-d', '-m', 'u:99:rx', join(m, 'dir')]);
      });
      assert.equal(e2fsck(img).status, 0);
      const linux = withLoopMount(img, 'ro', (m) => hostSnapshot(m, { times: true, ctime: true, xattrs: true }));
      const k = mountTkl(img, { readOnly: true });
      const mine = tklSnapshot(k, '/mnt/img', { times: true, ctime: true, xattrs: true });
      assert.deepEqual(diffSnapshots(linux, mine), []);
      assert.equal(Object.keys(linux.get('/x')!.xattrs!).length >= 4, true, 'user xattrs and the ACL were seen');
      for (let i = 0; i < 3000; i += 97) {
        assert.equal(k.fs.readFile(`/mnt/img/dir/é-${i}-名前-${'z'.repeat(i % 40)}`, 'utf8'), `${i}`);
      }
      k.sys.umount2('/mnt/img', 0);
    });
  }
});
