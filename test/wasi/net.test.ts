// A WASI HTTP server (test/wasi/c/httpd.c) under `tkl run --net … --listen PORT`, answering
// curl from a Linux network namespace this test makes: the namespace holds a TAP device
// whose frames socat carries over UDP to tkl's --net udp: device (or, where tkl's TAP addon is
// built, tkl opens the TAP itself). Files come from an ext4 image. Needs root, ip, socat,
// curl and mkfs.ext4; skips, saying which is missing. The namespace and TAP are always removed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { TKL, compile, wasiToolchainMissing } from './cc.js';
import { tapAddon } from '../../src/drivers/net/tap.js';

function why(): string | null {
  const tc = wasiToolchainMissing();
  if (tc) return tc;
  if (process.getuid?.() !== 0) return 'not root (network namespaces need CAP_NET_ADMIN)';
  for (const [cmd, arg] of [['ip', '-V'], ['socat', '-V'], ['curl', '--version'], ['mkfs.ext4', '-V'], ['debugfs', '-V']] as const) {
    if (spawnSync(cmd, [arg]).error !== undefined) return `${cmd} is not installed`;
  }
  const probe = spawnSync('ip', ['netns', 'add', `tkwprobe${process.pid}`], { encoding: 'utf8' });
  if (probe.status !== 0) return `cannot make a network namespace: ${probe.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', `tkwprobe${process.pid}`]);
  return null;
}

const sh = (args: string[]): void => {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
};

function waitFor(child: ChildProcess, text: string, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no '${text}' within ${ms} ms: ${out}`)), ms);
    const on = (d: Buffer): void => {
      out += d.toString();
      if (out.includes(text)) {
        clearTimeout(timer);
        resolve(out);
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.on('exit', (code) => resolve(code));
  });
}

let runs = 0;

