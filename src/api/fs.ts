// k.fs: a small convenience layer over the syscalls for people who do not want raw calls:
// readFile, writeFile, appendFile, mkdir (with parents), readdir, stat, lstat, exists, rm
// (recursive), rename, symlink, readlink, and walk (a depth-first tree walk). Everything is
// synchronous and throws the same SystemError as k.sys.

import { AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_NOFOLLOW, O_APPEND, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_RDONLY, O_TRUNC, O_WRONLY } from '../abi/linux/fcntl.js';
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, DT_DIR } from '../abi/linux/stat.js';
import { E, Errno } from '../kernel/errno.js';
import type { Task } from '../kernel/task.js';
import { sys_getdents64, type Dirent64 } from '../kernel/syscalls/sys_dir.js';
import { sys_mkdirat, sys_readlinkat, sys_renameat2, sys_symlinkat, sys_unlinkat } from '../kernel/syscalls/sys_namei.js';
import { sys_close, sys_openat } from '../kernel/syscalls/sys_open.js';
import { sys_read, sys_write } from '../kernel/syscalls/sys_rw.js';
import { sys_fstat, sys_newfstatat, type Stat } from '../kernel/syscalls/sys_stat.js';
import { Blocked } from '../kernel/wait_queue.js';
import { SystemError } from './syscall/sys.js';

export interface WalkEntry {
  /** Path of the entry, starting with the walk's root path. */
  path: string;
  stat: Stat;
}

/** A Stat with Node-style type tests. */
export interface FileStat extends Stat {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

export class Fs {
  constructor(private readonly task: Task) {}

  /**
   * Runs `fn` as this task. Nothing here waits: a FIFO opens as with O_NONBLOCK, and a call
   * that would block fails with EAGAIN, as in the synchronous k.sys calls.
   */
  private run<T>(syscall: string, path: string, fn: () => T): T {
    const k = this.task.kernel;
    k.current = this.task;
    const noWait = k.openContext.noWait;
    k.openContext.noWait = true;
    try {
      return fn();
    } catch (e) {
      if (e instanceof Blocked) {
        e.abandon?.();
        throw new SystemError(E.EAGAIN, syscall, path);
      }
      if (e instanceof Errno) throw new SystemError(e, syscall, path);
      throw e;
    } finally {
      k.openContext.noWait = noWait;
    }
  }

