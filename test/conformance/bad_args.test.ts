// Bad input anywhere gets the errno Linux would give, never a JavaScript TypeError from inside
// the kernel: every syscall in the table is called with random junk arguments (wrong types,
// negative and huge numbers, NUL bytes, short buffers) and must either return or throw a
// SystemError with an errno code.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { boot, SimHost, SystemError, SYSCALLS } from '../../src/index.js';
import type { Instant } from '../../src/host/host_ops.js';

const junk = fc.oneof(
  fc.integer({ min: -5, max: 10 }),
  fc.constantFrom(-100, 2 ** 31, 2 ** 53, -(2 ** 53), 1.5, NaN, Infinity, -1),
  fc.constantFrom('', '/', '/tmp', '/tmp/x', '/dev/null', '/proc/self/fd/0', 'a\0b', '..', '/nope/x', 'user.a', 'tmpfs'),
  fc.string({ maxLength: 8 }),
  fc.constantFrom(null, undefined, true, {}, [], [1, 2], { sec: 1, nsec: 2 }, [{ sec: 0, nsec: 0 }, { sec: 0, nsec: 0 }]),
  fc.constantFrom(new Uint8Array(0), new Uint8Array(4), new Uint8Array(64)),
  fc.constantFrom([{ fd: 0, events: 1, revents: 0 }], [{ fd: 'x' }], [new Uint8Array(2)]),
);

test('junk arguments to every syscall give errnos, never TypeErrors', async () => {
  const names = Object.keys(SYSCALLS);
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...names), fc.array(junk, { maxLength: 6 }), async (name, args) => {
      const host = new SimHost({ seed: 1 });
      const k = boot({ host });
      k.fs.writeFile('/tmp/x', 'data');
      const fn = (k.sys as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!;
      try {
        const r = fn.apply(k.sys, args);
        if (r instanceof Promise) await host.runUntil(r, 1e9 as Instant);
      } catch (e) {
        if (e instanceof SystemError) {
          assert.match(e.code, /^E[A-Z0-9]+$/);
          return;
        }
        // A call that would wait for ever (poll on nothing, read of an empty pipe) is not an error.
        if (e instanceof Error && /simulation (deadlock|passed its time limit)/.test(e.message)) return;
        throw new Error(`${name}(${args.map((a) => String(a)).join(', ')}) threw ${String(e)}`);
      }
    }),
    { numRuns: Number(process.env.TKL_SOAK ? 50_000 : 3000) },
  );
});
