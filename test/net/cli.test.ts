// The network commands as a user runs them: `tkl ping` on loopback, and `tkl httpd` and
// `tkl nc` in child processes reached from this process's own tkl kernel over the UDP tunnel
// (Ethernet in UDP on 127.0.0.1), so two tkl stacks talk across processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { boot } from '../../src/index.js';
import { UdpTunnelDevice } from '../../src/drivers/net/udp_tunnel.js';
import { AF_INET } from '../../src/net/socket/sockaddr.js';
import { SOCK_STREAM } from '../../src/abi/linux/socket.js';
import { run, sh } from '../interop/netns.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const tkl = fileURLToPath(new URL('../../../bin/tkl.js', import.meta.url));
// The tkl CLI binds the UDP ports it is given, so they are fixed: below the ephemeral range
// (32768–60999) so no socket bound to port 0 elsewhere can hold one; six per process.
const base = 10000 + (process.pid % 3000) * 6;

test('tkl ping on the loopback interface prints RTTs like ping', { timeout: 30_000 }, async () => {
  const r = await run(process.execPath, [tkl, 'ping', '-c', '2', '-i', '0.2', '127.0.0.1'], 20_000);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^PING 127\.0\.0\.1 \(127\.0\.0\.1\) 56\(84\) bytes of data\./);
  assert.match(r.stdout, /64 bytes from 127\.0\.0\.1: icmp_seq=2 time=[\d.]+ ms/);
  assert.match(r.stdout, /2 packets transmitted, 2 received, 0% packet loss/);
});

test('bad options get a clear message and exit status 2', async () => {
  const r = await run(process.execPath, [tkl, 'nc', '--net', 'bogus', '1'], 10_000);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad --net 'bogus'/);
});

test('nc: a missing or out-of-range PORT is a usage error (exit 2), before any network set-up', async () => {
  for (const args of [['127.0.0.1'], ['-l', '99999'], ['-p', '70000', '10.0.0.1', '80'], ['10.0.0.1', '8x']]) {
    const r = await run(process.execPath, [tkl, 'nc', ...args], 10_000, '');
    assert.equal(r.code, 2, `nc ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^tkl nc: bad port '[^']+': a PORT is a number from 0 to 65535\n$/);
  }
});

test('ping: -s over 65507 and -c 0 are refused as iputils ping refuses them', async () => {
  const big = await run(process.execPath, [tkl, 'ping', '-s', '70000', '127.0.0.1'], 10_000);
  assert.equal(big.code, 2);
  assert.equal(big.stdout, '', 'refused before the PING line');
  assert.match(big.stderr, /packet size 70000 is too large\. Maximum is 65507/);
  // iputils 20221126: "ping: invalid argument: '0': out of range: 1 <= value <= …".
  const zero = await run(process.execPath, [tkl, 'ping', '-c', '0', '127.0.0.1'], 10_000);
  assert.equal(zero.code, 2);
  assert.equal(zero.stdout, '');
  assert.match(zero.stderr, /invalid argument: '0': out of range: 1 <= value/);
});

test('ping -s 65507, the largest echo, goes out and comes back (65535-byte datagram)', { timeout: 30_000 }, async () => {
  const r = await run(process.execPath, [tkl, 'ping', '-c', '1', '-s', '65507', '127.0.0.1'], 20_000);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /65507\(65535\) bytes of data/);
  assert.match(r.stdout, /65515 bytes from 127\.0\.0\.1: icmp_seq=1/);
});

/** Starts `tkl httpd ARGS` in a child and GETs `path` from it over the UDP tunnel. */
async function fetchFromHttpd(extra: string[], path: string, pa: number, pb: number): Promise<string> {
  const child = spawn(process.execPath, [tkl, 'httpd', '--port', '8080', '--net', `udp:127.0.0.1:${pa},127.0.0.1:${pb}`, '--ip', '10.9.0.2/24', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  try {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`httpd did not start: ${err}`)), 10_000);
      child.stderr.on('data', () => {
        if (err.includes('serving')) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    const k = boot();
    const dev = await UdpTunnelDevice.open({ local: `127.0.0.1:${pb}`, remote: `127.0.0.1:${pa}` });
    try {
      const i = k.kernel.net.addInterface(dev);
      k.kernel.net.addAddress(i, '10.9.0.1/24');
      k.kernel.net.setUp(i, true);
      const c = k.sys.socket(AF_INET, SOCK_STREAM, 0);
      await k.sys.connect(c, { family: AF_INET, addr: '10.9.0.2', port: 8080 });
      await k.sys.write(c, new TextEncoder().encode(`GET ${path} HTTP/1.0\r\n\r\n`));
      let text = '';
      const buf = new Uint8Array(4096);
      for (;;) {
        const n = await k.sys.read(c, buf);
        if (n === 0) break;
        text += new TextDecoder().decode(buf.subarray(0, n));
      }
      k.sys.close(c);
      return text;
    } finally {
      dev.close();
    }
  } finally {
    child.kill();
  }
}

test('tkl httpd in one process, fetched by a kernel in this one over the UDP tunnel', { timeout: 60_000 }, async () => {
  const text = await fetchFromHttpd([], '/', base, base + 1);
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(text, /<h1>hello from tkl<\/h1>/);
});

test('tkl httpd --root IMAGE:/dir serves files from inside a FAT image', { timeout: 60_000 }, async (t) => {
  if (sh('command -v mkfs.vfat && command -v mcopy').code !== 0) {
    t.skip('mkfs.vfat or mcopy (dosfstools, mtools) is not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tkl-httpd-'));
  try {
    const img = join(dir, 'site.img');
    const page = join(dir, 'page.htm');
    writeFileSync(page, '<p>from the image</p>\n');
    assert.equal(sh(`truncate -s 8M ${img} && mkfs.vfat ${img} >/dev/null && mmd -i ${img} ::/www && mcopy -i ${img} ${page} ::/www/page.htm`).code, 0);
    const text = await fetchFromHttpd(['--root', `${img}:/www`], '/page.htm', base + 4, base + 5);
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /Content-Type: text\/html/);
    assert.match(text, /<p>from the image<\/p>/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tkl nc sends its standard input to a listener in this process', { timeout: 60_000 }, async () => {
  const [pa, pb] = [base + 2, base + 3];
  const k = boot();
  const dev = await UdpTunnelDevice.open({ local: `127.0.0.1:${pb}`, remote: `127.0.0.1:${pa}` });
  try {
    const i = k.kernel.net.addInterface(dev);
    k.kernel.net.addAddress(i, '10.9.1.1/24');
    k.kernel.net.setUp(i, true);
    const l = k.sys.socket(AF_INET, SOCK_STREAM, 0);
    k.sys.bind(l, { family: AF_INET, addr: '10.9.1.1', port: 7000 });
    k.sys.listen(l, 1);
    const acc = k.sys.accept4(l, null, 0);
    const nc = run(process.execPath, [tkl, 'nc', '--net', `udp:127.0.0.1:${pa},127.0.0.1:${pb}`, '--ip', '10.9.1.2/24', '10.9.1.1', '7000'], 30_000, 'hello over tkl\n');
    const s = await acc;
    let got = '';
    const buf = new Uint8Array(256);
    for (;;) {
      const n = await k.sys.read(s, buf);
      if (n === 0) break;
      got += new TextDecoder().decode(buf.subarray(0, n));
    }
    k.sys.close(s);
    const r = await nc;
    assert.equal(got, 'hello over tkl\n');
    assert.equal(r.code, 0, r.stderr);
  } finally {
    dev.close();
  }
});
