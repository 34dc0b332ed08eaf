// mount(2) and umount2(2): new mounts of a registered filesystem type, bind mounts (MS_BIND,
// recursive with MS_REC), moves (MS_MOVE), remounts (MS_REMOUNT, per-mount flags with
// MS_BIND), and unmounting (busy unless MNT_DETACH). As on Linux, MS_BIND|MS_RDONLY in one
// call makes a read-write bind; a read-only bind needs a second MS_REMOUNT|MS_BIND|MS_RDONLY.

import { AT_FDCWD } from '../../abi/linux/fcntl.js';
import {
  MNT_DETACH, MNT_EXPIRE, MNT_FORCE, MS_BIND, MS_MOVE, MS_PRIVATE, MS_RDONLY, MS_REC, MS_REMOUNT,
  MS_SHARED, MS_SILENT, MS_SLAVE, MS_UNBINDABLE, UMOUNT_NOFOLLOW,
} from '../../abi/linux/mount.js';
import { S_IFBLK, S_IFMT } from '../../abi/linux/stat.js';
import { E, errno } from '../errno.js';
import { ENODEV } from '../../abi/linux/errno.js';
import type { Task } from '../task.js';
import { PathRef, dPath, mountFlags, type Mount } from '../../vfs/mount.js';
import { LOOKUP_FOLLOW, checkPathArg, pathLookup } from '../../vfs/namei.js';
import { intArg } from './args.js';

export function sys_mount(t: Task, source: string, target: string, fstype: string, flags: number = 0, data: string | null = ''): number {
  const fl = intArg(flags);
  if (data !== null && data !== undefined && typeof data !== 'string') throw E.EFAULT;
  const opts = (data as string | null | undefined) ?? '';
  if (!t.cred.capable) throw E.EPERM;
  const k = t.kernel;
  const at = pathLookup(t, AT_FDCWD, checkPathArg(target, false), LOOKUP_FOLLOW);
  const fsFlags = fl & ~MS_SILENT;

  if (fsFlags & MS_REMOUNT) {
    if (at.dentry !== at.mnt.root) throw E.EINVAL;
    const perMount = mountFlags(fsFlags, at.mnt.flags);
    if (fsFlags & MS_BIND) {
      at.mnt.flags = perMount;
      return 0;
    }
    at.mnt.sb.remount(fsFlags, opts);
    at.mnt.flags = perMount & ~MS_RDONLY;
    return 0;
  }

  if (fsFlags & MS_BIND) {
    const src = pathLookup(t, AT_FDCWD, checkPathArg(source, false), LOOKUP_FOLLOW);
    if (src.dentry.inode.isDir !== at.dentry.inode.isDir) throw E.ENOTDIR;
    if (src.mnt.internal) throw E.EINVAL;
    const copy = bindTree(t, src, (fsFlags & MS_REC) !== 0);
    k.attachMount(copy.root, at);
    for (const [m, where] of copy.children) k.attachMount(m, where);
    return 0;
  }

  if (fsFlags & MS_MOVE) {
    const src = pathLookup(t, AT_FDCWD, checkPathArg(source, false), LOOKUP_FOLLOW);
    const m = src.mnt;
    if (src.dentry !== m.root || m.parent === m) throw E.EINVAL;
    // A mount cannot move beneath itself.
    for (let x = at.mnt; ; x = x.parent) {
      if (x === m) throw E.ELOOP;
      if (x.parent === x) break;
    }
    if (m.root.inode.isDir !== at.dentry.inode.isDir) throw E.ENOTDIR;
    k.unlinkMount(m);
    k.attachMount(m, at);
    return 0;
  }

  if (fsFlags & (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)) {
    // tkl has one mount namespace and no propagation: every mount is private already.
    if (fsFlags & MS_SHARED) throw E.EINVAL;
    return 0;
  }

  const typeName = typeof fstype === 'string' ? fstype : null;
  if (typeName === null) throw E.EFAULT;
  const type = k.fsTypes.get(typeName);
  if (type === undefined) throw errno(ENODEV, `unknown filesystem type '${typeName}'`);
  if (!at.dentry.inode.isDir) throw E.ENOTDIR;
  let device = null;
  let dev = 0;
  const src = typeof source === 'string' ? source : '';
  if (type.requiresDevice) {
    const dp = pathLookup(t, AT_FDCWD, checkPathArg(source, false), LOOKUP_FOLLOW);
    const inode = dp.dentry.inode;
    if ((inode.mode & S_IFMT) !== S_IFBLK) throw E.ENOTBLK;
    device = k.blockDevice(inode.rdev) ?? null;
    if (device === null) throw E.ENXIO;
    dev = inode.rdev;
    // get_tree_bdev: a device already holding a filesystem gives that superblock again (two
    // instances would each cache and flush their own view), unless the type or the
    // read-only state would differ (EBUSY).
    const held = k.superBlockOn(dev);
    if (held !== undefined) {
      if (held.fsType !== type || held.readOnly !== ((fsFlags & MS_RDONLY) !== 0)) throw E.EBUSY;
      k.attachMount(k.newMount(held, k.rootDentryOf(held), mountFlags(fsFlags) & ~MS_RDONLY), at);
      return 0;
    }
  } else dev = k.anonDev();
  const sb = type.mount({
    source: src === '' ? 'none' : src, device, flags: fsFlags, data: opts, dev,
    clock: k.clock, host: k.host, kernel: k, target: dPath(at, t.root),
  });
  const m = k.newMount(sb, k.rootDentryOf(sb), mountFlags(fsFlags) & ~MS_RDONLY);
  k.attachMount(m, at);
  return 0;
}

