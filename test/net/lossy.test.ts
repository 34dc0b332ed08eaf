// TCP over a bad link on the sim host: loss, reordering and duplication; byte-exact delivery,
// recovery statistics, and bit-for-bit reproducible pcaps for one seed. TKL_SOAK=1 moves 1 GiB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { bootWith } from '../../src/api/boot.js';
import { SimHost } from '../../src/host/sim/sim_host.js';
import { MemoryLink, type LinkParams } from '../../src/drivers/net/memory_link.js';
import { PcapTap, PcapWriter } from '../../src/drivers/net/pcap.js';
import { AF_INET } from '../../src/net/socket/sockaddr.js';
import { SOCK_STREAM, SHUT_WR, SOL_TCP, TCP_CONGESTION } from '../../src/abi/linux/socket.js';
import { pattern } from './helpers.js';

const SOAK = process.env.TKL_SOAK === '1';
const BAD: LinkParams = { latency: 2e6, loss: 0.05, reorder: 0.05, reorderDelay: 3e6, duplicate: 0.02 };

interface Run {
  digest: string;
  pcap: Buffer;
  stats: Record<string, number>;
  seconds: number;
}

/** Sends `total` bytes a → b over a fresh link; returns the received bytes' digest and the capture. */
async function transfer(seed: number, total: number, params: LinkParams, cc = 'cubic', capture = true, sack = true): Promise<Run> {
  const sim = new SimHost({ seed });
  const a = bootWith(sim, { hostname: 'a' });
  const b = bootWith(sim, { hostname: 'b' });
  const link = new MemoryLink(sim, params);
  const chunks: Uint8Array[] = [];
  const devA = capture ? new PcapTap(link.a, new PcapWriter((c) => chunks.push(c), sim)) : link.a;
  const ia = a.kernel.net.addInterface(devA);
  const ib = b.kernel.net.addInterface(link.b);
  a.kernel.net.addAddress(ia, '10.0.0.1/24');
  b.kernel.net.addAddress(ib, '10.0.0.2/24');
  a.kernel.net.setUp(ia, true);
  b.kernel.net.setUp(ib, true);
  a.kernel.net.tcp.sack = sack;

  const l = b.sys.socket(AF_INET, SOCK_STREAM, 0);
  b.sys.bind(l, { family: AF_INET, addr: '0.0.0.0', port: 9000 });
  b.sys.listen(l, 1);
  const c = a.sys.socket(AF_INET, SOCK_STREAM, 0);
  a.sys.setsockopt(c, SOL_TCP, TCP_CONGESTION, cc);
  const acc = b.sys.accept4(l, null, 0);
  await sim.runUntil(a.sys.connect(c, { family: AF_INET, addr: '10.0.0.2', port: 9000 }));
  const s = await sim.runUntil(acc);
  const block = pattern(1 << 20, seed);
  const hashSent = createHash('sha256');
  const hashGot = createHash('sha256');
  const writer = (async () => {
    for (let done = 0; done < total; ) {
      const n = Math.min(block.length, total - done);
      // Vary the bytes per block so a misplaced block would show.
      const chunk = block.subarray(0, n);
      chunk[0] = (done >>> 20) & 0xff;
      hashSent.update(chunk);
      await a.sys.write(c, chunk);
      done += n;
    }
    a.sys.shutdown(c, SHUT_WR);
  })();
  const reader = (async () => {
    const buf = new Uint8Array(256 * 1024);
    let got = 0;
    for (;;) {
      const n = await b.sys.read(s, buf);
      if (n === 0) break;
      hashGot.update(buf.subarray(0, n));
      got += n;
    }
    return got;
  })();
  const [got] = await sim.runUntil(Promise.all([reader, writer]));
  assert.equal(got, total, `seed ${seed}: all bytes arrived`);
  assert.equal(hashGot.digest('hex'), hashSent.digest('hex'), `seed ${seed}: byte-exact`);
  a.sys.close(c);
  b.sys.close(s);
  const run = { digest: '', pcap: Buffer.concat(chunks), stats: a.kernel.net.stats.snapshot(), seconds: sim.monotonic() / 1e9 };
  if (process.env.TKL_NET_VERBOSE) console.log(`seed ${seed} ${cc}: ${total} bytes in ${run.seconds.toFixed(2)} virtual s; retrans ${run.stats.TcpRetransSegs}, timeouts ${run.stats.TcpExtTCPTimeouts}, sack recoveries ${run.stats.TcpExtTCPSACKRecovery}, reno ${run.stats.TcpExtTCPRenoRecovery}`);
  return run;
}

test('tcp (cubic, SACK) over 5% loss, reordering and duplication: byte-exact', { timeout: 120_000 }, async () => {
  const total = SOAK ? 1 << 30 : 8 << 20;
  const r = await transfer(11, total, BAD, 'cubic', false);
  assert.ok(r.stats.TcpRetransSegs! > 0, 'losses were repaired by retransmission');
  assert.ok(r.stats.TcpExtTCPSACKRecovery! > 0, 'SACK recovery ran');
});

test('tcp (reno, no SACK: NewReno recovery) over the same link: byte-exact', { timeout: 60_000 }, async () => {
  const r = await transfer(12, 2 << 20, BAD, 'reno', false, false);
  assert.ok(r.stats.TcpRetransSegs! > 0);
  assert.ok(r.stats.TcpExtTCPRenoRecovery! > 0, 'NewReno fast recovery ran');
  assert.equal(r.stats.TcpExtTCPSACKRecovery, 0);
});

test('the same seed twice gives byte-identical pcaps; another seed does not', { timeout: 60_000 }, async () => {
  const x = await transfer(21, 1 << 20, BAD);
  const y = await transfer(21, 1 << 20, BAD);
  const z = await transfer(22, 1 << 20, BAD);
  assert.ok(x.pcap.length > 1 << 20, 'the capture holds the transfer');
  assert.ok(x.pcap.equals(y.pcap), 'identical captures');
  assert.ok(!x.pcap.equals(z.pcap), 'a different seed changes the run');
});
