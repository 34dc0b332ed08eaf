// `tkl` end to end on FAT images made by mkfs.fat and filled by mcopy: listing, JSON shapes,
// copies both ways, changes checked by fsck.fat and mtools, errors and exit codes, and the
// safety rules for copying out of a hostile image.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync, existsSync, symlinkSync, readdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { tkl, sh, have, scratch } from './harness.js';

const tools = ['mkfs.fat', 'mcopy', 'fsck.fat', 'mdir'];
const missing = tools.filter((t) => !have(t));
const skip = missing.length > 0 ? `needs ${missing.join(', ')} (Debian: dosfstools, mtools)` : false;

function fatImage(dir: string, name = 'fat.img', size = '64M', fat = '32'): string {
  const img = join(dir, name);
  assert.equal(sh(`truncate -s ${size} '${img}' && mkfs.fat -F ${fat} -n TESTVOL '${img}'`).code, 0);
  return img;
}

test('ls, ls -l, tree, cat, stat and --json on an mtools-made image', { skip }, () => {
  const s = scratch();
  try {
    const img = fatImage(s.dir);
    mkdirSync(join(s.dir, 'src/docs'), { recursive: true });
    writeFileSync(join(s.dir, 'src/readme.txt'), 'read me\n');
    writeFileSync(join(s.dir, 'src/docs/Long File Name With Spaces.md'), '# doc\n');
    assert.equal(sh(`mcopy -s -i '${img}' src ::/`, s.dir).code, 0);
    const ls = tkl(['ls', `${img}:/src`]);
    assert.equal(ls.code, 0, ls.err);
    assert.deepEqual(ls.out.trim().split('\n'), ['docs', 'readme.txt']);
    const long = tkl(['ls', '-l', `${img}:/src`]);
    assert.match(long.out, /^drwxr-xr-x +\d+ +0 +0 +\d+ \w{3} [ \d]\d .* docs$/m);
    assert.match(long.out, /^-rwxr-xr-x +1 +0 +0 +8 .* readme\.txt$/m);
    const json = JSON.parse(tkl(['ls', '--json', `${img}:/src/docs`]).out);
    assert.equal(json.length, 1);
    assert.deepEqual(Object.keys(json[0]).sort(), ['gid', 'ino', 'mode', 'mtime', 'name', 'nlink', 'path', 'perm', 'size', 'type', 'uid']);
    assert.equal(json[0].name, 'Long File Name With Spaces.md');
    assert.equal(json[0].type, 'file');
    assert.equal(json[0].size, 6);
    assert.equal(tkl(['cat', `${img}:/src/docs/Long File Name With Spaces.md`]).out, '# doc\n');
    const tree = tkl(['tree', `${img}:/`]);
    assert.match(tree.out, /└── src\n    ├── docs\n    │   └── Long File Name With Spaces\.md\n    └── readme\.txt\n/);
    assert.match(tree.out, /2 directories, 2 files/);
    const st = JSON.parse(tkl(['stat', '--json', `${img}:/src/readme.txt`]).out);
    assert.equal(st.type, 'file');
    assert.equal(st.size, 8);
    assert.match(st.mtime, /^\d{4}-\d\d-\d\dT/);
    const info = JSON.parse(tkl(['info', '--json', img]).out);
    assert.equal(info.type, 'FAT32');
    assert.equal(info.label, 'TESTVOL');
    const df = JSON.parse(tkl(['df', '--json', img]).out);
    assert.equal(df[0].type, 'FAT32');
    assert.ok(df[0].size > 60 * 2 ** 20);
    const parts = JSON.parse(tkl(['parts', '--json', img]).out);
    assert.equal(parts.table, null, 'a bare FAT image has no partition table');
    assert.equal(parts.filesystem, 'FAT32');
    // Read commands never change the image.
    const before = readFileSync(img);
    tkl(['ls', '-R', `${img}:/`]);
    tkl(['cat', `${img}:/src/readme.txt`]);
    tkl(['cp', '-r', `${img}:/src`, join(s.dir, 'out')]);
    assert.ok(before.equals(readFileSync(img)), 'the image is byte-identical after read commands');
  } finally {
    s.done();
  }
});

