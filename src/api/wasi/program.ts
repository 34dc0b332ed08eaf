// Running one WASI program on a kernel, synchronously, on the calling thread: mount what the
// program is given (host directories, tmpfs), make its task — sandboxed, with its standard
// streams and preopened directories — run _start, then sync and unmount everything. The
// worker entry (worker_main.ts) and the in-process runner (runSync) both come through here.

import { AT_FDCWD, O_DIRECTORY, O_RDONLY } from '../../abi/linux/fcntl.js';
import { MS_RDONLY } from '../../abi/linux/mount.js';
import { S_IFCHR } from '../../abi/linux/stat.js';
import { DEV_FULL, DEV_NULL, DEV_RANDOM, DEV_URANDOM, DEV_ZERO } from '../../kernel/devices.js';
import type { Halt } from '../../host/halt.js';
import { Cred } from '../../kernel/cred.js';
import { isErrno } from '../../kernel/errno.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/task.js';
import { sys_mount } from '../../kernel/syscalls/sys_mount.js';
import { sys_mkdirat } from '../../kernel/syscalls/sys_namei.js';
import { sys_close_range } from '../../kernel/syscalls/sys_open.js';
import { hostfsType } from '../../fs/hostfs/hostfs.js';
import { LOOKUP_BENEATH, LOOKUP_NO_MAGICLINKS } from '../../vfs/namei.js';
import { FMODE_READ, type FileOps } from '../../vfs/file.js';
import { PathRef } from '../../vfs/mount.js';
import { vfsOpen } from '../../vfs/vfs_ops.js';
import { DiskError, attachDisk, imageKey, type DiskMount, type SharedDisk } from './disks.js';
import { installStream } from './stdio.js';
import { SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR } from '../../abi/linux/socket.js';
import { AF_INET } from '../../net/socket/sockaddr.js';
import { sys_bind, sys_listen, sys_setsockopt, sys_socket } from '../../kernel/syscalls/sys_socket.js';
import { WasiPreview1, type Preopen } from './wasi.js';

/** A host directory exposed to the program (`--dir HOST[:GUEST]`). */
export interface DirMount {
  /** Absolute host path. */
  host: string;
  /** The name the program sees: an absolute path ("/", "/data") or a relative name ("."). */
  guest: string;
  readOnly?: boolean;
}

/** What a program gets: its arguments, environment and filesystems. */
export interface ProgramConfig {
  /** argv, the program's name first. */
  args: string[];
  /** KEY=VALUE strings: the whole environment. */
  env: string[];
  dirs: DirMount[];
  /** Guest paths that get a fresh tmpfs (`--tmpfs /tmp`). */
  tmpfs: string[];
  /** Log every WASI call to stderr (`tkl run --trace`). */
  trace?: boolean;
  /** Preopen a /dev with null, zero, full, random and urandom (`tkl run --dev`). */
  devices?: boolean;
  /** Disk images: the root (`--disk`, guest "/") and more (`--mount`). */
  disks?: DiskMount[];
  /** TCP ports to listen on, preopened as the descriptors after the directories (`--listen`). */
  listen?: number[];
}

/** A program's standard streams as kernel file operations. */
export interface Stdio {
  stdin: FileOps;
  stdout: FileOps;
  stderr: FileOps;
  /** Which of the three are terminals (character devices to the program). */
  tty: [boolean, boolean, boolean];
}

/** Thrown for a configuration the kernel cannot set up (a missing host directory, …). */
export class SetupError extends Error {
  override name = 'SetupError';
}

const encoder = new TextEncoder();

/** The exit status of a program that trapped: 128 + SIGABRT, as a shell reports an abort. */
export const TRAP_EXIT_CODE = 134;

/**
 * Mounts the program's filesystems and makes its task. Returns the task and its preopens;
 * the task resolves every path beneath the descriptor it starts from.
 */
