// Commands that change images: cp, mv, mkdir, rm, ln, chmod, chown, touch, truncate.

import { Option, type Command } from 'commander';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { parseAddress, type Address } from './address.js';
import { imageArgs } from './read_cmds.js';
import { inSession, checkInterrupt } from './in_session.js';
import { Copier, measure } from './copy.js';
import { hostOps, kernelOps, type FsOps } from './fsops.js';
import { Progress } from './progress.js';
import { CliError, UsageError, cannot, parseSize, type Status } from './output.js';
import type { OpenedImage, Session } from './session.js';
import { AT_FDCWD, O_CREAT, O_WRONLY } from '../abi/linux/fcntl.js';
import { S_IFDIR, S_IFLNK, S_IFMT, UTIME_NOW, UTIME_OMIT } from '../abi/linux/stat.js';
import type { Process } from '../api/boot.js';
import type { Timespec } from '../vfs/time.js';

/** A resolved endpoint: which side and its path there (and the image, for an image path). */
interface End {
  ops: FsOps;
  path: string;
  shown: string;
  img?: OpenedImage;
}

function resolve(s: Session, a: Address, write: boolean): End {
  if (a.kind === 'host') return { ops: hostOps, path: a.path, shown: a.text };
  const t = s.target(a, write);
  return { ops: kernelOps(t.proc), path: t.path, shown: a.text, img: t.img };
}

function isDir(e: End): boolean {
  try {
    return (e.ops.stat(e.path).mode & S_IFMT) === S_IFDIR;
  } catch {
    return false;
  }
}

function childShown(e: End, name: string): string {
  return e.shown.endsWith('/') ? e.shown + name : `${e.shown}/${name}`;
}

function lastName(a: Address): string {
  return basename(a.path.replace(/\/+$/, ''));
}

/** A last path component that names no entry of its own: the root, "." or "..". */
function nameless(name: string): boolean {
  return name === '' || name === '.' || name === '..';
}

