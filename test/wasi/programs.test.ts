// Our own C programs, built with clang and wasi-libc, under `tkl run`: files, directories and
// symlinks (the same program run natively on Linux must print the same), stdin from a pipe and
// from a terminal, poll and sleep timing, the virtual clock, arguments, environment, exit
// codes, traps, and Ctrl-C. Skips, saying why, where the toolchain (or python3, for a pty) is
// missing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TKL, compile, runCmd, tklRun, wasiToolchainMissing } from './cc.js';

const missing = wasiToolchainMissing();

function wasm(name: string): string {
  const r = compile(name, 'wasm');
  if (r.error !== null) throw new Error(r.error);
  return r.path;
}

function fnv1a(b: Uint8Array): string {
  let h = 2166136261;
  for (const x of b) h = Math.imul(h ^ x, 16777619) >>> 0;
  return h.toString(16).padStart(8, '0');
}

function tmp(): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tkl-prog-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('files, directories and symlinks: tkl prints what Linux prints (host dir and tmpfs)', { timeout: 60_000 }, async (t) => {
  if (missing) return t.skip(missing);
  const native = compile('files.c', 'native');
  assert.equal(native.error, null);
  const a = tmp();
  const b = tmp();
  try {
    const linux = await runCmd(native.path, [], { cwd: a.dir });
    assert.equal(linux.code, 0, linux.stderr);
    const onHost = await tklRun(['--dir', `${b.dir}:/`, wasm('files.c')]);
    assert.equal(onHost.code, 0, onHost.stderr);
    assert.equal(onHost.stdout, linux.stdout);
    const onTmpfs = await tklRun(['--tmpfs', '/', wasm('files.c')]);
    assert.equal(onTmpfs.code, 0, onTmpfs.stderr);
    assert.equal(onTmpfs.stdout, linux.stdout);
  } finally {
    a.done();
    b.done();
  }
});

