// TCP behaviour by the RFCs, on the sim host between two kernels: refused connections,
// simultaneous open and close, RST rules (RFC 5961 challenge ACKs), TIME_WAIT and
// SO_REUSEADDR, SO_LINGER 0, the listen backlog, zero-window probing, keepalive, half-close,
// timeouts, and the options negotiated (MSS, window scale, timestamps, SACK).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimHost } from '../../src/host/sim/sim_host.js';
import type { Tkl } from '../../src/api/boot.js';
import { AF_INET } from '../../src/net/socket/sockaddr.js';
import {
  SHUT_WR, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET, SOL_TCP, SO_ERROR, SO_KEEPALIVE, SO_LINGER, SO_RCVBUF, SO_REUSEADDR, TCP_INFO, TCP_KEEPCNT,
  TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_NODELAY,
} from '../../src/abi/linux/socket.js';
import type { TcpInfo } from '../../src/net/tcp/tcp_socket.js';
import { TcpSocket } from '../../src/net/tcp/tcp_socket.js';
import { linkedPair, pattern } from './helpers.js';

const B = (port: number) => ({ family: AF_INET, addr: '10.0.0.2', port }) as const;
const A = (port: number) => ({ family: AF_INET, addr: '10.0.0.1', port }) as const;

async function connected(sim: SimHost, a: Tkl, b: Tkl, port = 80): Promise<{ c: number; s: number; l: number }> {
  const l = b.sys.socket(AF_INET, SOCK_STREAM, 0);
  b.sys.bind(l, B(port));
  b.sys.listen(l, 8);
  const c = a.sys.socket(AF_INET, SOCK_STREAM, 0);
  const acc = b.sys.accept4(l, null, 0);
  await sim.runUntil(a.sys.connect(c, B(port)));
  const s = await sim.runUntil(acc);
  return { c, s, l };
}

/** Drives `p` to completion and returns what it rejected with (SimHost.runUntil reports rejections late). */
async function failure(sim: SimHost, p: Promise<unknown>): Promise<{ code?: string }> {
  const r = await sim.runUntil(p.then(() => ({ code: 'no error' }), (e: { code?: string }) => e));
  return r;
}

function info(k: Tkl, fd: number): TcpInfo {
  return k.sys.getsockopt(fd, SOL_TCP, TCP_INFO) as unknown as TcpInfo;
}

test('connect to a closed port: RST, ECONNREFUSED', async () => {
  const sim = new SimHost({ seed: 1 });
  const { a } = linkedPair(sim);
  const c = a.sys.socket(AF_INET, SOCK_STREAM, 0);
  assert.equal((await failure(sim, a.sys.connect(c, B(9)))).code, 'ECONNREFUSED');
});

test('non-blocking connect: EINPROGRESS, then POLLOUT and SO_ERROR 0', async () => {
  const sim = new SimHost({ seed: 2 });
  const { a, b } = linkedPair(sim, { latency: 1e6 });
  const l = b.sys.socket(AF_INET, SOCK_STREAM, 0);
  b.sys.bind(l, B(81));
  b.sys.listen(l, 1);
  const c = a.sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  await assert.rejects(a.sys.connect(c, B(81)), { code: 'EINPROGRESS' });
  const fds = [{ fd: c, events: 4, revents: 0 }];
  assert.equal(await sim.runUntil(a.sys.poll(fds, 1000)), 1);
  assert.equal(fds[0]!.revents & 4, 4);
  assert.equal(a.sys.getsockopt(c, SOL_SOCKET, SO_ERROR), 0);
  assert.equal(info(a, c).stateName, 'ESTABLISHED');
});

test('options: MSS from the MTU, window scaling, timestamps and SACK negotiated', async () => {
  const sim = new SimHost({ seed: 3 });
  const { a, b } = linkedPair(sim, { mtu: 9000 });
  const { c, s } = await connected(sim, a, b);
  const i = info(a, c);
  assert.equal(i.options.timestamps, true);
  assert.equal(i.options.sack, true);
  assert.equal(i.options.wscale, true);
  assert.equal(i.snd_wscale, 7);
  assert.equal(i.snd_mss, 9000 - 40 - 12, 'MSS minus the timestamp option');
  assert.equal(info(b, s).advmss, 8960);
  assert.equal(info(b, s).rcv_mss, 536, 'nothing received yet: the default estimate, as Linux reports');
});