export function registerWrite(p: Command): void {
  p.command('cp')
    .description('copy files and trees between the host and images, or between images')
    .argument('<source...>', 'SRC... DST: host paths or IMAGE[:PART]:/path')
    .option('-r, --recursive', 'copy directories recursively (symlinks are copied as symlinks); -R also works')
    .addOption(new Option('-R').hideHelp())
    .option('-p, --preserve', 'preserve mode, ownership and timestamps')
    .option('-n, --no-clobber', 'do not overwrite existing files')
    .option('-q, --quiet', 'no progress bar')
    .addHelpText(
      'after',
      `
Examples:
  tkl cp -r ./site disk.img:root:/srv/www      host → image
  tkl cp -rp disk.img:2:/etc ./etc-backup      image → host (never writes outside ./etc-backup)
  tkl cp -r a.img:/data b.img:boot:/data       image → image, across filesystem types
  tkl cp -r disk.img:/ ./extracted             the whole filesystem's contents`,
    )
    .action(async (args: string[], o: { recursive?: boolean; R?: boolean; preserve?: boolean; clobber?: boolean; quiet?: boolean }) => {
      if (args.length < 2) throw new UsageError('cp needs a source and a destination');
      o.recursive ||= o.R;
      const addrs = args.map((t) => parseAddress(t, existsSync));
      const dstAddr = addrs.pop()!;
      process.exitCode = await inSession(async (s, status) => {
        // Open the destination image read-write first, so a source in the same image shares it.
        const dst = resolve(s, dstAddr, true);
        const srcs = addrs.map((a) => resolve(s, a, false));
        const dstIsDir = isDir(dst);
        if (srcs.length > 1 && !dstIsDir) throw new CliError(`tkl: target '${dst.shown}' is not a directory`);
        const umask = 0o022;
        for (let i = 0; i < srcs.length; i++) {
          const src = srcs[i]!;
          const a = addrs[i]!;
          const name = lastName(a);
          // A source without a name of its own ("img:/", "dir/.", "dir/..") copies its contents
          // into the destination itself, as GNU cp does: "DST/.." would be outside it.
          const to = dstIsDir && !nameless(name) ? { ...dst, path: `${dst.path.replace(/\/+$/, '')}/${name}`, shown: childShown(dst, name) } : dst;
          const progress = Progress.maybe(o.quiet ?? false, () => measure(src.ops, src.path, o.recursive ?? false));
          const copier = new Copier(
            src.ops, to.ops,
            { recursive: o.recursive ?? false, preserve: o.preserve ?? false, noClobber: o.clobber === false, umask },
            status, progress,
            (side, path) => (side === 'src' ? src.shown + path.slice(src.path.length) : to.shown + path.slice(to.path.length)),
          );
          try {
            await copier.copy(src.path, to.path);
          } finally {
            progress?.stop();
          }
        }
      });
    });

  p.command('mv')
    .description('move or rename files inside an image (or between images and the host)')
    .argument('<source...>', 'SRC... DST')
    .option('-n, --no-clobber', 'do not overwrite an existing destination')
    .addHelpText('after', '\nExamples:\n  tkl mv disk.img:/etc/motd disk.img:/etc/motd.old\n  tkl mv disk.img:1:/log.txt ./log.txt')
    .action(async (args: string[], o: { clobber?: boolean }) => {
      if (args.length < 2) throw new UsageError('mv needs a source and a destination');
      const addrs = args.map((t) => parseAddress(t, existsSync));
      const dstAddr = addrs.pop()!;
      process.exitCode = await inSession(async (s, status) => {
        const dst = resolve(s, dstAddr, true);
        const dstIsDir = isDir(dst);
        if (addrs.length > 1 && !dstIsDir) throw new CliError(`tkl: target '${dst.shown}' is not a directory`);
        for (const a of addrs) {
          checkInterrupt();
          const src = resolve(s, a, true);
          const name = lastName(a);
          // "." and ".." (and a filesystem's root) cannot move: rename(2) says EBUSY, and the
          // copy-and-remove across filesystems would empty the directory they stand for.
          if (nameless(name) || (src.img !== undefined && isRoot(src.img.proc, src.path))) {
            status.fail(cannot('move', a.text, { code: 'EBUSY' }));
            continue;
          }
          const to = dstIsDir ? { ...dst, path: `${dst.path.replace(/\/+$/, '')}/${name}`, shown: childShown(dst, name) } : dst;
          if (o.clobber === false) {
            try {
              to.ops.lstat(to.path);
              continue;
            } catch {
              // absent: go on
            }
          }
          // One filesystem (however the two addresses name it): a rename.
          if (src.img !== undefined && src.img === dst.img) {
            try {
              src.img.proc.sys.rename(src.path, to.path);
            } catch (e) {
              status.fail(cannot('move', `${src.shown}' to '${to.shown}`, e));
            }
            continue;
          }
          // Across filesystems: copy everything, then remove the source (as mv does).
          let failed = false;
          const copier = new Copier(src.ops, to.ops, { recursive: true, preserve: true, noClobber: false, umask: 0o022 }, {
            fail: (m) => {
              failed = true;
              status.fail(m);
            },
          }, null, (side, path) => (side === 'src' ? src.shown + path.slice(src.path.length) : to.shown + path.slice(to.path.length)));
          await copier.copy(src.path, to.path);
          if (failed) continue;
          // As mv: a source that cannot be removed (a read-only host filesystem) is reported
          // entry by entry, and the copy, complete by now, stays.
          const removed = removeTree(src.ops, src.path, (q, e) => status.fail(cannot('remove', src.shown + q.slice(src.path.length), e)));
          if (!removed) status.fail(`tkl: the copy '${to.shown}' is complete and stays`);
        }
      });
    });

  p.command('mkdir')
    .description('make directories inside an image')
    .argument('<address...>', 'IMAGE[:PART]:/path')
    .option('-p, --parents', 'make parents as needed; no error if it exists')
    .option('-m, --mode <mode>', 'permissions (octal), e.g. 0750')
    .addHelpText('after', '\nExample:\n  tkl mkdir -p disk.img:root:/srv/www/static')
    .action(async (args: string[], o: { parents?: boolean; mode?: string }) => {
      const addrs = imageArgs(args);
      const mode = o.mode === undefined ? 0o777 : parseOctal(o.mode);
      process.exitCode = await inSession((s, status) => {
        for (const a of addrs) {
          try {
            const { proc, path } = s.target(a, true);
            if (o.parents) proc.fs.mkdir(path, { recursive: true, mode });
            else proc.sys.mkdir(path, mode);
            if (o.mode !== undefined) proc.sys.chmod(path, mode);
          } catch (e) {
            if (e instanceof CliError) throw e;
            status.fail(cannot('create directory', a.text, e));
          }
        }
      });
    });

  p.command('rm')
    .description('remove files or trees inside an image')
    .argument('<address...>', 'IMAGE[:PART]:/path')
    .option('-r, --recursive', 'remove directories and their contents; -R also works')
    .addOption(new Option('-R').hideHelp())
    .option('-f, --force', 'ignore missing files, never fail for them')
    .addHelpText('after', '\nExample:\n  tkl rm -rf disk.img:root:/var/cache/apt')
    .action(async (args: string[], o: { recursive?: boolean; R?: boolean; force?: boolean }) => {
      const addrs = imageArgs(args);
      o.recursive ||= o.R;
      process.exitCode = await inSession((s, status) => {
        for (const a of addrs) {
          try {
            const { proc, path } = s.target(a, true);
            const last = path.replace(/\/+$/, '').split('/').pop();
            if (last === '.' || last === '..') throw new CliError(`tkl: refusing to remove '.' or '..' directory: skipping '${a.text}'`);
            if (isRoot(proc, path)) throw new CliError(`tkl: refusing to remove the root of '${a.image}'`);
            proc.fs.rm(path, { recursive: o.recursive ?? false, force: o.force ?? false });
          } catch (e) {
            if (e instanceof CliError) status.fail(e.message);
            else if ((e as { code?: string }).code === 'EISDIR') status.fail(`tkl: cannot remove '${a.text}': Is a directory`);
            else status.fail(cannot('remove', a.text, e));
          }
        }
      });
    });

  p.command('ln')
    .description('make links inside an image')
    .argument('<target>', 'TARGET (with -s any text; else IMAGE[:PART]:/path)')
    .argument('<link>', 'IMAGE[:PART]:/path of the new link')
    .option('-s, --symbolic', 'make a symbolic link')
    .option('-f, --force', 'remove an existing destination first')
    .addHelpText('after', '\nExamples:\n  tkl ln -s ../lib/libc.so.6 disk.img:/usr/lib/libc.so\n  tkl ln disk.img:/a disk.img:/b')
    .action(async (target: string, link: string, o: { symbolic?: boolean; force?: boolean }) => {
      const [l] = imageArgs([link]);
      process.exitCode = await inSession((s, status) => {
        const { proc, path: lp } = s.target(l!, true);
        if (o.force) {
          try {
            proc.sys.unlink(lp);
          } catch {
            // nothing there
          }
        }
        try {
          if (o.symbolic) proc.sys.symlink(target, lp);
          else {
            const [t] = imageArgs([target]);
            if (t!.image !== l!.image || t!.part !== l!.part) throw new CliError(`tkl: cannot create hard link across images`);
            proc.sys.link(t!.path, lp);
          }
        } catch (e) {
          if (e instanceof CliError) throw e;
          status.fail(cannot(o.symbolic ? 'create symbolic link' : 'create hard link', l!.text, e));
        }
      });
    });

  p.command('chmod')
    .description('change permissions inside an image')
    .argument('<mode>', 'octal (0644) or symbolic (u+x,go-w)')
    .argument('<address...>', 'IMAGE[:PART]:/path')
    .option('-R, --recursive', 'change files and directories recursively')
    .addHelpText('after', '\nExamples:\n  tkl chmod 0755 disk.img:/usr/local/bin/tool\n  tkl chmod -R go-w disk.img:/srv')
    .action(async (mode: string, args: string[], o: { recursive?: boolean }) => {
      const addrs = imageArgs(args);
      const apply = modeChanger(mode);
      process.exitCode = await inSession((s, status) => {
        for (const a of addrs) {
          const { proc, path: top } = s.target(a, true);
          walkApply(proc, top, o.recursive ?? false, (p, st) => {
            if ((st.mode & S_IFMT) === S_IFLNK) return;
            try {
              proc.sys.chmod(p, apply(st.mode));
            } catch (e) {
              status.fail(cannot('change permissions of', a.text + p.slice(top.length), e));
            }
          }, status, a.text);
        }
      });
    });

  p.command('chown')
    .description('change owner and group inside an image')
    .argument('<owner>', "UID[:GID] or NAME[:GROUP] (names from the image's /etc/passwd and /etc/group); symbolic links themselves are changed")
    .argument('<address...>', 'IMAGE[:PART]:/path')
    .option('-R, --recursive', 'change files and directories recursively')
    .addHelpText('after', '\nExamples:\n  tkl chown 1000:1000 disk.img:root:/home/user\n  tkl chown -R www-data: disk.img:/srv/www')
    .action(async (owner: string, args: string[], o: { recursive?: boolean }) => {
      const addrs = imageArgs(args);
      process.exitCode = await inSession((s, status) => {
        for (const a of addrs) {
          const { proc, path: top } = s.target(a, true);
          const [uid, gid] = parseOwner(proc, owner);
          walkApply(proc, top, o.recursive ?? false, (p) => {
            try {
              proc.sys.lchown(p, uid, gid);
            } catch (e) {
              status.fail(cannot('change owner of', a.text + p.slice(top.length), e));
            }
          }, status, a.text);
        }
      });
    });

  p.command('touch')
    .description('create files or update their times inside an image')
    .argument('<address...>', 'IMAGE[:PART]:/path')
    .option('-c, --no-create', 'do not create missing files')
    .option('-a', 'change only the access time')
    .option('-m', 'change only the modification time')
    .option('-d, --date <date>', 'use this time instead of now (ISO 8601 or anything Date.parse reads)')
    .addHelpText('after', '\nExamples:\n  tkl touch disk.img:/etc/.updated\n  tkl touch -d 2024-01-01T00:00:00Z disk.img:/srv/index.html')
    .action(async (args: string[], o: { create?: boolean; a?: boolean; m?: boolean; date?: string }) => {
      const addrs = imageArgs(args);
      let when: Timespec = { sec: 0, nsec: UTIME_NOW };
      if (o.date !== undefined) {
        const ms = Date.parse(o.date);
        if (Number.isNaN(ms)) throw new UsageError(`invalid date '${o.date}'`);
        when = { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 };
      }
      const omit: Timespec = { sec: 0, nsec: UTIME_OMIT };
      const times: [Timespec, Timespec] = [o.m && !o.a ? omit : when, o.a && !o.m ? omit : when];
      process.exitCode = await inSession((s, status) => {
        for (const a of addrs) {
          const { proc, path } = s.target(a, true);
          try {
            try {
              if (o.create !== false) proc.sys.close(proc.sys.openat(AT_FDCWD, path, O_CREAT | O_WRONLY, 0o666));
            } catch (e) {
              // As GNU touch: a directory cannot be opened for writing, but its times can change.
              if ((e as { code?: string }).code !== 'EISDIR') throw e;
            }
            proc.sys.utimensat(AT_FDCWD, path, times, 0);
          } catch (e) {
            if (o.create === false && (e as { code?: string }).code === 'ENOENT') continue;
            status.fail(cannot('touch', a.text, e));
          }
        }
      });
    });

  p.command('truncate')
    .description('shrink or extend files inside an image')
    .requiredOption('-s, --size <size>', 'SIZE, +SIZE or -SIZE (K, M, G suffixes)')
    .option('-c, --no-create', 'do not create missing files')
    .argument('<address...>', 'IMAGE[:PART]:/path')
    .addHelpText('after', '\nExamples:\n  tkl truncate -s 1G disk.img:/var/swapfile\n  tkl truncate -s +4K disk.img:/log')
    .action(async (args: string[], o: { size: string; create?: boolean }) => {
      const addrs = imageArgs(args);
      const rel = o.size.startsWith('+') ? 1 : o.size.startsWith('-') ? -1 : 0;
      const amount = parseSize(rel === 0 ? o.size : o.size.slice(1));
      process.exitCode = await inSession((s, status) => {
        for (const a of addrs) {
          const { proc, path } = s.target(a, true);
          try {
            if (o.create !== false) proc.sys.close(proc.sys.openat(AT_FDCWD, path, O_CREAT | O_WRONLY, 0o666));
            const cur = rel === 0 ? 0 : proc.sys.stat(path).size;
            proc.sys.truncate(path, Math.max(0, cur + (rel === 0 ? amount : rel * amount)));
          } catch (e) {
            if (o.create === false && (e as { code?: string }).code === 'ENOENT') continue;
            status.fail(cannot('truncate', a.text, e));
          }
        }
      });
    });
}

