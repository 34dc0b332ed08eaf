// The link and network layers on the sim host: routing (connected routes, default gateway,
// longest prefix match across two interfaces), ARP (RFC 5227 announcements on address add,
// neighbour timeouts, the pending queue), and the MemoryLink bandwidth limit in sim time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimHost } from '../../src/host/sim/sim_host.js';
import { bootWith, type Tkl } from '../../src/api/boot.js';
import { MemoryLink, type LinkParams } from '../../src/drivers/net/memory_link.js';
import { AF_INET } from '../../src/net/socket/sockaddr.js';
import { MSG_DONTWAIT, SOCK_DGRAM, SOCK_STREAM, SHUT_WR } from '../../src/abi/linux/socket.js';
import { parseIpv4Addr } from '../../src/net/wire/ipv4.js';
import type { NetInterface } from '../../src/net/interface/interface.js';
import { Tap, arpOf, tcpOf } from './tap.js';
import { pattern } from './helpers.js';

const ip = (s: string): number => parseIpv4Addr(s)!;
const MAC_BROADCAST = 0xffffffffffff;
const macDst = (f: Uint8Array): number => ((f[0]! << 8) | f[1]!) * 2 ** 32 + (((f[2]! << 24) | (f[3]! << 16) | (f[4]! << 8) | f[5]!) >>> 0);
const ipDst = (f: Uint8Array): number => (((f[30]! << 24) | (f[31]! << 16) | (f[32]! << 8) | f[33]!) >>> 0);
const isIp = (f: Uint8Array): boolean => f[12] === 8 && f[13] === 0;

/** A kernel on a link with a capture on its side, and a peer kernel on the other side. */
function node(sim: SimHost, k: Tkl, peer: Tkl, mine: string, theirs: string[], params: LinkParams = {}): { tap: Tap; iface: NetInterface; peerIface: NetInterface } {
  const link = new MemoryLink(sim, params);
  const tap = new Tap(link.a, sim);
  const iface = k.kernel.net.addInterface(tap);
  const peerIface = peer.kernel.net.addInterface(link.b);
  k.kernel.net.setUp(iface, true);
  peer.kernel.net.setUp(peerIface, true);
  k.kernel.net.addAddress(iface, mine);
  for (const t of theirs) peer.kernel.net.addAddress(peerIface, t);
  return { tap, iface, peerIface };
}

