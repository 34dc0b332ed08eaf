// WASI calls checked one at a time through the harness: timestamps survive the round trip
// through filestat exactly (the u64 is written without BigInt arithmetic), rights only
// shrink, fd_readdir cookies resume, and bad pointers give EFAULT instead of a crash.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Harness } from './harness.js';
import * as W from '../../src/api/wasi/abi.js';
import { wasiErrnoOf } from '../../src/api/wasi/errno.js';
import { EACCES, EAGAIN, ENOENT, EOPNOTSUPP, EUCLEAN, EXDEV } from '../../src/abi/linux/errno.js';

test('timestamps round-trip through path_filestat_set_times and fd_filestat_get exactly', () => {
  const h = new Harness({ tmpfs: ['/t'] });
  const root = h.preopens[0]!.fd;
  const [e, fd] = h.open(root, 'f', { oflags: W.OFLAGS_CREAT });
  assert.equal(e, 0);
  const st = h.alloc(64);
  const [p, n] = h.str('f');
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), (a, m) => {
      assert.equal(h.call('path_filestat_set_times', root, 0, p, n, a, m, W.FSTFLAGS_ATIM | W.FSTFLAGS_MTIM), 0);
      assert.equal(h.call('fd_filestat_get', fd, st), 0);
      assert.equal(h.u64(st + 40), a);
      assert.equal(h.u64(st + 48), m);
    }),
    { seed: 7, numRuns: 500 },
  );
  h.close();
});

test('rights can be dropped, never regained; a missing right is ENOTCAPABLE', () => {
  const h = new Harness({ tmpfs: ['/t'] });
  const root = h.preopens[0]!.fd;
  const [, fd] = h.open(root, 'f', { oflags: W.OFLAGS_CREAT, rights: W.RIGHTS_FD_READ | W.RIGHTS_FD_WRITE | W.RIGHTS_FD_SEEK });
  assert.equal(h.call('fd_fdstat_set_rights', fd, BigInt(W.RIGHTS_FD_READ), 0n), 0);
  assert.equal(h.write(fd, 'x'), W.ERRNO_NOTCAPABLE);
  assert.equal(h.call('fd_fdstat_set_rights', fd, BigInt(W.RIGHTS_FD_READ | W.RIGHTS_FD_WRITE), 0n), W.ERRNO_NOTCAPABLE);
  const fdstat = h.alloc(24);
  assert.equal(h.call('fd_fdstat_get', fd, fdstat), 0);
  assert.equal(h.u64(fdstat + 8), BigInt(W.RIGHTS_FD_READ));
  h.close();
});

test('fd_readdir: cookies resume exactly, and a small buffer is filled to its end', () => {
  const h = new Harness({ tmpfs: ['/t'] });
  const root = h.preopens[0]!.fd;
  for (let i = 0; i < 50; i++) h.call('fd_close', h.open(root, `file-${i}`, { oflags: W.OFLAGS_CREAT })[1]);
  const names: string[] = [];
  let cookie = 0n;
  const buf = h.alloc(100);
  const used = h.alloc(4);
  for (;;) {
    assert.equal(h.call('fd_readdir', root, buf, 100, cookie, used), 0);
    const n = h.u32(used);
    let at = 0;
    while (at + 24 <= n) {
      const len = h.u32(buf + at + 16);
      if (at + 24 + len > n) break;
      names.push(new TextDecoder().decode(new Uint8Array(h.memory.buffer, buf + at + 24, len)));
      cookie = h.u64(buf + at);
      at += 24 + len;
    }
    if (n < 100) break;
    assert.equal(n, 100, 'a full buffer is used to its last byte');
  }
  assert.equal(names.length, 52);
  assert.equal(new Set(names).size, 52);
  h.close();
});

test('pointers outside memory give EFAULT; invalid UTF-8 paths give EILSEQ', () => {
  const h = new Harness({ tmpfs: ['/t'] });
  const root = h.preopens[0]!.fd;
  const end = h.memory.buffer.byteLength;
  assert.equal(h.call('fd_filestat_get', root, end - 8), W.ERRNO_FAULT);
  assert.equal(h.call('path_create_directory', root, end - 2, 10), W.ERRNO_FAULT);
  assert.equal(h.call('args_sizes_get', 0xfffffff0, 0), W.ERRNO_FAULT);
  const bad = h.alloc(2);
  new Uint8Array(h.memory.buffer).set([0xff, 0xfe], bad);
  assert.equal(h.call('path_create_directory', root, bad, 2), W.ERRNO_ILSEQ);
  assert.equal(h.call('poll_oneoff', 0, 0, 0, h.alloc(4)), W.ERRNO_INVAL);
  h.close();
});

test('the errno table maps by name, and the rest to their nearest meaning', () => {
  assert.equal(wasiErrnoOf(ENOENT), 44);
  assert.equal(wasiErrnoOf(EACCES), W.ERRNO_ACCES);
  assert.equal(wasiErrnoOf(EAGAIN), W.ERRNO_AGAIN);
  assert.equal(wasiErrnoOf(EXDEV), 75);
  assert.equal(wasiErrnoOf(EOPNOTSUPP), W.ERRNO_NOTSUP);
  assert.equal(wasiErrnoOf(EUCLEAN), W.ERRNO_IO);
  assert.equal(wasiErrnoOf(9999), W.ERRNO_IO);
});