test('simultaneous open (RFC 9293 §3.5 figure 8): both sides end ESTABLISHED', async () => {
  const sim = new SimHost({ seed: 4 });
  const { a, b } = linkedPair(sim, { latency: 5e6 });
  const x = a.sys.socket(AF_INET, SOCK_STREAM, 0);
  const y = b.sys.socket(AF_INET, SOCK_STREAM, 0);
  a.sys.bind(x, A(5000));
  b.sys.bind(y, B(6000));
  const p1 = a.sys.connect(x, B(6000));
  const p2 = b.sys.connect(y, A(5000));
  await sim.runUntil(Promise.all([p1, p2]));
  assert.equal(info(a, x).stateName, 'ESTABLISHED');
  assert.equal(info(b, y).stateName, 'ESTABLISHED');
  await sim.runUntil(a.sys.write(x, new TextEncoder().encode('hi')));
  const buf = new Uint8Array(8);
  assert.equal(await sim.runUntil(b.sys.read(y, buf)), 2);
});

test('simultaneous close: both FIN_WAIT1 → CLOSING → TIME_WAIT, then gone after 60 s', async () => {
  const sim = new SimHost({ seed: 5 });
  const { a, b } = linkedPair(sim, { latency: 5e6 });
  const { c, s } = await connected(sim, a, b);
  a.sys.shutdown(c, SHUT_WR);
  b.sys.shutdown(s, SHUT_WR);
  sim.advance(100e6 as never);
  assert.equal(info(a, c).stateName, 'TIME_WAIT');
  assert.equal(info(b, s).stateName, 'TIME_WAIT');
  sim.advance(61e9 as never);
  assert.equal(info(a, c).stateName, 'CLOSE');
});

test('half-close: the side that shut down keeps reading until the peer finishes', async () => {
  const sim = new SimHost({ seed: 6 });
  const { a, b } = linkedPair(sim);
  const { c, s } = await connected(sim, a, b);
  a.sys.shutdown(c, SHUT_WR);
  const buf = new Uint8Array(16);
  assert.equal(await sim.runUntil(b.sys.read(s, buf)), 0, 'EOF at the server');
  await sim.runUntil(b.sys.write(s, new TextEncoder().encode('late reply')));
  assert.equal(await sim.runUntil(a.sys.read(c, buf)), 10);
  await assert.rejects(a.sys.write(c, new Uint8Array(1)), { code: 'EPIPE' });
  assert.equal(info(b, s).stateName, 'CLOSE_WAIT');
  b.sys.close(s);
  sim.advance(10e6 as never);
  assert.equal(info(a, c).stateName, 'TIME_WAIT');
});

test('SO_LINGER {1, 0}: close sends RST, the peer reads ECONNRESET', async () => {
  const sim = new SimHost({ seed: 7 });
  const { a, b } = linkedPair(sim);
  const { c, s } = await connected(sim, a, b);
  a.sys.setsockopt(c, SOL_SOCKET, SO_LINGER, { onoff: 1, linger: 0 });
  const rsts = a.kernel.net.stats.TcpOutRsts;
  a.sys.close(c);
  assert.equal(a.kernel.net.stats.TcpOutRsts, rsts + 1);
  assert.equal((await failure(sim, b.sys.read(s, new Uint8Array(4)))).code, 'ECONNRESET');
});

test('close with unread data sends RST (RFC 9293 §3.10.4 / Linux)', async () => {
  const sim = new SimHost({ seed: 8 });
  const { a, b } = linkedPair(sim);
  const { c, s } = await connected(sim, a, b);
  await sim.runUntil(a.sys.write(c, new Uint8Array(100)));
  sim.advance(1e6 as never);
  b.sys.close(s);
  sim.advance(1e6 as never);
  assert.equal((await failure(sim, a.sys.read(c, new Uint8Array(4)))).code, 'ECONNRESET');
});

