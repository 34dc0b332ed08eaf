// The Node host's clocks: the wall clock never runs backwards, the monotonic one neither.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeHost } from './node_host.js';

test('realtimeNs is ordered and close to Date.now(); monotonic never goes back', () => {
  const h = new NodeHost();
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
