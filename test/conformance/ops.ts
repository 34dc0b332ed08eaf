// Random filesystem operation sequences for the differential tests (fast-check).

import * as nfs from 'node:fs';
import fc from 'fast-check';
import type { Op } from './host_world.js';

/** Operation sequences over paths made of `names`, never climbing above the test directory. */
export function opSequences(NAMES: string[], maxLength = 25): fc.Arbitrary<Op[]> {
  const seg = fc.constantFrom(...NAMES, ...NAMES, '.', '..');
  const path = fc
    .tuple(fc.array(seg, { minLength: 1, maxLength: 3 }), fc.constantFrom('', '', '', '/', '//'))
    .map(([parts, trail]) => parts.join('/') + trail)
    // Never climb above the test directory: the two worlds differ outside it.
    .filter((p) => {
      let depth = 0;
      for (const s of p.split('/')) {
        if (s === '..') depth--;
        else if (s !== '.' && s !== '') depth++;
        if (depth < 0) return false;
      }
      return true;
    });
  const target = fc.oneof(
    path,
    fc.constantFrom('a', 'b', 'a/b', '../a', 'nowhere', '.', 'c/../a'),
  );
  const mode = fc.constantFrom(0o777, 0o755, 0o700, 0o644, 0o600, 0o444, 0o000, 0o1777, 0o4755, 0o2755);
  const data = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 0, maxLength: 9000 });
  const openFlags = fc
    .record({
      acc: fc.constantFrom(0, 1, 2),
      creat: fc.boolean(),
      excl: fc.boolean(),
      trunc: fc.boolean(),
      append: fc.boolean(),
      directory: fc.boolean(),
      nofollow: fc.boolean(),
      path: fc.boolean(),
    })
    .map((f) => {
      const C = nfs.constants;
      let flags = f.acc;
      if (f.creat) flags |= C.O_CREAT;
      if (f.excl) flags |= C.O_EXCL;
      if (f.trunc) flags |= C.O_TRUNC;
      if (f.append) flags |= C.O_APPEND;
      if (f.directory) flags |= C.O_DIRECTORY;
      if (f.nofollow) flags |= C.O_NOFOLLOW;
      if (f.path) flags |= 0o10000000; // O_PATH
      return flags;
    });

  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('open' as const), path, flags: openFlags, mode, data: fc.option(data, { nil: null }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('pwrite' as const), path, offset: fc.integer({ min: 0, max: 20000 }), data }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), path, len: fc.integer({ min: 0, max: 20000 }) }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('mkdir' as const), path, mode }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('rename' as const), from: path, to: path }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('link' as const), from: path, to: path }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('symlink' as const), target, path }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('unlink' as const), path }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('rmdir' as const), path }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('chmod' as const), path, mode }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('readdir' as const), path }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('stat' as const), path, follow: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('read' as const), path }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('readlink' as const), path }) },
  );

  return fc.array(opArb, { minLength: 1, maxLength });
}
