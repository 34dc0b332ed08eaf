// The network options every networking command shares, parsed in one place:
//   --net none|tap:NAME|udp:LOCAL,REMOTE|passt[:SOCKET]|stream:PATH   the device
//   --ip ADDR/PREFIX  --gw ADDR  --dhcp  --dns ADDR  --mtu N  --pcap FILE
// setupNet() boots a kernel, attaches the device (with capture) and configures it.

import { createWriteStream, type WriteStream } from 'node:fs';
import { boot, type Tkl } from '../index.js';
import type { NetDevice } from '../net/netdevice.js';
import type { NetInterface } from '../net/interface/interface.js';
import { PcapTap, PcapWriter } from '../drivers/net/pcap.js';
import { UdpTunnelDevice } from '../drivers/net/udp_tunnel.js';
import { StreamDevice } from '../drivers/net/stream.js';
import { TapDevice, type TapOptions } from '../drivers/net/tap.js';
import { dhcpConfigure } from '../net/dhcp/client.js';
import { parseCidr, parseIpv4Addr } from '../net/wire/ipv4.js';
import { parseHostPort } from '../drivers/net/udp_tunnel.js';
import { reason } from './output.js';

/** The default socket of passt (and pasta) for its first instance. */
export const PASST_DEFAULT_SOCKET = '/tmp/passt_1.socket';

/**
 * A --net device that could not be opened (no such socket, an address in use, no TAP
 * addon): a one-line message for the user, without the command's name; exit code 1.
 */
export class NetDeviceError extends Error {
  override name = 'NetDeviceError';
}

/**
 * Checks a --net value's form; returns it. Errors: an Error whose message names the mistake
 * (the caller reports it as bad usage). UDP endpoints are HOST:PORT with an IPv4 literal or a
 * host name: "999.1.1.1" is neither, and would otherwise surface as a failed DNS lookup.
 */
export function checkNetSpec(spec: string): string {
  if (!/^(none|tap:.+|udp:[^,]+,.+|passt(:.+)?|stream:.+)$/.test(spec)) {
    throw new Error(`bad --net '${spec}' (want none, tap:NAME, udp:LOCAL,REMOTE, passt[:SOCKET] or stream:PATH)`);
  }
  if (spec.startsWith('tap:')) parseTapSpec(spec.slice(4), undefined);
  if (spec.startsWith('udp:')) {
    const ends = spec.slice(4).split(',');
    if (ends.length !== 2) throw new Error(`bad --net '${spec}': want udp:LOCAL,REMOTE (each HOST:PORT)`);
    ends.forEach((end, i) => {
      let hp;
      try {
        hp = parseHostPort(end);
      } catch {
        throw new Error(`bad --net '${spec}': '${end}' is not HOST:PORT`);
      }
      if (i === 1 && hp.port === 0) throw new Error(`bad --net '${spec}': the remote port cannot be 0`);
      const looksNumeric = /^[\d.]+$/.test(hp.host);
      if ((looksNumeric && parseIpv4Addr(hp.host) === null) || (!looksNumeric && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(hp.host))) {
        throw new Error(`bad --net '${spec}': '${hp.host}' is not an IPv4 address or host name`);
      }
    });
  }
  return spec;
}

export interface NetSetup {
  net: string;
  ip: string | null;
  gw: string | null;
  dhcp: boolean;
  dns: string[];
  mtu: number | null;
  pcap: string | null;
}

export const netUsage = '[--net none|tap:NAME|udp:LOCAL,REMOTE|passt[:SOCKET]] [--ip ADDR/PREFIX] [--gw ADDR] [--dhcp] [--dns ADDR] [--mtu N] [--pcap FILE]';

export const netHelp = `network options:
  --net none            only the loopback interface (default)
  --net tap:NAME[,offload=off]  a Linux TAP device (needs the optional addon, see README);
                        offload (checksums, TSO via the virtio-net header) is on by default
  --net udp:LOCAL,REMOTE  Ethernet in UDP (QEMU -netdev dgram), e.g. udp:127.0.0.1:5555,127.0.0.1:5556
  --net passt[:SOCKET]  passt over its UNIX socket (default /tmp/passt_1.socket): no root needed
  --ip ADDR/PREFIX      static address (e.g. 10.0.0.2/24)    --gw ADDR   default gateway
  --dhcp                take address, gateway and DNS from DHCP
  --dns ADDR            nameserver for /etc/resolv.conf      --mtu N     interface MTU
  --pcap FILE           write every frame of the interface to FILE (pcap; Wireshark reads it)`;

