// The messages and exit codes of `tkl` where things go wrong, as a user sees them: the host's
// own errno for images it may not open (run as nobody), nothing on stdout from a df that
// reported nothing, coreutils' exit code for an invalid mode, a failed mkimage that removes
// its file and says what does not fit, a dirty FAT named by its image, a mv whose source
// cannot be removed; and the shapes of tree --json (against `tree -J`) and info on FAT
// (against fsck.fat -v).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tkl, sh, have, scratch } from './harness.js';

const BIN = fileURLToPath(new URL('../../../bin/tkl.js', import.meta.url));
const root = process.getuid?.() === 0;
const fatTools = ['mkfs.fat', 'fsck.fat'].filter((t) => !have(t));
const fatSkip = fatTools.length > 0 ? `needs ${fatTools.join(', ')} (Debian: dosfstools)` : false;
const extSkip = !have('mkfs.ext4') ? 'needs mkfs.ext4 (Debian: e2fsprogs)' : false;

/** Why `tkl` cannot be run as the unprivileged user nobody here, or false when it can. */
function nobodySkip(): string | false {
  if (!root) return 'not root: cannot switch to the user nobody';
  if (!have('setpriv')) return 'needs setpriv (Debian: util-linux)';
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, '--help'], { encoding: 'utf8' });
  return r.status === 0 ? false : `nobody cannot run tkl from this checkout: ${r.stderr.trim().split('\n')[0]}`;
}

