import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemoryDisk } from './memory_disk.js';
import { ReadAheadDisk } from './readahead.js';

test('read-ahead returns what the device holds, through interleaved reads and writes', () => {
  const size = 1 << 20;
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: size / 512 - 1 }), fc.integer({ min: 1, max: 64 })), { minLength: 1, maxLength: 200 }),
      (ops) => {
        const plain = new MemoryDisk(new Uint8Array(size));
        const under = new MemoryDisk(new Uint8Array(size));
        const ra = new ReadAheadDisk(under, 16 * 1024);
        let stamp = 1;
        for (const [isWrite, sector, sectors] of ops) {
          const off = sector * 512;
          const len = Math.min(sectors * 512, size - off);
          if (isWrite) {
            const data = new Uint8Array(len).fill(stamp++ & 0xff);
            plain.write(off, data);
            ra.write(off, data);
          } else {
            // Mostly sequential reads, as a file read makes them.
            for (let i = 0; i < 3 && off + (i + 1) * len <= size; i++) {
              const a = new Uint8Array(len);
              const b = new Uint8Array(len);
              plain.read(off + i * len, a);
              ra.read(off + i * len, b);
              assert.deepEqual(b, a);
            }
          }
        }
      },
    ),
    { seed: 4242, numRuns: 300 },
  );
});
