// NetDevice.copiesOnTransmit: on a device that copies each frame before transmit() returns,
// the stack builds TCP segments in one reused buffer. A test device copies every frame, then
// poisons the original (as the stack's next segment would overwrite it): each frame must still
// arrive whole and distinct — through FaultDevice's held-back frames and ARP's pending queue too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootWith, type Tkl } from '../../src/api/boot.js';
import { SimHost } from '../../src/host/sim/sim_host.js';
import { MemoryLink, type LinkParams } from '../../src/drivers/net/memory_link.js';
import { FaultDevice, type FaultParams } from '../../src/drivers/net/fault.js';
import { RingBridge, RingNetDevice } from '../../src/drivers/net/ring_link.js';
import { DeviceWrapper, type NetDevice } from '../../src/net/netdevice.js';
import { AF_INET } from '../../src/net/socket/sockaddr.js';
import { SOCK_STREAM } from '../../src/abi/linux/socket.js';
import { pattern, simTransfer } from './helpers.js';

const POISON = 0xee;

/** What a copying device saw, one entry per frame handed to transmit(). */
interface Seen {
  /** A copy of the frame as it was when transmit() was called. */
  bytes: Uint8Array;
  buffer: ArrayBufferLike;
}

/** Copies each frame into the link, then overwrites the caller's frame with POISON. */
class CopyingDevice extends DeviceWrapper {
  override get copiesOnTransmit(): boolean {
    return true;
  }
  readonly seen: Seen[] = [];
  /** Frames that reached transmit() already poisoned: a frame used after its transmit() returned. */
  poisoned = 0;

  override transmit(frame: Uint8Array): void {
    // The EtherType of a poisoned frame reads 0xeeee.
    if (frame[12] === POISON && frame[13] === POISON) this.poisoned++;
    const bytes = frame.slice();
    this.seen.push({ bytes, buffer: frame.buffer });
    this.inner.transmit(bytes);
    frame.fill(POISON);
  }
}

interface Setup {
  sim: SimHost;
  a: Tkl;
  b: Tkl;
  dev: CopyingDevice;
}

/** a (10.0.0.1, on a CopyingDevice, optionally under a FaultDevice) and b (10.0.0.2) on one link. */
function setup(link: LinkParams, faults: FaultParams | null): Setup {
  const sim = new SimHost({ seed: 11 });
  const a = bootWith(sim, { hostname: 'a' });
  const b = bootWith(sim, { hostname: 'b' });
  const l = new MemoryLink(sim, link);
  const dev = new CopyingDevice(l.a);
  const top: NetDevice = faults === null ? dev : new FaultDevice(dev, sim, faults);
  assert.equal(top.copiesOnTransmit, true, 'the flag passes through wrappers');
  const ia = a.kernel.net.addInterface(top);
  const ib = b.kernel.net.addInterface(new CopyingDevice(l.b));
  a.kernel.net.addAddress(ia, '10.0.0.1/24');
  b.kernel.net.addAddress(ib, '10.0.0.2/24');
  a.kernel.net.setUp(ia, true);
  b.kernel.net.setUp(ib, true);
  return { sim, a, b, dev };
}

/** Sends `total` bytes a → b; true when b read exactly them. */
async function transfer(s: Setup, total: number): Promise<boolean> {
  const { sim, a, b } = s;
  const ok = await simTransfer(sim, a, b, total, 7);
  return ok;
}

/** The TCP segments with data among `seen` (IPv4, protocol 6): sequence number and payload length. */
function dataSegments(seen: Seen[]): { seq: number; len: number }[] {
  const out: { seq: number; len: number }[] = [];
  for (const { bytes: f } of seen) {
    if (f.length < 54 || f[12] !== 0x08 || f[13] !== 0x00 || f[23] !== 6) continue;
    const ipLen = (f[16]! << 8) | f[17]!;
    const thl = (f[46]! >>> 4) * 4;
    const len = ipLen - 20 - thl;
    if (len > 0) out.push({ seq: ((f[38]! << 24) | (f[39]! << 16) | (f[40]! << 8) | f[41]!) >>> 0, len });
  }
  return out;
}

