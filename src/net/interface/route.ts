// The IPv4 routing table (Linux's FIB, one table): routes with a destination prefix, an
// optional gateway and an outgoing interface. Lookup is longest prefix match, then the
// lowest metric. Connected routes appear when an address is added, as Linux adds them.

import { formatIpv4, prefixMask } from '../wire/ipv4.js';
import type { NetInterface } from './interface.js';

export interface Route {
  /** Network address (already masked). */
  readonly dst: number;
  readonly prefix: number;
  /** Next hop; 0 for a directly connected network. */
  readonly gateway: number;
  readonly iface: NetInterface;
  /** Preferred source address (0: the interface's first address). */
  readonly prefSrc: number;
  readonly metric: number;
  /** "kernel" for connected routes, "static" for configured ones, "dhcp". */
  readonly proto: string;
}

export class RouteTable {
  /** Sorted by prefix length (longest first), then metric. */
  private routes: Route[] = [];
  /** Bumped on every change, so cached lookups can revalidate cheaply. */
  generation = 0;

  /** Adds a route. Errors: EEXIST-like duplicates are replaced (as `ip route replace`). */
  add(r: Route): void {
    const dst = (r.dst & prefixMask(r.prefix)) >>> 0;
    const route = { ...r, dst };
    this.routes = this.routes.filter((x) => !(x.dst === dst && x.prefix === r.prefix && x.metric === r.metric && x.iface === r.iface));
    this.routes.push(route);
    this.routes.sort((a, b) => b.prefix - a.prefix || a.metric - b.metric);
    this.generation++;
  }

  /** Removes routes matching dst/prefix (and gateway/iface when given); returns how many. */
  remove(dst: number, prefix: number, iface?: NetInterface, gateway?: number): number {
    const before = this.routes.length;
    const d = (dst & prefixMask(prefix)) >>> 0;
    this.routes = this.routes.filter((x) => !(x.dst === d && x.prefix === prefix && (iface === undefined || x.iface === iface) && (gateway === undefined || x.gateway === gateway)));
    this.generation++;
    return before - this.routes.length;
  }

  /** Drops every route through `iface` (the interface went away). */
  removeInterface(iface: NetInterface): void {
    this.routes = this.routes.filter((x) => x.iface !== iface);
    this.generation++;
  }

  /** The best route to `dst` through an interface that is up, or null. */
  lookup(dst: number): Route | null {
    for (const r of this.routes) {
      if (!r.iface.up) continue;
      if (((dst & prefixMask(r.prefix)) >>> 0) === r.dst) return r;
    }
    return null;
  }

  list(): readonly Route[] {
    return this.routes;
  }

  /** `ip route` style lines. */
  format(): string[] {
    return this.routes.map((r) => {
      const dst = r.prefix === 0 ? 'default' : `${formatIpv4(r.dst)}/${r.prefix}`;
      const via = r.gateway ? ` via ${formatIpv4(r.gateway)}` : '';
      const src = r.prefSrc ? ` src ${formatIpv4(r.prefSrc)}` : '';
      return `${dst}${via} dev ${r.iface.name} proto ${r.proto}${src}${r.metric ? ` metric ${r.metric}` : ''}`;
    });
  }
}
