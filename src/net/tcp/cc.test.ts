import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cubic, Reno, type CcState } from './cc.js';

const MSS = 1000;
const state = (cwnd: number, ssthresh: number): CcState => ({ cwnd, ssthresh, mss: MSS, srtt: 100e6 });

test('Reno: slow start doubles per window, congestion avoidance adds one MSS per window, loss halves', () => {
  const r = new Reno();
  const s = state(10 * MSS, 20 * MSS);
  r.onAck(s, 10 * MSS);
  assert.equal(s.cwnd, 20 * MSS, 'slow start up to ssthresh');
  r.onAck(s, 20 * MSS);
  assert.equal(s.cwnd, 21 * MSS, 'one MSS per window of ACKed bytes');
  assert.equal(r.onLoss(s, 21 * MSS), 10500);
  assert.equal(r.onLoss(s, 1000), 2 * MSS, 'never below two segments');
});

test('CUBIC (RFC 9438): β = 0.7 on loss; growth is concave back to W_max, then convex beyond', () => {
  const c = new Cubic();
  const s = state(100 * MSS, 50 * MSS);
  const ssthresh = c.onLoss(s, 100 * MSS, 0);
  assert.equal(ssthresh, 70 * MSS);
  s.cwnd = s.ssthresh = ssthresh;
  // One window of ACKs per RTT (100 ms) for 6 s of virtual time.
  const perRtt: number[] = [];
  let t = 0;
  for (let i = 0; i < 60; i++) {
    t += 100e6;
    const before = s.cwnd;
    const acks = Math.floor(s.cwnd / MSS);
    for (let k = 0; k < acks; k++) c.onAck(s, MSS, t);
    perRtt.push(s.cwnd - before);
  }
  const k = Math.cbrt((100 - 70) / 0.4); // RFC 9438 eq. 2: K ≈ 4.2 s
  const atK = Math.round((k * 1e9) / 100e6);
  assert.ok(Math.abs(s.cwnd / MSS - 100) < 40, `near W_max around K (${(s.cwnd / MSS).toFixed(1)} segments)`);
  assert.ok(perRtt[2]! > perRtt[atK - 2]!, 'concave: growth slows approaching W_max');
  assert.ok(perRtt[59]! > perRtt[atK]!, 'convex: growth speeds up past W_max');
});
