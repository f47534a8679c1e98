// Log lines of the node agent, composed in one fixed buffer (no strings are
// built at run time). Texts are UTF-8 literals (util/lit.ts). Usage:
// lineStart(utf8("node: registered ")); lineBytes(...);
// lineEmit(LOG_INFO). A line longer than LOG_LINE_CAP is cut, never grown.

import { log } from "../host/imports";
import { formatI64 } from "../util/bytes";
import { LOG_LINE_CAP } from "../util/limits";
import { Lit, litLen, litPtr } from "../util/lit";
import { Text } from "./config";

/** The line being composed (also the abort handler's, k8s/panic.ts: it
 *  traps right after, so a line it overwrites is never sent). */
export const LINE: usize = memory.data(LOG_LINE_CAP);
let lineLen: i32 = 0;

/** Starts a new line with literal text `s`. */
export function lineStart(s: Lit): void {
  lineLen = 0;
  lineLit(s);
}

/** Appends literal text `s` (cut at the cap). */
export function lineLit(s: Lit): void {
  lineBytes(litPtr(s), litLen(s));
}

/** Appends bytes (ptr, len) (cut at the cap). */
export function lineBytes(ptr: usize, len: i32): void {
  const room = LOG_LINE_CAP - lineLen;
  const n = len < room ? len : room;
  if (n <= 0) return;
  memory.copy(LINE + <usize>lineLen, ptr, <usize>n);
  lineLen += n;
}

/** Appends a configuration text (lineBytes of its bytes). */
export function lineText(t: Text): void {
  lineBytes(t.ptr, t.len);
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
export function logText(level: i32, s: Lit): void {
  lineStart(s);
  lineEmit(level);
}
