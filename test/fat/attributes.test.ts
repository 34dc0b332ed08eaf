// FAT attributes through Linux's FAT_IOCTL_GET_ATTRIBUTES / FAT_IOCTL_SET_ATTRIBUTES: what
// mattrib sets tkl reads, what tkl sets mattrib and mdir -a see, and hidden/system survive
// the operations that rewrite an entry (write, truncate, rename, chmod, utimes).
// Linux's vfat is not in this machine's kernel, so the ioctls' rules are checked against
// fs/fat/file.c's documented behaviour (fat_ioctl_set_attributes) and mtools, not a loop mount.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot, type Tkl } from '../../src/index.js';
import { fileDisk } from '../../src/drivers/block/file_disk.js';
import { SimHost } from '../../src/host/sim/sim_host.js';
import { mkfsFat } from '../../src/fs/fat/mkfs.js';
import {
  AT_FDCWD, ATTR_ARCH, ATTR_DIR, ATTR_HIDDEN, ATTR_RO, ATTR_SYS, FAT_IOCTL_GET_ATTRIBUTES, FAT_IOCTL_SET_ATTRIBUTES,
  MS_RDONLY, O_PATH, O_RDONLY,
} from '../../src/abi/linux/index.js';
import { code, missingTools, run, sparseImage, tempDir } from '../block/tools.js';
import { assertFsckClean } from './fat_tools.js';

const MIB = 1024 * 1024;
const skip = missingTools('mattrib', 'mdir', 'mcopy', 'mmd', 'fsck.fat') ?? false;

function mount(img: string, opts = '', flags = 0): Tkl {
  const k = boot({ host: new SimHost({ seed: 5, epochNs: BigInt(Date.UTC(2024, 0, 1)) * 1_000_000n }) });
  k.fs.mkdir('/mnt/fat', { recursive: true });
  k.sys.mount(k.addDisk(fileDisk(img, { readOnly: (flags & MS_RDONLY) !== 0 })), '/mnt/fat', 'vfat', flags, opts);
  return k;
}

function getAttr(k: Tkl, path: string): number {
  const fd = k.sys.open(path, O_RDONLY);
  try {
    const v = new Uint32Array(1);
    assert.equal(k.sys.ioctl(fd, FAT_IOCTL_GET_ATTRIBUTES, v), 0);
    return v[0]!;
  } finally {
    k.sys.close(fd);
  }
}

function setAttr(k: Tkl, path: string, a: number): void {
  const fd = k.sys.open(path, O_RDONLY);
  try {
    assert.equal(k.sys.ioctl(fd, FAT_IOCTL_SET_ATTRIBUTES, new Uint32Array([a])), 0);
  } finally {
    k.sys.close(fd);
  }
}


/** mattrib's letters for `path`: A, S, H, R in its fixed columns. */
function mattrib(img: string, path: string): string {
  return run('mattrib', ['-i', img, `::${path}`]).stdout.split('\n')[0]!.slice(0, 8).replace(/ /g, '');
}

