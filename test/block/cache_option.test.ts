// The buffer cache size is a mount option (cache=SIZE, tkl's own): it bounds the clean blocks
// an ext4 or FAT mount keeps, shows in /proc/mounts, and a bad value is EINVAL.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot, memoryDisk, mkfsExt4, mkfsFat, SystemError } from '../../src/index.js';
import type { BufferCache } from '../../src/block/buffer_cache.js';

for (const [type, mkfs] of [['ext4', (d: ReturnType<typeof memoryDisk>) => mkfsExt4(d)], ['vfat', (d: ReturnType<typeof memoryDisk>) => mkfsFat(d)]] as const) {
  test(`${type}: cache=SIZE bounds the buffer cache and shows in /proc/mounts`, () => {
    const disk = memoryDisk(new Uint8Array(64 << 20));
    mkfs(disk);
    const k = boot();
    const dev = k.addDisk(disk);
    k.fs.mkdir('/mnt/a', { recursive: true });
    k.sys.mount(dev, '/mnt/a', type, 0, 'cache=256k');
    assert.match(k.fs.readFile('/proc/mounts', 'utf8'), new RegExp(`/mnt/a ${type} [^ ]*cache=256k`));
    const data = new Uint8Array(8 << 20).map((_, i) => i & 0xff);
    for (let i = 0; i < 64; i++) k.fs.writeFile(`/mnt/a/small${i}`, data.subarray(0, 3000));
    k.fs.writeFile('/mnt/a/big', data);
    k.sys.sync();
    for (let i = 0; i < 64; i++) assert.equal(k.fs.readFile(`/mnt/a/small${i}`).length, 3000);
    assert.deepEqual(k.fs.readFile('/mnt/a/big'), data);
    const sb = k.kernel.mountList.find((m) => m.sb.fsType.name === type)!.sb as unknown as { cache: BufferCache };
    const limit = Math.max(64, Math.floor((256 << 10) / sb.cache.blockSize));
    assert.ok(sb.cache.cached <= limit + 64, `${sb.cache.cached} blocks cached, limit ${limit}`);
    k.sys.umount2('/mnt/a', 0);
    let err: unknown;
    try {
      k.sys.mount(dev, '/mnt/a', type, 0, 'cache=lots');
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof SystemError && err.code === 'EINVAL', String(err));
    assert.match(err.detail ?? '', /bad size 'lots'/);
  });
}
