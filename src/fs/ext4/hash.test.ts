import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, closeSync, openSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dxHash, DX_HASH_HALF_MD4, DX_HASH_LEGACY, DX_HASH_TEA, DX_HASH_LEGACY_UNSIGNED } from './hash.js';

const enc = new TextEncoder();
const haveDebugfs = spawnSync('which', ['debugfs']).status === 0 && spawnSync('which', ['mke2fs']).status === 0;

describe('htree name hashes', () => {
  it('agree with debugfs dx_hash for every algorithm, seed and name length', { skip: haveDebugfs ? false : 'debugfs/mke2fs missing (install e2fsprogs)' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'tkl-hash-'));
    try {
      const img = join(dir, 'img');
      const fd = openSync(img, 'w');
      ftruncateSync(fd, 4 << 20);
      closeSync(fd);
      spawnSync('mke2fs', ['-q', '-F', img]);
      const seeds: [string, number[] | null][] = [['00000000-0000-0000-0000-000000000000', null], ['01234567-89ab-cdef-0011-223344556677', [0x67452301, 0xefcdab89, 0x33221100, 0x77665544]]];
      const names = ['a', 'ab', 'hello world', 'x'.repeat(31), 'y'.repeat(32), 'z'.repeat(33), 'ünïcödé ☃', 'n'.repeat(255)];
      for (const [alg, v] of [['legacy', DX_HASH_LEGACY], ['half_md4', DX_HASH_HALF_MD4], ['tea', DX_HASH_TEA]] as const) {
        for (const [seedStr, seed] of seeds) {
          for (const name of names) {
            const out = spawnSync('debugfs', ['-R', `dx_hash -h ${alg} -s ${seedStr} "${name}"`, img], { encoding: 'utf8' }).stdout;
            const m = /is (0x[0-9a-f]+) \(minor (0x[0-9a-f]+)\)/.exec(out);
            assert.ok(m, out);
            const b = enc.encode(name);
            const h = dxHash(b, 0, b.length, v, seed);
            assert.equal(h.hash, Number(m![1]), `${alg} ${seedStr} ${name}`);
            if (v !== DX_HASH_LEGACY) assert.equal(h.minor, Number(m![2]), `${alg} minor ${name}`);
          }
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('signed and unsigned variants differ only for bytes above 0x7f', () => {
    const ascii = enc.encode('plain-ascii');
    assert.equal(dxHash(ascii, 0, ascii.length, DX_HASH_LEGACY, null).hash, dxHash(ascii, 0, ascii.length, DX_HASH_LEGACY_UNSIGNED, null).hash);
    const utf = enc.encode('ünï');
    assert.notEqual(dxHash(utf, 0, utf.length, DX_HASH_LEGACY, null).hash, dxHash(utf, 0, utf.length, DX_HASH_LEGACY_UNSIGNED, null).hash);
  });
  it('never returns an odd hash (the low bit marks collisions in the index)', () => {
    for (let i = 0; i < 500; i++) {
      const b = enc.encode(`name-${i}`);
      for (const v of [0, 1, 2, 3, 4, 5]) assert.equal(dxHash(b, 0, b.length, v, null).hash & 1, 0);
    }
  });
});
