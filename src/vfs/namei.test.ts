// The path walk, as Linux defines it: each case names the rule it checks.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fresh, throwsCode } from '../../test/conformance/helpers.js';
import { AT_FDCWD, AT_SYMLINK_NOFOLLOW, O_DIRECTORY, O_NOFOLLOW, O_PATH, O_RDONLY, O_CREAT, O_WRONLY, AT_EMPTY_PATH } from '../abi/linux/fcntl.js';
import { S_IFMT, S_IFLNK, S_IFDIR, S_IFREG } from '../abi/linux/stat.js';
import { LOOKUP_BENEATH, LOOKUP_NO_MAGICLINKS } from './namei.js';

test('".." at the root stays at the root', () => {
  const k = fresh();
  assert.equal(k.sys.stat('/../../..').ino, k.sys.stat('/').ino);
  k.sys.chdir('/tmp');
  k.sys.chdir('../../..');
  assert.equal(k.sys.getcwd(), '/');
});

test('".." leaves a mount through its mount point', () => {
  const k = fresh();
  k.fs.mkdir('/mnt/a');
  k.sys.mount('none', '/mnt/a', 'tmpfs', 0, '');
  k.fs.mkdir('/mnt/a/sub');
  assert.equal(k.sys.stat('/mnt/a/sub/../..').ino, k.sys.stat('/mnt').ino);
  assert.equal(k.sys.stat('/mnt/a/..').dev, k.sys.stat('/mnt').dev);
  k.sys.chdir('/mnt/a/sub');
  assert.equal(k.sys.getcwd(), '/mnt/a/sub');
});

test('symlinks: relative and absolute, in the middle and at the end', () => {
  const k = fresh();
  k.fs.mkdir('/d/e', { recursive: true });
  k.fs.writeFile('/d/e/f', 'x');
  k.sys.symlink('e', '/d/rel');
  k.sys.symlink('/d/e', '/abs');
  k.sys.symlink('e/f', '/d/tofile');
  assert.equal(k.sys.stat('/d/rel/f').size, 1);
  assert.equal(k.sys.stat('/abs/f').size, 1);
  assert.equal(k.sys.stat('/d/tofile').size, 1);
  assert.equal(k.sys.lstat('/d/tofile').mode & S_IFMT, S_IFLNK);
  // A link's body is resolved relative to the directory holding the link.
  k.sys.symlink('../e', '/d/e/up');
  assert.equal(k.sys.stat('/d/e/up/f').size, 1);
});

test('40 links at most, then ELOOP; a loop is ELOOP', () => {
  const k = fresh();
  k.fs.writeFile('/target', 'x');
  k.sys.symlink('/target', '/l0');
  for (let i = 1; i <= 40; i++) k.sys.symlink(`/l${i - 1}`, `/l${i}`);
  assert.equal(k.sys.stat('/l39').size, 1); // 40 links followed
  throwsCode(() => k.sys.stat('/l40'), 'ELOOP'); // 41
  k.sys.symlink('/loop2', '/loop1');
  k.sys.symlink('/loop1', '/loop2');
  throwsCode(() => k.sys.stat('/loop1'), 'ELOOP');
});

test('O_NOFOLLOW and AT_SYMLINK_NOFOLLOW act on the last component only', () => {
  const k = fresh();
  k.fs.mkdir('/d');
  k.fs.writeFile('/d/f', 'x');
  k.sys.symlink('d', '/ld');
  k.sys.symlink('d/f', '/lf');
  throwsCode(() => k.sys.openat(AT_FDCWD, '/lf', O_RDONLY | O_NOFOLLOW), 'ELOOP');
  const fd = k.sys.openat(AT_FDCWD, '/ld/f', O_RDONLY | O_NOFOLLOW); // middle link followed
  k.sys.close(fd);
  const p = k.sys.openat(AT_FDCWD, '/lf', O_PATH | O_NOFOLLOW); // O_PATH opens the link itself
  assert.equal(k.sys.fstat(p).mode & S_IFMT, S_IFLNK);
  assert.equal(k.sys.newfstatat(p, '', AT_EMPTY_PATH).mode & S_IFMT, S_IFLNK);
  assert.equal(k.sys.newfstatat(AT_FDCWD, '/lf', AT_SYMLINK_NOFOLLOW).mode & S_IFMT, S_IFLNK);
  assert.equal(k.sys.newfstatat(AT_FDCWD, '/lf', 0).mode & S_IFMT, S_IFREG);
});

