// FaultDevice's counters, which the interop suite uses as evidence that faults happened:
// every frame is dropped, delayed or let through early, and each kind is counted once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimHost } from '../../host/sim/sim_host.js';
import { DeviceStats, type NetDevice } from '../../net/netdevice.js';
import { FaultDevice } from './fault.js';

class Sink implements NetDevice {
  readonly name = 'sink';
  readonly mac = 2;
  readonly mtu = 1500;
  readonly checksumOffload = false;
  readonly linkUp = true;
  readonly stats = new DeviceStats();
  readonly sent: number[] = [];
  transmit(frame: Uint8Array): void {
    this.sent.push(frame[0]! | (frame[1]! << 8));
  }
  onReceive(): void {}
}

function frame(i: number): Uint8Array {
  const f = new Uint8Array(60);
  f[0] = i & 0xff;
  f[1] = i >> 8;
  return f;
}

test('FaultDevice counts drops, delays and reordering; frames that overtake arrive out of order', () => {
  const sim = new SimHost({ seed: 5 });
  const sink = new Sink();
  const f = new FaultDevice(sink, sim, { loss: 0.1, delay: 1e6, reorder: 0.25, duplicate: 0.05 });
  const n = 2000;
  for (let i = 0; i < n; i++) f.transmit(frame(i));
  sim.advance(2e6 as never);
  assert.ok(f.dropped > 100 && f.dropped < 300, `dropped ${f.dropped}`);
  assert.ok(f.duplicated > 40 && f.duplicated < 160, `duplicated ${f.duplicated}`);
  assert.ok(f.reordered > 300, `reordered ${f.reordered}`);
  // Each send of a kept frame (a duplicate is a second send) is either delayed or reordered.
  assert.equal(f.delayed + f.reordered, n - f.dropped + f.duplicated);
  assert.equal(sink.sent.length, n - f.dropped + f.duplicated);
  assert.ok(sink.sent.some((x, i) => i > 0 && x < sink.sent[i - 1]!), 'delivery order differs from send order');
});

test('FaultDevice without faults passes frames through and counts nothing', () => {
  const sim = new SimHost({ seed: 6 });
  const sink = new Sink();
  const f = new FaultDevice(sink, sim);
  for (let i = 0; i < 100; i++) f.transmit(frame(i));
  assert.deepEqual(sink.sent, Array.from({ length: 100 }, (_, i) => i));
  assert.equal(f.dropped + f.delayed + f.reordered + f.duplicated, 0);
});
