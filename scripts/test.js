#!/usr/bin/env node
// Runs every compiled test (dist/**/*.test.js) with Node's test runner.
// Usage: node scripts/test.js [filter...]  — only files whose path contains a filter.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
})(dist);
const filters = process.argv.slice(2);
const chosen = files
  .filter((f) => filters.length === 0 || filters.some((x) => relative(root, f).includes(x)))
  .sort();
if (chosen.length === 0) {
  console.error('no test files match');
  process.exit(1);
}
// A test (or a test file) that hangs fails after ten minutes instead of holding CI until its
// own limit; the long TKL_SOAK=1 runs get two hours.
const limit = process.env.TKL_SOAK === '1' ? 7_200_000 : 600_000;
const args = ['--test', '--test-concurrency=2', `--test-timeout=${limit}`, '--test-reporter=spec', ...chosen];
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
