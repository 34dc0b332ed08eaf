// The official WASI test suite (preview1: AssemblyScript, C and Rust) through `tkl run`, as
// its specification says: each .wasm with the .json beside it (args, env, `root` exposed as
// the guest's "/", the exit code, the start of stdout); no .json means "exit 0". Each root is
// copied to a temporary directory first, since the tests write into it. Node's node:wasi
// passes 60 of these 72 and @bjorn3/browser_wasi_shim 54; tkl must pass every one.

import { basename } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SUITE, runCase, suiteCases } from './suite.js';

const cases = suiteCases();

test('the WASI test suite is present', (t) => {
  if (cases.length === 0) t.skip(`no WASI test suite at ${SUITE} (set TKL_WASI_TESTSUITE)`);
  else assert.equal(cases.length, 72, 'the suite has 72 preview1 tests');
});

test('WASI test suite through tkl run', { concurrency: 2, timeout: 240_000 }, async (t) => {
  if (cases.length === 0) {
    t.skip(`no WASI test suite at ${SUITE}`);
    return;
  }
  for (const c of cases) {
    await t.test(basename(c.name), async () => {
      const why = await runCase(c);
      assert.equal(why, null, `${c.name}: ${why}`);
    });
  }
});
