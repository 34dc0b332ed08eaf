// A disk backed by a file (Node only): synchronous positioned I/O on a file descriptor, so
// sparse image files stay sparse. Opens read-only when asked, or when the file cannot be
// opened for writing (then `readOnly` is true and writes fail with EROFS). There is no
// discard: Node has no fallocate(FALLOC_FL_PUNCH_HOLE), and writing zeros would un-sparse.

import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import type { BlockDevice } from '../../block/block_device.js';
import { E, errno } from '../../kernel/errno.js';
import { EIO } from '../../abi/linux/errno.js';

export interface FileDiskOptions {
  readOnly?: boolean;
}

export class FileDisk implements BlockDevice {
  readonly sectorSize = 512;
  readonly readOnly: boolean;
  private fd: number;
  private bytes: number;

  constructor(
    readonly path: string,
    options: FileDiskOptions = {},
  ) {
    let ro = options.readOnly ?? false;
    let fd: number;
    if (ro) fd = openSync(path, 'r');
    else {
      try {
        fd = openSync(path, 'r+');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EACCES' && code !== 'EROFS' && code !== 'EPERM') throw e;
        fd = openSync(path, 'r');
        ro = true;
      }
    }
    this.fd = fd;
    this.readOnly = ro;
    this.bytes = fstatSync(fd).size;
  }

  get size(): number {
    return this.bytes;
  }

  read(offset: number, into: Uint8Array): void {
    if (offset < 0 || offset + into.length > this.bytes) throw errno(EIO, `read past the end of ${this.path} at ${offset}`);
    let done = 0;
    while (done < into.length) {
      const n = readSync(this.fd, into, done, into.length - done, offset + done);
      if (n === 0) throw errno(EIO, `short read from ${this.path} at ${offset + done}`);
      done += n;
    }
  }

  write(offset: number, from: Uint8Array): void {
    if (this.readOnly) throw E.EROFS;
    if (offset < 0 || offset + from.length > this.bytes) throw errno(EIO, `write past the end of ${this.path} at ${offset}`);
    let done = 0;
    while (done < from.length) done += writeSync(this.fd, from, done, from.length - done, offset + done);
  }

  flush(): void {
    if (!this.readOnly) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** A device over the image file at `path`. */
export function fileDisk(path: string, options: FileDiskOptions = {}): FileDisk {
  return new FileDisk(path, options);
}
