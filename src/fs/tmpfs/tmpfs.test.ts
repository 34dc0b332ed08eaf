// tmpfs as Linux's shmem behaves: sparse pages, SEEK_DATA/SEEK_HOLE, truncation, fallocate,
// xattrs, links, special files, nanosecond times, stable readdir cookies, size limits.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fresh, throwsCode, enc, dec } from '../../../test/conformance/helpers.js';
import {
  AT_FDCWD, O_CREAT, O_RDWR, O_RDONLY, O_DIRECTORY, SEEK_DATA, SEEK_HOLE, SEEK_END, FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE, XATTR_CREATE, XATTR_REPLACE, FALLOC_FL_ZERO_RANGE, O_WRONLY, O_NONBLOCK,
} from '../../abi/linux/fcntl.js';
import { S_IFCHR, S_IFIFO, S_IFMT } from '../../abi/linux/stat.js';
import { UTIME_NOW, UTIME_OMIT } from '../../abi/linux/stat.js';
import { makedev } from '../../abi/linux/limits.js';

const PAGE = 4096;

test('holes read as zeros and take no pages; SEEK_DATA/SEEK_HOLE find them', () => {
  const k = fresh();
  const fd = k.sys.openat(AT_FDCWD, '/tmp/sparse', O_CREAT | O_RDWR, 0o644);
  k.sys.pwrite64(fd, enc('A'), 1, 0);
  k.sys.pwrite64(fd, enc('B'), 1, 10 * PAGE + 5);
  const st = k.sys.fstat(fd);
  assert.equal(st.size, 10 * PAGE + 6);
  assert.equal(st.blocks, 2 * (PAGE / 512), 'two pages allocated');
  const buf = new Uint8Array(3 * PAGE);
  assert.equal(k.sys.pread64(fd, buf, buf.length, PAGE), buf.length);
  assert.ok(buf.every((b) => b === 0));
  assert.equal(k.sys.lseek(fd, 0, SEEK_DATA), 0);
  assert.equal(k.sys.lseek(fd, 1, SEEK_HOLE), PAGE);
  assert.equal(k.sys.lseek(fd, PAGE, SEEK_DATA), 10 * PAGE);
  assert.equal(k.sys.lseek(fd, 10 * PAGE, SEEK_HOLE), 10 * PAGE + 6, 'end of file counts as a hole');
  throwsCode(() => k.sys.lseek(fd, 10 * PAGE + 6, SEEK_DATA), 'ENXIO');
  throwsCode(() => k.sys.lseek(fd, -1, SEEK_HOLE), 'ENXIO');
  assert.equal(k.sys.lseek(fd, -6, SEEK_END), 10 * PAGE);
  throwsCode(() => k.sys.lseek(fd, -1, 0), 'EINVAL');
  throwsCode(() => k.sys.lseek(fd, 0, 9), 'EINVAL');
});

test('truncate drops pages and zeroes the tail; extension reads zeros', () => {
  const k = fresh();
  k.fs.writeFile('/tmp/t', new Uint8Array(3 * PAGE).fill(7));
  k.sys.truncate('/tmp/t', PAGE + 10);
  assert.equal(k.sys.stat('/tmp/t').blocks, 2 * 8);
  k.sys.truncate('/tmp/t', 3 * PAGE);
  const data = k.fs.readFile('/tmp/t');
  assert.equal(data.length, 3 * PAGE);
  assert.ok(data.subarray(0, PAGE + 10).every((b) => b === 7));
  assert.ok(data.subarray(PAGE + 10).every((b) => b === 0), 'bytes past the old end are zero');
  throwsCode(() => k.sys.truncate('/tmp/t', -1), 'EINVAL');
  throwsCode(() => k.sys.truncate('/tmp', 0), 'EISDIR');
  const ro = k.sys.openat(AT_FDCWD, '/tmp/t', O_RDONLY);
  throwsCode(() => k.sys.ftruncate(ro, 0), 'EINVAL', 'ftruncate needs a writable descriptor');
});

