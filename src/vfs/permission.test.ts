// Permissions from mode bits and credentials, as Linux decides them: owner/group/other,
// root's bypass (except execute without any x bit), sticky directories, setgid directories,
// who may chmod/chown, setuid bits cleared by writes and chown, access(2) with real ids.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fresh, throwsCode, enc } from '../../test/conformance/helpers.js';
import { boot } from '../index.js';
import { AT_FDCWD, O_RDONLY, O_WRONLY, O_CREAT, R_OK, W_OK, X_OK, AT_EACCESS } from '../abi/linux/fcntl.js';
import { S_ISGID, S_ISUID, UTIME_NOW, UTIME_OMIT } from '../abi/linux/stat.js';
import { MS_NOEXEC, MS_RDONLY, MS_REMOUNT } from '../abi/linux/mount.js';

test('owner, group and other bits; supplementary groups', () => {
  const k = fresh();
  k.fs.writeFile('/tmp/f', 'x');
  k.sys.chown('/tmp/f', 1000, 100);
  k.sys.chmod('/tmp/f', 0o640);
  const owner = k.process({ uid: 1000, gid: 1000 });
  const member = k.process({ uid: 2000, gid: 2000, groups: [100] });
  const other = k.process({ uid: 3000, gid: 3000 });
  owner.sys.close(owner.sys.openat(AT_FDCWD, '/tmp/f', O_WRONLY));
  member.sys.close(member.sys.openat(AT_FDCWD, '/tmp/f', O_RDONLY));
  throwsCode(() => member.sys.openat(AT_FDCWD, '/tmp/f', O_WRONLY), 'EACCES');
  throwsCode(() => other.sys.openat(AT_FDCWD, '/tmp/f', O_RDONLY), 'EACCES');
  // The owner class is decided first: an owner without a bit is refused even if others have it.
  k.sys.chmod('/tmp/f', 0o077);
  throwsCode(() => owner.sys.openat(AT_FDCWD, '/tmp/f', O_RDONLY), 'EACCES');
});

test('root reads and writes anything, but executes only where some x bit is set', () => {
  const k = fresh();
  k.fs.writeFile('/tmp/f', 'x');
  k.sys.chmod('/tmp/f', 0);
  k.sys.close(k.sys.openat(AT_FDCWD, '/tmp/f', O_WRONLY));
  throwsCode(() => k.sys.access('/tmp/f', X_OK), 'EACCES');
  k.sys.chmod('/tmp/f', 0o001);
  k.sys.access('/tmp/f', X_OK);
});

test('sticky directories: only the owner of the file or directory (or root) removes or renames', () => {
  const k = fresh();
  k.fs.mkdir('/shared');
  k.sys.chmod('/shared', 0o1777);
  const alice = k.process({ uid: 1000, gid: 1000 });
  const bob = k.process({ uid: 1001, gid: 1001 });
  alice.fs.writeFile('/shared/alice', 'a');
  throwsCode(() => bob.sys.unlink('/shared/alice'), 'EPERM');
  throwsCode(() => bob.sys.rename('/shared/alice', '/shared/mine'), 'EPERM');
  bob.fs.writeFile('/shared/bob', 'b');
  throwsCode(() => bob.sys.rename('/shared/bob', '/shared/alice'), 'EPERM', 'nor replace it');
  alice.sys.unlink('/shared/alice');
  k.sys.unlink('/shared/bob');
  k.sys.chmod('/shared', 0o777);
  alice.fs.writeFile('/shared/x', 'x');
  bob.sys.unlink('/shared/x');
});

test('setgid directories pass on their group (and the bit to subdirectories)', () => {
  const k = fresh();
  k.fs.mkdir('/proj');
  k.sys.chown('/proj', 0, 500);
  k.sys.chmod('/proj', 0o2777);
  const u = k.process({ uid: 1000, gid: 1000 });
  u.fs.writeFile('/proj/f', 'x');
  u.sys.mkdir('/proj/d', 0o755);
  assert.equal(k.sys.stat('/proj/f').gid, 500);
  assert.equal(k.sys.stat('/proj/d').gid, 500);
  assert.equal(k.sys.stat('/proj/d').mode & S_ISGID, S_ISGID);
  assert.equal(k.sys.stat('/proj/f').mode & S_ISGID, 0);
});