/**
 * Removes `top` and everything beneath it, as rm -r: each failure is reported and the rest goes
 * on; a directory is removed once its entries have gone, and kept when one of them could not
 * be. A stack, not recursion: a tree as deep as PATH_MAX allows would overflow the JavaScript
 * stack. Returns whether everything went.
 */
function removeTree(ops: FsOps, top: string, fail: (path: string, e: unknown) => void): boolean {
  interface Item {
    p: string;
    emptied: boolean;
    parent: Item | null;
    failed: boolean;
  }
  let ok = true;
  const failed = (x: Item, e: unknown): void => {
    fail(x.p, e);
    ok = false;
    for (let q = x.parent; q !== null && !q.failed; q = q.parent) q.failed = true;
  };
  const todo: Item[] = [{ p: top, emptied: false, parent: null, failed: false }];
  for (let x = todo.pop(); x !== undefined; x = todo.pop()) {
    try {
      if (x.emptied) {
        if (!x.failed) ops.rmdir(x.p);
        continue;
      }
      if ((ops.lstat(x.p).mode & S_IFMT) !== S_IFDIR) {
        ops.unlink(x.p);
        continue;
      }
      const names = ops.readdir(x.p);
      x.emptied = true;
      todo.push(x);
      for (const n of names) todo.push({ p: `${x.p}/${n}`, emptied: false, parent: x, failed: false });
    } catch (e) {
      failed(x, e);
    }
  }
  return ok;
}

