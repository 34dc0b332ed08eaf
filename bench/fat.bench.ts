// FAT benchmark: what users run — `tkl cp -r` of a 5,000-file tree (1–8 KiB files in 100
// directories plus four large files) into the FAT32 partition of a GPT disk image and out
// again, side by side with mtools' `mcopy -s -i disk.img@@offset`. Both start from copies of
// one disk made by sgdisk and mkfs.fat; every copy out is compared with the tree (diff -r).
// Wall time and CPU time (user + system, all threads) are both reported: on a shared machine
// the CPU time is the steadier figure.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext, BenchRow } from './harness.js';
import { main } from '../src/cli/main.js';

const MIB = 1024 * 1024;
/** The repository's `bin/tkl.js` (this file runs from dist/bench/). */
const TKL_BIN = fileURLToPath(new URL('../../bin/tkl.js', import.meta.url));

function makeTree(root: string, scale: number): { files: number; bytes: number } {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 4294967296;
  };
  const dirs = Math.max(5, Math.round(100 * scale));
  const perDir = 50;
  let files = 0;
  let bytes = 0;
  const pool = Buffer.alloc(8192);
  for (let i = 0; i < pool.length; i++) pool[i] = Math.floor(rnd() * 256);
  for (let d = 0; d < dirs; d++) {
    const dir = join(root, `directory ${d}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < perDir; f++) {
      const size = 1024 + Math.floor(rnd() * 7 * 1024);
      // Each file's bytes differ (its number in front), so a mixed-up copy cannot pass diff.
      const data = Buffer.from(pool.subarray(0, size));
      data.writeUInt32LE(d * perDir + f, 0);
      writeFileSync(join(dir, `file number ${f}.dat`), data);
      files++;
      bytes += size;
    }
  }
  const big = Math.max(1, Math.round(64 * scale)) * MIB;
  const chunk = Buffer.alloc(big);
  for (let i = 0; i < chunk.length; i += 4096) chunk[i] = i & 0xff;
  for (let i = 0; i < 4; i++) {
    chunk[0] = i;
    writeFileSync(join(root, `large ${i}.bin`), chunk);
    files++;
    bytes += big;
  }
  return { files, bytes };
}

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' }, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Seconds of wall time and of CPU time (user + system). */
interface Took {
  wall: number;
  cpu: number;
}

/** `tkl ARGS...` in this process, through the CLI's own entry point. */
async function tkl(args: string[]): Promise<Took> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const code = await main(args);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  if (code !== 0) throw new Error(`tkl ${args.join(' ')}: exit ${code}`);
  process.exitCode = 0;
  return { wall, cpu: (c.user + c.system) / 1e6 };
}

/** A command in its own process, timed by bash's `time` (the child's own wall and CPU time). */
function timed(cmd: string, args: string[]): Took {
  // The report of `time` goes to stdout; the command's own stderr stays stderr (fd 3).
  const script = 'exec 3>&2; TIMEFORMAT="%3R %3U %3S"; { time "$@" >/dev/null 2>&3; } 2>&1';
  const out = sh('bash', ['-c', script, 'bash', cmd, ...args]).trim().split('\n').pop()!;
  const [r, u, sy] = out.split(' ').map(Number) as [number, number, number];
  if (!Number.isFinite(r + u + sy)) throw new Error(`${cmd}: cannot read its times from '${out}'`);
  return { wall: r, cpu: u + sy };
}

/** `tkl ARGS...` as a user runs it: a new Node process. */
function tklSpawned(args: string[]): Took {
  return timed(process.execPath, [TKL_BIN, ...args]);
}

/**
 * A GPT disk of 1 GiB + 2 MiB with one 1 GiB partition at 1 MiB, formatted FAT32 by mkfs.fat
 * at the partition's offset (as an installer would). Returns the partition's byte offset.
 */
function makeDisk(path: string, partBytes: number): number {
  rmSync(path, { force: true });
  writeFileSync(path, '');
  truncateSync(path, partBytes + 2 * MIB);
  sh('sgdisk', ['-o', '-n', `1:2048:+${partBytes / 1024}K`, '-t', '1:0700', '-c', '1:data', path]);
  sh('mkfs.fat', ['-F', '32', '--offset', '2048', path, String(partBytes / 1024)]);
  return 2048 * 512;
}

/** The peer and the disk tools, with the Debian package of each. */
const TOOLS: [string, string][] = [['mcopy', 'mtools'], ['mdir', 'mtools'], ['sgdisk', 'gdisk'], ['mkfs.fat', 'dosfstools'], ['diff', 'diffutils']];

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const missing = TOOLS.filter(([t]) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  if (missing.length > 0) {
    throw new Error(`the fat benchmark needs ${missing.map(([t, pkg]) => `${t} (Debian package ${pkg})`).join(', ')}`);
  }
  // Trees and images live on tmpfs where there is one: this machine's disk is slow and erratic
  // for writes (cp -r of the tree takes 2–7 s), which would drown what the tools themselves do.
  const shm = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/tkl-bench-fat-') : null;
  try {
    return await runIn(ctx, shm ?? ctx.tmpdir, shm !== null);
  } finally {
    if (shm !== null) rmSync(shm, { recursive: true, force: true });
  }
}

async function runIn(ctx: BenchContext, base: string, onTmpfs: boolean): Promise<BenchRow[]> {
  const src = join(base, 'src');
  const { files, bytes } = makeTree(src, ctx.scale);
  const note = `${files} files, ${(bytes / MIB).toFixed(0)} MiB, 1 GiB FAT32 partition of a GPT disk${onTmpfs ? ', all on tmpfs' : ''}`;
  ctx.log(`tree: ${note}`);
  const pristine = join(base, 'pristine.img');
  const offset = makeDisk(pristine, 1024 * MIB);
  const topLevel = readdirSync(src).sort().map((n) => join(src, n));
  const fresh = (name: string): string => {
    const p = join(base, name);
    sh('cp', ['--sparse=always', pristine, p]);
    return p;
  };
  const same = (out: string): void => void sh('diff', ['-r', src, out]);

  // Each side runs on fresh copies of the disk and fresh directories, alternating, best of
  // five; the in-process tkl runs are warm after the first (the spawned rows show a cold start).
  const best = new Map<string, Took>();
  const keep = (k: string, t: Took): void => {
    ctx.log(`${k}: ${t.wall.toFixed(3)} s, CPU ${t.cpu.toFixed(3)} s`);
    const b = best.get(k) ?? { wall: Infinity, cpu: Infinity };
    best.set(k, { wall: Math.min(b.wall, t.wall), cpu: Math.min(b.cpu, t.cpu) });
  };
  const reps = ctx.scale < 1 ? 1 : 5;
  for (let rep = 0; rep < reps; rep++) {
    const theirs = fresh(`mtools-${rep}.img`);
    const mi = `${theirs}@@${offset}`;
    keep('m in', timed('mcopy', ['-s', '-i', mi, ...topLevel, '::/']));
    const outM = join(base, `out-mtools-${rep}`);
    mkdirSync(outM);
    keep('m out', timed('mcopy', ['-s', '-n', '-i', mi, '::/*', outM]));
    same(outM);

    const ours = fresh(`tkl-${rep}.img`);
    keep('t in', await tkl(['cp', '-r', '-q', ...topLevel, `${ours}:1:/`]));
    const outT = join(base, `out-tkl-${rep}`);
    mkdirSync(outT);
    keep('t out', await tkl(['cp', '-r', '-q', `${ours}:1:/`, outT]));
    same(outT);
    // mtools reads what tkl wrote: mdir -/ walks every directory.
    sh('mdir', ['-/', '-b', '-i', `${ours}@@${offset}`, '::/']);

    const spawned = fresh(`spawned-${rep}.img`);
    keep('s in', tklSpawned(['cp', '-r', '-q', ...topLevel, `${spawned}:1:/`]));
    const outS = join(base, `out-spawned-${rep}`);
    mkdirSync(outS);
    keep('s out', tklSpawned(['cp', '-r', '-q', `${spawned}:1:/`, outS]));
    same(outS);
    keep('start', tklSpawned(['--help']));
    for (const p of [theirs, ours, spawned, outM, outT, outS]) rmSync(p, { recursive: true, force: true });
  }

  // mcopy always runs as its own process: it is compared with tkl in this process (the
  // library's cost) and with tkl spawned as a user runs it (which adds Node's start-up).
  const IN = 'tkl cp -r tree → FAT32 partition';
  const OUT = 'tkl cp -r FAT32 partition → tree';
  const SP = ', spawned bin/tkl.js';
  const CPU = ', CPU time';
  const row = (c: string, subject: string, k: string, what: 'wall' | 'cpu', note?: string): BenchRow => ({
    case: c, subject, value: best.get(k)![what], unit: 's', higherIsBetter: false, ...(note !== undefined ? { note } : {}),
  });
  const M = 'mcopy -s (mtools)';
  return [
    row(IN, 'tkl', 't in', 'wall', `${note}; in this process through the CLI's main(), mount and unmount (flush) included`),
    row(IN, M, 'm in', 'wall'),
    row(OUT, 'tkl', 't out', 'wall'),
    row(OUT, M, 'm out', 'wall'),
    row(IN + CPU, 'tkl', 't in', 'cpu', 'user + system, every thread of the process'),
    row(IN + CPU, M, 'm in', 'cpu'),
    row(OUT + CPU, 'tkl', 't out', 'cpu'),
    row(OUT + CPU, M, 'm out', 'cpu'),
    row(IN + SP, 'tkl', 's in', 'wall', 'a new Node process per command, as a user runs it'),
    row(IN + SP, M, 'm in', 'wall'),
    row(OUT + SP, 'tkl', 's out', 'wall'),
    row(OUT + SP, M, 'm out', 'wall'),
    row(IN + SP + CPU, 'tkl', 's in', 'cpu'),
    row(IN + SP + CPU, M, 'm in', 'cpu'),
    row(OUT + SP + CPU, 'tkl', 's out', 'cpu'),
    row(OUT + SP + CPU, M, 'm out', 'cpu'),
    row('process start: tkl --help, spawned', 'tkl', 'start', 'wall', 'what each spawned command pays before its work'),
    row('process start: tkl --help, spawned, CPU time', 'tkl', 'start', 'cpu'),
  ];
}
