// The recursive commands on trees that are very deep or never end: a legitimate tree as deep
// as PATH_MAX allows is copied, listed, changed and removed without exhausting the JavaScript
// stack; a FAT directory that loops back to an ancestor is reported once and the rest done.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tkl, sh, have, scratch } from './harness.js';

/** Levels of one-letter directories (PATH_MAX, 4096, allows up to about 2,040). */
const DEPTH = 1500;
/**
 * The JavaScript stack for these runs, in KiB (Node's default is 984): small enough that a
 * walker recursing once per level overflows at this depth (every walker did, before they
 * kept their own stacks), so the test does not depend on how big Node's frames happen to be.
 */
const STACK_KIB = 100;

function tklSmallStack(args: string[]): { code: number; out: string; err: string } {
  const bin = fileURLToPath(new URL('../../../bin/tkl.js', import.meta.url));
  const r = spawnSync(process.execPath, [`--stack-size=${STACK_KIB}`, bin, ...args], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

test(`a tree ${DEPTH} directories deep: cp -r in and out, ls -R, tree, chmod -R, mv (ext4; a small JS stack)`, () => {
  const s = scratch();
  try {
    const rel = Array.from({ length: DEPTH }, () => 'd').join('/');
    mkdirSync(join(s.dir, 'h', rel), { recursive: true });
    writeFileSync(join(s.dir, 'h', rel, 'leaf'), 'bottom\n');
    const img = join(s.dir, 'e.img');
    assert.equal(tkl(['mkfs', '-t', 'ext4', '--size', '64M', img]).code, 0);
    const ok = (args: string[]): string => {
      const r = tklSmallStack(args);
      assert.deepEqual([r.code, r.err], [0, ''], args.join(' ').slice(0, 100));
      return r.out;
    };
    ok(['cp', '-r', join(s.dir, 'h', 'd'), `${img}:/`]);
    const ls = ok(['ls', '-R', `${img}:/d`]);
    assert.equal(ls.split('\n').filter((l) => l.endsWith(':')).length, DEPTH);
    assert.match(ls, /\/d:\nleaf\n/);
    const tree = ok(['tree', `${img}:/`]);
    assert.match(tree, new RegExp(`\\n${DEPTH + 1} directories, 1 file\\n$`), 'lost+found and the chain');
    ok(['chmod', '-R', 'go-rx', `${img}:/d`]);
    assert.equal(JSON.parse(ok(['stat', '--json', `${img}:/${rel}/leaf`])).mode, 0o600);
    ok(['cp', '-r', `${img}:/d`, join(s.dir, 'out')]);
    assert.equal(readFileSync(join(s.dir, 'out', rel.slice(2), 'leaf'), 'utf8'), 'bottom\n');
    ok(['mv', `${img}:/d`, join(s.dir, 'moved')]);
    assert.equal(readFileSync(join(s.dir, 'moved', rel.slice(2), 'leaf'), 'utf8'), 'bottom\n');
    assert.equal(ok(['ls', `${img}:/`]), 'lost+found\n', 'mv removed the tree from the image');
    if (have('e2fsck')) {
      const fsck = sh(`e2fsck -fn '${img}'`);
      assert.equal(fsck.code, 0, fsck.out);
    }
  } finally {
    // node:fs's own recursive rm overflows on a tree this deep.
    sh(`rm -rf '${s.dir}'`);
    s.done();
  }
});

/** FAT32's BPB: where the root directory's cluster is on disk, and its number. */
function fat32Root(img: string): { rootAt: number; rootCluster: number } {
  const b = readFileSync(img).subarray(0, 512);
  const dv = new DataView(b.buffer, b.byteOffset, 512);
  const bps = dv.getUint16(11, true);
  const dataStart = (dv.getUint16(14, true) + b[16]! * dv.getUint32(36, true)) * bps;
  const rootCluster = dv.getUint32(44, true);
  return { rootAt: dataStart + (rootCluster - 2) * b[13]! * bps, rootCluster };
}

const fatTools = ['mkfs.fat', 'mmd', 'mcopy'].filter((t) => !have(t));

test('a FAT directory that loops back to the root: cp -r, ls -R and tree report it and finish', { skip: fatTools.length > 0 ? `needs ${fatTools.join(', ')} (Debian: dosfstools, mtools)` : false }, () => {
  const s = scratch();
  try {
    const img = join(s.dir, 'fl.img');
    writeFileSync(join(s.dir, 'h.txt'), 'hello\n');
    assert.equal(sh(`truncate -s 64M '${img}' && mkfs.fat -F 32 '${img}' && mmd -i '${img}' ::/a && mcopy -i '${img}' h.txt ::/h.txt`, s.dir).code, 0);
    // Point /a's first cluster at the root's: /a, /a/a, /a/a/a, … would never end.
    const { rootAt, rootCluster } = fat32Root(img);
    const bytes = readFileSync(img);
    let at = rootAt;
    while (bytes.toString('latin1', at, at + 11) !== 'A          ') at += 32;
    bytes.writeUInt16LE(rootCluster >>> 16, at + 20);
    bytes.writeUInt16LE(rootCluster & 0xffff, at + 26);
    writeFileSync(img, bytes);
    if (have('fsck.fat')) assert.notEqual(sh(`fsck.fat -n '${img}'`).code, 0, 'fsck.fat finds the loop too');
    const out = join(s.dir, 'out');
    let r = tkl(['cp', '-r', `${img}:/`, out]);
    assert.equal(r.code, 1, r.err);
    const loop = `Structure needs cleaning (vfat: directory 'a' (cluster ${rootCluster}) loops back to an ancestor)`;
    assert.equal(r.err, `tkl: cannot stat '${img}:/a': ${loop}\n`);
    assert.equal(readFileSync(join(out, 'h.txt'), 'utf8'), 'hello\n', 'the rest is copied');
    assert.equal(existsSync(join(out, 'a')), false);
    r = tkl(['ls', '-R', `${img}:/`]);
    assert.equal(r.code, 1);
    assert.equal(r.err, `tkl: cannot access '${img}:/a': ${loop}\n`);
    assert.match(r.out, /h\.txt/);
    r = tkl(['tree', `${img}:/`]);
    assert.equal(r.code, 1);
    assert.match(r.out, /0 directories, 1 file/);
    r = tkl(['stat', `${img}:/a`]);
    assert.equal(r.code, 1);
  } finally {
    s.done();
  }
});
