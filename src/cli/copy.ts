// The copy engine behind `tkl cp`: files, trees, symlinks (as symlinks), between the host and
// images or between images, with -p (mode, ownership, times), -n (no clobber) and a progress
// bar. Safety when writing to the host: names from an image that could step outside the
// destination ("", ".", "..", anything with "/" or NUL) are refused; a file is never written
// through a symlink (created with O_NOFOLLOW, a symlink in its place is removed first); a
// directory is only entered after lstat shows a real directory. Large files move in 1 MiB
// pieces through one buffer shared by every copy, yielding so Ctrl-C is noticed. A file is
// created exclusively first and the way cleared only when something is there (EEXIST), so
// the common case — nothing in the way — costs no extra lookup.

import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from '../abi/linux/stat.js';
import type { FsOps, NodeStat } from './fsops.js';
import { breathe, checkInterrupt } from './in_session.js';
import type { Progress } from './progress.js';
import { reason } from './output.js';

export interface CopyOptions {
  recursive: boolean;
  preserve: boolean;
  noClobber: boolean;
  /** The copier's umask, for modes of new files without -p. */
  umask: number;
}

export interface CopyReport {
  fail(message: string): void;
}

const CHUNK = 1 << 20;
/** The copy buffer, made once: copies run one at a time (a command awaits each in turn). */
let chunk: Uint8Array | null = null;

/** A name from a directory listing that is safe to use as one path component. */
export function safeName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/** A pending step of a copy: an entry to copy, or (dir set) a directory whose contents are done. */
interface CopyStep {
  from: string;
  to: string;
  top: boolean;
  dir: { st: NodeStat; created: boolean } | null;
}

export class Copier {
  private readonly buf = (chunk ??= new Uint8Array(CHUNK));
  private lastYield = Date.now();

  constructor(
    readonly src: FsOps,
    readonly dst: FsOps,
    readonly opts: CopyOptions,
    readonly report: CopyReport,
    readonly progress: Progress | null,
    /** How to name paths in messages: (side, path) → what the user wrote. */
    readonly show: (side: 'src' | 'dst', p: string) => string,
  ) {}

  /**
   * Copies `from` to exactly `to` (the caller resolved "into a directory"). Trees are walked
   * with a stack of pending steps, not recursion: a tree as deep as PATH_MAX allows (2,000+
   * levels) would overflow the JavaScript stack. A directory's own attributes are set after
   * its contents (a "finish" step pushed beneath its children).
   */
  async copy(from: string, to: string): Promise<void> {
    const work: CopyStep[] = [{ from, to, top: true, dir: null }];
    for (let step = work.pop(); step !== undefined; step = work.pop()) {
      if (step.dir !== null) this.finish(step.to, step.dir.st, step.dir.created, S_IFDIR);
      else await this.copyOne(step.from, step.to, step.top, work);
    }
  }

  /** One step of copy(): a file or symlink whole; a directory made, its children pushed on `work`. */
  private async copyOne(from: string, to: string, top: boolean, work: CopyStep[]): Promise<void> {
    checkInterrupt();
    let st: NodeStat;
    try {
      // Without -r a top-level symlink is followed (cp's default); inside a tree never.
      st = top && !this.opts.recursive ? this.src.stat(from) : this.src.lstat(from);
    } catch (e) {
      this.report.fail(cannotMsg('stat', this.show('src', from), e));
      return;
    }
    const type = st.mode & S_IFMT;
    if (type === S_IFDIR) {
      if (!this.opts.recursive) {
        this.report.fail(`tkl: -r not specified; omitting directory '${this.show('src', from)}'`);
        return;
      }
      this.copyDir(from, to, st, work);
    } else if (type === S_IFLNK) this.copySymlink(from, to, st);
    else if (type === S_IFREG) await this.copyFile(from, to, st);
    else this.report.fail(`tkl: cannot copy '${this.show('src', from)}': special files are not copied`);
  }

