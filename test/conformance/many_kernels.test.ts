// 10,000 kernels in one process, sharing nothing: each has its own files, descriptors, pids,
// mounts, hostname, clock-derived times and console.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot, type Tkl } from '../../src/index.js';
import { AT_FDCWD, O_CREAT, O_RDWR } from '../../src/abi/linux/fcntl.js';

test('10,000 kernels in one process share nothing', () => {
  const N = 10_000;
  const ks: Tkl[] = [];
  for (let i = 0; i < N; i++) ks.push(boot({ hostname: `k${i}` }));
  for (let i = 0; i < N; i++) {
    const k = ks[i]!;
    k.fs.writeFile('/tmp/id', String(i));
    if (i % 2 === 0) k.fs.mkdir('/even');
    if (i % 3 === 0) k.sys.mount('none', '/mnt', 'tmpfs', 0, '');
    k.sys.openat(AT_FDCWD, `/tmp/fd${i % 5}`, O_CREAT | O_RDWR, 0o600);
  }
  for (let i = 0; i < N; i++) {
    const k = ks[i]!;
    assert.equal(k.fs.readFile('/tmp/id', 'utf8'), String(i));
    assert.equal(k.fs.exists('/even'), i % 2 === 0);
    assert.equal(/ \/mnt tmpfs/.test(k.fs.readFile('/proc/mounts', 'utf8')), i % 3 === 0);
    assert.deepEqual(k.fs.readdir('/tmp').sort(), [`fd${i % 5}`, 'id']);
    assert.equal(k.sys.uname().nodename, `k${i}`);
    assert.equal(k.sys.getpid(), 1);
    assert.deepEqual(k.fs.readdir('/proc/self/fd'), ['0', '1', '2', '3', '4']); // 4: the listing's own
  }
  // A new task in one kernel does not show up in another.
  const p = ks[0]!.process();
  assert.equal(p.pid, 2);
  assert.equal(ks[1]!.process().pid, 2);
  assert.equal(ks[2]!.fs.exists('/proc/2'), false);
});
