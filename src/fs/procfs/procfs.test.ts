// procfs and devfs: what a program finds in /proc and /dev.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fresh, throwsCode, rejectsCode, enc } from '../../../test/conformance/helpers.js';
import { AT_FDCWD, O_RDONLY, O_RDWR, O_WRONLY, O_DIRECTORY } from '../../abi/linux/fcntl.js';

test('/proc/self, /proc/PID/fd magic links, cwd, root, comm, status', async () => {
  const k = fresh();
  const p = k.process({ uid: 1000, gid: 1000 });
  assert.equal(p.sys.readlink('/proc/self'), String(p.pid));
  assert.equal(k.sys.readlink('/proc/self'), '1');
  k.fs.writeFile('/tmp/data', 'through the magic link');
  const fd = k.sys.openat(AT_FDCWD, '/tmp/data', O_RDONLY);
  assert.equal(k.sys.readlink(`/proc/self/fd/${fd}`), '/tmp/data');
  k.sys.rename('/tmp/data', '/tmp/moved');
  assert.equal(k.sys.readlink(`/proc/self/fd/${fd}`), '/tmp/moved', 'the link follows the file');
  k.sys.unlink('/tmp/moved');
  assert.equal(k.sys.readlink(`/proc/self/fd/${fd}`), '/tmp/moved (deleted)');
  // Opening the magic link reaches the (deleted) file itself.
  assert.equal(k.fs.readFile(`/proc/self/fd/${fd}`, 'utf8'), 'through the magic link');
  k.sys.chdir('/tmp');
  assert.equal(k.sys.readlink('/proc/1/cwd'), '/tmp');
  assert.equal(k.sys.readlink('/proc/1/root'), '/');
  assert.equal(k.fs.readFile('/proc/1/comm', 'utf8'), 'init\n');
  assert.match(k.fs.readFile(`/proc/${p.pid}/status`, 'utf8'), /^Uid:\t1000\t1000\t1000\t1000$/m);
  const names = k.fs.readdir(`/proc/self/fd`);
  // As `ls /proc/self/fd` on Linux: the listing includes the descriptor reading it.
  assert.deepEqual(names, ['0', '1', '2', String(fd), String(fd + 1)]);
  throwsCode(() => p.fs.readdir('/proc/1/fd'), 'EACCES', "another user's descriptors are private");
  // /proc/PID belongs to the task's effective ids (task_dump_owner), not its real ones.
  const q = k.process({ uid: 0, gid: 0 });
  q.sys.setresgid(3000, 2000, 3000);
  q.sys.setresuid(3000, 2000, 3000);
  const st = k.sys.stat(`/proc/${q.pid}/fd`);
  assert.deepEqual([st.uid, st.gid], [2000, 2000]);
  assert.deepEqual([k.sys.stat(`/proc/${q.pid}`).uid, k.sys.lstat(`/proc/${q.pid}/cwd`).uid], [2000, 2000]);
  q.exit();
  p.exit();
  assert.equal(k.fs.exists(`/proc/${p.pid}`), false, 'an exited task is gone from /proc');
  assert.deepEqual(k.fs.readdir('/proc').filter((n) => /^\d+$/.test(n)), ['1']);
});

test('/proc/mounts, /proc/uptime, /proc/filesystems, /proc/version', () => {
  const k = fresh();
  assert.equal(k.sys.readlink('/proc/mounts'), 'self/mounts');
  const m = k.fs.readFile('/proc/mounts', 'utf8').split('\n');
  assert.match(m[0]!, /^rootfs \/ tmpfs rw/);
  assert.ok(m.some((l) => l.startsWith('proc /proc proc rw')));
  k.fs.mkdir('/mnt/with space');
  k.sys.mount('my src', '/mnt/with space', 'tmpfs', 0, '');
  assert.match(k.fs.readFile('/proc/mounts', 'utf8'), /^my\\040src \/mnt\/with\\040space tmpfs/m);
  assert.match(k.fs.readFile('/proc/uptime', 'utf8'), /^\d+\.\d\d \d+\.\d\d\n$/);
  assert.match(k.fs.readFile('/proc/filesystems', 'utf8'), /nodev\ttmpfs\n/);
  assert.match(k.fs.readFile('/proc/version', 'utf8'), /^Linux version /);
  throwsCode(() => k.process({ uid: 1000, gid: 1000 }).fs.writeFile('/proc/version', 'x'), 'EACCES');
});

test('/dev: null, zero, full, random, urandom, std streams', async () => {
  const k = fresh();
  const b = new Uint8Array(64).fill(9);
  const z = k.sys.openat(AT_FDCWD, '/dev/zero', O_RDONLY);
  assert.equal(await k.sys.read(z, b), 64);
  assert.ok(b.every((x) => x === 0));
  const n = k.sys.openat(AT_FDCWD, '/dev/null', O_RDWR);
  assert.equal(await k.sys.read(n, b), 0);
  assert.equal(await k.sys.write(n, enc('discarded')), 9);
  const f = k.sys.openat(AT_FDCWD, '/dev/full', O_RDWR);
  await rejectsCode(k.sys.write(f, enc('x')), 'ENOSPC');
  const r = k.sys.openat(AT_FDCWD, '/dev/urandom', O_RDONLY);
  const a1 = new Uint8Array(32);
  const a2 = new Uint8Array(32);
  await k.sys.read(r, a1);
  await k.sys.read(r, a2);
  assert.notDeepEqual(a1, a2);
  assert.equal(k.sys.readlink('/dev/stdout'), '/proc/self/fd/1');
  const out = k.sys.openat(AT_FDCWD, '/dev/stdout', O_WRONLY);
  assert.equal(k.sys.fstat(out).rdev, k.sys.stat('/dev/console').rdev);
  const shm = k.sys.stat('/dev/shm');
  assert.equal(shm.mode & 0o7777, 0o1777);
  k.sys.close(k.sys.openat(AT_FDCWD, '/dev', O_RDONLY | O_DIRECTORY));
});
