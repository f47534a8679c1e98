// Post-build step for build/core.wasm (run by scripts/build-wasm.sh).
//
// WAMR sizes a module's linear memory to its exported __heap_base when the
// module contains no memory.grow / memory.size and exports immutable
// __heap_base and __data_end globals (WAMR's wasm_loader; the WAMR blog
// "Understand the WAMR heaps"). AssemblyScript's stub runtime grows memory on
// demand and the core's allocator (assembly/rt/bump.ts) bounds itself with
// memory.size, so this step:
//   1. replaces memory.size with the fixed page count and memory.grow with a
//      failed grow (-1): allocating past the page then traps instead;
//   2. exports `heap_offset()`, a read-only getter of the allocator's bump
//      pointer (assembly/rt/bump.ts `offset`), for the heap-growth test and
//      benchmark;
//   3. drops the zero stores asc emits for every field in constructors (see
//      dropZeroFieldInits), moves the start function into init() (see
//      moveStartIntoInit), re-optimizes for size without names (binaryen
//      -Oz with ALWAYS_INLINE_MAX, until it stops shrinking) and joins close
//      data segments, then runs the module once (init() with no
//      configuration) against an inert host to find the heap end the core
//      needs, checks that asc's init() allocates nothing after its start
//      function and that the memory left equals what asc's module leaves;
//   4. exports __heap_base = that heap end and __data_end = end of static data;
//   5. verifies: imports only module "host" functions from the ABI table, the
//      exact export set, 1 page of memory (initial = maximum), no
//      memory.grow/memory.size, no start function, no memory.init/data.drop.
// Usage: node scripts/shrink-wasm.mjs <in.wasm with names> <out.wasm>
// Prints one JSON object with the figures on stdout. Exits 1 on any failure.

import binaryen from "binaryen";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: node scripts/shrink-wasm.mjs <in.wasm> <out.wasm>");
  process.exit(2);
}
function fail(msg) {
  console.error(`shrink-wasm: ${msg}`);
  process.exit(1);
}

/** Name of the allocator's bump pointer (assembly/rt/bump.ts `offset`). */
const STUB_OFFSET_GLOBAL = "assembly/rt/bump/offset";
/** The exports the host and the tests may use (shim_abi.h, "The exports the host calls"). */
const EXPECTED_EXPORTS = ["memory", "init", "poll", "event", "heap_offset", "__heap_base", "__data_end"].sort();
/** Page count of the core's memory: initial = maximum = 1 (64 KiB upper bound;
 *  WAMR then allocates only __heap_base bytes of it). */
const PAGES = 1;
/** WebAssembly features asc 0.27 emits by default and WAMR's interpreters
 *  support: sign extension, mutable globals, non-trapping float-to-int, bulk
 *  memory (memory.copy/fill). The optimizer may use nothing else. */
const FEATURES =
  binaryen.Features.MutableGlobals |
  binaryen.Features.SignExt |
  binaryen.Features.NontrappingFPToInt |
  binaryen.Features.BulkMemory |
  (binaryen.Features.BulkMemoryOpt ?? 0);

