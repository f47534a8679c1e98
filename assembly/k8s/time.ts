// RFC 3339 timestamps as the API server writes them, allocation-free.
//
// metav1.Time serializes with second precision ("2006-01-02T15:04:05Z",
// k8s.io/apimachinery/pkg/apis/meta/v1/time.go: RFC3339 in UTC); metav1.MicroTime
// with six fractional digits ("2006-01-02T15:04:05.000000Z", micro_time.go,
// RFC3339Micro). Lease.spec.renewTime is a MicroTime; condition times are Times.

import { E_INVAL, E_TOOLARGE } from "../util/errors";

/** Length of a metav1.Time text: "2026-11-28T13:05:45Z". */
export const RFC3339_LEN: i32 = 20;
/** Length of a metav1.MicroTime text: "2026-11-28T13:05:45.123456Z". */
export const RFC3339_MICRO_LEN: i32 = 27;

const MS_PER_DAY: i64 = 86400000;
/** Latest instant RFC 3339's four-digit year can hold: 9999-12-31T23:59:59.999Z. */
const MAX_UNIX_MS: i64 = 253402300799999;

// Civil date of the last formatted day (set by civilFromDays).
let civilYear: i32 = 0;
let civilMonth: i32 = 0;
let civilDay: i32 = 0;

/** Proleptic Gregorian date of `days` since 1970-01-01 (days >= 0), by the
 *  era/day-of-era method (H. Hinnant, "chrono-Compatible Low-Level Date
 *  Algorithms", days_from_civil inverse): 400-year eras of 146097 days, March-based
 *  years so the leap day is the last day of the year. */
function civilFromDays(days: i64): void {
  const z = days + 719468; // days from 0000-03-01
  const era = z / 146097; // z >= 0 here, no floor correction needed
  const doe = z - era * 146097; // [0, 146096]
  const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; // [0, 399]
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
  const mp = (5 * doy + 2) / 153; // [0, 11], March = 0
  civilDay = <i32>(doy - (153 * mp + 2) / 5 + 1);
  civilMonth = <i32>(mp < 10 ? mp + 3 : mp - 9);
  civilYear = <i32>(yoe + era * 400) + (civilMonth <= 2 ? 1 : 0);
}

function put2(dst: usize, v: i32): void {
  store<u8>(dst, 0x30 + v / 10);
  store<u8>(dst + 1, 0x30 + v % 10);
}

/** Writes `unixMs` (milliseconds since the Unix epoch, UTC) as RFC 3339 into
 *  (dst, cap): second precision when `micro` is false (metav1.Time), six
 *  fractional digits when true (metav1.MicroTime; the clock has millisecond
 *  resolution, so the last three digits are 0). Returns the length
 *  (RFC3339_LEN / RFC3339_MICRO_LEN), E_INVAL for a time before 1970 or after
 *  9999, E_TOOLARGE when `cap` is too small. */
export function formatRfc3339(dst: usize, cap: i32, unixMs: i64, micro: bool): i32 {
  if (unixMs < 0 || unixMs > MAX_UNIX_MS) return E_INVAL;
  const n = micro ? RFC3339_MICRO_LEN : RFC3339_LEN;
  if (cap < n) return E_TOOLARGE;
  const days = unixMs / MS_PER_DAY;
  const msOfDay = <i32>(unixMs - days * MS_PER_DAY);
  civilFromDays(days);
  const secOfDay = msOfDay / 1000;
  put2(dst, civilYear / 100);
  put2(dst + 2, civilYear % 100);
  store<u8>(dst + 4, 0x2d); // '-'
  put2(dst + 5, civilMonth);
  store<u8>(dst + 7, 0x2d);
  put2(dst + 8, civilDay);
  store<u8>(dst + 10, 0x54); // 'T'
  put2(dst + 11, secOfDay / 3600);
  store<u8>(dst + 13, 0x3a); // ':'
  put2(dst + 14, (secOfDay / 60) % 60);
  store<u8>(dst + 16, 0x3a);
  put2(dst + 17, secOfDay % 60);
  let p: usize = 19;
  if (micro) {
    const ms = msOfDay % 1000;
    store<u8>(dst + 19, 0x2e); // '.'
    store<u8>(dst + 20, 0x30 + ms / 100);
    put2(dst + 21, ms % 100);
    store<u8>(dst + 23, 0x30);
    store<u8>(dst + 24, 0x30);
    store<u8>(dst + 25, 0x30);
    p = 26;
  }
  store<u8>(dst + p, 0x5a); // 'Z'
  return n;
}
