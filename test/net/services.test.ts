// The stub resolver (/etc/hosts, /etc/resolv.conf from the kernel's VFS, a DNS server in
// another kernel, CNAME chains, malformed answers ignored), the learning switch with a
// partition, and path MTU discovery from ICMP "fragmentation needed".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimHost } from '../../src/host/sim/sim_host.js';
import { bootWith } from '../../src/api/boot.js';
import { MemorySwitch } from '../../src/drivers/net/memory_link.js';
import { AF_INET } from '../../src/net/socket/sockaddr.js';
import { IPPROTO_ICMP, SOCK_DGRAM, SOCK_STREAM, SOL_TCP, TCP_INFO } from '../../src/abi/linux/socket.js';
import { resolve4 } from '../../src/net/dns/resolver.js';
import { L4_OFF } from '../../src/net/stack.js';
import { emitIcmp } from '../../src/net/wire/icmp.js';
import type { TcpInfo } from '../../src/net/tcp/tcp_socket.js';
import { linkedPair } from './helpers.js';

/** A DNS answer for one question: each record is [name, type, data]. */
function answer(query: Uint8Array, records: [string, number, string][]): Uint8Array {
  const qEnd = (() => {
    let at = 12;
    while (query[at] !== 0) at += query[at]! + 1;
    return at + 5;
  })();
  const name = (n: string): number[] => [...n.split('.').flatMap((l) => [l.length, ...[...l].map((c) => c.charCodeAt(0))]), 0];
  const out: number[] = [...query.subarray(0, qEnd)];
  out[2] = 0x81;
  out[3] = 0x80;
  out[7] = records.length;
  for (const [n, type, data] of records) {
    const rdata = type === 1 ? data.split('.').map(Number) : name(data);
    out.push(...name(n), 0, type, 0, 1, 0, 0, 1, 0, rdata.length >> 8, rdata.length & 255, ...rdata);
  }
  return Uint8Array.from(out);
}

test('resolver: /etc/hosts first, then the nameserver of /etc/resolv.conf, following CNAMEs', async () => {
  const sim = new SimHost({ seed: 1 });
  const { a, b } = linkedPair(sim);
  a.fs.mkdir('/etc');
  a.fs.writeFile('/etc/hosts', '127.0.0.1 localhost\n10.0.0.9 files.example files\n');
  a.fs.writeFile('/etc/resolv.conf', '# test\nnameserver 10.0.0.2\noptions timeout:1 attempts:1\n');
  assert.equal(await sim.runUntil(resolve4(a, 'files')), '10.0.0.9');
  // A DNS server in kernel b: first a malformed reply (ignored), then the real one.
  const s = b.sys.socket(AF_INET, SOCK_DGRAM, 0);
  b.sys.bind(s, { family: AF_INET, addr: '10.0.0.2', port: 53 });
  const server = (async () => {
    const buf = new Uint8Array(512);
    const from = {} as { family: 2; addr: string; port: number };
    const n = await b.sys.recvfrom(s, buf, undefined, 0, from);
    const q = buf.slice(0, n);
    const bad = answer(q, [['www.example', 1, '1.2.3.4']]).slice(0, 20);
    await b.sys.sendto(s, bad, undefined, 0, from);
    await b.sys.sendto(s, answer(q, [['www.example', 5, 'web.example'], ['web.example', 1, '10.0.0.77']]), undefined, 0, from);
  })();
  const addr = await sim.runUntil(resolve4(a, 'www.example'));
  await sim.runUntil(server);
  assert.equal(addr, '10.0.0.77');
  // Nobody answers: a timeout, reported as ETIMEOUT.
  const r = await sim.runUntil(resolve4(a, 'nowhere.example').then(() => 'resolved', (e: { code: string }) => e.code));
  assert.equal(r, 'ETIMEOUT');
});

test('switch: three kernels talk through a learning switch; an isolated port is cut off', async () => {
  const sim = new SimHost({ seed: 2 });
  const sw = new MemorySwitch(sim, { latency: 1e5 });
  const ks = [1, 2, 3].map((n) => {
    const k = bootWith(sim, { hostname: `h${n}` });
    const port = sw.port();
    const i = k.kernel.net.addInterface(port);
    k.kernel.net.addAddress(i, `10.1.0.${n}/24`);
    k.kernel.net.setUp(i, true);
    return { k, port };
  });
  const ping = async (from: number, to: number): Promise<boolean> => {
    const k = ks[from]!.k;
    const s = k.sys.socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
    k.sys.setsockopt(s, 1, 20, { sec: 2, usec: 0 });
    const req = new Uint8Array(16);
    req[0] = 8;
    await sim.runUntil(k.sys.sendto(s, req, undefined, 0, { family: AF_INET, addr: `10.1.0.${to + 1}`, port: 0 }));
    const ok = await sim.runUntil(k.sys.recvfrom(s, new Uint8Array(64)).then(() => true, () => false));
    k.sys.close(s);
    return ok;
  };
  assert.equal(await ping(0, 1), true);
  assert.equal(await ping(2, 0), true);
  assert.equal(await ping(1, 2), true);
  sw.isolate(ks[2]!.port, true);
  assert.equal(await ping(0, 2), false, 'partitioned');
  assert.equal(await ping(0, 1), true, 'the others still talk');
  sw.isolate(ks[2]!.port, false);
  assert.equal(await ping(0, 2), true, 'healed');
});

test('ICMP fragmentation needed lowers the path MTU and the connection MSS (RFC 1191)', async () => {
  const sim = new SimHost({ seed: 3 });
  const { a, b } = linkedPair(sim);
  const l = b.sys.socket(AF_INET, SOCK_STREAM, 0);
  b.sys.bind(l, { family: AF_INET, addr: '10.0.0.2', port: 80 });
  b.sys.listen(l, 1);
  const acc = b.sys.accept4(l, null, 0);
  const c = a.sys.socket(AF_INET, SOCK_STREAM, 0);
  await sim.runUntil(a.sys.connect(c, { family: AF_INET, addr: '10.0.0.2', port: 80 }));
  await sim.runUntil(acc);
  assert.equal((a.sys.getsockopt(c, SOL_TCP, TCP_INFO) as unknown as TcpInfo).snd_mss, 1448);
  // A router on the path (pretend: b's address) reports MTU 1000 for a's segment.
  const sk = a.kernel.net.tcp.connections().find((x) => x.localPort !== 80)!;
  const quoted = new Uint8Array(28);
  quoted.set([0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6], 0);
  quoted.set([10, 0, 0, 1, 10, 0, 0, 2], 12);
  quoted.set([sk.localPort >> 8, sk.localPort & 255, 0, 80, sk.sndUna >>> 24, (sk.sndUna >>> 16) & 255, (sk.sndUna >>> 8) & 255, sk.sndUna & 255], 20);
  const len = 8 + quoted.length;
  const f = b.kernel.net.allocFrame(len);
  f.set(quoted, L4_OFF + 8);
  emitIcmp(f, L4_OFF, len, 3, 4, 0, 1000);
  const route = b.kernel.net.route(0x0a000001);
  b.kernel.net.ipOutput(f, len, 1, 0x0a000002, 0x0a000001, route, 64, 0, false, sim.monotonic());
  sim.advance(1e6 as never);
  assert.equal(a.kernel.net.stats.IcmpInDestUnreachs, 1);
  assert.equal((a.sys.getsockopt(c, SOL_TCP, TCP_INFO) as unknown as TcpInfo).snd_mss, 1000 - 40 - 12);
  assert.equal(a.sys.getsockopt(c, 0, 14), 1000, 'IP_MTU reports the path MTU');
});
