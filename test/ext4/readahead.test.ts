// File data read-ahead and staged writes: small sequential reads are served from one window
// filled by a single device read that never runs past the file's extent or its end, and what
// they return always equals a reference copy while the same file and others are written,
// truncated, punched, unlinked and their blocks reused. Afterwards e2fsck -fn is silent and
// Linux reads the same bytes.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { boot, fileDisk, type Tkl } from '../../src/index.js';
import type { BlockDevice } from '../../src/block/block_device.js';
import { e2fsck, missingTools, mke2fs, run, tempDir, withLoopMount } from './helpers.js';
import { prng } from './tree.js';

const missing = missingTools();
const O_RDWR = 0o2;
const O_CREAT = 0o100;
const FALLOC_FL_KEEP_SIZE = 0x01;
const FALLOC_FL_PUNCH_HOLE = 0x02;

/** A device that records every read it is asked for, as [offset, length]. */
function recording(dev: BlockDevice): { dev: BlockDevice; reads: [number, number][] } {
  const reads: [number, number][] = [];
  return {
    reads,
    dev: {
      sectorSize: dev.sectorSize,
      size: dev.size,
      readOnly: dev.readOnly,
      read: (offset, into) => {
        reads.push([offset, into.length]);
        dev.read(offset, into);
      },
      write: (offset, from) => dev.write(offset, from),
      flush: () => dev.flush(),
      close: () => dev.close?.(),
    },
  };
}

function mount(img: string): { k: Tkl; reads: [number, number][] } {
  const k = boot();
  const r = recording(fileDisk(img));
  k.sys.mkdir('/mnt/img', 0o755);
  k.sys.mount(k.addDisk(r.dev), '/mnt/img', 'ext4', 0, '');
  return { k, reads: r.reads };
}

/** The physical block ranges [first, last] of `path`'s extents, as debugfs lists them. */
function extents(img: string, path: string): [number, number][] {
  const out = run('debugfs', ['-R', `ex ${path}`, img]);
  return [...out.matchAll(/^\s*\d+\/\s*\d+\s+\d+\/\s*\d+\s+\d+\s*-\s*\d+\s+(\d+)\s*-\s*(\d+)/gm)].map((m) => [Number(m[1]), Number(m[2])]);
}

