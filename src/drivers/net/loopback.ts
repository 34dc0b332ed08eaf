// The loopback device (Linux's drivers/net/loopback.c): every frame sent comes back in,
// delivered from the host's event loop in one batch per turn so a send never re-enters the
// stack. Checksums are offloaded, as on Linux's lo.

import type { HostOps } from '../../host/host_ops.js';
import { DeviceStats, type NetDevice } from '../../net/netdevice.js';

export class LoopbackDevice implements NetDevice {
  readonly name = 'lo';
  readonly mac = 0;
  readonly mtu = 65536 - 14 - 2;
  readonly checksumOffload = true;
  readonly linkUp = true;
  readonly stats = new DeviceStats();
  private deliver: ((frame: Uint8Array) => void) | null = null;
  private queue: Uint8Array[] = [];
  private scheduled = false;

  constructor(private readonly host: HostOps) {}

  transmit(frame: Uint8Array): void {
    this.stats.txPackets++;
    this.stats.txBytes += frame.length;
    this.queue.push(frame);
    if (!this.scheduled) {
      this.scheduled = true;
      this.host.defer(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const q = this.queue;
    this.queue = [];
    for (const f of q) {
      this.stats.rxPackets++;
      this.stats.rxBytes += f.length;
      this.deliver?.(f);
    }
  }

  onReceive(deliver: (frame: Uint8Array) => void): void {
    this.deliver = deliver;
  }
}
