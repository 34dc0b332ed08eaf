// Opening a block device node as a file (Linux's def_blk_fops): read, write, pread, pwrite
// and lseek on /dev/vda or /dev/vda1 go straight to the device, any offset and length, with
// partial sectors read-modify-written through one bounce sector. Like O_DIRECT on Linux,
// this bypasses the buffer cache of a filesystem mounted from the same device: raw readers
// see the filesystem's changes after sync(2) or umount, and raw writes under a mounted
// filesystem are as unsafe as on Linux.

import { E } from '../kernel/errno.js';
import type { File, FileOps } from '../vfs/file.js';
import { llseekWithin } from '../vfs/file_ops.js';
import type { BlockDevice } from './block_device.js';

/** FileOps for a node of `device`. */
export function blockDeviceFileOps(device: BlockDevice): FileOps {
  const ss = device.sectorSize;
  const bounce = new Uint8Array(ss);
  return {
    /** Reads up to the end of the device (0 at or past it). Errors: EIO. */
    read(_f: File, buf: Uint8Array, off: number, len: number, pos: number): number {
      const size = device.size;
      if (pos >= size || len === 0) return 0;
      const n = Math.min(len, size - pos);
      let at = pos;
      let done = 0;
      const head = at % ss;
      if (head !== 0) {
        device.read(at - head, bounce);
        const k = Math.min(ss - head, n);
        buf.set(bounce.subarray(head, head + k), off);
        at += k;
        done += k;
      }
      const middle = Math.floor((n - done) / ss) * ss;
      if (middle > 0) {
        device.read(at, buf.subarray(off + done, off + done + middle));
        at += middle;
        done += middle;
      }
      if (done < n) {
        device.read(at, bounce);
        buf.set(bounce.subarray(0, n - done), off + done);
        done = n;
      }
      return done;
    },
    /**
     * Writes, short at the end of the device. Errors: EPERM on a read-only device (as
     * blkdev_write_iter), ENOSPC at or past the end, EIO.
     */
    write(_f: File, buf: Uint8Array, off: number, len: number, pos: number): number {
      if (device.readOnly) throw E.EPERM;
      if (len === 0) return 0;
      const size = device.size;
      if (pos >= size) throw E.ENOSPC;
      const n = Math.min(len, size - pos);
      let at = pos;
      let done = 0;
      const head = at % ss;
      if (head !== 0 || n < ss) {
        const k = Math.min(ss - head, n);
        device.read(at - head, bounce);
        bounce.set(buf.subarray(off, off + k), head);
        device.write(at - head, bounce);
        at += k;
        done += k;
      }
      const middle = Math.floor((n - done) / ss) * ss;
      if (middle > 0) {
        device.write(at, buf.subarray(off + done, off + done + middle));
        at += middle;
        done += middle;
      }
      if (done < n) {
        device.read(at, bounce);
        bounce.set(buf.subarray(off + done, off + n), 0);
        device.write(at, bounce);
        done = n;
      }
      return done;
    },
    /** lseek within the device (block_llseek). Errors: EINVAL outside [0, size], ENXIO. */
    llseek(f: File, offset: number, whence: number): number {
      return llseekWithin(f, offset, whence, device.size, device.size, null);
    },
    fsync(): void {
      device.flush();
    },
  };
}