test('trailing slashes demand a directory', () => {
  const k = fresh();
  k.fs.writeFile('/f', 'x');
  k.fs.mkdir('/d');
  k.sys.symlink('d', '/ld');
  k.sys.symlink('f', '/lf');
  throwsCode(() => k.sys.stat('/f/'), 'ENOTDIR');
  assert.equal(k.sys.stat('/d/').mode & S_IFMT, S_IFDIR);
  assert.equal(k.sys.lstat('/ld/').mode & S_IFMT, S_IFDIR, 'a trailing slash follows the link');
  throwsCode(() => k.sys.lstat('/lf/'), 'ENOTDIR');
  throwsCode(() => k.sys.openat(AT_FDCWD, '/new/', O_CREAT | O_WRONLY, 0o644), 'EISDIR');
  throwsCode(() => k.sys.openat(AT_FDCWD, '/d/', O_CREAT | O_WRONLY, 0o644), 'EISDIR');
  k.sys.mkdir('/nd/', 0o755); // mkdir accepts one
  throwsCode(() => k.sys.symlink('x', '/nl/'), 'ENOENT');
  throwsCode(() => k.sys.unlink('/f/'), 'ENOTDIR');
  throwsCode(() => k.sys.unlink('/d/'), 'EISDIR');
  throwsCode(() => k.sys.rename('/f/', '/g'), 'ENOTDIR');
  throwsCode(() => k.sys.rename('/f', '/g/'), 'ENOTDIR');
  k.sys.rename('/nd/', '/nd2/');
  throwsCode(() => k.sys.openat(AT_FDCWD, '/f', O_RDONLY | O_DIRECTORY), 'ENOTDIR');
});

test('ENAMETOOLONG: 255 bytes per name, 4096 per path (UTF-8 bytes)', () => {
  const k = fresh();
  k.fs.writeFile('/' + 'a'.repeat(255), 'x');
  throwsCode(() => k.fs.writeFile('/' + 'a'.repeat(256), 'x'), 'ENAMETOOLONG');
  // 'é' is two bytes: 128 of them make 256 bytes.
  throwsCode(() => k.fs.writeFile('/' + 'é'.repeat(128), 'x'), 'ENAMETOOLONG');
  k.fs.writeFile('/' + 'é'.repeat(127), 'x');
  const deep = '/' + Array.from({ length: 2048 }, () => 'a').join('/');
  throwsCode(() => k.sys.stat(deep), 'ENAMETOOLONG'); // 4097 bytes
  throwsCode(() => k.sys.stat('/' + 'x/'.repeat(2046) + 'yz'), 'ENOENT'); // 4095 bytes + NUL: fits
});

test('a non-directory in the middle is ENOTDIR; a missing one ENOENT', () => {
  const k = fresh();
  k.fs.writeFile('/f', 'x');
  throwsCode(() => k.sys.stat('/f/x'), 'ENOTDIR');
  throwsCode(() => k.sys.stat('/nope/x'), 'ENOENT');
  throwsCode(() => k.sys.stat(''), 'ENOENT');
  // A magic link that leads to a file, with more path after it (Linux: "Not a directory").
  const fd = k.sys.open('/f', 0);
  throwsCode(() => k.sys.stat(`/proc/self/fd/${fd}/x`), 'ENOTDIR');
  k.sys.symlink(`/proc/self/fd/${fd}`, '/via');
  throwsCode(() => k.sys.stat('/via/x'), 'ENOTDIR');
});

test('search permission is needed on every directory of the path', () => {
  const k = fresh();
  k.fs.mkdir('/private/sub', { recursive: true });
  k.fs.writeFile('/private/sub/f', 'x');
  k.sys.chmod('/private', 0o700);
  const user = k.process({ uid: 1000, gid: 1000 });
  throwsCode(() => user.sys.stat('/private/sub/f'), 'EACCES');
  assert.equal(k.sys.stat('/private/sub/f').size, 1, 'root searches anything');
  k.sys.chmod('/private', 0o711);
  assert.equal(user.sys.stat('/private/sub/f').size, 1, 'search without read is enough');
  throwsCode(() => user.fs.readdir('/private'), 'EACCES');
});

