// The tkl side of the differential tests: the same operations through a kernel's syscalls.

import type { Process } from '../../src/index.js';
import { AT_FDCWD, O_CLOEXEC, O_RDONLY, O_WRONLY } from '../../src/abi/linux/fcntl.js';
import { outcome, statSummary, type Op, type Outcome, type World } from './host_world.js';

/**
 * Symlinks such as a -> "." let a path climb above the test directory, so both worlds put it
 * beneath the same stack of padding directories (PAD), inside a 0700 directory like mkdtemp's.
 */
export const PAD = 'p/p/p/p/p';
export const TKL_ROOT = '/r/' + PAD + '/w';

export class TklWorld implements World {
  constructor(readonly k: Process) {}
  p(rel: string): string {
    return `${TKL_ROOT}/${rel}`;
  }
  run(op: Op): Outcome {
    const s = this.k.sys;
    switch (op.op) {
      case 'open':
        return outcome(() => {
          const fd = s.openat(AT_FDCWD, this.p(op.path), op.flags | O_CLOEXEC, op.mode);
          try {
            if (op.data !== null) return this.writeSync(fd, Uint8Array.from(op.data), -1);
          } catch (e) {
            return `write:${(e as { code: string }).code}`;
          } finally {
            s.close(fd);
          }
          return undefined;
        });
      case 'pwrite':
        return outcome(() => {
          const fd = s.openat(AT_FDCWD, this.p(op.path), O_WRONLY);
          try {
            return this.writeSync(fd, Uint8Array.from(op.data), op.offset);
          } finally {
            s.close(fd);
          }
        });
      case 'truncate':
        return outcome(() => void s.truncate(this.p(op.path), op.len));
      case 'mkdir':
        return outcome(() => void s.mkdir(this.p(op.path), op.mode));
      case 'rename':
        return outcome(() => void s.rename(this.p(op.from), this.p(op.to)));
      case 'link':
        return outcome(() => void s.link(this.p(op.from), this.p(op.to)));
      case 'symlink':
        return outcome(() => void s.symlink(op.target, this.p(op.path)));
      case 'unlink':
        return outcome(() => void s.unlink(this.p(op.path)));
      case 'rmdir':
        return outcome(() => void s.rmdir(this.p(op.path)));
      case 'chmod':
        return outcome(() => void s.chmod(this.p(op.path), op.mode));
      case 'readdir':
        return outcome(() => {
          const fd = s.openat(AT_FDCWD, this.p(op.path), O_RDONLY | 0o200000);
          try {
            const names: string[] = [];
            for (let batch = s.getdents64(fd); batch.length > 0; batch = s.getdents64(fd)) {
              for (const d of batch) if (d.name !== '.' && d.name !== '..') names.push(d.name);
            }
            return names.sort();
          } finally {
            s.close(fd);
          }
        });
      case 'stat':
        return outcome(() => statSummary(op.follow ? s.stat(this.p(op.path)) : s.lstat(this.p(op.path))));
      case 'read':
        return outcome(() => [...this.k.fs.readFile(this.p(op.path))]);
      case 'readlink':
        return outcome(() => s.readlink(this.p(op.path)));
    }
  }
  /**
   * The file was just opened, so a plain write lands at offset 0 — or at the end with
   * O_APPEND, as pwrite does too on Linux: pwrite64 is the synchronous equivalent.
   */
  private writeSync(fd: number, data: Uint8Array, pos: number): number {
    return this.k.sys.pwrite64(fd, data, data.length, pos < 0 ? 0 : pos);
  }
}


export function snapshotTkl(k: Process, owners = false): unknown {
  const out: Record<string, unknown> = {};
  const walk = (rel: string): void => {
    const full = rel === '' ? TKL_ROOT : `${TKL_ROOT}/${rel}`;
    const st = k.sys.lstat(full);
    const entry: Record<string, unknown> = statSummary(st);
    if (owners) Object.assign(entry, { uid: st.uid, gid: st.gid });
    const type = st.mode & 0o170000;
    if (type === 0o120000) entry.target = k.sys.readlink(full);
    else if (type === 0o100000) entry.data = Buffer.from(k.fs.readFile(full)).toString('base64');
    out[rel] = entry;
    if (type === 0o040000) for (const n of k.fs.readdir(full).sort()) walk(rel === '' ? n : `${rel}/${n}`);
  };
  walk('');
  return out;
}

