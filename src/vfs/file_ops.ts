// File operations for regular files and directories on any filesystem: reads and writes go
// to the inode; positions, O_APPEND and size limits are the syscall layer's business.

import { SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET } from '../abi/linux/fcntl.js';
import { E } from '../kernel/errno.js';
import type { File, FileOps } from './file.js';

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
};

/** generic_file_llseek: SEEK_SET/CUR/END plus SEEK_DATA/SEEK_HOLE from the inode's map. */
export function genericLlseek(f: File, offset: number, whence: number): number {
  const inode = f.inode;
  let pos: number;
  switch (whence) {
    case SEEK_SET:
      pos = offset;
      break;
    case SEEK_CUR:
      pos = f.pos + offset;
      break;
    case SEEK_END:
      pos = inode.size + offset;
      break;
    case SEEK_DATA:
    case SEEK_HOLE:
      if (offset < 0 || offset >= inode.size) throw E.ENXIO;
      pos = inode.seekData(offset, whence === SEEK_DATA);
      break;
    default:
      throw E.EINVAL;
  }
  if (pos < 0 || pos > inode.sb.maxFileSize) throw E.EINVAL;
  f.pos = pos;
  return pos;
}
