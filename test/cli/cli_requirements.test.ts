// Requirements of the `tkl` command checked end to end against the real tools: cp -p (mode
// with set-id bits, owner, nanosecond times) through debugfs, cp -n, image → image copies
// across filesystem types (fsck and contents), hard links, rm -f, chown by the image's own
// user and group names, touch -d, df beside Linux's df, and a full filesystem (ENOSPC).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, chmodSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tkl, sh, have, scratch } from './harness.js';

const tools = ['mkfs.ext4', 'e2fsck', 'debugfs', 'mkfs.fat', 'fsck.fat', 'mtype'];
const missing = tools.filter((t) => !have(t));
const skip = missing.length > 0 ? `needs ${missing.join(', ')} (Debian: e2fsprogs, dosfstools, mtools)` : false;
const root = process.getuid?.() === 0;

function ext4(dir: string, name = 'e.img', size = '64M', extra = ''): string {
  const img = join(dir, name);
  assert.equal(sh(`truncate -s ${size} '${img}' && mkfs.ext4 -q -F ${extra} '${img}'`).code, 0);
  return img;
}

function fat(dir: string, name = 'f.img', size = '64M', type = '32'): string {
  const img = join(dir, name);
  assert.equal(sh(`truncate -s ${size} '${img}' && mkfs.fat -F ${type} '${img}' >/dev/null`).code, 0);
  return img;
}

function ok(args: string[]): string {
  const r = tkl(args);
  assert.equal(r.code, 0, `tkl ${args.join(' ')}: ${r.err}`);
  return r.out;
}

function debugfs(img: string, req: string): string {
  return sh(`debugfs -R '${req.replace(/ (\/.*)$/, ' "$1"')}' '${img}' 2>/dev/null`).out;
}

function e2fsckClean(img: string): void {
  const e = sh(`e2fsck -fn '${img}'`);
  assert.equal(e.code, 0, e.out + e.err);
}

function fsckFatClean(img: string): void {
  const f = sh(`fsck.fat -n '${img}'`);
  assert.equal(f.code, 0, f.out + f.err);
}

/** An ext4 time field as debugfs prints it ("mtime: 0xSECONDS:EXTRA"): seconds and nanoseconds. */
function debugfsTime(stat: string, field: string): { sec: number; nsec: number } {
  const m = new RegExp(`^\\s*${field}: 0x([0-9a-f]+):([0-9a-f]+)`, 'm').exec(stat);
  assert.ok(m, `debugfs shows ${field} with its extra field:\n${stat}`);
  const extra = parseInt(m[2]!, 16);
  // The extra field: two epoch bits, then the nanoseconds (ext4 disk layout, "Inode Timestamps").
  return { sec: parseInt(m[1]!, 16) + (extra & 3) * 2 ** 32, nsec: extra >>> 2 };
}

