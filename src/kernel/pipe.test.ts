// Pipes as Linux has them: 64 KiB, atomic writes up to PIPE_BUF, EOF, EPIPE, EAGAIN, poll.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fresh, throwsCode, rejectsCode, enc, dec } from '../../test/conformance/helpers.js';
import { O_NONBLOCK, O_CLOEXEC, F_GETFD, F_GETFL, F_GETPIPE_SZ, F_SETPIPE_SZ, FD_CLOEXEC, O_RDONLY, O_WRONLY, O_RDWR, AT_FDCWD } from '../abi/linux/fcntl.js';
import { POLLIN, POLLOUT, POLLHUP, POLLERR, POLLNVAL } from '../abi/linux/poll.js';
import { S_IFIFO } from '../abi/linux/stat.js';
import { sys_openat } from './syscalls/sys_open.js';
import { Blocked } from './wait_queue.js';
import { waitSync } from './sleep_sync.js';

test('capacity is 64 KiB; a non-blocking writer then gets EAGAIN', async () => {
  const k = fresh();
  const [, w] = k.sys.pipe2(O_NONBLOCK);
  assert.equal(k.sys.fcntl(w, F_GETPIPE_SZ), 65536);
  assert.equal(await k.sys.write(w, new Uint8Array(70000)), 65536, 'a partial write up to capacity');
  await rejectsCode(k.sys.write(w, new Uint8Array(1)), 'EAGAIN');
});

test('writes of at most PIPE_BUF bytes are atomic', async () => {
  const k = fresh();
  const [r, w] = k.sys.pipe2(O_NONBLOCK);
  await k.sys.write(w, new Uint8Array(65536 - 100));
  await rejectsCode(k.sys.write(w, new Uint8Array(4096)), 'EAGAIN', 'does not fit whole: nothing written');
  assert.equal(await k.sys.write(w, new Uint8Array(100)), 100);
  const b = new Uint8Array(65536);
  assert.equal(await k.sys.read(r, b), 65536);
});

test('a blocking write larger than the pipe completes as the reader drains it', async () => {
  const k = fresh();
  const [r, w] = k.sys.pipe2(0);
  const data = new Uint8Array(200_000);
  for (let i = 0; i < data.length; i++) data[i] = i % 251;
  const writing = k.sys.write(w, data);
  const got: Uint8Array[] = [];
  let total = 0;
  while (total < data.length) {
    const b = new Uint8Array(30_000);
    const n = await k.sys.read(r, b);
    got.push(b.subarray(0, n));
    total += n;
  }
  assert.equal(await writing, data.length);
  const all = new Uint8Array(total);
  let o = 0;
  for (const g of got) {
    all.set(g, o);
    o += g.length;
  }
  assert.deepEqual(all, data);
});

test('EOF when the last writer closes; EPIPE when the last reader closes', async () => {
  const k = fresh();
  const [r, w] = k.sys.pipe2(0);
  await k.sys.write(w, enc('bye'));
  k.sys.close(w);
  const b = new Uint8Array(8);
  assert.equal(dec(b.subarray(0, await k.sys.read(r, b))), 'bye');
  assert.equal(await k.sys.read(r, b), 0, 'end of file');
  const [r2, w2] = k.sys.pipe2(0);
  k.sys.close(r2);
  await rejectsCode(k.sys.write(w2, enc('x')), 'EPIPE');
});

test('a blocked reader wakes when data arrives; O_NONBLOCK gives EAGAIN', async () => {
  const k = fresh();
  const [r, w] = k.sys.pipe2(0);
  const b = new Uint8Array(8);
  const reading = k.sys.read(r, b);
  await new Promise((res) => setTimeout(res, 5));
  await k.sys.write(w, enc('late'));
  assert.equal(await reading, 4);
  const [r2] = k.sys.pipe2(O_NONBLOCK);
  await rejectsCode(k.sys.read(r2, b), 'EAGAIN');
});