test('copiesOnTransmit: segments built in one reused buffer arrive byte-exact and distinct (offload, 64 KiB frames)', async () => {
  const s = setup({ mtu: 1500, checksumOffload: true }, null);
  assert.ok(await transfer(s, 8 << 20), 'all bytes arrived intact');
  assert.equal(s.dev.poisoned, 0, 'no frame was used after its transmit() returned');
  const segs = dataSegments(s.dev.seen);
  assert.ok(segs.length > 100, `${segs.length} data segments`);
  assert.ok(segs.some((x) => x.len > 1460), 'segmentation offload made frames beyond the MTU');
  // A lossless link: each segment starts where the one before ended — no two frames alike.
  for (let i = 1; i < segs.length; i++) assert.equal(segs[i]!.seq, (segs[i - 1]!.seq + segs[i - 1]!.len) >>> 0, `segment ${i} follows segment ${i - 1}`);
  // The point of the flag: the data segments shared a handful of buffers, not one each.
  const buffers = new Set(s.dev.seen.map((x) => x.buffer));
  assert.ok(buffers.size < 10, `${s.dev.seen.length} frames in ${buffers.size} buffers`);
});

test('copiesOnTransmit: without checksum offload (checksums over the reused buffer) byte-exact', async () => {
  const s = setup({ mtu: 1500, checksumOffload: false }, null);
  assert.ok(await transfer(s, 2 << 20), 'all bytes arrived intact');
  assert.equal(s.dev.poisoned, 0);
  const segs = dataSegments(s.dev.seen);
  assert.ok(segs.every((x) => x.len <= 1460), 'MTU-sized frames');
});

test('copiesOnTransmit: FaultDevice holding frames back (delay, jitter, duplicates, loss) keeps copies', async () => {
  const s = setup({ mtu: 1500, checksumOffload: true }, { delay: 2e6, jitter: 1e6, duplicate: 0.02, reorder: 0.05, loss: 0.02 });
  assert.ok(await transfer(s, 2 << 20), 'all bytes arrived intact');
  assert.equal(s.dev.poisoned, 0, 'no held-back frame was the reused buffer');
});

test('copiesOnTransmit: frames waiting for ARP are copies (two SYNs queued before the reply)', async () => {
  // 5 ms each way: both connects run before the ARP reply is back.
  const s = setup({ mtu: 1500, checksumOffload: true, latency: 5e6 }, null);
  const { sim, a, b } = s;
  const l = b.sys.socket(AF_INET, SOCK_STREAM, 0);
  b.sys.bind(l, { family: AF_INET, addr: '0.0.0.0', port: 9000 });
  b.sys.listen(l, 4);
  const c1 = a.sys.socket(AF_INET, SOCK_STREAM, 0);
  const c2 = a.sys.socket(AF_INET, SOCK_STREAM, 0);
  const t0 = sim.monotonic();
  const both = Promise.all([
    a.sys.connect(c1, { family: AF_INET, addr: '10.0.0.2', port: 9000 }),
    a.sys.connect(c2, { family: AF_INET, addr: '10.0.0.2', port: 9000 }),
  ]);
  await sim.runUntil(both);
  // Well before the 1 s SYN retransmission: neither SYN was lost to the other.
  assert.ok(sim.monotonic() - t0 < 100e6, `connected after ${(sim.monotonic() - t0) / 1e6} ms`);
  assert.equal(s.dev.poisoned, 0, 'no queued frame was the reused buffer');
  const syns = s.dev.seen.filter(({ bytes: f }) => f[12] === 0x08 && f[23] === 6 && (f[47]! & 0x02) !== 0);
  const ports = new Set(syns.map(({ bytes: f }) => (f[34]! << 8) | f[35]!));
  assert.equal(ports.size, 2, 'two SYNs from two ports');
});

test('copiesOnTransmit: the WASI ring bridge reads frames for a copying device into one buffer, each intact', () => {
  const sim = new SimHost({ seed: 1 });
  const link = new MemoryLink(sim, { mtu: 1500 });
  const dev = new CopyingDevice(link.a);
  const bridge = new RingBridge(dev, new Int32Array(new SharedArrayBuffer(4)));
  const worker = new RingNetDevice(bridge.init);
  assert.equal(worker.copiesOnTransmit, true, 'the ring copies the frame in');
  // Small, 64 KiB, small again, and one larger than the bridge's buffer (a fresh array).
  const frames = [60, 1514, 65549, 100, 70000].map((n, i) => pattern(n, i + 1));
  for (const f of frames) worker.transmit(f);
  bridge.stop(); // sends what the worker queued, synchronously
  assert.equal(dev.seen.length, frames.length);
  for (let i = 0; i < frames.length; i++) assert.deepEqual(dev.seen[i]!.bytes, frames[i], `frame ${i} intact`);
  assert.equal(dev.poisoned, 0);
  const reused = new Set(dev.seen.slice(0, 4).map((x) => x.buffer));
  assert.equal(reused.size, 1, 'frames that fit share the one buffer');
  assert.notEqual(dev.seen[4]!.buffer, dev.seen[0]!.buffer, 'a frame too large for it gets its own');
});
