// Helpers for syscall tests: a fresh kernel, and assertions on errno codes.

import assert from 'node:assert/strict';
import { boot, type Tkl } from '../../src/index.js';

export function fresh(): Tkl {
  return boot();
}

/** Asserts that `fn` throws a SystemError with `code` (e.g. 'ENOENT'). */
export function throwsCode(fn: () => unknown, code: string, what?: string): void {
  assert.throws(fn, (e: unknown) => {
    const got = (e as { code?: string }).code;
    assert.equal(got, code, `${what ?? 'call'}: expected ${code}, got ${got} (${String(e)})`);
    return true;
  });
}

/** The same for a call that returns a Promise. */
export async function rejectsCode(p: Promise<unknown>, code: string, what?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    const got = (e as { code?: string }).code;
    assert.equal(got, code, `${what ?? 'call'}: expected ${code}, got ${got} (${String(e)})`);
    return true;
  });
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