  private copyDir(from: string, to: string, st: NodeStat, work: CopyStep[]): void {
    // Made first, looked at after: an existing directory is merged into, anything else refused.
    let created = true;
    try {
      this.dst.mkdir(to, 0o700);
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'EEXIST') {
        this.report.fail(cannotMsg('create directory', this.show('dst', to), e));
        return;
      }
      created = false;
    }
    let there: NodeStat;
    try {
      there = this.dst.lstat(to);
    } catch (e) {
      this.report.fail(cannotMsg('stat', this.show('dst', to), e));
      return;
    }
    if ((there.mode & S_IFMT) !== S_IFDIR) {
      // Whatever is there must be a directory: the one just made, not something swapped in.
      this.report.fail(
        created
          ? `tkl: '${this.show('dst', to)}' is not a directory after creating it; stopping there`
          : `tkl: cannot overwrite non-directory '${this.show('dst', to)}' with directory '${this.show('src', from)}'`,
      );
      return;
    }
    let names: string[];
    try {
      names = this.src.readdir(from);
    } catch (e) {
      this.report.fail(cannotMsg('open directory', this.show('src', from), e));
      names = [];
    }
    work.push({ from, to, top: false, dir: { st, created } });
    // Pushed last name first, so they are copied in name order.
    names.sort();
    for (let i = names.length - 1; i >= 0; i--) {
      const n = names[i]!;
      if (!safeName(n)) {
        this.report.fail(`tkl: skipping an entry of '${this.show('src', from)}' with an unsafe name ${JSON.stringify(n)}`);
        continue;
      }
      work.push({ from: joinPath(from, n), to: joinPath(to, n), top: false, dir: null });
    }
  }

  private copySymlink(from: string, to: string, st: NodeStat): void {
    let target: string;
    try {
      target = this.src.readlink(from);
    } catch (e) {
      this.report.fail(cannotMsg('read symbolic link', this.show('src', from), e));
      return;
    }
    if (!this.makeRoom(to)) return;
    try {
      this.dst.symlink(target, to);
    } catch (e) {
      this.report.fail(cannotMsg('create symbolic link', this.show('dst', to), e));
      return;
    }
    this.progress?.advance(0, 1);
    if (this.opts.preserve) {
      try {
        this.dst.lchown(to, st.uid, st.gid);
      } catch {
        // Like cp -p: ownership that cannot be kept is quietly dropped.
      }
      try {
        this.dst.utimes(to, st.atime, st.mtime);
      } catch {
        // Some filesystems (FAT) have no symlinks at all; others no link times.
      }
    }
  }

  private async copyFile(from: string, to: string, st: NodeStat): Promise<void> {
    let rfd: number;
    try {
      rfd = this.src.openRead(from);
    } catch (e) {
      // With -n an existing destination is skipped before the source is looked at, as cp -n.
      if (this.opts.noClobber && this.exists(to)) return;
      this.report.fail(cannotMsg('open', this.show('src', from), e));
      return;
    }
    let wfd = -1;
    const mode = this.opts.preserve ? st.mode & 0o7777 : st.mode & 0o777 & ~this.opts.umask;
    try {
      wfd = this.create(to, this.opts.preserve ? 0o600 : mode);
      if (wfd < 0) return;
      let pos = 0;
      for (;;) {
        let n: number;
        try {
          n = this.src.read(rfd, this.buf, pos);
        } catch (e) {
          this.report.fail(cannotMsg('read', this.show('src', from), e));
          return;
        }
        if (n === 0) break;
        try {
          this.dst.write(wfd, this.buf, n, pos);
        } catch (e) {
          // As cp: a full filesystem (ENOSPC, EDQUOT) fails this file; what was written stays.
          this.report.fail(cannotMsg('write', this.show('dst', to), e));
          return;
        }
        pos += n;
        this.progress?.advance(n, 0);
        // A short read that reaches the size lstat gave is the end: no read just to see 0.
        if (n < this.buf.length && pos >= st.size) break;
        if (Date.now() - this.lastYield > 100) {
          await breathe();
          this.lastYield = Date.now();
          checkInterrupt();
        }
      }
      this.progress?.advance(0, 1);
    } catch (e) {
      if ((e as Error).name === 'Interrupted') throw e;
      this.report.fail(cannotMsg('copy', `${this.show('src', from)}' to '${this.show('dst', to)}`, e));
      return;
    } finally {
      this.src.close(rfd);
      if (wfd >= 0) this.dst.close(wfd);
    }
    this.finish(to, st, true, S_IFREG);
  }

  /**
   * A new file at `to`, created exclusively (never through a symlink); when something is
   * there, the way is cleared (makeRoom) and the create tried once more. Returns -1 when the
   * file is skipped (-n) or could not be made (reported).
   */
  private create(to: string, mode: number): number {
    try {
      return this.dst.openWrite(to, mode, true);
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'EEXIST') {
        this.report.fail(cannotMsg('create regular file', this.show('dst', to), e));
        return -1;
      }
    }
    if (!this.makeRoom(to)) return -1;
    try {
      return this.dst.openWrite(to, mode, true);
    } catch (e) {
      this.report.fail(cannotMsg('create regular file', this.show('dst', to), e));
      return -1;
    }
  }

  private exists(p: string): boolean {
    try {
      this.dst.lstat(p);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Clears the way for a new non-directory at `to`: with -n an existing entry is kept (and
   * the copy skipped); otherwise an existing file or symlink is removed first, so nothing is
   * ever written through a symlink. A directory in the way is an error.
   */
  private makeRoom(to: string): boolean {
    let existing: NodeStat;
    try {
      existing = this.dst.lstat(to);
    } catch {
      return true;
    }
    if (this.opts.noClobber) return false;
    if ((existing.mode & S_IFMT) === S_IFDIR) {
      this.report.fail(`tkl: cannot overwrite directory '${this.show('dst', to)}' with non-directory`);
      return false;
    }
    try {
      this.dst.unlink(to);
      return true;
    } catch (e) {
      this.report.fail(cannotMsg('remove', this.show('dst', to), e));
      return false;
    }
  }

  /** Mode, ownership and times after the contents are in place. */
  private finish(to: string, st: NodeStat, created: boolean, type: number): void {
    try {
      if (this.opts.preserve) {
        try {
          this.dst.lchown(to, st.uid, st.gid);
        } catch {
          // Not permitted (not root on the host), or the filesystem has no owners (FAT).
        }
        this.dst.chmod(to, st.mode & 0o7777);
        this.dst.utimes(to, st.atime, st.mtime);
      } else if (created && type === S_IFDIR) {
        this.dst.chmod(to, st.mode & 0o777 & ~this.opts.umask);
      }
    } catch (e) {
      this.report.fail(cannotMsg('preserve attributes of', this.show('dst', to), e));
    }
  }
}

function cannotMsg(action: string, what: string, e: unknown): string {
  return `tkl: cannot ${action} '${what}': ${reason(e)}`;
}

/** Totals for the progress bar: bytes and entries beneath `p` (not following links; no recursion, as copy). */
export function measure(ops: FsOps, p: string, recursive: boolean): { bytes: number; entries: number } {
  let bytes = 0;
  let entries = 0;
  const todo = [p];
  for (let q = todo.pop(), top = true; q !== undefined; q = todo.pop(), top = false) {
    let st: NodeStat;
    try {
      st = top && !recursive ? ops.stat(q) : ops.lstat(q);
    } catch {
      continue;
    }
    entries++;
    const type = st.mode & S_IFMT;
    if (type === S_IFREG) bytes += st.size;
    else if (type === S_IFDIR && recursive) {
      let names: string[] = [];
      try {
        names = ops.readdir(q);
      } catch {
        continue;
      }
      for (const n of names) if (safeName(n)) todo.push(joinPath(q, n));
    }
  }
  return { bytes, entries };
}
