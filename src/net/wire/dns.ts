// DNS messages (RFC 1035 §4): queries for one name, and answers with A and CNAME records.
// Names are read with compression pointers followed at most 64 times and only backwards,
// so hostile messages cannot loop or read past the buffer.

import { readU16, readU32, writeU16 } from './ipv4.js';

export const DNS_PORT = 53;
export const TYPE_A = 1;
export const TYPE_CNAME = 5;
export const CLASS_IN = 1;

/** A query for `name` (type A, recursion desired). Errors: an Error for a name that cannot be encoded. */
export function emitQuery(id: number, name: string, type = TYPE_A): Uint8Array {
  const labels = name.replace(/\.$/, '').split('.');
  let len = 12 + 5;
  for (const l of labels) {
    if (l.length === 0 || l.length > 63 || !/^[\x21-\x7e]+$/.test(l)) throw new Error(`bad name '${name}'`);
    len += 1 + l.length;
  }
  if (len - 17 > 254) throw new Error(`name too long '${name}'`);
  const b = new Uint8Array(len);
  writeU16(b, 0, id);
  b[2] = 0x01; // RD
  writeU16(b, 4, 1);
  let at = 12;
  for (const l of labels) {
    b[at++] = l.length;
    for (let i = 0; i < l.length; i++) b[at++] = l.charCodeAt(i);
  }
  b[at++] = 0;
  writeU16(b, at, type);
  writeU16(b, at + 2, CLASS_IN);
  return b;
}

export interface DnsAnswer {
  name: string;
  type: number;
  ttl: number;
  /** A: the address; CNAME: 0 (see `target`). */
  addr: number;
  target: string;
}

export interface DnsResponse {
  id: number;
  rcode: number;
  truncated: boolean;
  answers: DnsAnswer[];
}

/** Reads a possibly compressed name at `off`; returns it and the offset after it, or null. */
function readName(b: Uint8Array, off: number): { name: string; next: number } | null {
  const parts: string[] = [];
  let at = off;
  let next = -1;
  let jumps = 0;
  for (;;) {
    if (at >= b.length) return null;
    const len = b[at]!;
    if (len === 0) {
      if (next < 0) next = at + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (at + 1 >= b.length || ++jumps > 64) return null;
      const ptr = ((len & 0x3f) << 8) | b[at + 1]!;
      if (ptr >= at) return null; // only backwards
      if (next < 0) next = at + 2;
      at = ptr;
      continue;
    }
    if (len > 63 || at + 1 + len > b.length) return null;
    parts.push(String.fromCharCode(...b.subarray(at + 1, at + 1 + len)));
    at += 1 + len;
  }
  return { name: parts.join('.'), next };
}

/** Parses a response; null for anything malformed. */
export function parseResponse(b: Uint8Array): DnsResponse | null {
  if (b.length < 12) return null;
  const id = readU16(b, 0);
  const flags = readU16(b, 2);
  if (!(flags & 0x8000)) return null;
  const qd = readU16(b, 4);
  const an = readU16(b, 6);
  let at = 12;
  for (let i = 0; i < qd; i++) {
    const n = readName(b, at);
    if (n === null || n.next + 4 > b.length) return null;
    at = n.next + 4;
  }
  const answers: DnsAnswer[] = [];
  for (let i = 0; i < an; i++) {
    const n = readName(b, at);
    if (n === null || n.next + 10 > b.length) return null;
    const type = readU16(b, n.next);
    const ttl = readU32(b, n.next + 4);
    const rdlen = readU16(b, n.next + 8);
    const rd = n.next + 10;
    if (rd + rdlen > b.length) return null;
    if (type === TYPE_A && rdlen === 4) answers.push({ name: n.name, type, ttl, addr: readU32(b, rd), target: '' });
    else if (type === TYPE_CNAME) {
      const t = readName(b, rd);
      if (t === null) return null;
      answers.push({ name: n.name, type, ttl, addr: 0, target: t.name });
    }
    at = rd + rdlen;
  }
  return { id, rcode: flags & 0xf, truncated: (flags & 0x0200) !== 0, answers };
}