test('dirfd-relative walks start at the descriptor; a file descriptor is ENOTDIR', () => {
  const k = fresh();
  k.fs.mkdir('/d');
  k.fs.writeFile('/d/f', 'x');
  const d = k.sys.openat(AT_FDCWD, '/d', O_RDONLY | O_DIRECTORY);
  assert.equal(k.sys.newfstatat(d, 'f', 0).size, 1);
  const f = k.sys.openat(d, 'f', O_RDONLY);
  throwsCode(() => k.sys.newfstatat(f, 'x', 0), 'ENOTDIR');
  throwsCode(() => k.sys.newfstatat(999, 'x', 0), 'EBADF');
  assert.equal(k.sys.newfstatat(999, '/d/f', 0).size, 1, 'absolute paths ignore dirfd');
});

test('bad arguments get errnos, never TypeErrors', () => {
  const k = fresh();
  const s = k.sys as unknown as Record<string, (...a: unknown[]) => unknown>;
  throwsCode(() => s.stat!(42), 'EFAULT', 'non-string path');
  throwsCode(() => s.stat!('/a\0b'), 'EINVAL', 'NUL in path');
  throwsCode(() => s.fstat!(-1), 'EBADF');
  throwsCode(() => s.fstat!('3'), 'EBADF');
  throwsCode(() => s.pread64!(0, new Uint8Array(4), -1, 0), 'EINVAL', 'negative length');
  throwsCode(() => s.pread64!(0, new Uint8Array(4), 8, 0), 'EFAULT', 'buffer shorter than the length');
  throwsCode(() => s.pread64!(0, 'notabuffer', 1, 0), 'EFAULT');
  throwsCode(() => s.lseek!(0, 1.5, 0), 'EINVAL');
  throwsCode(() => s.openat!(AT_FDCWD, '/x', 'flags'), 'EINVAL');
  throwsCode(() => s.mount!(null, '/mnt', 'tmpfs', 0, 42), 'EFAULT');
});

test('a scoped walk: escapes are EXDEV, a /proc magic link is EXDEV (nd_jump_link), ELOOP when magic links are refused', () => {
  const k = fresh();
  k.fs.mkdir('/jail/d', { recursive: true });
  k.fs.writeFile('/outside', 'x');
  const p = k.process({ uid: 0, gid: 0 });
  p.sys.chdir('/jail');
  const fd = p.sys.openat(AT_FDCWD, '/outside', O_RDONLY);
  p.task.resolveFlags = LOOKUP_BENEATH;
  throwsCode(() => p.sys.stat('/outside'), 'EXDEV', 'an absolute path');
  throwsCode(() => p.sys.stat('d/../../outside'), 'EXDEV', '".." above the start');
  k.fs.symlink('/outside', '/jail/abs');
  throwsCode(() => p.sys.stat('abs'), 'EXDEV', 'an absolute symlink');
  assert.equal(p.sys.stat('d/..').ino, k.sys.stat('/jail').ino, '".." that stays inside is fine');
  k.fs.symlink(`/proc/${p.pid}/fd/${fd}`, '/jail/magic');
  p.task.resolveFlags = 0;
  assert.equal(p.fs.readFile('magic', 'utf8'), 'x', 'unscoped, the magic link reaches the file');
  p.task.resolveFlags = LOOKUP_BENEATH;
  throwsCode(() => p.sys.stat('magic'), 'EXDEV', 'the symlink to /proc is absolute');
  p.task.resolveFlags = 0;
  p.sys.chdir(`/proc/${p.pid}/fd`);
  p.task.resolveFlags = LOOKUP_BENEATH;
  throwsCode(() => p.sys.stat(String(fd)), 'EXDEV', 'the magic link itself cannot be jumped in a scoped walk');
  p.task.resolveFlags = LOOKUP_BENEATH | LOOKUP_NO_MAGICLINKS;
  throwsCode(() => p.sys.stat(String(fd)), 'ELOOP', 'RESOLVE_NO_MAGICLINKS is checked first');
  p.task.resolveFlags = 0;
  p.sys.close(fd);
  p.exit();
});