test('poll reports readiness, HUP, ERR and NVAL; times out', async () => {
  const k = fresh();
  const [r, w] = k.sys.pipe2(0);
  const fds = [{ fd: r, events: POLLIN, revents: 0 }, { fd: w, events: POLLOUT, revents: 0 }, { fd: 99, events: POLLIN, revents: 0 }];
  assert.equal(await k.sys.poll(fds, 0), 2);
  assert.equal(fds[0]!.revents, 0);
  assert.equal(fds[1]!.revents, POLLOUT);
  assert.equal(fds[2]!.revents, POLLNVAL);
  const t0 = Date.now();
  assert.equal(await k.sys.poll([{ fd: r, events: POLLIN, revents: 0 }], 30), 0, 'timeout');
  assert.ok(Date.now() - t0 >= 25);
  const waiting = k.sys.poll([{ fd: r, events: POLLIN, revents: 0 }], -1);
  await k.sys.write(w, enc('x'));
  assert.equal(await waiting, 1);
  k.sys.close(w);
  const hup = [{ fd: r, events: POLLIN, revents: 0 }];
  await k.sys.poll(hup, 0);
  assert.equal(hup[0]!.revents, POLLIN | POLLHUP);
  const [r3, w3] = k.sys.pipe2(0);
  k.sys.close(r3);
  const err = [{ fd: w3, events: POLLOUT, revents: 0 }];
  await k.sys.poll(err, 0);
  assert.ok(err[0]!.revents & POLLERR);
});

test('pipe2 flags, F_SETPIPE_SZ, and the ends refuse the wrong direction', async () => {
  const k = fresh();
  const [r, w] = k.sys.pipe2(O_CLOEXEC | O_NONBLOCK);
  assert.equal(k.sys.fcntl(r, F_GETFD), FD_CLOEXEC);
  assert.equal(k.sys.fcntl(r, F_GETFL) & (O_NONBLOCK | 3), O_NONBLOCK | O_RDONLY);
  assert.equal(k.sys.fcntl(w, F_GETFL) & 3, O_WRONLY);
  throwsCode(() => k.sys.pipe2(0x1), 'EINVAL');
  assert.equal(k.sys.fcntl(w, F_SETPIPE_SZ, 5000), 8192);
  assert.equal(k.sys.fcntl(w, F_SETPIPE_SZ, 0), 4096, 'one page at least, as Linux answers for 0');
  await rejectsCode(k.sys.write(r, enc('x')), 'EBADF');
  await rejectsCode(k.sys.read(w, new Uint8Array(1)), 'EBADF');
  throwsCode(() => k.sys.lseek(r, 0, 0), 'ESPIPE');
  throwsCode(() => k.sys.pread64(r, new Uint8Array(1), 1, 0), 'ESPIPE');
  assert.match(k.sys.readlink(`/proc/self/fd/${r}`), /^pipe:\[\d+\]$/);
});

test('a zero-length write to a pipe without readers succeeds (pipe_write checks the length first)', async () => {
  const k = fresh();
  const [r, w] = k.sys.pipe2(0);
  k.sys.close(r);
  assert.equal(await k.sys.write(w, new Uint8Array(0)), 0);
  await rejectsCode(k.sys.write(w, enc('x')), 'EPIPE');
});

test('a FIFO whose last end closed starts empty; a read end sees HUP only after a writer came', async () => {
  const k = fresh();
  k.sys.mknod('/tmp/fifo', S_IFIFO | 0o666, 0);
  const rw = k.sys.open('/tmp/fifo', O_RDWR);
  await k.sys.write(rw, enc('left over'));
  k.sys.close(rw);
  const r = k.sys.open('/tmp/fifo', O_RDONLY | O_NONBLOCK);
  assert.equal(await k.sys.read(r, new Uint8Array(16)), 0, 'unread data went with the last close (Linux reads 0 here too)');
  const fds = [{ fd: r, events: POLLIN, revents: 0 }];
  await k.sys.poll(fds, 0);
  assert.equal(fds[0]!.revents, 0, 'no writer has come since this open: no HUP');
  const w = k.sys.open('/tmp/fifo', O_WRONLY | O_NONBLOCK);
  k.sys.close(w);
  await k.sys.poll(fds, 0);
  assert.equal(fds[0]!.revents, POLLHUP, 'a writer came and went');
});

