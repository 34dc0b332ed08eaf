// Running `tkl` as a user would: a child process, its output and exit code; and scratch
// directories that are removed afterwards.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/tkl.js', import.meta.url));

export interface Run {
  code: number;
  out: string;
  err: string;
}

export function tkl(args: string[], opts: { cwd?: string; input?: string } = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd, input: opts.input, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20,
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** Runs a shell command (a real Linux tool); returns null when the tool is missing. */
export function sh(cmd: string, cwd?: string): { code: number; out: string; err: string } {
  const r = spawnSync('sh', ['-c', cmd], { cwd, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

export function have(tool: string): boolean {
  return sh(`command -v ${tool}`).code === 0;
}

export function scratch(): { dir: string; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'tkl-cli-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}
