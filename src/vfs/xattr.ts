// Extended attributes: name checks shared by every filesystem (Linux's fs/xattr.c) and a
// small in-memory store for filesystems that keep them in memory.

import { XATTR_NAME_MAX, XATTR_SIZE_MAX } from '../abi/linux/limits.js';
import { E } from '../kernel/errno.js';

const PREFIXES = ['user.', 'trusted.', 'security.'];
/** The system.* names Linux's VFS knows (POSIX ACLs); any other has no handler. */
const SYSTEM_NAMES = ['system.posix_acl_access', 'system.posix_acl_default'];

/**
 * Validates an xattr name as Linux's setxattr and xattr_resolve_name do. Errors: ERANGE for
 * an empty or over-long name, EINVAL for a bare prefix ("user."), EOPNOTSUPP for a
 * namespace or system.* name that no handler takes.
 */
export function checkXattrName(name: string): void {
  if (name.length === 0 || new TextEncoder().encode(name).length > XATTR_NAME_MAX) throw E.ERANGE;
  for (const p of PREFIXES) {
    if (!name.startsWith(p)) continue;
    if (name.length === p.length) throw E.EINVAL;
    return;
  }
  if (name === 'system.') throw E.EINVAL;
  if (!SYSTEM_NAMES.includes(name)) throw E.EOPNOTSUPP;
}

export function checkXattrValue(value: Uint8Array): void {
  if (value.length > XATTR_SIZE_MAX) throw E.E2BIG;
}

/** Name → value, in insertion order (listxattr reports them in that order). */
export class Xattrs {
  private readonly map = new Map<string, Uint8Array>();

  get(name: string): Uint8Array | null {
    return this.map.get(name) ?? null;
  }

  set(name: string, value: Uint8Array): void {
    this.map.set(name, value.slice());
  }

  delete(name: string): boolean {
    return this.map.delete(name);
  }

  names(): string[] {
    return [...this.map.keys()];
  }
}
