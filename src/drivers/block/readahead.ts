// ReadAheadDisk: a BlockDevice wrapper that turns small sequential reads into large ones, as
// a disk's read-ahead does. ext4 reads file data straight from the device a few blocks at a
// time; over a host file each of those is a system call. Reads smaller than the window are
// served from one window of the device (128 KiB by default) filled by a single read; writes
// through this wrapper keep the window coherent, so it must be the device's only writer.

import type { BlockDevice } from '../../block/block_device.js';

export class ReadAheadDisk implements BlockDevice {
  readonly sectorSize: number;
  readonly size: number;
  readonly readOnly: boolean;
  private readonly window: Uint8Array;
  /** The device range the window holds: [start, start + filled). */
  private start = 0;
  private filled = 0;
  /** Where the last small read ended: a read starting there is sequential. */
  private nextSequential = -1;

  constructor(
    private readonly dev: BlockDevice,
    windowBytes = 128 * 1024,
  ) {
    this.sectorSize = dev.sectorSize;
    this.size = dev.size;
    this.readOnly = dev.readOnly;
    this.window = new Uint8Array(windowBytes);
  }

  read(offset: number, into: Uint8Array): void {
    const len = into.length;
    if (offset >= this.start && offset + len <= this.start + this.filled) {
      into.set(this.window.subarray(offset - this.start, offset - this.start + len));
      this.nextSequential = offset + len;
      return;
    }
    // Large reads, and the first of a run, go straight through; a second small read that
    // continues the first fills the window from there.
    if (len * 2 > this.window.length || offset !== this.nextSequential) {
      this.dev.read(offset, into);
      this.nextSequential = offset + len;
      return;
    }
    const n = Math.min(this.window.length, this.size - offset);
    this.dev.read(offset, this.window.subarray(0, n));
    this.start = offset;
    this.filled = n;
    into.set(this.window.subarray(0, len));
    this.nextSequential = offset + len;
  }

  write(offset: number, from: Uint8Array): void {
    this.dev.write(offset, from);
    // Keep the window's copy of the written range current.
    const a = Math.max(offset, this.start);
    const b = Math.min(offset + from.length, this.start + this.filled);
    if (a < b) this.window.set(from.subarray(a - offset, b - offset), a - this.start);
  }

  flush(): void {
    this.dev.flush();
  }

  discard(offset: number, length: number): void {
    this.dev.discard?.(offset, length);
  }

  close(): void {
    this.filled = 0;
    this.dev.close?.();
  }
}
