// mount(2)/umount2(2): new mounts, nesting, EBUSY, MS_RDONLY, bind mounts and their
// read-only remount, MS_MOVE, MNT_DETACH, and /proc/mounts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fresh, throwsCode, enc } from '../../../test/conformance/helpers.js';
import { AT_FDCWD, O_RDONLY, O_CREAT, O_WRONLY } from '../../abi/linux/fcntl.js';
import {
  MNT_DETACH, MS_BIND, MS_MOVE, MS_NODIRATIME, MS_NOATIME, MS_NOSUID, MS_NOSYMFOLLOW, MS_RDONLY, MS_REC, MS_RELATIME, MS_REMOUNT, MS_STRICTATIME, ST_NOATIME,
  ST_RDONLY, ST_RELATIME,
} from '../../abi/linux/mount.js';
import { O_DIRECTORY } from '../../abi/linux/fcntl.js';

test('mount, nested mounts, EBUSY while busy, umount', () => {
  const k = fresh();
  k.fs.mkdir('/mnt/a');
  k.sys.mount('one', '/mnt/a', 'tmpfs', 0, '');
  k.fs.mkdir('/mnt/a/b');
  k.sys.mount('two', '/mnt/a/b', 'tmpfs', 0, 'size=1m');
  k.fs.writeFile('/mnt/a/b/f', 'x');
  const mounts = k.fs.readFile('/proc/mounts', 'utf8');
  assert.match(mounts, /^one \/mnt\/a tmpfs rw/m);
  assert.match(mounts, /^two \/mnt\/a\/b tmpfs rw,relatime,size=1024k/m);
  throwsCode(() => k.sys.umount2('/mnt/a', 0), 'EBUSY', 'a mount beneath it');
  const fd = k.sys.openat(AT_FDCWD, '/mnt/a/b/f', O_RDONLY);
  throwsCode(() => k.sys.umount2('/mnt/a/b', 0), 'EBUSY', 'an open file in it');
  k.sys.close(fd);
  k.sys.chdir('/mnt/a/b');
  throwsCode(() => k.sys.umount2('/mnt/a/b', 0), 'EBUSY', 'a working directory in it');
  k.sys.chdir('/');
  k.sys.umount2('/mnt/a/b', 0);
  assert.equal(k.fs.exists('/mnt/a/b/f'), false, 'the mount point shows again');
  k.sys.umount2('/mnt/a', 0);
  throwsCode(() => k.sys.umount2('/mnt', 0), 'EINVAL', 'not a mount point');
  throwsCode(() => k.sys.umount2('/', 0), 'EBUSY');
  throwsCode(() => k.sys.mount('x', '/mnt', 'nosuchfs', 0, ''), 'ENODEV');
  throwsCode(() => k.sys.rmdir('/proc'), 'EBUSY', 'a mount point cannot be removed');
});

test('MS_RDONLY makes writes fail with EROFS; remount read-write', () => {
  const k = fresh();
  k.sys.mount('ro', '/mnt', 'tmpfs', MS_RDONLY, '');
  throwsCode(() => k.fs.writeFile('/mnt/f', 'x'), 'EROFS');
  throwsCode(() => k.sys.mkdir('/mnt/d', 0o755), 'EROFS');
  assert.equal(k.sys.statfs('/mnt').flags & ST_RDONLY, ST_RDONLY);
  k.sys.mount('ro', '/mnt', 'tmpfs', MS_REMOUNT, '');
  k.fs.writeFile('/mnt/f', 'x');
  k.sys.mount('ro', '/mnt', 'tmpfs', MS_REMOUNT | MS_RDONLY, '');
  throwsCode(() => k.sys.unlink('/mnt/f'), 'EROFS');
});

test('bind mounts show the same files; a read-only bind needs MS_REMOUNT|MS_BIND|MS_RDONLY', () => {
  const k = fresh();
  k.fs.mkdir('/src/sub', { recursive: true });
  k.fs.writeFile('/src/sub/f', 'shared');
  k.fs.mkdir('/view');
  k.sys.mount('/src/sub', '/view', '', MS_BIND | MS_RDONLY, null);
  assert.equal(k.fs.readFile('/view/f', 'utf8'), 'shared');
  k.fs.writeFile('/view/g', 'through the bind');
  assert.equal(k.fs.readFile('/src/sub/g', 'utf8'), 'through the bind', 'MS_RDONLY is ignored with MS_BIND, as on Linux');
  k.sys.mount('none', '/view', '', MS_REMOUNT | MS_BIND | MS_RDONLY, null);
  throwsCode(() => k.fs.writeFile('/view/h', 'x'), 'EROFS');
  k.fs.writeFile('/src/sub/h', 'still writable at the source');
  assert.equal(k.fs.readFile('/view/h', 'utf8'), 'still writable at the source');
  assert.equal(k.sys.stat('/view/f').ino, k.sys.stat('/src/sub/f').ino);
  // A bind of a file onto a file.
  k.fs.writeFile('/one', '1');
  k.fs.writeFile('/two', '2');
  k.sys.mount('/one', '/two', '', MS_BIND, null);
  assert.equal(k.fs.readFile('/two', 'utf8'), '1');
  throwsCode(() => k.sys.mount('/one', '/view', '', MS_BIND, null), 'ENOTDIR', 'file on directory');
});

