// TCP behaviour seen on the wire between two kernels on the sim host: delayed ACKs and Nagle
// (RFC 9293 §3.8.6.3, §3.7.4), the send buffer bounding unacknowledged data, ISNs per RFC
// 6528, RFC 5961 (challenge ACKs for in-window RSTs and unacceptable ACKs, rate-limited), and
// SO_SNDBUF/SO_RCVBUF doubling and minimums as Linux's sock_setsockopt has them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { SimHost } from '../../src/host/sim/sim_host.js';
import { bootWith, type Tkl } from '../../src/api/boot.js';
import { MemoryLink, type LinkParams } from '../../src/drivers/net/memory_link.js';
import { AF_INET, AF_UNIX } from '../../src/net/socket/sockaddr.js';
import {
  MSG_DONTWAIT, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SOL_TCP, SO_LINGER, SO_RCVBUF, SO_REUSEADDR, SO_SNDBUF, TCP_INFO, TCP_NODELAY,
} from '../../src/abi/linux/socket.js';
import type { TcpInfo } from '../../src/net/tcp/tcp_socket.js';
import { IsnGenerator } from '../../src/net/tcp/isn.js';
import { TCP_ACK, TCP_PSH, TCP_RST, TCP_SYN } from '../../src/net/wire/tcp.js';
import { Tap, forgeTcp, tcpOf, type Seg } from './tap.js';
import { pattern } from './helpers.js';

const B = (port: number) => ({ family: AF_INET, addr: '10.0.0.2', port }) as const;
const A = (port: number) => ({ family: AF_INET, addr: '10.0.0.1', port }) as const;

interface TapPair {
  a: Tkl;
  b: Tkl;
  link: MemoryLink;
  tap: Tap;
}

/** Two kernels (a = 10.0.0.1, b = 10.0.0.2) with a capture on a's side of the link. */
function tapped(sim: SimHost, params: LinkParams = {}): TapPair {
  const a = bootWith(sim, { hostname: 'a' });
  const b = bootWith(sim, { hostname: 'b' });
  const link = new MemoryLink(sim, params);
  const tap = new Tap(link.a, sim);
  const ia = a.kernel.net.addInterface(tap);
  const ib = b.kernel.net.addInterface(link.b);
  a.kernel.net.addAddress(ia, '10.0.0.1/24');
  b.kernel.net.addAddress(ib, '10.0.0.2/24');
  a.kernel.net.setUp(ia, true);
  b.kernel.net.setUp(ib, true);
  return { a, b, link, tap };
}

async function connected(sim: SimHost, a: Tkl, b: Tkl, port = 80, lport = 0): Promise<{ c: number; s: number; l: number }> {
  const l = b.sys.socket(AF_INET, SOCK_STREAM, 0);
  b.sys.setsockopt(l, SOL_SOCKET, SO_REUSEADDR, 1);
  b.sys.bind(l, B(port));
  b.sys.listen(l, 8);
  const c = a.sys.socket(AF_INET, SOCK_STREAM, 0);
  if (lport) a.sys.bind(c, A(lport));
  const acc = b.sys.accept4(l, null, 0);
  await sim.runUntil(a.sys.connect(c, B(port)));
  return { c, s: await sim.runUntil(acc), l };
}

const info = (k: Tkl, fd: number): TcpInfo => k.sys.getsockopt(fd, SOL_TCP, TCP_INFO) as unknown as TcpInfo;
type At = Seg & { at: number };
const segs = (tap: Tap, dir: 'tx' | 'rx', from = 0): At[] =>
  tap.since(from).flatMap((c) => {
    const s = c.dir === dir ? tcpOf(c.frame) : null;
    return s === null ? [] : [{ ...s, at: c.at }];
  });

