// TAP devices on Linux (/dev/net/tun): frames to and from a host network interface. Node
// cannot issue TUNSETIFF, so this uses tkl's optional addon (native/tap, built by
// `node scripts/build-tap-addon.js`); without it, open() explains the alternatives (a UDP
// tunnel bridged to the TAP by socat). Reads are driven by libuv readiness, never polled.

import { closeSync, readSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { DeviceStats, randomMac, type NetDevice } from '../../net/netdevice.js';

interface TapAddon {
  open(name: string): { fd: number; name: string };
  watch(fd: number, onReadable: () => void): { stop(): void; unref(): void };
}

let addon: TapAddon | null | undefined;

/** The addon, or null when it was not built. */
export function tapAddon(): TapAddon | null {
  if (addon !== undefined) return addon;
  const require = createRequire(import.meta.url);
  for (const p of ['../../../../native/tap/build/Release/tkl_tap.node', '../../../native/tap/build/Release/tkl_tap.node']) {
    try {
      addon = require(p) as TapAddon;
      return addon;
    } catch {
      // try the next location (dist/ layout vs. source layout)
    }
  }
  addon = null;
  return addon;
}

export const TAP_HELP =
  'TAP needs the optional addon: run `node scripts/build-tap-addon.js` (needs a C compiler and Node headers), ' +
  'or bridge the TAP with socat and use the UDP tunnel: ' +
  '`socat TUN,tun-type=tap,tun-name=tap0,iff-up UDP:127.0.0.1:5556,bind=127.0.0.1:5555` then `--net udp:127.0.0.1:5556,127.0.0.1:5555`';

export interface TapOptions {
  /** Interface name ("tap0"); created if missing (needs CAP_NET_ADMIN), attached if it exists. */
  name: string;
  mac?: number;
  /** Default 1500. */
  mtu?: number;
}

export class TapDevice implements NetDevice {
  readonly name: string;
  readonly mac: number;
  readonly mtu: number;
  readonly checksumOffload = false;
  readonly linkUp = true;
  readonly stats = new DeviceStats();
  private deliver: ((frame: Uint8Array) => void) | null = null;
  private readonly watcher: { stop(): void; unref(): void };
  private closed = false;
  private rxBuf = new Uint8Array(65536 + 14);

  private constructor(
    private readonly fd: number,
    name: string,
    opts: TapOptions,
    a: TapAddon,
  ) {
    this.name = name;
    this.mac = opts.mac ?? randomMac((b) => randomBytes(b.length).copy(b));
    this.mtu = opts.mtu ?? 1500;
    this.watcher = a.watch(fd, () => this.readable());
    this.watcher.unref();
  }

  /** Opens (or creates) the TAP. Errors: the addon is missing (with TAP_HELP), EPERM, EBUSY. */
  static open(opts: TapOptions): TapDevice {
    const a = tapAddon();
    if (a === null) throw new Error(TAP_HELP);
    const { fd, name } = a.open(opts.name);
    return new TapDevice(fd, name, opts, a);
  }

  private readable(): void {
    // Drain everything the kernel queued: one read() returns one frame.
    for (let i = 0; i < 256 && !this.closed; i++) {
      let n: number;
      try {
        n = readSync(this.fd, this.rxBuf, 0, this.rxBuf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') this.stats.rxErrors++;
        return;
      }
      if (n <= 0) return;
      this.stats.rxPackets++;
      this.stats.rxBytes += n;
      // rxBuf is reused for the next read, and the stack may keep delivered frames: a copy.
      const frame = this.rxBuf.slice(0, n);
      if (this.deliver !== null) this.deliver(frame);
      else this.stats.rxDropped++;
    }
  }

  transmit(frame: Uint8Array): void {
    if (this.closed || frame.length > this.mtu + 14) {
      this.stats.txDropped++;
      return;
    }
    try {
      writeSync(this.fd, frame);
      this.stats.txPackets++;
      this.stats.txBytes += frame.length;
    } catch {
      // EAGAIN: the TAP's queue is full (its txqueuelen); like a NIC, drop.
      this.stats.txDropped++;
    }
  }

  onReceive(deliver: (frame: Uint8Array) => void): void {
    this.deliver = deliver;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher.stop();
    closeSync(this.fd);
  }
}