test('cp -p keeps mode 4750, owner and nanosecond times into ext4 (debugfs), image → image and back out', { skip }, (t) => {
  const s = scratch();
  try {
    const img = ext4(s.dir);
    const f = join(s.dir, 'tool');
    writeFileSync(f, 'binary\n');
    // chown first: it clears the set-user-ID bit on the host too.
    if (root) chownSync(f, 1234, 5678);
    chmodSync(f, 0o4750);
    assert.equal(sh(`touch -d '2021-03-04 05:06:07.123456789' '${f}'`).code, 0);
    // Before the copy: reading the file moves its atime on the host (relatime).
    const host = lstatSync(f, { bigint: true });
    ok(['cp', '-p', f, `${img}:/tool`]);
    const st = debugfs(img, 'stat /tool');
    assert.match(st, /Mode:\s+04750/);
    if (root) assert.match(st, /User:\s+1234\s+Group:\s+5678/);
    else t.diagnostic('not root: the host file keeps our own uid, so only the mode and times are compared');
    for (const [field, ns] of [['mtime', host.mtimeNs], ['atime', host.atimeNs]] as const) {
      const got = debugfsTime(st, field);
      assert.equal(BigInt(got.sec) * 1_000_000_000n + BigInt(got.nsec), ns, `${field} to the nanosecond`);
    }
    assert.equal(debugfsTime(st, 'mtime').nsec, 123456789);
    // ext4 → ext4: nothing lost.
    const img2 = ext4(s.dir, 'e2.img');
    ok(['cp', '-p', `${img}:/tool`, `${img2}:/tool`]);
    const st2 = JSON.parse(ok(['stat', '--json', `${img2}:/tool`]));
    assert.equal(st2.mode, 0o4750);
    assert.equal(st2.mtime, '2021-03-04T05:06:07.123456789Z');
    if (root) assert.deepEqual([st2.uid, st2.gid], [1234, 5678]);
    // ext4 → host: node:fs sets times as float seconds, so the host copy is exact to the microsecond.
    const back = join(s.dir, 'back');
    ok(['cp', '-p', `${img}:/tool`, back]);
    const b = lstatSync(back, { bigint: true });
    assert.equal(Number(b.mode) & 0o7777, 0o4750);
    assert.ok(b.mtimeNs - host.mtimeNs < 1000n && host.mtimeNs - b.mtimeNs < 1000n, `${b.mtimeNs} vs ${host.mtimeNs}`);
    if (root) assert.deepEqual([Number(b.uid), Number(b.gid)], [1234, 5678]);
    e2fsckClean(img);
    e2fsckClean(img2);
  } finally {
    s.done();
  }
});

test('cp -n keeps existing files and copies the rest', { skip }, () => {
  const s = scratch();
  try {
    const img = ext4(s.dir);
    const src = join(s.dir, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'old'), 'from host\n');
    writeFileSync(join(src, 'new'), 'new file\n');
    ok(['mkdir', `${img}:/dst`]);
    writeFileSync(join(s.dir, 'keep'), 'already there\n');
    ok(['cp', join(s.dir, 'keep'), `${img}:/dst/old`]);
    ok(['cp', '-rn', `${src}/.`, `${img}:/dst`]);
    assert.equal(ok(['cat', `${img}:/dst/old`]), 'already there\n');
    assert.equal(ok(['cat', `${img}:/dst/new`]), 'new file\n');
    // Without -n it is overwritten.
    ok(['cp', join(src, 'old'), `${img}:/dst/old`]);
    assert.equal(ok(['cat', `${img}:/dst/old`]), 'from host\n');
    e2fsckClean(img);
  } finally {
    s.done();
  }
});

test('image → image across types: ext4 → FAT and FAT → ext4; fsck clean, contents equal', { skip }, () => {
  const s = scratch();
  try {
    const src = join(s.dir, 'tree');
    mkdirSync(join(src, 'docs/deep'), { recursive: true });
    const big = Buffer.alloc(2_500_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 11)) & 0xff;
    writeFileSync(join(src, 'big.bin'), big);
    writeFileSync(join(src, 'docs/A Long Name.txt'), 'long\n');
    for (let i = 0; i < 40; i++) writeFileSync(join(src, `docs/deep/f${i}`), `file ${i}\n`.repeat(i));
    const e = join(s.dir, 'e.img');
    assert.equal(sh(`truncate -s 64M '${e}' && mkfs.ext4 -q -F -d '${src}' '${e}'`).code, 0);
    const f = fat(s.dir);
    ok(['cp', '-r', `${e}:/docs`, `${e}:/big.bin`, `${f}:/`]);
    fsckFatClean(f);
    assert.equal(sh(`mtype -i '${f}' '::/docs/A Long Name.txt'`).out, 'long\n');
    assert.equal(sh(`mtype -i '${f}' ::/docs/deep/f7`).out, 'file 7\n'.repeat(7));
    const out = join(s.dir, 'big.out');
    assert.equal(sh(`mcopy -n -i '${f}' ::/big.bin '${out}'`).code, 0);
    assert.ok(readFileSync(out).equals(big), 'big.bin byte-identical on FAT (mtools)');
    // And back into a fresh ext4.
    const e2 = ext4(s.dir, 'e2.img');
    ok(['cp', '-r', `${f}:/docs`, `${f}:/big.bin`, `${e2}:/`]);
    e2fsckClean(e2);
    assert.equal(debugfs(e2, 'cat /docs/A Long Name.txt'), 'long\n');
    assert.equal(debugfs(e2, 'cat /docs/deep/f39'), 'file 39\n'.repeat(39));
    const out2 = join(s.dir, 'big2.out');
    assert.equal(sh(`debugfs -R 'dump /big.bin ${out2}' '${e2}' 2>/dev/null`).code, 0);
    assert.ok(readFileSync(out2).equals(big), 'big.bin byte-identical on ext4 (debugfs)');
  } finally {
    s.done();
  }
});

