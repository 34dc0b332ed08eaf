import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boot } from '../../index.js';
import { MS_RDONLY } from '../../abi/linux/mount.js';
import { O_CREAT, O_RDWR, O_WRONLY, AT_FDCWD } from '../../abi/linux/fcntl.js';
import { UTIME_OMIT } from '../../abi/linux/stat.js';
import { hostfsType } from './hostfs.js';

function setup(flags = 0): { base: string; dir: string; k: ReturnType<typeof boot>; done: () => void } {
  const base = fs.mkdtempSync(join(tmpdir(), 'tkl-hostfs-'));
  const dir = join(base, 'dir');
  fs.mkdirSync(dir);
  const k = boot();
  k.kernel.registerFilesystem(hostfsType);
  k.sys.mkdir('/h', 0o755);
  k.sys.mount(dir, '/h', 'hostfs', flags, '');
  return {
    base,
    dir,
    k,
    done: () => {
      k.sys.umount2('/h', 2);
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}

test('files, directories and links made through the kernel are real on the host', async () => {
  const { dir, k, done } = setup();
  try {
    k.fs.mkdir('/h/a/b', { recursive: true });
    k.fs.writeFile('/h/a/b/f.txt', 'hello host\n');
    assert.equal(fs.readFileSync(join(dir, 'a/b/f.txt'), 'utf8'), 'hello host\n');
    k.sys.link('/h/a/b/f.txt', '/h/a/hard');
    assert.equal(fs.statSync(join(dir, 'a/hard')).ino, fs.statSync(join(dir, 'a/b/f.txt')).ino);
    assert.equal(k.sys.stat('/h/a/hard').ino, k.sys.stat('/h/a/b/f.txt').ino);
    assert.equal(k.sys.stat('/h/a/hard').nlink, 2);
    k.sys.symlink('b/f.txt', '/h/a/sym');
    assert.equal(fs.readlinkSync(join(dir, 'a/sym')), 'b/f.txt');
    assert.equal(k.fs.readFile('/h/a/sym', 'utf8'), 'hello host\n');
    k.sys.rename('/h/a/b', '/h/c');
    assert.ok(fs.existsSync(join(dir, 'c/f.txt')));
    assert.equal(k.fs.readFile('/h/c/f.txt', 'utf8'), 'hello host\n');
    k.sys.unlink('/h/a/hard');
    assert.equal(fs.existsSync(join(dir, 'a/hard')), false);
    assert.deepEqual(k.fs.readdir('/h').sort(), fs.readdirSync(dir).sort());
    assert.deepEqual(k.fs.readdir('/h/a').sort(), ['sym']);
    k.sys.chmod('/h/c/f.txt', 0o640);
    assert.equal(fs.statSync(join(dir, 'c/f.txt')).mode & 0o777, 0o640);
    k.sys.truncate('/h/c/f.txt', 5);
    assert.equal(fs.readFileSync(join(dir, 'c/f.txt'), 'utf8'), 'hello');
    const fd = k.sys.openat(AT_FDCWD, '/h/c/f.txt', O_RDWR, 0);
    assert.equal(await k.sys.pwrite64(fd, new TextEncoder().encode('!'), 1, 5), 1);
    assert.equal(k.sys.fstat(fd).size, 6);
    k.sys.close(fd);
    assert.equal(fs.readFileSync(join(dir, 'c/f.txt'), 'utf8'), 'hello!');
    k.sys.unlink('/h/a/sym');
    k.sys.rmdir('/h/a');
    assert.equal(fs.existsSync(join(dir, 'a')), false);
  } finally {
    done();
  }
});

test('stat matches the host; timestamps set through the kernel keep their nanoseconds', () => {
  const { dir, k, done } = setup();
  try {
    fs.writeFileSync(join(dir, 'f'), 'x'.repeat(1000));
    const st = k.sys.stat('/h/f');
    const hst = fs.lstatSync(join(dir, 'f'), { bigint: true });
    assert.equal(BigInt(st.ino), hst.ino);
    assert.equal(st.size, 1000);
    assert.equal(BigInt(st.mtime.sec) * 1_000_000_000n + BigInt(st.mtime.nsec), hst.mtimeNs);
    const m = { sec: 1_700_000_000, nsec: 123_456_789 };
    k.sys.utimensat(AT_FDCWD, '/h/f', [{ sec: 0, nsec: UTIME_OMIT }, m], 0);
    const after = k.sys.stat('/h/f');
    assert.deepEqual(after.mtime, m, 'exact nanoseconds survive');
    assert.deepEqual(after.atime, st.atime, 'atime was left alone');
    // The host holds the same instant to its own (microsecond-level) precision.
    const host = fs.lstatSync(join(dir, 'f'), { bigint: true }).mtimeNs;
    const diff = host - 1_700_000_000_123_456_789n;
    assert.ok(diff < 1000n && diff > -1000n, `host mtime ${host}`);
  } finally {
    done();
  }
});

test('symlinks on the host resolve inside the kernel, never on the host', () => {
  const { base, dir, k, done } = setup();
  try {
    fs.writeFileSync(join(base, 'secret.txt'), 'outside');
    fs.symlinkSync('/', join(dir, 'abs'));
    fs.symlinkSync(join(base, 'secret.txt'), join(dir, 'abs2'));
    fs.symlinkSync('../secret.txt', join(dir, 'up'));
    // "/" is the kernel's root, not the host's.
    assert.deepEqual(k.fs.readdir('/h/abs').sort(), k.fs.readdir('/').sort());
    assert.throws(() => k.fs.readFile('/h/abs2'), { code: 'ENOENT' });
    assert.throws(() => k.fs.readFile('/h/up'), { code: 'ENOENT' });
    // ".." above the mount is the kernel's namespace too.
    assert.deepEqual(k.fs.readdir('/h/..').sort(), k.fs.readdir('/').sort());
  } finally {
    done();
  }
});

test('a directory swapped for a symlink on the host does not lead out', () => {
  const { base, dir, k, done } = setup();
  try {
    fs.mkdirSync(join(base, 'outside'));
    fs.writeFileSync(join(base, 'outside', 'loot'), 'outside');
    fs.mkdirSync(join(dir, 'd'));
    fs.writeFileSync(join(dir, 'd', 'mine'), 'inside');
    assert.deepEqual(k.fs.readdir('/h/d'), ['mine']);
    fs.renameSync(join(dir, 'd'), join(dir, 'd.old'));
    fs.symlinkSync(join(base, 'outside'), join(dir, 'd'));
    // The kernel may still see the directory it had (now d.old), or nothing; never "loot".
    let names: string[] = [];
    try {
      names = k.fs.readdir('/h/d');
    } catch {
      names = [];
    }
    assert.ok(!names.includes('loot'), `listed ${names.join(',')}`);
    assert.throws(() => k.fs.readFile('/h/d/loot'));
    // Many directories later, the descriptor cache has let go of d: reopening refuses the link.
    for (let i = 0; i < 80; i++) {
      fs.mkdirSync(join(dir, `x${i}`));
      k.fs.readdir(`/h/x${i}`);
    }
    assert.throws(() => k.fs.readFile('/h/d/loot'));
    assert.equal(fs.readFileSync(join(base, 'outside', 'loot'), 'utf8'), 'outside');
  } finally {
    done();
  }
});

test('a read-only mount refuses writes', () => {
  const ro = setup(MS_RDONLY);
  try {
    fs.writeFileSync(join(ro.dir, 'f'), 'x');
    assert.equal(ro.k.fs.readFile('/h/f', 'utf8'), 'x');
    assert.throws(() => ro.k.sys.openat(AT_FDCWD, '/h/f', O_WRONLY, 0), { code: 'EROFS' });
    assert.throws(() => ro.k.sys.openat(AT_FDCWD, '/h/g', O_CREAT | O_WRONLY, 0o644), { code: 'EROFS' });
    assert.throws(() => ro.k.sys.mkdir('/h/d', 0o755), { code: 'EROFS' });
  } finally {
    ro.done();
  }
});

test('readdir lists every entry once across small getdents64 buffers', () => {
  const { dir, k, done } = setup();
  try {
    for (let i = 0; i < 300; i++) fs.writeFileSync(join(dir, `file-${i}`), '');
    const fd = k.sys.open('/h', 0, 0);
    const seen: string[] = [];
    for (;;) {
      const batch = k.sys.getdents64(fd, 256);
      if (batch.length === 0) break;
      for (const e of batch) seen.push(e.name);
    }
    k.sys.close(fd);
    assert.equal(seen.length, 302);
    assert.equal(new Set(seen).size, 302);
  } finally {
    done();
  }
});

test('mount errors: relative source, a file as source', () => {
  const k = boot();
  k.kernel.registerFilesystem(hostfsType);
  k.sys.mkdir('/h', 0o755);
  assert.throws(() => k.sys.mount('relative/dir', '/h', 'hostfs', 0, ''), { code: 'EINVAL' });
  const f = join(fs.mkdtempSync(join(tmpdir(), 'tkl-hostfs-')), 'file');
  fs.writeFileSync(f, '');
  assert.throws(() => k.sys.mount(f, '/h', 'hostfs', 0, ''), { code: 'ENOTDIR' });
  fs.rmSync(join(f, '..'), { recursive: true });
});
