// File operations for regular files and directories on any filesystem: reads and writes go
// to the inode; positions, O_APPEND and size limits are the syscall layer's business.

import { SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET } from '../abi/linux/fcntl.js';
import { E } from '../kernel/errno.js';
import type { File, FileOps } from './file.js';
import type { Inode } from './inode.js';

export const regularFileOps: FileOps = {
  read(f, buf, off, len, pos) {
    return f.inode.read(pos, buf, off, len);
  },
  write(f, buf, off, len, pos) {
    return f.inode.write(pos, buf, off, len);
  },
  fsync(f, datasync) {
    f.inode.fsync(datasync);
  },
  ioctl(f, request, arg, cred) {
    return f.inode.ioctl(f, request, arg, cred);
  },
};

export const directoryOps: FileOps = {
  read() {
    throw E.EISDIR;
  },
  write() {
    throw E.EISDIR;
  },
  llseek(f, offset, whence) {
    // A directory position is a readdir cookie: only absolute and relative moves make sense.
    let pos: number;
    if (whence === SEEK_SET) pos = offset;
    else if (whence === SEEK_CUR) pos = f.pos + offset;
    else throw E.EINVAL;
    if (pos < 0) throw E.EINVAL;
    f.pos = pos;
    return pos;
  },
  fsync(f, datasync) {
    f.inode.fsync(datasync);
  },
  ioctl(f, request, arg, cred) {
    return f.inode.ioctl(f, request, arg, cred);
  },
};

/** generic_file_llseek: SEEK_SET/CUR/END plus SEEK_DATA/SEEK_HOLE from the inode's map. */
export function genericLlseek(f: File, offset: number, whence: number): number {
  return llseekWithin(f, offset, whence, f.inode.size, f.inode.sb.maxFileSize, f.inode);
}

/**
 * lseek for an object of `size` bytes whose position may go up to `limit`: SEEK_DATA and
 * SEEK_HOLE ask `map` for its holes, or treat everything as data when there is no map (a
 * block device: fixed_size_llseek). Errors: EINVAL (bad whence, a position outside
 * [0, limit]), ENXIO (SEEK_DATA/SEEK_HOLE at or past the end).
 */
export function llseekWithin(f: File, offset: number, whence: number, size: number, limit: number, map: Inode | null): number {
  let pos: number;
  switch (whence) {
    case SEEK_SET:
      pos = offset;
      break;
    case SEEK_CUR:
      pos = f.pos + offset;
      break;
    case SEEK_END:
      pos = size + offset;
      break;
    case SEEK_DATA:
    case SEEK_HOLE:
      if (offset < 0 || offset >= size) throw E.ENXIO;
      if (map !== null) pos = map.seekData(offset, whence === SEEK_DATA);
      else pos = whence === SEEK_DATA ? offset : size;
      break;
    default:
      throw E.EINVAL;
  }
  if (pos < 0 || pos > limit) throw E.EINVAL;
  f.pos = pos;
  return pos;
}
