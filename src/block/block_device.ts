// BlockDevice: a disk (virtio-blk's role). Synchronous by design: the kernel never awaits in
// the middle of a filesystem operation. Offsets and lengths are bytes; drivers may require
// them to be multiples of sectorSize.

export interface BlockDevice {
  /** Logical sector size in bytes, usually 512. */
  readonly sectorSize: number;
  /** Size in bytes. */
  readonly size: number;
  readonly readOnly: boolean;
  /** Reads `into.length` bytes at `offset`. Errors: EIO (also for a range past the end). */
  read(offset: number, into: Uint8Array): void;
  /** Writes `from` at `offset`. Errors: EIO, EROFS. */
  write(offset: number, from: Uint8Array): void;
  /** Makes written data durable. Errors: EIO. */
  flush(): void;
  /** Tells the device a range is unused (optional). */
  discard?(offset: number, length: number): void;
  /** Releases the device (closes a file). */
  close?(): void;
  /**
   * The filesystem that claimed the device for exclusive use (Linux's bd_holder), so that no
   * second kernel mounts it at the same time; null or absent when free.
   */
  holder?: object | null;
}
