// Congestion control, chosen per socket with TCP_CONGESTION: Reno (RFC 5681 slow start and
// congestion avoidance) and CUBIC (RFC 9438), the default as on Linux. Windows are in bytes;
// CUBIC's formulas work in segments. Time is passed in (ns); nothing reads a clock here.

export interface CcState {
  cwnd: number;
  ssthresh: number;
  /** Sender MSS in bytes. */
  readonly mss: number;
  /** Smoothed RTT in ns (0 before the first sample). */
  readonly srtt: number;
}

export interface CongestionControl {
  readonly name: string;
  /** `acked` new bytes were acknowledged outside recovery. */
  onAck(s: CcState, acked: number, now: number): void;
  /** Loss detected by duplicate ACKs or SACK: returns the new ssthresh. */
  onLoss(s: CcState, flight: number, now: number): number;
  /** Retransmission timeout. */
  onTimeout(s: CcState): void;
}

/** Slow start with appropriate byte counting (RFC 3465), as Linux counts acked bytes. */
function slowStart(s: CcState, acked: number): number {
  const room = s.ssthresh - s.cwnd;
  const grow = Math.min(acked, room);
  s.cwnd += grow;
  return acked - grow;
}

export class Reno implements CongestionControl {
  readonly name = 'reno';
  private bytesAcked = 0;

  onAck(s: CcState, acked: number): void {
    if (s.cwnd < s.ssthresh) acked = slowStart(s, acked);
    if (acked <= 0) return;
    // Congestion avoidance: one MSS per cwnd of acknowledged bytes (RFC 5681 §3.1, eq. 3's byte form).
    this.bytesAcked += acked;
    while (this.bytesAcked >= s.cwnd) {
      this.bytesAcked -= s.cwnd;
      s.cwnd += s.mss;
    }
  }

  onLoss(s: CcState, flight: number): number {
    this.bytesAcked = 0;
    // RFC 5681 eq. (4).
    return Math.max(Math.floor(flight / 2), 2 * s.mss);
  }

  onTimeout(): void {
    this.bytesAcked = 0;
  }
}

/** RFC 9438 §4: C = 0.4, β_cubic = 0.7, fast convergence on. */
const C = 0.4;
const BETA = 0.7;
const ALPHA = (3 * (1 - BETA)) / (1 + BETA);

export class Cubic implements CongestionControl {
  readonly name = 'cubic';
  /** W_max in segments; 0 before the first loss. */
  private wMax = 0;
  private k = 0;
  /** Start of the current congestion-avoidance epoch (ns), or -1. */
  private epoch = -1;
  /** W_est (segments) for the Reno-friendly region (§4.3). */
  private wEst = 0;

  onAck(s: CcState, acked: number, now: number): void {
    if (s.cwnd < s.ssthresh) {
      acked = slowStart(s, acked);
      if (acked <= 0) return;
    }
    const mss = s.mss;
    const cwnd = s.cwnd / mss;
    if (this.epoch < 0) {
      this.epoch = now;
      this.wEst = cwnd;
      if (this.wMax <= cwnd) {
        this.k = 0;
        this.wMax = cwnd;
      } else this.k = Math.cbrt((this.wMax - cwnd) / C); // eq. 2 with cwnd_epoch
    }
    const rtt = s.srtt > 0 ? s.srtt : 100e6;
    const t = (now - this.epoch) / 1e9;
    const wCubic = (x: number): number => C * (x - this.k) ** 3 + this.wMax;
    // §4.3: the Reno-friendly estimate grows by α per window of acknowledged segments.
    this.wEst += (ALPHA * (acked / mss)) / cwnd;
    let target = wCubic(t + rtt / 1e9);
    if (target < cwnd) target = cwnd;
    if (target > 1.5 * cwnd) target = 1.5 * cwnd;
    let next: number;
    if (wCubic(t) < this.wEst) next = Math.max(cwnd, this.wEst);
    else next = cwnd + ((target - cwnd) / cwnd) * (acked / mss);
    s.cwnd = Math.max(s.cwnd, Math.floor(next * mss));
  }

  onLoss(s: CcState, flight: number, now: number): number {
    void flight;
    void now;
    const cwnd = s.cwnd / s.mss;
    // §4.7 fast convergence.
    this.wMax = cwnd < this.wMax ? (cwnd * (1 + BETA)) / 2 : cwnd;
    this.epoch = -1;
    return Math.max(Math.floor(s.cwnd * BETA), 2 * s.mss);
  }

  onTimeout(s: CcState): void {
    // §4.8: after a timeout, restart the epoch; W_max keeps what was learnt before.
    if (s.cwnd / s.mss > this.wMax) this.wMax = s.cwnd / s.mss;
    this.epoch = -1;
  }
}

export function makeCongestionControl(name: string): CongestionControl | null {
  if (name === 'cubic') return new Cubic();
  if (name === 'reno') return new Reno();
  return null;
}

export const CONGESTION_ALGORITHMS = ['cubic', 'reno'] as const;
