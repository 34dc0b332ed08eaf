// Descriptors: dup shares the open file description (offset and status flags), close-on-exec
// belongs to the descriptor, lowest-free allocation, EMFILE, fcntl.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot } from '../../index.js';
import { fresh, throwsCode, enc } from '../../../test/conformance/helpers.js';
import {
  AT_FDCWD, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_SETFD, F_SETFL, FD_CLOEXEC, O_APPEND, O_CLOEXEC, O_CREAT,
  O_RDWR, O_NONBLOCK, O_RDONLY, O_LARGEFILE, O_EXCL, O_TRUNC, O_NOCTTY, O_PATH, O_NOFOLLOW, O_DIRECTORY, O_TMPFILE, AT_EMPTY_PATH,
} from '../../abi/linux/fcntl.js';

test('dup shares the offset and status flags; cloexec is per descriptor', async () => {
  const k = fresh();
  const a = k.sys.openat(AT_FDCWD, '/tmp/f', O_CREAT | O_RDWR | O_CLOEXEC, 0o644);
  const b = k.sys.dup(a);
  assert.equal(b, a + 1);
  await k.sys.write(a, enc('hello'));
  assert.equal(k.sys.lseek(b, 0, 1), 5, 'offset is shared');
  k.sys.fcntl(a, F_SETFL, O_APPEND | O_NONBLOCK);
  assert.equal(k.sys.fcntl(b, F_GETFL) & (O_APPEND | O_NONBLOCK), O_APPEND | O_NONBLOCK, 'status flags are shared');
  assert.equal(k.sys.fcntl(a, F_GETFD), FD_CLOEXEC);
  assert.equal(k.sys.fcntl(b, F_GETFD), 0, 'dup clears close-on-exec');
  k.sys.fcntl(b, F_SETFD, FD_CLOEXEC);
  assert.equal(k.sys.fcntl(b, F_GETFD), FD_CLOEXEC);
  assert.equal(k.sys.fcntl(a, F_GETFL) & O_LARGEFILE, O_LARGEFILE, 'open sets O_LARGEFILE as on 64-bit Linux');
});

test('lowest free descriptor; dup2/dup3/F_DUPFD rules', () => {
  const k = fresh();
  const a = k.sys.openat(AT_FDCWD, '/', O_RDONLY);
  const b = k.sys.openat(AT_FDCWD, '/', O_RDONLY);
  k.sys.close(a);
  assert.equal(k.sys.openat(AT_FDCWD, '/', O_RDONLY), a, 'the hole is reused');
  assert.equal(k.sys.dup2(b, 10), 10);
  assert.equal(k.sys.dup2(b, b), b, 'dup2 onto itself is a no-op');
  throwsCode(() => k.sys.dup3(b, b, 0), 'EINVAL', 'dup3 onto itself');
  throwsCode(() => k.sys.dup3(b, 11, 1), 'EINVAL');
  assert.equal(k.sys.dup3(b, 11, O_CLOEXEC), 11);
  assert.equal(k.sys.fcntl(11, F_GETFD), FD_CLOEXEC);
  assert.equal(k.sys.fcntl(b, F_DUPFD, 20), 20);
  assert.equal(k.sys.fcntl(b, F_DUPFD_CLOEXEC, 20), 21);
  throwsCode(() => k.sys.fcntl(b, F_DUPFD, 5000), 'EINVAL');
  throwsCode(() => k.sys.dup2(b, 5000), 'EBADF');
  throwsCode(() => k.sys.close(a + 100), 'EBADF');
  throwsCode(() => k.sys.fcntl(b, 12345), 'EINVAL');
});

test('EMFILE at the descriptor limit', () => {
  const k = boot({ maxOpenFiles: 16 });
  for (let i = 3; i < 16; i++) k.sys.openat(AT_FDCWD, '/', O_RDONLY);
  throwsCode(() => k.sys.openat(AT_FDCWD, '/', O_RDONLY), 'EMFILE');
  throwsCode(() => k.sys.pipe2(0), 'EMFILE');
});

