// The module's abort handler (asc --use abort=assembly/k8s/panic/coreAbort):
// AssemblyScript calls it for bugs only (failed assert, out-of-bounds array
// index, out of memory); outside input never gets here (STYLE.md habit 1).
// It logs through the host, then traps, so the host sees a dead module and
// can restart it. The module imports nothing but module "host".

import { log, LOG_ERROR } from "../host/imports";
import { LOG_LINE_CAP } from "../util/limits";
import { Lit, litLen, litPtr, utf8 } from "../util/lit";
import { LINE } from "./log";

/** Bytes of the abort line; longer text is cut. */
const PANIC_LINE_CAP: i32 = LOG_LINE_CAP;
/** The abort line is composed in the log line buffer (no buffer of its own:
 *  nothing is logged after it, the module traps). */
const PANIC: usize = LINE;
let panicLen: i32 = 0;

function put(s: string): void {
  for (let i = 0, n = s.length; i < n && panicLen < PANIC_LINE_CAP; i++) {
    const c = s.charCodeAt(i);
    store<u8>(PANIC + <usize>panicLen, c < 0x80 ? c : 0x3f);
    panicLen++;
  }
}

function putLit(l: Lit): void {
  for (let i = 0, n = litLen(l); i < n && panicLen < PANIC_LINE_CAP; i++) {
    store<u8>(PANIC + <usize>panicLen, load<u8>(litPtr(l) + <usize>i));
    panicLen++;
  }
}

function putU32(v: u32): void {
  let div: u32 = 1000000000;
  let started = false;
  while (div > 0 && panicLen < PANIC_LINE_CAP) {
    const d = (v / div) % 10;
    if (d != 0 || started || div == 1) {
      store<u8>(PANIC + <usize>panicLen, 0x30 + d);
      panicLen++;
      started = true;
    }
    div /= 10;
  }
}

/** Logs "core: abort: <message> at <file>:<line>:<column>" and traps. */
export function coreAbort(message: string | null, fileName: string | null, lineNumber: u32, columnNumber: u32): void {
  panicLen = 0;
  putLit(utf8("core: abort: "));
  if (message !== null) put(message);
  putLit(utf8(" at "));
  if (fileName !== null) put(fileName);
  putLit(utf8(":"));
  putU32(lineNumber);
  putLit(utf8(":"));
  putU32(columnNumber);
  log(LOG_ERROR, PANIC, panicLen);
  unreachable();
}