export function prepare(k: Kernel, cfg: ProgramConfig, stdio: Stdio): { task: Task; preopens: Preopen[]; close: () => void } {
  const init = k.init;
  // Disks first: attaching one makes nodes in /dev, which a mount over "/" would cover.
  const disks: ReturnType<typeof attachDisk>[] = [];
  const close = (): void => {
    for (const d of disks.splice(0)) d.close();
  };
  if (cfg.dirs.length > 0 && !k.fsTypes.has(hostfsType.name)) k.registerFilesystem(hostfsType);
  // Preopens the program names by relative path, and the devices, are mounted at hidden
  // places of the kernel's own root first; then the guest's absolute paths, shallow first, so
  // "/" is in place before "/data" is made inside it.
  const mounts: { guest: string; at: string; hidden: boolean; mount: () => void }[] = [];
  let hidden = 0;
  const hide = (): string => `/.tkl/${hidden++}`;
  if (cfg.devices) {
    const at = hide();
    mounts.push({ guest: '/dev', at, hidden: true, mount: () => {
      sys_mount(init, 'dev', at, 'devtmpfs', 0, 'mode=755');
      const dir = k.lookupRoot(at);
      for (const [name, rdev] of [['null', DEV_NULL], ['zero', DEV_ZERO], ['full', DEV_FULL], ['random', DEV_RANDOM], ['urandom', DEV_URANDOM]] as const) {
        k.makeNode(dir, name, S_IFCHR | 0o666, rdev);
      }
    } });
  }
  for (const d of cfg.dirs) {
    const rel = !d.guest.startsWith('/');
    const at = rel ? hide() : normalize(d.guest);
    mounts.push({ guest: d.guest, at, hidden: rel, mount: () => sys_mount(init, d.host, at, 'hostfs', d.readOnly ? MS_RDONLY : 0, '') });
  }
  // One device per image file, writable when any of its uses writes.
  const shared = new Map<string, SharedDisk>();
  const writers = new Set<string>();
  for (const d of cfg.disks ?? []) if (!d.readOnly) writers.add(imageKey(d.image));
  for (const d of cfg.disks ?? []) {
    if (!d.guest.startsWith('/')) throw new SetupError(`a disk's guest path must be absolute, not '${d.guest}'`);
    let attached;
    try {
      attached = attachDisk(k, d, shared, writers.has(imageKey(d.image)));
    } catch (e) {
      close();
      if (e instanceof DiskError || isErrno(e)) throw new SetupError(e.message);
      throw e;
    }
    disks.push(attached);
    const at = normalize(d.guest);
    mounts.push({ guest: at, at, hidden: false, mount: () => attached.mount(at) });
  }
  for (const p of cfg.tmpfs) {
    if (!p.startsWith('/')) throw new SetupError(`--tmpfs needs an absolute guest path, not '${p}'`);
    const at = normalize(p);
    mounts.push({ guest: at, at, hidden: false, mount: () => sys_mount(init, 'tmpfs', at, 'tmpfs', 0, 'mode=1777') });
  }
  mounts.sort((a, b) => (a.hidden === b.hidden ? depth(a.at) - depth(b.at) : a.hidden ? -1 : 1));
  const roots: PathRef[] = [];
  for (const m of mounts) {
    try {
      mkdirs(k, m.at);
      m.mount();
    } catch (e) {
      shutdown(k);
      close();
      if (isErrno(e)) throw new SetupError(`cannot mount ${m.guest}: ${e.message}`);
      throw e;
    }
    // The new mount is the last attached; its root is what the program gets (a walk of "/"
    // would not cross a mount stacked on the namespace root).
    const mnt = k.mountList[k.mountList.length - 1]!;
    roots.push(new PathRef(mnt, mnt.root));
  }

  // The program's task: root credentials inside its own kernel, nothing open but what it gets.
  const task = k.forkTask(init, new Cred(0, 0));
  sys_close_range(task, 0, 0x7fffffff, 0);
  installStream(k, task, 0, stdio.stdin, false, stdio.tty[0]);
  installStream(k, task, 1, stdio.stdout, true, stdio.tty[1]);
  installStream(k, task, 2, stdio.stderr, true, stdio.tty[2]);
  const preopens: Preopen[] = [];
  mounts.forEach((m, i) => {
    const root = roots[i]!;
    if (m.at === '/') {
      k.setRoot(task, root);
      k.setCwd(task, root);
    }
    const file = vfsOpen(k.openContext, root, O_RDONLY | O_DIRECTORY, FMODE_READ);
    preopens.push({ fd: task.files.install(file, false), name: m.guest });
  });
  // Listening sockets come after the directories: wasi-libc scans descriptors from 3 for
  // preopens and stops at the first that is not one.
  for (const port of cfg.listen ?? []) {
    try {
      const fd = sys_socket(task, AF_INET, SOCK_STREAM, 0);
      sys_setsockopt(task, fd, SOL_SOCKET, SO_REUSEADDR, 1);
      sys_bind(task, fd, { family: AF_INET, addr: '0.0.0.0', port });
      sys_listen(task, fd, 128);
    } catch (e) {
      shutdown(k);
      close();
      if (isErrno(e)) throw new SetupError(`cannot listen on port ${port}: ${e.message}`);
      throw e;
    }
  }
  // From here on, no path leaves the directory it starts from (WASI's capability model).
  task.resolveFlags = LOOKUP_BENEATH | LOOKUP_NO_MAGICLINKS;
  return { task, preopens, close };
}

