// The host side of the differential tests: filesystem operations through node:fs on a
// directory of the host, with their outcomes (a value or an errno code) in a comparable form.
// It imports nothing from tkl, so it can run in a separate process as another user.

import * as nfs from 'node:fs';
import { join } from 'node:path';

const O_CLOEXEC = 0o2000000;
const O_WRONLY = nfs.constants.O_WRONLY;

export type Op =
  | { op: 'open'; path: string; flags: number; mode: number; data: number[] | null }
  | { op: 'pwrite'; path: string; offset: number; data: number[] }
  | { op: 'truncate'; path: string; len: number }
  | { op: 'mkdir'; path: string; mode: number }
  | { op: 'rename'; from: string; to: string }
  | { op: 'link'; from: string; to: string }
  | { op: 'symlink'; target: string; path: string }
  | { op: 'unlink'; path: string }
  | { op: 'rmdir'; path: string }
  | { op: 'chmod'; path: string; mode: number }
  | { op: 'readdir'; path: string }
  | { op: 'stat'; path: string; follow: boolean }
  | { op: 'read'; path: string }
  | { op: 'readlink'; path: string };


/** What one operation produced, in a form both worlds can be compared by. */
export type Outcome = { ok: true; value?: unknown } | { ok: false; code: string };

export interface World {
  run(op: Op): Outcome;
}

export function outcome(fn: () => unknown): Outcome {
  try {
    const value = fn();
    return value === undefined ? { ok: true } : { ok: true, value };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') throw e;
    return { ok: false, code };
  }
}

export function statSummary(s: { mode: number; size: number; nlink: number }) {
  const type = s.mode & 0o170000;
  // Directory sizes count entries on both tmpfs; compare them too.
  return { mode: s.mode, nlink: s.nlink, size: s.size, type };
}


export class HostWorld implements World {
  constructor(readonly root: string) {}
  p(rel: string): string {
    // Plain concatenation: path.join would normalise "a/.." away before Linux sees it.
    return `${this.root}/${rel}`;
  }
  run(op: Op): Outcome {
    const fs = nfs;
    switch (op.op) {
      case 'open':
        return outcome(() => {
          const fd = fs.openSync(this.p(op.path), op.flags | O_CLOEXEC, op.mode);
          try {
            if (op.data !== null) return fs.writeSync(fd, Buffer.from(op.data));
          } catch (e) {
            return `write:${(e as NodeJS.ErrnoException).code}`;
          } finally {
            fs.closeSync(fd);
          }
          return undefined;
        });
      case 'pwrite':
        return outcome(() => {
          const fd = fs.openSync(this.p(op.path), O_WRONLY);
          try {
            return fs.writeSync(fd, Buffer.from(op.data), 0, op.data.length, op.offset);
          } finally {
            fs.closeSync(fd);
          }
        });
      case 'truncate':
        // node:fs has no truncate(2): it opens O_RDWR and ftruncates (and clamps negative
        // lengths to 0, so the generator makes none; the unit tests cover EINVAL).
        return outcome(() => fs.truncateSync(this.p(op.path), op.len));
      case 'mkdir':
        return outcome(() => fs.mkdirSync(this.p(op.path), op.mode));
      case 'rename':
        return outcome(() => fs.renameSync(this.p(op.from), this.p(op.to)));
      case 'link':
        return outcome(() => fs.linkSync(this.p(op.from), this.p(op.to)));
      case 'symlink':
        return outcome(() => fs.symlinkSync(op.target, this.p(op.path)));
      case 'unlink':
        return outcome(() => fs.unlinkSync(this.p(op.path)));
      case 'rmdir':
        return outcome(() => fs.rmdirSync(this.p(op.path)));
      case 'chmod':
        return outcome(() => fs.chmodSync(this.p(op.path), op.mode));
      case 'readdir':
        return outcome(() => fs.readdirSync(this.p(op.path)).sort());
      case 'stat':
        return outcome(() => statSummary(op.follow ? fs.statSync(this.p(op.path)) : fs.lstatSync(this.p(op.path))));
      case 'read':
        return outcome(() => [...fs.readFileSync(this.p(op.path))]);
      case 'readlink':
        return outcome(() => fs.readlinkSync(this.p(op.path)));
    }
  }
}

/** The whole tree beneath the test directory, as comparable data. */
export function snapshotHost(root: string, owners = false): unknown {
  const out: Record<string, unknown> = {};
  const walk = (rel: string): void => {
    const full = join(root, rel);
    const st = nfs.lstatSync(full);
    const entry: Record<string, unknown> = statSummary(st);
    if (owners) Object.assign(entry, { uid: st.uid, gid: st.gid });
    if (st.isSymbolicLink()) entry.target = nfs.readlinkSync(full);
    else if (st.isFile()) entry.data = nfs.readFileSync(full).toString('base64');
    out[rel] = entry;
    if (st.isDirectory()) for (const n of nfs.readdirSync(full).sort()) walk(rel === '' ? n : `${rel}/${n}`);
  };
  walk('');
  return out;
}


/** The host's fs.protected_* sysctls, so a tkl kernel can be set up to decide as this Linux does. */
export function hostSysctl(): { protectedHardlinks: number; protectedSymlinks: number; protectedRegular: number; protectedFifos: number } {
  const read = (name: string): number => {
    try {
      return Number(nfs.readFileSync(`/proc/sys/fs/${name}`, 'utf8').trim());
    } catch {
      return 0;
    }
  };
  return {
    protectedHardlinks: read('protected_hardlinks'),
    protectedSymlinks: read('protected_symlinks'),
    protectedRegular: read('protected_regular'),
    protectedFifos: read('protected_fifos'),
  };
}

/** The seed for a differential run: TKL_DIFF_SEED (a number, or "random"), else `fixed`. */
export function diffSeed(fixed: number): number {
  const v = process.env.TKL_DIFF_SEED;
  if (v === undefined || v === '') return fixed;
  if (v === 'random') return Date.now() % 2 ** 31;
  return Number(v);
}