/** Pulls the shared options out of `args`. Errors: an Error with a message for the user. */
export function parseNetArgs(args: string[]): { net: NetSetup; args: string[] } {
  const net: NetSetup = { net: 'none', ip: null, gw: null, dhcp: false, dns: [], mtu: null, pcap: null };
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const val = (): string => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--net':
        net.net = checkNetSpec(val());
        break;
      case '--ip':
        net.ip = val();
        if (parseCidr(net.ip) === null || !net.ip.includes('/')) throw new Error(`bad --ip '${net.ip}' (want ADDR/PREFIX)`);
        break;
      case '--gw':
        net.gw = val();
        if (parseIpv4Addr(net.gw) === null) throw new Error(`bad --gw '${net.gw}'`);
        break;
      case '--dns': {
        const d = val();
        if (parseIpv4Addr(d) === null) throw new Error(`bad --dns '${d}'`);
        net.dns.push(d);
        break;
      }
      case '--mtu':
        net.mtu = Number(val());
        if (!Number.isInteger(net.mtu) || net.mtu < 68 || net.mtu > 65521) throw new Error('bad --mtu');
        break;
      case '--dhcp':
        net.dhcp = true;
        break;
      case '--pcap':
        net.pcap = val();
        break;
      default:
        rest.push(a);
    }
  }
  if (net.net === 'none' && (net.ip || net.dhcp)) throw new Error('--ip/--dhcp need a --net device');
  return { net, args: rest };
}

/**
 * `NAME[,offload=on|off]` of `--net tap:…` as TapOptions. Errors: an Error naming an unknown
 * option or value.
 */
export function parseTapSpec(rest: string, mtu: number | undefined): TapOptions {
  const [name, ...opts] = rest.split(',');
  const o: TapOptions = { name: name!, mtu };
  for (const opt of opts) {
    const m = /^offload=(on|off)$/.exec(opt);
    if (m === null) throw new Error(`bad --net tap option '${opt}' (want offload=on|off)`);
    o.offload = m[1] === 'on';
  }
  return o;
}

/** Opens the device named by --net. Errors: NetDeviceError saying what could not be opened and why. */
export async function openDevice(spec: string, mtu: number | null): Promise<NetDevice | null> {
  const m = mtu ?? undefined;
  if (spec === 'none') return null;
  if (spec.startsWith('tap:')) {
    const o = parseTapSpec(spec.slice(4), m);
    try {
      return TapDevice.open(o);
    } catch (e) {
      throw new NetDeviceError(`cannot open TAP device '${o.name}': ${reason(e)}`);
    }
  }
  if (spec.startsWith('udp:')) {
    const [local, remote] = checkNetSpec(spec).slice(4).split(',');
    try {
      return await UdpTunnelDevice.open({ local: local!, remote: remote!, mtu: m });
    } catch (e) {
      throw new NetDeviceError(`cannot open the UDP tunnel from '${local}' to '${remote}': ${reason(e)}`);
    }
  }
  if (spec.startsWith('passt') || spec.startsWith('stream:')) {
    const passt = spec.startsWith('passt');
    const path = passt ? spec.slice(6) || PASST_DEFAULT_SOCKET : spec.slice(7);
    try {
      return await StreamDevice.open({ path, mtu: m });
    } catch (e) {
      const hint = passt && spec === 'passt' ? ' (is passt running? start it, or name its socket: --net passt:SOCKET)' : '';
      throw new NetDeviceError(`cannot connect to ${passt ? 'passt' : 'stream'} socket '${path}': ${reason(e)}${hint}`);
    }
  }
  throw new Error(`bad --net '${spec}'`);
}

export interface NetReady {
  k: Tkl;
  iface: NetInterface | null;
  close(): void;
}

/** Brings the network up as `net` says, in `kernel` or in a freshly booted one. */
export async function setupNet(net: NetSetup, kernel?: Tkl): Promise<NetReady> {
  const k = kernel ?? boot({ hostname: 'tkl' });
  let pcapOut: WriteStream | null = null;
  let dev = await openDevice(net.net, net.mtu);
  let iface: NetInterface | null = null;
  if (dev !== null) {
    if (net.pcap !== null) {
      const out = createWriteStream(net.pcap);
      pcapOut = out;
      dev = new PcapTap(dev, new PcapWriter((c) => out.write(c), k.kernel.host));
    }
    iface = k.kernel.net.addInterface(dev);
    if (net.mtu !== null) k.kernel.net.setMtu(iface, Math.min(net.mtu, dev.mtu));
    k.kernel.net.setUp(iface, true);
    if (net.ip !== null) k.kernel.net.addAddress(iface, net.ip);
    if (net.dhcp) {
      const lease = await dhcpConfigure(k, iface);
      console.error(`tkl: dhcp: ${lease.addr}/${lease.prefix} gw ${lease.router ?? '-'} dns ${lease.dns.join(',') || '-'} from ${lease.server}`);
    }
    if (net.gw !== null) k.kernel.net.addRoute({ dst: 'default', via: net.gw, dev: iface.name });
  }
  if (net.dns.length > 0) {
    if (!k.fs.exists('/etc')) k.fs.mkdir('/etc');
    k.fs.writeFile('/etc/resolv.conf', net.dns.map((d) => `nameserver ${d}\n`).join(''));
  }
  const d = dev;
  return {
    k,
    iface,
    close() {
      d?.close?.();
      pcapOut?.end();
    },
  };
}
