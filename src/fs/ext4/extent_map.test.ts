import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FileMap } from './extent_map.js';

/** The same map as a plain array of physical block numbers (-1 hole, -2-p unwritten). */
function model(m: FileMap, n: number): number[] {
  const out = new Array<number>(n).fill(-1);
  for (const x of m.ext) for (let i = 0; i < x.len; i++) if (x.l + i < n) out[x.l + i] = x.u ? -2 - (x.p + i) : x.p + i;
  return out;
}

describe('FileMap', () => {
  it('insert/remove/markWritten agree with a block-by-block model and stay sorted and merged', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(3), fc.nat(200), fc.integer({ min: 1, max: 40 }), fc.boolean()), { maxLength: 60 }), (ops) => {
        const m = new FileMap();
        const ref = new Array<number>(300).fill(-1);
        let next = 1000;
        for (const [kind, l, len, u] of ops) {
          if (kind <= 1) {
            // Map a hole range with consecutive physical blocks (like an allocation).
            let s = l;
            while (s < l + len) {
              if (ref[s] !== -1) {
                s++;
                continue;
              }
              let e = s;
              while (e < l + len && ref[e] === -1) e++;
              m.insert(s, e - s, next, u);
              for (let i = s; i < e; i++) ref[i] = u ? -2 - (next + i - s) : next + i - s;
              next += e - s + 3;
              s = e;
            }
          } else if (kind === 2) {
            const runs = m.remove(l, l + len);
            let freed = 0;
            for (const r of runs) freed += r.len;
            let expected = 0;
            for (let i = l; i < l + len; i++) if (ref[i] !== -1) expected++;
            assert.equal(freed, expected);
            for (let i = l; i < l + len; i++) ref[i] = -1;
          } else {
            m.markWritten(l, l + len);
            for (let i = l; i < l + len; i++) if (ref[i]! <= -2) ref[i] = -2 - ref[i]!;
          }
          assert.deepEqual(model(m, 300), ref);
          for (let i = 1; i < m.ext.length; i++) assert.ok(m.ext[i - 1]!.l + m.ext[i - 1]!.len <= m.ext[i]!.l);
        }
      }),
      { numRuns: 200, seed: 11 },
    );
  });
});
