// A DHCP client (RFC 2131 §3.1, §4.4): DISCOVER, OFFER, REQUEST, ACK over a UDP socket of a
// process in the kernel, then configures the interface: address and prefix, default route,
// MTU, and /etc/resolv.conf for the stub resolver. Retransmits with backoff (§4.1).

import { SOCK_DGRAM, SOL_SOCKET, SO_BROADCAST, SO_RCVTIMEO, SO_REUSEADDR } from '../../abi/linux/socket.js';
import type { Process } from '../../api/boot.js';
import type { NetInterface } from '../interface/interface.js';
import { AF_INET } from '../socket/sockaddr.js';
import {
  BOOTREQUEST, BOOTREPLY, DHCP_BROADCAST_FLAG, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, DHCPACK, DHCPDISCOVER, DHCPNAK, DHCPOFFER, DHCPREQUEST,
  emitDhcp, OPT_DNS, OPT_LEASE_TIME, OPT_MSG_TYPE, OPT_MTU, OPT_PARAM_LIST, OPT_REQUESTED_IP, OPT_ROUTER, OPT_SERVER_ID, OPT_SUBNET_MASK,
  optAddrs, optU32, parseDhcp, u32Bytes, type DhcpMessage, OPT_CLIENT_ID, OPT_DOMAIN,
} from '../wire/dhcp.js';
import { formatIpv4, readU16 } from '../wire/ipv4.js';
import { writeMac } from '../wire/ethernet.js';

export interface DhcpLease {
  addr: string;
  prefix: number;
  router: string | null;
  dns: string[];
  server: string;
  leaseSeconds: number;
  mtu: number | null;
  domain: string | null;
}

export interface DhcpOptions {
  /** Attempts per phase (§4.1 suggests retransmitting with exponential backoff). Default 4. */
  attempts?: number;
  /** Also write /etc/resolv.conf. Default true. */
  writeResolvConf?: boolean;
}

/** Errors: an Error naming the phase that got no answer. */
export async function dhcpConfigure(p: Process, iface: NetInterface, opts: DhcpOptions = {}): Promise<DhcpLease> {
  const net = p.kernel.net;
  const attempts = opts.attempts ?? 4;
  const s = p.sys.socket(AF_INET, SOCK_DGRAM, 0);
  try {
    p.sys.setsockopt(s, SOL_SOCKET, SO_BROADCAST, 1);
    p.sys.setsockopt(s, SOL_SOCKET, SO_REUSEADDR, 1);
    p.sys.bind(s, { family: AF_INET, addr: '0.0.0.0', port: DHCP_CLIENT_PORT });
    const rnd = new Uint8Array(4);
    p.kernel.host.randomFill(rnd);
    const xid = ((rnd[0]! << 24) | (rnd[1]! << 16) | (rnd[2]! << 8) | rnd[3]!) >>> 0;
    const clientId = new Uint8Array(7);
    clientId[0] = 1;
    writeMac(clientId, 1, iface.mac);
    const base = (type: number): DhcpMessage => ({
      op: BOOTREQUEST, xid, secs: 0, flags: DHCP_BROADCAST_FLAG, ciaddr: 0, yiaddr: 0, siaddr: 0, giaddr: 0, chaddr: iface.mac,
      options: new Map([
        [OPT_MSG_TYPE, Uint8Array.of(type)],
        [OPT_CLIENT_ID, clientId],
        [OPT_PARAM_LIST, Uint8Array.of(OPT_SUBNET_MASK, OPT_ROUTER, OPT_DNS, OPT_DOMAIN, OPT_MTU, OPT_LEASE_TIME)],
      ]),
    });
    const exchange = async (msg: DhcpMessage, want: number[], phase: string): Promise<DhcpMessage> => {
      const out = emitDhcp(msg);
      const buf = new Uint8Array(1500);
      for (let i = 0; i < attempts; i++) {
        // §4.1: 4 s, 8 s, … randomised; shorter here, servers on a link answer in milliseconds.
        p.sys.setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, { sec: Math.min(1 << i, 8), usec: 0 });
        await p.sys.sendto(s, out, undefined, 0, { family: AF_INET, addr: '255.255.255.255', port: DHCP_SERVER_PORT });
        for (;;) {
          let n: number;
          try {
            n = await p.sys.recvfrom(s, buf);
          } catch (e) {
            if ((e as { code?: string }).code === 'EAGAIN') break;
            throw e;
          }
          const { msg: r } = parseDhcp(buf.subarray(0, n));
          if (r === undefined || r.op !== BOOTREPLY || r.xid !== xid || r.chaddr !== iface.mac) continue;
          const t = r.options.get(OPT_MSG_TYPE)?.[0] ?? 0;
          if (t === DHCPNAK) throw new Error('dhcp: server refused the request (DHCPNAK)');
          if (want.includes(t)) return r;
        }
      }
      throw new Error(`dhcp: no ${phase} after ${attempts} attempts`);
    };
    const offer = await exchange(base(DHCPDISCOVER), [DHCPOFFER], 'DHCPOFFER');
    const server = optU32(offer, OPT_SERVER_ID) ?? offer.siaddr;
    const req = base(DHCPREQUEST);
    req.options.set(OPT_REQUESTED_IP, u32Bytes(offer.yiaddr));
    req.options.set(OPT_SERVER_ID, u32Bytes(server));
    const ack = await exchange(req, [DHCPACK], 'DHCPACK');
    const mask = optU32(ack, OPT_SUBNET_MASK) ?? 0xffffff00;
    // The prefix length is the count of leading ones in the mask.
    const prefix = Math.clz32(~mask >>> 0);
    const router = optAddrs(ack, OPT_ROUTER)[0] ?? null;
    const dns = optAddrs(ack, OPT_DNS);
    const mtuOpt = ack.options.get(OPT_MTU);
    const mtu = mtuOpt !== undefined && mtuOpt.length === 2 ? readU16(mtuOpt, 0) : null;
    const domainOpt = ack.options.get(OPT_DOMAIN);
    const domain = domainOpt !== undefined ? new TextDecoder().decode(domainOpt) : null;
    const lease: DhcpLease = {
      addr: formatIpv4(ack.yiaddr), prefix, router: router === null ? null : formatIpv4(router), dns: dns.map(formatIpv4),
      server: formatIpv4(server), leaseSeconds: optU32(ack, OPT_LEASE_TIME) ?? 0, mtu, domain,
    };
    net.addAddress(iface, `${lease.addr}/${prefix}`);
    if (mtu !== null && mtu >= 576 && mtu <= iface.device.mtu) net.setMtu(iface, mtu);
    if (lease.router !== null) net.addRoute({ dst: 'default', via: lease.router, dev: iface.name });
    if ((opts.writeResolvConf ?? true) && dns.length > 0) {
      if (!p.fs.exists('/etc')) p.fs.mkdir('/etc', { recursive: true });
      p.fs.writeFile('/etc/resolv.conf', (domain ? `search ${domain}\n` : '') + lease.dns.map((d) => `nameserver ${d}\n`).join(''));
    }
    return lease;
  } finally {
    p.sys.close(s);
  }
}
