// The Linux interop suite, shared by every device that reaches Linux (TAP, UDP tunnel via
// socat): ping both ways, UDP with fragmentation, curl against tkl's httpd, TCP both roles
// byte-exact, TCP over a lossy/reordering/delaying path (tc netem, or FaultDevice where the
// kernel has no sch_netem), and tshark over the capture. Traffic stays in the namespace.
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boot, type Tkl } from '../../src/index.js';
import type { NetDevice } from '../../src/net/netdevice.js';
import { PcapTap, PcapWriter } from '../../src/drivers/net/pcap.js';
import { FaultDevice } from '../../src/drivers/net/fault.js';
import { AF_INET } from '../../src/net/socket/sockaddr.js';
import { IPPROTO_ICMP, SHUT_WR, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SOL_TCP, SO_RCVTIMEO, TCP_INFO } from '../../src/abi/linux/socket.js';
import type { TcpInfo } from '../../src/net/tcp/tcp_socket.js';
import { serveHttp } from '../../src/cli/httpd.js';
import { inNs, missingForNetns, PY_PEER, run, sh, start } from './netns.js';
import { pattern } from '../net/helpers.js';

const SOAK = process.env.TKL_SOAK === '1';
const MiB = 1 << 20;

export interface Attached {
  /** tkl's side. */
  device: NetDevice;
  /** The Linux interface, already inside the namespace. */
  ifname: string;
  cleanup(): void;
  /** Device-specific assertions, run after the clean TCP tests (e.g. that offload was used). */
  checks?(): void;
}

export interface SuiteOptions {
  title: string;
  /** Why the suite cannot run here, or null. */
  skip: string | null;
  /** Creates the link between tkl and the namespace `ns`. */
  attach(ns: string): Promise<Attached>;
  /** Bytes each way for the clean TCP tests. */
  tcpBytes: number;
  /** Third octet of 10.199.X.0/24, distinct per suite so suites can run side by side. */
  net: number;
}

/** Checks shared by every variant: root, ip, python3 ≥ 3.9, curl, tc. */
export function commonMissing(): string | null {
  const m = missingForNetns(['python3', 'curl', 'tc']);
  if (m !== null) return m;
  if (sh('python3 -c "import random; random.Random(1).randbytes(1)"').code !== 0) return 'python3 ≥ 3.9 is needed (random.randbytes)';
  return null;
}

