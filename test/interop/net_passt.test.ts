// tkl over passt (QEMU's stream protocol on a UNIX socket, no root needed for passt itself):
// passt runs in a network namespace this suite makes (a veth pair there gives it an address
// and a default route to copy), tkl takes its address by DHCP from passt, then reaches
// servers on the namespace's loopback through passt's gateway mapping, answers ping through
// passt's ICMP echo sockets and curl through passt's port forwarding (-t), and tshark reads the
// capture. Skips without passt.
// Linux itself, on a TAP bridged to a second passt, is the reference where passt misbehaves.
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boot, type Tkl } from '../../src/index.js';
import { StreamDevice } from '../../src/drivers/net/stream.js';
import { tapAddon, TapDevice } from '../../src/drivers/net/tap.js';
import { dhcpConfigure, type DhcpLease } from '../../src/net/dhcp/client.js';
import { AF_INET } from '../../src/net/socket/sockaddr.js';
import { IPPROTO_ICMP, SHUT_WR, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SO_RCVTIMEO } from '../../src/abi/linux/socket.js';
import { PcapTap, PcapWriter } from '../../src/drivers/net/pcap.js';
import { serveHttp } from '../../src/cli/httpd.js';
import { inNs, missingForNetns, PY_PEER, run, sh, start } from './netns.js';
import { pattern } from '../net/helpers.js';

const MiB = 1 << 20;
const ns = `tklp${process.pid}`;
/** A second address of the namespace (on its loopback) for ICMP echo through passt. */
const NS_EXTRA = '10.199.5.7';
/** The port passt forwards from the namespace to tkl (-t). */
const FWD_PORT = 8089;
const skip = missingForNetns(['passt', 'python3']);
if (skip !== null) console.log(`# SKIP passt interop: ${skip}`);