test('chmod and chown: who may, and what they clear', async () => {
  const k = fresh();
  const u = k.process({ uid: 1000, gid: 1000, groups: [50] });
  const v = k.process({ uid: 1001, gid: 1001 });
  u.fs.writeFile('/tmp/f', 'x');
  throwsCode(() => v.sys.chmod('/tmp/f', 0o777), 'EPERM');
  throwsCode(() => u.sys.chown('/tmp/f', 1001, -1), 'EPERM', 'giving a file away needs CAP_CHOWN');
  u.sys.chown('/tmp/f', -1, 50); // to a group it is in
  throwsCode(() => u.sys.chown('/tmp/f', -1, 60), 'EPERM');
  u.sys.chmod('/tmp/f', 0o2755); // setgid kept: member of group 50
  assert.equal(k.sys.stat('/tmp/f').mode & 0o7777, 0o2755);
  k.sys.chown('/tmp/f', 1000, 60);
  u.sys.chmod('/tmp/f', 0o2755);
  assert.equal(k.sys.stat('/tmp/f').mode & 0o7777, 0o755, 'setgid dropped: not in group 60');
  k.sys.chmod('/tmp/f', 0o6755);
  k.sys.chown('/tmp/f', 1000, -1);
  assert.equal(k.sys.stat('/tmp/f').mode & 0o7777, 0o755, 'chown clears setuid and setgid, even by root');
  k.sys.chmod('/tmp/f', 0o4777);
  const fd = v.sys.openat(AT_FDCWD, '/tmp/f', O_WRONLY);
  await v.sys.write(fd, enc('y'));
  assert.equal(k.sys.stat('/tmp/f').mode & S_ISUID, 0, 'a write by someone else clears setuid');
});

test('access() answers for the real ids; AT_EACCESS for the effective ones', () => {
  const k = fresh();
  k.fs.writeFile('/tmp/f', 'x');
  k.sys.chmod('/tmp/f', 0o600);
  const p = k.process();
  p.sys.setresuid(1000, 0, 0); // real 1000, effective root (as after a setuid-root exec)
  const q = k.process({ uid: 1000, gid: 1000 });
  throwsCode(() => q.sys.setresuid(-1, 0, -1), 'EPERM', 'an unprivileged task cannot become root');
  assert.equal(p.sys.geteuid(), 0);
  throwsCode(() => p.sys.access('/tmp/f', R_OK), 'EACCES');
  p.sys.faccessat2(AT_FDCWD, '/tmp/f', R_OK | W_OK, AT_EACCESS);
  p.sys.close(p.sys.openat(AT_FDCWD, '/tmp/f', O_RDONLY));
  throwsCode(() => p.sys.access('/tmp/f', 8), 'EINVAL');
});

