import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTapSpec } from './netopts.js';

test('--net tap:NAME options: offload on by default, offload=off/on, anything else refused', () => {
  assert.deepEqual(parseTapSpec('tap0', undefined), { name: 'tap0', mtu: undefined });
  assert.deepEqual(parseTapSpec('tap0,offload=off', 9000), { name: 'tap0', mtu: 9000, offload: false });
  assert.deepEqual(parseTapSpec('tap0,offload=on', undefined), { name: 'tap0', mtu: undefined, offload: true });
  assert.throws(() => parseTapSpec('tap0,offload=maybe', undefined), /bad --net tap option 'offload=maybe'/);
  assert.throws(() => parseTapSpec('tap0,tso=off', undefined), /bad --net tap option/);
});
