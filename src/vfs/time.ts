// Timestamps as Linux keeps them (struct timespec64): whole seconds since the epoch and
// nanoseconds. Timespec values are immutable and may be shared between fields.

import type { HostOps } from '../host/host_ops.js';

export interface Timespec {
  readonly sec: number;
  readonly nsec: number;
}

export function timespec(sec: number, nsec: number): Timespec {
  return { sec, nsec };
}

export function timespecFromNs(ns: bigint): Timespec {
  let sec = ns / 1_000_000_000n;
  let nsec = ns % 1_000_000_000n;
  if (nsec < 0n) {
    nsec += 1_000_000_000n;
    sec -= 1n;
  }
  return { sec: Number(sec), nsec: Number(nsec) };
}

export function timespecCompare(a: Timespec, b: Timespec): number {
  return a.sec !== b.sec ? a.sec - b.sec : a.nsec - b.nsec;
}

/**
 * The kernel's wall clock for file timestamps: the host's real time read once at boot plus
 * the monotonic time since, in plain number arithmetic (no bigint on the hot path).
 */
export class Clock {
  private readonly bootSec: number;
  private readonly bootNsec: number;
  private readonly bootMono: number;

  constructor(private readonly host: HostOps) {
    const t = timespecFromNs(host.realtimeNs());
    this.bootSec = t.sec;
    this.bootNsec = t.nsec;
    this.bootMono = host.monotonic();
  }

  /** Current wall-clock time. */
  now(): Timespec {
    const ns = this.bootNsec + (this.host.monotonic() - this.bootMono);
    const carry = Math.floor(ns / 1e9);
    return { sec: this.bootSec + carry, nsec: Math.floor(ns - carry * 1e9) };
  }

  /**
   * Whole seconds for records that tools compare with their own time() — a superblock's mount
   * and write times (e2fsck reports times "in the future"). Linux stamps those from its coarse
   * clock, which lags the fine one by up to a tick, and so does time(); reading 10 ms back
   * keeps a stamp at or before what a tool run right after reads.
   */
  coarseSec(): number {
    const ns = this.bootNsec + (this.host.monotonic() - this.bootMono) - 10_000_000;
    return this.bootSec + Math.floor(ns / 1e9);
  }

  /** Seconds since boot, for /proc/uptime. */
  uptimeNs(): number {
    return this.host.monotonic() - this.bootMono;
  }
}
