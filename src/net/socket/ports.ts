// Ephemeral port selection (Linux's ip_local_port_range 32768–60999), starting at a random
// point so ports are hard to guess (RFC 6056 §3.3.1), then probing upward.

import { E } from '../../kernel/errno.js';
import type { HostOps } from '../../host/host_ops.js';

export const EPHEMERAL_LOW = 32768;
export const EPHEMERAL_HIGH = 60999;

/** A free port by `inUse`. Errors: EADDRINUSE (range exhausted), as Linux's bind/connect say. */
export function pickEphemeralPort(host: HostOps, inUse: (port: number) => boolean): number {
  const r = new Uint8Array(2);
  host.randomFill(r);
  const span = EPHEMERAL_HIGH - EPHEMERAL_LOW + 1;
  const start = ((r[0]! << 8) | r[1]!) % span;
  for (let i = 0; i < span; i++) {
    const p = EPHEMERAL_LOW + ((start + i) % span);
    if (!inUse(p)) return p;
  }
  throw E.EADDRINUSE;
}