/** Copies of the mount at `src` (showing src's subtree) and, with `rec`, of mounts beneath. */
function bindTree(t: Task, src: PathRef, rec: boolean): { root: Mount; children: [Mount, PathRef][] } {
  const k = t.kernel;
  const root = k.newMount(src.mnt.sb, src.dentry, src.mnt.flags);
  const children: [Mount, PathRef][] = [];
  if (rec) {
    const walk = (orig: Mount, copy: Mount): void => {
      for (const c of orig.children) {
        if (!c.mountpoint.isSubdirOf(src.dentry) && orig === src.mnt) continue;
        const cc = k.newMount(c.sb, c.root, c.flags);
        children.push([cc, new PathRef(copy, c.mountpoint)]);
        walk(c, cc);
      }
    };
    walk(src.mnt, root);
  }
  return { root, children };
}

export function sys_umount2(t: Task, target: string, flags: number = 0): number {
  const fl = intArg(flags);
  if (fl & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW)) throw E.EINVAL;
  if (!t.cred.capable) throw E.EPERM;
  const at = pathLookup(t, AT_FDCWD, checkPathArg(target, false), fl & UMOUNT_NOFOLLOW ? 0 : LOOKUP_FOLLOW);
  const m = at.mnt;
  if (at.dentry !== m.root) throw E.EINVAL;
  if (fl & MNT_EXPIRE && fl & (MNT_FORCE | MNT_DETACH)) throw E.EINVAL;
  const k = t.kernel;
  if (m.parent === m) throw E.EBUSY;
  if (!(fl & MNT_DETACH)) {
    if (m.children.length > 0 || m.refs > 0) throw E.EBUSY;
    if (fl & MNT_EXPIRE) throw E.EAGAIN;
    // The last mount of a filesystem is synced while still attached: if that fails (a full
    // or failing host disk), umount fails with the error and everything stays in place, so
    // nothing written is lost and the user can retry.
    if (k.isLastMount(m)) m.sb.sync();
  }
  k.detachMount(m);
  return 0;
}

export function sys_umount(t: Task, target: string): number {
  return sys_umount2(t, target, 0);
}