/** The import names of the ABI table (firmware-shim/include/shim_abi.h SHIM_ABI_IMPORTS). */
function abiImports() {
  const h = fs.readFileSync(path.join(here, "..", "firmware-shim", "include", "shim_abi.h"), "utf8");
  const table = h.slice(h.indexOf("#define SHIM_ABI_IMPORTS"));
  const names = [...table.matchAll(/X\((\w+),/g)].map((m) => m[1]);
  if (names.length === 0) fail("no SHIM_ABI_IMPORTS table in shim_abi.h");
  return new Set(names);
}

/** Replaces every `(memory.grow ...)` span with a failed grow, keeping the operand's effects. */
function replaceGrow(text) {
  let out = "";
  let i = 0;
  for (;;) {
    const at = text.indexOf("(memory.grow", i);
    if (at < 0) return out + text.slice(i);
    out += text.slice(i, at);
    let depth = 0;
    let j = at;
    for (; j < text.length; j++) {
      const c = text[j];
      if (c === "(") depth++;
      else if (c === ")" && --depth === 0) break;
    }
    let inner = text.slice(at + "(memory.grow".length, j).trim();
    if (inner.startsWith("$")) inner = inner.replace(/^\$\S+\s*/, ""); // memory name
    out += `(block (result i32) (drop ${inner}) (i32.const -1))`;
    i = j + 1;
  }
}

/** Drops the stores of a constant 0 that asc emits in every constructor for
 *  each field (`(call $C#set:f (local.get $n) (i32.const 0))` or a plain
 *  `(i32.store offset=k (local.get $n) (i32.const 0))`): ~190 of them, ~1.3 KB
 *  of code. They are no-ops here because every object is made while the
 *  module starts, in memory the allocator (assembly/rt/bump.ts) hands out
 *  once and never reuses, and linear memory starts zeroed. Step 3 checks it:
 *  the memory after start + init() must be byte for byte what the module
 *  with the stores leaves. */
function dropZeroFieldInits(text) {
  const funcs = text.split(/\n(?= \(func )/);
  let dropped = 0;
  const nop = () => { dropped++; return "(nop)"; };
  for (let i = 0; i < funcs.length; i++) {
    if (!/^ \(func \$\S+#constructor /.test(funcs[i])) continue;
    funcs[i] = funcs[i]
      .replace(/\(call \$\S+#set:\S+\n\s+\(local\.get \$\d+\)\n\s+\((i32|i64)\.const 0\)\n\s+\)/g, nop)
      .replace(/\((i32|i64)\.store(8|16|32)?( offset=\d+)?\n\s+\(local\.get \$\d+\)\n\s+\((i32|i64)\.const 0\)\n\s+\)/g, nop);
  }
  if (dropped === 0) fail("no zero field initialisation found in constructors: did asc's output change?");
  return funcs.join("\n");
}

/** Parses a rewritten text and adds the heap_offset() export. */
function prepare(t) {
  const m = binaryen.parseText(t);
  m.setFeatures(FEATURES);
  let hasOffset = false;
  for (let i = 0; i < m.getNumGlobals(); i++) {
    if (binaryen.getGlobalInfo(m.getGlobalByIndex(i)).name === STUB_OFFSET_GLOBAL) hasOffset = true;
  }
  if (!hasOffset) fail(`global ${STUB_OFFSET_GLOBAL} not found: build with asconfig.json (its __alloc alias) and --debug (names)`);
  m.addFunction("heap_offset", binaryen.none, binaryen.i32, [], m.global.get(STUB_OFFSET_GLOBAL, binaryen.i32));
  m.addFunctionExport("heap_offset", "heap_offset");
  if (!m.validate()) fail("module invalid after rewriting it");
  return m;
}

/** Makes the start function the first thing init() does, once, and removes
 *  the start section: nothing of the core runs while a runtime instantiates
 *  it. The device's WAMR adapter (firmware-shim/runtime/wamr/wasm_image.c)
 *  relies on it: it keeps the data segments out of its RAM copy of the
 *  module and writes them from flash into linear memory after
 *  instantiation, before init(), which is only right when no code ran
 *  before (the start function could read that data). A second init() does
 *  not run the start function again. */
function moveStartIntoInit(t) {
  const start = /\n \(start \$(\S+)\)/.exec(t);
  if (!start) fail("no start function: did asc's output change?");
  const m = prepare(t.replace(start[0], ""));
  const init = binaryen.getExportInfo(m.getExport("init")).value;
  const info = binaryen.getFunctionInfo(m.getFunction(init));
  const STARTED = "~started";
  m.addGlobal(STARTED, binaryen.i32, true, m.i32.const(0));
  const once = m.if(m.i32.eqz(m.global.get(STARTED, binaryen.i32)),
    m.block(null, [m.global.set(STARTED, m.i32.const(1)), m.call(start[1], [], binaryen.none)]));
  m.removeFunction(init);
  m.addFunction(init, info.params, info.results, info.vars, m.block(null, [once, info.body], info.results));
  if (!m.validate()) fail("module invalid after moving the start function into init()");
  return m;
}

// ---- 1 + 2: rewrite ----
binaryen.setDebugInfo(true); // keep names while we look things up
let mod = binaryen.readBinary(fs.readFileSync(input));
let text = mod.emitText();
mod.dispose();
text = text.replace(/\(memory\.size(\s+\$[^\s()]+)?\)/g, `(i32.const ${PAGES})`);
text = replaceGrow(text);
/** The module as asc made it (but for memory.grow/size): step 3's reference. */
const reference = prepare(text);
const referenceBytes = reference.emitBinary();
reference.dispose();
mod = moveStartIntoInit(dropZeroFieldInits(text));

// ---- 3: measure the heap end ----
// End of static data: the highest active data segment end (segments are named in the text form).
let dataEnd = 0;
for (const m of mod.emitText().matchAll(/\(data \$(\S+) /g)) {
  const seg = mod.getMemorySegmentInfo(m[1]);
  if (!seg.passive) dataEnd = Math.max(dataEnd, seg.offset + seg.data.byteLength);
}

/** Most bytes a merge may fill with zeros between two active data segments.
 *  Every segment costs ~6 bytes of header (flags, offset expression, length)
 *  and asc emits one per literal (hundreds), so joining neighbours saves
 *  kilobytes; a zero gap is still written out, so long gaps (the zeroed
 *  memory.data buffers) stay gaps. */
const SEGMENT_GAP_MAX = 8;

/** Joins active data segments closer than SEGMENT_GAP_MAX (after optimize(),
 *  whose memory packing would split them again). Memory contents at start are
 *  unchanged: the filled gaps are zeros, as they were. */
function mergeSegments(m) {
  const segs = [];
  // Segments are named in the text form (binaryen 123's JS API looks them up by name).
  for (const [, name] of m.emitText().matchAll(/\(data \$(\S+) /g)) {
    const info = m.getMemorySegmentInfo(name);
    if (info.passive) fail("passive data segment: not expected from asc");
    segs.push({ offset: info.offset, data: new Uint8Array(info.data.slice(0)) });
  }
  segs.sort((a, b) => a.offset - b.offset);
  const merged = [];
  for (const s of segs) {
    const last = merged[merged.length - 1];
    const lastEnd = last ? last.offset + last.data.length : 0;
    if (last && s.offset < lastEnd) fail("overlapping data segments");
    if (last && s.offset - lastEnd <= SEGMENT_GAP_MAX) {
      const data = new Uint8Array(s.offset + s.data.length - last.offset);
      data.set(last.data, 0);
      data.set(s.data, s.offset - last.offset);
      last.data = data;
    } else {
      merged.push({ offset: s.offset, data: s.data });
    }
  }
  const memInfo = m.getMemoryInfo();
  let exportName = null;
  for (let i = 0; i < m.getNumExports(); i++) {
    const e = binaryen.getExportInfo(m.getExportByIndex(i));
    if (e.kind === binaryen.ExternalMemory) exportName = e.name;
  }
  if (exportName !== null) m.removeExport(exportName);
  m.setMemory(memInfo.initial, memInfo.max, exportName,
    merged.map((s) => ({ offset: m.i32.const(s.offset), data: s.data, passive: false })));
  if (!m.validate()) fail("module invalid after merging data segments");
}

/** Binaryen inlines functions up to this size at every call site (its -Oz
 *  default is 2). 3 also inlines asc's one-store field setters and
 *  one-load helpers, whose calls cost more bytes than their bodies:
 *  measured -0.9 KB of code (3 beats 2, 4 and 5). */
const ALWAYS_INLINE_MAX = 3;

/** Runs the size pipeline until the binary stops shrinking (asc --converge). */
function optimizeConverged(m) {
  let size = m.emitBinary().length;
  for (;;) {
    m.optimize();
    const next = m.emitBinary().length;
    if (next >= size) return;
    size = next;
  }
}

async function measure(bytes) {
  let memory = null;
  const host = {
    log() {},
    config_get() { return -7; }, // E_NOTFOUND: init() stops at the first required key
    random_fill(ptr, len) { new Uint8Array(memory.buffer, ptr, len).fill(0x5a); return len; },
    net_connect() { return -4; },
    net_send() { return -4; },
    net_recv() { return -4; },
    net_close() { return -4; },
    devmem_read() { return -4; },
    devmem_commit() { return -4; },
    key_ensure() { return -13; },
    csr_create() { return -13; },
    cert_stage() { return -13; },
    cert_install() { return -13; },
    cert_info() { return -7; },
    net_listen() { return -13; },
    net_accept() { return -1; },
    net_peer() { return -4; },
    net_alpn() { return -4; },
    stats_read() { return 0; },
  };
  // asc's start function runs during instantiation and only allocates;
  // memory is attached right after, before anything calls the host.
  const { instance } = await WebAssembly.instantiate(bytes, { host });
  memory = instance.exports.memory;
  const afterInstantiate = instance.exports.heap_offset() >>> 0;
  const rc = instance.exports.init();
  const afterInit = instance.exports.heap_offset() >>> 0;
  instance.exports.init(); // a second init() must not allocate again
  const afterSecondInit = instance.exports.heap_offset() >>> 0;
  return { afterInstantiate, afterInit, afterSecondInit, rc, image: new Uint8Array(memory.buffer).slice() };
}

binaryen.setDebugInfo(false);
binaryen.setOptimizeLevel(2);
binaryen.setShrinkLevel(2);
binaryen.setAlwaysInlineMaxSize(ALWAYS_INLINE_MAX);
optimizeConverged(mod);
mergeSegments(mod);
const probe = await measure(mod.emitBinary());
const expected = await measure(referenceBytes);
if (expected.afterInit !== expected.afterInstantiate) {
  fail(`init() allocated ${expected.afterInit - expected.afterInstantiate} bytes: everything must be allocated at module start`);
}
if (probe.afterInit !== expected.afterInit || Buffer.compare(probe.image, expected.image) !== 0) {
  fail("memory after init() differs from asc's module: a dropped zero store was not a no-op");
}
if (probe.afterSecondInit !== probe.afterInit) fail("a second init() ran the start function again");
const heapEnd = (probe.afterInit + 15) & ~15;
if (heapEnd > PAGES * 65536) fail(`heap end ${heapEnd} exceeds ${PAGES} page(s)`);

// ---- 4: the globals WAMR reads ----
mod.addGlobal("__heap_base", binaryen.i32, false, mod.i32.const(heapEnd));
mod.addGlobalExport("__heap_base", "__heap_base");
mod.addGlobal("__data_end", binaryen.i32, false, mod.i32.const(dataEnd));
mod.addGlobalExport("__data_end", "__data_end");
if (!mod.validate()) fail("module invalid after adding __heap_base/__data_end");
const finalText = mod.emitText();
const out = mod.emitBinary();
mod.dispose();

// ---- 5: verify ----
if (/memory\.(grow|size)/.test(finalText)) fail("memory.grow or memory.size still present");
if (/\n \(start /.test(finalText)) fail("a start function is left");
if (/memory\.init|data\.drop/.test(finalText)) fail("memory.init or data.drop: data segments must be active only");
const compiled = new WebAssembly.Module(out);
const allowed = abiImports();
for (const imp of WebAssembly.Module.imports(compiled)) {
  if (imp.module !== "host" || imp.kind !== "function" || !allowed.has(imp.name)) {
    fail(`unexpected import ${imp.module}.${imp.name} (${imp.kind}): only module "host" functions of shim_abi.h`);
  }
}
const exports = WebAssembly.Module.exports(compiled).map((e) => e.name).sort();
if (JSON.stringify(exports) !== JSON.stringify(EXPECTED_EXPORTS)) {
  fail(`exports are ${exports.join(",")}; expected ${EXPECTED_EXPORTS.join(",")}`);
}
const mem = /\(memory \$\S+ (\d+) (\d+)\)/.exec(finalText);
if (!mem || Number(mem[1]) !== PAGES || Number(mem[2]) !== PAGES) {
  fail(`memory must be ${PAGES} page initial = maximum (found ${mem ? mem[0] : "none"})`);
}
const check = await measure(out);
if (check.afterInit !== probe.afterInit) fail("heap end changed after adding the globals");

fs.writeFileSync(output, out);
console.log(JSON.stringify({ core_wasm_size: out.length, heap_base: heapEnd, data_end: dataEnd, heap_after_init: probe.afterInit }));