for (const timestamps of [false, true]) test(`delayed ACK (timestamps ${timestamps ? 'on' : 'off'}): one ACK for two full segments at once; a lone segment is ACKed when the 40 ms timer fires`, async () => {
  const sim = new SimHost({ seed: 41 });
  const { a, b, tap } = tapped(sim, { latency: 1e6 });
  // With timestamps a full segment carries 12 bytes less than the advertised MSS: the receiver
  // judges "full" by what it receives (Linux's rcv_mss), so two of them are still ACKed at once.
  a.kernel.net.tcp.timestamps = timestamps;
  b.kernel.net.tcp.timestamps = timestamps;
  const { c, s } = await connected(sim, a, b);
  sim.advance(1e9 as never);
  const mss = info(a, c).snd_mss;
  assert.equal(mss, timestamps ? 1448 : 1460);
  const mark = tap.frames.length;
  const t0 = sim.monotonic();
  await sim.runUntil(a.sys.write(c, pattern(2 * mss)));
  sim.advance(500e6 as never);
  const data = segs(tap, 'tx', mark).filter((x) => x.len > 0);
  assert.deepEqual(data.map((x) => x.len), [mss, mss], 'two full-sized segments');
  const acks = segs(tap, 'rx', mark);
  assert.equal(acks.length, 1, 'exactly one ACK for both (RFC 9293 §3.8.6.3: at least every second full segment)');
  assert.equal(acks[0]!.ack, (data[0]!.seq + 2 * mss) >>> 0);
  assert.ok(acks[0]!.at - t0 < 5e6, `ACKed at once: ${(acks[0]!.at - t0) / 1e6} ms`);
  await sim.runUntil(b.sys.read(s, new Uint8Array(4 * mss)));
  sim.advance(500e6 as never);
  // One segment alone waits for the delayed-ACK timer (Linux: 40 ms; RFC 9293: under 0.5 s).
  const mark2 = tap.frames.length;
  const t1 = sim.monotonic();
  await sim.runUntil(a.sys.write(c, pattern(mss)));
  sim.advance(500e6 as never);
  const acks2 = segs(tap, 'rx', mark2).filter((x) => x.len === 0);
  assert.ok(acks2.length >= 1);
  const delay = acks2[0]!.at - t1;
  assert.ok(delay >= 40e6 + 2e6 && delay < 200e6, `the ACK came after ${delay / 1e6} ms (2 ms round trip + delayed-ACK timer)`);
});

test('Nagle holds a small segment while data is unacknowledged; TCP_NODELAY sends it at once', async () => {
  for (const nodelay of [false, true]) {
    const sim = new SimHost({ seed: 42 });
    const { a, b, tap } = tapped(sim, { latency: 1e6 });
    const { c } = await connected(sim, a, b);
    if (nodelay) a.sys.setsockopt(c, SOL_TCP, TCP_NODELAY, 1);
    sim.advance(1e9 as never);
    const mark = tap.frames.length;
    const t0 = sim.monotonic();
    await sim.runUntil(a.sys.write(c, pattern(100, 1)));
    await sim.runUntil(a.sys.write(c, pattern(100, 2)));
    await sim.runUntil(a.sys.write(c, pattern(100, 3)));
    sim.advance(500e6 as never);
    const data = segs(tap, 'tx', mark).filter((x) => x.len > 0);
    if (nodelay) {
      assert.deepEqual(data.map((x) => [x.len, x.at - t0]), [[100, 0], [100, 0], [100, 0]], 'TCP_NODELAY: each write at once');
    } else {
      // The first goes out; the rest coalesce and wait for its ACK (delayed by b: ~42 ms).
      assert.equal(data.length, 2, `segments: ${data.map((x) => x.len)}`);
      assert.deepEqual([data[0]!.len, data[0]!.at - t0], [100, 0]);
      assert.equal(data[1]!.len, 200, 'the held writes went out together');
      const firstAck = segs(tap, 'rx', mark).find((x) => x.ack === ((data[0]!.seq + 100) >>> 0))!;
      assert.ok(firstAck, 'the first segment was ACKed');
      assert.ok(data[1]!.at >= firstAck.at, 'held until the ACK arrived');
      assert.ok(data[1]!.at - t0 >= 40e6);
    }
  }
});

