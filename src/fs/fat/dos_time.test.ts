// DOS dates and times: the conversions against the calendar (Date.UTC), across day, month,
// year and range boundaries and in an order that defeats the one-day memo; the truncations
// against the round trip through the DOS fields they shortcut.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dosToTimespec, timespecToDos, truncateAtime, truncateMtime } from './dos_time.js';

const MIN = Date.UTC(1980, 0, 1) / 1000;
const MAX = Date.UTC(2107, 11, 31, 23, 59, 58) / 1000;

/** The DOS fields of `sec` computed from Date, independently of dos_time.ts. */
function expected(sec: number, nsec: number): [number, number, number] {
  const c = Math.min(MAX, Math.max(MIN, sec));
  const d = new Date(c * 1000);
  const date = ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  const time = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1);
  const tenths = c === sec ? (d.getUTCSeconds() & 1) * 100 + Math.floor(nsec / 10_000_000) : (d.getUTCSeconds() & 1) * 100;
  return [date, time, tenths];
}

test('timespecToDos agrees with the calendar, also when consecutive calls change day', () => {
  let s = 12345;
  const rand = (): number => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s / 4294967296;
  };
  const edges = [MIN - 1, MIN, MIN + 1, MAX - 1, MAX, MAX + 1, Date.UTC(2000, 1, 29, 23, 59, 59) / 1000, Date.UTC(2024, 11, 31, 23, 59, 59) / 1000, 0, -5];
  const secs = [...edges];
  for (let i = 0; i < 5000; i++) {
    const base = MIN + Math.floor(rand() * (MAX - MIN));
    // Pairs a second apart across midnight, and far jumps: the memo must never answer for the wrong day.
    secs.push(base, base - (base % 86400) - 1, base - (base % 86400));
  }
  for (const sec of secs) {
    const nsec = Math.floor(rand() * 1e9);
    assert.deepEqual(timespecToDos({ sec, nsec }), expected(sec, nsec), `sec ${sec}`);
  }
});

test('truncateMtime and truncateAtime equal the round trip through the DOS fields', () => {
  for (let sec = MIN - 100_000; sec < MAX + 100_000; sec += 3_999_971) {
    for (const ts of [{ sec, nsec: 0 }, { sec: sec + 1, nsec: 999_999_999 }, { sec: sec + 86399, nsec: 5 }]) {
      const [d, t] = timespecToDos(ts);
      assert.deepEqual(truncateMtime(ts), dosToTimespec(d, t), `mtime ${ts.sec}`);
      assert.deepEqual(truncateAtime(ts), dosToTimespec(d, 0), `atime ${ts.sec}`);
    }
  }
  for (const sec of [MIN - 1, MIN, MAX, MAX + 1, MAX + 86400 * 400, -1e9]) {
    const [d, t] = timespecToDos({ sec, nsec: 0 });
    assert.deepEqual(truncateMtime({ sec, nsec: 0 }), dosToTimespec(d, t), `mtime at the edge ${sec}`);
    assert.deepEqual(truncateAtime({ sec, nsec: 0 }), dosToTimespec(d, 0), `atime at the edge ${sec}`);
  }
});
