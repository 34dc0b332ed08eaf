// QEMU's stream netdev protocol over a UNIX (or TCP) socket: every frame is preceded by its
// length as a 4-byte big-endian number. passt speaks it, which gives a tkl program user-mode
// network access without root. Node-only (node:net).

import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { DeviceStats, randomMac, type NetDevice } from '../../net/netdevice.js';

export interface StreamOptions {
  /** A UNIX socket path (passt's default is /tmp/passt_1.socket), or host:port for TCP. */
  path: string;
  mac?: number;
  /** Default 1500 (passt's default MTU is 65520; 1500 keeps frames ordinary). */
  mtu?: number;
}

/** Frames longer than this are a broken stream, not a frame. */
const MAX_FRAME = 65536 + 14;

export class StreamDevice implements NetDevice {
  readonly name: string;
  readonly mac: number;
  readonly mtu: number;
  readonly checksumOffload = false;
  /** transmit() copies the frame behind its length prefix before writing. */
  readonly copiesOnTransmit = true;
  linkUp = true;
  readonly stats = new DeviceStats();
  private deliver: ((frame: Uint8Array) => void) | null = null;
  private pending: Buffer = Buffer.alloc(0);
  private closed = false;

  private constructor(
    private readonly sock: Socket,
    opts: StreamOptions,
  ) {
    this.name = `stream:${opts.path}`;
    this.mac = opts.mac ?? randomMac((b) => randomBytes(b.length).copy(b));
    this.mtu = opts.mtu ?? 1500;
    sock.on('data', (chunk: Buffer) => this.input(chunk));
    sock.on('close', () => {
      this.linkUp = false;
    });
    sock.on('error', () => {
      this.stats.rxErrors++;
    });
    sock.setNoDelay?.(true);
    sock.unref();
  }

  /** Connects to the socket. Rejects with Node's error (ENOENT, ECONNREFUSED). */
  static open(opts: StreamOptions): Promise<StreamDevice> {
    return new Promise((resolve, reject) => {
      const m = /^(.*):(\d+)$/.exec(opts.path);
      const sock = m && !opts.path.includes('/') ? connect(Number(m[2]), m[1] || '127.0.0.1') : connect(opts.path);
      sock.once('error', reject);
      sock.once('connect', () => {
        sock.off('error', reject);
        resolve(new StreamDevice(sock, opts));
      });
    });
  }

  private input(chunk: Buffer): void {
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let off = 0;
    while (buf.length - off >= 4) {
      const len = buf.readUInt32BE(off);
      if (len > MAX_FRAME) {
        // A desynchronised stream cannot be recovered: drop the link.
        this.stats.rxErrors++;
        this.close();
        return;
      }
      if (buf.length - off - 4 < len) break;
      const frame = new Uint8Array(buf.buffer, buf.byteOffset + off + 4, len);
      off += 4 + len;
      this.stats.rxPackets++;
      this.stats.rxBytes += len;
      if (this.deliver !== null) this.deliver(frame);
      else this.stats.rxDropped++;
    }
    this.pending = off < buf.length ? Buffer.from(buf.subarray(off)) : Buffer.alloc(0);
    buf = Buffer.alloc(0);
  }

  transmit(frame: Uint8Array): void {
    if (this.closed || frame.length > this.mtu + 14) {
      this.stats.txDropped++;
      return;
    }
    const out = Buffer.allocUnsafe(4 + frame.length);
    out.writeUInt32BE(frame.length, 0);
    out.set(frame, 4);
    this.stats.txPackets++;
    this.stats.txBytes += frame.length;
    this.sock.write(out);
  }

  onReceive(deliver: (frame: Uint8Array) => void): void {
    this.deliver = deliver;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.linkUp = false;
    this.sock.destroy();
  }
}
