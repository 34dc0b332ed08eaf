// DOS dates and times (FAT spec §6.3): a date is years since 1980, month, day; a time is
// hours, minutes and 2-second units; the creation time adds a 10 ms field (0–199). tkl keeps
// them in UTC, as Linux vfat with tz=UTC (the kernel's own time zone is UTC).

import type { Timespec } from '../../vfs/time.js';

/** Earliest and latest representable instants: 1980-01-01 00:00:00 and 2107-12-31 23:59:58. */
const MIN_SEC = Date.UTC(1980, 0, 1) / 1000;
const MAX_SEC = Date.UTC(2107, 11, 31, 23, 59, 58) / 1000;

/** A date/time pair (and the 10 ms units) as a Timespec; an invalid date reads as 1980-01-01. */
export function dosToTimespec(date: number, time: number, tenths = 0): Timespec {
  const year = 1980 + (date >> 9);
  const month = (date >> 5) & 0x0f;
  const day = date & 0x1f;
  const hour = time >> 11;
  const min = (time >> 5) & 0x3f;
  const sec2 = time & 0x1f;
  if (month < 1 || month > 12 || day < 1 || hour > 23 || min > 59 || sec2 > 29) return { sec: MIN_SEC, nsec: 0 };
  const t = tenths > 199 ? 0 : tenths;
  const ms = Date.UTC(year, month - 1, day, hour, min, sec2 * 2) + t * 10;
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1_000_000 };
}

/** A Timespec as [date, time, tenths (10 ms units within the 2-second field)], clamped to the DOS range. */
export function timespecToDos(ts: Timespec): [number, number, number] {
  let sec = ts.sec;
  let ns = ts.nsec;
  if (sec < MIN_SEC) {
    sec = MIN_SEC;
    ns = 0;
  } else if (sec > MAX_SEC) {
    sec = MAX_SEC;
    ns = 0;
  }
  const d = new Date(sec * 1000);
  const date = ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  const time = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1);
  const tenths = (d.getUTCSeconds() & 1) * 100 + Math.floor(ns / 10_000_000);
  return [date, time, tenths];
}