test('attributes set by mattrib are read by tkl; set by tkl, mattrib and mdir -a see them; fsck.fat -n clean', { skip }, () => {
  const { dir, cleanup } = tempDir();
  try {
    const img = sparseImage(dir, 'a.img', 64 * MIB);
    const d = fileDisk(img);
    mkfsFat(d, { type: 32 });
    d.close();
    run('sh', ['-c', `echo hi > '${dir}/f.txt' && mcopy -i '${img}' '${dir}/f.txt' ::/f.txt && mmd -i '${img}' ::/d`]);
    run('mattrib', ['-i', img, '+h', '+s', '-a', '::/f.txt']);
    run('mattrib', ['-i', img, '+h', '+r', '::/d']);
    let k = mount(img);
    assert.equal(getAttr(k, '/mnt/fat/f.txt'), ATTR_HIDDEN | ATTR_SYS);
    assert.equal(getAttr(k, '/mnt/fat/d'), ATTR_DIR | ATTR_HIDDEN | ATTR_RO);
    assert.equal(getAttr(k, '/mnt/fat'), ATTR_DIR, 'the root has only the directory bit');
    assert.equal(k.sys.stat('/mnt/fat/d').mode & 0o777, 0o755, 'a read-only directory stays writable without rodir');
    // Set by tkl: the volume and directory bits cannot change, bits above the byte are ignored.
    setAttr(k, '/mnt/fat/f.txt', ATTR_ARCH | ATTR_HIDDEN | ATTR_DIR | 0x100);
    setAttr(k, '/mnt/fat/d', ATTR_SYS);
    k.fs.writeFile('/mnt/fat/plain', 'p');
    setAttr(k, '/mnt/fat/plain', ATTR_RO | ATTR_ARCH);
    assert.equal(k.sys.stat('/mnt/fat/plain').mode & 0o777, 0o555, 'read-only takes the write bits, as chmod a-w');
    assert.equal(getAttr(k, '/mnt/fat/f.txt'), ATTR_ARCH | ATTR_HIDDEN);
    assert.equal(getAttr(k, '/mnt/fat/d'), ATTR_DIR | ATTR_SYS);
    k.sys.umount2('/mnt/fat');
    assert.equal(mattrib(img, '/f.txt'), 'AH');
    assert.equal(mattrib(img, '/d'), 'S');
    assert.equal(mattrib(img, '/plain'), 'AR');
    // mdir hides hidden and system entries unless -a.
    const names = (out: string): string[] => out.split('\n').map((l) => l.split(/\s+/)[0]!.toLowerCase()).filter((n) => ['f', 'd', 'plain'].includes(n)).sort();
    assert.deepEqual(names(run('mdir', ['-i', img, '::/']).stdout), ['plain']);
    assert.deepEqual(names(run('mdir', ['-a', '-i', img, '::/']).stdout), ['d', 'f', 'plain']);
    assertFsckClean(img);
    k = mount(img);
    setAttr(k, '/mnt/fat/plain', ATTR_ARCH);
    assert.equal(k.sys.stat('/mnt/fat/plain').mode & 0o777, 0o755, 'clearing read-only gives the write bits back');
    k.sys.umount2('/mnt/fat');
    assert.equal(mattrib(img, '/plain'), 'A');
  } finally {
    cleanup();
  }
});

test('hidden and system survive write, truncate, rename (also to another directory), chmod, utimes and RENAME_EXCHANGE', { skip }, () => {
  const { dir, cleanup } = tempDir();
  try {
    const img = sparseImage(dir, 'p.img', 16 * MIB);
    const d = fileDisk(img);
    mkfsFat(d, { type: 16 });
    d.close();
    run('sh', ['-c', `echo hi > '${dir}/f.txt' && mcopy -i '${img}' '${dir}/f.txt' ::/f.txt && mcopy -i '${img}' '${dir}/f.txt' ::/g.txt && mmd -i '${img}' ::/sub ::/sub/inner`]);
    run('mattrib', ['-i', img, '+h', '+s', '::/f.txt']);
    run('mattrib', ['-i', img, '+h', '::/sub/inner']);
    const k = mount(img);
    k.fs.appendFile('/mnt/fat/f.txt', 'more');
    k.sys.truncate('/mnt/fat/f.txt', 3);
    k.sys.chmod('/mnt/fat/f.txt', 0o555);
    k.sys.chmod('/mnt/fat/f.txt', 0o777);
    k.sys.chmod('/mnt/fat/f.txt', 0o700); // unstorable: ignored, and must not disturb the attributes
    k.sys.utimensat(AT_FDCWD, '/mnt/fat/f.txt', [{ sec: 1e9, nsec: 0 }, { sec: 1e9, nsec: 0 }], 0);
    k.sys.rename('/mnt/fat/f.txt', '/mnt/fat/renamed.txt');
    k.sys.rename('/mnt/fat/renamed.txt', '/mnt/fat/sub/moved.txt');
    k.sys.rename('/mnt/fat/sub/inner', '/mnt/fat/inner moved');
    k.fs.writeFile('/mnt/fat/sub/x', 'x');
    k.sys.renameat2(AT_FDCWD, '/mnt/fat/g.txt', AT_FDCWD, '/mnt/fat/sub/x', 2 /* RENAME_EXCHANGE */);
    assert.equal(getAttr(k, '/mnt/fat/sub/moved.txt'), ATTR_HIDDEN | ATTR_SYS | ATTR_ARCH);
    k.sys.umount2('/mnt/fat');
    assert.equal(mattrib(img, '/sub/moved.txt'), 'ASH');
    assert.equal(mattrib(img, '/inner moved'), 'H');
    assertFsckClean(img);
  } finally {
    cleanup();
  }
});

