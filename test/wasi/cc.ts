// Compiling the tests' own C programs: for wasm32-wasi with Debian's clang, lld and
// wasi-libc (installed by .ci/run), and natively with the same clang, to compare what a
// program does on Linux with what it does under `tkl run`. Outputs go to one temporary
// directory per process; a missing toolchain is reported, so tests can skip saying so.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The C sources: test/wasi/c in the source tree (tests run from dist/test/wasi). */
export const C_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'wasi', 'c');
export const TKL = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'tkl.js');

let outDir: string | null = null;
function out(): string {
  if (outDir === null) {
    outDir = mkdtempSync(join(tmpdir(), 'tkl-cc-'));
    process.on('exit', () => rmSync(outDir!, { recursive: true, force: true }));
  }
  return outDir;
}

/** Why wasm32-wasi C programs cannot be built here, or null when they can. */
export function wasiToolchainMissing(): string | null {
  const r = spawnSync('clang', ['--version'], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) return 'clang is not installed (apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32)';
  if (!existsSync('/usr/include/wasm32-wasi/stdio.h')) return 'wasi-libc is not installed (apt-get install wasi-libc)';
  const probe = compile('files.c', 'wasm');
  return probe.error;
}

const built = new Map<string, { path: string; error: string | null }>();

/** Compiles test/wasi/c/NAME for 'wasm' (wasm32-wasi) or 'native'; returns the output path. */
export function compile(name: string, target: 'wasm' | 'native', extra: string[] = []): { path: string; error: string | null } {
  const key = `${name}:${target}:${extra.join(' ')}`;
  const known = built.get(key);
  if (known !== undefined) return known;
  const src = join(C_DIR, name);
  const path = join(out(), `${basename(name, '.c')}${extra.length ? '-' + built.size : ''}${target === 'wasm' ? '.wasm' : ''}`);
  const args = target === 'wasm' ? ['--target=wasm32-wasi', '-O2', '-Wall', ...extra, '-o', path, src] : ['-O2', '-Wall', ...extra, '-o', path, src];
  const r = spawnSync('clang', args, { encoding: 'utf8' });
  const result = { path, error: r.status === 0 ? null : `clang ${args.join(' ')} failed: ${r.stderr ?? r.error}` };
  built.set(key, result);
  return result;
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command; `input` is written to its stdin (then closed unless `keepOpen`). */
export function runCmd(
  cmd: string,
  args: string[],
  opts: { cwd?: string; input?: string | Buffer; keepOpen?: boolean; timeoutMs?: number; onSpawn?: (child: ReturnType<typeof spawn>) => void } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => {});
    if (opts.input !== undefined) child.stdin.write(opts.input);
    if (!opts.keepOpen) child.stdin.end();
    opts.onSpawn?.(child);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** `tkl run ARGS…` as a child process. */
export function tklRun(args: string[], opts: Parameters<typeof runCmd>[2] = {}): Promise<Run> {
  return runCmd(process.execPath, [TKL, 'run', ...args], opts);
}