test('a blocking FIFO open waits for a partner that opens after it; one given up lets go of its end', async () => {
  const k = fresh();
  const t = k.kernel.init;
  k.sys.mknod('/tmp/fifo', S_IFIFO | 0o666, 0);
  k.sys.close(k.sys.open('/tmp/fifo', O_RDWR));
  // A writer came and went before: the reader still waits for the next one.
  let b: Blocked<number> | null = null;
  try {
    sys_openat(t, AT_FDCWD, '/tmp/fifo', O_RDONLY);
  } catch (e) {
    if (e instanceof Blocked) b = e as Blocked<number>;
  }
  assert.ok(b !== null, 'the read-only open waits');
  const w = k.sys.open('/tmp/fifo', O_WRONLY | O_NONBLOCK);
  const r = b.retry();
  await k.sys.write(w, enc('hi'));
  const buf = new Uint8Array(4);
  assert.equal(dec(buf.subarray(0, await k.sys.read(r, buf))), 'hi');
  k.sys.close(r);
  k.sys.close(w);
  // A wait that can never end (nothing else runs on this thread) fails with EDEADLK and
  // takes its end back: writers see no reader, the mount is not held, the inode can go.
  k.sys.mkdir('/mnt/t', 0o755);
  k.sys.mount('none', '/mnt/t', 'tmpfs', 0, '');
  k.sys.mknod('/mnt/t/fifo', S_IFIFO | 0o666, 0);
  const never = { poll: () => false, halt: () => false };
  assert.throws(() => {
    try {
      sys_openat(t, AT_FDCWD, '/mnt/t/fifo', O_RDONLY);
    } catch (e) {
      if (e instanceof Blocked) waitSync(k.kernel, t, e, never);
      throw e;
    }
  }, /EDEADLK|deadlock|never happen/i);
  throwsCode(() => k.sys.open('/mnt/t/fifo', O_WRONLY | O_NONBLOCK), 'ENXIO', 'the abandoned reader is gone');
  assert.equal(k.sys.umount2('/mnt/t', 0), 0, 'no open file left behind in the mount');
});

test('k.fs never hands out a Blocked: a FIFO opens without waiting and an empty one with a writer is EAGAIN', () => {
  const k = fresh();
  k.sys.mknod('/tmp/fifo', S_IFIFO | 0o666, 0);
  assert.equal(k.fs.readFile('/tmp/fifo').length, 0, 'no writer: end of file at once');
  const rw = k.sys.open('/tmp/fifo', O_RDWR);
  assert.throws(() => k.fs.readFile('/tmp/fifo'), (e: unknown) => e instanceof Error && (e as { code?: string }).code === 'EAGAIN');
  k.sys.close(rw);
});

test('closing the descriptor of a blocked read does not end it: the reader still counts until the read returns', async () => {
  const k = fresh();
  const [r, w] = k.sys.pipe2(0);
  const b = new Uint8Array(8);
  const reading = k.sys.read(r, b);
  k.sys.close(r);
  throwsCode(() => k.sys.fcntl(r, 1), 'EBADF', 'the descriptor is gone');
  assert.equal(await k.sys.write(w, enc('still')), 5, 'a writer still has a reader (no EPIPE)');
  assert.equal(await reading, 5);
  assert.equal(dec(b.subarray(0, 5)), 'still');
  await rejectsCode(k.sys.write(w, enc('x')), 'EPIPE', 'once the read returned, the last reader is gone');
});
