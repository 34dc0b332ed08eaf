// File: an open file description (Linux's struct file): the position, status flags and the
// operations for one open(2). File descriptors (see kernel/fd_table.ts) refer to Files;
// dup(2) shares one File, so offset and status flags are shared. FileOps are non-blocking
// attempts: an operation that would have to wait throws E.EAGAIN, and the syscall layer
// turns that into EAGAIN (O_NONBLOCK) or a Blocked on the file's wait queue.

import { E } from '../kernel/errno.js';
import type { WaitQueue } from '../kernel/wait_queue.js';
import type { Inode } from './inode.js';
import type { Cred } from '../kernel/cred.js';
import type { PathRef } from './mount.js';

export const FMODE_READ = 1;
export const FMODE_WRITE = 2;
/** Opened with O_PATH: only a handle to a place in the tree. */
export const FMODE_PATH = 4;

export interface FileOps {
  /** Reads into buf[off, off+len) at `pos` (ignored for streams). Throws E.EAGAIN when it would block. */
  read?(f: File, buf: Uint8Array, off: number, len: number, pos: number): number;
  /** Writes buf[off, off+len) at `pos` (ignored for streams). Throws E.EAGAIN when it would block. */
  write?(f: File, buf: Uint8Array, off: number, len: number, pos: number): number;
  /** No file position: pread/pwrite/lseek give ESPIPE (pipes, sockets, terminals). */
  readonly stream?: boolean;
  /** The POLL* events ready now. Files without poll are always readable and writable. */
  poll?(f: File): number;
  /** Where readiness changes are announced. */
  waitQueue?(f: File): WaitQueue;
  /** Custom lseek; the default is the regular-file one. */
  llseek?(f: File, offset: number, whence: number): number;
  /** Called once when the last reference to the File goes. */
  release?(f: File): void;
  /** ioctl(2), for the caller `cred`; `request` is unsigned. Errors: ENOTTY by default. */
  ioctl?(f: File, request: number, arg: unknown, cred: Cred): number;
  fsync?(f: File, datasync: boolean): void;
}

export class File {
  /** Current position for seekable files, the readdir cookie for directories. */
  pos = 0;
  /** Descriptor slots (and in-flight operations) referring to this File. */
  refs = 0;
  /**
   * For a pipe's read end, the pipe's writer count that does not count as a hangup (Linux's
   * f_pipe): a FIFO opened for reading with O_NONBLOCK and no writer sees POLLHUP only after
   * a writer came (and went).
   */
  pipeVersion = 0;

  constructor(
    readonly path: PathRef,
    /** O_* flags: access mode and status flags (O_APPEND, O_NONBLOCK, …). */
    public flags: number,
    readonly fmode: number,
    readonly ops: FileOps,
    /** Per-open state of the file's driver (a pipe end, a socket, a device). */
    readonly priv: unknown = null,
  ) {
    path.dentry.inode.openCount++;
    path.mnt.refs++;
  }

  get inode(): Inode {
    return this.path.dentry.inode;
  }

  get readable(): boolean {
    return (this.fmode & FMODE_READ) !== 0;
  }
  get writable(): boolean {
    return (this.fmode & FMODE_WRITE) !== 0;
  }
}

/** Used for O_PATH files and anything that cannot be read or written. */
export const NO_FILE_OPS: FileOps = {
  read() {
    throw E.EINVAL;
  },
  write() {
    throw E.EINVAL;
  },
};