/**
 * Calls `fn` on `top` and, with `recursive`, on everything beneath it (symlinks not followed),
 * a directory before its entries. A stack, not recursion (see removeTree).
 */
function walkApply(
  proc: Process, top: string, recursive: boolean, fn: (p: string, st: { mode: number }) => void, status: Status, shown: string,
): void {
  const todo = [top];
  for (let p = todo.pop(); p !== undefined; p = todo.pop()) {
    checkInterrupt();
    let st;
    try {
      st = proc.sys.lstat(p);
    } catch (e) {
      status.fail(cannot('access', shown + p.slice(top.length), e));
      continue;
    }
    fn(p, st);
    if (!recursive || (st.mode & S_IFMT) !== S_IFDIR) continue;
    let names: string[];
    try {
      names = proc.fs.readdir(p);
    } catch (e) {
      status.fail(cannot('open directory', shown + p.slice(top.length), e));
      continue;
    }
    for (let i = names.length - 1; i >= 0; i--) todo.push(`${p.replace(/\/+$/, '')}/${names[i]}`);
  }
}

/** True when `path` (not followed if a symlink) is the root directory of `proc`'s filesystem. */
function isRoot(proc: Process, path: string): boolean {
  let st;
  try {
    st = proc.sys.lstat(path);
  } catch {
    return false;
  }
  const root = proc.sys.lstat('/');
  return st.dev === root.dev && st.ino === root.ino;
}

