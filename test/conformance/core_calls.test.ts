// Calls of the kernel core that the differential suite does not reach, each against what
// Linux does: the SystemError shape of the syscall API, readv/writev, ppoll, fchdir,
// fdatasync, getppid, fchownat, /dev/tty and k.fs.walk.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fresh, throwsCode, rejectsCode, enc, dec } from './helpers.js';
import { AT_FDCWD, AT_SYMLINK_NOFOLLOW, O_CREAT, O_DIRECTORY, O_RDONLY, O_RDWR } from '../../src/abi/linux/fcntl.js';
import { POLLIN, POLLOUT } from '../../src/abi/linux/poll.js';
import { SystemError } from '../../src/index.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

function caught(fn: () => unknown): SystemError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SystemError, `expected a SystemError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

test('SystemError: code, negative errno, syscall, path, dest, and the detail the kernel gave', () => {
  const k = fresh();
  const a = caught(() => k.sys.stat('/nope'));
  assert.deepEqual([a.code, a.errno, a.syscall, a.path, a.dest, a.detail], ['ENOENT', -2, 'stat', '/nope', undefined, undefined]);
  assert.equal(a.message, "ENOENT: No such file or directory, stat '/nope'");
  const b = caught(() => k.sys.rename('/missing', '/tmp/x'));
  assert.deepEqual([b.code, b.syscall, b.path, b.dest], ['ENOENT', 'rename', '/missing', '/tmp/x']);
  const c = caught(() => k.sys.mount('none', '/mnt', 'nosuchfs', 0, ''));
  assert.deepEqual([c.code, c.errno, c.detail], ['ENODEV', -19, "unknown filesystem type 'nosuchfs'"]);
});

test('readv and writev gather and scatter in order; on a pipe too', async () => {
  const k = fresh();
  const fd = k.sys.openat(AT_FDCWD, '/tmp/v', O_RDWR | O_CREAT, 0o644);
  assert.equal(await k.sys.writev(fd, [enc('one '), enc(''), enc('two '), enc('three')]), 13);
  k.sys.lseek(fd, 0, 0);
  const x = new Uint8Array(5);
  const y = new Uint8Array(20);
  assert.equal(await k.sys.readv(fd, [x, y]), 13);
  assert.equal(dec(x) + dec(y.subarray(0, 8)), 'one two three');
  assert.equal(await k.sys.readv(fd, [x]), 0, 'end of file');
  const [r, w] = k.sys.pipe2(0);
  assert.equal(await k.sys.writev(w, [enc('ab'), enc('cd')]), 4);
  const p = new Uint8Array(3);
  const q = new Uint8Array(3);
  assert.equal(await k.sys.readv(r, [p, q]), 4);
  assert.equal(dec(p) + dec(q.subarray(0, 1)), 'abcd');
  await rejectsCode(k.sys.readv(w, [p]), 'EBADF', 'the write end cannot be read');
});

test('ppoll: a timespec timeout, readiness, and EINVAL for a bad timespec', async () => {
  const k = fresh();
  const [r, w] = k.sys.pipe2(0);
  const t0 = Date.now();
  assert.equal(await k.sys.ppoll([{ fd: r, events: POLLIN, revents: 0 }], { sec: 0, nsec: 20_000_000 }), 0);
  assert.ok(Date.now() - t0 >= 15, 'the timeout was waited out');
  const fds = [{ fd: r, events: POLLIN, revents: 0 }, { fd: w, events: POLLOUT, revents: 0 }];
  assert.equal(await k.sys.ppoll(fds, { sec: 0, nsec: 0 }), 1);
  assert.equal(fds[1]!.revents, POLLOUT);
  await k.sys.write(w, enc('x'));
  assert.equal(await k.sys.ppoll(fds, null), 2);
  assert.equal(fds[0]!.revents, POLLIN);
  await rejectsCode(k.sys.ppoll(fds, { sec: 0, nsec: 1_000_000_000 }), 'EINVAL');
  await rejectsCode(k.sys.ppoll(fds, { sec: -1, nsec: 0 }), 'EINVAL');
});

test('fchdir, fdatasync, getppid and fchownat behave as on Linux', () => {
  const k = fresh();
  k.fs.mkdir('/tmp/d/e', { recursive: true });
  const dfd = k.sys.openat(AT_FDCWD, '/tmp/d/e', O_RDONLY | O_DIRECTORY);
  k.sys.fchdir(dfd);
  assert.equal(k.sys.getcwd(), '/tmp/d/e');
  k.fs.writeFile('/tmp/f', 'x');
  const ffd = k.sys.openat(AT_FDCWD, '/tmp/f', O_RDWR);
  throwsCode(() => k.sys.fchdir(ffd), 'ENOTDIR');
  assert.equal(k.sys.fdatasync(ffd), 0);
  const [r] = k.sys.pipe2(0);
  throwsCode(() => k.sys.fdatasync(r), 'EINVAL', 'a pipe cannot be synced');
  const child = k.process({ uid: 1000, gid: 1000 });
  assert.equal(child.sys.getppid(), k.sys.getpid());
  // fchownat: AT_SYMLINK_NOFOLLOW changes the link, not its target; others need privilege.
  // (Not in sticky /tmp: there a link owned by another user is not followed, as with Linux's
  // fs.protected_symlinks.)
  k.fs.symlink('/tmp/f', '/tmp/d/l');
  k.sys.fchownat(AT_FDCWD, '/tmp/d/l', 7, 8, AT_SYMLINK_NOFOLLOW);
  assert.deepEqual([k.sys.lstat('/tmp/d/l').uid, k.sys.lstat('/tmp/d/l').gid], [7, 8]);
  assert.deepEqual([k.sys.stat('/tmp/d/l').uid, k.sys.stat('/tmp/d/l').gid], [0, 0]);
  k.fs.symlink('/tmp/f', '/tmp/l');
  k.sys.fchownat(AT_FDCWD, '/tmp/l', 7, 8, AT_SYMLINK_NOFOLLOW);
  throwsCode(() => k.sys.stat('/tmp/l'), 'EACCES', 'protected_symlinks in a sticky directory');
  k.sys.fchownat(dfd, '', 5, -1, 0x1000 /* AT_EMPTY_PATH */);
  assert.deepEqual([k.sys.stat('/tmp/d/e').uid, k.sys.stat('/tmp/d/e').gid], [5, 0], '-1 leaves the group');
  throwsCode(() => child.sys.fchownat(AT_FDCWD, '/tmp/f', 1000, 1000, 0), 'EPERM');
});

test('/dev/tty is the console; k.fs.walk lists parents before children without following links', async () => {
  const k = fresh();
  assert.equal(k.sys.stat('/dev/tty').rdev, k.sys.stat('/dev/tty').rdev);
  const fd = k.sys.openat(AT_FDCWD, '/dev/tty', O_RDWR);
  assert.equal(await k.sys.write(fd, new Uint8Array(0)), 0);
  k.fs.mkdir('/w/a/b', { recursive: true });
  k.fs.writeFile('/w/a/f', '1');
  k.fs.writeFile('/w/a/b/g', '2');
  k.fs.symlink('/w', '/w/a/loop');
  const seen = [...k.fs.walk('/w')].map((e) => e.path);
  assert.deepEqual(seen.sort(), ['/w', '/w/a', '/w/a/b', '/w/a/b/g', '/w/a/f', '/w/a/loop']);
  const order = [...k.fs.walk('/w')].map((e) => e.path);
  assert.ok(order.indexOf('/w/a') < order.indexOf('/w/a/b') && order.indexOf('/w/a/b') < order.indexOf('/w/a/b/g'));
});

test('k.fs.walk and k.fs.rm -r handle a tree as deep as PATH_MAX allows without deep JavaScript recursion', () => {
  // Run with a small JavaScript stack, where the old recursive versions overflowed.
  const index = fileURLToPath(new URL('../../src/index.js', import.meta.url));
  const script = `
    const { boot } = await import(${JSON.stringify(index)});
    const k = boot();
    const deep = '/tmp' + '/d'.repeat(2000);
    k.fs.mkdir(deep, { recursive: true });
    k.fs.writeFile(deep + '/leaf', 'x');
    let n = 0;
    for (const e of k.fs.walk('/tmp/d')) n++;
    k.fs.rm('/tmp/d', { recursive: true });
    console.log(n, k.fs.exists('/tmp/d'));`;
  const r = spawnSync(process.execPath, ['--stack-size=120', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '2001 false');
});