function asNobody(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, ...args], {
    encoding: 'utf8', timeout: 60_000,
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function fat(dir: string, name = 'f.img', size = '32M', type = '16'): string {
  const img = join(dir, name);
  assert.equal(sh(`truncate -s ${size} '${img}' && mkfs.fat -F ${type} -n MSGTEST -i 0badcafe '${img}' >/dev/null`).code, 0);
  return img;
}

test('images the host will not open: the host errno (Permission denied), never a made-up one', { skip: fatSkip || nobodySkip() }, () => {
  const s = scratch();
  try {
    chmodSync(s.dir, 0o755);
    const img = fat(s.dir);
    chmodSync(img, 0o644);
    // Readable, not writable: read commands work, a write says why it cannot open it.
    assert.equal(asNobody(['ls', `${img}:/`]).code, 0);
    const w = asNobody(['mkdir', `${img}:/d`]);
    assert.equal(w.code, 1);
    assert.equal(w.err, `tkl: cannot open '${img}' for writing: Permission denied\n`);
    // In a directory nobody may not search: EACCES, not ENOENT.
    const hidden = join(s.dir, 'private');
    mkdirSync(hidden, { mode: 0o700 });
    const img2 = fat(hidden, 'g.img');
    for (const args of [['ls', `${img2}:/`], ['df', img2], ['info', img2], ['parts', img2]]) {
      const r = asNobody(args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.err}`);
      assert.equal(r.err, `tkl: cannot open '${img2}': Permission denied\n`, args.join(' '));
      assert.equal(r.out, '', `${args[0]} prints nothing on stdout`);
    }
  } finally {
    s.done();
  }
});

test('df of an image that is not there: the error, and nothing on stdout', () => {
  const s = scratch();
  try {
    const r = tkl(['df', join(s.dir, 'nope.img')]);
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.equal(r.err, `tkl: cannot open '${join(s.dir, 'nope.img')}': No such file or directory\n`);
  } finally {
    s.done();
  }
});

test('chmod and mkdir -m with an invalid mode exit 1, as coreutils', { skip: fatSkip }, () => {
  const s = scratch();
  try {
    const img = fat(s.dir);
    assert.equal(tkl(['touch', `${img}:/f`]).code, 0);
    for (const [args, mode] of [[['chmod', '999', `${img}:/f`], '999'], [['chmod', 'u+q', `${img}:/f`], 'u+q'], [['mkdir', '-m', '888', `${img}:/d`], '888']] as const) {
      const r = tkl([...args]);
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.err, `tkl: invalid mode: '${mode}'\n`);
    }
    // coreutils agrees on the exit code.
    writeFileSync(join(s.dir, 'f'), '');
    assert.equal(sh(`chmod 999 '${join(s.dir, 'f')}'`).code, 1);
  } finally {
    s.done();
  }
});

test('mkimage whose partitions do not fit: says the sizes, and removes the file it made', () => {
  const s = scratch();
  try {
    const img = join(s.dir, 'disk.img');
    let r = tkl(['mkimage', img, '--size', '10M', '--part', 'vfat:20M']);
    assert.equal(r.code, 1);
    assert.equal(r.err, `tkl: cannot make '${img}': the partitions do not fit: 20M, but a 10M disk has 9.0M for partitions (the GPT and its backup, and 1 MiB alignment)\n`);
    assert.equal(existsSync(img), false, 'the new file is gone');
    r = tkl(['mkimage', img, '--size', '10M', '--table', 'mbr', '--part', 'vfat:6M', '--part', 'ext4:5M']);
    assert.equal(r.code, 1);
    assert.match(r.err, /the partitions do not fit: 6\.0M \+ 5\.0M = 11M, but a 10M disk has 9\.0M for partitions/);
    assert.equal(existsSync(img), false);
    // A file that was there before (--force) is not removed.
    writeFileSync(img, 'mine');
    r = tkl(['mkimage', img, '--force', '--size', '10M', '--part', 'vfat:20M']);
    assert.equal(r.code, 1);
    assert.equal(existsSync(img), true);
  } finally {
    s.done();
  }
});

test('a FAT volume not cleanly unmounted: the warning names the image, not /dev/vda', { skip: fatSkip }, () => {
  const s = scratch();
  try {
    const img = fat(s.dir);
    // Linux's dirty bit: bit 0 of the FAT16 boot sector's state byte (offset 37).
    const b = readFileSync(img);
    b[37] = b[37]! | 1;
    writeFileSync(img, b);
    const info = JSON.parse(tkl(['info', '--json', img]).out);
    assert.equal(info.dirty, true);
    const r = tkl(['touch', `${img}:/x`]);
    assert.equal(r.code, 0);
    assert.equal(r.err, `FAT-fs (${img}): Volume was not properly unmounted. Some data may be corrupt. Please run fsck.\n`);
    assert.doesNotMatch(r.err, /\/dev\/vd/);
  } finally {
    s.done();
  }
});

test("mv from a read-only host filesystem: the copy is made and stays, the source is reported, exit 1", { skip: extSkip || (!root ? 'not root: cannot mount a read-only tmpfs' : false) }, () => {
  const s = scratch();
  const ro = join(s.dir, 'rofs');
  mkdirSync(ro);
  try {
    assert.equal(sh(`mount -t tmpfs -o size=4m tkltest '${ro}'`).code, 0);
    writeFileSync(join(ro, 'f'), 'moving\n');
    assert.equal(sh(`mount -o remount,ro '${ro}'`).code, 0);
    const img = join(s.dir, 'e.img');
    assert.equal(sh(`truncate -s 16M '${img}' && mkfs.ext4 -q '${img}'`).code, 0);
    const r = tkl(['mv', 'rofs/f', `${img}:/moved`], { cwd: s.dir });
    assert.equal(r.code, 1);
    assert.equal(r.err, `tkl: cannot remove 'rofs/f': Read-only file system\ntkl: the copy '${img}:/moved' is complete and stays\n`);
    assert.equal(tkl(['cat', `${img}:/moved`]).out, 'moving\n');
    assert.equal(readFileSync(join(ro, 'f'), 'utf8'), 'moving\n');
  } finally {
    sh(`umount '${ro}'`);
    s.done();
  }
});

/** The tree of `tree -J` without its report, names and types only (what both must agree on). */
type Node = { type: string; name: string; target?: string; contents?: Node[] };

test('tree --json has the shape of `tree -J` for the same tree', { skip: extSkip || (!have('tree') ? 'needs tree (Debian: tree)' : false) }, () => {
  const s = scratch();
  try {
    const src = join(s.dir, 'src');
    mkdirSync(join(src, 'sub/deep/deeper'), { recursive: true });
    mkdirSync(join(src, 'empty'));
    writeFileSync(join(src, 'a.txt'), 'a');
    writeFileSync(join(src, 'sub/b'), 'b');
    writeFileSync(join(src, 'sub/deep/c'), 'c');
    symlinkSync('a.txt', join(src, 'link'));
    const img = join(s.dir, 'e.img');
    assert.equal(sh(`truncate -s 16M '${img}' && mkfs.ext4 -q -d '${src}' '${img}'`).code, 0);
    assert.equal(tkl(['rm', '-r', `${img}:/lost+found`]).code, 0);
    for (const depth of [[], ['-L', '2']]) {
      const ours = JSON.parse(tkl(['tree', '--json', ...depth, `${img}:/`]).out) as Node[];
      const theirs = JSON.parse(sh(`LC_ALL=C tree -J ${depth.join(' ')} .`, src).out) as Node[];
      assert.equal(ours.length, 2);
      assert.deepEqual(ours[0]!.contents, theirs[0]!.contents, `tree -J ${depth.join(' ')}`);
      assert.equal(ours[0]!.type, 'directory');
      assert.equal(ours[0]!.name, `${img}:/`);
      assert.deepEqual(Object.keys(ours[1]!), ['type', 'directories', 'files']);
      assert.equal(ours[1]!.type, 'report');
    }
    const full = JSON.parse(tkl(['tree', '-J', `${img}:/`]).out);
    assert.deepEqual(full[1], { type: 'report', directories: 4, files: 4 });
  } finally {
    s.done();
  }
});

test('info on FAT tells the boot sector, FSInfo and dirty state as fsck.fat -v sees them', { skip: fatSkip }, () => {
  const s = scratch();
  try {
    for (const type of ['12', '16', '32']) {
      const img = fat(s.dir, `f${type}.img`, type === '32' ? '64M' : '16M', type);
      const info = JSON.parse(tkl(['info', '--json', img]).out);
      const v = sh(`fsck.fat -nv '${img}'`).out;
      const num = (re: RegExp): number => Number(re.exec(v)?.[1]);
      assert.equal(info.fatType, Number(type));
      assert.equal(info.type, `FAT${type}`);
      assert.equal(info.clusterSize, num(/(\d+) bytes per cluster/));
      assert.equal(info.reservedSectors, num(/(\d+) reserved sectors/));
      assert.equal(info.fatCount, num(/(\d+) FATs,/));
      assert.equal(info.sectorsPerFat, num(/bytes per FAT \(= (\d+) sectors\)/));
      assert.equal(info.dataClusters, num(/(\d+) data clusters/));
      assert.equal(info.totalSectors, num(/(\d+) sectors total/));
      assert.equal(info.volumeId, '0x0badcafe');
      assert.equal(info.label, 'MSGTEST');
      assert.equal(info.dirty, false);
      if (type === '32') {
        assert.equal(info.rootEntries, null);
        assert.equal(info.rootCluster, 2);
        const [used, total] = /(\d+)\/(\d+) clusters/.exec(v)!.slice(1).map(Number) as [number, number];
        assert.equal(info.fsinfoFreeClusters, total - used);
      } else {
        assert.equal(info.rootEntries, num(/(\d+) root directory entries/));
        assert.equal(info.fsinfoFreeClusters, null);
      }
      const text = tkl(['info', img]).out;
      assert.match(text, new RegExp(`^fatType: +${type}$`, 'm'));
      assert.match(text, /^dirty: +false$/m);
    }
  } finally {
    s.done();
  }
});

test('every command has --help with examples', () => {
  const commands = ['ls', 'tree', 'cat', 'stat', 'cp', 'mv', 'mkdir', 'rm', 'ln', 'chmod', 'chown', 'touch', 'truncate', 'attrib', 'df', 'info', 'parts', 'mkfs', 'mkimage', 'demo', 'ping', 'nc', 'httpd', 'run'];
  const listed = [...tkl(['--help']).out.matchAll(/^ {2}(\w+)/gm)].map((m) => m[1]!).filter((c) => c !== 'help' && c !== 'tkl');
  for (const c of listed) assert.ok(commands.includes(c), `'${c}' is checked here too`);
  for (const c of commands) {
    const r = tkl([c, '--help']);
    assert.equal(r.code, 0, c);
    assert.match(r.out, /^examples?:\n {2}tkl /im, `tkl ${c} --help shows examples`);
  }
});