describe('interop with Linux through passt', { skip: skip ?? false, timeout: 300_000 }, () => {
  let dir: string;
  let k: Tkl;
  let dev: StreamDevice;
  let passt: ReturnType<typeof start>;
  let lease: DhcpLease;
  let py: string;
  const pcapChunks: Buffer[] = [];
  /** Off for the bulk transfers: tshark reads the rest. */
  let capturing = true;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tkl-passt-'));
    py = join(dir, 'peer.py');
    writeFileSync(py, PY_PEER);
    sh(`ip netns del ${ns} 2>/dev/null`);
    for (const c of [
      `ip netns add ${ns}`, `ip -n ${ns} link add v0 type veth peer name v1`, `ip -n ${ns} addr add 10.199.5.1/24 dev v0`,
      `ip -n ${ns} link set v0 up`, `ip -n ${ns} link set v1 up`, `ip -n ${ns} link set lo up`, `ip -n ${ns} route add default via 10.199.5.254 dev v0`,
      `ip -n ${ns} addr add ${NS_EXTRA}/32 dev lo`,
      // passt relays ICMP echo through ping sockets as nobody: allow every group to open them.
      `ip netns exec ${ns} sh -c 'echo 0 2147483647 > /proc/sys/net/ipv4/ping_group_range'`,
    ]) {
      const r = sh(c);
      assert.equal(r.code, 0, `${c}: ${r.stderr}`);
    }
    const sock = join(dir, 'passt.socket');
    // passt drops root for nobody; its socket lives in a directory nobody may write to.
    sh(`chmod 777 ${dir}`);
    passt = start(...inNs(ns, 'passt', '-f', '-4', '-1', '-s', sock, '-t', String(FWD_PORT)), 300_000);
    for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
    k = boot();
    // passt's own MTU (65520): it does not reassemble IP fragments, so datagrams must fit.
    dev = await StreamDevice.open({ path: sock, mtu: 65520 });
    const cap = new PcapTap(dev, new PcapWriter((c) => capturing && pcapChunks.push(Buffer.from(c)), k.kernel.host));
    const iface = k.kernel.net.addInterface(cap);
    k.kernel.net.setUp(iface, true);
    lease = await dhcpConfigure(k, iface);
  });

  after(() => {
    dev?.close();
    passt?.kill();
    sh(`ip netns del ${ns}`);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('DHCP from passt: the namespace address, its gateway and DNS, and /etc/resolv.conf', () => {
    assert.equal(lease.addr, '10.199.5.1');
    assert.equal(lease.prefix, 24);
    assert.equal(lease.router, '10.199.5.254');
    assert.ok(k.kernel.net.routes.format().some((r) => r.startsWith('default via 10.199.5.254')));
    if (lease.dns.length > 0) assert.match(k.fs.readFile('/etc/resolv.conf', 'utf8'), /^nameserver /m);
  });

  test('tkl pings an address of the namespace through passt (ICMP echo)', async () => {
    const s = k.sys.socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
    k.sys.setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, { sec: 3, usec: 0 });
    for (let seq = 1; seq <= 3; seq++) {
      const req = new Uint8Array(64);
      req[0] = 8;
      req[7] = seq;
      req.fill(0xa5, 8);
      await k.sys.sendto(s, req, undefined, 0, { family: AF_INET, addr: NS_EXTRA, port: 0 });
      const buf = new Uint8Array(128);
      const n = await k.sys.recvfrom(s, buf);
      assert.equal(n, 64);
      assert.equal(buf[0], 0, 'echo reply');
      assert.equal(buf[7], seq);
      assert.ok(buf.subarray(8, 64).every((b) => b === 0xa5), 'payload echoed');
    }
    k.sys.close(s);
  });

  test('curl in the namespace fetches from tkl httpd through passt\'s port forwarding (-t)', { timeout: 60_000 }, async () => {
    k.fs.mkdir('/srv/www', { recursive: true });
    const body = pattern(256 * 1024 + 17, 6);
    k.fs.writeFile('/srv/www/big.bin', body);
    k.fs.writeFile('/srv/www/index.html', '<h1>tkl via passt</h1>\n');
    const srv = serveHttp(k, { root: '/srv/www', port: FWD_PORT });
    try {
      const url = `http://127.0.0.1:${FWD_PORT}`;
      const [c, a] = inNs(ns, 'sh', '-c', `curl -sS -f ${url}/big.bin | sha256sum; curl -sS ${url}/ ${url}/index.html; curl -s -o /dev/null -w '%{http_code}' ${url}/nope`);
      const r = await run(c, a, 30_000);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.split('\n');
      assert.equal(lines[0]!.split(' ')[0], createHash('sha256').update(body).digest('hex'));
      assert.equal(lines[1], '<h1>tkl via passt</h1>');
      assert.equal(lines[2], '<h1>tkl via passt</h1>');
      assert.equal(lines[3], '404');
    } finally {
      srv.close();
    }
  });

  // Both directions, with passt's guest (tkl) closing its side only after the download: the
  // order passt 0.0~git20230309 handles. See the skipped test below for the other order.
  test('TCP through passt to a server on the namespace loopback: 32 MiB down, then 8 MiB up, byte-exact', { timeout: 120_000 }, async () => {
    capturing = false;
    const down = 32 * MiB;
    const up = 8 * MiB;
    const srv = start(...inNs(ns, 'python3', py, 'tcp-source', '127.0.0.1', '7502', String(down)), 120_000);
    assert.equal(await srv.ready, 'ready');
    const c = k.sys.socket(AF_INET, SOCK_STREAM, 0);
    await k.sys.connect(c, { family: AF_INET, addr: lease.router!, port: 7502 });
    const got = createHash('sha256');
    const buf = new Uint8Array(MiB);
    let n = 0;
    for (;;) {
      const r = await k.sys.read(c, buf);
      if (r === 0) break;
      got.update(buf.subarray(0, r));
      n += r;
      assert.ok(n <= down, `passt delivered ${n} bytes of a ${down}-byte stream`);
    }
    const data = pattern(up, 9);
    await k.sys.write(c, data);
    k.sys.shutdown(c, SHUT_WR);
    k.sys.close(c);
    const r = await srv.done;
    assert.equal(r.code, 0, r.stderr);
    const [rn, rhash, shash] = r.stdout.trim().split('\n').pop()!.split(' ');
    assert.equal(n, down);
    assert.equal(got.digest('hex'), shash);
    assert.equal(Number(rn), up);
    assert.equal(rhash, createHash('sha256').update(data).digest('hex'));
  });

  test('TCP through passt: 16 MiB up byte-exact, then end of stream back', { timeout: 120_000 }, async () => {
    const size = 16 * MiB;
    const srv = start(...inNs(ns, 'python3', py, 'tcp-server', '127.0.0.1', '7500', '0'), 120_000);
    assert.equal(await srv.ready, 'ready');
    const c = k.sys.socket(AF_INET, SOCK_STREAM, 0);
    await k.sys.connect(c, { family: AF_INET, addr: lease.router!, port: 7500 });
    const data = pattern(size, 8);
    await k.sys.write(c, data);
    k.sys.shutdown(c, SHUT_WR);
    const buf = new Uint8Array(MiB);
    assert.equal(await k.sys.read(c, buf), 0);
    k.sys.close(c);
    const r = await srv.done;
    assert.equal(r.code, 0, r.stderr);
    const [rn, rhash] = r.stdout.trim().split('\n').pop()!.split(' ');
    assert.equal(Number(rn), size);
    assert.equal(rhash, createHash('sha256').update(data).digest('hex'));
  });

  // Downloading after the guest half-closed (guest FIN first, then the server writes): with
  // passt 0.0~git20230309 (Debian 12) the data stalls, or passt re-sends bytes the guest already
  // acknowledged under new sequence numbers past the end of the stream. Whether passt handles
  // it is decided live, by the reference guest: Linux itself, on a TAP bridged to a second
  // passt's socket. If Linux fails too, tkl's run is skipped with what Linux got; once passt
  // handles it, tkl must too. README "Networking" describes the captures.
  test('TCP through passt: download after the guest half-closed (decided by a Linux guest on the same passt)', { timeout: 120_000 }, async (t) => {
    if (tapAddon() === null) return t.skip('the reference Linux guest needs the TAP addon (node scripts/build-tap-addon.js)');
    const size = 4 * MiB;
    const linux = await linuxGuestHalfCloseDownload(dir, py, size);
    if (linux !== size) {
      return t.skip(`passt stalls after the guest's FIN: the reference Linux guest got ${linux} of ${size} bytes in 5 s, so tkl is not run against it`);
    }
    const srv = start(...inNs(ns, 'python3', py, 'tcp-server', '127.0.0.1', '7503', String(size)), 120_000);
    assert.equal(await srv.ready, 'ready');
    const c = k.sys.socket(AF_INET, SOCK_STREAM, 0);
    await k.sys.connect(c, { family: AF_INET, addr: lease.router!, port: 7503 });
    k.sys.shutdown(c, SHUT_WR);
    const got = createHash('sha256');
    const buf = new Uint8Array(MiB);
    let n = 0;
    for (;;) {
      const r = await k.sys.read(c, buf);
      if (r === 0) break;
      got.update(buf.subarray(0, r));
      n += r;
      assert.ok(n <= size, `passt delivered ${n} bytes of a ${size}-byte stream`);
    }
    k.sys.close(c);
    const r = await srv.done;
    assert.equal(n, size);
    assert.equal(got.digest('hex'), r.stdout.trim().split('\n').pop()!.split(' ')[2]);
  });

  test('UDP through passt: echo of small and large datagrams', async () => {
    capturing = true;
    const sizes = [64, 1400, 4000, 60000];
    const srv = start(...inNs(ns, 'python3', py, 'udp-echo', '127.0.0.1', '7501', String(sizes.length)), 60_000);
    assert.equal(await srv.ready, 'ready');
    const s = k.sys.socket(AF_INET, SOCK_DGRAM, 0);
    k.sys.setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, { sec: 5, usec: 0 });
    for (const size of sizes) {
      const d = pattern(size, size);
      await k.sys.sendto(s, d, undefined, 0, { family: AF_INET, addr: lease.router!, port: 7501 });
      const buf = new Uint8Array(65536);
      const n = await k.sys.recvfrom(s, buf);
      assert.equal(n, size);
      assert.ok(Buffer.from(buf.subarray(0, n)).equals(Buffer.from(d)));
    }
    k.sys.close(s);
  });

  test('tshark reads the capture and reports no malformed packets', { skip: missingForNetns(['tshark']) ?? false, timeout: 120_000 }, async () => {
    const f = join(dir, 'passt.pcap');
    writeFileSync(f, Buffer.concat(pcapChunks));
    const all = await run('tshark', ['-r', f, '-T', 'fields', '-e', 'frame.protocols'], 120_000);
    assert.equal(all.code, 0, all.stderr);
    for (const p of ['arp', 'dhcp', 'icmp', 'udp', 'tcp', 'http']) assert.ok(all.stdout.includes(p), `capture has ${p}`);
    const bad = await run('tshark', ['-r', f, '-Y', '_ws.malformed', '-T', 'fields', '-e', 'frame.number'], 120_000);
    assert.equal(bad.code, 0, bad.stderr);
    if (bad.stdout.trim() !== '') {
      const first = bad.stdout.trim().split('\n').slice(0, 3).join(' || frame.number == ');
      const detail = await run('tshark', ['-r', f, '-Y', `frame.number == ${first}`, '-V'], 120_000);
      assert.fail(`malformed packets (frames ${bad.stdout.trim().split('\n').slice(0, 20).join(', ')}):\n${detail.stdout.slice(0, 6000)}`);
    }
  });
});