test('standard streams of pid 1 are the console', async () => {
  const lines: string[] = [];
  const { SimHost } = await import('../../host/sim/sim_host.js');
  const k = boot({ host: new SimHost({ console: (t) => lines.push(t) }) });
  await k.sys.write(1, enc('to stdout\n'));
  await k.sys.write(2, enc('to stderr\n'));
  assert.deepEqual(lines, ['to stdout\n', 'to stderr\n']);
  assert.equal(await k.sys.read(0, new Uint8Array(4)), 0, 'no input attached: end of file');
  assert.equal(k.sys.readlink('/proc/self/fd/0'), '/dev/console');
});

test('F_GETFL shows the file status flags Linux keeps, not the creation flags or O_CLOEXEC', () => {
  const k = fresh();
  // Values from F_GETFL on this machine's Linux for the same opens.
  const a = k.sys.openat(AT_FDCWD, '/tmp/g', O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_RDWR | O_CLOEXEC, 0o644);
  assert.equal(k.sys.fcntl(a, F_GETFL), O_RDWR | O_LARGEFILE);
  const p = k.sys.openat(AT_FDCWD, '/tmp', O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
  assert.equal(k.sys.fcntl(p, F_GETFL), O_PATH | O_NOFOLLOW | O_DIRECTORY);
  const t = k.sys.openat(AT_FDCWD, '/tmp', O_TMPFILE | O_RDWR | O_CLOEXEC, 0o600);
  assert.equal(k.sys.fcntl(t, F_GETFL), O_TMPFILE | O_LARGEFILE | O_RDWR);
});

test('F_SETFL on an append-only file: O_APPEND may not change, other flags may', async () => {
  const k = fresh();
  const { pathLookup, LOOKUP_FOLLOW } = await import('../../vfs/namei.js');
  const { STATX_APPEND } = await import('../../vfs/vfs_ops.js');
  k.fs.writeFile('/tmp/log', 'x');
  pathLookup(k.kernel.init, AT_FDCWD, '/tmp/log', LOOKUP_FOLLOW).inode.attributes |= STATX_APPEND; // chattr +a
  const r = k.sys.openat(AT_FDCWD, '/tmp/log', O_RDONLY);
  k.sys.fcntl(r, F_SETFL, O_NONBLOCK);
  throwsCode(() => k.sys.fcntl(r, F_SETFL, O_APPEND), 'EPERM');
  const w = k.sys.openat(AT_FDCWD, '/tmp/log', O_RDWR | O_APPEND);
  k.sys.fcntl(w, F_SETFL, O_APPEND | O_NONBLOCK);
  throwsCode(() => k.sys.fcntl(w, F_SETFL, 0), 'EPERM');
});

test('an append-only file opens for writing only with O_APPEND, and never with O_TRUNC (may_open)', async () => {
  const k = fresh();
  const { pathLookup, LOOKUP_FOLLOW } = await import('../../vfs/namei.js');
  const { STATX_APPEND } = await import('../../vfs/vfs_ops.js');
  k.fs.writeFile('/tmp/log', 'kept');
  pathLookup(k.kernel.init, AT_FDCWD, '/tmp/log', LOOKUP_FOLLOW).inode.attributes |= STATX_APPEND; // chattr +a
  throwsCode(() => k.sys.openat(AT_FDCWD, '/tmp/log', O_RDWR), 'EPERM');
  throwsCode(() => k.sys.openat(AT_FDCWD, '/tmp/log', O_RDWR | O_APPEND | O_TRUNC), 'EPERM');
  k.sys.close(k.sys.openat(AT_FDCWD, '/tmp/log', O_RDONLY));
  const w = k.sys.openat(AT_FDCWD, '/tmp/log', O_RDWR | O_APPEND);
  await k.sys.write(w, enc('+'));
  assert.equal(k.fs.readFile('/tmp/log', 'utf8'), 'kept+');
});

test('an O_PATH descriptor is EBADF for utimensat(fd, NULL) and syncfs, as fdget refuses it; AT_EMPTY_PATH still works', () => {
  const k = fresh();
  k.fs.writeFile('/tmp/p', 'x');
  const p = k.sys.openat(AT_FDCWD, '/tmp/p', O_PATH);
  throwsCode(() => k.sys.utimensat(p, null as unknown as string, null, 0), 'EBADF');
  throwsCode(() => k.sys.syncfs(p), 'EBADF');
  k.sys.utimensat(p, '', null, AT_EMPTY_PATH);
  k.sys.fstatfs(p);
});