test('the send buffer bounds unacknowledged data: a partitioned writer accepts at most SO_SNDBUF', async () => {
  const sim = new SimHost({ seed: 43 });
  const { a, b, tap, link } = tapped(sim, { latency: 1e6 });
  const { c } = await connected(sim, a, b);
  a.sys.setsockopt(c, SOL_SOCKET, SO_SNDBUF, 16384);
  const sndbuf = a.sys.getsockopt(c, SOL_SOCKET, SO_SNDBUF) as number;
  assert.equal(sndbuf, 32768);
  link.partition(true);
  const mark = tap.frames.length;
  let accepted = 0;
  for (;;) {
    const r = await sim.runUntil(a.sys.sendto(c, pattern(8192, accepted + 1), undefined, MSG_DONTWAIT).then((n) => n, (e: { code: string }) => e.code));
    if (r === 'EAGAIN') break;
    accepted += r as number;
    assert.ok(accepted <= sndbuf, `accepted ${accepted} > SO_SNDBUF ${sndbuf}`);
  }
  assert.ok(accepted >= sndbuf / 2, `accepted only ${accepted} of ${sndbuf}`);
  sim.advance(3e9 as never);
  const data = segs(tap, 'tx', mark).filter((x) => x.len > 0);
  const first = data[0]!.seq;
  const span = Math.max(...data.map((x) => ((x.seq - first) >>> 0) + x.len));
  assert.ok(span <= accepted, `sent ${span} bytes, more than the ${accepted} accepted`);
  const waiting = a.sys.write(c, new Uint8Array(10));
  link.partition(false);
  await sim.runUntil(waiting);
});

test('ISN per RFC 6528: unrelated across 4-tuples; the same 4-tuple later advances by the 4 µs clock', async () => {
  const sim = new SimHost({ seed: 44 });
  const { a, b, tap } = tapped(sim);
  const l = b.sys.socket(AF_INET, SOCK_STREAM, 0);
  b.sys.bind(l, B(80));
  b.sys.listen(l, 16);
  const synOf = (port: number, from: number): number => segs(tap, 'tx', from).find((x) => x.flags === TCP_SYN && x.sport === port)!.seq;
  const isns: number[] = [];
  const mark = tap.frames.length;
  for (let i = 0; i < 6; i++) {
    const c = a.sys.socket(AF_INET, SOCK_STREAM, 0);
    a.sys.bind(c, A(40000 + i));
    await sim.runUntil(a.sys.connect(c, B(80)));
    isns.push(synOf(40000 + i, mark));
  }
  // Same instant (no time passes on the sim host), different ports: the keyed hash alone
  // separates them — no two within 2^20 of each other (a counter would give neighbours).
  for (let i = 0; i < isns.length; i++) for (let j = i + 1; j < isns.length; j++) {
    const d = Math.min((isns[i]! - isns[j]!) >>> 0, (isns[j]! - isns[i]!) >>> 0);
    assert.ok(d > 1 << 20, `ISNs ${isns[i]} and ${isns[j]} are too close`);
  }
  // The same 4-tuple again 1 s later (the first closed with RST, so no TIME_WAIT): ISN + 250 000.
  const c1 = a.sys.socket(AF_INET, SOCK_STREAM, 0);
  a.sys.setsockopt(c1, SOL_SOCKET, SO_REUSEADDR, 1);
  a.sys.bind(c1, A(41000));
  let m = tap.frames.length;
  await sim.runUntil(a.sys.connect(c1, B(80)));
  const isn1 = synOf(41000, m);
  a.sys.setsockopt(c1, SOL_SOCKET, SO_LINGER, { onoff: 1, linger: 0 });
  a.sys.close(c1);
  sim.advance(1e9 as never);
  const c2 = a.sys.socket(AF_INET, SOCK_STREAM, 0);
  a.sys.setsockopt(c2, SOL_SOCKET, SO_REUSEADDR, 1);
  a.sys.bind(c2, A(41000));
  m = tap.frames.length;
  await sim.runUntil(a.sys.connect(c2, B(80)));
  const isn2 = synOf(41000, m);
  assert.equal((isn2 - isn1) >>> 0, 250_000, 'M advanced 1 s / 4 µs; F unchanged for the same 4-tuple');
  // The generator itself: F differs by key, M wraps modulo 2^32.
  const g1 = new IsnGenerator((x) => x.fill(1));
  const g2 = new IsnGenerator((x) => x.fill(2));
  assert.notEqual(g1.isn(1, 2, 3, 4, 0), g2.isn(1, 2, 3, 4, 0), 'a different secret key gives a different ISN');
  assert.equal((g1.isn(1, 2, 3, 4, 4000 * 2 ** 32 + 4000) - g1.isn(1, 2, 3, 4, 0)) >>> 0, 1, 'M is taken modulo 2^32');
});

