// UDP tunnel device: each Ethernet frame travels as one UDP datagram, the format of QEMU's
// `-netdev dgram` (and `-netdev socket,udp=`), so tkl can talk to a QEMU VM, another tkl
// process, or a TAP device bridged by socat. Node-only (node:dgram). Checksums are real.
// Only datagrams from the configured remote address and port are frames (as QEMU's
// `-netdev dgram` with a remote); anything else is dropped and counted in rxForeign.

import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { DeviceStats, randomMac, type NetDevice } from '../../net/netdevice.js';

export interface UdpTunnelOptions {
  /** Where to listen: "127.0.0.1:5555" (host:port). */
  local: string;
  /** Where frames go: "127.0.0.1:5556". */
  remote: string;
  mac?: number;
  /** Default 1500. */
  mtu?: number;
}

export function parseHostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  const host = i > 0 ? s.slice(0, i) : '127.0.0.1';
  const port = Number(i >= 0 ? s.slice(i + 1) : s);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad host:port '${s}'`);
  return { host: host.replace(/^\[|\]$/g, ''), port };
}

/** Received datagrams are matched against the numeric address, so a name is resolved once. */
async function resolveRemote(s: string): Promise<{ host: string; port: number }> {
  const given = parseHostPort(s);
  return { host: (await lookup(given.host, { family: 4 })).address, port: given.port };
}

export class UdpTunnelDevice implements NetDevice {
  readonly name: string;
  readonly mac: number;
  readonly mtu: number;
  readonly checksumOffload = false;
  // No copiesOnTransmit: dgram's send() reads the frame later (after an address lookup, or
  // from libuv's queue when the socket would block), so the frame must stay ours to give.
  readonly linkUp = true;
  readonly stats = new DeviceStats();
  /** Datagrams dropped because they did not come from the remote (also in stats.rxDropped). */
  rxForeign = 0;
  private deliver: ((frame: Uint8Array) => void) | null = null;
  private closed = false;

  private constructor(
    private readonly sock: DgramSocket,
    private remote: { host: string; port: number },
    opts: UdpTunnelOptions,
  ) {
    this.name = `udp:${opts.local}`;
    this.mac = opts.mac ?? randomMac((b) => randomBytes(b.length).copy(b));
    this.mtu = opts.mtu ?? 1500;
    sock.on('message', (msg, rinfo) => {
      // Anyone on the host can send to our port: without this check a local process could
      // inject frames into the stack.
      if (rinfo.port !== this.remote.port || rinfo.address !== this.remote.host) {
        this.rxForeign++;
        this.stats.rxDropped++;
        return;
      }
      this.stats.rxPackets++;
      this.stats.rxBytes += msg.length;
      if (this.deliver === null) {
        this.stats.rxDropped++;
        return;
      }
      this.deliver(new Uint8Array(msg.buffer, msg.byteOffset, msg.length));
    });
    sock.on('error', () => {
      this.stats.rxErrors++;
    });
    // Background I/O does not keep a program alive; blocked syscalls hold the host instead.
    sock.unref();
  }

  /**
   * Resolves the remote to an IPv4 address and binds the local address. Rejects with Node's
   * error (EADDRINUSE, ENOTFOUND, …).
   */
  static async open(opts: UdpTunnelOptions): Promise<UdpTunnelDevice> {
    const local = parseHostPort(opts.local);
    const remote = await resolveRemote(opts.remote);
    const sock = createSocket({ type: 'udp4', reuseAddr: false });
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(local.port, local.host, () => {
        sock.off('error', reject);
        resolve(new UdpTunnelDevice(sock, remote, opts));
      });
    });
  }

  /**
   * Changes where frames go and whom they are accepted from (for a peer that binds its port
   * after ours is known). Rejects with ENOTFOUND or a bad host:port error.
   */
  async setRemote(remote: string): Promise<void> {
    this.remote = await resolveRemote(remote);
  }

  /** The bound local port (useful with port 0). */
  get localPort(): number {
    return this.sock.address().port;
  }

  transmit(frame: Uint8Array): void {
    if (this.closed || frame.length > this.mtu + 14) {
      this.stats.txDropped++;
      return;
    }
    this.stats.txPackets++;
    this.stats.txBytes += frame.length;
    this.sock.send(frame, this.remote.port, this.remote.host, (err) => {
      if (err) this.stats.txErrors++;
    });
  }

  onReceive(deliver: (frame: Uint8Array) => void): void {
    this.deliver = deliver;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.close();
  }
}