/**
 * Runs `module` as a WASI command on `k`: sets it up, runs _start, ends the task, syncs and
 * unmounts. Returns the exit code. Errors: SetupError; a trap or link error propagates.
 */
export function runProgram(k: Kernel, halt: Halt, module: WebAssembly.Module, cfg: ProgramConfig, stdio: Stdio, interrupt?: Int32Array): number {
  const { task, preopens, close } = prepare(k, cfg, stdio);
  try {
    const trace = cfg.trace ? (line: string) => stdio.stderr.write!(null as never, encoder.encode(`[wasi] ${line}\n`), 0, line.length + 8, 0) : undefined;
    const wasi = new WasiPreview1(k, task, { args: cfg.args, env: cfg.env, preopens, halt, trace, interrupt });
    const instance = new WebAssembly.Instance(module, importsFor(module, wasi));
    return wasi.start(instance);
  } finally {
    k.exitTask(task, 0);
    shutdown(k);
    close();
  }
}

/** The import object for `module`: WASI preview1; anything else it imports is a LinkError. */
function importsFor(module: WebAssembly.Module, wasi: WasiPreview1): WebAssembly.Imports {
  const missing = WebAssembly.Module.imports(module).filter(
    (i) => i.module !== 'wasi_snapshot_preview1' || !(i.name in wasi.imports),
  );
  if (missing.length > 0) {
    const names = missing.slice(0, 5).map((i) => `${i.module}.${i.name}`).join(', ');
    throw new SetupError(`the module needs imports that are not WASI preview1: ${names}${missing.length > 5 ? ', …' : ''}`);
  }
  return { wasi_snapshot_preview1: wasi.imports as unknown as WebAssembly.ModuleImports };
}

/** Flushes every filesystem and unmounts all but the root, deepest first. */
export function shutdown(k: Kernel): void {
  k.syncAll();
  const mounts = k.mountList.filter((m) => m !== k.rootMount);
  for (const m of mounts.reverse()) {
    if (m.detached) continue;
    k.detachMount(m);
  }
}

function normalize(p: string): string {
  const parts = p.split('/').filter((x) => x !== '' && x !== '.');
  if (parts.includes('..')) throw new SetupError(`guest path '${p}' may not contain '..'`);
  return '/' + parts.join('/');
}

function depth(p: string): number {
  return p === '/' ? 0 : p.split('/').length - 1;
}

/** mkdir -p in the kernel, as its first task. */
function mkdirs(k: Kernel, path: string): void {
  let at = '';
  for (const part of path.split('/')) {
    if (part === '') continue;
    at += '/' + part;
    try {
      sys_mkdirat(k.init, AT_FDCWD, at, 0o755);
    } catch (e) {
      if (!isErrno(e) || e.code !== 'EEXIST') throw e;
    }
  }
}