test('fallocate: allocation, KEEP_SIZE, PUNCH_HOLE; unsupported modes', () => {
  const k = fresh();
  const fd = k.sys.openat(AT_FDCWD, '/tmp/f', O_CREAT | O_RDWR, 0o644);
  k.sys.fallocate(fd, 0, 0, 2 * PAGE);
  assert.equal(k.sys.fstat(fd).size, 2 * PAGE);
  assert.equal(k.sys.fstat(fd).blocks, 16);
  k.sys.fallocate(fd, FALLOC_FL_KEEP_SIZE, 2 * PAGE, PAGE);
  assert.equal(k.sys.fstat(fd).size, 2 * PAGE);
  assert.equal(k.sys.fstat(fd).blocks, 24);
  k.sys.pwrite64(fd, new Uint8Array(2 * PAGE).fill(1), 2 * PAGE, 0);
  k.sys.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 10, PAGE);
  const b = new Uint8Array(2 * PAGE);
  k.sys.pread64(fd, b, b.length, 0);
  assert.ok(b.subarray(0, 10).every((x) => x === 1));
  assert.ok(b.subarray(10, PAGE + 10).every((x) => x === 0));
  assert.ok(b.subarray(PAGE + 10).every((x) => x === 1));
  throwsCode(() => k.sys.fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 1), 'EOPNOTSUPP', 'punch needs KEEP_SIZE');
  throwsCode(() => k.sys.fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, 1), 'EOPNOTSUPP', 'tmpfs has no ZERO_RANGE');
  throwsCode(() => k.sys.fallocate(fd, 0, 0, 0), 'EINVAL');
});

test('xattrs: create/replace flags, listing, removal, namespaces', () => {
  const k = fresh();
  k.fs.writeFile('/tmp/x', '');
  k.sys.setxattr('/tmp/x', 'user.a', enc('1'), 0);
  throwsCode(() => k.sys.setxattr('/tmp/x', 'user.a', enc('2'), XATTR_CREATE), 'EEXIST');
  throwsCode(() => k.sys.setxattr('/tmp/x', 'user.b', enc('2'), XATTR_REPLACE), 'ENODATA');
  k.sys.setxattr('/tmp/x', 'user.a', enc('22'), XATTR_REPLACE);
  k.sys.setxattr('/tmp/x', 'trusted.t', enc('t'), 0);
  assert.equal(dec(k.sys.getxattr('/tmp/x', 'user.a')), '22');
  assert.deepEqual(k.sys.listxattr('/tmp/x').sort(), ['trusted.t', 'user.a']);
  throwsCode(() => k.sys.getxattr('/tmp/x', 'user.a', 1), 'ERANGE');
  throwsCode(() => k.sys.getxattr('/tmp/x', 'bogus.a'), 'EOPNOTSUPP');
  throwsCode(() => k.sys.getxattr('/tmp/x', 'user.missing'), 'ENODATA');
  const user = k.process({ uid: 1000, gid: 1000 });
  assert.deepEqual(user.sys.listxattr('/tmp/x'), ['user.a'], 'trusted.* is invisible to users');
  k.sys.removexattr('/tmp/x', 'user.a');
  throwsCode(() => k.sys.removexattr('/tmp/x', 'user.a'), 'ENODATA');
  k.sys.symlink('x', '/tmp/lx');
  throwsCode(() => k.sys.lsetxattr('/tmp/lx', 'user.a', enc('1'), 0), 'EPERM', 'no user.* on symlinks');
});

test('hard links share the inode and count links; the data lives until the last name and descriptor go', () => {
  const k = fresh();
  k.fs.writeFile('/tmp/a', 'data');
  k.sys.link('/tmp/a', '/tmp/b');
  assert.equal(k.sys.stat('/tmp/a').nlink, 2);
  assert.equal(k.sys.stat('/tmp/a').ino, k.sys.stat('/tmp/b').ino);
  const before = k.sys.statfs('/tmp').bfree;
  const fd = k.sys.openat(AT_FDCWD, '/tmp/b', O_RDONLY);
  k.sys.unlink('/tmp/a');
  k.sys.unlink('/tmp/b');
  assert.equal(k.sys.fstat(fd).nlink, 0);
  const buf = new Uint8Array(4);
  assert.equal(k.sys.pread64(fd, buf, 4, 0), 4);
  assert.equal(dec(buf), 'data', 'an open unlinked file is still readable');
  assert.equal(k.sys.statfs('/tmp').bfree, before);
  k.sys.close(fd);
  assert.equal(k.sys.statfs('/tmp').bfree, before + 1, 'its page is freed on the last close');
  throwsCode(() => k.sys.link('/tmp', '/tmp2'), 'EPERM', 'no hard links to directories');
});