test('stdin from a pipe: a megabyte arrives whole and in order', { timeout: 60_000 }, async (t) => {
  if (missing) return t.skip(missing);
  const data = new Uint8Array(1 << 20);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7919 + (i >> 9)) & 0xff;
  const r = await tklRun([wasm('stdin.c')], { input: Buffer.from(data) });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${data.length} ${fnv1a(data)} eof\n`);
  const lines = await tklRun([wasm('stdin.c'), 'echo'], { input: 'one\ntwo\n' });
  assert.equal(lines.stdout, 'ready isatty(0)=0 isatty(1)=0\ngot: one\ngot: two\neof\n');
});

test('poll: a timeout passes in real time; input that arrives later wakes it', { timeout: 60_000 }, async (t) => {
  if (missing) return t.skip(missing);
  const quiet = await tklRun([wasm('poll.c'), 'poll', '300'], { keepOpen: true, onSpawn: (c) => setTimeout(() => c.stdin!.end(), 5000) });
  const m = /poll=0 revents=- elapsed_ms=(\d+)/.exec(quiet.stdout);
  assert.ok(m, quiet.stdout + quiet.stderr);
  assert.ok(Number(m[1]) >= 300 && Number(m[1]) < 3000, `waited ${m[1]} ms`);
  const woken = await tklRun([wasm('poll.c'), 'poll', '20000'], {
    keepOpen: true,
    onSpawn: (c) => setTimeout(() => c.stdin!.end('late\n'), 1500),
  });
  assert.match(woken.stdout, /poll=1 revents=IN elapsed_ms=\d+\nread=5 \[late\n\]/);
  assert.ok(woken.ms < 15_000, `took ${woken.ms} ms`);
});

test('sleep: real time on the real host, virtual time with --sim', { timeout: 60_000 }, async (t) => {
  if (missing) return t.skip(missing);
  const real = await tklRun([wasm('poll.c'), 'sleep', '0.25']);
  const m = /monotonic=([\d.]+) realtime=([\d.]+)/.exec(real.stdout);
  assert.ok(m, real.stdout + real.stderr);
  assert.ok(Number(m[1]) >= 0.25 && Number(m[1]) < 2, real.stdout);
  const sim = await tklRun(['--sim', wasm('poll.c'), 'sleep', '3600']);
  assert.equal(sim.stdout, 'monotonic=3600.000 realtime=3600.000\n');
  assert.ok(sim.ms < 20_000, `an hour of virtual sleep took ${sim.ms} ms of real time`);
});

test('arguments, only the given environment, exit codes and traps', { timeout: 60_000 }, async (t) => {
  if (missing) return t.skip(missing);
  const r = await tklRun(['--env', 'A=1', '--env', 'B=two words', wasm('env.c'), 'x', 'y z', 'exit', '42']);
  assert.equal(r.code, 42);
  assert.equal(r.stdout, 'argv[0]=env.wasm\nargv[1]=x\nargv[2]=y z\nargv[3]=exit\nargv[4]=42\nenv A=1\nenv B=two words\n');
  const none = await tklRun([wasm('env.c')]);
  assert.equal(none.stdout, 'argv[0]=env.wasm\n', 'nothing of the host environment leaks in');
  const trap = await tklRun([wasm('env.c'), 'abort']);
  assert.equal(trap.code, 134);
  assert.match(trap.stderr, /wasm trap/);
});

test('Ctrl-C (SIGINT) ends a program that spins or waits: exit code 130', { timeout: 60_000 }, async (t) => {
  if (missing) return t.skip(missing);
  for (const args of [['spin'], ['poll', '100000']]) {
    const r = await tklRun([wasm('poll.c'), ...args], {
      keepOpen: true,
      onSpawn: (c) => setTimeout(() => c.kill('SIGINT'), 1500),
    });
    assert.equal(r.code, 130, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.ms < 20_000);
  }
});

const PTY_DRIVER = `
import os, pty, sys, time, select, json
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b''
def pump(t):
    global out
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                return
def until(s, t):
    end = time.time() + t
    while s not in out and time.time() < end:
        pump(0.1)
until(b'ready', 20)
os.write(fd, b'hello tty\\n')
until(b'got: hello', 10)
os.write(fd, b'\\x03')
pump(2)
_, status = os.waitpid(pid, 0)
print(json.dumps({'out': out.decode('utf-8', 'replace'), 'code': os.waitstatus_to_exitcode(status)}))
`;

test('stdin from a terminal: line input, isatty, and Ctrl-C from the keyboard', { timeout: 60_000 }, async (t) => {
  if (missing) return t.skip(missing);
  if (spawnSync('python3', ['-c', 'import pty'], { encoding: 'utf8' }).status !== 0) return t.skip('python3 (for a pseudo-terminal) is not installed');
  const r = spawnSync('python3', ['-c', PTY_DRIVER, process.execPath, TKL, 'run', wasm('stdin.c'), 'echo'], { encoding: 'utf8', timeout: 50_000 });
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout) as { out: string; code: number };
  assert.match(res.out, /ready isatty\(0\)=1 isatty\(1\)=1/);
  assert.match(res.out, /got: hello tty/);
  assert.equal(res.code, 130, res.out);
});

function have(cmd: string, args: string[] = ['-V']): boolean {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.error === undefined;
}

test('--disk: an ext4 image as the root; e2fsck finds it clean, debugfs reads what was written; --ro refuses writes', { timeout: 90_000 }, async (t) => {
  if (missing) return t.skip(missing);
  if (!have('mkfs.ext4') || !have('e2fsck') || !have('debugfs')) return t.skip('e2fsprogs (mkfs.ext4, e2fsck, debugfs) is not installed');
  const d = tmp();
  try {
    const img = join(d.dir, 'root.img');
    spawnSync('truncate', ['-s', '64M', img]);
    assert.equal(spawnSync('mkfs.ext4', ['-q', '-F', img]).status, 0);
    const w = await tklRun(['--disk', img, wasm('tree.c'), 'write']);
    assert.equal(w.stdout, 'write ok\n', w.stderr);
    const fsck = spawnSync('e2fsck', ['-fn', img], { encoding: 'utf8' });
    assert.equal(fsck.status, 0, fsck.stdout + fsck.stderr);
    const big = spawnSync('debugfs', ['-R', 'cat /data/sub/f6', img], { maxBuffer: 8 << 20 });
    const want = new Uint8Array(3 << 20);
    for (let i = 0; i < want.length; i++) want[i] = (i * 131 + (i >> 12)) & 0xff;
    assert.equal(fnv1a(new Uint8Array(big.stdout)), fnv1a(want), 'debugfs reads the 3 MiB file tkl wrote');
    const link = spawnSync('debugfs', ['-R', 'stat /data/big', img], { encoding: 'utf8' });
    assert.match(link.stdout, /Fast link dest: "sub\/f6"/);
    const c = await tklRun(['--disk', img, '--ro', wasm('tree.c'), 'check']);
    assert.equal(c.stdout, 'check ok\n', c.stderr);
    const ro = await tklRun(['--disk', img, '--ro', wasm('tree.c'), 'touch', 'data/new']);
    assert.equal(ro.stdout, 'EROFS\n');
    // The files script on ext4 prints what Linux prints.
    const native = compile('files.c', 'native');
    const linux = await runCmd(native.path, [], { cwd: d.dir });
    const onExt4 = await tklRun(['--disk', img, wasm('files.c')]);
    assert.equal(onExt4.stdout, linux.stdout);
    assert.equal(spawnSync('e2fsck', ['-fn', img]).status, 0);
  } finally {
    d.done();
  }
});

test('--disk IMAGE:PART and --mount IMAGE:PART:/boot on a partitioned disk (ext4 and FAT)', { timeout: 90_000 }, async (t) => {
  if (missing) return t.skip(missing);
  if (!have('sfdisk') || !have('mkfs.ext4') || !have('mkfs.vfat', ['--help']) || !have('fsck.vfat', ['--help'])) return t.skip('sfdisk, mkfs.ext4 or dosfstools is not installed');
  const d = tmp();
  try {
    const img = join(d.dir, 'disk.img');
    spawnSync('truncate', ['-s', '96M', img]);
    const sf = spawnSync('sfdisk', ['-q', img], { input: 'label: gpt\nsize=32M, name=boot\nname=root\n', encoding: 'utf8' });
    assert.equal(sf.status, 0, sf.stderr);
    // Format the partitions in place through offsets (no loop device needed).
    const parts = JSON.parse(spawnSync('sfdisk', ['--json', img], { encoding: 'utf8' }).stdout).partitiontable.partitions as { start: number; size: number }[];
    const [boot, root] = parts;
    const bootImg = join(d.dir, 'boot.part');
    spawnSync('truncate', ['-s', String(boot!.size * 512), bootImg]);
    assert.equal(spawnSync('mkfs.vfat', [bootImg]).status, 0);
    assert.equal(spawnSync('mkfs.ext4', ['-q', '-F', '-E', `offset=${root!.start * 512}`, img, `${Math.floor((root!.size * 512) / 1024)}k`]).status, 0);
    assert.equal(spawnSync('dd', [`if=${bootImg}`, `of=${img}`, 'bs=512', `seek=${boot!.start}`, 'conv=notrunc', 'status=none']).status, 0);
    const r = await tklRun(['--disk', `${img}:root`, '--mount', `${img}:boot:/boot`, wasm('env.c')]);
    assert.equal(r.code, 0, r.stderr);
    const w = await tklRun(['--disk', `${img}:2`, '--mount', `${img}:1:/boot`, wasm('tree.c'), 'write']);
    assert.equal(w.stdout, 'write ok\n', w.stderr);
    const bad = await tklRun(['--disk', `${img}:9`, wasm('env.c')]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /no partition 9/);
  } finally {
    d.done();
  }
});

test('Ctrl-C while a program sleeps after writing to --disk images: everything it wrote is on disk, fsck clean', { timeout: 120_000 }, async (t) => {
  if (missing) return t.skip(missing);
  if (!have('mkfs.ext4') || !have('mkfs.vfat', ['--help']) || !have('fsck.vfat', ['--help']) || !have('debugfs')) return t.skip('e2fsprogs or dosfstools is not installed');
  const d = tmp();
  try {
    const ext4 = join(d.dir, 'ext4.img');
    const fat = join(d.dir, 'fat.img');
    spawnSync('truncate', ['-s', '64M', ext4, fat]);
    assert.equal(spawnSync('mkfs.ext4', ['-q', '-F', ext4]).status, 0);
    assert.equal(spawnSync('mkfs.vfat', [fat]).status, 0);
    for (const img of [ext4, fat]) {
      const r = await tklRun(['--disk', img, wasm('hold.c')], {
        keepOpen: true,
        onSpawn: (c) => c.stdout!.on('data', (b: Buffer) => b.toString().includes('wrote') && c.kill('SIGINT')),
      });
      assert.equal(r.code, 130, r.stderr);
      assert.equal(r.stdout, 'wrote\n');
      assert.ok(r.ms < 30_000, `took ${r.ms} ms: the sleeping program should leave its call at once`);
    }
    const e2 = spawnSync('e2fsck', ['-fn', ext4], { encoding: 'utf8' });
    assert.equal(e2.status, 0, e2.stdout + e2.stderr);
    const ls = spawnSync('debugfs', ['-R', 'ls -l /out', ext4], { encoding: 'utf8' });
    assert.equal((ls.stdout.match(/ 5000 /g) ?? []).length, 20, ls.stdout);
    const f19 = spawnSync('debugfs', ['-R', 'cat /out/f19', ext4]).stdout;
    assert.equal(f19.length, 5000);
    assert.equal(f19[4999], (19 * 31 + 4999) & 0xff);
    const fsck = spawnSync('fsck.vfat', ['-n', fat], { encoding: 'utf8' });
    assert.equal(fsck.status, 0, fsck.stdout + fsck.stderr);
    assert.doesNotMatch(fsck.stdout, /dirty|differ/i);
    const dir = spawnSync('mdir', ['-i', fat, '-b', '::/out'], { encoding: 'utf8' });
    assert.equal(dir.stdout.trim().split('\n').length, 20, dir.stdout + dir.stderr);
  } finally {
    d.done();
  }
});

test('the same image as --disk and --mount is one filesystem: a file made through either is there, e2fsck clean', { timeout: 60_000 }, async (t) => {
  if (missing) return t.skip(missing);
  if (!have('mkfs.ext4') || !have('debugfs')) return t.skip('e2fsprogs is not installed');
  const d = tmp();
  try {
    const img = join(d.dir, 'same.img');
    spawnSync('truncate', ['-s', '64M', img]);
    assert.equal(spawnSync('mkfs.ext4', ['-q', '-F', img]).status, 0);
    const r = await tklRun(['--disk', img, '--mount', `${img}:/m`, wasm('tree.c'), 'touch', '/m/made-through-m']);
    assert.equal(r.stdout, 'OK\n', r.stderr);
    const e2 = spawnSync('e2fsck', ['-fn', img], { encoding: 'utf8' });
    assert.equal(e2.status, 0, e2.stdout + e2.stderr);
    assert.match(spawnSync('debugfs', ['-R', 'ls /', img], { encoding: 'utf8' }).stdout, /made-through-m/);
  } finally {
    d.done();
  }
});