test('cp host → image → host round trip; fsck.fat and mtools agree', { skip }, () => {
  const s = scratch();
  try {
    const img = fatImage(s.dir);
    const src = join(s.dir, 'tree');
    mkdirSync(join(src, 'a/b/c'), { recursive: true });
    const big = Buffer.alloc(3_000_001);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 9)) & 0xff;
    writeFileSync(join(src, 'a/big.bin'), big);
    for (let i = 0; i < 50; i++) writeFileSync(join(src, `a/b/file number ${i}.txt`), `content ${i}\n`.repeat(i + 1));
    writeFileSync(join(src, 'a/b/c/empty'), '');
    const cp = tkl(['cp', '-r', src, `${img}:/`]);
    assert.equal(cp.code, 0, cp.err);
    const fsck = sh(`fsck.fat -n '${img}'`);
    assert.equal(fsck.code, 0, fsck.out + fsck.err);
    assert.doesNotMatch(fsck.out, /differ|invalid|wrong|mismatch|Free cluster summary/i, fsck.out);
    assert.equal(sh(`mtype -i '${img}' '::/tree/a/b/file number 7.txt'`).out, 'content 7\n'.repeat(8));
    const out = join(s.dir, 'back');
    const back = tkl(['cp', '-r', `${img}:/tree`, out]);
    assert.equal(back.code, 0, back.err);
    assert.equal(sh(`diff -r '${src}' '${out}'`).code, 0, 'the tree comes back identical');
  } finally {
    s.done();
  }
});