test('device nodes and FIFOs made with mknod work', () => {
  const k = fresh();
  k.sys.mknod('/tmp/mynull', S_IFCHR | 0o666, makedev(1, 3));
  const fd = k.sys.openat(AT_FDCWD, '/tmp/mynull', O_RDWR);
  assert.equal(k.sys.fstat(fd).mode & S_IFMT, S_IFCHR);
  assert.equal(k.sys.pwrite64(fd, enc('gone'), 4, 0), 4);
  assert.equal(k.sys.pread64(fd, new Uint8Array(4), 4, 0), 0);
  k.sys.mknod('/tmp/bogus', S_IFCHR | 0o666, makedev(99, 99));
  throwsCode(() => k.sys.openat(AT_FDCWD, '/tmp/bogus', O_RDWR), 'ENXIO');
  k.sys.mknod('/tmp/fifo', S_IFIFO | 0o644, 0);
  throwsCode(() => k.sys.openat(AT_FDCWD, '/tmp/fifo', O_WRONLY | O_NONBLOCK), 'ENXIO', 'no reader yet');
  const r = k.sys.openat(AT_FDCWD, '/tmp/fifo', O_RDONLY | O_NONBLOCK);
  const w = k.sys.openat(AT_FDCWD, '/tmp/fifo', O_WRONLY);
  return (async () => {
    assert.equal(await k.sys.write(w, enc('via fifo')), 8);
    const b = new Uint8Array(16);
    const n = await k.sys.read(r, b);
    assert.equal(dec(b.subarray(0, n)), 'via fifo');
    const user = k.process({ uid: 1000, gid: 1000 });
    throwsCode(() => user.sys.mknod('/tmp/u', S_IFCHR | 0o666, makedev(1, 3)), 'EPERM', 'device nodes need privilege');
  })();
});

test('timestamps have nanoseconds; utimensat honours UTIME_NOW and UTIME_OMIT', () => {
  const k = fresh();
  k.fs.writeFile('/tmp/t', 'x');
  k.sys.utimensat(AT_FDCWD, '/tmp/t', [{ sec: 1_000_000_000, nsec: 123_456_789 }, { sec: 4_102_444_800, nsec: 987_654_321 }], 0);
  let st = k.sys.stat('/tmp/t');
  assert.deepEqual(st.atime, { sec: 1_000_000_000, nsec: 123_456_789 });
  assert.deepEqual(st.mtime, { sec: 4_102_444_800, nsec: 987_654_321 }, 'dates past 2038');
  k.sys.utimensat(AT_FDCWD, '/tmp/t', [{ sec: 0, nsec: UTIME_OMIT }, { sec: 0, nsec: UTIME_NOW }], 0);
  st = k.sys.stat('/tmp/t');
  assert.deepEqual(st.atime, { sec: 1_000_000_000, nsec: 123_456_789 }, 'OMIT leaves atime');
  assert.ok(st.mtime.sec > 1_600_000_000 && st.mtime.sec < 4_102_444_800, 'NOW sets mtime to now');
  throwsCode(() => k.sys.utimensat(AT_FDCWD, '/tmp/t', [{ sec: 0, nsec: 1e9 }, { sec: 0, nsec: 0 }], 0), 'EINVAL');
  const user = k.process({ uid: 1000, gid: 1000 });
  throwsCode(() => user.sys.utimensat(AT_FDCWD, '/tmp/t', [{ sec: 1, nsec: 0 }, { sec: 1, nsec: 0 }], 0), 'EPERM');
  throwsCode(() => user.sys.utimensat(AT_FDCWD, '/tmp/t', null, 0), 'EACCES', 'now needs write permission');
});

