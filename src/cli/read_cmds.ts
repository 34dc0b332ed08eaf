// Read commands: ls, tree, cat, stat. Images are opened read-only, so these never modify one.

import type { Command } from 'commander';
import { parseAddress, type ImageAddress } from './address.js';
import { inSession, checkInterrupt } from './in_session.js';
import { CliError, cannot, modeString, printJson, typeName, UsageError } from './output.js';
import type { Session } from './session.js';
import { AT_FDCWD, AT_SYMLINK_NOFOLLOW, O_RDONLY } from '../abi/linux/fcntl.js';
import { S_IFDIR, S_IFLNK, S_IFMT, STATX_BASIC_STATS, STATX_BTIME } from '../abi/linux/stat.js';
import type { Stat, Statx } from '../kernel/syscalls/sys_stat.js';
import type { Timespec } from '../vfs/time.js';
import { existsSync, statSync } from 'node:fs';

/** Parses each argument as an image address; host paths are a usage error here. */
export function imageArgs(args: string[]): ImageAddress[] {
  return args.map((text) => {
    const a = parseAddress(text, existsSync);
    if (a.kind !== 'image') {
      const hint = existsSync(text) && statSync(text).isFile() ? ` (did you mean '${text}:/'?)` : '';
      throw new UsageError(`'${text}' is not an image address IMAGE[:PART]:/path${hint}`);
    }
    return a;
  });
}

function isoTime(t: Timespec): string {
  return `${new Date(t.sec * 1000).toISOString().replace(/\.000Z$/, '')}.${String(t.nsec).padStart(9, '0')}Z`;
}

function lsTime(t: Timespec): string {
  const d = new Date(t.sec * 1000);
  const mon = d.toLocaleString('en-US', { month: 'short' });
  const day = String(d.getDate()).padStart(2, ' ');
  const sixMonths = 182 * 24 * 3600 * 1000;
  const recent = Math.abs(Date.now() - d.getTime()) < sixMonths;
  return recent
    ? `${mon} ${day} ${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`
    : `${mon} ${day}  ${d.getFullYear()}`;
}

interface Entry {
  name: string;
  path: string;
  type: string;
  mode: string;
  perm: number;
  size: number;
  nlink: number;
  uid: number;
  gid: number;
  ino: number;
  mtime: string;
  target?: string;
}

function entryOf(s: Session, name: string, kpath: string, shownPath: string): { e: Entry; st: Stat } {
  const st = s.k.sys.lstat(kpath);
  const e: Entry = {
    name,
    path: shownPath,
    type: typeName(st.mode),
    mode: modeString(st.mode),
    perm: st.mode & 0o7777,
    size: st.size,
    nlink: st.nlink,
    uid: st.uid,
    gid: st.gid,
    ino: st.ino,
    mtime: isoTime(st.mtime),
  };
  if ((st.mode & S_IFMT) === S_IFLNK) e.target = s.k.sys.readlink(kpath);
  return { e, st };
}

function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

