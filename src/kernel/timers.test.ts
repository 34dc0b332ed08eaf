// The kernel's timer queue on the simulated host: one host timer for all kernel timers, and
// a cancelled timer leaves nothing behind that would move virtual time on its own.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimHost } from '../host/sim/sim_host.js';
import type { Instant } from '../host/host_ops.js';
import { TimerQueue } from './timers.js';
import { boot } from '../index.js';
import { POLLIN } from '../abi/linux/poll.js';

test('timers fire in deadline order, FIFO among equals, on one host timer', () => {
  const host = new SimHost();
  const q = new TimerQueue(host);
  const seen: string[] = [];
  q.add(30 as Instant, () => seen.push('c'));
  q.add(10 as Instant, () => seen.push('a1'));
  q.add(10 as Instant, () => seen.push('a2'));
  q.add(20 as Instant, () => seen.push('b'));
  host.runSync();
  assert.deepEqual(seen, ['a1', 'a2', 'b', 'c']);
  assert.equal(host.monotonic(), 30);
});

test('cancelling the last timer disarms the host timer: an idle simulation does not jump ahead', async () => {
  const host = new SimHost();
  const q = new TimerQueue(host);
  const t = q.add(60e9 as Instant, () => assert.fail('cancelled'));
  q.cancel(t);
  assert.ok(host.idle, 'nothing left for the host to run');
  host.runSync();
  assert.equal(host.monotonic(), 0, 'virtual time stays where it was');
  // The same through a syscall: poll with a minute's timeout, woken at once by data.
  const k = boot({ host });
  const [r, w] = k.sys.pipe2(0);
  const polling = k.sys.poll([{ fd: r, events: POLLIN, revents: 0 }], 60_000);
  await k.sys.write(w, new Uint8Array([1]));
  assert.equal(await host.runUntil(polling), 1);
  host.runSync();
  assert.equal(host.monotonic(), 0, 'the poll timeout left no timer behind');
});
