// Helpers for the ext4 suites: sparse images under a mkdtemp directory, the real tools
// (mke2fs, e2fsck, debugfs, loop mounts) with cleanup guaranteed, and snapshots of a tree as
// Linux sees it (node:fs on a loop mount) and as tkl sees it (k.sys), for comparison.

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boot, fileDisk, type Tkl } from '../../src/index.js';

/** Why the interop tests cannot run here, or null when they can. */
export function missingTools(needLoop = true): string | null {
  if (process.getuid?.() !== 0) return 'not root: ext4 interop tests need root for loop mounts and mke2fs -d ownership';
  for (const t of ['mke2fs', 'e2fsck', 'debugfs', 'dumpe2fs']) {
    if (spawnSync('which', [t]).status !== 0) return `${t} missing (install e2fsprogs)`;
  }
  if (needLoop) {
    if (spawnSync('losetup', ['-f']).status !== 0) return 'no free loop device (losetup -f failed)';
  }
  return null;
}

/**
 * Where temporary images go: /dev/shm when it is a writable tmpfs (images are then memory,
 * and loop-mounted writes do not wait on a shared disk), else the system temporary directory.
 */
export function imageTmp(): string {
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    if (fs.statfsSync('/dev/shm').bavail * fs.statfsSync('/dev/shm').bsize > 2 ** 30) return '/dev/shm';
  } catch {
    // no /dev/shm
  }
  return tmpdir();
}

/** A fresh temporary directory, removed (with anything mounted in it unmounted) by cleanup(). */
export function tempDir(prefix = 'tkl-ext4-'): { dir: string; cleanup(): void } {
  const dir = fs.mkdtempSync(join(imageTmp(), prefix));
  return {
    dir,
    cleanup() {
      // Unmount anything a failed test left mounted beneath the directory.
      const mounts = fs.readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m): m is string => !!m && m.startsWith(dir));
      for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], input, maxBuffer: 64 << 20 });
}

/** Makes a sparse image of `size` bytes formatted by mke2fs with `args`, populated from `src` when given. */
export function mke2fs(img: string, size: number, args: string[], src?: string): void {
  fs.closeSync(fs.openSync(img, 'w'));
  fs.truncateSync(img, size);
  const a = ['-q', '-F', ...args];
  if (src !== undefined) a.push('-d', src);
  a.push(img);
  run('mke2fs', a);
}

