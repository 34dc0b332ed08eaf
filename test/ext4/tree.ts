// Generated source trees for the ext4 suites: every kind of file an image can hold (sizes
// around block boundaries, holes, links of many lengths, odd names, modes, owners with high
// bits, timestamps with nanoseconds and past 2038), made deterministically from a seed.

import * as fs from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

/** A small deterministic PRNG (xorshift32). */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

export function randomBytes(rand: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (rand() * 256) | 0;
  return b;
}

export interface TreeOptions {
  seed?: number;
  /** Symlink target lengths (default a sample; 'all' for 1..4095). */
  links?: number[] | 'all';
  /** Entries in /big (a directory large enough for an htree). */
  bigDir?: number;
  /** A sparse file of this many bytes with data near its end. */
  hugeSparse?: number;
  /** Longest symlink target (mke2fs -d cannot write one of a block or more). */
  maxLink?: number;
  /** Leave out device nodes and FIFOs (not every comparison wants them). */
  noSpecial?: boolean;
}

/** Populates `dir` with the standard tree. */
export function makeTree(dir: string, o: TreeOptions = {}): void {
  const rand = prng(o.seed ?? 1);
  fs.mkdirSync(join(dir, 'a/b/c'), { recursive: true });
  const sizes = [0, 1, 59, 60, 61, 1023, 1024, 1025, 2048, 4095, 4096, 4097, 8192, 65537, 300000];
  for (const s of sizes) fs.writeFileSync(join(dir, `a/size-${s}`), randomBytes(rand, s));
  // Holes: data, hole, data, and a tail hole made by truncate.
  const fd = fs.openSync(join(dir, 'a/holes'), 'w');
  fs.writeSync(fd, randomBytes(rand, 5000), 0, 5000, 0);
  fs.writeSync(fd, randomBytes(rand, 7000), 0, 7000, 1 << 20);
  fs.ftruncateSync(fd, 3 << 20);
  fs.closeSync(fd);
  if (o.hugeSparse !== undefined) {
    const h = fs.openSync(join(dir, 'huge-sparse'), 'w');
    fs.writeSync(h, randomBytes(rand, 3000), 0, 3000, 4096 * 3);
    fs.writeSync(h, randomBytes(rand, 9000), 0, 9000, o.hugeSparse - 20000);
    fs.ftruncateSync(h, o.hugeSparse);
    fs.closeSync(h);
  }
  // Names with spaces and UTF-8.
  for (const name of ['name with spaces', 'ünïcödé ☃ 文件', 'emoji-😀-name', '-dash', '.hidden', 'x'.repeat(255)]) {
    fs.writeFileSync(join(dir, 'a', name), name);
  }
  // Hard links across directories.
  fs.writeFileSync(join(dir, 'a/linked'), 'three names');
  fs.linkSync(join(dir, 'a/linked'), join(dir, 'a/b/linked2'));
  fs.linkSync(join(dir, 'a/linked'), join(dir, 'a/b/c/linked3'));
  // Symlinks of many lengths (fast below 60 bytes, slow from 60).
  fs.mkdirSync(join(dir, 'links'));
  const lens = o.links === 'all' ? Array.from({ length: 4095 }, (_, i) => i + 1) : (o.links ?? [1, 2, 30, 59, 60, 61, 100, 500, 1000, 1023, 2047, 4095]);
  for (const n of lens.filter((x) => x <= (o.maxLink ?? 4095))) {
    let t = '';
    while (t.length < n) t += `seg${t.length}/`;
    fs.symlinkSync(t.slice(0, n), join(dir, `links/l${n}`));
  }
  // Modes, owners (with high bits), timestamps.
  const modes: [string, number][] = [['a/setuid', 0o4755], ['a/setgid', 0o2750], ['a/none', 0o000], ['a/private', 0o600]];
  for (const [p, m] of modes) {
    fs.writeFileSync(join(dir, p), p);
    fs.chmodSync(join(dir, p), m);
  }
  fs.mkdirSync(join(dir, 'sticky'));
  fs.chmodSync(join(dir, 'sticky'), 0o1777);
  fs.writeFileSync(join(dir, 'a/owned-high'), 'uid 70000');
  fs.lchownSync(join(dir, 'a/owned-high'), 70000, 80000);
  fs.writeFileSync(join(dir, 'a/owned-1000'), 'uid 1000');
  fs.lchownSync(join(dir, 'a/owned-1000'), 1000, 1000);
  fs.writeFileSync(join(dir, 'a/t-nsec'), 'time');
  fs.utimesSync(join(dir, 'a/t-nsec'), 1234567890.123456, 1300000000.987654);
  fs.writeFileSync(join(dir, 'a/t-2100'), 'future');
  fs.utimesSync(join(dir, 'a/t-2100'), 4102444800.5, 4102444800.25);
  fs.writeFileSync(join(dir, 'a/t-1960'), 'past');
  fs.utimesSync(join(dir, 'a/t-1960'), -315619200, -315619200);
  if (!o.noSpecial) {
    spawnSync('mkfifo', [join(dir, 'a/fifo')]);
    spawnSync('mknod', [join(dir, 'a/chardev'), 'c', '1', '3']);
    spawnSync('mknod', [join(dir, 'a/blockdev-big'), 'b', '259', '300000']);
  }
  if (o.bigDir) {
    fs.mkdirSync(join(dir, 'big'));
    for (let i = 0; i < o.bigDir; i++) fs.writeFileSync(join(dir, 'big', `entry-${String(i).padStart(6, '0')}-ünï`), '');
  }
}