test('MS_REC binds the mounts beneath too; MS_MOVE moves a mount', () => {
  const k = fresh();
  k.fs.mkdir('/a/inner', { recursive: true });
  k.sys.mount('inner', '/a/inner', 'tmpfs', 0, '');
  k.fs.writeFile('/a/inner/f', 'deep');
  k.fs.mkdir('/b');
  k.fs.mkdir('/c');
  k.sys.mount('/a', '/b', '', MS_BIND | MS_REC, null);
  assert.equal(k.fs.readFile('/b/inner/f', 'utf8'), 'deep');
  k.sys.mount('/a', '/c', '', MS_BIND, null);
  assert.equal(k.fs.exists('/c/inner/f'), false, 'a plain bind does not carry submounts');
  k.fs.mkdir('/d');
  k.sys.mount('/a/inner', '/d', '', MS_MOVE, null);
  assert.equal(k.fs.readFile('/d/f', 'utf8'), 'deep');
  assert.equal(k.fs.exists('/a/inner/f'), false);
  throwsCode(() => k.sys.mount('/d', '/d', '', MS_MOVE, null), 'ELOOP');
});

test('MNT_DETACH unmounts at once; open files keep working until closed', async () => {
  const k = fresh();
  k.sys.mount('lazy', '/mnt', 'tmpfs', 0, '');
  const fd = k.sys.openat(AT_FDCWD, '/mnt/f', O_CREAT | O_WRONLY, 0o644);
  k.sys.umount2('/mnt', MNT_DETACH);
  assert.equal(k.fs.exists('/mnt/f'), false);
  assert.equal(await k.sys.write(fd, enc('still')), 5);
  k.sys.close(fd);
  assert.doesNotMatch(k.fs.readFile('/proc/mounts', 'utf8'), /^lazy/m);
});

test('only root mounts', () => {
  const k = fresh();
  const user = k.process({ uid: 1000, gid: 1000 });
  throwsCode(() => user.sys.mount('x', '/mnt', 'tmpfs', 0, ''), 'EPERM');
  throwsCode(() => user.sys.umount2('/proc', 0), 'EPERM');
});

test('a lazily unmounted tree is cut loose: ".." stops at its root, getcwd calls it unreachable', () => {
  const k = fresh();
  k.fs.mkdir('/mnt/x');
  k.sys.mount('lazy', '/mnt/x', 'tmpfs', 0, '');
  k.fs.mkdir('/mnt/x/sub');
  const detachedRoot = k.sys.stat('/mnt/x').ino;
  k.sys.chdir('/mnt/x/sub');
  const fd = k.sys.openat(AT_FDCWD, 'f', O_CREAT | O_WRONLY, 0o644);
  k.sys.umount2('/mnt/x', MNT_DETACH);
  // Linux (checked in a mount namespace): "../.." from there is the detached root, not "/".
  assert.equal(k.sys.stat('../..').ino, detachedRoot);
  assert.equal(k.sys.stat('../../..').dev, k.sys.stat('..').dev, 'still inside the detached filesystem');
  assert.equal(k.sys.getcwd(), '(unreachable)/sub');
  assert.equal(k.sys.readlink(`/proc/self/fd/${fd}`), '/sub/f', 'paths in a detached tree start at its root');
  k.sys.close(fd);
  k.sys.chdir('/');
});