test('readdir cookies stay valid while the directory changes', () => {
  const k = fresh();
  k.fs.mkdir('/tmp/d');
  for (let i = 0; i < 100; i++) k.fs.writeFile(`/tmp/d/f${i}`, '');
  const fd = k.sys.openat(AT_FDCWD, '/tmp/d', O_RDONLY | O_DIRECTORY);
  const seen: string[] = [];
  const first = k.sys.getdents64(fd, 24 * 20); // a small buffer: some entries only
  for (const d of first) seen.push(d.name);
  // Remove entries already seen and not yet seen, add new ones: nothing seen twice.
  k.sys.unlink('/tmp/d/f0');
  k.sys.unlink('/tmp/d/f99');
  k.fs.writeFile('/tmp/d/new', '');
  for (let b = k.sys.getdents64(fd); b.length > 0; b = k.sys.getdents64(fd)) for (const d of b) seen.push(d.name);
  assert.equal(new Set(seen).size, seen.length, 'no entry twice');
  assert.ok(!seen.includes('f99'), 'a removed entry is not returned');
  assert.ok(seen.includes('new'), 'an entry added after the position is returned');
  for (let i = 1; i < 99; i++) assert.ok(seen.includes(`f${i}`));
  // lseek back to a cookie resumes there.
  k.sys.lseek(fd, 0, 0);
  const again = k.sys.getdents64(fd).map((d) => d.name);
  assert.deepEqual(again.slice(0, 2), ['.', '..']);
  k.sys.lseek(fd, 0, 0);
  throwsCode(() => k.sys.getdents64(fd, 10), 'EINVAL', 'a buffer too small for one entry');
});

test('a size-limited tmpfs fills up with ENOSPC and recovers', () => {
  const k = fresh();
  k.sys.mount('none', '/mnt', 'tmpfs', 0, 'size=64k');
  const fd = k.sys.openat(AT_FDCWD, '/mnt/big', O_CREAT | O_RDWR, 0o644);
  const chunk = new Uint8Array(40 * 1024);
  assert.equal(k.sys.pwrite64(fd, chunk, chunk.length, 0), chunk.length);
  assert.equal(k.sys.pwrite64(fd, chunk, chunk.length, chunk.length), 24 * 1024, 'a short write up to the limit');
  throwsCode(() => k.sys.pwrite64(fd, chunk, chunk.length, 2 * chunk.length), 'ENOSPC');
  assert.equal(k.sys.statfs('/mnt').bfree, 0);
  k.sys.ftruncate(fd, 0);
  assert.equal(k.sys.statfs('/mnt').bfree, 16);
});

test('O_TMPFILE makes an unnamed file that linkat can name (unless O_EXCL)', async () => {
  const k = fresh();
  const O_TMPFILE = 0o20200000;
  const O_EXCL = 0o200;
  const fd = k.sys.openat(AT_FDCWD, '/tmp', O_TMPFILE | O_RDWR, 0o600);
  assert.equal(k.sys.fstat(fd).nlink, 0);
  assert.deepEqual(k.fs.readdir('/tmp'), []);
  await k.sys.write(fd, enc('anonymous'));
  k.sys.linkat(fd, '', AT_FDCWD, '/tmp/named', 0x1000 /* AT_EMPTY_PATH */);
  assert.equal(k.fs.readFile('/tmp/named', 'utf8'), 'anonymous');
  assert.equal(k.sys.fstat(fd).nlink, 1);
  const ex = k.sys.openat(AT_FDCWD, '/tmp', O_TMPFILE | O_RDWR | O_EXCL, 0o600);
  throwsCode(() => k.sys.linkat(ex, '', AT_FDCWD, '/tmp/never', 0x1000), 'ENOENT');
  throwsCode(() => k.sys.openat(AT_FDCWD, '/tmp', O_TMPFILE | O_RDONLY, 0o600), 'EINVAL');
  throwsCode(() => k.sys.openat(AT_FDCWD, '/proc', O_TMPFILE | O_RDWR, 0o600), 'EOPNOTSUPP');
});

test('a zero-length write past the end changes nothing', () => {
  const k = fresh();
  k.fs.writeFile('/tmp/z', 'abc');
  const fd = k.sys.openat(AT_FDCWD, '/tmp/z', O_WRONLY);
  assert.equal(k.sys.pwrite64(fd, new Uint8Array(0), 0, 10_000), 0);
  assert.equal(k.sys.fstat(fd).size, 3);
});

