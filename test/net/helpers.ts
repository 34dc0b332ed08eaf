// Shared set-ups for the network suites: kernels joined by an in-memory link.

import { bootWith, type Tkl } from '../../src/api/boot.js';
import type { HostOps } from '../../src/host/host_ops.js';
import { MemoryLink, type LinkParams } from '../../src/drivers/net/memory_link.js';

export interface Pair {
  a: Tkl;
  b: Tkl;
  link: MemoryLink;
}

/** Two kernels on one link: a = 10.0.0.1/24, b = 10.0.0.2/24. */
export function linkedPair(host: HostOps, params: LinkParams = {}): Pair {
  const a = bootWith(host, { hostname: 'a' });
  const b = bootWith(host, { hostname: 'b' });
  const link = new MemoryLink(host, params);
  const ia = a.kernel.net.addInterface(link.a);
  const ib = b.kernel.net.addInterface(link.b);
  a.kernel.net.addAddress(ia, '10.0.0.1/24');
  b.kernel.net.addAddress(ib, '10.0.0.2/24');
  a.kernel.net.setUp(ia, true);
  b.kernel.net.setUp(ib, true);
  return { a, b, link };
}

/** Deterministic pseudo-random bytes (xorshift) for payloads. */
export function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