/** An invalid mode is a failure (exit 1), not a usage error, as coreutils' chmod and mkdir -m have it. */
function invalidMode(text: string): CliError {
  return new CliError(`tkl: invalid mode: '${text}'`);
}

function parseOctal(text: string): number {
  if (!/^[0-7]{1,4}$/.test(text)) throw invalidMode(text);
  return parseInt(text, 8);
}

/** chmod's mode language: octal, or clauses like u+x,go-w,a=rX. Errors: CliError (exit 1). */
export function modeChanger(text: string): (mode: number) => number {
  if (/^[0-7]{1,4}$/.test(text)) {
    const m = parseInt(text, 8);
    return (mode) => (mode & ~0o7777) | m;
  }
  const clauses = text.split(',').map((c) => {
    const m = /^([ugoa]*)([+\-=])([rwxXst]*)$/.exec(c);
    if (!m) throw invalidMode(text);
    return { who: m[1] === '' ? 'a' : m[1]!, op: m[2]!, perms: m[3]! };
  });
  return (mode) => {
    let m = mode & 0o7777;
    const isDir = (mode & S_IFMT) === S_IFDIR;
    for (const { who, op, perms } of clauses) {
      let bits = 0;
      const anyX = (m & 0o111) !== 0 || isDir;
      for (const w of who.includes('a') ? 'ugo' : who) {
        const shift = w === 'u' ? 6 : w === 'g' ? 3 : 0;
        for (const ch of perms) {
          if (ch === 'r') bits |= 4 << shift;
          else if (ch === 'w') bits |= 2 << shift;
          else if (ch === 'x' || (ch === 'X' && anyX)) bits |= 1 << shift;
          else if (ch === 's' && w === 'u') bits |= 0o4000;
          else if (ch === 's' && w === 'g') bits |= 0o2000;
          else if (ch === 't') bits |= 0o1000;
        }
      }
      if (op === '+') m |= bits;
      else if (op === '-') m &= ~bits;
      else {
        let mask = 0;
        for (const w of who.includes('a') ? 'ugo' : who) mask |= w === 'u' ? 0o4700 : w === 'g' ? 0o2070 : 0o1007;
        m = (m & ~mask) | bits;
      }
    }
    return (mode & ~0o7777) | m;
  };
}