export function defineLinuxSuite(o: SuiteOptions): void {
  if (o.skip !== null) console.log(`# SKIP ${o.title}: ${o.skip}`);
  const ns = `tkln${o.net}x${process.pid}`;
  const LINUX = `10.199.${o.net}.1`;
  const TKL = `10.199.${o.net}.2`;
  let tapName = '';
    describe(o.title, { skip: o.skip ?? false, timeout: SOAK ? 4_000_000 : 900_000 }, () => {
    let k: Tkl;
    let att: Attached;
    let fault: FaultDevice;
    let dir: string;
    let py: string;
    const pcapChunks: Buffer[] = [];
    let capturing = true;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'tkl-net-'));
      py = join(dir, 'peer.py');
      writeFileSync(py, PY_PEER);
      sh(`ip netns del ${ns} 2>/dev/null`);
      assert.equal(sh(`ip netns add ${ns}`).code, 0, 'ip netns add');
      att = await o.attach(ns);
      tapName = att.ifname;
      for (const c of [`ip -n ${ns} addr add ${LINUX}/24 dev ${tapName}`, `ip -n ${ns} link set ${tapName} up`, `ip -n ${ns} link set lo up`]) {
        const r = sh(c);
        assert.equal(r.code, 0, `${c}: ${r.stderr}`);
      }
      k = boot({ hostname: 'tkl' });
      fault = new FaultDevice(att.device, k.kernel.host);
      const cap = new PcapTap(fault, new PcapWriter((c) => capturing && pcapChunks.push(Buffer.from(c)), k.kernel.host));
      const iface = k.kernel.net.addInterface(cap);
      k.kernel.net.addAddress(iface, `${TKL}/24`);
      k.kernel.net.setUp(iface, true);
    });

    after(() => {
      att?.cleanup();
      sh(`ip netns del ${ns}`);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('Linux pings tkl', async () => {
      const [c, a] = inNs(ns, 'ping', '-c', '3', '-i', '0.2', '-W', '2', TKL);
      const r = await run(c, a, 20_000);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /3 received/);
    });

    test('tkl pings Linux', async () => {
      const s = k.sys.socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
      k.sys.setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, { sec: 3, usec: 0 });
      for (let seq = 1; seq <= 3; seq++) {
        const req = new Uint8Array(64);
        req[0] = 8;
        req[7] = seq;
        await k.sys.sendto(s, req, undefined, 0, { family: AF_INET, addr: LINUX, port: 0 });
        const buf = new Uint8Array(128);
        const n = await k.sys.recvfrom(s, buf);
        assert.equal(n, 64);
        assert.equal(buf[0], 0);
        assert.equal(buf[7], seq);
      }
      k.sys.close(s);
    });

    test('UDP echo with datagrams that need fragmentation, both directions', async () => {
      const sizes = [100, 1472, 1473, 3000, 8000, 20000];
      const srv = start(...inNs(ns, 'python3', py, 'udp-echo', LINUX, '7001', String(sizes.length)));
      assert.equal(await srv.ready, 'ready');
      const s = k.sys.socket(AF_INET, SOCK_DGRAM, 0);
      k.sys.setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, { sec: 5, usec: 0 });
      for (const size of sizes) {
        const d = pattern(size, size);
        await k.sys.sendto(s, d, undefined, 0, { family: AF_INET, addr: LINUX, port: 7001 });
        const buf = new Uint8Array(65536);
        const n = await k.sys.recvfrom(s, buf);
        assert.equal(n, size, `echo of ${size} bytes`);
        assert.ok(Buffer.from(buf.subarray(0, n)).equals(Buffer.from(d)));
      }
      k.sys.close(s);
      assert.equal((await srv.done).code, 0);
      assert.ok(k.kernel.net.stats.IpReasmOKs >= 3, 'tkl reassembled Linux-fragmented replies');
      assert.ok(k.kernel.net.stats.IpFragCreates >= 6, 'tkl fragmented its big datagrams');
    });

    test('curl fetches from tkl httpd (keep-alive, 404, byte-exact body)', async () => {
      k.fs.mkdir('/srv/www', { recursive: true });
      const body = pattern(3 * MiB + 123, 5);
      k.fs.writeFile('/srv/www/big.bin', body);
      k.fs.writeFile('/srv/www/index.html', '<h1>tkl</h1>\n');
      const srv = serveHttp(k, { root: '/srv/www', port: 8080 });
      try {
        const [c, a] = inNs(ns, 'sh', '-c', `curl -sS -f http://${TKL}:8080/big.bin | sha256sum; curl -sS http://${TKL}:8080/ http://${TKL}:8080/index.html; curl -s -o /dev/null -w '%{http_code}' http://${TKL}:8080/nope`);
        const r = await run(c, a, 60_000);
        assert.equal(r.code, 0, r.stderr);
        const lines = r.stdout.split('\n');
        assert.equal(lines[0]!.split(' ')[0], createHash('sha256').update(body).digest('hex'));
        assert.equal(lines[1], '<h1>tkl</h1>');
        assert.equal(lines[2], '<h1>tkl</h1>');
        assert.equal(lines[3], '404');
      } finally {
        srv.close();
      }
    });

    /** tkl client: sends `up` bytes, half-closes, receives what the Linux server sends back. */
    /** `inspect` sees the connected socket just before it is closed. */
    async function tklClient(port: number, up: number, down: number, inspect?: (fd: number) => void, limitMs = 300_000): Promise<void> {
      const srv = start(...inNs(ns, 'python3', py, 'tcp-server', LINUX, String(port), String(down)), limitMs);
      assert.equal(await srv.ready, 'ready');
      const c = k.sys.socket(AF_INET, SOCK_STREAM, 0);
      await k.sys.connect(c, { family: AF_INET, addr: LINUX, port });
      const sent = createHash('sha256');
      const got = createHash('sha256');
      const block = pattern(MiB, 3);
      const writer = (async () => {
        for (let done = 0; done < up; ) {
          const n = Math.min(MiB, up - done);
          block[0] = done >>> 20;
          sent.update(block.subarray(0, n));
          await k.sys.write(c, block.subarray(0, n));
          done += n;
        }
        k.sys.shutdown(c, SHUT_WR);
      })();
      let n = 0;
      const buf = new Uint8Array(MiB);
      for (;;) {
        const r = await k.sys.read(c, buf);
        if (r === 0) break;
        got.update(buf.subarray(0, r));
        n += r;
      }
      await writer;
      inspect?.(c);
      k.sys.close(c);
      const r = await srv.done;
      assert.equal(r.code, 0, r.stderr);
      const [rn, rhash, shash] = r.stdout.trim().split('\n').pop()!.split(' ');
      assert.equal(Number(rn), up, 'Linux received every byte');
      assert.equal(rhash, sent.digest('hex'), 'Linux received exactly what tkl sent');
      assert.equal(n, down, 'tkl received every byte');
      assert.equal(got.digest('hex'), shash, 'tkl received exactly what Linux sent');
    }

    test(`tkl TCP client ↔ Linux server: ${o.tcpBytes / MiB} MiB each way, byte-exact`, { timeout: 300_000 }, async () => {
      capturing = false;
      await tklClient(7100, o.tcpBytes, o.tcpBytes);
    });

    test(`Linux TCP client ↔ tkl server: ${o.tcpBytes / MiB} MiB each way, byte-exact`, { timeout: 300_000 }, async () => {
      const l = k.sys.socket(AF_INET, SOCK_STREAM, 0);
      k.sys.bind(l, { family: AF_INET, addr: TKL, port: 7200 });
      k.sys.listen(l, 4);
      const size = o.tcpBytes;
      const cli = start(...inNs(ns, 'python3', py, 'tcp-client', TKL, '7200', String(size)), 300_000);
      const c = await k.sys.accept4(l, null, 0);
      const got = createHash('sha256');
      const buf = new Uint8Array(MiB);
      let n = 0;
      for (;;) {
        const r = await k.sys.read(c, buf);
        if (r === 0) break;
        got.update(buf.subarray(0, r));
        n += r;
      }
      const back = pattern(size, 4);
      await k.sys.write(c, back);
      k.sys.close(c);
      k.sys.close(l);
      const r = await cli.done;
      assert.equal(r.code, 0, r.stderr);
      const [rn, rhash, shash] = r.stdout.trim().split('\n').pop()!.split(' ');
      assert.equal(n, size);
      assert.equal(got.digest('hex'), shash, 'tkl got what Linux sent');
      assert.equal(Number(rn), size);
      assert.equal(rhash, createHash('sha256').update(back).digest('hex'), 'Linux got what tkl sent');
    });

    test("the device's own checks after bulk TCP", async (t) => {
      if (att.checks === undefined) return t.skip('this device has no checks of its own');
      att.checks();
    });

    // 5% loss each way at a 20 ms round trip holds one TCP stream to a few Mbit/s (Mathis et al.),
    // so the soak's 100 MiB each way takes many minutes, as it would between two Linux hosts.
    test('TCP under tc netem loss 5% reorder 25% delay 10ms, byte-exact', { timeout: SOAK ? 3_000_000 : 600_000 }, async (t) => {
      capturing = true;
      const q = sh(`ip netns exec ${ns} tc qdisc add dev ${tapName} root netem loss 5% reorder 25% delay 10ms`);
      const haveNetem = q.code === 0;
      if (!haveNetem) {
        // No sch_netem in this kernel: the same faults, both directions, injected on tkl's side of the TAP.
        assert.match(q.stderr, /unknown|not supported|No such file/i, q.stderr);
        t.diagnostic(`tc netem unavailable (${q.stderr.trim()}); injecting loss 5% reorder 25% delay 10ms with FaultDevice instead`);
        fault.params = { loss: 0.05, reorder: 0.25, delay: 10e6 };
      }
      // Evidence that the faults happened during this test, not only somewhere in the suite.
      const stats = k.kernel.net.stats;
      const retransBefore = stats.TcpRetransSegs;
      const ofoBefore = stats.TcpExtTCPOFOQueue;
      const f0 = { dropped: fault.dropped, delayed: fault.delayed, reordered: fault.reordered };
      let rttUs = 0;
      try {
        const size = SOAK ? 100 * MiB : 2 * MiB;
        const t0 = Date.now();
        await tklClient(7300, size, size, (c) => {
          rttUs = (k.sys.getsockopt(c, SOL_TCP, TCP_INFO) as unknown as TcpInfo).rtt;
        }, SOAK ? 2_700_000 : 300_000);
        t.diagnostic(`${size / MiB} MiB each way in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        assert.ok(stats.TcpRetransSegs > retransBefore, `tkl retransmitted during this test (${stats.TcpRetransSegs - retransBefore} segments)`);
        assert.ok(stats.TcpExtTCPOFOQueue > ofoBefore, 'segments from Linux arrived out of order and were queued');
        assert.ok(rttUs >= 10_000, `the smoothed RTT shows the 10 ms delay (${rttUs} µs)`);
        if (haveNetem) {
          const tcs = sh(`ip netns exec ${ns} tc -s qdisc show dev ${tapName}`);
          const m = /dropped (\d+)/.exec(tcs.stdout);
          assert.ok(m !== null && Number(m[1]) > 0, `netem dropped frames: ${tcs.stdout}`);
        } else {
          assert.ok(fault.dropped > f0.dropped, `FaultDevice dropped frames (${fault.dropped - f0.dropped})`);
          assert.ok(fault.delayed > f0.delayed, `FaultDevice delayed frames (${fault.delayed - f0.delayed})`);
          assert.ok(fault.reordered > f0.reordered, `FaultDevice let frames overtake (${fault.reordered - f0.reordered})`);
        }
      } finally {
        if (haveNetem) sh(`ip netns exec ${ns} tc qdisc del dev ${tapName} root`);
        fault.params = {};
      }
    });

    test('tshark reads the capture and reports no malformed packets', { skip: missingForNetns(['tshark']) ?? false, timeout: 120_000 }, async () => {
      const f = join(dir, 'cap.pcap');
      writeFileSync(f, Buffer.concat(pcapChunks));
      const all = await run('tshark', ['-r', f, '-T', 'fields', '-e', 'frame.protocols'], 120_000);
      assert.equal(all.code, 0, all.stderr);
      const protos = all.stdout;
      for (const p of ['arp', 'icmp', 'udp', 'tcp', 'http']) assert.ok(protos.includes(p), `capture has ${p}`);
      const bad = await run('tshark', ['-r', f, '-Y', '_ws.malformed', '-T', 'fields', '-e', 'frame.number'], 120_000);
      assert.equal(bad.code, 0, bad.stderr);
      if (bad.stdout.trim() !== '') {
        // Say what tshark found, so a rare failure can be understood from the log alone.
        const first = bad.stdout.trim().split('\n').slice(0, 3).join(' || frame.number == ');
        const detail = await run('tshark', ['-r', f, '-Y', `frame.number == ${first}`, '-V'], 120_000);
        assert.fail(`malformed packets (frames ${bad.stdout.trim().split('\n').slice(0, 20).join(', ')}):\n${detail.stdout.slice(0, 6000)}`);
      }
    });
  });
}
