// TCP segmentation offload on the in-memory link (veth's TSO/GSO with GRO at the peer): on an
// unimpaired link TCP builds segments beyond the MTU that arrive whole; turned off, with
// per-frame faults, or under a lowered interface MTU, every frame stays within the MTU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootWith } from '../../src/api/boot.js';
import { SimHost } from '../../src/host/sim/sim_host.js';
import { MemoryLink, type LinkParams } from '../../src/drivers/net/memory_link.js';
import { PcapTap, PcapWriter } from '../../src/drivers/net/pcap.js';
import { simTransfer } from './helpers.js';

const MTU = 1500;

interface Result {
  /** Frame lengths a sent (Ethernet header included), from the capture. */
  sent: number[];
  ok: boolean;
}

/** Sends `total` bytes a → b and reads the lengths of the frames a sent from its pcap. */
async function transfer(params: LinkParams, total: number, mtu = MTU): Promise<Result> {
  const sim = new SimHost({ seed: 3 });
  const a = bootWith(sim, { hostname: 'a' });
  const b = bootWith(sim, { hostname: 'b' });
  const link = new MemoryLink(sim, { mtu: MTU, ...params });
  const chunks: Uint8Array[] = [];
  const sent: number[] = [];
  const tap = new PcapTap(link.a, new PcapWriter((c) => chunks.push(c), sim));
  const ia = a.kernel.net.addInterface(tap);
  const ib = b.kernel.net.addInterface(link.b);
  a.kernel.net.addAddress(ia, '10.0.0.1/24');
  b.kernel.net.addAddress(ib, '10.0.0.2/24');
  if (mtu !== MTU) a.kernel.net.setMtu(ia, mtu);
  a.kernel.net.setUp(ia, true);
  b.kernel.net.setUp(ib, true);
  const ok = await simTransfer(sim, a, b, total, 5);
  // Walk the pcap records (24-byte file header, 16-byte record headers; the original length
  // is at offset 12) and keep the frames a sent (source MAC = a's).
  const pcap = Buffer.concat(chunks);
  for (let off = 24; off + 16 <= pcap.length; ) {
    const incl = pcap.readUInt32LE(off + 8);
    const orig = pcap.readUInt32LE(off + 12);
    const src = pcap.readUIntBE(off + 16 + 6, 6);
    if (src === link.a.mac) sent.push(orig);
    off += 16 + incl;
  }
  return { sent, ok };
}

test('segmentation offload: over an unimpaired link TCP sends segments beyond the MTU that arrive whole, byte-exact', async () => {
  const r = await transfer({}, 8 << 20);
  assert.ok(r.ok, 'all bytes arrived intact');
  const big = r.sent.filter((n) => n > MTU + 14);
  assert.ok(big.length > 0, 'some segments exceed the MTU');
  assert.ok(Math.max(...r.sent) <= 65535 + 14, 'no IP datagram beyond 64 KiB');
  // Mostly large segments: far fewer frames than MSS-sized segmentation would need.
  assert.ok(r.sent.length < (8 << 20) / 1448 / 4, `${r.sent.length} frames`);
});

test('segmentation offload off, a lossy link, or a lowered interface MTU: every frame within the MTU', async () => {
  for (const [what, params, mtu] of [
    ['segmentationOffload: false', { segmentationOffload: false }, MTU],
    ['checksumOffload: false', { checksumOffload: false }, MTU],
    ['1% loss', { loss: 0.01 }, MTU],
    ['1 ms latency', { latency: 1e6 }, MTU],
    ['interface MTU 1400', {}, 1400],
  ] as const) {
    const r = await transfer(params, 1 << 20, mtu);
    assert.ok(r.ok, `${what}: all bytes arrived intact`);
    assert.ok(r.sent.length > 0);
    assert.ok(Math.max(...r.sent) <= mtu + 14, `${what}: largest frame ${Math.max(...r.sent)}`);
  }
});

test('a link port refuses a frame beyond the MTU unless offload is on', () => {
  const sim = new SimHost({ seed: 1 });
  const on = new MemoryLink(sim, { mtu: MTU });
  const off = new MemoryLink(sim, { mtu: MTU, segmentationOffload: false });
  assert.equal(on.a.gsoMaxSize, 65535);
  assert.equal(off.a.gsoMaxSize, 0);
  on.a.transmit(new Uint8Array(4000));
  off.a.transmit(new Uint8Array(4000));
  on.a.transmit(new Uint8Array(65535 + 15));
  assert.equal(on.a.stats.txPackets, 1);
  assert.equal(on.a.stats.txDropped, 1);
  assert.equal(off.a.stats.txDropped, 1);
  on.partition(true);
  assert.equal(on.a.gsoMaxSize, 0, 'no offload while partitioned');
  on.partition(false);
  on.params = { mtu: MTU, loss: 0.5 };
  assert.equal(on.a.gsoMaxSize, 0, 'no offload with per-frame faults');
});
