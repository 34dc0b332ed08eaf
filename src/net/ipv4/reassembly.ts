// IPv4 fragment reassembly (RFC 791 §3.2, RFC 815 hole bookkeeping). Datagrams are keyed by
// (src, dst, protocol, id). A fragment that overlaps another (except an exact duplicate, which
// links do produce) drops the whole datagram, as Linux does since 2018; reassembly gives up
// after 30 s and when the memory limit is reached.

import type { Instant } from '../../host/host_ops.js';

/** Linux's ipfrag_time. */
export const REASM_TIMEOUT_NS = 30e9;
/** Linux's ipfrag_high_thresh: bytes held across all datagrams being reassembled. */
export const REASM_MEMORY_LIMIT = 4 * 1024 * 1024;
/** Fragments per datagram before it is considered an attack. */
const MAX_FRAGMENTS = 128;

interface Fragment {
  off: number;
  end: number;
  data: Uint8Array;
}

interface Pending {
  key: string;
  frags: Fragment[];
  /** Total length once the last fragment (MF clear) arrived, else -1. */
  total: number;
  bytes: number;
  expires: number;
  /** The first fragment's IP header and first 8 payload bytes (for ICMP time exceeded). */
  head: Uint8Array | null;
}

export const REASM_INCOMPLETE = 0;
export const REASM_DONE = 1;
export const REASM_DROPPED = 2;

export class Reassembler {
  private readonly pending = new Map<string, Pending>();
  private memory = 0;
  /** Drops by reason, for statistics. */
  overlaps = 0;
  timeouts = 0;
  overLimit = 0;
  /** The datagram completed by the last add(). */
  result: Uint8Array | null = null;

  constructor(private readonly onTimeout: (head: Uint8Array | null) => void) {}

  get bytesHeld(): number {
    return this.memory;
  }
  get datagrams(): number {
    return this.pending.size;
  }

  /**
   * Adds the fragment payload `data` at byte offset `off`; `more` is the MF flag; `header` is
   * the IP header plus the first 8 payload bytes when off is 0. On REASM_DONE `result` holds the payload.
   */
  add(src: number, dst: number, proto: number, id: number, off: number, more: boolean, data: Uint8Array, header: Uint8Array | null, now: Instant): number {
    this.result = null;
    this.expire(now);
    const key = `${src}:${dst}:${proto}:${id}`;
    let p = this.pending.get(key);
    const end = off + data.length;
    // Non-final fragments carry a multiple of 8 bytes (RFC 791); anything else is bogus.
    if ((more && (data.length & 7) !== 0) || (more && data.length === 0)) {
      if (p) this.drop(p);
      return REASM_DROPPED;
    }
    if (p === undefined) {
      if (this.memory + data.length > REASM_MEMORY_LIMIT) {
        this.overLimit++;
        return REASM_DROPPED;
      }
      p = { key, frags: [], total: -1, bytes: 0, expires: now + REASM_TIMEOUT_NS, head: null };
      this.pending.set(key, p);
    }
    if (!more) {
      if ((p.total >= 0 && p.total !== end) || end < maxEnd(p)) return this.bad(p);
      p.total = end;
    } else if (p.total >= 0 && end > p.total) return this.bad(p);
    // Find the insertion point; exact duplicates are ignored, other overlaps are fatal.
    let i = 0;
    while (i < p.frags.length && p.frags[i]!.off < off) i++;
    const prev = p.frags[i - 1];
    const next = p.frags[i];
    if (next !== undefined && next.off === off && next.end === end) return REASM_INCOMPLETE;
    if ((prev !== undefined && prev.end > off) || (next !== undefined && next.off < end)) return this.bad(p);
    if (p.frags.length >= MAX_FRAGMENTS || this.memory + data.length > REASM_MEMORY_LIMIT) {
      this.overLimit++;
      this.drop(p);
      return REASM_DROPPED;
    }
    p.frags.splice(i, 0, { off, end, data });
    p.bytes += data.length;
    this.memory += data.length;
    if (off === 0 && header !== null) p.head = header;
    if (p.total < 0 || p.bytes !== p.total) return REASM_INCOMPLETE;
    // Complete: no holes, since fragments do not overlap and cover `total` bytes.
    const out = new Uint8Array(p.total);
    for (const f of p.frags) out.set(f.data, f.off);
    this.forget(p);
    this.result = out;
    return REASM_DONE;
  }

  private bad(p: Pending): number {
    this.overlaps++;
    this.drop(p);
    return REASM_DROPPED;
  }

  private drop(p: Pending): void {
    this.forget(p);
  }

  private forget(p: Pending): void {
    this.memory -= p.bytes;
    this.pending.delete(p.key);
  }

  /** Gives up on datagrams older than the timeout. */
  expire(now: Instant): void {
    if (this.pending.size === 0) return;
    for (const p of this.pending.values()) {
      if (p.expires > now) continue;
      this.timeouts++;
      this.forget(p);
      this.onTimeout(p.head);
    }
  }

  /** The earliest expiry, for the stack's timer. */
  nextExpiry(): number | null {
    let t: number | null = null;
    for (const p of this.pending.values()) if (t === null || p.expires < t) t = p.expires;
    return t;
  }
}

function maxEnd(p: Pending): number {
  let m = 0;
  for (const f of p.frags) if (f.end > m) m = f.end;
  return m;
}
