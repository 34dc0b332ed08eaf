// FdTable: a task's file descriptors (Linux's struct files_struct). Each slot refers to a
// File and carries its close-on-exec flag; allocation returns the lowest free slot, as
// POSIX requires.

import { E } from './errno.js';
import type { File } from '../vfs/file.js';

export class FdTable {
  private files: (File | undefined)[] = [];
  private cloexec: boolean[] = [];
  /** Every slot below this is in use. */
  private lowestFree = 0;

  constructor(
    /** RLIMIT_NOFILE: descriptors must be below this (EMFILE beyond). */
    public limit: number,
    /** Called when a File loses its last descriptor. */
    private readonly put: (f: File) => void,
  ) {}

  /** The File at `fd`. Errors: EBADF. */
  get(fd: number): File {
    const f = this.files[fd];
    if (f === undefined) throw E.EBADF;
    return f;
  }

  /** The File at `fd`, or undefined (for non-integer or out-of-range fds too). */
  lookup(fd: number): File | undefined {
    return this.files[fd];
  }

  /** Installs `f` at the lowest free descriptor >= min. Errors: EMFILE. */
  install(f: File, cloexec: boolean, min = 0): number {
    let fd = Math.max(min, this.lowestFree);
    while (this.files[fd] !== undefined) fd++;
    if (fd >= this.limit) throw E.EMFILE;
    this.files[fd] = f;
    this.cloexec[fd] = cloexec;
    f.refs++;
    if (fd === this.lowestFree) this.lowestFree = fd + 1;
    return fd;
  }

  /** Puts `f` at exactly `fd`, closing what was there (dup2/dup3). Errors: EBADF past the limit. */
  installAt(fd: number, f: File, cloexec: boolean): void {
    if (fd < 0 || fd >= this.limit) throw E.EBADF;
    const old = this.files[fd];
    f.refs++;
    this.files[fd] = f;
    this.cloexec[fd] = cloexec;
    if (old !== undefined) this.drop(old);
    else this.recomputeLowest();
  }

  /** Removes `fd`. Errors: EBADF. */
  close(fd: number): void {
    const f = this.files[fd];
    if (f === undefined) throw E.EBADF;
    this.files[fd] = undefined;
    this.cloexec[fd] = false;
    if (fd < this.lowestFree) this.lowestFree = fd;
    this.drop(f);
  }

  getCloexec(fd: number): boolean {
    this.get(fd);
    return this.cloexec[fd] === true;
  }

  setCloexec(fd: number, on: boolean): void {
    this.get(fd);
    this.cloexec[fd] = on;
  }

  /** Every open descriptor, ascending. */
  *entries(): IterableIterator<[number, File]> {
    for (let fd = 0; fd < this.files.length; fd++) {
      const f = this.files[fd];
      if (f !== undefined) yield [fd, f];
    }
  }

  /** Closes everything (process exit). */
  closeAll(): void {
    for (let fd = 0; fd < this.files.length; fd++) if (this.files[fd] !== undefined) this.close(fd);
  }

  /** A copy sharing the Files (fork without CLONE_FILES). */
  clone(): FdTable {
    const t = new FdTable(this.limit, this.put);
    for (let fd = 0; fd < this.files.length; fd++) {
      const f = this.files[fd];
      if (f !== undefined) {
        t.files[fd] = f;
        t.cloexec[fd] = this.cloexec[fd] === true;
        f.refs++;
      }
    }
    t.recomputeLowest();
    return t;
  }

  private drop(f: File): void {
    if (--f.refs === 0) this.put(f);
  }

  private recomputeLowest(): void {
    let fd = 0;
    while (this.files[fd] !== undefined) fd++;
    this.lowestFree = fd;
  }
}