test('FAT attribute ioctls: EROFS, EINVAL on the root, EPERM for others (none with quiet), ENOTTY, EBADF, EFAULT', { skip }, () => {
  const { dir, cleanup } = tempDir();
  try {
    const img = sparseImage(dir, 'e.img', 8 * MIB);
    const d = fileDisk(img);
    mkfsFat(d);
    d.close();
    let k = mount(img);
    k.fs.writeFile('/mnt/fat/f', 'x');
    const fd = k.sys.open('/mnt/fat/f', O_RDONLY);
    assert.equal(code(() => k.sys.ioctl(fd, 0x5401 /* TCGETS */, new Uint32Array(1))), 'ENOTTY');
    assert.equal(code(() => k.sys.ioctl(fd, FAT_IOCTL_GET_ATTRIBUTES, new Uint8Array(3))), 'EFAULT');
    assert.equal(code(() => k.sys.ioctl(fd, FAT_IOCTL_GET_ATTRIBUTES, 7)), 'EFAULT');
    // The request is an unsigned int: its negative int32 spelling is the same request.
    const v = new Uint32Array(1);
    assert.equal(k.sys.ioctl(fd, FAT_IOCTL_GET_ATTRIBUTES | 0, v), 0);
    assert.equal(v[0], ATTR_ARCH);
    k.sys.close(fd);
    const pfd = k.sys.open('/mnt/fat/f', O_PATH);
    assert.equal(code(() => k.sys.ioctl(pfd, FAT_IOCTL_GET_ATTRIBUTES, v)), 'EBADF');
    k.sys.close(pfd);
    assert.equal(code(() => setAttr(k, '/mnt/fat', ATTR_DIR | ATTR_HIDDEN)), 'EINVAL');
    setAttr(k, '/mnt/fat', ATTR_DIR);
    // Another user: not the owner (the mount's uid 0), so no mode change and EPERM.
    const other = k.process({ uid: 1000, gid: 1000 });
    const ofd = other.sys.open('/mnt/fat/f', O_RDONLY);
    assert.equal(code(() => other.sys.ioctl(ofd, FAT_IOCTL_SET_ATTRIBUTES, new Uint32Array([ATTR_HIDDEN]))), 'EPERM');
    other.sys.close(ofd);
    assert.equal(getAttr(k, '/mnt/fat/f'), ATTR_ARCH);
    // tmpfs has no such ioctl.
    k.fs.writeFile('/tmp/t', 't');
    assert.equal(code(() => getAttr(k, '/tmp/t')), 'ENOTTY');
    k.sys.umount2('/mnt/fat');
    // quiet: the non-owner's change of hidden goes through, the mode stays (fat_setattr says 0).
    k = mount(img, 'quiet');
    const q = k.process({ uid: 1000, gid: 1000 });
    const qfd = q.sys.open('/mnt/fat/f', O_RDONLY);
    assert.equal(q.sys.ioctl(qfd, FAT_IOCTL_SET_ATTRIBUTES, new Uint32Array([ATTR_HIDDEN | ATTR_RO])), 0);
    q.sys.close(qfd);
    assert.equal(getAttr(k, '/mnt/fat/f'), ATTR_HIDDEN, 'read-only follows the unchanged mode');
    k.sys.umount2('/mnt/fat');
    k = mount(img, '', MS_RDONLY);
    assert.equal(getAttr(k, '/mnt/fat/f'), ATTR_HIDDEN, 'reading works on a read-only mount');
    assert.equal(code(() => setAttr(k, '/mnt/fat/f', 0)), 'EROFS');
    k.sys.umount2('/mnt/fat');
    assertFsckClean(img);
  } finally {
    cleanup();
  }
});