test('routing: connected routes, the default gateway and the longest prefix choose interface and next hop', async () => {
  const sim = new SimHost({ seed: 61 });
  const a = bootWith(sim, { hostname: 'a' });
  const r1 = bootWith(sim, { hostname: 'r1' });
  const r2 = bootWith(sim, { hostname: 'r2' });
  const n1 = node(sim, a, r1, '10.0.0.1/24', ['10.0.0.254/24', '10.0.0.253/24']);
  const n2 = node(sim, a, r2, '10.1.0.1/16', ['10.1.0.254/16']);
  const net = a.kernel.net;
  net.addRoute({ dst: 'default', via: '10.0.0.254' });
  net.addRoute({ dst: '192.168.0.0/16', via: '10.1.0.254' });
  net.addRoute({ dst: '192.168.5.0/24', via: '10.0.0.253' });
  net.addRoute({ dst: '10.1.7.0/24', via: '10.0.0.253' }); // more specific than the connected /16
  const cases: [string, NetInterface, string][] = [
    ['10.0.0.9', n1.iface, '0.0.0.0'],
    ['10.1.2.3', n2.iface, '0.0.0.0'],
    ['10.1.7.7', n1.iface, '10.0.0.253'],
    ['192.168.5.9', n1.iface, '10.0.0.253'],
    ['192.168.7.1', n2.iface, '10.1.0.254'],
    ['8.8.8.8', n1.iface, '10.0.0.254'],
  ];
  for (const [dst, iface, gw] of cases) {
    const r = net.route(ip(dst))!;
    assert.equal(r.iface, iface, `${dst}: interface`);
    assert.equal(r.gateway, ip(gw), `${dst}: next hop`);
  }
  // On the wire: each datagram leaves by the chosen interface, to the next hop's MAC.
  const want: [string, Tap, number][] = [
    ['192.168.5.9', n1.tap, n1.peerIface.mac],
    ['192.168.7.1', n2.tap, n2.peerIface.mac],
    ['8.8.8.8', n1.tap, n1.peerIface.mac],
    ['10.1.2.3', n2.tap, MAC_BROADCAST], // no such neighbour: only its ARP request goes out
  ];
  const s = a.sys.socket(AF_INET, SOCK_DGRAM, 0);
  for (const [dst, tap, mac] of want) {
    const m1 = n1.tap.frames.length;
    const m2 = n2.tap.frames.length;
    await sim.runUntil(a.sys.sendto(s, new Uint8Array(4), undefined, 0, { family: AF_INET, addr: dst, port: 9 }));
    sim.advance(10e6 as never);
    const other = tap === n1.tap ? n2.tap.since(m2) : n1.tap.since(m1);
    assert.equal(other.filter((c) => c.dir === 'tx').length, 0, `${dst}: nothing on the other interface`);
    const tx = tap.since(tap === n1.tap ? m1 : m2).filter((c) => c.dir === 'tx');
    if (mac === MAC_BROADCAST) {
      const arp = tx.map((c) => arpOf(c.frame)).find((x) => x !== null)!;
      assert.equal(arp.targetIp, ip(dst), 'on-link: ARP for the destination itself');
      continue;
    }
    const frame = tx.find((c) => isIp(c.frame))!.frame;
    assert.equal(ipDst(frame), ip(dst), 'the IP destination is unchanged');
    assert.equal(macDst(frame), mac, `${dst}: sent to the gateway's MAC`);
  }
  // Removing the specific route falls back to the /16.
  net.removeRoute('192.168.5.0/24');
  assert.equal(net.route(ip('192.168.5.9'))!.iface, n2.iface);
  net.removeRoute('default');
  assert.equal(net.route(ip('8.8.8.8')), null);
});

test('gratuitous ARP: adding an address announces it (sender = target = the address, broadcast)', () => {
  const sim = new SimHost({ seed: 62 });
  const a = bootWith(sim, {});
  const b = bootWith(sim, {});
  const { tap, iface } = node(sim, a, b, '10.0.0.1/24', ['10.0.0.2/24']);
  const mark = tap.frames.length;
  a.kernel.net.addAddress(iface, '10.0.0.9/24');
  const arps = tap.since(mark).filter((c) => c.dir === 'tx').map((c) => arpOf(c.frame));
  assert.equal(arps.length, 1);
  assert.deepEqual(arps[0], { op: 1, ethDst: MAC_BROADCAST, senderMac: iface.mac, senderIp: ip('10.0.0.9'), targetIp: ip('10.0.0.9') });
  // The first address was announced too (added while the interface was up).
  const first = tap.frames.slice(0, mark).map((c) => arpOf(c.frame)).find((x) => x?.senderIp === ip('10.0.0.1'));
  assert.equal(first?.targetIp, ip('10.0.0.1'));
});