test('mounts are relatime unless told otherwise; /proc/mounts and statfs show the per-mount flags', async () => {
  const k = fresh();
  k.fs.mkdir('/mnt/r');
  k.sys.mount('none', '/mnt/r', 'tmpfs', MS_NOSUID, 'size=1m');
  // What this machine's Linux prints for the same mount: "none … tmpfs rw,nosuid,relatime,size=1024k 0 0".
  assert.match(k.fs.readFile('/proc/mounts', 'utf8'), /^none \/mnt\/r tmpfs rw,nosuid,relatime,size=1024k/m);
  assert.equal(k.sys.statfs('/mnt/r').flags & (ST_RELATIME | ST_NOATIME), ST_RELATIME);
  const atime = (p: string): number => k.sys.lstat(p).atime.sec;
  const readAll = async (p: string): Promise<void> => {
    const fd = k.sys.openat(AT_FDCWD, p, O_RDONLY);
    await k.sys.read(fd, new Uint8Array(8));
    k.sys.close(fd);
  };
  // relatime: an access time already after the last change is left alone.
  k.fs.writeFile('/mnt/r/f', 'data');
  k.sys.utimensat(AT_FDCWD, '/mnt/r/f', [{ sec: 2_000_000_000, nsec: 0 }, { sec: 1_000_000_000, nsec: 0 }], 0);
  await readAll('/mnt/r/f');
  assert.equal(atime('/mnt/r/f'), 2_000_000_000);
  // strictatime: every read moves it.
  k.sys.mount('none', '/mnt/r', 'tmpfs', MS_REMOUNT | MS_STRICTATIME, '');
  assert.doesNotMatch(k.fs.readFile('/proc/mounts', 'utf8'), /^none \/mnt\/r tmpfs [^ ]*relatime/m);
  await readAll('/mnt/r/f');
  assert.notEqual(atime('/mnt/r/f'), 2_000_000_000);
  // A remount that names no atime flag keeps the mount's; nodiratime spares directories only.
  k.sys.mount('none', '/mnt/r', 'tmpfs', MS_REMOUNT | MS_NODIRATIME, '');
  k.fs.mkdir('/mnt/r/d');
  k.sys.utimensat(AT_FDCWD, '/mnt/r/d', [{ sec: 3, nsec: 0 }, { sec: 3, nsec: 0 }], 0);
  const d = k.sys.openat(AT_FDCWD, '/mnt/r/d', O_RDONLY | O_DIRECTORY);
  k.sys.getdents64(d, 4096);
  k.sys.close(d);
  assert.equal(atime('/mnt/r/d'), 3, 'nodiratime: reading a directory leaves its atime');
  k.sys.mount('none', '/mnt/r', 'tmpfs', MS_REMOUNT | MS_NOATIME, '');
  assert.match(k.fs.readFile('/proc/mounts', 'utf8'), /^none \/mnt\/r tmpfs rw,noatime,/m);
  // readlink is an access too (touch_atime), under the same rules.
  k.sys.mount('none', '/mnt/r', 'tmpfs', MS_REMOUNT, '');
  assert.match(k.fs.readFile('/proc/mounts', 'utf8'), /^none \/mnt\/r tmpfs rw,noatime,/m, 'kept by a plain remount');
  k.sys.mount('none', '/mnt/r', 'tmpfs', MS_REMOUNT | MS_RELATIME, '');
  k.sys.symlink('f', '/mnt/r/l');
  k.sys.utimensat(AT_FDCWD, '/mnt/r/l', [{ sec: 5, nsec: 0 }, { sec: 5, nsec: 0 }], 0x100);
  k.sys.readlink('/mnt/r/l');
  assert.notEqual(atime('/mnt/r/l'), 5, 'relatime: atime not after mtime, so readlink moves it (as Linux)');
});

test('a block device mounted twice shares one superblock; another type or RO state is EBUSY', async () => {
  const { memoryDisk } = await import('../../drivers/block/memory_disk.js');
  const { mkfsFat } = await import('../../fs/fat/mkfs.js');
  const k = fresh();
  const disk = memoryDisk(8 << 20);
  mkfsFat(disk);
  const dev = k.addDisk(disk);
  k.fs.mkdir('/a');
  k.fs.mkdir('/b');
  k.sys.mount(dev, '/a', 'vfat', 0, '');
  k.sys.mount(dev, '/b', 'vfat', 0, '');
  // Two filesystem instances on one device would each cache and flush their own view.
  k.fs.writeFile('/a/shared.txt', 'one filesystem');
  assert.equal(k.fs.readFile('/b/shared.txt', 'utf8'), 'one filesystem');
  assert.equal(k.sys.stat('/a').dev, k.sys.stat('/b').dev);
  k.fs.mkdir('/c');
  throwsCode(() => k.sys.mount(dev, '/c', 'ext4', 0, ''), 'EBUSY', 'already a vfat filesystem');
  throwsCode(() => k.sys.mount(dev, '/c', 'vfat', MS_RDONLY, ''), 'EBUSY', 'would change its read-only state');
  k.sys.umount2('/a', 0);
  assert.equal(k.fs.readFile('/b/shared.txt', 'utf8'), 'one filesystem', 'still mounted at /b');
  k.sys.umount2('/b', 0);
  k.sys.mount(dev, '/c', 'vfat', MS_RDONLY, '');
  assert.equal(k.fs.readFile('/c/shared.txt', 'utf8'), 'one filesystem', 'flushed when the last mount went');
});

test('MS_NOSYMFOLLOW: symlinks on the mount are never followed (ELOOP), but readlink and lstat work', () => {
  const k = fresh();
  k.fs.mkdir('/mnt/n');
  k.sys.mount('none', '/mnt/n', 'tmpfs', MS_NOSYMFOLLOW, '');
  k.fs.writeFile('/mnt/n/target', 'x');
  k.sys.symlink('target', '/mnt/n/link');
  k.sys.symlink('/mnt/n', '/tmp/to-n');
  throwsCode(() => k.sys.stat('/mnt/n/link'), 'ELOOP');
  throwsCode(() => k.sys.openat(AT_FDCWD, '/mnt/n/link', O_RDONLY), 'ELOOP');
  assert.equal(k.sys.readlink('/mnt/n/link'), 'target');
  k.sys.lstat('/mnt/n/link');
  assert.equal(k.fs.readFile('/tmp/to-n/target', 'utf8'), 'x', 'links elsewhere that lead into it are followed');
  assert.match(k.fs.readFile('/proc/mounts', 'utf8'), /^none \/mnt\/n tmpfs rw,relatime,nosymfollow,/m);
});
