// The requests the core sent through the host fake (fake.ts), read as HTTP
// text, and the checks the API-facing specs make on them.
import { fake_last_handle, fakeTakeOutbound } from "./fake";

/** The bytes sent on the newest connection since the last call ("" if none). */
export function sent(): string {
  return fakeTakeOutbound(fake_last_handle());
}

/** The request line of request text `r` (all of it without a CRLF). */
export function firstLine(r: string): string {
  const i = r.indexOf("\r\n");
  return i < 0 ? r : r.substring(0, i);
}

/** The body of request text `r` ("" without a header end). */
export function bodyOf(r: string): string {
  const i = r.indexOf("\r\n\r\n");
  return i < 0 ? "" : r.substring(i + 4);
}

/** expect(s contains sub), printing both when it does not. */
export function expectHas(s: string, sub: string): void {
  if (!s.includes(sub)) { log(s); log(sub); }
  expect(s.includes(sub)).toBe(true);
}

/** expect(s does not contain sub), printing both when it does. */
export function expectLacks(s: string, sub: string): void {
  if (s.includes(sub)) { log(s); log(sub); }
  expect(s.includes(sub)).toBe(false);
}
