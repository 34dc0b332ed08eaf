// Shared set-ups for the network suites: kernels joined by an in-memory link.

import { bootWith, type Tkl } from '../../src/api/boot.js';
import type { HostOps } from '../../src/host/host_ops.js';
import { MemoryLink, type LinkParams } from '../../src/drivers/net/memory_link.js';
import type { SimHost } from '../../src/host/sim/sim_host.js';
import { AF_INET } from '../../src/net/socket/sockaddr.js';
import { SOCK_STREAM, SHUT_WR } from '../../src/abi/linux/socket.js';
import { createHash } from 'node:crypto';

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

/**
 * Sends `total` bytes of pattern(seed) from a to b (10.0.0.2:9000) over TCP on the sim host,
 * then half-closes; true when b read exactly those bytes, in order.
 */
export async function simTransfer(sim: SimHost, a: Tkl, b: Tkl, total: number, seed: number): Promise<boolean> {
  const l = b.sys.socket(AF_INET, SOCK_STREAM, 0);
  b.sys.bind(l, { family: AF_INET, addr: '0.0.0.0', port: 9000 });
  b.sys.listen(l, 1);
  const c = a.sys.socket(AF_INET, SOCK_STREAM, 0);
  const acc = b.sys.accept4(l, null, 0);
  await sim.runUntil(a.sys.connect(c, { family: AF_INET, addr: '10.0.0.2', port: 9000 }));
  const fd = await sim.runUntil(acc);
  const data = pattern(total, seed);
  const writer = (async () => {
    await a.sys.write(c, data);
    a.sys.shutdown(c, SHUT_WR);
  })();
  const reader = (async () => {
    const h = createHash('sha256');
    const buf = new Uint8Array(1 << 20);
    let got = 0;
    for (;;) {
      const n = await b.sys.read(fd, buf);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      got += n;
    }
    return got === total && h.digest('hex') === createHash('sha256').update(data).digest('hex');
  })();
  const [ok] = await sim.runUntil(Promise.all([reader, writer]));
  return ok;
}
