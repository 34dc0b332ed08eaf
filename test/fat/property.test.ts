// Property-based: random sequences of file operations applied to a tkl FAT volume and to a
// model of what Linux vfat does (names match regardless of case, a rename over an existing
// name keeps that entry's name; RENAME_EXCHANGE swaps what two names hold). After each sequence the trees and the errors agree, the
// volume survives a remount unchanged, and fsck.fat -n finds nothing. TKL_SOAK=1 runs longer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { rmSync } from 'node:fs';
import { boot, type Tkl } from '../../src/index.js';
import { fileDisk } from '../../src/drivers/block/file_disk.js';
import { SimHost } from '../../src/host/sim/sim_host.js';
import { mkfsFat } from '../../src/fs/fat/mkfs.js';
import { O_WRONLY, AT_FDCWD, RENAME_EXCHANGE } from '../../src/abi/linux/index.js';
import { missingTools, sparseImage, tempDir } from '../block/tools.js';
import { assertFsckClean } from './fat_tools.js';

const MIB = 1024 * 1024;
const SOAK = process.env.TKL_SOAK === '1';

interface MFile { kind: 'file'; data: Uint8Array }
interface MDir { kind: 'dir'; entries: Map<string, { name: string; node: MNode }> }
type MNode = MFile | MDir;

const key = (n: string): string => n.toUpperCase();
const NAMES = ['a', 'A', 'Long Name.txt', 'long name.TXT', 'dir', 'ünï', 'x.y.z', 'SHORT.TXT'];

type Op =
  | { op: 'write'; path: string[]; size: number; fill: number }
  | { op: 'pwrite'; path: string[]; off: number; size: number; fill: number }
  | { op: 'truncate'; path: string[]; size: number }
  | { op: 'mkdir'; path: string[] }
  | { op: 'unlink'; path: string[] }
  | { op: 'rmdir'; path: string[] }
  | { op: 'rename'; path: string[]; to: string[] }
  | { op: 'exchange'; path: string[]; to: string[] };

class Model {
  root: MDir = { kind: 'dir', entries: new Map() };

  private parent(path: string[]): MDir | string {
    let d: MNode = this.root;
    for (const n of path.slice(0, -1)) {
      if (d.kind !== 'dir') return 'ENOTDIR';
      const e: { node: MNode } | undefined = d.entries.get(key(n));
      if (e === undefined) return 'ENOENT';
      d = e.node;
    }
    return d.kind === 'dir' ? d : 'ENOTDIR';
  }

  /** Applies `o`; returns the errno code Linux would give, or null. */
  apply(o: Op): string | null {
    const last = o.path[o.path.length - 1]!;
    const p = this.parent(o.path);
    if (typeof p === 'string') return p;
    const cur = p.entries.get(key(last));
    switch (o.op) {
      case 'write':
        if (cur?.node.kind === 'dir') return 'EISDIR';
        if (cur) (cur.node as MFile).data = new Uint8Array(o.size).fill(o.fill);
        else p.entries.set(key(last), { name: last, node: { kind: 'file', data: new Uint8Array(o.size).fill(o.fill) } });
        return null;
      case 'pwrite': {
        if (!cur) return 'ENOENT';
        if (cur.node.kind === 'dir') return 'EISDIR';
        const f = cur.node;
        const end = Math.max(f.data.length, o.off + o.size);
        const nd = new Uint8Array(end);
        nd.set(f.data);
        nd.fill(o.fill, o.off, o.off + o.size);
        f.data = nd;
        return null;
      }
      case 'truncate': {
        if (!cur) return 'ENOENT';
        if (cur.node.kind === 'dir') return 'EISDIR';
        const nd = new Uint8Array(o.size);
        nd.set(cur.node.data.subarray(0, o.size));
        cur.node.data = nd;
        return null;
      }
      case 'mkdir':
        if (cur) return 'EEXIST';
        p.entries.set(key(last), { name: last, node: { kind: 'dir', entries: new Map() } });
        return null;
      case 'unlink':
        if (!cur) return 'ENOENT';
        if (cur.node.kind === 'dir') return 'EISDIR';
        p.entries.delete(key(last));
        return null;
      case 'rmdir':
        if (!cur) return 'ENOENT';
        if (cur.node.kind !== 'dir') return 'ENOTDIR';
        if (cur.node.entries.size > 0) return 'ENOTEMPTY';
        p.entries.delete(key(last));
        return null;
      case 'rename': {
        // Both parents are resolved before the source is looked up (do_renameat2).
        const q = this.parent(o.to);
        if (typeof q === 'string') return q;
        if (!cur) return 'ENOENT';
        const toLast = o.to[o.to.length - 1]!;
        const tgt = q.entries.get(key(toLast));
        if (tgt?.node === cur.node) return null;
        const a = o.path.map(key);
        const b = o.to.map(key);
        if (cur.node.kind === 'dir' && b.length > a.length && a.every((x, i) => b[i] === x)) return 'EINVAL';
        if (tgt && a.length > b.length && b.every((x, i) => a[i] === x)) return 'ENOTEMPTY';
        if (tgt) {
          if (cur.node.kind === 'dir' && tgt.node.kind !== 'dir') return 'ENOTDIR';
          if (cur.node.kind !== 'dir' && tgt.node.kind === 'dir') return 'EISDIR';
          if (tgt.node.kind === 'dir' && tgt.node.entries.size > 0) return 'ENOTEMPTY';
        }
        p.entries.delete(key(last));
        q.entries.set(key(toLast), { name: tgt ? tgt.name : toLast, node: cur.node });
        return null;
      }
      case 'exchange': {
        // renameat2(RENAME_EXCHANGE): both names must exist; neither may be an ancestor of the
        // other's parent (EINVAL from either side); the names stay and the nodes trade places.
        const q = this.parent(o.to);
        if (typeof q === 'string') return q;
        if (!cur) return 'ENOENT';
        const tgt = q.entries.get(key(o.to[o.to.length - 1]!));
        if (!tgt) return 'ENOENT';
        if (tgt.node === cur.node) return null;
        const a = o.path.map(key);
        const b = o.to.map(key);
        if (b.length > a.length && a.every((x, i) => b[i] === x)) return 'EINVAL';
        if (a.length > b.length && b.every((x, i) => a[i] === x)) return 'EINVAL';
        const node = cur.node;
        cur.node = tgt.node;
        tgt.node = node;
        return null;
      }
    }
  }
}

