// A disk in memory: a byte array as a block device. For tests, browsers and scratch images.

import type { BlockDevice } from '../../block/block_device.js';
import { E, errno } from '../../kernel/errno.js';
import { EIO } from '../../abi/linux/errno.js';

export class MemoryDisk implements BlockDevice {
  readonly sectorSize = 512;
  readonly bytes: Uint8Array;
  readonly readOnly: boolean;

  constructor(bytes: Uint8Array, options: { readOnly?: boolean } = {}) {
    this.bytes = bytes;
    this.readOnly = options.readOnly ?? false;
  }

  get size(): number {
    return this.bytes.length;
  }

  read(offset: number, into: Uint8Array): void {
    if (offset < 0 || offset + into.length > this.bytes.length) throw errno(EIO, `read past the end of the disk at ${offset}`);
    into.set(this.bytes.subarray(offset, offset + into.length));
  }

  write(offset: number, from: Uint8Array): void {
    if (this.readOnly) throw E.EROFS;
    if (offset < 0 || offset + from.length > this.bytes.length) throw errno(EIO, `write past the end of the disk at ${offset}`);
    this.bytes.set(from, offset);
  }

  flush(): void {}

  discard(offset: number, length: number): void {
    if (this.readOnly) throw E.EROFS;
    this.bytes.fill(0, offset, Math.min(this.bytes.length, offset + length));
  }
}

/** A device over `bytes` (or a zeroed disk of `size` bytes). */
export function memoryDisk(bytesOrSize: Uint8Array | number, options: { readOnly?: boolean } = {}): MemoryDisk {
  const bytes = typeof bytesOrSize === 'number' ? new Uint8Array(bytesOrSize) : bytesOrSize;
  return new MemoryDisk(bytes, options);
}
