// TAP devices on Linux (/dev/net/tun): frames to and from a host network interface. Node
// cannot issue TUNSETIFF, so this uses tkl's optional addon (native/tap, built by
// `node scripts/build-tap-addon.js`); without it, open() explains the alternatives (a UDP
// tunnel bridged to the TAP by socat). Reads are driven by libuv readiness, never polled. With
// offload (the default) frames carry a virtio-net header: checksums and TCP segmentation are
// left to Linux both ways, as between a virtio-net guest and its host (see virtio_net_hdr.ts).

import { closeSync, readSync, writeSync, writevSync } from 'node:fs';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { DeviceStats, randomMac, type NetDevice } from '../../net/netdevice.js';
import { checkRxHeader, fillTxHeader, RX_BAD_HEADER, RX_OK, RxInfo, VNET_HDR_LEN } from './virtio_net_hdr.js';

interface TapAddon {
  /** An addon built before offload existed ignores `offload` and returns no vnetHdr. */
  open(name: string, offload?: boolean): { fd: number; name: string; vnetHdr?: number; littleEndian?: boolean; offloadError?: string };
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
  /**
   * Checksum and TCP segmentation offload through the virtio-net header (IFF_VNET_HDR,
   * TUN_F_CSUM | TUN_F_TSO4). Default true; false keeps one plain frame per read/write.
   * Where the kernel refuses the ioctls the device runs without it (see offloadError).
   */
  offload?: boolean;
}

/** The largest IP datagram of one offloaded TCP frame (Linux's GSO_MAX_SIZE, capped by IPv4). */
const TAP_GSO_MAX_SIZE = 65535;
/** The largest frame a read may return: a 64 KiB IP datagram, Ethernet and VLAN headers. */
const RX_FRAME_MAX = 65535 + 18;

/** Offload counters beside DeviceStats (the virtio header's part of the picture). */
export class TapOffloadStats {
  /** TCP super-frames handed to Linux to segment (GSO_TCPV4). */
  txGsoFrames = 0;
  /** Coalesced TCP frames Linux handed us (GSO_TCPV4). */
  rxGsoFrames = 0;
  /** Frames dropped for a malformed virtio-net header (also in rxErrors). */
  rxBadHeader = 0;
  /** Frames dropped for a checksum Linux had not vouched for and that was wrong (also in rxErrors). */
  rxBadChecksum = 0;
}

export class TapDevice implements NetDevice {
  readonly name: string;
  readonly mac: number;
  readonly mtu: number;
  /** True when frames carry the virtio-net header: checksums and TSO are Linux's. */
  readonly checksumOffload: boolean;
  readonly gsoMaxSize: number;
  readonly linkUp = true;
  readonly stats = new DeviceStats();
  readonly offloadStats = new TapOffloadStats();
  /** Why offload was asked for and is off (the kernel refused an ioctl), or null. */
  readonly offloadError: string | null;
  private deliver: ((frame: Uint8Array) => void) | null = null;
  private readonly watcher: { stop(): void; unref(): void };
  private closed = false;
  /** The virtio-net header's length: 0 (plain frames) or VNET_HDR_LEN. */
  private readonly hdrLen: number;
  private readonly hdrLe: boolean;
  private readonly rxBuf: Uint8Array;
  private readonly rxInfo = new RxInfo();
  /** writev's vector, reused: [header, frame]. */
  private readonly txHdr = new Uint8Array(VNET_HDR_LEN);
  private readonly txVec: Uint8Array[] = [this.txHdr, this.txHdr];

  private constructor(
    private readonly fd: number,
    name: string,
    opts: TapOptions,
    a: TapAddon,
    hdrLen: number,
    le: boolean,
    offloadError: string | null,
  ) {
    this.name = name;
    this.mac = opts.mac ?? randomMac((b) => randomBytes(b.length).copy(b));
    this.mtu = opts.mtu ?? 1500;
    this.hdrLen = hdrLen;
    this.hdrLe = le;
    this.checksumOffload = hdrLen > 0;
    this.gsoMaxSize = hdrLen > 0 ? TAP_GSO_MAX_SIZE : 0;
    this.offloadError = offloadError;
    this.rxBuf = new Uint8Array(hdrLen + RX_FRAME_MAX);
    this.watcher = a.watch(fd, () => this.readable());
    this.watcher.unref();
  }

  /** Opens (or creates) the TAP. Errors: the addon is missing (with TAP_HELP), EPERM, EBUSY. */
  static open(opts: TapOptions): TapDevice {
    const a = tapAddon();
    if (a === null) throw new Error(TAP_HELP);
    const wantOffload = opts.offload ?? true;
    const r = a.open(opts.name, wantOffload);
    const hdrLen = r.vnetHdr === VNET_HDR_LEN ? VNET_HDR_LEN : 0;
    let err = r.offloadError ?? null;
    if (wantOffload && hdrLen === 0 && err === null) err = 'the TAP addon predates offload: rebuild it (node scripts/build-tap-addon.js)';
    return new TapDevice(r.fd, r.name, opts, a, hdrLen, r.littleEndian ?? true, err);
  }

  /** True when frames carry the virtio-net header (offload is on). */
  get offload(): boolean {
    return this.hdrLen > 0;
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
      const h = this.hdrLen;
      if (h > 0) {
        const st = n < h ? RX_BAD_HEADER : checkRxHeader(this.rxBuf, 0, h, n - h, this.hdrLe, this.rxInfo);
        if (st !== RX_OK) {
          if (st === RX_BAD_HEADER) this.offloadStats.rxBadHeader++;
          else this.offloadStats.rxBadChecksum++;
          this.stats.rxErrors++;
          continue;
        }
        if (this.rxInfo.gso) this.offloadStats.rxGsoFrames++;
      }
      this.stats.rxPackets++;
      this.stats.rxBytes += n - h;
      // rxBuf is reused for the next read, and the stack may keep delivered frames: a copy.
      const frame = this.rxBuf.slice(h, n);
      if (this.deliver !== null) this.deliver(frame);
      else this.stats.rxDropped++;
    }
  }

  transmit(frame: Uint8Array): void {
    if (this.closed) {
      this.stats.txDropped++;
      return;
    }
    if (this.hdrLen === 0) {
      if (frame.length > this.mtu + 14) {
        this.stats.txDropped++;
        return;
      }
      try {
        writeSync(this.fd, frame);
      } catch {
        // EAGAIN: the TAP's queue is full (its txqueuelen); like a NIC, drop.
        this.stats.txDropped++;
        return;
      }
    } else {
      if (!fillTxHeader(this.txHdr, 0, frame, this.mtu, this.hdrLe)) {
        this.stats.txDropped++;
        return;
      }
      const vec = this.txVec;
      vec[1] = frame;
      try {
        writevSync(this.fd, vec);
      } catch (e) {
        // EAGAIN: the queue is full, as above; EIO: the interface is down (as a NIC, drop);
        // anything else (EINVAL) is a header Linux refused.
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EIO') this.stats.txDropped++;
        else this.stats.txErrors++;
        return;
      } finally {
        vec[1] = this.txHdr; // do not keep the frame alive
      }
      if (this.txHdr[1] !== 0) this.offloadStats.txGsoFrames++;
    }
    this.stats.txPackets++;
    this.stats.txBytes += frame.length;
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