test('ln (hard), rm -f of a missing file, touch -d', { skip }, () => {
  const s = scratch();
  try {
    const img = ext4(s.dir);
    writeFileSync(join(s.dir, 'a'), 'linked\n');
    ok(['cp', join(s.dir, 'a'), `${img}:/a`]);
    ok(['ln', `${img}:/a`, `${img}:/b`]);
    const a = debugfs(img, 'stat /a');
    assert.match(a, /Links: 2/);
    assert.equal(/Inode: (\d+)/.exec(debugfs(img, 'stat /b'))![1], /Inode: (\d+)/.exec(a)![1], 'one inode, two names');
    const other = ext4(s.dir, 'other.img', '8M');
    const cross = tkl(['ln', `${img}:/a`, `${other}:/b`]);
    assert.equal(cross.code, 1);
    assert.match(cross.err, /^tkl: cannot create hard link across images/);

    const rmf = tkl(['rm', '-f', `${img}:/no-such-file`]);
    assert.deepEqual([rmf.code, rmf.out, rmf.err], [0, '', '']);
    const rm = tkl(['rm', `${img}:/no-such-file`]);
    assert.equal(rm.code, 1);
    assert.equal(rm.err, `tkl: cannot remove '${img}:/no-such-file': No such file or directory\n`);

    ok(['touch', '-d', '2024-01-02T03:04:05.678Z', `${img}:/b`, `${img}:/made-by-touch`]);
    const st = JSON.parse(ok(['stat', '--json', `${img}:/made-by-touch`]));
    assert.equal(st.mtime, '2024-01-02T03:04:05.678000000Z');
    assert.equal(st.atime, '2024-01-02T03:04:05.678000000Z');
    assert.equal(debugfsTime(debugfs(img, 'stat /a'), 'mtime').sec, Date.parse('2024-01-02T03:04:05Z') / 1000, 'a and b are one inode');
    ok(['touch', '-m', '-d', '2000-01-01T00:00:00Z', `${img}:/made-by-touch`]);
    const st2 = JSON.parse(ok(['stat', '--json', `${img}:/made-by-touch`]));
    assert.equal(st2.mtime, '2000-01-01T00:00:00.000000000Z');
    assert.equal(st2.atime, '2024-01-02T03:04:05.678000000Z', '-m leaves the access time');
    const bad = tkl(['touch', '-d', 'not a date', `${img}:/x`]);
    assert.equal(bad.code, 2);
    e2fsckClean(img);
  } finally {
    s.done();
  }
});

