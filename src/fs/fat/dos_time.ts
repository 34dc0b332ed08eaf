// DOS dates and times (FAT spec §6.3): a date is years since 1980, month, day; a time is
// hours, minutes and 2-second units; the creation time adds a 10 ms field (0–199). tkl keeps
// them in UTC, as Linux vfat with tz=UTC (the kernel's own time zone is UTC).

import type { Timespec } from '../../vfs/time.js';

/** Earliest and latest representable instants: 1980-01-01 00:00:00 and 2107-12-31 23:59:58. */
const MIN_SEC = Date.UTC(1980, 0, 1) / 1000;
const MAX_SEC = Date.UTC(2107, 11, 31, 23, 59, 58) / 1000;

/** Days since 1970-01-01 of a civil date (proleptic Gregorian; Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The civil date [year, month, day] of a day count since 1970-01-01 (civil_from_days). */
function civilFromDays(z0: number): [number, number, number] {
  const z = z0 + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

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
  // Day 31 of a 30-day month rolls over, as Date.UTC would.
  const sec = daysFromCivil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec2 * 2 + Math.floor(t / 100);
  return { sec, nsec: (t % 100) * 10_000_000 };
}

/** The last day converted (entries written together mostly share it): its days and date. */
let lastDays = NaN;
let lastDate = 0;

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
  const days = Math.floor(sec / 86400);
  const rem = sec - days * 86400;
  const s = rem % 60;
  const time = (Math.floor(rem / 3600) << 11) | (Math.floor((rem % 3600) / 60) << 5) | (s >> 1);
  if (days === lastDays) return [lastDate, time, (s & 1) * 100 + Math.floor(ns / 10_000_000)];
  lastDays = days;
  lastDate = dosDate(days);
  return [lastDate, time, (s & 1) * 100 + Math.floor(ns / 10_000_000)];
}

/** The DOS date of a day count since 1970-01-01 (within the DOS range). */
function dosDate(days: number): number {
  const [y, m, d] = civilFromDays(days);
  return ((y - 1980) << 9) | (m << 5) | d;
}

/**
 * `ts` at the precision of a modification time: whole 2-second units (Linux's
 * fat_truncate_mtime), clamped to the DOS range. Days are 86,400 s and the range's ends are
 * even, so this is the even second at or below (no calendar arithmetic on every write).
 */
export function truncateMtime(ts: Timespec): Timespec {
  const sec = Math.min(MAX_SEC, Math.max(MIN_SEC, ts.sec));
  return { sec: sec - (sec % 2), nsec: 0 };
}

/** `ts` at the precision of an access time: the day (fat_truncate_atime), clamped to the DOS range. */
export function truncateAtime(ts: Timespec): Timespec {
  const sec = Math.min(MAX_SEC, Math.max(MIN_SEC, ts.sec));
  return { sec: sec - (sec % 86400), nsec: 0 };
}