/**
 * The reference: Linux as passt's guest. A second passt in the namespace, a TAP in a namespace
 * of its own bridged frame by frame to passt's socket, and a Python client there that
 * half-closes, then reads (5 s timeout). Returns the bytes Linux received.
 */
async function linuxGuestHalfCloseDownload(dir: string, py: string, size: number): Promise<number> {
  const guest = `tklg${process.pid}`;
  const tapName = `tkg${process.pid}`.slice(0, 15);
  const sock = join(dir, 'passt-linux.socket');
  const passt = start(...inNs(ns, 'passt', '-f', '-4', '-1', '-s', sock), 60_000);
  let tap: TapDevice | null = null;
  let stream: StreamDevice | null = null;
  sh(`ip netns add ${guest}`);
  try {
    for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
    // A bridge carries complete frames: no virtio-net offload (partial checksums, 64 KiB TSO frames).
    tap = TapDevice.open({ name: tapName, mtu: 65520, offload: false });
    stream = await StreamDevice.open({ path: sock, mtu: 65520 });
    const cmds = [
      `ip link set ${tapName} netns ${guest}`, `ip -n ${guest} link set ${tapName} mtu 65520 up`, `ip -n ${guest} link set lo up`,
      `ip -n ${guest} addr add 10.199.5.1/24 dev ${tapName}`, `ip -n ${guest} route add default via 10.199.5.254`,
    ];
    for (const c of cmds) assert.equal(sh(c).code, 0, c);
    const st = stream;
    const tp = tap;
    tp.onReceive((f) => st.transmit(f.slice()));
    st.onReceive((f) => tp.transmit(f.slice()));
    const srv = start(...inNs(ns, 'python3', py, 'tcp-server', '127.0.0.1', '7504', String(size)), 60_000);
    assert.equal(await srv.ready, 'ready');
    const client = [
      'import socket', "s = socket.create_connection(('10.199.5.254', 7504), timeout=5)", 's.shutdown(socket.SHUT_WR)', 'n = 0',
      'try:', '    while True:', '        b = s.recv(1 << 20)', '        if not b: break', '        n += len(b)', `        if n > ${size}: break`,
      'except OSError: pass', 'print(n)',
    ].join('\n');
    const r = await run(...inNs(guest, 'python3', '-c', client), 30_000);
    srv.kill();
    return Number(r.stdout.trim());
  } finally {
    stream?.close();
    tap?.close();
    passt.kill();
    sh(`ip netns del ${guest}`);
  }
}
