// Network benchmarks, side by side in one run: TCP throughput between two tkl kernels in
// one process over the in-memory link (MTU 1500 and 65535) next to Linux↔Linux iperf3 over
// veth; tkl→Linux TCP over TAP (offload on and off); UDP 1024-byte round trips (median, p99) and packets/s, tkl
// in-process vs Node dgram and iperf3 over veth. Linux peers run in namespaces made here. The
// in-memory link offloads checksums and TCP segmentation as veth does; one case turns the
// segmentation offloads off on both sides.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext, BenchRow } from './harness.js';
import { boot, type Tkl } from '../src/index.js';
import { MemoryLink } from '../src/drivers/net/memory_link.js';
import { TapDevice, tapAddon } from '../src/drivers/net/tap.js';
import { AF_INET } from '../src/net/socket/sockaddr.js';
import { SHUT_WR, SOCK_DGRAM, SOCK_STREAM } from '../src/abi/linux/socket.js';
import { run, start, missingForNetns, sh } from '../test/interop/netns.js';

const MiB = 1 << 20;

function pair(mtu: number, segmentationOffload = true): { a: Tkl; b: Tkl } {
  const a = boot({ hostname: 'a' });
  const b = boot({ hostname: 'b' });
  const link = new MemoryLink(a.kernel.host, { mtu, segmentationOffload });
  const ia = a.kernel.net.addInterface(link.a);
  const ib = b.kernel.net.addInterface(link.b);
  a.kernel.net.addAddress(ia, '10.0.0.1/24');
  b.kernel.net.addAddress(ib, '10.0.0.2/24');
  a.kernel.net.setUp(ia, true);
  b.kernel.net.setUp(ib, true);
  return { a, b };
}

/** Bytes a → b over TCP; returns Gbit/s. */
export async function tklTcp(mtu: number, bytes: number, segmentationOffload = true): Promise<number> {
  const { a, b } = pair(mtu, segmentationOffload);
  const l = b.sys.socket(AF_INET, SOCK_STREAM, 0);
  b.sys.bind(l, { family: AF_INET, addr: '10.0.0.2', port: 5001 });
  b.sys.listen(l, 1);
  const acc = b.sys.accept4(l, null, 0);
  const c = a.sys.socket(AF_INET, SOCK_STREAM, 0);
  await a.sys.connect(c, { family: AF_INET, addr: '10.0.0.2', port: 5001 });
  const s = await acc;
  const block = new Uint8Array(4 * MiB);
  const t0 = process.hrtime.bigint();
  const writer = (async () => {
    for (let done = 0; done < bytes; done += block.length) await a.sys.write(c, block);
    a.sys.shutdown(c, SHUT_WR);
  })();
  const buf = new Uint8Array(4 * MiB);
  let got = 0;
  for (;;) {
    const n = await b.sys.read(s, buf);
    if (n === 0) break;
    got += n;
  }
  await writer;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  a.sys.close(c);
  b.sys.close(s);
  return (got * 8) / secs / 1e9;
}