test('RFC 5961: an in-window RST that is not exact gets a challenge ACK, not a reset', async () => {
  const sim = new SimHost({ seed: 9 });
  const { a, b } = linkedPair(sim);
  const { c } = await connected(sim, a, b);
  const sk = [...a.kernel.net.tcp.connections()].find((x) => x.localPort !== 80)!;
  assert.ok(sk instanceof TcpSocket);
  const before = a.kernel.net.stats.TcpExtTCPChallengeACK;
  // Forge segments "from b" into a's stack: RST at rcv.nxt + 1000, then a SYN.
  const seg = a.kernel.net.tcp.rx;
  seg.resetOptions();
  seg.srcPort = sk.remotePort;
  seg.dstPort = sk.localPort;
  seg.seq = (sk.rcvNxt + 1000) >>> 0;
  seg.ack = sk.sndNxt;
  seg.flags = 0x04;
  seg.window = 100;
  sk.segmentArrived(seg, new Uint8Array(0), 0, 0, sim.monotonic());
  assert.equal(info(a, c).stateName, 'ESTABLISHED', 'not reset');
  seg.seq = sk.rcvNxt;
  seg.flags = 0x02;
  sk.segmentArrived(seg, new Uint8Array(0), 0, 0, sim.monotonic());
  assert.equal(info(a, c).stateName, 'ESTABLISHED', 'SYN does not reset either');
  assert.equal(a.kernel.net.stats.TcpExtTCPChallengeACK, before + 2);
  seg.flags = 0x04;
  seg.seq = sk.rcvNxt;
  sk.segmentArrived(seg, new Uint8Array(0), 0, 0, sim.monotonic());
  assert.equal(info(a, c).stateName, 'CLOSE', 'an exact RST resets');
});

test('TIME_WAIT holds the port: bind fails without SO_REUSEADDR, works with it', async () => {
  const sim = new SimHost({ seed: 10 });
  const { a, b } = linkedPair(sim);
  const c = a.sys.socket(AF_INET, SOCK_STREAM, 0);
  a.sys.bind(c, A(7000));
  const l = b.sys.socket(AF_INET, SOCK_STREAM, 0);
  b.sys.bind(l, B(80));
  b.sys.listen(l, 1);
  const acc = b.sys.accept4(l, null, 0);
  await sim.runUntil(a.sys.connect(c, B(80)));
  const s = await sim.runUntil(acc);
  a.sys.close(c); // active close: a ends in TIME_WAIT
  sim.advance(1e6 as never);
  b.sys.close(s);
  sim.advance(1e6 as never);
  const d = a.sys.socket(AF_INET, SOCK_STREAM, 0);
  assert.throws(() => a.sys.bind(d, A(7000)), { code: 'EADDRINUSE' });
  a.sys.setsockopt(d, SOL_SOCKET, SO_REUSEADDR, 1);
  a.sys.bind(d, A(7000));
  // Two listeners on one port are refused even with SO_REUSEADDR.
  const l2 = b.sys.socket(AF_INET, SOCK_STREAM, 0);
  b.sys.setsockopt(l2, SOL_SOCKET, SO_REUSEADDR, 1);
  assert.throws(() => b.sys.bind(l2, B(80)), { code: 'EADDRINUSE' });
});

test('listen backlog: connections beyond it stay half-open (ACK ignored) until accept makes room', async () => {
  const sim = new SimHost({ seed: 11 });
  const { a, b } = linkedPair(sim, { latency: 1e6 });
  const l = b.sys.socket(AF_INET, SOCK_STREAM, 0);
  b.sys.bind(l, B(80));
  b.sys.listen(l, 1);
  const cs = [0, 1, 2, 3].map(() => a.sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
  for (const c of cs) await assert.rejects(a.sys.connect(c, B(80)), { code: 'EINPROGRESS' });
  sim.advance(50e6 as never);
  assert.ok(b.kernel.net.stats.TcpExtListenOverflows > 0, 'the queue overflowed');
  for (let i = 0; i < 4; i++) await sim.runUntil(b.sys.accept4(l, null, 0));
});

test('zero window: the sender probes and resumes when the reader drains', async () => {
  const sim = new SimHost({ seed: 12 });
  const { a, b } = linkedPair(sim, { latency: 1e6 });
  const l = b.sys.socket(AF_INET, SOCK_STREAM, 0);
  b.sys.setsockopt(l, SOL_SOCKET, SO_RCVBUF, 16384);
  b.sys.bind(l, B(80));
  b.sys.listen(l, 1);
  const c = a.sys.socket(AF_INET, SOCK_STREAM, 0);
  const acc = b.sys.accept4(l, null, 0);
  await sim.runUntil(a.sys.connect(c, B(80)));
  const s = await sim.runUntil(acc);
  const data = pattern(200000, 3);
  const w = a.sys.write(c, data);
  sim.advance(30e9 as never);
  assert.ok(info(b, s).rcv_wnd < 1460, 'the window closed');
  assert.ok(info(a, c).snd_wnd < 1460);
  assert.ok(a.kernel.net.stats.TcpExtTCPWinProbe > 0, 'zero-window probes went out');
  const got = new Uint8Array(data.length);
  let at = 0;
  while (at < data.length) at += await sim.runUntil(b.sys.read(s, got.subarray(at)));
  await sim.runUntil(w);
  assert.ok(Buffer.from(got).equals(Buffer.from(data)));
});

test('keepalive: a dead peer is detected after idle + count × interval (ETIMEDOUT)', async () => {
  const sim = new SimHost({ seed: 13 });
  const { a, b, link } = linkedPair(sim);
  const { c } = await connected(sim, a, b);
  a.sys.setsockopt(c, SOL_TCP, TCP_KEEPIDLE, 10);
  a.sys.setsockopt(c, SOL_TCP, TCP_KEEPINTVL, 2);
  a.sys.setsockopt(c, SOL_TCP, TCP_KEEPCNT, 3);
  a.sys.setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, 1);
  sim.advance(30e9 as never);
  assert.equal(info(a, c).stateName, 'ESTABLISHED', 'the live peer answers probes');
  link.partition(true);
  sim.advance(60e9 as never);
  assert.equal(info(a, c).stateName, 'CLOSE');
  await assert.rejects(a.sys.read(c, new Uint8Array(1)), { code: 'ETIMEDOUT' });
});