export function registerRead(p: Command): void {
  p.command('ls')
    .description('list directory contents inside an image')
    .argument('<address...>', 'IMAGE[:PART]:/path')
    .option('-l', 'long listing (mode, links, owner, group, size, time)')
    .option('-a', 'include entries starting with "." (and . and ..)')
    .option('-R', 'list subdirectories recursively')
    .option('--json', 'print a JSON array of entries')
    .addHelpText('after', '\nExamples:\n  tkl ls disk.img:/\n  tkl ls -la disk.img:2:/etc\n  tkl ls -R --json disk.img:boot:/')
    .action(async (args: string[], o: { l?: boolean; a?: boolean; R?: boolean; json?: boolean }) => {
      const addrs = imageArgs(args);
      process.exitCode = await inSession((s, status) => {
        const all: Entry[] = [];
        const many = addrs.length > 1 || o.R;
        let first = true;
        const listDir = (kdir: string, shown: string): void => {
          checkInterrupt();
          let names: string[];
          try {
            names = s.k.fs.readdir(kdir);
          } catch (e) {
            status.fail(cannot('open directory', shown, e));
            return;
          }
          names = names.filter((n) => o.a || !n.startsWith('.')).sort();
          if (o.a) names = ['.', '..', ...names];
          const entries = names.map((n) => entryOf(s, n, joinPath(kdir, n), joinPath(shown, n)));
          if (o.json) all.push(...entries.map((x) => x.e));
          else {
            if (many) process.stdout.write(`${first ? '' : '\n'}${shown}:\n`);
            first = false;
            print(entries.map((x) => x.e), o.l ?? false);
          }
          if (o.R) {
            for (const { e, st } of entries) {
              if (e.name === '.' || e.name === '..') continue;
              if ((st.mode & S_IFMT) === S_IFDIR) listDir(joinPath(kdir, e.name), e.path);
            }
          }
        };
        for (const a of addrs) {
          let kpath: string;
          let st: Stat;
          try {
            kpath = s.path(a, false);
            st = s.k.sys.stat(kpath);
          } catch (e) {
            if (e instanceof CliError) throw e;
            status.fail(cannot('access', a.text, e));
            continue;
          }
          if ((st.mode & S_IFMT) === S_IFDIR) listDir(kpath, a.text);
          else {
            const x = entryOf(s, a.path.split('/').pop() || a.path, kpath, a.text);
            if (o.json) all.push(x.e);
            else print([x.e], o.l ?? false);
          }
        }
        if (o.json) printJson(all);
      });
    });

  p.command('tree')
    .description('show a directory tree inside an image')
    .argument('<address>', 'IMAGE[:PART]:/path')
    .option('-a', 'include entries starting with "."')
    .option('-L <depth>', 'descend at most this many levels')
    .addHelpText('after', '\nExample:\n  tkl tree -L 2 disk.img:root:/etc')
    .action(async (arg: string, o: { a?: boolean; L?: string }) => {
      const [a] = imageArgs([arg]);
      const maxDepth = o.L === undefined ? Infinity : Number(o.L);
      if (!(maxDepth >= 1)) throw new UsageError(`invalid depth '${o.L}'`);
      process.exitCode = await inSession((s, status) => {
        let dirs = 0;
        let files = 0;
        const k = s.k;
        const root = s.path(a!, false);
        process.stdout.write(a!.text + '\n');
        const walk = (kdir: string, prefix: string, depth: number): void => {
          checkInterrupt();
          let names: string[];
          try {
            names = k.fs.readdir(kdir).filter((n) => o.a || !n.startsWith('.')).sort();
          } catch (e) {
            status.fail(cannot('open directory', kdir, e));
            return;
          }
          names.forEach((n, i) => {
            const last = i === names.length - 1;
            const kp = joinPath(kdir, n);
            const st = k.sys.lstat(kp);
            const isDir = (st.mode & S_IFMT) === S_IFDIR;
            const link = (st.mode & S_IFMT) === S_IFLNK ? ` -> ${k.sys.readlink(kp)}` : '';
            process.stdout.write(`${prefix}${last ? '└── ' : '├── '}${n}${link}\n`);
            if (isDir) {
              dirs++;
              if (depth < maxDepth) walk(kp, prefix + (last ? '    ' : '│   '), depth + 1);
            } else files++;
          });
        };
        walk(root, '', 1);
        process.stdout.write(`\n${dirs} director${dirs === 1 ? 'y' : 'ies'}, ${files} file${files === 1 ? '' : 's'}\n`);
      });
    });

  p.command('cat')
    .description("print files' contents from an image")
    .argument('<address...>', 'IMAGE[:PART]:/path')
    .addHelpText('after', '\nExample:\n  tkl cat disk.img:root:/etc/os-release')
    .action(async (args: string[]) => {
      const addrs = imageArgs(args);
      process.exitCode = await inSession(async (s, status) => {
        const buf = new Uint8Array(1 << 20);
        for (const a of addrs) {
          let fd: number;
          try {
            fd = s.k.sys.openat(AT_FDCWD, s.path(a, false), O_RDONLY);
          } catch (e) {
            if (e instanceof CliError) throw e;
            status.fail(cannot('open', a.text, e));
            continue;
          }
          try {
            for (;;) {
              checkInterrupt();
              const n = await s.k.sys.read(fd, buf);
              if (n === 0) break;
              if (!process.stdout.write(buf.slice(0, n))) await new Promise((r) => process.stdout.once('drain', r));
            }
          } catch (e) {
            status.fail(cannot('read', a.text, e));
          } finally {
            s.k.sys.close(fd);
          }
        }
      });
    });

  p.command('stat')
    .description('show file status inside an image')
    .argument('<address...>', 'IMAGE[:PART]:/path')
    .option('-L, --dereference', 'follow symbolic links')
    .option('--json', 'print JSON (statx fields)')
    .addHelpText('after', '\nExample:\n  tkl stat --json disk.img:/etc/hostname')
    .action(async (args: string[], o: { dereference?: boolean; json?: boolean }) => {
      const addrs = imageArgs(args);
      process.exitCode = await inSession((s, status) => {
        const out: unknown[] = [];
        for (const a of addrs) {
          let x: Statx;
          let kpath: string;
          try {
            kpath = s.path(a, false);
            x = s.k.sys.statx(AT_FDCWD, kpath, o.dereference ? 0 : AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME);
          } catch (e) {
            if (e instanceof CliError) throw e;
            status.fail(cannot('stat', a.text, e));
            continue;
          }
          const target = (x.mode & S_IFMT) === S_IFLNK ? s.k.sys.readlink(kpath) : undefined;
          if (o.json) {
            out.push({
              path: a.text, type: typeName(x.mode), mode: x.mode & 0o7777, size: x.size, blocks: x.blocks, blksize: x.blksize,
              ino: x.ino, nlink: x.nlink, uid: x.uid, gid: x.gid, rdev: [x.rdevMajor, x.rdevMinor], dev: [x.devMajor, x.devMinor],
              atime: isoTime(x.atime), mtime: isoTime(x.mtime), ctime: isoTime(x.ctime),
              btime: x.mask & STATX_BTIME ? isoTime(x.btime) : null, ...(target !== undefined ? { target } : {}),
            });
            continue;
          }
          const perm = (x.mode & 0o7777).toString(8).padStart(4, '0');
          process.stdout.write(
            `  File: ${a.text}${target !== undefined ? ` -> ${target}` : ''}\n` +
              `  Size: ${String(x.size).padEnd(15)} Blocks: ${String(x.blocks).padEnd(10)} IO Block: ${String(x.blksize).padEnd(6)} ${typeName(x.mode)}\n` +
              `Device: ${x.devMajor},${x.devMinor}\tInode: ${String(x.ino).padEnd(11)} Links: ${x.nlink}\n` +
              `Access: (${perm}/${modeString(x.mode)})  Uid: ${x.uid}  Gid: ${x.gid}\n` +
              `Access: ${isoTime(x.atime)}\nModify: ${isoTime(x.mtime)}\nChange: ${isoTime(x.ctime)}\n Birth: ${x.mask & STATX_BTIME ? isoTime(x.btime) : '-'}\n`,
          );
        }
        if (o.json) printJson(addrs.length === 1 ? out[0] : out);
      });
    });
}

function print(entries: Entry[], long: boolean): void {
  if (!long) {
    for (const e of entries) process.stdout.write(e.name + '\n');
    return;
  }
  const w = (f: (e: Entry) => string): number => Math.max(0, ...entries.map((e) => f(e).length));
  const wl = w((e) => String(e.nlink));
  const wu = w((e) => String(e.uid));
  const wg = w((e) => String(e.gid));
  const ws = w((e) => String(e.size));
  for (const e of entries) {
    const t = lsTime({ sec: Date.parse(e.mtime) / 1000, nsec: 0 });
    process.stdout.write(
      `${e.mode} ${String(e.nlink).padStart(wl)} ${String(e.uid).padStart(wu)} ${String(e.gid).padStart(wg)} ${String(e.size).padStart(ws)} ${t} ${e.name}${e.target !== undefined ? ` -> ${e.target}` : ''}\n`,
    );
  }
}

