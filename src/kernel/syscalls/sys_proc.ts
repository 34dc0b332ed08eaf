// Process identity and system information: getpid, getppid, gettid, the uid/gid calls,
// setresuid/setresgid/setgroups (for running as someone else), umask, uname, sethostname.

import { NGROUPS_MAX } from '../../abi/linux/limits.js';
import { E } from '../errno.js';
import type { Task } from '../task.js';
import { KERNEL_RELEASE, KERNEL_VERSION } from '../../fs/procfs/procfs.js';
import { intArg } from './args.js';

export function sys_getpid(t: Task): number {
  return t.pid;
}
export function sys_gettid(t: Task): number {
  return t.pid;
}
export function sys_getppid(t: Task): number {
  return t.ppid;
}
export function sys_getuid(t: Task): number {
  return t.cred.uid;
}
export function sys_geteuid(t: Task): number {
  return t.cred.euid;
}
export function sys_getgid(t: Task): number {
  return t.cred.gid;
}
export function sys_getegid(t: Task): number {
  return t.cred.egid;
}
export function sys_getgroups(t: Task): number[] {
  return t.cred.groups.slice();
}
export function sys_getresuid(t: Task): [number, number, number] {
  return [t.cred.uid, t.cred.euid, t.cred.suid];
}
export function sys_getresgid(t: Task): [number, number, number] {
  return [t.cred.gid, t.cred.egid, t.cred.sgid];
}

function idOrKeep(x: unknown): number {
  const v = intArg(x);
  if (v < -1 || v > 0xfffffffe) throw E.EINVAL;
  return v;
}

/** setresuid: root may set anything; others only values among their current three. */
export function sys_setresuid(t: Task, ruid: number, euid: number, suid: number): number {
  const r = idOrKeep(ruid);
  const e = idOrKeep(euid);
  const s = idOrKeep(suid);
  const c = t.cred.clone();
  if (!t.cred.capable) {
    const allowed = [c.uid, c.euid, c.suid];
    for (const v of [r, e, s]) if (v !== -1 && !allowed.includes(v)) throw E.EPERM;
  }
  if (r !== -1) c.uid = r;
  if (e !== -1) c.euid = e;
  if (s !== -1) c.suid = s;
  c.fsuid = c.euid;
  t.cred = c;
  return 0;
}

export function sys_setresgid(t: Task, rgid: number, egid: number, sgid: number): number {
  const r = idOrKeep(rgid);
  const e = idOrKeep(egid);
  const s = idOrKeep(sgid);
  const c = t.cred.clone();
  if (!t.cred.capable) {
    const allowed = [c.gid, c.egid, c.sgid];
    for (const v of [r, e, s]) if (v !== -1 && !allowed.includes(v)) throw E.EPERM;
  }
  if (r !== -1) c.gid = r;
  if (e !== -1) c.egid = e;
  if (s !== -1) c.sgid = s;
  c.fsgid = c.egid;
  t.cred = c;
  return 0;
}

/** setuid: root sets all three ids; others may only switch the effective id to the real or saved one. */
export function sys_setuid(t: Task, uid: number): number {
  const u = idOrKeep(uid);
  if (u === -1) throw E.EINVAL;
  if (t.cred.capable) return sys_setresuid(t, u, u, u);
  if (u !== t.cred.uid && u !== t.cred.suid) throw E.EPERM;
  return sys_setresuid(t, -1, u, -1);
}

export function sys_setgid(t: Task, gid: number): number {
  const g = idOrKeep(gid);
  if (g === -1) throw E.EINVAL;
  if (t.cred.capable) return sys_setresgid(t, g, g, g);
  if (g !== t.cred.gid && g !== t.cred.sgid) throw E.EPERM;
  return sys_setresgid(t, -1, g, -1);
}

export function sys_setgroups(t: Task, groups: number[]): number {
  if (!Array.isArray(groups)) throw E.EFAULT;
  if (groups.length > NGROUPS_MAX) throw E.EINVAL;
  const list = groups.map((g) => {
    const v = intArg(g);
    if (v < 0 || v > 0xfffffffe) throw E.EINVAL;
    return v;
  });
  if (!t.cred.capable) throw E.EPERM;
  const c = t.cred.clone();
  c.groups = list;
  t.cred = c;
  return 0;
}

/** umask: sets the file creation mask, returns the old one. */
export function sys_umask(t: Task, mask: number): number {
  const old = t.umask;
  t.umask = intArg(mask) & 0o777;
  return old;
}

/** Linux's struct utsname. */
export interface Utsname {
  sysname: string;
  nodename: string;
  release: string;
  version: string;
  machine: string;
  domainname: string;
}

export function sys_uname(t: Task): Utsname {
  return {
    sysname: 'Linux',
    nodename: t.kernel.hostname,
    release: KERNEL_RELEASE,
    version: KERNEL_VERSION,
    machine: 'x86_64',
    domainname: '(none)',
  };
}

export function sys_sethostname(t: Task, name: string): number {
  if (typeof name !== 'string') throw E.EFAULT;
  if (!t.cred.capable) throw E.EPERM;
  if (new TextEncoder().encode(name).length > 64) throw E.EINVAL;
  t.kernel.hostname = name;
  return 0;
}