/** An established a→b connection and b's latest pure ACK as a template for forged segments. */
async function forgeSetup(seed: number): Promise<TapPair & { sim: SimHost; c: number; s: number; tmpl: Uint8Array; rcvNxt: number; sndNxt: number }> {
  const sim = new SimHost({ seed });
  const p = tapped(sim);
  const { c, s } = await connected(sim, p.a, p.b);
  await sim.runUntil(p.a.sys.write(c, new Uint8Array(1)));
  await sim.runUntil(p.b.sys.read(s, new Uint8Array(1)));
  sim.advance(2e9 as never); // the delayed ACK, and a fresh challenge-ACK second
  const rx = p.tap.frames.filter((f) => f.dir === 'rx').map((f) => f.frame).filter((f) => tcpOf(f)?.flags === TCP_ACK);
  const tmpl = rx[rx.length - 1]!;
  const t = tcpOf(tmpl)!;
  return { ...p, sim, c, s, tmpl, rcvNxt: t.seq, sndNxt: t.ack };
}

test('RFC 5961 on the wire: in-window RST → challenge ACK on the link; out-of-window RST → silence', async () => {
  const p = await forgeSetup(45);
  const { sim, a, c, tap, tmpl, rcvNxt, sndNxt } = p;
  const challenges = a.kernel.net.stats.TcpExtTCPChallengeACK;
  let mark = tap.frames.length;
  tap.inject(forgeTcp(tmpl, rcvNxt + 1000, sndNxt, TCP_RST | TCP_ACK));
  sim.advance(1e6 as never);
  let out = segs(tap, 'tx', mark);
  assert.equal(out.length, 1, 'one challenge ACK');
  assert.equal(out[0]!.flags, TCP_ACK);
  assert.equal(out[0]!.seq, sndNxt);
  assert.equal(out[0]!.ack, rcvNxt, 'it carries RCV.NXT, so a real peer can send the exact RST');
  assert.equal(a.kernel.net.stats.TcpExtTCPChallengeACK, challenges + 1);
  assert.equal(info(a, c).stateName, 'ESTABLISHED');
  // Outside the receive window: dropped without a reply (RFC 5961 §3.2 step 1).
  mark = tap.frames.length;
  const wnd = info(a, c).rcv_wnd;
  tap.inject(forgeTcp(tmpl, rcvNxt + wnd + 100000, sndNxt, TCP_RST | TCP_ACK));
  tap.inject(forgeTcp(tmpl, rcvNxt - 100000, sndNxt, TCP_RST));
  sim.advance(1e6 as never);
  assert.equal(segs(tap, 'tx', mark).length, 0, 'nothing sent');
  assert.equal(a.kernel.net.stats.TcpExtTCPChallengeACK, challenges + 1);
  assert.equal(info(a, c).stateName, 'ESTABLISHED');
  // The exact RST resets (§3.2 step 2).
  tap.inject(forgeTcp(tmpl, rcvNxt, sndNxt, TCP_RST));
  assert.equal(info(a, c).stateName, 'CLOSE');
});

test('RFC 5961 §5.2: a segment whose ACK is outside [SND.UNA − MAX.SND.WND, SND.NXT] is dropped and answered', async () => {
  const p = await forgeSetup(46);
  const { sim, a, c, tap, tmpl, rcvNxt, sndNxt } = p;
  const evil = new TextEncoder().encode('injected');
  const challenges = a.kernel.net.stats.TcpExtTCPChallengeACK;
  // Too old: far below SND.UNA − MAX.SND.WND.
  let mark = tap.frames.length;
  tap.inject(forgeTcp(tmpl, rcvNxt, sndNxt - 0x40000000, TCP_ACK | TCP_PSH, evil));
  sim.advance(1e6 as never);
  let out = segs(tap, 'tx', mark);
  assert.equal(out.length, 1, 'a challenge ACK');
  assert.equal(out[0]!.ack, rcvNxt, 'the data was not accepted');
  assert.equal(a.kernel.net.stats.TcpExtTCPChallengeACK, challenges + 1);
  // Beyond SND.NXT: acknowledges data never sent — dropped, answered with an ACK.
  mark = tap.frames.length;
  tap.inject(forgeTcp(tmpl, rcvNxt, sndNxt + 100000, TCP_ACK | TCP_PSH, evil));
  sim.advance(1e6 as never);
  out = segs(tap, 'tx', mark);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.ack, rcvNxt);
  const code = await sim.runUntil(a.sys.recvfrom(c, new Uint8Array(64), undefined, MSG_DONTWAIT).then(() => 'read', (e: { code: string }) => e.code));
  assert.equal(code, 'EAGAIN', 'neither segment delivered data');
  // The same bytes with an acceptable ACK are delivered: the ACK field alone made the difference.
  tap.inject(forgeTcp(tmpl, rcvNxt, sndNxt, TCP_ACK | TCP_PSH, evil));
  const buf = new Uint8Array(64);
  const n = await sim.runUntil(a.sys.recvfrom(c, buf, undefined, MSG_DONTWAIT));
  assert.equal(new TextDecoder().decode(buf.subarray(0, n)), 'injected');
});