/** e2fsck -fn: exit status and output. A clean filesystem gives status 0 and only the pass lines. */
export function e2fsck(img: string): { status: number; output: string; problems: string[] } {
  const r = spawnSync('e2fsck', ['-fn', img], { encoding: 'utf8' });
  const output = (r.stdout ?? '') + (r.stderr ?? '');
  const problems = output.split('\n').filter((l) => l.trim() !== '' && !/^(e2fsck \d|Pass \d|.*: \d+\/\d+ files \()/.test(l));
  return { status: r.status ?? -1, output, problems };
}

/** Runs `fn` with `img` loop-mounted at a fresh directory; always unmounts. */
export function withLoopMount<T>(img: string, opts: string, fn: (dir: string) => T): T {
  const dir = fs.mkdtempSync(join(imageTmp(), 'tkl-loop-'));
  run('mount', ['-o', `loop,${opts}`, img, dir]);
  try {
    return fn(dir);
  } finally {
    let ok = false;
    for (let i = 0; i < 20 && !ok; i++) {
      ok = spawnSync('umount', [dir]).status === 0;
      if (!ok) spawnSync('sleep', ['0.1']);
    }
    if (!ok) spawnSync('umount', ['-l', dir]);
    fs.rmdirSync(dir);
  }
}

/** One file as both sides report it. */
export interface Entry {
  type: 'file' | 'dir' | 'link' | 'other';
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  size: number;
  mtime: string;
  atime?: string;
  ctime?: string;
  /** sha256 of the contents (files), the target (links). */
  content: string;
  /** Device numbers of device nodes as "major:minor". */
  rdev?: string;
  /** 512-byte blocks allocated (compared where both sides must agree on allocation). */
  blocks?: number;
  xattrs?: Record<string, string>;
}

export type Snapshot = Map<string, Entry>;

const S_IFMT = 0o170000;
const typeOf = (mode: number): Entry['type'] => {
  const t = mode & S_IFMT;
  return t === 0o100000 ? 'file' : t === 0o040000 ? 'dir' : t === 0o120000 ? 'link' : 'other';
};
const hash = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex').slice(0, 16);
/** Files larger than this are compared by the first and last 4 MiB and 64 KiB every 256 MiB. */
const HUGE = 256 << 20;

/** The byte ranges a content hash covers: everything, or samples of a huge (sparse) file. */
function hashRanges(size: number): [number, number][] {
  if (size <= HUGE) return [[0, size]];
  const r: [number, number][] = [[0, 4 << 20]];
  for (let p = HUGE; p + (64 << 10) < size - (4 << 20); p += HUGE) r.push([p, p + (64 << 10)]);
  r.push([size - (4 << 20), size]);
  return r;
}

const HASH_BUF = new Uint8Array(1 << 20);

function hashWith(size: number, pread: (buf: Uint8Array, len: number, pos: number) => number): string {
  const h = createHash('sha256');
  const buf = HASH_BUF;
  for (const [from, to] of hashRanges(size)) {
    for (let pos = from; pos < to; ) {
      const n = pread(buf, Math.min(buf.length, to - pos), pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  }
  return h.digest('hex').slice(0, 16);
}

/** sha256 of a host file, read in 1 MiB pieces (sampled past 256 MiB). */
function hashFile(p: string): string {
  const fd = fs.openSync(p, 'r');
  try {
    return hashWith(fs.fstatSync(fd).size, (b, len, pos) => fs.readSync(fd, b, 0, len, pos));
  } finally {
    fs.closeSync(fd);
  }
}

/** The same through tkl. */
function tklHashFile(k: Tkl, p: string): string {
  const fd = k.sys.open(p, 0);
  try {
    return hashWith(k.sys.fstat(fd).size, (b, len, pos) => k.sys.pread64(fd, b, len, pos));
  } finally {
    k.sys.close(fd);
  }
}

const ts = (sec: bigint | number, nsec: bigint | number): string => `${sec}.${String(nsec).padStart(9, '0')}`;

export interface SnapOptions {
  times?: boolean;
  ctime?: boolean;
  xattrs?: boolean;
  blocks?: boolean;
  /** Skip these names at the root (lost+found). */
  skip?: string[];
}

/** The tree under `root` as Linux shows it (node:fs, no following of links). */
export function hostSnapshot(root: string, o: SnapOptions = {}): Snapshot {
  const out: Snapshot = new Map();
  const allX = o.xattrs ? hostXattrsTree(root) : null;
  const contents: [Entry, string][] = [];
  // Every stat first, then the contents: reading a file may move its atime (relatime), and a
  // hard link seen later must show the time as it was.
  const walk = (rel: string): void => {
    const p = rel === '' ? root : join(root, rel);
    const st = fs.lstatSync(p, { bigint: true });
    const mode = Number(st.mode);
    const type = typeOf(mode);
    const e: Entry = {
      type, mode, uid: Number(st.uid), gid: Number(st.gid), nlink: Number(st.nlink), size: Number(st.size), content: '',
      mtime: ts(st.mtimeNs / 1_000_000_000n, st.mtimeNs % 1_000_000_000n),
    };
    if (o.times) e.atime = ts(st.atimeNs / 1_000_000_000n, st.atimeNs % 1_000_000_000n);
    if (o.ctime) e.ctime = ts(st.ctimeNs / 1_000_000_000n, st.ctimeNs % 1_000_000_000n);
    if (type === 'other') {
      const r = Number(st.rdev);
      e.rdev = `${(r >>> 8) & 0xfff}:${(r & 0xff) | ((r >>> 12) & 0xfff00)}`;
    }
    if (o.blocks) e.blocks = Number(st.blocks);
    if (allX !== null && type !== 'link') e.xattrs = allX.get(p) ?? {};
    if (type === 'file' || type === 'link') contents.push([e, p]);
    out.set(rel === '' ? '/' : '/' + rel, e);
    if (type === 'dir') {
      for (const name of fs.readdirSync(p).sort()) {
        if (rel === '' && (o.skip ?? ['lost+found']).includes(name)) continue;
        walk(rel === '' ? name : `${rel}/${name}`);
      }
    }
  };
  walk('');
  for (const [e, p] of contents) e.content = e.type === 'file' ? hashFile(p) : hash(fs.readlinkSync(p, { encoding: 'buffer' }));
  return out;
}

/** Every file's xattrs under `root` through one recursive getfattr (hex values, sorted by name). */
function hostXattrsTree(root: string): Map<string, Record<string, string>> {
  const r = spawnSync('getfattr', ['-R', '-P', '-d', '-m', '-', '-e', 'hex', '--absolute-names', root], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const all = new Map<string, Record<string, string>>();
  let cur: Record<string, string> | null = null;
  for (const line of (r.stdout ?? '').split('\n')) {
    if (line.startsWith('# file: ')) {
      cur = {};
      all.set(unescapeGetfattr(line.slice(8)), cur);
      continue;
    }
    const m = /^([^#=][^=]*)=0x([0-9a-f]*)$/.exec(line.trim()) ?? /^([^#=][^=]*)$/.exec(line.trim());
    if (m && cur !== null && !m[1]!.startsWith('security.')) cur[m[1]!] = m[2] ?? '';
  }
  for (const [k, v] of all) all.set(k, sortKeys(v));
  return all;
}

/** getfattr prints octal escapes (\\ooo) for bytes outside printable ASCII. */
function unescapeGetfattr(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && /^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      bytes.push(parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else bytes.push(...Buffer.from(s[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

function sortKeys(x: Record<string, string>): Record<string, string> {
  const o: Record<string, string> = {};
  for (const k of Object.keys(x).sort()) o[k] = x[k]!;
  return o;
}

/** The tree under `root` as tkl shows it (k.sys). */
export function tklSnapshot(k: Tkl, root: string, o: SnapOptions = {}): Snapshot {
  const out: Snapshot = new Map();
  const sys = k.sys;
  const walk = (rel: string): void => {
    const p = rel === '' ? root : `${root}/${rel}`;
    const st = sys.statx(-100, p, 0x100 /* AT_SYMLINK_NOFOLLOW */, 0xfff);
    const mode = st.mode;
    const type = typeOf(mode);
    let content = '';
    if (type === 'file') content = tklHashFile(k, p);
    else if (type === 'link') content = hash(Buffer.from(sys.readlink(p)));
    const e: Entry = {
      type, mode, uid: st.uid, gid: st.gid, nlink: st.nlink, size: st.size, content,
      mtime: ts(st.mtime.sec, st.mtime.nsec),
    };
    if (o.times) e.atime = ts(st.atime.sec, st.atime.nsec);
    if (o.ctime) e.ctime = ts(st.ctime.sec, st.ctime.nsec);
    if (type === 'other') e.rdev = `${st.rdevMajor}:${st.rdevMinor}`;
    if (o.blocks) e.blocks = st.blocks;
    if (o.xattrs && type !== 'link') {
      const x: Record<string, string> = {};
      for (const name of sys.llistxattr(p) as string[]) {
        if (name.startsWith('security.')) continue;
        x[name] = Buffer.from(sys.lgetxattr(p, name) as Uint8Array).toString('hex');
      }
      e.xattrs = sortKeys(x);
    }
    out.set(rel === '' ? '/' : '/' + rel, e);
    if (type === 'dir') {
      const names = k.fs.readdir(p).sort();
      for (const name of names) {
        if (rel === '' && (o.skip ?? ['lost+found']).includes(name)) continue;
        walk(rel === '' ? name : `${rel}/${name}`);
      }
    }
  };
  walk('');
  return out;
}

/** Differences between two snapshots, as readable lines (empty when equal). */
export function diffSnapshots(a: Snapshot, b: Snapshot, la = 'linux', lb = 'tkl', limit = 20): string[] {
  const out: string[] = [];
  for (const [p, e] of a) {
    const f = b.get(p);
    if (f === undefined) out.push(`${p}: only in ${la}`);
    else {
      const ja = JSON.stringify(e);
      const jb = JSON.stringify(f);
      if (ja !== jb) out.push(`${p}:\n  ${la}: ${ja}\n  ${lb}: ${jb}`);
    }
    if (out.length >= limit) return out;
  }
  for (const p of b.keys()) if (!a.has(p)) out.push(`${p}: only in ${lb}`);
  return out.slice(0, limit);
}

/** Boots a kernel with `img` attached and mounted at /mnt/img. */
export function mountTkl(img: string, opts: { readOnly?: boolean; type?: string; data?: string; flags?: number } = {}): Tkl {
  const k = boot();
  const dev = k.addDisk(fileDisk(img, { readOnly: opts.readOnly ?? false }));
  k.sys.mkdir('/mnt/img', 0o755);
  k.sys.mount(dev, '/mnt/img', opts.type ?? 'ext4', (opts.readOnly ? 1 : 0) | (opts.flags ?? 0), opts.data ?? '');
  return k;
}

export function sha(path: string): string {
  return hash(fs.readFileSync(path));
}
