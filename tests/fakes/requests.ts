// The requests the core sent through the host fake (fake.ts), read as HTTP
// text, and the checks the API-facing specs make on them.
import { HttpClient, HTTP_BODY, HTTP_DONE, HTTP_IDLE, HTTP_PENDING } from "../../assembly/http/client";
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

/** Polls client `c` until DONE, an error, or `maxPolls` PENDING results;
 *  returns "done <status> <body>", "pending <body>", "idle <body>" or
 *  "error <code> <body>". */
export function settle(c: HttpClient, now: i64, maxPolls: i32 = 3): string {
  let body = "";
  let pending = 0;
  while (true) {
    const r = c.poll(now);
    if (r == HTTP_BODY) {
      body += String.UTF8.decodeUnsafe(c.bodyPtr, <usize>c.bodyLen);
      continue;
    }
    if (r == HTTP_DONE) return "done " + c.status.toString() + " " + body;
    if (r == HTTP_PENDING) {
      if (++pending >= maxPolls) return "pending " + body;
      continue;
    }
    if (r == HTTP_IDLE) return "idle " + body;
    return "error " + r.toString() + " " + body;
  }
}