test('ARP: packets wait in the pending queue (bounded) and all go out when the reply comes', async () => {
  const sim = new SimHost({ seed: 63 });
  const a = bootWith(sim, {});
  const b = bootWith(sim, {});
  const { tap } = node(sim, a, b, '10.0.0.1/24', ['10.0.0.2/24'], { latency: 5e6 });
  const sb = b.sys.socket(AF_INET, SOCK_DGRAM, 0);
  b.sys.bind(sb, { family: AF_INET, addr: '10.0.0.2', port: 7 });
  const sa = a.sys.socket(AF_INET, SOCK_DGRAM, 0);
  sim.advance(1e9 as never); // b's own announcement (which would also resolve it) is long past
  const mark = tap.frames.length;
  for (let i = 0; i < 70; i++) await sim.runUntil(a.sys.sendto(sa, new Uint8Array([i]), undefined, 0, { family: AF_INET, addr: '10.0.0.2', port: 7 }));
  const t0 = sim.monotonic();
  sim.advance(100e6 as never);
  const cap = tap.since(mark);
  const reply = cap.find((c) => c.dir === 'rx' && arpOf(c.frame)?.op === 2)!;
  assert.ok(reply, 'the ARP reply came');
  const ipTx = cap.filter((c) => c.dir === 'tx' && isIp(c.frame));
  assert.equal(ipTx.length, 64, 'the queue keeps 64 packets per neighbour, as tkl documents');
  assert.ok(ipTx.every((c) => c.at === reply.at && reply.at >= t0 + 10e6), `all flushed when the reply arrived: ${ipTx.map((c) => c.at - t0)} ${reply.at - t0}`);
  const got: number[] = [];
  for (;;) {
    const b1 = new Uint8Array(4);
    const r = await sim.runUntil(b.sys.recvfrom(sb, b1, undefined, MSG_DONTWAIT).then(() => b1[0]!, () => -1));
    if (r < 0) break;
    got.push(r);
  }
  assert.deepEqual(got, Array.from({ length: 64 }, (_, i) => i + 6), 'the oldest were dropped, the rest in order');
});

test('ARP: an entry is refreshed after its reachable and stale time; a gone neighbour is forgotten', async () => {
  const sim = new SimHost({ seed: 64 });
  const a = bootWith(sim, {});
  const b = bootWith(sim, {});
  const link = new MemoryLink(sim, { latency: 1e6 });
  const tap = new Tap(link.a, sim);
  const ia = a.kernel.net.addInterface(tap);
  const ib = b.kernel.net.addInterface(link.b);
  a.kernel.net.setUp(ia, true);
  b.kernel.net.setUp(ib, true);
  a.kernel.net.addAddress(ia, '10.0.0.1/24');
  b.kernel.net.addAddress(ib, '10.0.0.2/24');
  const sa = a.sys.socket(AF_INET, SOCK_DGRAM, 0);
  const send = (): Promise<number> => sim.runUntil(a.sys.sendto(sa, new Uint8Array(1), undefined, 0, { family: AF_INET, addr: '10.0.0.2', port: 9 }));
  const requests = (from: number) => tap.since(from).filter((c) => c.dir === 'tx').map((c) => arpOf(c.frame)).filter((x) => x !== null && x.op === 1 && x.targetIp === ip('10.0.0.2'));
  const neigh = () => ia.arp.entries().find((e) => e.ip === ip('10.0.0.2'));
  sim.advance(1e9 as never);
  let mark = tap.frames.length;
  await send();
  sim.advance(10e6 as never);
  assert.equal(requests(mark).length, 1);
  assert.equal(requests(mark)[0]!.ethDst, MAC_BROADCAST);
  assert.equal(neigh()?.state, 'REACHABLE');
  // Within the reachable time (30 s): no new request.
  sim.advance(20e9 as never);
  mark = tap.frames.length;
  await send();
  sim.advance(10e6 as never);
  assert.equal(requests(mark).length, 0, 'a reachable entry is used as is');
  // Past reachable (30 s) + stale (60 s): the entry is re-verified with a unicast request.
  sim.advance(100e9 as never);
  await send(); // REACHABLE → STALE
  sim.advance(61e9 as never);
  mark = tap.frames.length;
  await send();
  sim.advance(10e6 as never);
  const refresh = requests(mark);
  assert.equal(refresh.length, 1, 'refreshed');
  assert.equal(refresh[0]!.ethDst, ib.mac, 'unicast to the MAC it had');
  assert.equal(neigh()?.state, 'REACHABLE', 'the answer confirmed it');
  // The neighbour goes away: the refresh is unanswered, the entry is dropped, and a fresh
  // resolution (broadcast, 3 tries) fails.
  link.partition(true);
  sim.advance(100e9 as never);
  await send();
  sim.advance(61e9 as never);
  await send(); // refresh sent, no answer
  sim.advance(5e9 as never);
  mark = tap.frames.length;
  await send(); // the refresh timed out: resolve afresh
  sim.advance(5e9 as never);
  const fresh = requests(mark);
  assert.equal(fresh.length, 3, 'three broadcast requests (mcast_solicit)');
  assert.ok(fresh.every((x) => x!.ethDst === MAC_BROADCAST));
  assert.equal(neigh(), undefined, 'the failed neighbour is gone from the cache');
  assert.ok(a.kernel.net.stats.IcmpOutDestUnreachs + ia.arp.failed > 0);
});