/**
 * OWNER[:GROUP] as chown takes it, with numeric ids or names looked up in the image's own
 * /etc/passwd and /etc/group (never the host's: the image's users are what its files mean).
 * "OWNER:" takes OWNER's login group from passwd, ":GROUP" changes only the group.
 * Errors: CliError for a name the image does not know.
 */
function parseOwner(proc: Process, text: string): [number, number] {
  const colon = text.indexOf(':');
  const u = colon < 0 ? text : text.slice(0, colon);
  const g = colon < 0 ? undefined : text.slice(colon + 1);
  /** The fields of the line for `name` in the image's /etc/FILE, or null. */
  const entry = (file: string, name: string): string[] | null => {
    let text: string;
    try {
      text = proc.fs.readFile(`/etc/${file}`, 'utf8') as string;
    } catch {
      return null; // no such file in the image
    }
    for (const line of text.split('\n')) {
      const f = line.split(':');
      if (f[0] === name && f.length >= 3 && /^\d+$/.test(f[2]!)) return f;
    }
    return null;
  };
  const unknown = (file: string, name: string): CliError =>
    new CliError(`tkl: invalid ${file === 'passwd' ? 'user' : 'group'}: '${name}' (not in the image's /etc/${file})`);
  let uid = -1;
  let loginGid = -1;
  if (u !== '') {
    if (/^\d+$/.test(u)) uid = Number(u);
    else {
      const f = entry('passwd', u);
      if (f === null) throw unknown('passwd', u);
      uid = Number(f[2]);
      if (f[3] !== undefined && /^\d+$/.test(f[3])) loginGid = Number(f[3]);
    }
  }
  let gid = -1;
  if (g !== undefined && g !== '') {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const f = entry('group', g);
      if (f === null) throw unknown('group', g);
      gid = Number(f[2]);
    }
  } else if (g === '' && u !== '') {
    if (/^\d+$/.test(u)) throw new CliError(`tkl: invalid spec: '${text}' (a numeric owner has no login group; give OWNER:GROUP)`);
    gid = loginGid;
  }
  return [uid, gid];
}

