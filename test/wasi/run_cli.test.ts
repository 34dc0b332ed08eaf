// `tkl run` as a user meets it when something is wrong or unusual: malformed --dir and --net
// values are usage errors (exit 2) and devices that cannot be opened are one-line failures
// (exit 1) — never a stack trace — for `tkl run` and the network tools that share the option
// parser; a closed output pipe ends the program as SIGPIPE would (141); --seed makes random
// bytes repeat with and without --sim; --help has examples.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TKL, compile, runCmd, tklRun, wasiToolchainMissing } from './cc.js';

const missing = wasiToolchainMissing();

function wasm(name: string): string {
  const r = compile(name, 'wasm');
  if (r.error !== null) throw new Error(r.error);
  return r.path;
}

/** The smallest valid module: no memory, no _start — enough to get past compiling. */
function emptyModule(dir: string): string {
  const p = join(dir, 'empty.wasm');
  writeFileSync(p, Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0));
  return p;
}

function noStack(err: string): void {
  assert.doesNotMatch(err, /\n\s+at /, `no stack trace: ${err}`);
}

test('bad --dir and --net values are usage errors; devices that cannot be opened fail in one line', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tkl-runcli-'));
  try {
    const mod = emptyModule(dir);
    const usage: [string[], RegExp][] = [
      [['--dir', ''], /^tkl run: bad --dir '': expected HOST\[:GUEST\]/],
      [['--dir', ':/x'], /^tkl run: bad --dir ':\/x': expected HOST\[:GUEST\]/],
      [['--net', 'udp:127.0.0.1:1,nonsense'], /^tkl run: bad --net 'udp:127\.0\.0\.1:1,nonsense': 'nonsense' is not HOST:PORT/],
      [['--net', 'udp:999.1.1.1:5,127.0.0.1:6'], /^tkl run: bad --net .*'999\.1\.1\.1' is not an IPv4 address or host name/],
      [['--net', 'carrier-pigeon'], /^tkl run: bad --net 'carrier-pigeon'/],
    ];
    for (const [args, want] of usage) {
      const r = await tklRun([...args, mod]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, want);
      noStack(r.stderr);
    }
    const sock = join(dir, 'nonexistent.sock');
    let r = await tklRun(['--net', `passt:${sock}`, mod]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, `tkl run: cannot connect to passt socket '${sock}': No such file or directory\n`);
    r = await tklRun(['--net', `stream:${sock}`, mod]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, `tkl run: cannot connect to stream socket '${sock}': No such file or directory\n`);
    // A module that is no WASI command: one line too.
    r = await tklRun([mod]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'tkl run: the module does not export its memory as "memory"\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tkl ping, nc and httpd share the --net parser: the same usage errors and one-line failures', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tkl-runcli-'));
  try {
    const sock = join(dir, 'nonexistent.sock');
    const tools: [string, string[]][] = [['ping', ['-c', '1', '10.0.0.1']], ['nc', ['10.0.0.1', '80']], ['httpd', []]];
    for (const [tool, rest] of tools) {
      for (const spec of ['udp:127.0.0.1:1,nonsense', 'udp:999.1.1.1:5,127.0.0.1:6']) {
        const r = await runCmd(process.execPath, [TKL, tool, '--net', spec, ...rest], { timeoutMs: 20_000 });
        assert.equal(r.code, 2, `${tool} --net ${spec}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`^tkl ${tool}: bad --net `));
        noStack(r.stderr);
      }
      const r = await runCmd(process.execPath, [TKL, tool, '--net', `passt:${sock}`, ...rest], { timeoutMs: 20_000 });
      assert.equal(r.code, 1, `${tool}: ${r.stderr}`);
      assert.equal(r.stderr, `tkl ${tool}: cannot connect to passt socket '${sock}': No such file or directory\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('`tkl run yes.wasm | head -c 100`: the closed pipe ends the program quietly with 141, as SIGPIPE would', { timeout: 60_000 }, async (t) => {
  if (missing) return t.skip(missing);
  const prog = wasm('yes.c');
  const r = await new Promise<{ code: number | null; got: number; err: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [TKL, 'run', prog], { stdio: ['ignore', 'pipe', 'pipe'] });
    let got = 0;
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      got += d.length;
      // What head -c 100 does once it has its bytes: close its end of the pipe.
      if (got >= 100) child.stdout.destroy();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, got, err });
    });
  });
  assert.ok(r.got >= 100);
  assert.equal(r.code, 141, r.err);
  assert.equal(r.err, '', 'no message and no stack');
});

test('--seed makes random bytes repeat on the real clock and with --sim; without it they differ', { timeout: 60_000 }, async (t) => {
  if (missing) return t.skip(missing);
  const prog = wasm('random.c');
  const out = async (args: string[]): Promise<string> => {
    const r = await tklRun([...args, prog]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
    return r.stdout;
  };
  const a = await out(['--seed', '7']);
  assert.equal(await out(['--seed', '7']), a, 'the same seed, the same bytes');
  assert.notEqual(await out(['--seed', '8']), a, 'another seed, other bytes');
  const s = await out(['--sim', '--seed', '7']);
  assert.equal(await out(['--sim', '--seed', '7']), s);
  assert.notEqual(await out([]), await out([]), 'unseeded: the real generator');
  const bad = await tklRun(['--seed', 'x', prog]);
  assert.equal(bad.code, 2);
});

test('tkl run --help shows the options, the exit statuses and examples', async () => {
  const r = await tklRun(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^usage: tkl run \[options\] app\.wasm/);
  assert.match(r.stdout, /\nexamples:\n {2}tkl run hello\.wasm\n/);
  assert.match(r.stdout, /141 when its output pipe closed/);
});