test('bandwidth: 10 Mbit/s link; UDP burst and a TCP transfer take the time their bits need', async () => {
  const sim = new SimHost({ seed: 65 });
  const a = bootWith(sim, {});
  const b = bootWith(sim, {});
  const { tap } = node(sim, a, b, '10.0.0.1/24', ['10.0.0.2/24'], { bandwidth: 10e6 });
  const sb = b.sys.socket(AF_INET, SOCK_DGRAM, 0);
  b.sys.bind(sb, { family: AF_INET, addr: '10.0.0.2', port: 7 });
  const sa = a.sys.socket(AF_INET, SOCK_DGRAM, 0);
  await sim.runUntil(a.sys.sendto(sa, new Uint8Array(1), undefined, 0, { family: AF_INET, addr: '10.0.0.2', port: 7 }));
  await sim.runUntil(b.sys.recvfrom(sb, new Uint8Array(4)));
  // 100 datagrams of 1000 bytes at once: each frame is 14 + 20 + 8 + 1000 bytes, plus 24 bytes
  // of preamble, FCS and gap the link charges: 8528 bits = 852.8 µs at 10 Mbit/s.
  const t0 = sim.monotonic();
  for (let i = 0; i < 100; i++) await sim.runUntil(a.sys.sendto(sa, new Uint8Array(1000), undefined, 0, { family: AF_INET, addr: '10.0.0.2', port: 7 }));
  let last = t0;
  for (let i = 0; i < 100; i++) {
    await sim.runUntil(b.sys.recvfrom(sb, new Uint8Array(1000)));
    last = sim.monotonic();
  }
  assert.ok(Math.abs(last - t0 - 100 * 852.8e3) < 1e3, `the burst took ${(last - t0) / 1e6} ms, not 85.28 ms`);
  // TCP, 1 MiB: the time from the first to the last data frame is what its bytes need.
  const l = b.sys.socket(AF_INET, SOCK_STREAM, 0);
  b.sys.bind(l, { family: AF_INET, addr: '10.0.0.2', port: 80 });
  b.sys.listen(l, 1);
  const c = a.sys.socket(AF_INET, SOCK_STREAM, 0);
  const acc = b.sys.accept4(l, null, 0);
  await sim.runUntil(a.sys.connect(c, { family: AF_INET, addr: '10.0.0.2', port: 80 }));
  const s = await sim.runUntil(acc);
  const data = pattern(1 << 20, 5);
  const mark = tap.frames.length;
  const start = sim.monotonic();
  const reader = (async () => {
    let n = 0;
    const buf = new Uint8Array(65536);
    for (;;) {
      const r = await b.sys.read(s, buf);
      if (r === 0) return n;
      n += r;
    }
  })();
  await sim.runUntil(a.sys.write(c, data));
  a.sys.shutdown(c, SHUT_WR);
  assert.equal(await sim.runUntil(reader), data.length);
  const elapsed = sim.monotonic() - start;
  let bits = 0;
  for (const f of tap.since(mark)) if (f.dir === 'tx' && (tcpOf(f.frame)?.len ?? 0) > 0) bits += (f.frame.length + 24) * 8;
  const need = (bits / 10e6) * 1e9;
  assert.ok(bits >= (1 << 20) * 8, 'every byte crossed the link');
  assert.ok(elapsed >= need, `faster than the link allows: ${elapsed / 1e6} ms < ${need / 1e6} ms`);
  assert.ok(elapsed <= need * 1.05, `${elapsed / 1e6} ms for ${need / 1e6} ms of bits: the link sat idle`);
});