test('retransmission timeout with backoff: a partitioned link times out the connection', async () => {
  const sim = new SimHost({ seed: 14 });
  const { a, b, link } = linkedPair(sim);
  const { c } = await connected(sim, a, b);
  link.partition(true);
  a.sys.setsockopt(c, SOL_TCP, TCP_NODELAY, 1);
  await sim.runUntil(a.sys.write(c, new Uint8Array(10)));
  sim.advance(5e9 as never);
  const i = info(a, c);
  assert.ok(i.rto > 1_000_000, `RTO backed off (${i.rto} µs)`);
  assert.ok(i.total_retrans >= 3);
  sim.advance(3600e9 as never);
  await assert.rejects(a.sys.read(c, new Uint8Array(1)), { code: 'ETIMEDOUT' });
});

test('connect to an unreachable neighbour: ARP fails, EHOSTUNREACH', async () => {
  const sim = new SimHost({ seed: 15 });
  const { a } = linkedPair(sim);
  const c = a.sys.socket(AF_INET, SOCK_STREAM, 0);
  assert.equal((await failure(sim, a.sys.connect(c, { family: AF_INET, addr: '10.0.0.77', port: 80 }))).code, 'EHOSTUNREACH');
  const d = a.sys.socket(AF_INET, SOCK_STREAM, 0);
  assert.equal((await failure(sim, a.sys.connect(d, { family: AF_INET, addr: '192.168.5.5', port: 80 }))).code, 'ENETUNREACH');
});

/** a's end of the one connection on port 80, with forging helpers for segments "from b". */
async function pawsSetup(seed: number) {
  const sim = new SimHost({ seed });
  const { a, b, link } = linkedPair(sim, { latency: 1e6 });
  const { c } = await connected(sim, a, b);
  // Let TS.Recent settle on b's latest timestamp, then cut the link so only forged segments arrive.
  // (b's ACK of one byte also replaces the SYN-ACK's unscaled window with a scaled one).
  a.sys.setsockopt(c, SOL_TCP, TCP_NODELAY, 1);
  await sim.runUntil(a.sys.write(c, new Uint8Array(1)));
  sim.advance(100e6 as never);
  link.partition(true);
  const sk = [...a.kernel.net.tcp.connections()].find((x) => x.localPort !== 80)!;
  assert.ok(sk instanceof TcpSocket && sk.tsOk && sk.sackOk);
  const stats = a.kernel.net.stats;
  const seg = a.kernel.net.tcp.rx;
  /** Delivers a forged segment and returns how many segments a sent in reply. */
  const deliver = (set: (s: typeof seg) => void, data = new Uint8Array(0)): number => {
    seg.resetOptions();
    seg.srcPort = sk.remotePort;
    seg.dstPort = sk.localPort;
    seg.seq = sk.rcvNxt;
    seg.ack = sk.sndUna;
    seg.flags = 0x10;
    seg.window = sk.sndWnd >>> sk.sndScale;
    seg.tsPresent = true;
    seg.tsEcr = 0;
    set(seg);
    const out = stats.TcpOutSegs;
    sk.segmentArrived(seg, data, 0, data.length, sim.monotonic());
    return stats.TcpOutSegs - out;
  };
  return { sim, a, c, sk, stats, deliver };
}