test('offsets past 4 GiB reach their own pages; huge sparse files cost only their pages', () => {
  const k = fresh();
  const free = k.sys.statfs('/').bfree;
  const fd = k.sys.openat(AT_FDCWD, '/tmp/big', O_CREAT | O_RDWR, 0o644);
  k.sys.pwrite64(fd, enc('A'), 1, 0);
  k.sys.pwrite64(fd, enc('B'), 1, 2 ** 32);
  const one = new Uint8Array(1);
  k.sys.pread64(fd, one, 1, 0);
  assert.equal(dec(one), 'A', 'a write at 4 GiB must not land on page 0');
  k.sys.pread64(fd, one, 1, 2 ** 32);
  assert.equal(dec(one), 'B');
  assert.equal(k.sys.fstat(fd).blocks, 2 * (PAGE / 512));
  // A page 15 TiB in: seeking, punching, truncating and freeing it must not walk every hole.
  const far = 15 * 2 ** 40;
  k.sys.pwrite64(fd, enc('C'), 1, far);
  const started = Date.now();
  assert.equal(k.sys.lseek(fd, PAGE, SEEK_DATA), 2 ** 32);
  assert.equal(k.sys.lseek(fd, 2 ** 32 + PAGE, SEEK_DATA), far);
  assert.equal(k.sys.lseek(fd, far, SEEK_HOLE), far + 1);
  k.sys.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PAGE, far);
  assert.equal(k.sys.fstat(fd).blocks, 2 * (PAGE / 512), 'the 4 GiB page was punched, the far one kept');
  throwsCode(() => k.sys.fallocate(fd, 0, 0, 2 ** 40), 'ENOSPC');
  k.sys.ftruncate(fd, PAGE);
  assert.equal(k.sys.fstat(fd).blocks, PAGE / 512);
  k.sys.close(fd);
  k.sys.unlink('/tmp/big');
  assert.equal(k.sys.statfs('/').bfree, free, 'every page was given back');
  assert.ok(Date.now() - started < 2000, `sparse operations took ${Date.now() - started} ms`);
  const g = k.sys.openat(AT_FDCWD, '/tmp/limit', O_CREAT | O_RDWR, 0o644);
  throwsCode(() => k.sys.pwrite64(g, enc('x'), 1, 2 ** 44), 'EFBIG', 'past the 16 TiB a page array reaches');
});

test('xattr names and namespaces as Linux 6.x answers them (checked on this machine\'s tmpfs)', () => {
  const k = fresh();
  k.fs.writeFile('/tmp/x', '');
  k.sys.chmod('/tmp/x', 0o666);
  throwsCode(() => k.sys.setxattr('/tmp/x', 'user.', enc('v'), 0), 'EINVAL', 'a bare prefix');
  throwsCode(() => k.sys.setxattr('/tmp/x', 'system.foo', enc('v'), 0), 'EOPNOTSUPP', 'no handler for it');
  k.sys.setxattr('/tmp/x', 'security.label', enc('v'), 0);
  k.sys.setxattr('/tmp/x', 'user.a', enc('vv'), 0);
  assert.equal(k.sys.getxattr('/tmp/x', 'user.a', 0).length, 2, 'size 0 asks for the value, never ERANGE');
  assert.equal(k.sys.listxattr('/tmp/x', 0).length, 2);
  k.fs.writeFile('/tmp/own', '');
  k.sys.chown('/tmp/own', 1000, 1000);
  const user = k.process({ uid: 1000, gid: 1000 });
  throwsCode(() => user.sys.setxattr('/tmp/own', 'security.label', enc('v'), 0), 'EPERM', 'security.* needs CAP_SYS_ADMIN, not ownership');
  assert.equal(dec(user.sys.getxattr('/tmp/x', 'security.label')), 'v', 'but anyone reads it');
});

test('fallocate updates mtime and ctime in every mode, as shmem_fallocate (checked on Linux 6.18)', () => {
  const k = fresh();
  const fd = k.sys.openat(AT_FDCWD, '/tmp/fa', O_CREAT | O_RDWR, 0o644);
  const old = { sec: 1_000_000_000, nsec: 0 };
  for (const mode of [0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE]) {
    k.sys.utimensat(AT_FDCWD, '/tmp/fa', [old, old], 0);
    k.sys.fallocate(fd, mode, 0, 2 * PAGE);
    const st = k.sys.fstat(fd);
    assert.notDeepEqual(st.mtime, old, `mode ${mode}: mtime`);
    assert.notEqual(st.ctime.sec, old.sec, `mode ${mode}: ctime`);
  }
});