test('rename edge cases: into its own subtree, over non-empty, types, exchange, noreplace', () => {
  const k = fresh();
  k.fs.mkdir('/a/b', { recursive: true });
  k.fs.mkdir('/full/x', { recursive: true });
  k.fs.mkdir('/empty');
  k.fs.writeFile('/f', '1');
  k.fs.writeFile('/g', '2');
  throwsCode(() => k.sys.rename('/a', '/a/b/c'), 'EINVAL');
  throwsCode(() => k.sys.rename('/a/b', '/a'), 'ENOTEMPTY');
  throwsCode(() => k.sys.rename('/a', '/full'), 'ENOTEMPTY');
  throwsCode(() => k.sys.rename('/a', '/f'), 'ENOTDIR');
  throwsCode(() => k.sys.rename('/f', '/empty'), 'EISDIR');
  throwsCode(() => k.sys.rename('/.', '/x'), 'EBUSY');
  k.sys.rename('/a', '/empty');
  assert.ok(k.fs.exists('/empty/b'));
  assert.equal(k.sys.stat('/').nlink, k.fs.entries('/').filter((d) => d.type === 4).length + 2);
  k.sys.renameat2(AT_FDCWD, '/f', AT_FDCWD, '/g', 2 /* RENAME_EXCHANGE */);
  assert.equal(k.fs.readFile('/f', 'utf8'), '2');
  assert.equal(k.fs.readFile('/g', 'utf8'), '1');
  throwsCode(() => k.sys.renameat2(AT_FDCWD, '/f', AT_FDCWD, '/g', 1 /* RENAME_NOREPLACE */), 'EEXIST');
  throwsCode(() => k.sys.renameat2(AT_FDCWD, '/f', AT_FDCWD, '/nope', 2), 'ENOENT');
  throwsCode(() => k.sys.renameat2(AT_FDCWD, '/f', AT_FDCWD, '/g', 3), 'EINVAL');
  k.sys.link('/f', '/f2');
  k.sys.rename('/f', '/f2');
  assert.ok(k.fs.exists('/f'), 'renaming onto a hard link of itself does nothing');
  k.sys.mkdir('/m', 0o755);
  k.sys.mount('none', '/m', 'tmpfs', 0, '');
  throwsCode(() => k.sys.rename('/g', '/m/g'), 'EXDEV');
  k.fs.writeFile('/tmp/o', 'x');
  const fd = k.sys.openat(AT_FDCWD, '/tmp/o', O_CREAT | O_WRONLY, 0o644);
  k.sys.close(fd);
});

test('fs.protected_symlinks: in a sticky world-writable directory, only safe symlinks are followed', () => {
  const k = fresh();
  k.fs.mkdir('/shared');
  k.sys.chmod('/shared', 0o1777);
  k.fs.writeFile('/secret', 'x');
  const mallory = k.process({ uid: 1001, gid: 1001 });
  const alice = k.process({ uid: 1000, gid: 1000 });
  mallory.sys.symlink('/secret', '/shared/trap');
  throwsCode(() => alice.sys.stat('/shared/trap'), 'EACCES', "another user's link in a sticky world-writable dir");
  assert.equal(mallory.sys.stat('/shared/trap').size, 1, 'its owner follows it');
  assert.equal(k.sys.lstat('/shared/trap').uid, 1001);
  alice.sys.symlink('/secret', '/shared/mine');
  assert.equal(alice.sys.stat('/shared/mine').size, 1, 'one follows one own links');
  const off = boot({ sysctl: { protectedSymlinks: 0 } });
  off.fs.mkdir('/shared');
  off.sys.chmod('/shared', 0o1777);
  off.process({ uid: 1001, gid: 1001 }).sys.symlink('/', '/shared/trap');
  assert.ok(off.process({ uid: 1000, gid: 1000 }).sys.stat('/shared/trap'), 'with the sysctl at 0 it is followed');
});

test('fs.protected_regular and fs.protected_fifos: no O_CREAT of others’ files in sticky directories', () => {
  const k = fresh();
  k.fs.mkdir('/tmpdir');
  k.sys.chmod('/tmpdir', 0o1777);
  const mallory = k.process({ uid: 1001, gid: 1001 });
  const alice = k.process({ uid: 1000, gid: 1000 });
  mallory.fs.writeFile('/tmpdir/pre-created', '');
  mallory.sys.chmod('/tmpdir/pre-created', 0o666);
  throwsCode(() => alice.sys.openat(AT_FDCWD, '/tmpdir/pre-created', O_CREAT | O_WRONLY, 0o600), 'EACCES');
  alice.sys.close(alice.sys.openat(AT_FDCWD, '/tmpdir/pre-created', O_WRONLY)); // without O_CREAT it opens
  mallory.sys.mknod('/tmpdir/fifo', 0o010666, 0);
  throwsCode(() => alice.sys.openat(AT_FDCWD, '/tmpdir/fifo', O_CREAT | O_WRONLY | 0o4000, 0o600), 'EACCES');
  const off = boot({ sysctl: { protectedRegular: 0 } });
  off.fs.mkdir('/t');
  off.sys.chmod('/t', 0o1777);
  const m2 = off.process({ uid: 1001, gid: 1001 });
  m2.fs.writeFile('/t/f', '');
  m2.sys.chmod('/t/f', 0o666);
  off.process({ uid: 1000, gid: 1000 }).sys.openat(AT_FDCWD, '/t/f', O_CREAT | O_WRONLY, 0o600);
});

