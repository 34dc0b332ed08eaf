// Read commands: ls, tree, cat, stat. Images are opened read-only, so these never modify one.

import type { Command } from 'commander';
import { parseAddress, type ImageAddress } from './address.js';
import { inSession, checkInterrupt } from './in_session.js';
import { CliError, cannot, modeString, printJson, typeName, UsageError } from './output.js';
import type { Sys } from '../api/syscall/sys.js';
import { AT_FDCWD, AT_SYMLINK_NOFOLLOW, O_RDONLY } from '../abi/linux/fcntl.js';
import { S_IFDIR, S_IFLNK, S_IFMT, STATX_BASIC_STATS, STATX_BTIME } from '../abi/linux/stat.js';
import type { Stat, Statx } from '../kernel/syscalls/sys_stat.js';
import type { Timespec } from '../vfs/time.js';
import { existsSync, statSync } from 'node:fs';
import type { Process } from '../api/boot.js';
import type { ImageTarget } from './session.js';
import { attributeNames, readFatAttributes } from './attrib_cmd.js';

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

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The time column of `ls -l` in the C locale (an Intl lookup per line cost 40 µs). */
function lsTime(t: Timespec): string {
  const d = new Date(t.sec * 1000);
  const mon = MONTHS[d.getMonth()]!;
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

function entryOf(sys: Sys, name: string, path: string, shownPath: string): { e: Entry; st: Stat } {
  const st = sys.lstat(path);
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
  if ((st.mode & S_IFMT) === S_IFLNK) e.target = sys.readlink(path);
  return { e, st };
}

/** One entry of `tree -J` output. */
interface TreeNode {
  type: string;
  name: string;
  target?: string;
  contents?: TreeNode[];
}

/** The type names `tree -J` uses. */
function treeType(mode: number): string {
  const t = typeName(mode);
  return t === 'symlink' ? 'link' : t === 'char-device' ? 'char' : t === 'block-device' ? 'block' : t;
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
        // ls -R walks with a stack of directories to list, not recursion: a tree as deep as
        // PATH_MAX allows would overflow the JavaScript stack.
        const listTree = (proc: Process, dir: string, shown: string): void => {
          const todo: [string, string][] = [[dir, shown]];
          for (let d = todo.pop(); d !== undefined; d = todo.pop()) listDir(proc, d[0], d[1], todo);
        };
        const listDir = (proc: Process, dir: string, shown: string, todo: [string, string][]): void => {
          checkInterrupt();
          let names: string[];
          try {
            names = proc.fs.readdir(dir);
          } catch (e) {
            status.fail(cannot('open directory', shown, e));
            return;
          }
          names = names.filter((n) => o.a || !n.startsWith('.')).sort();
          if (o.a) names = ['.', '..', ...names];
          const entries: { e: Entry; st: Stat }[] = [];
          for (const n of names) {
            try {
              entries.push(entryOf(proc.sys, n, joinPath(dir, n), joinPath(shown, n)));
            } catch (e) {
              status.fail(cannot('access', joinPath(shown, n), e));
            }
          }
          if (o.json) for (const x of entries) all.push(x.e); // no spread: a directory may hold 100,000s
          else {
            if (many) process.stdout.write(`${first ? '' : '\n'}${shown}:\n`);
            first = false;
            print(entries.map((x) => x.e), o.l ?? false);
          }
          if (o.R) {
            // Last first: the subdirectories come off the stack in name order.
            for (let i = entries.length - 1; i >= 0; i--) {
              const { e, st } = entries[i]!;
              if (e.name === '.' || e.name === '..') continue;
              if ((st.mode & S_IFMT) === S_IFDIR) todo.push([joinPath(dir, e.name), e.path]);
            }
          }
        };
        for (const a of addrs) {
          let t: ImageTarget;
          let st: Stat;
          let x: { e: Entry; st: Stat } | null = null;
          try {
            t = s.target(a, false);
            st = t.proc.sys.stat(t.path);
            if ((st.mode & S_IFMT) !== S_IFDIR) x = entryOf(t.proc.sys, a.path.split('/').pop() || a.path, t.path, a.text);
          } catch (e) {
            if (e instanceof CliError) throw e;
            status.fail(cannot('access', a.text, e));
            continue;
          }
          if (x === null) listTree(t.proc, t.path, a.text);
          else {
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
    .option('-J, --json', 'print the tree as JSON, in the shape of `tree -J`')
    .addHelpText('after', '\nExamples:\n  tkl tree -L 2 disk.img:root:/etc\n  tkl tree --json disk.img:boot:/ | jq \'.[0].contents[].name\'')
    .action(async (arg: string, o: { a?: boolean; L?: string; json?: boolean }) => {
      const [a] = imageArgs([arg]);
      const maxDepth = o.L === undefined ? Infinity : Number(o.L);
      if (!(maxDepth >= 1)) throw new UsageError(`invalid depth '${o.L}'`);
      process.exitCode = await inSession((s, status) => {
        let dirs = 0;
        let files = 0;
        const { proc, path: root } = s.target(a!, false);
        if (!o.json) process.stdout.write(a!.text + '\n');
        // A stack of open directories (their sorted names and how far through them), not
        // recursion: a tree as deep as PATH_MAX allows would overflow the JavaScript stack.
        // With --json each level also holds the node whose "contents" it fills, as `tree -J`
        // prints them (no "contents" on a directory that is empty or was not read).
        interface Level {
          dir: string;
          shown: string;
          prefix: string;
          depth: number;
          names: string[];
          next: number;
          node: TreeNode | null;
        }
        const open = (dir: string, shown: string, prefix: string, depth: number, node: TreeNode | null): Level | null => {
          checkInterrupt();
          try {
            const names = proc.fs.readdir(dir).filter((n) => o.a || !n.startsWith('.')).sort();
            return { dir, shown, prefix, depth, names, next: 0, node };
          } catch (e) {
            status.fail(cannot('open directory', shown, e));
            return null;
          }
        };
        const stack: Level[] = [];
        const topNode: TreeNode | null = o.json ? { type: 'directory', name: a!.text, contents: [] } : null;
        const top = open(root, a!.text, '', 1, topNode);
        if (top !== null) stack.push(top);
        while (stack.length > 0) {
          const lv = stack[stack.length - 1]!;
          if (lv.next === lv.names.length) {
            stack.pop();
            if (lv.node?.contents?.length === 0) delete lv.node.contents;
            continue;
          }
          const n = lv.names[lv.next++]!;
          const last = lv.next === lv.names.length;
          const p = joinPath(lv.dir, n);
          let st: Stat;
          let target: string | undefined;
          try {
            st = proc.sys.lstat(p);
            if ((st.mode & S_IFMT) === S_IFLNK) target = proc.sys.readlink(p);
          } catch (e) {
            status.fail(cannot('access', joinPath(lv.shown, n), e));
            continue;
          }
          const isDir = (st.mode & S_IFMT) === S_IFDIR;
          let node: TreeNode | null = null;
          if (lv.node !== null) {
            node = { type: treeType(st.mode), name: n, ...(target !== undefined ? { target } : {}) };
            lv.node.contents!.push(node);
          } else process.stdout.write(`${lv.prefix}${last ? '└── ' : '├── '}${n}${target !== undefined ? ` -> ${target}` : ''}\n`);
          if (isDir) {
            dirs++;
            if (lv.depth < maxDepth) {
              if (node !== null) node.contents = [];
              const sub = open(p, joinPath(lv.shown, n), lv.prefix + (last ? '    ' : '│   '), lv.depth + 1, node);
              if (sub !== null) stack.push(sub);
              else if (node !== null) delete node.contents;
            }
          } else files++;
        }
        if (topNode !== null) {
          if (topNode.contents?.length === 0) delete topNode.contents;
          printJson([topNode, { type: 'report', directories: dirs, files }]);
          return;
        }
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
          let sys: Sys;
          try {
            sys = s.target(a, false).proc.sys;
            fd = sys.openat(AT_FDCWD, a.path, O_RDONLY);
          } catch (e) {
            if (e instanceof CliError) throw e;
            status.fail(cannot('open', a.text, e));
            continue;
          }
          try {
            for (;;) {
              checkInterrupt();
              const n = await sys.read(fd, buf);
              if (n === 0) break;
              if (!process.stdout.write(buf.slice(0, n))) await new Promise((r) => process.stdout.once('drain', r));
            }
          } catch (e) {
            status.fail(cannot('read', a.text, e));
          } finally {
            sys.close(fd);
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
          let target: string | undefined;
          let fat: number | null = null;
          try {
            const sys = s.target(a, false).proc.sys;
            x = sys.statx(AT_FDCWD, a.path, o.dereference ? 0 : AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME);
            if ((x.mode & S_IFMT) === S_IFLNK) target = sys.readlink(a.path);
            else fat = fatAttributesOf(sys, a.path);
          } catch (e) {
            if (e instanceof CliError) throw e;
            status.fail(cannot('stat', a.text, e));
            continue;
          }
          if (o.json) {
            out.push({
              path: a.text, type: typeName(x.mode), mode: x.mode & 0o7777, size: x.size, blocks: x.blocks, blksize: x.blksize,
              ino: x.ino, nlink: x.nlink, uid: x.uid, gid: x.gid, rdev: [x.rdevMajor, x.rdevMinor], dev: [x.devMajor, x.devMinor],
              atime: isoTime(x.atime), mtime: isoTime(x.mtime), ctime: isoTime(x.ctime),
              btime: x.mask & STATX_BTIME ? isoTime(x.btime) : null, ...(target !== undefined ? { target } : {}),
              ...(fat !== null ? { fatAttributes: attributeNames(fat) } : {}),
            });
            continue;
          }
          const perm = (x.mode & 0o7777).toString(8).padStart(4, '0');
          process.stdout.write(
            `  File: ${a.text}${target !== undefined ? ` -> ${target}` : ''}\n` +
              `  Size: ${String(x.size).padEnd(15)} Blocks: ${String(x.blocks).padEnd(10)} IO Block: ${String(x.blksize).padEnd(6)} ${typeName(x.mode)}\n` +
              `Device: ${x.devMajor},${x.devMinor}\tInode: ${String(x.ino).padEnd(11)} Links: ${x.nlink}\n` +
              `Access: (${perm}/${modeString(x.mode)})  Uid: ${x.uid}  Gid: ${x.gid}\n` +
              `Access: ${isoTime(x.atime)}\nModify: ${isoTime(x.mtime)}\nChange: ${isoTime(x.ctime)}\n Birth: ${x.mask & STATX_BTIME ? isoTime(x.btime) : '-'}\n` +
              (fat !== null ? ` Attrs: ${attributeNames(fat).join(' ') || '-'}\n` : ''),
          );
        }
        // One address: its object (nothing when it failed); several: an array of those that worked.
        if (o.json && (addrs.length > 1 || out.length === 1)) printJson(addrs.length === 1 ? out[0] : out);
      });
    });
}

/** FAT attributes of `path` for stat, null elsewhere (or when they cannot be read: stat itself worked). */
function fatAttributesOf(sys: Sys, path: string): number | null {
  try {
    return readFatAttributes(sys, path);
  } catch {
    return null;
  }
}

function print(entries: Entry[], long: boolean): void {
  // One write per directory: a write per line made stdout the largest cost of `ls -lR`.
  const lines: string[] = [];
  if (!long) {
    for (const e of entries) lines.push(e.name);
  } else {
    let wl = 0;
    let wu = 0;
    let wg = 0;
    let ws = 0;
    for (const e of entries) {
      wl = Math.max(wl, String(e.nlink).length);
      wu = Math.max(wu, String(e.uid).length);
      wg = Math.max(wg, String(e.gid).length);
      ws = Math.max(ws, String(e.size).length);
    }
    for (const e of entries) {
      const t = lsTime({ sec: Date.parse(e.mtime) / 1000, nsec: 0 });
      lines.push(
        `${e.mode} ${String(e.nlink).padStart(wl)} ${String(e.uid).padStart(wu)} ${String(e.gid).padStart(wg)} ${String(e.size).padStart(ws)} ${t} ${e.name}${e.target !== undefined ? ` -> ${e.target}` : ''}`,
      );
    }
  }
  if (lines.length > 0) process.stdout.write(lines.join('\n') + '\n');
}