test('PAWS (RFC 7323 §5.3): an old-timestamp data segment is dropped with one ACK; a burst gets one ACK per 500 ms', async () => {
  const { sim, a, c, sk, stats, deliver } = await pawsSetup(20);
  const rcvNxt = sk.rcvNxt;
  const paws = stats.TcpExtPAWSEstab;
  const old = (s: { tsVal: number }) => { s.tsVal = (sk.tsRecent - 1) >>> 0; };
  assert.equal(deliver(old, new Uint8Array(100)), 1, 'the first is answered');
  assert.equal(sk.rcvNxt, rcvNxt, 'and its data dropped');
  let replies = 0;
  for (let i = 0; i < 20; i++) {
    sim.advance(10e6 as never);
    replies += deliver(old, new Uint8Array(100));
  }
  assert.equal(replies, 0, 'a burst within 500 ms of the first reply is not answered');
  assert.equal(stats.TcpExtPAWSEstab, paws + 21);
  assert.equal(stats.TcpExtTCPACKSkippedPAWS, 20);
  sim.advance(400e6 as never);
  assert.equal(deliver(old, new Uint8Array(100)), 1, 'after 500 ms one more is answered');
  assert.equal(sk.rcvNxt, rcvNxt);
  assert.equal(info(a, c).stateName, 'ESTABLISHED');
});

test('PAWS: a reordered duplicate ACK (TSval just behind TS.Recent) is accepted and its SACK blocks counted', async () => {
  const { sim, a, c, sk, stats, deliver } = await pawsSetup(21);
  // Data outstanding (the link is cut): SACK blocks above SND.UNA are meaningful.
  await sim.runUntil(a.sys.write(c, pattern(20000)));
  assert.ok(sk.sndMax - sk.sndUna >= 10000);
  const tsRecent = sk.tsRecent;
  const paws = stats.TcpExtPAWSEstab;
  const mss = sk.mss;
  const sndMax = sk.sndMax;
  deliver((s) => {
    s.tsVal = (tsRecent - 3) >>> 0;
    s.sackCount = 1;
    s.sack[0] = (sk.sndUna + mss) >>> 0;
    s.sack[1] = (sk.sndUna + 3 * mss) >>> 0;
  });
  assert.equal(stats.TcpExtPAWSEstab, paws, 'not counted as a PAWS failure');
  assert.ok(sk.sndMax - sndMax > 0, 'taken as a duplicate ACK: limited transmit (RFC 3042) sends new data');
  assert.equal(sk.sackedBytes, 2 * mss, 'its SACK block is on the scoreboard');
  assert.equal(sk.tsRecent, tsRecent, 'TS.Recent does not move backwards');
});

test('PAWS: a duplicate ACK with a very old or wrapped TSval, or one that changes the window, is still dropped', async () => {
  const { sim, a, c, sk, stats, deliver } = await pawsSetup(22);
  await sim.runUntil(a.sys.write(c, pattern(20000)));
  const mss = sk.mss;
  const sack = (s: { sackCount: number; sack: Uint32Array }) => {
    s.sackCount = 1;
    s.sack[0] = (sk.sndUna + mss) >>> 0;
    s.sack[1] = (sk.sndUna + 3 * mss) >>> 0;
  };
  const paws = stats.TcpExtPAWSEstab;
  // Far more than one RTO (ms ticks) behind, and half the timestamp space behind (wrapped).
  deliver((s) => { s.tsVal = (sk.tsRecent - 60_000) >>> 0; sack(s); });
  deliver((s) => { s.tsVal = (sk.tsRecent - 0x7fff0000) >>> 0; sack(s); });
  // Just behind, but it would shrink the window: not a plain duplicate ACK.
  deliver((s) => { s.tsVal = (sk.tsRecent - 1) >>> 0; s.window = (sk.sndWnd >>> sk.sndScale) - 100; sack(s); });
  // Just behind, but not at RCV.NXT.
  deliver((s) => { s.tsVal = (sk.tsRecent - 1) >>> 0; s.seq = (sk.rcvNxt + 10) >>> 0; sack(s); });
  assert.equal(stats.TcpExtPAWSEstab, paws + 4);
  assert.equal(sk.sackedBytes, 0, 'no SACK information taken from them');
});

test('PAWS: an RST is acceptable whatever its timestamp (RFC 7323 §5.3 R1 note)', async () => {
  const { a, c, sk, deliver } = await pawsSetup(23);
  deliver((s) => { s.tsVal = (sk.tsRecent - 60_000) >>> 0; s.flags = 0x04; });
  assert.equal(info(a, c).stateName, 'CLOSE');
});
