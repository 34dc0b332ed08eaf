// The two sides a copy moves between, behind one small interface: the host (node:fs) and a
// tkl kernel (its syscalls). Paths are the side's own (host paths, or kernel paths under the
// session's image mounts). All operations are synchronous and throw errors with errno codes.

import * as nfs from 'node:fs';
import type { Process } from '../index.js';
import {
  AT_FDCWD, AT_SYMLINK_NOFOLLOW, O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_TRUNC, O_WRONLY, O_CLOEXEC,
} from '../abi/linux/fcntl.js';
import type { Timespec } from '../vfs/time.js';

export interface NodeStat {
  mode: number;
  size: number;
  uid: number;
  gid: number;
  rdev: number;
  atime: Timespec;
  mtime: Timespec;
}

export interface FsOps {
  readonly name: string;
  lstat(p: string): NodeStat;
  stat(p: string): NodeStat;
  readdir(p: string): string[];
  readlink(p: string): string;
  /** Opens for reading; returns a handle. */
  openRead(p: string): number;
  /** Creates a new file (never following a symlink at `p`); with `excl` fails if it exists. */
  openWrite(p: string, mode: number, excl: boolean): number;
  read(fd: number, buf: Uint8Array, pos: number): number;
  write(fd: number, buf: Uint8Array, len: number, pos: number): void;
  close(fd: number): void;
  mkdir(p: string, mode: number): void;
  symlink(target: string, p: string): void;
  unlink(p: string): void;
  rmdir(p: string): void;
  chmod(p: string, mode: number): void;
  lchown(p: string, uid: number, gid: number): void;
  /** Sets atime/mtime on `p` itself (not following a symlink). */
  utimes(p: string, atime: Timespec, mtime: Timespec): void;
}

const tsFromNs = (ns: bigint): Timespec => ({ sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n) });

function hostStat(s: nfs.BigIntStats): NodeStat {
  return {
    mode: Number(s.mode), size: Number(s.size), uid: Number(s.uid), gid: Number(s.gid), rdev: Number(s.rdev),
    // Only -p needs the times: made from the nanosecond fields when asked for.
    get atime(): Timespec {
      return tsFromNs(s.atimeNs);
    },
    get mtime(): Timespec {
      return tsFromNs(s.mtimeNs);
    },
  };
}

export const hostOps: FsOps = {
  name: 'host',
  lstat: (p) => hostStat(nfs.lstatSync(p, { bigint: true })),
  stat: (p) => hostStat(nfs.statSync(p, { bigint: true })),
  readdir: (p) => nfs.readdirSync(p),
  readlink: (p) => nfs.readlinkSync(p),
  openRead: (p) => nfs.openSync(p, O_RDONLY | O_CLOEXEC),
  openWrite: (p, mode, excl) => nfs.openSync(p, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (excl ? O_EXCL : O_TRUNC), mode),
  read: (fd, buf, pos) => nfs.readSync(fd, buf, 0, buf.length, pos),
  write: (fd, buf, len, pos) => {
    let done = 0;
    while (done < len) done += nfs.writeSync(fd, buf, done, len - done, pos + done);
  },
  close: (fd) => nfs.closeSync(fd),
  mkdir: (p, mode) => nfs.mkdirSync(p, mode),
  symlink: (t, p) => nfs.symlinkSync(t, p),
  unlink: (p) => nfs.unlinkSync(p),
  rmdir: (p) => nfs.rmdirSync(p),
  chmod: (p, mode) => nfs.chmodSync(p, mode),
  lchown: (p, uid, gid) => nfs.lchownSync(p, uid, gid),
  // node:fs takes seconds as a float: sub-microsecond digits are lost on the host side.
  utimes: (p, a, m) => nfs.lutimesSync(p, a.sec + a.nsec / 1e9, m.sec + m.nsec / 1e9),
};

/** The operations of a kernel process (an image's chrooted process in the CLI). */
export function kernelOps(k: Process): FsOps {
  const s = k.sys;
  return {
    name: 'image',
    lstat: (p) => s.lstat(p),
    stat: (p) => s.stat(p),
    readdir: (p) => k.fs.readdir(p),
    readlink: (p) => s.readlink(p),
    openRead: (p) => s.openat(AT_FDCWD, p, O_RDONLY | O_CLOEXEC),
    openWrite: (p, mode, excl) => s.openat(AT_FDCWD, p, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (excl ? O_EXCL : O_TRUNC), mode),
    read: (fd, buf, pos) => s.pread64(fd, buf, buf.length, pos),
    write: (fd, buf, len, pos) => {
      let done = 0;
      while (done < len) done += s.pwrite64(fd, buf.subarray(done, len), len - done, pos + done);
    },
    close: (fd) => void s.close(fd),
    mkdir: (p, mode) => void s.mkdir(p, mode),
    symlink: (t, p) => void s.symlink(t, p),
    unlink: (p) => void s.unlink(p),
    rmdir: (p) => void s.rmdir(p),
    chmod: (p, mode) => void s.chmod(p, mode),
    lchown: (p, uid, gid) => void s.lchown(p, uid, gid),
    utimes: (p, a, m) => void s.utimensat(AT_FDCWD, p, [a, m], AT_SYMLINK_NOFOLLOW),
  };
}

