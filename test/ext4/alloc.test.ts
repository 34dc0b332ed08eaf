// Block allocation layout, checked with debugfs and against Linux: files written side by side
// keep long runs (stream windows, mballoc.ts), many small files still pack into consecutive
// blocks, and a disk filled by interleaved writers is used to the last block (windows never
// cause ENOSPC). e2fsck -fn is clean after each.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { Tkl } from '../../src/index.js';
import { e2fsck, missingTools, mke2fs, mountTkl, run, tempDir, withLoopMount } from './helpers.js';

const missing = missingTools();
const O_WRONLY_CREAT = 0o101;

/** Leaf extents of `path` as debugfs lists them. */
function extents(img: string, path: string): number {
  return run('debugfs', ['-R', `ex ${path}`, img]).split('\n').filter((l) => {
    const m = /^\s*(\d+)\/\s*(\d+)/.exec(l);
    return m !== null && m[1] === m[2];
  }).length;
}

/** The first physical block of each file in `paths` (one debugfs run). */
function firstBlocks(img: string, dir: string, paths: string[]): number[] {
  const cmds = join(dir, 'cmds');
  fs.writeFileSync(cmds, paths.map((p) => `bmap ${p} 0\n`).join(''));
  const out = run('debugfs', ['-f', cmds, img]).split('\n').filter((l) => /^\d+$/.test(l.trim()));
  assert.equal(out.length, paths.length, 'debugfs mapped every file');
  return out.map(Number);
}

/** Writes `files` alternately in `piece`-byte pieces until each holds `size` bytes. */
function interleave(k: Tkl, files: string[], size: number, piece: number, fsync: boolean): void {
  const fds = files.map((f) => k.sys.open(f, O_WRONLY_CREAT, 0o644));
  const buf = new Uint8Array(piece);
  for (let done = 0; done < size; done += piece) {
    fds.forEach((fd, i) => {
      buf.fill((done / piece + i) & 0xff);
      assert.equal(k.sys.pwrite64(fd, buf, piece, done), piece);
      if (fsync) k.sys.fsync(fd);
    });
  }
  for (const fd of fds) k.sys.close(fd);
}

describe('ext4 block allocation layout', { skip: missing ?? false }, () => {
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir();
  });
  after(() => tmp?.cleanup());

  for (const [name, writers, fsync] of [['two files', 2, false], ['two files, fsync after every write', 2, true], ['four files', 4, false]] as const) {
    it(`${name} written alternately in 64 KiB pieces (16 MiB each) keep a handful of extents`, () => {
      const img = join(tmp.dir, `inter-${writers}-${fsync}`);
      mke2fs(img, 256 << 20, ['-t', 'ext4', '-b', '4096']);
      const k = mountTkl(img);
      const names = Array.from({ length: writers }, (_, i) => `f${i}`);
      interleave(k, names.map((n) => `/mnt/img/${n}`), 16 << 20, 64 << 10, fsync);
      k.sys.umount2('/mnt/img', 0);
      const f = e2fsck(img);
      assert.deepEqual(f.problems, [], f.output);
      // Linux (delayed allocation) gives 1–2 extents per file here; tkl allocated 256 before.
      for (const n of names) {
        const e = extents(img, `/${n}`);
        assert.ok(e <= 4, `/${n} has ${e} extents`);
      }
      withLoopMount(img, 'ro', (m) => {
        // Each piece holds its own fill byte: the runs hold the data in order.
        const got = fs.readFileSync(join(m, 'f1'));
        assert.equal(got.length, 16 << 20);
        for (let piece = 0; piece < 256; piece++) {
          const v = (piece + 1) & 0xff;
          assert.ok(got.subarray(piece << 16, (piece + 1) << 16).every((x) => x === v), `piece ${piece}`);
        }
      });
    });
  }

  it('1,000 files of 4 KiB occupy a few runs of consecutive blocks, as on Linux', () => {
    const paths = Array.from({ length: 1000 }, (_, i) => `/d/s${i}`);
    const data = new Uint8Array(4096).fill(0x5a);
    /** Span from the lowest to the highest block, and the runs of consecutive blocks. */
    const layout = (blocks: number[]): { span: number; runs: number } => {
      const s = blocks.slice().sort((x, y) => x - y);
      let runs = 1;
      for (let i = 1; i < s.length; i++) if (s[i] !== s[i - 1]! + 1) runs++;
      return { span: s[s.length - 1]! - s[0]! + 1, runs };
    };
    // Linux, measured the same way. Its per-CPU locality groups sometimes start a second run
    // (seen: span 1000–1475 blocks in 1–2 runs).
    const limg = join(tmp.dir, 'small-linux');
    mke2fs(limg, 256 << 20, ['-t', 'ext4', '-b', '4096']);
    withLoopMount(limg, 'rw', (m) => {
      fs.mkdirSync(join(m, 'd'));
      for (const p of paths) fs.writeFileSync(join(m, p), data);
    });
    const linux = layout(firstBlocks(limg, tmp.dir, paths));
    const img = join(tmp.dir, 'small-tkl');
    mke2fs(img, 256 << 20, ['-t', 'ext4', '-b', '4096']);
    const k = mountTkl(img);
    k.fs.mkdir('/mnt/img/d');
    for (const p of paths) k.fs.writeFile(`/mnt/img${p}`, data);
    k.sys.umount2('/mnt/img', 0);
    const f = e2fsck(img);
    assert.deepEqual(f.problems, [], f.output);
    const tkl = layout(firstBlocks(img, tmp.dir, paths));
    // Packed: at most a few runs, within three times the data (a file per window, 8 MiB
    // apart, would span 2 million blocks).
    const ok = (l: { span: number; runs: number }): boolean => l.runs <= 5 && l.span <= 3000;
    const say = `tkl ${JSON.stringify(tkl)}, Linux ${JSON.stringify(linux)}`;
    assert.ok(ok(linux), say);
    assert.ok(ok(tkl), say);
  });

  it('interleaved writers fill the disk to the last block: windows give way before ENOSPC', () => {
    const img = join(tmp.dir, 'full');
    mke2fs(img, 32 << 20, ['-t', 'ext4', '-b', '4096', '-O', '^has_journal']);
    const k = mountTkl(img);
    const free0 = k.sys.statfs('/mnt/img').bfree;
    const fds = [0, 1, 2].map((i) => k.sys.open(`/mnt/img/g${i}`, O_WRONLY_CREAT, 0o644));
    const buf = new Uint8Array(64 << 10).fill(1);
    let written = 0;
    let full = false;
    for (let pos = 0; !full; pos += buf.length) {
      assert.ok(pos < 64 << 20, 'the disk never filled');
      for (const fd of fds) {
        try {
          const n = k.sys.pwrite64(fd, buf, buf.length, pos);
          written += n;
          if (n < buf.length) full = true;
        } catch (e) {
          assert.equal((e as { code?: string }).code, 'ENOSPC');
          full = true;
        }
      }
    }
    for (const fd of fds) k.sys.close(fd);
    const left = k.sys.statfs('/mnt/img').bfree;
    k.sys.umount2('/mnt/img', 0);
    // Every free block went to file data or the extent blocks that map it.
    assert.ok(left <= 8, `${left} blocks left free`);
    assert.ok(written / 4096 >= free0 - 8, `${written / 4096} blocks written of ${free0} free`);
    const f = e2fsck(img);
    assert.deepEqual(f.problems, [], f.output);
  });
});