function applyTkl(k: Tkl, o: Op): string | null {
  const path = '/mnt/fat/' + o.path.join('/');
  try {
    switch (o.op) {
      case 'write':
        k.fs.writeFile(path, new Uint8Array(o.size).fill(o.fill));
        break;
      case 'pwrite': {
        const fd = k.sys.openat(AT_FDCWD, path, O_WRONLY);
        try {
          k.sys.pwrite64(fd, new Uint8Array(o.size).fill(o.fill), o.size, o.off);
        } finally {
          k.sys.close(fd);
        }
        break;
      }
      case 'truncate':
        k.sys.truncate(path, o.size);
        break;
      case 'mkdir':
        k.sys.mkdir(path, 0o755);
        break;
      case 'unlink':
        k.sys.unlink(path);
        break;
      case 'rmdir':
        k.sys.rmdir(path);
        break;
      case 'rename':
        k.sys.rename(path, '/mnt/fat/' + o.to.join('/'));
        break;
      case 'exchange':
        k.sys.renameat2(AT_FDCWD, path, AT_FDCWD, '/mnt/fat/' + o.to.join('/'), RENAME_EXCHANGE);
        break;
    }
  } catch (e) {
    const c = (e as { code?: string }).code;
    if (c === undefined) throw e;
    return c;
  }
  return null;
}

function assertTreeMatches(k: Tkl, at: string, d: MDir, what: string): void {
  const names = k.fs.readdir(at).sort();
  const want = [...d.entries.values()].map((e) => e.name).sort();
  assert.deepEqual(names, want, `${what}: entries of ${at}`);
  for (const e of d.entries.values()) {
    const p = `${at}/${e.name}`;
    if (e.node.kind === 'dir') assertTreeMatches(k, p, e.node, what);
    else assert.deepEqual(k.fs.readFile(p), e.node.data, `${what}: contents of ${p}`);
  }
}

const pathArb = fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('write' as const), path: pathArb, size: fc.integer({ min: 0, max: 9000 }), fill: fc.integer({ min: 1, max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('pwrite' as const), path: pathArb, off: fc.integer({ min: 0, max: 12000 }), size: fc.integer({ min: 1, max: 3000 }), fill: fc.integer({ min: 1, max: 255 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), path: pathArb, size: fc.integer({ min: 0, max: 10000 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('mkdir' as const), path: pathArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unlink' as const), path: pathArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('rmdir' as const), path: pathArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('rename' as const), path: pathArb, to: pathArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('exchange' as const), path: pathArb, to: pathArb }) },
);

test('random operation sequences agree with the vfat model; fsck.fat -n is clean after each', { skip: missingTools('fsck.fat') ?? false, timeout: SOAK ? 3_600_000 : 120_000 }, () => {
  const { dir, cleanup } = tempDir();
  let n = 0;
  try {
    fc.assert(
      fc.property(fc.constantFrom(12, 16, 32), fc.array(opArb, { minLength: 1, maxLength: SOAK ? 120 : 40 }), (fat, ops) => {
        const img = sparseImage(dir, `p${n++}.img`, fat === 32 ? 40 * MIB : fat === 16 ? 16 * MIB : 4 * MIB);
        const d = fileDisk(img);
        mkfsFat(d, { type: fat as 12 | 16 | 32, clusterSize: fat === 32 ? 512 : 2048 });
        d.close();
        const model = new Model();
        let k = boot({ host: new SimHost({ seed: n }) });
        k.fs.mkdir('/mnt/fat');
        k.sys.mount(k.addDisk(fileDisk(img)), '/mnt/fat', 'vfat', 0, '');
        ops.forEach((o, i) => {
          const want = model.apply(o);
          const got = applyTkl(k, o);
          assert.equal(got, want, `op ${i} ${JSON.stringify(o)}`);
        });
        assertTreeMatches(k, '/mnt/fat', model.root, 'before remount');
        k.sys.umount2('/mnt/fat');
        assertFsckClean(img);
        k = boot({ host: new SimHost({ seed: n }) });
        k.fs.mkdir('/mnt/fat');
        k.sys.mount(k.addDisk(fileDisk(img, { readOnly: true })), '/mnt/fat', 'vfat', 1, '');
        assertTreeMatches(k, '/mnt/fat', model.root, 'after remount');
        k.sys.umount2('/mnt/fat');
        rmSync(img);
      }),
      { numRuns: SOAK ? 1000 : 40, seed: Number(process.env.TKL_SEED ?? Date.now() % 1e9) },
    );
  } finally {
    cleanup();
  }
});