/** UDP ping-pong of 1024-byte datagrams: RTTs in µs. */
export async function tklUdpRtt(count: number): Promise<number[]> {
  const { a, b } = pair(1500);
  const srv = b.sys.socket(AF_INET, SOCK_DGRAM, 0);
  b.sys.bind(srv, { family: AF_INET, addr: '10.0.0.2', port: 7 });
  const cli = a.sys.socket(AF_INET, SOCK_DGRAM, 0);
  const echo = (async () => {
    const buf = new Uint8Array(2048);
    const from = {} as { family: 2; addr: string; port: number };
    for (let i = 0; i < count + 100; i++) {
      const n = await b.sys.recvfrom(srv, buf, undefined, 0, from);
      await b.sys.sendto(srv, buf.subarray(0, n), undefined, 0, from);
    }
  })();
  const msg = new Uint8Array(1024);
  const buf = new Uint8Array(2048);
  const to = { family: AF_INET, addr: '10.0.0.2', port: 7 } as const;
  const rtts: number[] = [];
  for (let i = 0; i < count + 100; i++) {
    const t0 = process.hrtime.bigint();
    await a.sys.sendto(cli, msg, undefined, 0, to);
    await a.sys.recvfrom(cli, buf);
    if (i >= 100) rtts.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  await echo;
  return rtts;
}

/** 1024-byte datagrams a → b as fast as the receiver takes them: packets/s received. */
export async function tklUdpPps(count: number): Promise<number> {
  const { a, b } = pair(1500);
  const srv = b.sys.socket(AF_INET, SOCK_DGRAM, 0);
  b.sys.bind(srv, { family: AF_INET, addr: '10.0.0.2', port: 9 });
  const cli = a.sys.socket(AF_INET, SOCK_DGRAM, 0);
  const msg = new Uint8Array(1024);
  const to = { family: AF_INET, addr: '10.0.0.2', port: 9 } as const;
  let got = 0;
  const buf = new Uint8Array(2048);
  const t0 = process.hrtime.bigint();
  const reader = (async () => {
    for (;;) {
      await b.sys.recvfrom(srv, buf);
      if (++got === count) return;
    }
  })();
  // Send in bursts the receive buffer can hold, yielding so the receiver runs.
  for (let i = 0; i < count; i += 128) {
    for (let j = 0; j < 128 && i + j < count; j++) await a.sys.sendto(cli, msg, undefined, 0, to);
    await new Promise((r) => setImmediate(r));
  }
  await Promise.race([reader, new Promise((r) => setTimeout(r, 5000))]);
  return got / (Number(process.hrtime.bigint() - t0) / 1e9);
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/**
 * Two namespaces joined by veth (MTU `mtu`): 10.201.0.1 and 10.201.0.2. `noOffload` turns
 * veth's segmentation offloads (TSO, GSO, GRO) off on both ends, so every frame is MTU-sized.
 */
function vethPair(tag: string, mtu: number, noOffload = false): { n1: string; n2: string; cleanup(): void } {
  const n1 = `tkb1${tag}${process.pid}`;
  const n2 = `tkb2${tag}${process.pid}`;
  const cmds = [
    `ip netns add ${n1}`, `ip netns add ${n2}`,
    `ip link add vb1 netns ${n1} mtu ${mtu} type veth peer name vb2 netns ${n2} mtu ${mtu}`,
    `ip -n ${n1} addr add 10.201.0.1/24 dev vb1`, `ip -n ${n2} addr add 10.201.0.2/24 dev vb2`,
    `ip -n ${n1} link set vb1 up`, `ip -n ${n2} link set vb2 up`, `ip -n ${n1} link set lo up`, `ip -n ${n2} link set lo up`,
  ];
  if (noOffload) for (const [ns, dev] of [[n1, 'vb1'], [n2, 'vb2']]) cmds.push(`ip netns exec ${ns} ethtool -K ${dev} tso off gso off gro off`);
  for (const c of cmds) {
    const r = sh(c);
    if (r.code !== 0) {
      sh(`ip netns del ${n1}; ip netns del ${n2}`);
      throw new Error(`${c}: ${r.stderr}`);
    }
  }
  return { n1, n2, cleanup: () => void sh(`ip netns del ${n1}; ip netns del ${n2}`) };
}

async function iperf3(mtu: number, secs: number, udp: boolean, noOffload = false): Promise<{ gbps: number; pps: number } | null> {
  const v = vethPair(udp ? 'u' : noOffload ? 'o' : 't', mtu, noOffload);
  try {
    const srv = start('ip', ['netns', 'exec', v.n2, 'iperf3', '-s', '-1', '-B', '10.201.0.2'], 60_000);
    await new Promise((r) => setTimeout(r, 300));
    const args = ['netns', 'exec', v.n1, 'iperf3', '-c', '10.201.0.2', '-t', String(secs), '-J'];
    if (udp) args.push('-u', '-l', '1024', '-b', '0');
    const r = await run('ip', args, (secs + 20) * 1000);
    srv.kill();
    if (r.code !== 0) return null;
    const j = JSON.parse(r.stdout) as { end: { sum_received?: { bits_per_second: number }; sum?: { bits_per_second: number; packets?: number; seconds?: number; lost_packets?: number } } };
    if (udp) {
      const s = j.end.sum!;
      return { gbps: s.bits_per_second / 1e9, pps: ((s.packets ?? 0) - (s.lost_packets ?? 0)) / (s.seconds ?? secs) };
    }
    return { gbps: j.end.sum_received!.bits_per_second / 1e9, pps: 0 };
  } finally {
    v.cleanup();
  }
}

const NODE_ECHO = `
const dgram = require('node:dgram');
const mode = process.argv[2];
if (mode === 'server') {
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => s.send(m, r.port, r.address));
  s.bind(7, '10.201.0.2', () => console.log('ready'));
} else {
  const s = dgram.createSocket('udp4');
  const n = Number(process.argv[3]);
  const msg = Buffer.alloc(1024);
  const rtts = [];
  let i = 0, t0 = 0n;
  s.on('message', () => {
    if (i >= 100) rtts.push(Number(process.hrtime.bigint() - t0) / 1e3);
    if (++i === n + 100) { console.log(JSON.stringify(rtts)); s.close(); return; }
    t0 = process.hrtime.bigint(); s.send(msg, 7, '10.201.0.2');
  });
  s.bind(0, '10.201.0.1', () => { t0 = process.hrtime.bigint(); s.send(msg, 7, '10.201.0.2'); });
}`;

async function nodeDgramRtt(dir: string, count: number): Promise<number[] | null> {
  const v = vethPair('d', 1500);
  const f = join(dir, 'echo.cjs');
  writeFileSync(f, NODE_ECHO);
  try {
    const srv = start('ip', ['netns', 'exec', v.n2, process.execPath, f, 'server'], 60_000);
    if ((await srv.ready) !== 'ready') return null;
    const r = await run('ip', ['netns', 'exec', v.n1, process.execPath, f, 'client', String(count)], 60_000);
    srv.kill();
    if (r.code !== 0) return null;
    return JSON.parse(r.stdout) as number[];
  } finally {
    v.cleanup();
  }
}

/** tkl sends `bytes` over a TAP to a Linux sink (socat to /dev/null) in a namespace. */
export async function tklOverTap(bytes: number, offload = true): Promise<number | null> {
  const ns = `tkbt${process.pid}`;
  const name = `tkbt${process.pid}`.slice(0, 15);
  sh(`ip netns add ${ns}`);
  let dev: TapDevice | null = null;
  try {
    dev = TapDevice.open({ name, offload });
    for (const c of [`ip link set ${name} netns ${ns}`, `ip -n ${ns} addr add 10.202.0.1/24 dev ${name}`, `ip -n ${ns} link set ${name} up`]) if (sh(c).code !== 0) return null;
    const k = boot();
    const i = k.kernel.net.addInterface(dev);
    k.kernel.net.addAddress(i, '10.202.0.2/24');
    k.kernel.net.setUp(i, true);
    const sink = start('ip', ['netns', 'exec', ns, 'socat', '-u', 'TCP-LISTEN:5001,bind=10.202.0.1,reuseaddr', 'OPEN:/dev/null'], 120_000);
    await new Promise((r) => setTimeout(r, 300));
    const c = k.sys.socket(AF_INET, SOCK_STREAM, 0);
    await k.sys.connect(c, { family: AF_INET, addr: '10.202.0.1', port: 5001 });
    const block = new Uint8Array(4 * MiB);
    const t0 = process.hrtime.bigint();
    for (let done = 0; done < bytes; done += block.length) await k.sys.write(c, block);
    k.sys.shutdown(c, SHUT_WR);
    await sink.done;
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    k.sys.close(c);
    return (bytes * 8) / secs / 1e9;
  } finally {
    dev?.close();
    sh(`ip netns del ${ns}`);
  }
}

export async function run_(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const linux = missingForNetns(['iperf3']);
  if (linux !== null) ctx.log(`Linux peers skipped: ${linux}`);
  const bytes = Math.max(64 * MiB, Math.round(1024 * MiB * ctx.scale));
  // Warm-up (as iperf3 -O would omit): compile the hot paths before anything is timed.
  await tklTcp(1500, 32 * MiB);
  await tklTcp(1500, 32 * MiB, false);
  for (const mtu of [1500, 65535]) {
    const c = `TCP throughput, one stream, MTU ${mtu}`;
    ctx.log(`${c}: tkl↔tkl in one process, ${bytes / MiB} MiB`);
    rows.push({ case: c, subject: 'tkl', value: await tklTcp(mtu, bytes), unit: 'Gbit/s', higherIsBetter: true, note: 'two kernels, in-memory link, checksum and segmentation offload as on veth' });
    if (linux === null) {
      const r = await iperf3(mtu, Math.max(2, Math.round(5 * ctx.scale)), false);
      if (r) rows.push({ case: c, subject: 'Linux↔Linux iperf3 over veth', value: r.gbps, unit: 'Gbit/s', higherIsBetter: true });
    }
  }
  {
    // Every frame MTU-sized on both sides: the per-segment cost of the stacks themselves.
    const c = 'TCP throughput, one stream, MTU 1500, segmentation offload off';
    ctx.log(`${c}: tkl↔tkl in one process, ${bytes / MiB} MiB`);
    rows.push({ case: c, subject: 'tkl', value: await tklTcp(1500, bytes, false), unit: 'Gbit/s', higherIsBetter: true, note: 'checksums still offloaded' });
    if (linux === null && !missingForNetns(['ethtool'])) {
      const r = await iperf3(1500, Math.max(2, Math.round(5 * ctx.scale)), false, true);
      if (r) rows.push({ case: c, subject: 'Linux↔Linux iperf3 over veth, TSO/GSO/GRO off', value: r.gbps, unit: 'Gbit/s', higherIsBetter: true });
    } else ctx.log(`${c}: Linux peer skipped (needs root and ethtool)`);
  }
  if (linux === null && tapAddon() !== null && !missingForNetns(['socat'])) {
    const c = 'TCP throughput, one stream, MTU 1500, tkl↔Linux';
    const tapBytes = Math.max(64 * MiB, Math.round(512 * MiB * ctx.scale));
    const g = await tklOverTap(tapBytes);
    if (g !== null) rows.push({ case: c, subject: 'tkl', value: g, unit: 'Gbit/s', higherIsBetter: true, note: 'tkl sends over TAP (virtio-net header: checksum and TSO offload) to socat→/dev/null in a netns' });
    const g0 = await tklOverTap(tapBytes, false);
    if (g0 !== null) rows.push({ case: c, subject: 'tkl, TAP offload off', value: g0, unit: 'Gbit/s', higherIsBetter: true, note: 'one 1514-byte frame per write(2)' });
    const r = await iperf3(1500, Math.max(2, Math.round(5 * ctx.scale)), false);
    if (r) rows.push({ case: c, subject: 'Linux↔Linux iperf3 over veth', value: r.gbps, unit: 'Gbit/s', higherIsBetter: true });
  } else ctx.log('tkl↔Linux over TAP skipped: needs root, the TAP addon and socat');

  const n = Math.max(2000, Math.round(20000 * ctx.scale));
  await tklUdpRtt(3000); // warm-up, as for TCP
  const rtt = await tklUdpRtt(n);
  rows.push({ case: 'UDP 1024-byte round trip, median', subject: 'tkl', value: pct(rtt, 50), unit: 'µs', higherIsBetter: false, note: 'two kernels in one process (k.sys promise API)' });
  rows.push({ case: 'UDP 1024-byte round trip, p99', subject: 'tkl', value: pct(rtt, 99), unit: 'µs', higherIsBetter: false });
  if (linux === null) {
    const nd = await nodeDgramRtt(ctx.tmpdir, n);
    if (nd) {
      rows.push({ case: 'UDP 1024-byte round trip, median', subject: 'Node dgram over veth (Linux stack)', value: pct(nd, 50), unit: 'µs', higherIsBetter: false });
      rows.push({ case: 'UDP 1024-byte round trip, p99', subject: 'Node dgram over veth (Linux stack)', value: pct(nd, 99), unit: 'µs', higherIsBetter: false });
    }
  }
  const pps = await tklUdpPps(Math.max(20000, Math.round(200000 * ctx.scale)));
  rows.push({ case: 'UDP 1024-byte packets/s', subject: 'tkl', value: pps, unit: 'packets/s', higherIsBetter: true, note: 'one sender, one receiver, in one process' });
  if (linux === null) {
    const r = await iperf3(1500, Math.max(2, Math.round(5 * ctx.scale)), true);
    if (r) rows.push({ case: 'UDP 1024-byte packets/s', subject: 'Linux iperf3 -u over veth', value: r.pps, unit: 'packets/s', higherIsBetter: true });
  }
  return rows;
}

export { run_ as run };
