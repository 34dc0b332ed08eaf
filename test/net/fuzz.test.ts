// Hostile frames never crash the stack: frames captured from real exchanges (ARP, ICMP, UDP,
// fragments, TCP with options), mutated at random and fed to a listening kernel whose
// checksums are verified (and, separately, trusted as on an offloading link). Every bad
// packet is dropped and counted; the kernel keeps working afterwards. TKL_SOAK=1: 20× more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimHost } from '../../src/host/sim/sim_host.js';
import { bootWith } from '../../src/api/boot.js';
import { MemoryLink } from '../../src/drivers/net/memory_link.js';
import { DeviceStats, type NetDevice } from '../../src/net/netdevice.js';
import { PcapTap, PcapWriter } from '../../src/drivers/net/pcap.js';
import { SeededRandom } from '../../src/util/random.js';
import { AF_INET } from '../../src/net/socket/sockaddr.js';
import { IPPROTO_ICMP, SOCK_DGRAM, SOCK_STREAM, SHUT_WR } from '../../src/abi/linux/socket.js';

const RUNS = process.env.TKL_SOAK === '1' ? 400_000 : 20_000;

/** A device that only receives what the test injects, and swallows what the kernel sends. */
class Injector implements NetDevice {
  readonly name = 'inj';
  readonly mtu = 1500;
  readonly linkUp = true;
  readonly stats = new DeviceStats();
  deliver: (f: Uint8Array) => void = () => {};
  constructor(
    readonly mac: number,
    readonly checksumOffload: boolean,
  ) {}
  transmit(): void {}
  onReceive(d: (f: Uint8Array) => void): void {
    this.deliver = d;
  }
}

/** Frames of a real exchange between two kernels, as b received them. */
async function capture(): Promise<{ frames: Uint8Array[]; macB: number }> {
  const sim = new SimHost({ seed: 5 });
  const a = bootWith(sim, {});
  const b = bootWith(sim, {});
  const link = new MemoryLink(sim, { mtu: 1500, checksumOffload: false });
  const frames: Uint8Array[] = [];
  let header = true;
  const tap = new PcapTap(link.b, new PcapWriter((c) => {
    if (header) header = false;
    else frames.push(c.slice(16));
  }, sim));
  const ia = a.kernel.net.addInterface(link.a);
  const ib = b.kernel.net.addInterface(tap);
  a.kernel.net.addAddress(ia, '10.0.0.1/24');
  b.kernel.net.addAddress(ib, '10.0.0.2/24');
  a.kernel.net.setUp(ia, true);
  b.kernel.net.setUp(ib, true);
  const l = b.sys.socket(AF_INET, SOCK_STREAM, 0);
  b.sys.bind(l, { family: AF_INET, addr: '0.0.0.0', port: 80 });
  b.sys.listen(l, 4);
  const u = b.sys.socket(AF_INET, SOCK_DGRAM, 0);
  b.sys.bind(u, { family: AF_INET, addr: '0.0.0.0', port: 53 });
  const c = a.sys.socket(AF_INET, SOCK_STREAM, 0);
  const acc = b.sys.accept4(l, null, 0);
  await sim.runUntil(a.sys.connect(c, { family: AF_INET, addr: '10.0.0.2', port: 80 }));
  await sim.runUntil(acc);
  await sim.runUntil(a.sys.write(c, new Uint8Array(20000)));
  a.sys.shutdown(c, SHUT_WR);
  const su = a.sys.socket(AF_INET, SOCK_DGRAM, 0);
  await sim.runUntil(a.sys.sendto(su, new Uint8Array(4000), undefined, 0, { family: AF_INET, addr: '10.0.0.2', port: 53 }));
  const p = a.sys.socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
  const req = new Uint8Array(40);
  req[0] = 8;
  await sim.runUntil(a.sys.sendto(p, req, undefined, 0, { family: AF_INET, addr: '10.0.0.2', port: 0 }));
  sim.advance(1e9 as never);
  return { frames, macB: link.b.mac };
}

for (const offload of [false, true]) {
  test(`mutated frames are dropped and counted, never a crash (checksums ${offload ? 'trusted' : 'verified'})`, { timeout: 120_000 }, async () => {
    const { frames, macB } = await capture();
    assert.ok(frames.length > 20, 'captured an exchange');
    const sim = new SimHost({ seed: 9 });
    const k = bootWith(sim, {});
    const dev = new Injector(macB, offload);
    const i = k.kernel.net.addInterface(dev);
    k.kernel.net.addAddress(i, '10.0.0.2/24');
    k.kernel.net.setUp(i, true);
    const l = k.sys.socket(AF_INET, SOCK_STREAM, 0);
    k.sys.bind(l, { family: AF_INET, addr: '0.0.0.0', port: 80 });
    k.sys.listen(l, 64);
    const u = k.sys.socket(AF_INET, SOCK_DGRAM, 0);
    k.sys.bind(u, { family: AF_INET, addr: '0.0.0.0', port: 53 });
    const rng = new SeededRandom(offload ? 2 : 1);
    for (let n = 0; n < RUNS; n++) {
      const base = frames[rng.int(0, frames.length)]!;
      const f = base.slice();
      const kind = rng.int(0, 4);
      if (kind === 0) for (let j = rng.int(1, 6); j > 0; j--) f[rng.int(14, f.length)] = rng.int(0, 256);
      else if (kind === 1) {
        // Truncate anywhere, including inside headers.
        dev.deliver(f.subarray(0, rng.int(0, f.length)));
        continue;
      } else if (kind === 2) for (let j = 14; j < Math.min(f.length, 80); j++) if (rng.next() < 0.1) f[j] = rng.int(0, 256);
      // kind 3: replayed as is (duplicates, old segments).
      dev.deliver(f);
      if (n % 1000 === 0) sim.advance(50e6 as never);
    }
    sim.advance(120e9 as never);
    const st = k.kernel.net.stats;
    const dropped = st.IpInHdrErrors + st.IpInAddrErrors + st.TcpInErrs + st.UdpInErrors + st.IcmpInErrors + st.ArpInErrors + st.EthInUnknown + st.IpReasmFails + st.IpInUnknownProtos;
    assert.ok(dropped > RUNS / 10, `bad packets were counted (${dropped})`);
    if (!offload) assert.ok(st.TcpInCsumErrors + st.UdpInCsumErrors + st.IpInCsumErrors > 0, 'checksum failures counted');
    // Still alive: loopback traffic works.
    const s = k.sys.socket(AF_INET, SOCK_DGRAM, 0);
    k.sys.bind(s, { family: AF_INET, addr: '127.0.0.1', port: 9 });
    await sim.runUntil(k.sys.sendto(s, new Uint8Array(3), undefined, 0, { family: AF_INET, addr: '127.0.0.1', port: 9 }));
    assert.equal(await sim.runUntil(k.sys.recvfrom(s, new Uint8Array(8))), 3);
  });
}
