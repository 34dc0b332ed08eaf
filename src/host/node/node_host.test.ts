// The clocks of the hosts that run on Node (NodeHost, and WorkerHost in a worker thread): the
// wall clock never runs backwards and stays with Date.now(); the monotonic one never goes back.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostOps } from '../host_ops.js';
import { NodeHost } from './node_host.js';
import { WorkerHost } from '../worker/worker_host.js';

const hosts: [string, () => HostOps][] = [['NodeHost', () => new NodeHost()], ['WorkerHost', () => new WorkerHost()]];

for (const [name, make] of hosts) {
  test(`${name}: realtimeNs is ordered and close to Date.now(); monotonic never goes back`, () => {
    const h = make();
    let wall = h.realtimeNs();
    let mono = h.monotonic();
    const until = Date.now() + 100;
    let n = 0;
    while (Date.now() < until) {
      const w = h.realtimeNs();
      const m = h.monotonic();
      assert.ok(w > wall, `wall clock went from ${wall} to ${w}`);
      assert.ok(m >= mono);
      wall = w;
      mono = m;
      n++;
    }
    assert.ok(n > 1000);
    const drift = Number(h.realtimeNs() / 1_000_000n) - Date.now();
    assert.ok(Math.abs(drift) <= 5, `${drift} ms from Date.now()`);
  });
}