test('mkdir, mv, rm, touch, truncate, chmod change the image as fsck.fat and mdir see it', { skip }, () => {
  const s = scratch();
  try {
    const img = fatImage(s.dir, 'f16.img', '32M', '16');
    for (const args of [
      ['mkdir', '-p', `${img}:/x/y/z`],
      ['touch', `${img}:/x/y/z/note.txt`],
      ['truncate', '-s', '100K', `${img}:/x/y/z/note.txt`],
      ['mv', `${img}:/x/y`, `${img}:/moved`],
      ['chmod', 'a-w', `${img}:/moved/z/note.txt`],
      ['mkdir', `${img}:/gone`],
      ['rm', '-r', `${img}:/gone`],
    ]) {
      const r = tkl(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
    }
    const mdir = sh(`mdir -i '${img}' -/ ::/`);
    assert.match(mdir.out, /note\s+txt\s+102400/i);
    assert.doesNotMatch(mdir.out, /gone/i);
    assert.match(sh(`mattrib -i '${img}' ::/moved/z/note.txt`).out, /^\s*A?\s*R\s/m, 'read-only attribute from chmod a-w');
    // As Linux vfat: a mode FAT cannot store is ignored without an error; setuid is EPERM.
    const odd = tkl(['chmod', '0444', `${img}:/moved/z/note.txt`]);
    assert.deepEqual([odd.code, odd.err], [0, ''], 'execute bits cannot change on vfat: ignored, as Linux does');
    assert.equal(JSON.parse(tkl(['stat', '--json', `${img}:/moved/z/note.txt`]).out).mode, 0o555);
    const bad = tkl(['chmod', '4755', `${img}:/moved/z/note.txt`]);
    assert.equal(bad.code, 1, 'setuid cannot exist on vfat (EPERM, as Linux says without "quiet")');
    assert.match(bad.err, /Operation not permitted/);
    const fsck = sh(`fsck.fat -n '${img}'`);
    assert.equal(fsck.code, 0, fsck.out);
  } finally {
    s.done();
  }
});

test('cp -p and mv from the host into FAT: modes FAT cannot hold are dropped quietly, times kept, exit 0', { skip }, () => {
  const s = scratch();
  try {
    const img = fatImage(s.dir);
    const host = join(s.dir, 'h');
    mkdirSync(join(host, 'sub'), { recursive: true });
    writeFileSync(join(host, 'sub', 'a.txt'), 'a\n');
    writeFileSync(join(host, 'b.txt'), 'b\n');
    chmodSync(join(host, 'sub', 'a.txt'), 0o640);
    chmodSync(join(host, 'b.txt'), 0o600);
    chmodSync(join(host, 'sub'), 0o750);
    const when = new Date(Date.UTC(2020, 0, 2, 3, 4, 6));
    utimesSync(join(host, 'sub', 'a.txt'), when, when);
    utimesSync(join(host, 'b.txt'), when, when);
    let r = tkl(['cp', '-rp', join(host, 'sub'), `${img}:/`]);
    assert.deepEqual([r.code, r.err], [0, ''], 'Linux cp -p onto vfat says nothing: chmod succeeds there');
    const st = JSON.parse(tkl(['stat', '--json', `${img}:/sub/a.txt`]).out);
    assert.equal(st.mode, 0o755, "vfat's mode from the mount's mask, not the host's");
    assert.equal(st.mtime, '2020-01-02T03:04:06.000000000Z');
    r = tkl(['mv', join(host, 'b.txt'), `${img}:/`]);
    assert.deepEqual([r.code, r.err], [0, '']);
    assert.equal(existsSync(join(host, 'b.txt')), false, 'the source is gone after the move');
    assert.equal(JSON.parse(tkl(['stat', '--json', `${img}:/b.txt`]).out).mtime, '2020-01-02T03:04:06.000000000Z');
    assert.equal(sh(`mtype -i '${img}' ::/b.txt`).out, 'b\n');
    const fsck = sh(`fsck.fat -n '${img}'`);
    assert.equal(fsck.code, 0, fsck.out);
  } finally {
    s.done();
  }
});

test('errors: messages in coreutils style and exit codes 1 and 2', { skip }, () => {
  const s = scratch();
  try {
    const img = fatImage(s.dir);
    let r = tkl(['cat', `${img}:/no/such/file`]);
    assert.equal(r.code, 1);
    assert.equal(r.err, `tkl: cannot open '${img}:/no/such/file': No such file or directory\n`);
    r = tkl(['stat', `${img}:/missing`]);
    assert.equal(r.err, `tkl: cannot stat '${img}:/missing': No such file or directory\n`);
    assert.equal(r.code, 1);
    r = tkl(['ls', join(s.dir, 'nope.img') + ':/']);
    assert.equal(r.code, 1);
    assert.match(r.err, /^tkl: cannot open '.*nope\.img': No such file or directory$/m);
    r = tkl(['ls', '--bogus-option', `${img}:/`]);
    assert.equal(r.code, 2);
    r = tkl(['ls', s.dir]);
    assert.equal(r.code, 2, 'a host path where an image address is needed is a usage error');
    r = tkl(['ln', '-s', 'target', `${img}:/link`]);
    assert.equal(r.code, 1);
    assert.equal(r.err, `tkl: cannot create symbolic link '${img}:/link': Operation not permitted\n`, 'FAT has no symlinks (EPERM, as vfat)');
    r = tkl(['cp', join(s.dir, 'nothing-here'), `${img}:/`]);
    assert.equal(r.code, 1);
    r = tkl(['ls', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /Examples:/);
  } finally {
    s.done();
  }
});

test('copying out of a hostile image never writes outside the destination', { skip }, () => {
  const s = scratch();
  try {
    const img = fatImage(s.dir);
    // A long name "xx_evil_long" whose UTF-16 we then rewrite to "../evil_long": the LFN
    // checksum covers the 8.3 alias only, so the image stays valid while the name climbs out.
    writeFileSync(join(s.dir, 'xx_evil_long'), 'pwned');
    assert.equal(sh(`mcopy -i '${img}' '${join(s.dir, 'xx_evil_long')}' ::/`).code, 0);
    const bytes = readFileSync(img);
    const at = bytes.indexOf(Buffer.from('xx_ev', 'utf16le')); // an LFN entry's first 5 characters
    assert.ok(at > 0, 'the long name is in the image');
    Buffer.from('../ev', 'utf16le').copy(bytes, at);
    writeFileSync(img, bytes);
    const dest = join(s.dir, 'dest');
    mkdirSync(dest);
    const r = tkl(['cp', '-r', `${img}:/`, dest]);
    assert.equal(existsSync(join(s.dir, 'evil_long')), false, 'nothing was written beside the destination');
    assert.deepEqual(readdirSync(dest), []);
    assert.equal(r.code, 1);
    assert.match(r.err, /unsafe name|Invalid|No such/);
    // A symlink already at the destination is replaced, never written through.
    writeFileSync(join(s.dir, 'plain.txt'), 'inside');
    assert.equal(tkl(['cp', join(s.dir, 'plain.txt'), `${img}:/plain.txt`]).code, 0);
    const victim = join(s.dir, 'victim');
    writeFileSync(victim, 'untouched');
    const out2 = join(s.dir, 'out2');
    mkdirSync(out2);
    symlinkSync(victim, join(out2, 'plain.txt'));
    assert.equal(tkl(['cp', `${img}:/plain.txt`, join(out2, 'plain.txt')]).code, 0);
    assert.equal(readFileSync(victim, 'utf8'), 'untouched');
    assert.equal(readFileSync(join(out2, 'plain.txt'), 'utf8'), 'inside');
  } finally {
    s.done();
  }
});

test('Ctrl-C during a copy stops cleanly: exit 130, the image fsck-clean', { skip }, async () => {
  const s = scratch();
  try {
    const img = join(s.dir, 'big.img');
    assert.equal(sh(`truncate -s 3G '${img}' && mkfs.fat -F 32 '${img}'`).code, 0);
    const src = join(s.dir, 'huge');
    assert.equal(sh(`truncate -s 2G '${src}'`).code, 0);
    const { spawn } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const bin = fileURLToPath(new URL('../../../bin/tkl.js', import.meta.url));
    const child = spawn(process.execPath, [bin, 'cp', src, `${img}:/`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    // Interrupt once the copy is under way: the image's allocated blocks are growing.
    const { statSync } = await import('node:fs');
    const base = statSync(img).blocks;
    for (let i = 0; i < 400 && statSync(img).blocks - base < 64 * 2048; i++) await new Promise((r) => setTimeout(r, 25));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    assert.equal(code, 130, err);
    assert.match(err, /interrupted; unmounting cleanly/);
    const fsck = sh(`fsck.fat -n '${img}'`);
    assert.equal(fsck.code, 0, fsck.out);
  } finally {
    s.done();
  }
});

test('a progress bar on a terminal for copies that take a moment; none with -q or without a terminal', { skip: skip || (!have('script') ? 'needs script (Debian: bsdutils) for a pseudo-terminal' : false) }, () => {
  const s = scratch();
  try {
    const img = join(s.dir, 'pb.img');
    assert.equal(sh(`truncate -s 1G '${img}' && mkfs.fat -F 32 '${img}'`).code, 0);
    const src = join(s.dir, 'big');
    assert.equal(sh(`truncate -s 700M '${src}'`).code, 0);
    const bin = new URL('../../../bin/tkl.js', import.meta.url).pathname;
    const onTty = sh(`script -qec "'${process.execPath}' '${bin}' cp '${src}' '${img}:/a'" /dev/null`);
    assert.equal(onTty.code, 0, onTty.out);
    assert.match(onTty.out, /\d+% \| [\d.]+[KMG]?\/700M \| [01]\/1 files/, 'the bar shows percent, bytes and files');
    const quiet = sh(`script -qec "'${process.execPath}' '${bin}' cp -q '${src}' '${img}:/a'" /dev/null`);
    assert.equal(quiet.code, 0, quiet.out);
    assert.doesNotMatch(quiet.out, /%/);
    const plain = tkl(['cp', src, `${img}:/a`]);
    assert.equal(plain.code, 0, plain.err);
    assert.equal(plain.err, '', 'no bar when stderr is not a terminal');
  } finally {
    s.done();
  }
});