test("chown by name: the image's /etc/passwd and /etc/group, never the host's; numeric ids as they are", { skip }, () => {
  const s = scratch();
  try {
    const img = ext4(s.dir);
    writeFileSync(join(s.dir, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nalice:x:1500:1600::/home/alice:/bin/sh\n');
    writeFileSync(join(s.dir, 'group'), 'root:x:0:\nstaff:x:1700:alice\n');
    ok(['mkdir', `${img}:/etc`]);
    ok(['cp', join(s.dir, 'passwd'), join(s.dir, 'group'), `${img}:/etc/`]);
    ok(['touch', `${img}:/f`, `${img}:/g`, `${img}:/h`]);
    const owner = (p: string): string => /User:\s+(\d+)\s+Group:\s+(\d+)/.exec(debugfs(img, `stat ${p}`))!.slice(1, 3).join(':');
    ok(['chown', 'alice:staff', `${img}:/f`]);
    assert.equal(owner('/f'), '1500:1700');
    ok(['chown', 'alice:', `${img}:/g`]);
    assert.equal(owner('/g'), '1500:1600', "OWNER: takes the owner's login group");
    ok(['chown', ':staff', `${img}:/h`]);
    assert.equal(owner('/h'), '0:1700', ':GROUP changes only the group');
    ok(['chown', '4242:4343', `${img}:/h`]);
    assert.equal(owner('/h'), '4242:4343');
    // "daemon" exists on the host but not in the image.
    const r = tkl(['chown', 'daemon', `${img}:/f`]);
    assert.equal(r.code, 1);
    assert.equal(r.err, "tkl: invalid user: 'daemon' (not in the image's /etc/passwd)\n");
    const g = tkl(['chown', 'alice:wheel', `${img}:/f`]);
    assert.equal(g.code, 1);
    assert.match(g.err, /invalid group: 'wheel'/);
    assert.equal(owner('/f'), '1500:1700', 'unchanged after a failed chown');
    e2fsckClean(img);
  } finally {
    s.done();
  }
});

test('df: the text table, and the numbers Linux df shows for the same ext4 (loop mount)', { skip }, async (t) => {
  const s = scratch();
  try {
    const img = ext4(s.dir, 'e.img', '64M', '-L dftest');
    writeFileSync(join(s.dir, 'data'), Buffer.alloc(3 << 20, 7));
    ok(['cp', join(s.dir, 'data'), `${img}:/data`]);
    const out = ok(['df', img]);
    const lines = out.trimEnd().split('\n');
    assert.match(lines[0]!, /^Filesystem\s+Type\s+1K-blocks\s+Used\s+Avail\s+Use%$/);
    const row = lines[1]!.split(/\s+/);
    assert.equal(row[0], img);
    assert.equal(row[1], 'ext4');
    const json = JSON.parse(ok(['df', '--json', img]))[0];
    assert.deepEqual(row.slice(2, 5).map(Number), [json.size, json.used, json.available].map((n: number) => Math.ceil(n / 1024)));
    assert.ok(json.used >= 3 << 20);
    assert.match(ok(['df', '-h', img]), /\n\S+\s+ext4\s+\d+M\s+[\d.]+M\s+\d+M\s+\d+%\n$/);
    await t.test('Linux df on a loop mount shows the same 1K-blocks, Used and Avail', { skip: !root ? 'not root: no loop mount' : sh('losetup -f').code !== 0 ? 'no free loop device' : false }, () => {
      const mnt = join(s.dir, 'mnt');
      mkdirSync(mnt);
      const m = sh(`mount -o ro,loop '${img}' '${mnt}'`);
      assert.equal(m.code, 0, m.err);
      try {
        const linux = sh(`df -k --output=size,used,avail '${mnt}'`).out.trim().split('\n')[1]!.trim().split(/\s+/);
        assert.deepEqual(row.slice(2, 5), linux);
      } finally {
        sh(`umount '${mnt}'`);
      }
    });
  } finally {
    s.done();
  }
});

test('a full filesystem: cp fails with ENOSPC naming the file, exit 1, and fsck finds it clean (FAT and ext4)', { skip }, () => {
  const s = scratch();
  try {
    const big = join(s.dir, 'big');
    writeFileSync(big, Buffer.alloc(12 << 20, 0x5a));
    const small = join(s.dir, 'small');
    writeFileSync(small, 'fits\n');
    for (const [img, clean] of [[fat(s.dir, 'f.img', '8M', '12'), fsckFatClean], [ext4(s.dir, 'e.img', '8M'), e2fsckClean]] as const) {
      ok(['cp', small, `${img}:/small`]);
      const r = tkl(['cp', big, `${img}:/big`]);
      assert.equal(r.code, 1, r.err);
      assert.equal(r.err, `tkl: cannot write '${img}:/big': No space left on device\n`);
      clean(img);
      // The filesystem still works: the partial file can be removed and the space reused.
      assert.equal(ok(['cat', `${img}:/small`]), 'fits\n');
      ok(['rm', `${img}:/big`]);
      ok(['cp', small, `${img}:/again`]);
      clean(img);
    }
  } finally {
    s.done();
  }
});
