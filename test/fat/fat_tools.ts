// Helpers for the FAT suites: generated host trees with the names FAT makes hard (long,
// Unicode, spaces, 8.3 in either case), comparing a tree in tkl with one on the host, and
// fsck.fat -n that must find nothing to say.

import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tkl } from '../../src/api/boot.js';
import { run } from '../block/tools.js';

// mtools must not refuse images without a partition table or with odd geometry, and shows UTC.
process.env.MTOOLS_SKIP_CHECK = '1';
process.env.TZ = 'UTC';

/** A small seeded generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = [
  'README.TXT', 'lower.txt', 'MixedCase.Md', 'a long file name with spaces.text', 'ünïcödé näme.txt', '中文文件.dat',
  'greek αβγ file', 'dots.in.the.name.tar.gz', '.hidden', 'x', 'LONGEXTENSION.html', 'same prefix 1', 'same prefix 2',
  'same prefix 3', 'same prefix 4', 'same prefix 5', 'same prefix 6', 'NAME+WITH,ODD;CHARS=[x]', '12345678.123', 'ab',
];

/** Writes a tree under `root`: directories with the NAMES above, `many` extra files in one directory, a larger file. */
export function makeTree(root: string, seed: number, opts: { many?: number; bigSize?: number } = {}): void {
  const r = rng(seed);
  const bytes = (n: number): Buffer => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
    return b;
  };
  const when = new Date(Date.UTC(2021, 4, 17, 13, 45, 24));
  mkdirSync(join(root, 'Sub Dir', 'deeper'), { recursive: true });
  mkdirSync(join(root, 'EMPTYDIR'), { recursive: true });
  NAMES.forEach((n, i) => writeFileSync(join(root, i % 2 ? 'Sub Dir' : '', n), bytes(Math.floor(r() * 5000))));
  writeFileSync(join(root, 'Sub Dir', 'deeper', 'empty file'), '');
  mkdirSync(join(root, 'many'), { recursive: true });
  for (let i = 0; i < (opts.many ?? 150); i++) writeFileSync(join(root, 'many', `file ${i}.bin`), bytes(1 + Math.floor(r() * 3000)));
  writeFileSync(join(root, 'big.bin'), bytes(opts.bigSize ?? 300_000));
  utimesSync(join(root, 'big.bin'), when, when);
}

/** Asserts tkl's tree at `at` holds exactly the host tree at `host`: names, types, contents, sizes, mtimes (FAT's 2 s). */
export function assertSameTree(k: Tkl, at: string, host: string, opts: { mtime?: boolean } = {}): void {
  const ours = k.fs.readdir(at).sort();
  const theirs = readdirSync(host).sort();
  assert.deepEqual(ours, theirs, `entries of ${at}`);
  for (const name of theirs) {
    const hp = join(host, name);
    const tp = `${at}/${name}`;
    const hs = statSync(hp);
    const ts = k.sys.stat(tp);
    if (hs.isDirectory()) {
      assert.ok((ts.mode & 0o170000) === 0o040000, `${tp} is a directory`);
      assertSameTree(k, tp, hp, opts);
    } else {
      assert.equal(ts.size, hs.size, `size of ${tp}`);
      assert.ok(Buffer.from(k.fs.readFile(tp)).equals(readFileSync(hp)), `contents of ${tp}`);
      if (opts.mtime) {
        const diff = Math.abs(ts.mtime.sec - Math.floor(hs.mtimeMs / 1000));
        assert.ok(diff <= 2, `mtime of ${tp}: ${ts.mtime.sec} vs ${Math.floor(hs.mtimeMs / 1000)}`);
      }
    }
  }
}

/** Asserts two host trees are equal (names and contents). */
export function assertSameHostTrees(a: string, b: string): void {
  const an = readdirSync(a).sort();
  const bn = readdirSync(b).sort();
  assert.deepEqual(an, bn, `entries of ${a} vs ${b}`);
  for (const n of an) {
    const sa = statSync(join(a, n));
    if (sa.isDirectory()) assertSameHostTrees(join(a, n), join(b, n));
    else assert.ok(readFileSync(join(a, n)).equals(readFileSync(join(b, n))), `contents of ${join(b, n)}`);
  }
}

/** fsck.fat -n must exit 0 and print nothing but its banner and the summary line. */
export function assertFsckClean(image: string): void {
  const r = run('fsck.fat', ['-n', image], { check: false });
  const lines = r.stdout.trim().split('\n').filter((l) => l !== '');
  const complaints = lines.filter((l) => !/^fsck\.fat \d/.test(l) && !/: \d+ files, \d+\/\d+ clusters$/.test(l));
  assert.deepEqual(complaints, [], `fsck.fat -n ${image} (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  assert.equal(r.status, 0, `fsck.fat -n exit status\n${r.stdout}${r.stderr}`);
}