  /** The whole file; as a string when an encoding ('utf8') is given. */
  readFile(path: string): Uint8Array;
  readFile(path: string, encoding: 'utf8' | 'utf-8'): string;
  readFile(path: string, encoding?: 'utf8' | 'utf-8'): Uint8Array | string {
    const t = this.task;
    const data = this.run('read', path, () => {
      const fd = sys_openat(t, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
      try {
        const size = sys_fstat(t, fd).size;
        // One byte more than the size, so reading a file whole needs no regrowth to see EOF.
        let buf = new Uint8Array(Math.max(size + 1, 4096));
        let len = 0;
        for (;;) {
          if (len === buf.length) {
            const bigger = new Uint8Array(buf.length * 2);
            bigger.set(buf);
            buf = bigger;
          }
          const n = sys_read(t, fd, buf.subarray(len));
          if (n === 0) break;
          len += n;
        }
        return buf.subarray(0, len);
      } finally {
        sys_close(t, fd);
      }
    });
    return encoding === undefined ? data : new TextDecoder().decode(data);
  }

  /** Creates or replaces a file's contents. */
  writeFile(path: string, data: Uint8Array | string, options: { mode?: number } = {}): void {
    this.writeAll(path, data, O_WRONLY | O_CREAT | O_TRUNC, options.mode ?? 0o666);
  }

  appendFile(path: string, data: Uint8Array | string, options: { mode?: number } = {}): void {
    this.writeAll(path, data, O_WRONLY | O_CREAT | O_APPEND, options.mode ?? 0o666);
  }

  private writeAll(path: string, data: Uint8Array | string, flags: number, mode: number): void {
    const t = this.task;
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    this.run('write', path, () => {
      const fd = sys_openat(t, AT_FDCWD, path, flags | O_CLOEXEC, mode);
      try {
        let off = 0;
        while (off < bytes.length) off += sys_write(t, fd, bytes.subarray(off));
      } finally {
        sys_close(t, fd);
      }
    });
  }

  /** mkdir; with `recursive`, also the missing parents and no error when it exists (mkdir -p). */
  mkdir(path: string, options: { recursive?: boolean; mode?: number } = {}): void {
    const t = this.task;
    const mode = options.mode ?? 0o777;
    if (!options.recursive) {
      this.run('mkdir', path, () => sys_mkdirat(t, AT_FDCWD, path, mode));
      return;
    }
    const parts = path.split('/');
    let prefix = path.startsWith('/') ? '/' : '';
    for (const part of parts) {
      if (part === '') continue;
      prefix = prefix === '' || prefix.endsWith('/') ? prefix + part : `${prefix}/${part}`;
      const at = prefix;
      this.run('mkdir', at, () => {
        try {
          sys_mkdirat(t, AT_FDCWD, at, mode);
        } catch (e) {
          if (e !== E.EEXIST) throw e;
          if ((sys_newfstatat(t, AT_FDCWD, at, 0).mode & S_IFMT) !== S_IFDIR) throw E.ENOTDIR;
        }
      });
    }
  }

  /** Names in a directory, without "." and "..", in the directory's order. */
  readdir(path: string): string[] {
    return this.entries(path).map((d) => d.name);
  }

  /** Entries of a directory with their types (DT_*) and inode numbers. */
  entries(path: string): Dirent64[] {
    const t = this.task;
    return this.run('getdents64', path, () => {
      const fd = sys_openat(t, AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      try {
        const out: Dirent64[] = [];
        for (;;) {
          const batch = sys_getdents64(t, fd, 65536);
          if (batch.length === 0) break;
          for (const d of batch) if (d.name !== '.' && d.name !== '..') out.push(d);
        }
        return out;
      } finally {
        sys_close(t, fd);
      }
    });
  }

  stat(path: string): FileStat {
    return withTypes(this.run('stat', path, () => sys_newfstatat(this.task, AT_FDCWD, path, 0)));
  }

  lstat(path: string): FileStat {
    return withTypes(this.run('lstat', path, () => sys_newfstatat(this.task, AT_FDCWD, path, AT_SYMLINK_NOFOLLOW)));
  }

  exists(path: string): boolean {
    try {
      sys_newfstatat(this.task, AT_FDCWD, path, AT_SYMLINK_NOFOLLOW);
      return true;
    } catch (e) {
      if (e instanceof Errno) return false;
      throw e;
    }
  }

  rename(from: string, to: string): void {
    this.run('rename', from, () => sys_renameat2(this.task, AT_FDCWD, from, AT_FDCWD, to, 0));
  }

  symlink(target: string, path: string): void {
    this.run('symlink', path, () => sys_symlinkat(this.task, target, AT_FDCWD, path));
  }

  readlink(path: string): string {
    return this.run('readlink', path, () => sys_readlinkat(this.task, AT_FDCWD, path));
  }

  /** Removes a file, or with `recursive` a whole tree; `force` ignores a missing path. */
  rm(path: string, options: { recursive?: boolean; force?: boolean } = {}): void {
    const t = this.task;
    let st: Stat;
    try {
      st = this.run('lstat', path, () => sys_newfstatat(t, AT_FDCWD, path, AT_SYMLINK_NOFOLLOW));
    } catch (e) {
      if (options.force && e instanceof SystemError && e.code === 'ENOENT') return;
      throw e;
    }
    if ((st.mode & S_IFMT) !== S_IFDIR) {
      this.run('unlink', path, () => sys_unlinkat(t, AT_FDCWD, path, 0));
      return;
    }
    if (!options.recursive) throw new SystemError(E.EISDIR, 'rm', path);
    // Depth first with an explicit stack (a tree may be as deep as PATH_MAX allows): a
    // directory is removed when it comes back to the top with its entries gone.
    const stack: { dir: string; listed: boolean }[] = [{ dir: path, listed: false }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.listed) {
        stack.pop();
        this.run('rmdir', top.dir, () => sys_unlinkat(t, AT_FDCWD, top.dir, AT_REMOVEDIR));
        continue;
      }
      top.listed = true;
      for (const d of this.entries(top.dir)) {
        const p = join(top.dir, d.name);
        if (d.type === DT_DIR) stack.push({ dir: p, listed: false });
        else this.run('unlink', p, () => sys_unlinkat(t, AT_FDCWD, p, 0));
      }
    }
  }

  /** Every entry beneath `path` (depth first, parents before children), not following symlinks. */
  *walk(path: string): IterableIterator<WalkEntry> {
    const st = this.lstat(path);
    yield { path, stat: st };
    if ((st.mode & S_IFMT) !== S_IFDIR) return;
    // An explicit stack of directory listings, so depth costs no JavaScript stack.
    const stack: { dir: string; names: string[]; types: number[]; i: number }[] = [];
    const open = (dir: string): void => {
      const names: string[] = [];
      const types: number[] = [];
      for (const d of this.entries(dir)) {
        names.push(d.name);
        types.push(d.type);
      }
      stack.push({ dir, names, types, i: 0 });
    };
    open(path);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.i === top.names.length) {
        stack.pop();
        continue;
      }
      const k = top.i++;
      const p = join(top.dir, top.names[k]!);
      yield { path: p, stat: this.lstat(p) };
      if (top.types[k] === DT_DIR) open(p);
    }
  }
}

function join(a: string, b: string): string {
  return a.endsWith('/') ? a + b : `${a}/${b}`;
}

function withTypes(st: Stat): FileStat {
  const t = st.mode & S_IFMT;
  return Object.assign(st, {
    isFile: () => t === S_IFREG,
    isDirectory: () => t === S_IFDIR,
    isSymbolicLink: () => t === S_IFLNK,
  });
}