async function serveAndFetch(t: { skip: (m: string) => void }, mode: 'udp' | 'tap', dhcp = false): Promise<void> {
  // Names unique per run: a TAP held by a dying socat must not be mistaken for a new one.
  const run = runs++;
  const ns = `tkw${mode}${run}-${process.pid}`;
  const tap = `tkw${run}${mode[0]}${process.pid % 100000}`;
  const dir = mkdtempSync(join(tmpdir(), 'tkl-wasi-net-'));
  const port = 8000 + (process.pid % 1000) + run;
  // Fixed (socat and the CLI bind them) and below the ephemeral range, clear of cli.test.ts's.
  const udpA = 28000 + (process.pid % 590) * 8 + run * 2;
  const children: ChildProcess[] = [];
  try {
    // The site, on an ext4 image: an index and a 1 MiB file.
    const site = join(dir, 'site');
    spawnSync('mkdir', ['-p', site]);
    writeFileSync(join(site, 'index.html'), '<h1>hello from a WASI unikernel</h1>\n');
    const big = Buffer.alloc(1 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 10)) & 0xff;
    writeFileSync(join(site, 'big.bin'), big);
    const img = join(dir, 'site.img');
    spawnSync('truncate', ['-s', '32M', img]);
    sh(['mkfs.ext4', '-q', '-F', '-d', site, img]);

    sh(['ip', 'netns', 'add', ns]);
    const intoNamespace = (): void => {
      // The other end of the link goes into the namespace (a TAP keeps working when moved).
      sh(['ip', 'link', 'set', tap, 'netns', ns]);
      sh(['ip', '-n', ns, 'addr', 'add', '10.77.0.1/24', 'dev', tap]);
      sh(['ip', '-n', ns, 'link', 'set', tap, 'up']);
      sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    };
    let netArg: string;
    if (mode === 'udp') {
      const socat = spawn('socat', [`TUN,tun-type=tap,tun-name=${tap},iff-up,iff-no-pi`, `UDP-DATAGRAM:127.0.0.1:${udpA + 1},bind=127.0.0.1:${udpA}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(socat);
      for (let i = 0; i < 50 && spawnSync('ip', ['link', 'show', tap]).status !== 0; i++) await new Promise((r) => setTimeout(r, 50));
      netArg = `udp:127.0.0.1:${udpA + 1},127.0.0.1:${udpA}`;
      intoNamespace();
    } else {
      sh(['ip', 'tuntap', 'add', 'dev', tap, 'mode', 'tap']);
      netArg = `tap:${tap}`;
    }
    if (dhcp) {
      const dnsmasq = spawn('ip', ['netns', 'exec', ns, 'dnsmasq', '--no-daemon', `--interface=${tap}`, '--bind-interfaces', '--port=0',
        '--dhcp-range=10.77.0.50,10.77.0.60,1h', '--dhcp-option=3,10.77.0.1', '-C', '/dev/null', `--dhcp-leasefile=${join(dir, 'leases')}`, `--pid-file=${join(dir, 'dnsmasq.pid')}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(dnsmasq);
      await new Promise((r) => setTimeout(r, 300));
    }
    const addr = dhcp ? ['--dhcp'] : ['--ip', '10.77.0.2/24'];
    const tkl = spawn(process.execPath, [TKL, 'run', '--net', netArg, ...addr, '--listen', String(port), '--disk', img, '--ro', compile('httpd.c', 'wasm').path, '22'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(tkl);
    const started = await waitFor(tkl, 'httpd: listening', 30_000);
    let host = '10.77.0.2';
    if (dhcp) {
      const m = /dhcp: (10\.77\.0\.\d+)\/24 gw 10\.77\.0\.1/.exec(started);
      assert.ok(m, `no lease reported: ${started}`);
      host = m[1]!;
    }
    if (mode === 'tap') intoNamespace();
    const curl = (path: string, extra: string[] = []): ReturnType<typeof spawnSync> =>
      spawnSync('ip', ['netns', 'exec', ns, 'curl', '-s', '-m', '10', '--retry', '3', '--retry-connrefused', ...extra, `http://${host}:${port}${path}`], { maxBuffer: 4 << 20 });
    const index = curl('/index.html');
    assert.equal(index.status, 0, String(index.stderr));
    assert.equal(index.stdout.toString(), '<h1>hello from a WASI unikernel</h1>\n');
    const missing = curl('/nope', ['-o', '/dev/null', '-w', '%{http_code}']);
    assert.equal(missing.stdout.toString(), '404');
    const got = curl('/big.bin');
    assert.equal(got.status, 0, String(got.stderr));
    assert.equal(createHash('sha256').update(got.stdout as Buffer).digest('hex'), createHash('sha256').update(big).digest('hex'), 'the 1 MiB file arrives intact');
    for (let i = 0; i < 19; i++) assert.equal(curl('/index.html').status, 0, `request ${i + 4}`);
    // 22 requests served: the program exits by itself with status 0.
    assert.equal(await exited(tkl), 0);
  } finally {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGKILL');
        await exited(c);
      }
    }
    spawnSync('ip', ['netns', 'del', ns]);
    spawnSync('ip', ['link', 'del', tap]);
    rmSync(dir, { recursive: true, force: true });
  }
  void t;
}

test('a C HTTP server under tkl run --net udp: (socat to a TAP in a namespace) answers curl', { timeout: 120_000 }, async (t) => {
  const reason = why();
  if (reason) return t.skip(reason);
  await serveAndFetch(t, 'udp');
});

test('--dhcp: the unikernel takes its address from dnsmasq in the namespace, then serves', { timeout: 120_000 }, async (t) => {
  const reason = why();
  if (reason) return t.skip(reason);
  if (spawnSync('dnsmasq', ['--version']).error !== undefined) return t.skip('dnsmasq is not installed (apt-get install dnsmasq-base)');
  await serveAndFetch(t, 'udp', true);
});

test('the same server on --net tap:NAME through tkl\'s TAP addon', { timeout: 120_000 }, async (t) => {
  const reason = why();
  if (reason) return t.skip(reason);
  if (tapAddon() === null) return t.skip("tkl's TAP addon is not built (node scripts/build-tap-addon.js); the udp: test covers the same path");
  await serveAndFetch(t, 'tap');
});
