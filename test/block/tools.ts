// Helpers for tests that check tkl against the real tools: finding a tool (so a test can skip
// saying exactly what is missing), running it, and sparse temporary images that are removed.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The reason a test must skip, or null when every named tool is on PATH. */
/** The error code `fn` throws, or 'no error'. */
export function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as { code: string }).code;
  }
  return 'no error';
}

export function missingTools(...names: string[]): string | null {
  const missing = names.filter((n) => spawnSync('sh', ['-c', `command -v ${n}`], { encoding: 'utf8' }).status !== 0);
  return missing.length === 0 ? null : `missing tool(s): ${missing.join(', ')} (apt-get install fdisk gdisk dosfstools mtools util-linux)`;
}

/** Why loop devices cannot be used here, or null when they can (root and a free loop device). */
export function missingLoop(): string | null {
  if (process.getuid?.() !== 0) return 'loop devices need root';
  const r = spawnSync('losetup', ['-f'], { encoding: 'utf8' });
  if (r.status !== 0) return `no free loop device: ${r.stderr.trim()}`;
  return null;
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (60 s at most); throws with its output if `check` and it fails. */
export function run(cmd: string, args: string[], opts: { input?: string; check?: boolean; cwd?: string } = {}): RunResult {
  const r = spawnSync(cmd, args, { input: opts.input, encoding: 'utf8', timeout: 60_000, cwd: opts.cwd, maxBuffer: 64 * 1024 * 1024 });
  const res = { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if ((opts.check ?? true) && res.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${res.status}: ${res.stderr}${res.stdout}`);
  }
  return res;
}

/** A temporary directory removed by the returned cleanup. */
export function tempDir(prefix = 'tkl-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A sparse image file of `size` bytes in `dir`. */
export function sparseImage(dir: string, name: string, size: number): string {
  const p = join(dir, name);
  writeFileSync(p, '');
  truncateSync(p, size);
  return p;
}

/** Attaches `image` to a loop device with partition scanning; returns the device and a detach. */
export function loopAttach(image: string, opts: { partscan?: boolean; readOnly?: boolean } = {}): { dev: string; detach: () => void } {
  const args = ['-f', '--show'];
  if (opts.partscan) args.push('-P');
  if (opts.readOnly) args.push('-r');
  const dev = run('losetup', [...args, image]).stdout.trim();
  return { dev, detach: () => void run('losetup', ['-d', dev], { check: false }) };
}
