// Helpers for running the official WASI test suite through `tkl run` (see testsuite.test.ts).

import { spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SUITE = process.env.TKL_WASI_TESTSUITE ?? '/work/shared/wasi-testsuite';
const TKL = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'tkl.js');

interface Spec {
  args?: string[];
  env?: Record<string, string>;
  root?: string;
  exit_code?: number;
  stdout?: string;
}

export interface Case {
  name: string;
  wasm: string;
  spec: Spec;
}

/** Every test case of the suite: the .wasm files under each language's wasm32-wasip1 folder. */
export function suiteCases(root = SUITE): Case[] {
  const cases: Case[] = [];
  for (const lang of ['assemblyscript', 'c', 'rust']) {
    const dir = join(root, lang, 'testsuite', 'wasm32-wasip1');
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) {
      if (!f.endsWith('.wasm')) continue;
      const json = join(dir, f.replace(/\.wasm$/, '.json'));
      const spec = existsSync(json) ? (JSON.parse(readFileSync(json, 'utf8')) as Spec) : {};
      cases.push({ name: `${lang}/${f}`, wasm: join(dir, f), spec });
    }
  }
  return cases;
}

/** Copies a read-only tree and makes it writable (the suite's files are r--r--r--). */
function copyWritable(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
  const walk = (p: string): void => {
    const st = statSync(p);
    chmodSync(p, st.mode | 0o200);
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
  };
  walk(to);
}

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runTkl(args: string[], timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TKL, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs one case; returns why it failed, or null when it passed. */
export async function runCase(c: Case): Promise<string | null> {
  const args: string[] = [];
  let tmp: string | null = null;
  try {
    if (c.spec.root !== undefined) {
      tmp = mkdtempSync(join(tmpdir(), 'tkl-wasi-suite-'));
      copyWritable(join(dirname(c.wasm), c.spec.root), tmp);
      args.push('--dir', `${tmp}:/`);
    }
    for (const [k, v] of Object.entries(c.spec.env ?? {})) args.push('--env', `${k}=${v}`);
    args.push(c.wasm, ...(c.spec.args ?? []));
    const r = await runTkl(args, 60_000);
    const want = c.spec.exit_code ?? 0;
    if (r.code !== want) return `exit code ${r.code}, expected ${want}\n${r.stderr.slice(0, 2000)}`;
    if (c.spec.stdout !== undefined && !r.stdout.startsWith(c.spec.stdout)) {
      return `stdout ${JSON.stringify(r.stdout.slice(0, 200))} does not start with ${JSON.stringify(c.spec.stdout)}`;
    }
    return null;
  } finally {
    if (tmp !== null) rmSync(tmp, { recursive: true, force: true });
  }
}