test('challenge ACKs are limited to 1000 per second per stack (tcp_challenge_ack_limit)', async () => {
  const p = await forgeSetup(47);
  const { sim, a, tap, tmpl, rcvNxt, sndNxt } = p;
  // Start at a fresh second.
  sim.advance((1e9 - (sim.monotonic() % 1e9) + 1e6) as never);
  const mark = tap.frames.length;
  const before = a.kernel.net.stats.TcpExtTCPChallengeACK;
  for (let i = 0; i < 1500; i++) tap.inject(forgeTcp(tmpl, rcvNxt + 1 + i, sndNxt, TCP_RST));
  sim.advance(10e6 as never);
  assert.equal(segs(tap, 'tx', mark).length, 1000, '1000 challenge ACKs on the link, then silence');
  assert.equal(a.kernel.net.stats.TcpExtTCPChallengeACK, before + 1000);
  sim.advance(1e9 as never);
  const m2 = tap.frames.length;
  tap.inject(forgeTcp(tmpl, rcvNxt + 5, sndNxt, TCP_RST));
  sim.advance(1e6 as never);
  assert.equal(segs(tap, 'tx', m2).length, 1, 'the next second allows more');
});

/** Linux's results for SO_SNDBUF/SO_RCVBUF = v (wmem_max = rmem_max = 4 MiB): [v, sndbuf, rcvbuf]. */
const LINUX_BUFS: [number, number, number][] = [
  [0, 4608, 2304], [1, 4608, 2304], [1000, 4608, 2304], [2304, 4608, 4608], [4608, 9216, 9216], [65536, 131072, 131072],
  [100000, 200000, 200000], [300000, 600000, 600000], [8 << 20, 8 << 20, 8 << 20], [-1, 8 << 20, 8 << 20],
];

test('SO_SNDBUF/SO_RCVBUF: doubled, at least SOCK_MIN_SNDBUF/RCVBUF, capped by wmem_max/rmem_max ×2', async (t) => {
  const sim = new SimHost({ seed: 48 });
  const k = bootWith(sim, {});
  const got: [number, number, number][] = [];
  for (const [domain, type] of [[AF_INET, SOCK_STREAM], [AF_INET, SOCK_DGRAM], [AF_UNIX, SOCK_STREAM]] as const) {
    for (const [v] of LINUX_BUFS) {
      const fd = k.sys.socket(domain, type, 0);
      k.sys.setsockopt(fd, SOL_SOCKET, SO_SNDBUF, v);
      k.sys.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, v);
      got.push([v, k.sys.getsockopt(fd, SOL_SOCKET, SO_SNDBUF) as number, k.sys.getsockopt(fd, SOL_SOCKET, SO_RCVBUF) as number]);
      k.sys.close(fd);
    }
  }
  assert.deepEqual(got, [...LINUX_BUFS, ...LINUX_BUFS, ...LINUX_BUFS]);
  // And against the kernel this runs on, where its limits are the ones tkl assumes.
  const py = `import socket\nfor v in ${JSON.stringify(LINUX_BUFS.map((x) => x[0]))}:\n s=socket.socket()\n s.setsockopt(1,7,v); s.setsockopt(1,8,v)\n print(v, s.getsockopt(1,7), s.getsockopt(1,8))`;
  const r = spawnSync('python3', ['-c', py], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return t.skip('python3 is not available to ask the host kernel');
  const limits = spawnSync('cat', ['/proc/sys/net/core/wmem_max', '/proc/sys/net/core/rmem_max'], { encoding: 'utf8' }).stdout.split('\n');
  if (limits[0] !== String(4 << 20) || limits[1] !== String(4 << 20)) return t.skip(`the host's wmem_max/rmem_max (${limits[0]}/${limits[1]}) differ from Linux's 4 MiB that tkl models`);
  const host = r.stdout.trim().split('\n').map((l) => l.split(' ').map(Number));
  assert.deepEqual(host, LINUX_BUFS);
});
