// RFC 3339 formatting (assembly/k8s/time.ts): fixed points, leap years,
// century rules, and every day from 1970 to 2200 against a day-by-day calendar.
import { formatRfc3339, RFC3339_LEN, RFC3339_MICRO_LEN } from "../../../assembly/k8s/time";
import { E_INVAL, E_TOOLARGE } from "../../../assembly/util/errors";

const buf = new StaticArray<u8>(40);
const bp = changetype<usize>(buf);

function fmt(ms: i64, micro: bool): string {
  const n = formatRfc3339(bp, 40, ms, micro);
  if (n < 0) return "error " + n.toString();
  return String.UTF8.decodeUnsafe(bp, <usize>n);
}

const DAY: i64 = 86400000;

function isLeap(y: i32): bool {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}
function monthDays(y: i32, m: i32): i32 {
  if (m == 2) return isLeap(y) ? 29 : 28;
  return m == 4 || m == 6 || m == 9 || m == 11 ? 30 : 31;
}
function pad(v: i32, w: i32): string {
  let s = v.toString();
  while (s.length < w) s = "0" + s;
  return s;
}

describe("formatRfc3339", () => {
  it("formats the epoch and known instants", () => {
    expect(fmt(0, false)).toBe("1970-01-01T00:00:00Z");
    expect(fmt(1700000000000, false)).toBe("2023-11-14T22:13:20Z");
    expect(fmt(1795871145123, false)).toBe("2026-11-28T13:05:45Z");
    expect(fmt(1795871145123, true)).toBe("2026-11-28T13:05:45.123000Z");
    expect(fmt(1795871145007, true)).toBe("2026-11-28T13:05:45.007000Z");
    expect(fmt(1795871145999, false)).toBe("2026-11-28T13:05:45Z"); // truncated, not rounded
  });

  it("returns the documented lengths", () => {
    expect(formatRfc3339(bp, 40, 0, false)).toBe(RFC3339_LEN);
    expect(formatRfc3339(bp, 40, 0, true)).toBe(RFC3339_MICRO_LEN);
  });

  it("handles leap days and century years", () => {
    expect(fmt(951782400000, false)).toBe("2000-02-29T00:00:00Z"); // 2000: divisible by 400
    expect(fmt(1709164800000, false)).toBe("2024-02-29T00:00:00Z");
    expect(fmt(4102444800000, false)).toBe("2100-01-01T00:00:00Z");
    expect(fmt(4102444800000 + 58 * DAY, false)).toBe("2100-02-28T00:00:00Z");
    expect(fmt(4102444800000 + 59 * DAY, false)).toBe("2100-03-01T00:00:00Z"); // 2100: no leap day
    expect(fmt(4102444800000 - 1, true)).toBe("2099-12-31T23:59:59.999000Z");
  });

  it("agrees with a day-by-day calendar from 1970 to 2200", () => {
    let y = 1970, m = 1, d = 1;
    let bad = 0;
    for (let day: i64 = 0; y < 2200; day++) {
      const want = pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) + "T23:59:59Z";
      if (fmt(day * DAY + DAY - 1, false) != want) bad++;
      d++;
      if (d > monthDays(y, m)) { d = 1; m++; if (m > 12) { m = 1; y++; } }
    }
    expect(bad).toBe(0);
  });

  it("rejects times it cannot write and short buffers", () => {
    expect(formatRfc3339(bp, 40, -1, false)).toBe(E_INVAL);
    expect(fmt(253402300799999, true)).toBe("9999-12-31T23:59:59.999000Z");
    expect(formatRfc3339(bp, 40, 253402300800000, false)).toBe(E_INVAL);
    expect(formatRfc3339(bp, 19, 0, false)).toBe(E_TOOLARGE);
    expect(formatRfc3339(bp, 26, 0, true)).toBe(E_TOOLARGE);
  });
});