test('fs.protected_hardlinks: linking needs ownership or read+write access to a plain file', () => {
  const k = fresh();
  k.fs.writeFile('/tmp/root-file', 'x');
  k.sys.chmod('/tmp/root-file', 0o644);
  const u = k.process({ uid: 1000, gid: 1000 });
  u.fs.mkdir('/tmp/u');
  throwsCode(() => u.sys.link('/tmp/root-file', '/tmp/u/l'), 'EPERM');
  k.sys.chmod('/tmp/root-file', 0o666);
  u.sys.link('/tmp/root-file', '/tmp/u/l');
  k.sys.chmod('/tmp/root-file', 0o4666);
  throwsCode(() => u.sys.link('/tmp/root-file', '/tmp/u/l2'), 'EPERM', 'never a setuid file');
});

test('utimensat: "now" for both needs write access; any other times need ownership (as Linux 6.x)', () => {
  const k = fresh();
  k.fs.writeFile('/tmp/f', 'x');
  k.sys.chmod('/tmp/f', 0o666);
  const other = k.process({ uid: 1000, gid: 1000 });
  const now = { sec: 0, nsec: UTIME_NOW };
  const omit = { sec: 0, nsec: UTIME_OMIT };
  other.sys.utimensat(AT_FDCWD, '/tmp/f', null, 0);
  other.sys.utimensat(AT_FDCWD, '/tmp/f', [now, now], 0);
  // Checked on Linux as uid 1000 on a 0666 file of root's: both are EPERM.
  throwsCode(() => other.sys.utimensat(AT_FDCWD, '/tmp/f', [now, omit], 0), 'EPERM', 'atime now, mtime kept');
  throwsCode(() => other.sys.utimensat(AT_FDCWD, '/tmp/f', [omit, now], 0), 'EPERM', 'mtime now, atime kept');
  const fd = k.sys.openat(AT_FDCWD, '/tmp/f', O_RDONLY);
  throwsCode(() => k.sys.utimensat(fd, null as unknown as string, null, 0x100), 'EINVAL', 'no flags without a path');
  k.sys.utimensat(fd, null as unknown as string, null, 0);
});

test('access(W_OK) on a read-only filesystem is EROFS before the mode bits are asked (as Linux answers uid 1000)', () => {
  const k = fresh();
  k.fs.mkdir('/mnt/ro');
  k.sys.mount('none', '/mnt/ro', 'tmpfs', 0, 'mode=755');
  k.fs.writeFile('/mnt/ro/f', 'x');
  k.sys.chmod('/mnt/ro/f', 0o444);
  k.sys.mount('none', '/mnt/ro', 'tmpfs', MS_REMOUNT | MS_RDONLY, '');
  const user = k.process({ uid: 1000, gid: 1000 });
  throwsCode(() => user.sys.access('/mnt/ro/f', W_OK), 'EROFS');
  throwsCode(() => k.sys.access('/mnt/ro/f', W_OK), 'EROFS');
  user.sys.access('/mnt/ro/f', R_OK);
});

test('access(X_OK) is EACCES on a noexec mount, whatever the mode bits', () => {
  const k = fresh();
  k.fs.mkdir('/mnt/nx');
  k.sys.mount('none', '/mnt/nx', 'tmpfs', MS_NOEXEC, '');
  k.fs.writeFile('/mnt/nx/tool', '#!/bin/sh');
  k.sys.chmod('/mnt/nx/tool', 0o755);
  throwsCode(() => k.sys.access('/mnt/nx/tool', X_OK), 'EACCES');
  k.sys.access('/mnt/nx/tool', R_OK);
  k.sys.access('/mnt/nx', X_OK);
});
