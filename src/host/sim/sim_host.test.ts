// The simulated host: virtual time advances only from timer to timer, and one seed gives one
// run — the same events in the same order at the same virtual instants.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimHost } from './sim_host.js';
import { boot } from '../../index.js';
import { AT_FDCWD, O_RDONLY } from '../../abi/linux/fcntl.js';
import type { Instant } from '../host_ops.js';

/** A little world of timers that reschedule each other at random delays. */
function scenario(seed: number): string[] {
  const host = new SimHost({ seed });
  const trace: string[] = [];
  const bytes = new Uint8Array(4);
  for (let actor = 0; actor < 5; actor++) {
    let left = 20;
    const step = (): void => {
      host.randomFill(bytes);
      trace.push(`${host.monotonic()} actor${actor} ${bytes.join('.')}`);
      if (--left > 0) host.setTimer((host.monotonic() + 1 + (bytes[0]! % 7) * 1000) as Instant, step);
      if (bytes[1]! % 3 === 0) host.defer(() => trace.push(`${host.monotonic()} deferred by actor${actor}`));
    };
    host.setTimer((actor * 10) as Instant, step);
  }
  host.runSync();
  trace.push(`end ${host.monotonic()} ${host.realtimeNs()}`);
  return trace;
}

test('two runs with one seed produce identical event traces', () => {
  const a = scenario(1234);
  const b = scenario(1234);
  assert.equal(a.length, b.length);
  assert.deepEqual(a, b);
  assert.notDeepEqual(scenario(1235), a, 'another seed, another run');
});

test('time jumps to the next timer only when nothing is runnable', () => {
  const host = new SimHost();
  const order: string[] = [];
  host.setTimer(5_000_000_000 as Instant, () => order.push(`timer at ${host.monotonic()}`));
  host.defer(() => order.push(`deferred at ${host.monotonic()}`));
  host.runSync();
  assert.deepEqual(order, ['deferred at 0', 'timer at 5000000000']);
  assert.equal(host.realtimeNs(), 1_704_067_200_000_000_000n + 5_000_000_000n);
});

test('a kernel on the sim host: poll with a timeout finishes in virtual time, instantly', async () => {
  const host = new SimHost({ seed: 9 });
  const k = boot({ host });
  const [r] = k.sys.pipe2(0);
  const t0 = Date.now();
  const n = await host.runUntil(k.sys.poll([{ fd: r, events: 1, revents: 0 }], 3_600_000));
  assert.equal(n, 0);
  assert.equal(host.monotonic(), 3_600_000_000_000, 'an hour of virtual time');
  assert.ok(Date.now() - t0 < 1000, 'in well under a second of real time');
  const st = k.sys.stat('/proc');
  assert.equal(st.mtime.sec, 1_704_067_200, 'file times come from the virtual clock');
  k.sys.close(k.sys.openat(AT_FDCWD, '/', O_RDONLY));
});

test('runUntil reports a deadlock instead of hanging', async () => {
  const host = new SimHost({ seed: 3 });
  const k = boot({ host });
  const [r] = k.sys.pipe2(0);
  await assert.rejects(host.runUntil(k.sys.read(r, new Uint8Array(1))), /deadlock.*seed 3/);
});
