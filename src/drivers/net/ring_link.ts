// A network card for a kernel in a worker thread (a WASI unikernel): the real device (TAP,
// UDP tunnel, passt) stays with the main thread, whose event loop owns its socket or fd, and
// frames cross between the threads through two ByteRings. RingNetDevice is the worker's side:
// transmit() queues a frame for the main thread; received frames are delivered when the
// worker polls (its doorbell's interrupt handler). RingBridge is the main thread's side.

import { Doorbell } from '../../host/worker/doorbell.js';
import { ByteRing } from '../../host/worker/ring.js';
import { DeviceStats, type NetDevice } from '../../net/netdevice.js';

/** What the worker needs to make its side of the link. */
export interface RingLinkInit {
  name: string;
  mac: number;
  mtu: number;
  /** The real device's offloads: its frames may carry partial checksums and exceed the MTU. */
  checksumOffload?: boolean;
  gsoMaxSize?: number;
  /** Frames from the worker to the device. */
  tx: SharedArrayBuffer;
  /** Frames from the device to the worker. */
  rx: SharedArrayBuffer;
}

/** Ring capacity: room for about seven hundred full-size frames, or sixteen 64 KiB offloaded ones, each way. */
const RING_BYTES = 1 << 20;

export class RingNetDevice implements NetDevice {
  readonly name: string;
  readonly mac: number;
  readonly mtu: number;
  /** As the real device: the kernel must not verify checksums a TAP with offload left partial. */
  readonly checksumOffload: boolean;
  readonly gsoMaxSize: number;
  readonly linkUp = true;
  readonly stats = new DeviceStats();
  private readonly tx: ByteRing;
  private readonly rx: ByteRing;
  private deliver: ((frame: Uint8Array) => void) | null = null;

  constructor(init: RingLinkInit) {
    this.name = init.name;
    this.mac = init.mac;
    this.mtu = init.mtu;
    this.checksumOffload = init.checksumOffload ?? false;
    this.gsoMaxSize = init.gsoMaxSize ?? 0;
    this.tx = new ByteRing(init.tx);
    this.rx = new ByteRing(init.rx);
  }

  transmit(frame: Uint8Array): void {
    if (this.tx.writeRecord(frame)) {
      this.stats.txPackets++;
      this.stats.txBytes += frame.length;
    } else this.stats.txDropped++;
  }

  onReceive(deliver: (frame: Uint8Array) => void): void {
    this.deliver = deliver;
  }

  /** Delivers every frame that arrived (the worker's interrupt handler calls this). */
  poll(): void {
    for (;;) {
      const f = this.rx.readRecord();
      if (f === null) return;
      this.stats.rxPackets++;
      this.stats.rxBytes += f.length;
      if (this.deliver !== null) this.deliver(f);
      else this.stats.rxDropped++;
    }
  }
}

/** The main thread's side: moves frames between a real device and the worker's rings. */
export class RingBridge {
  readonly init: RingLinkInit;
  private readonly tx = ByteRing.create(RING_BYTES);
  private readonly rx = ByteRing.create(RING_BYTES);
  private stopped = false;
  /** Frames dropped because the worker's ring was full. */
  dropped = 0;

  constructor(
    private readonly device: NetDevice,
    private readonly doorbell: Int32Array,
  ) {
    this.init = {
      name: device.name, mac: device.mac, mtu: device.mtu, checksumOffload: device.checksumOffload,
      gsoMaxSize: device.gsoMaxSize ?? 0, tx: this.tx.sab, rx: this.rx.sab,
    };
    device.onReceive((frame) => {
      if (this.stopped) return;
      if (this.rx.writeRecord(frame)) Doorbell.ring(this.doorbell);
      else this.dropped++;
    });
    void this.pumpTx();
  }

  private async pumpTx(): Promise<void> {
    while (!this.stopped) {
      await this.tx.waitForData(200);
      for (;;) {
        const f = this.tx.readRecord();
        if (f === null) break;
        this.device.transmit(f);
      }
    }
  }

  /** Sends what the worker queued last, then lets go of the device. */
  stop(): void {
    this.stopped = true;
    for (;;) {
      const f = this.tx.readRecord();
      if (f === null) break;
      this.device.transmit(f);
    }
    this.device.close?.();
  }
}
