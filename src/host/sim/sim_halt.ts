// Halting on the sim host: instead of sleeping, virtual time jumps to the next timer (or to
// the caller's deadline), so a program that sleeps or polls with a timeout runs at once and
// reproducibly. Only input from other threads (a doorbell) is waited for in real time.

import type { Halt } from '../halt.js';
import type { Instant } from '../host_ops.js';
import { Doorbell } from '../worker/doorbell.js';
import type { SimHost } from './sim_host.js';

export class SimHalt implements Halt {
  constructor(
    private readonly sim: SimHost,
    readonly doorbell: Doorbell = Doorbell.private(),
  ) {}

  poll(): boolean {
    const rang = this.doorbell.check();
    return this.sim.runSync(this.sim.monotonic()) > 0 || rang;
  }

  halt(until: Instant | null): boolean {
    if (this.poll()) return true;
    const next = this.sim.nextTimerAt();
    const target = until === null ? next : next === undefined ? until : (Math.min(until, next) as Instant);
    if (target !== undefined) {
      this.sim.runSync(target);
      return true;
    }
    if (!this.doorbell.external) return false;
    this.doorbell.wait(Number.POSITIVE_INFINITY);
    this.poll();
    return true;
  }
}
