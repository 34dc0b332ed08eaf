// Socket addresses as the JavaScript API passes them (Linux's struct sockaddr_in and
// sockaddr_un as objects), with conversion to and from the C layout for callers that speak
// bytes (WASI, raw syscall users).

import { E } from '../../kernel/errno.js';
import { formatIpv4, parseIpv4Addr } from '../wire/ipv4.js';

export const AF_UNSPEC = 0;
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;

/** struct sockaddr_in: `addr` is dotted-quad text. */
export interface SockAddrIn {
  family: typeof AF_INET;
  addr: string;
  port: number;
}

/** struct sockaddr_un: a filesystem path, an abstract name ("\0name"), or "" (unnamed). */
export interface SockAddrUn {
  family: typeof AF_UNIX;
  path: string;
}

export interface SockAddrUnspec {
  family: typeof AF_UNSPEC;
}

export type SockAddr = SockAddrIn | SockAddrUn | SockAddrUnspec;

/** An AF_INET address checked and converted: numeric address and port. Errors: EFAULT, EAFNOSUPPORT, EINVAL. */
export function inetArg(a: unknown): { addr: number; port: number } {
  if (typeof a !== 'object' || a === null) throw E.EFAULT;
  const s = a as Partial<SockAddrIn>;
  if (s.family !== AF_INET) throw E.EAFNOSUPPORT;
  const port = s.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw E.EINVAL;
  const addr = typeof s.addr === 'string' ? parseIpv4Addr(s.addr) : s.addr === undefined ? 0 : null;
  if (addr === null) throw E.EINVAL;
  return { addr, port };
}

export function inetAddr(addr: number, port: number): SockAddrIn {
  return { family: AF_INET, addr: formatIpv4(addr), port };
}

/** Encodes as Linux's C struct (16 bytes for sockaddr_in; 2 + path for sockaddr_un). */
export function encodeSockAddr(a: SockAddr): Uint8Array {
  if (a.family === AF_INET) {
    const b = new Uint8Array(16);
    const v = new DataView(b.buffer);
    v.setUint16(0, AF_INET, true);
    v.setUint16(2, a.port, false);
    v.setUint32(4, parseIpv4Addr(a.addr) ?? 0, false);
    return b;
  }
  if (a.family === AF_UNIX) {
    const p = new TextEncoder().encode(a.path);
    const b = new Uint8Array(2 + p.length + (a.path.startsWith('\0') || a.path === '' ? 0 : 1));
    b[0] = AF_UNIX;
    b.set(p, 2);
    return b;
  }
  return new Uint8Array(2);
}

/** Decodes Linux's C struct. Errors: EINVAL (too short), EAFNOSUPPORT. */
export function decodeSockAddr(b: Uint8Array): SockAddr {
  if (b.length < 2) throw E.EINVAL;
  const family = b[0]! | (b[1]! << 8);
  if (family === AF_INET) {
    if (b.length < 16) throw E.EINVAL;
    const v = new DataView(b.buffer, b.byteOffset, b.length);
    return inetAddr(v.getUint32(4, false), v.getUint16(2, false));
  }
  if (family === AF_UNIX) {
    let raw = b.subarray(2);
    if (raw.length > 108) throw E.EINVAL;
    if (raw[0] !== 0) {
      const nul = raw.indexOf(0);
      if (nul >= 0) raw = raw.subarray(0, nul);
    }
    return { family: AF_UNIX, path: new TextDecoder().decode(raw) };
  }
  if (family === AF_UNSPEC) return { family: AF_UNSPEC };
  throw E.EAFNOSUPPORT;
}
