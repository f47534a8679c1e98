// Log lines of the node agent, composed in one fixed buffer (no strings are
// built at run time). Usage: lineStart("node: registered "); lineBytes(...);
// lineEmit(LOG_INFO). A line longer than LOG_LINE_CAP is cut, never grown.

import { log } from "../host/imports";
import { formatI64 } from "../util/bytes";
import { LOG_LINE_CAP } from "../util/limits";

const LINE: usize = memory.data(LOG_LINE_CAP);
let lineLen: i32 = 0;

/** Starts a new line with ASCII text `s`. */
export function lineStart(s: string): void {
  lineLen = 0;
  lineStr(s);
}

/** Appends ASCII/UTF-8 text `s` (cut at the cap). */
export function lineStr(s: string): void {
  for (let i = 0, n = s.length; i < n && lineLen < LOG_LINE_CAP; i++) {
    const c = s.charCodeAt(i);
    store<u8>(LINE + <usize>lineLen, c < 0x80 ? c : 0x3f); // non-ASCII never appears in our literals
    lineLen++;
  }
}

/** Appends bytes (ptr, len) (cut at the cap). */
export function lineBytes(ptr: usize, len: i32): void {
  const room = LOG_LINE_CAP - lineLen;
  const n = len < room ? len : room;
  if (n <= 0) return;
  memory.copy(LINE + <usize>lineLen, ptr, <usize>n);
  lineLen += n;
}

/** Appends a decimal integer. */
export function lineInt(v: i64): void {
  const n = formatI64(LINE + <usize>lineLen, LOG_LINE_CAP - lineLen, v);
  if (n > 0) lineLen += n;
}

/** Sends the line to the host at `level` (LOG_*). */
export function lineEmit(level: i32): void {
  log(level, LINE, lineLen);
}

/** One whole line of literal text. */
export function logText(level: i32, s: string): void {
  lineStart(s);
  lineEmit(level);
}