describe('ext4 read-ahead and staged writes', { skip: missing ?? false }, () => {
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir();
  });
  after(() => tmp?.cleanup());

  it('small sequential reads take one device read per window, never past the extent or the end of the file', () => {
    const img = join(tmp.dir, 'ra.img');
    mke2fs(img, 64 << 20, ['-t', 'ext4', '-b', '4096']);
    const size = 300 * 4096 + 1000;
    {
      const { k } = mount(img);
      const data = new Uint8Array(size);
      for (let i = 0; i < size; i++) data[i] = (i * 7 + (i >>> 12)) & 0xff;
      k.fs.writeFile('/mnt/img/f', data);
      k.sys.umount2('/mnt/img', 0);
    }
    const ext = extents(img, '/f');
    assert.ok(ext.length >= 1, 'debugfs lists the extents');
    const { k, reads } = mount(img);
    const fd = k.sys.open('/mnt/img/f', 0);
    reads.length = 0;
    const buf = new Uint8Array(4096);
    let pos = 0;
    let calls = 0;
    for (;;) {
      const n = k.sys.pread64(fd, buf, buf.length, pos);
      if (n === 0) break;
      for (let i = 0; i < n; i++) assert.equal(buf[i], ((pos + i) * 7 + ((pos + i) >>> 12)) & 0xff, `byte ${pos + i}`);
      pos += n;
      calls++;
    }
    k.sys.close(fd);
    k.sys.umount2('/mnt/img', 0);
    assert.equal(pos, size);
    assert.equal(calls, 301);
    // 301 reads of 4 KiB, through windows of 32 blocks: a dozen device reads, not 301.
    assert.ok(reads.length <= 16, `${reads.length} device reads for ${calls} small reads`);
    for (const [off, len] of reads) {
      const first = off / 4096;
      const last = (off + len) / 4096 - 1;
      assert.ok(ext.some(([a, b]) => first >= a && last <= b), `device read of blocks ${first}–${last} lies within the file's extents ${JSON.stringify(ext)}`);
    }
  });

  it('what small reads return always equals a reference while files are written, truncated, punched and their blocks reused', () => {
    const img = join(tmp.dir, 'mix.img');
    // Small, so freed blocks are soon allocated again.
    mke2fs(img, 8 << 20, ['-t', 'ext4', '-b', '1024', '-O', '^has_journal']);
    const { k } = mount(img);
    const sys = k.sys;
    const rnd = prng(0x5eed);
    const ref = [new Uint8Array(0), new Uint8Array(0)];
    const names = ['/mnt/img/a', '/mnt/img/b'];
    let fds = names.map((n) => sys.open(n, O_RDWR | O_CREAT, 0o644));
    const pos = [0, 0];
    const fill = (n: number): Uint8Array => {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
      return b;
    };
    const grow = (f: number, to: number): void => {
      if (ref[f]!.length >= to) return;
      const r = new Uint8Array(to);
      r.set(ref[f]!);
      ref[f] = r;
    };
    const write = (f: number, off: number, data: Uint8Array): void => {
      assert.equal(sys.pwrite64(fds[f]!, data, data.length, off), data.length);
      grow(f, off + data.length);
      ref[f]!.set(data, off);
    };
    const buf = new Uint8Array(8192);
    for (let step = 0; step < 3000; step++) {
      const f = rnd() < 0.5 ? 0 : 1;
      const r = rnd();
      if (r < 0.55) {
        // Small reads, mostly sequential from where the last one ended.
        const len = [1024, 4096, 1000, 3000][Math.floor(rnd() * 4)]!;
        if (rnd() < 0.1) pos[f] = Math.floor(rnd() * (ref[f]!.length + 1));
        const n = sys.pread64(fds[f]!, buf, len, pos[f]!);
        const want = Math.max(0, Math.min(len, ref[f]!.length - pos[f]!));
        assert.equal(n, want, `step ${step}: read length`);
        assert.deepEqual(buf.subarray(0, n), ref[f]!.subarray(pos[f]!, pos[f]! + n), `step ${step}: file ${f} at ${pos[f]}`);
        pos[f]! += n;
        if (n === 0) pos[f] = 0;
      } else if (r < 0.8) {
        // A write somewhere: often just ahead of the reader, inside its window.
        const len = 1 + Math.floor(rnd() * (rnd() < 0.7 ? 3000 : 40000));
        const off = rnd() < 0.5 ? pos[f]! + Math.floor(rnd() * 20000) : Math.floor(rnd() * (ref[f]!.length + 5000));
        try {
          write(f, off, fill(len));
        } catch (e) {
          if ((e as { code?: string }).code !== 'ENOSPC') throw e;
          // A short write past the last free block: take the file as it now is.
          const back = new Uint8Array(sys.fstat(fds[f]!).size);
          sys.pread64(fds[f]!, back, back.length, 0);
          ref[f] = back;
        }
      } else if (r < 0.87) {
        const to = Math.floor(rnd() * (ref[f]!.length + 10000));
        sys.ftruncate(fds[f]!, to);
        const nr = new Uint8Array(to);
        nr.set(ref[f]!.subarray(0, Math.min(to, ref[f]!.length)));
        ref[f] = nr;
      } else if (r < 0.93) {
        const off = Math.floor(rnd() * (ref[f]!.length + 1));
        const len = 1 + Math.floor(rnd() * 20000);
        sys.fallocate(fds[f]!, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
        ref[f]!.fill(0, off, Math.min(ref[f]!.length, off + len));
      } else if (r < 0.97) {
        // Replace the file: its blocks are freed at the next commit and handed out again.
        sys.close(fds[f]!);
        sys.unlink(names[f]!);
        sys.sync();
        fds[f] = sys.open(names[f]!, O_RDWR | O_CREAT, 0o644);
        ref[f] = new Uint8Array(0);
        pos[f] = 0;
      } else sys.sync();
    }
    for (const fd of fds) sys.close(fd);
    fds = [];
    sys.umount2('/mnt/img', 0);
    const fsck = e2fsck(img);
    assert.deepEqual(fsck.problems, [], fsck.output);
    withLoopMount(img, 'ro', (m) => {
      assert.deepEqual(new Uint8Array(fs.readFileSync(join(m, 'a'))), ref[0]);
      assert.deepEqual(new Uint8Array(fs.readFileSync(join(m, 'b'))), ref[1]);
    });
  });

  it('small files with partial blocks, written in one piece or in several, read back the same under Linux', () => {
    const img = join(tmp.dir, 'small.img');
    mke2fs(img, 32 << 20, ['-t', 'ext4', '-b', '4096']);
    const { k } = mount(img);
    const rnd = prng(77);
    const want = new Map<string, Uint8Array>();
    for (let i = 0; i < 300; i++) {
      const size = Math.floor(rnd() * 20000);
      const data = new Uint8Array(size);
      for (let j = 0; j < size; j++) data[j] = Math.floor(rnd() * 256);
      const name = `f${i}`;
      const fd = k.sys.open(`/mnt/img/${name}`, O_RDWR | O_CREAT, 0o644);
      if (i % 3 === 0) {
        // In uneven pieces, each starting inside a block the previous one began.
        for (let p = 0; p < size; ) {
          const n = Math.min(size - p, 1 + Math.floor(rnd() * 5000));
          k.sys.pwrite64(fd, data.subarray(p, p + n), n, p);
          p += n;
        }
      } else k.sys.pwrite64(fd, data, size, 0);
      k.sys.close(fd);
      want.set(name, data);
    }
    k.sys.umount2('/mnt/img', 0);
    const fsck = e2fsck(img);
    assert.deepEqual(fsck.problems, [], fsck.output);
    withLoopMount(img, 'ro', (m) => {
      for (const [name, data] of want) assert.deepEqual(new Uint8Array(fs.readFileSync(join(m, name))), data, name);
    });
  });
});
