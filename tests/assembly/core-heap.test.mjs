// The core allocates nothing after init (DESIGN.md "The core is
// allocation-free after init"): build/core.wasm runs 10,000 poll cycles
// against the host fake and a scripted API server (registration, status
// reports, ~1,000 Lease renewals, injected failures), and the allocator's
// heap pointer (assembly/rt/bump.ts) after 10,000 cycles equals the one after 10.
// Needs build/core.wasm (npm run build:wasm).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { CORE_WASM, loadCore, runCore } from "./core-driver.mjs";

test("core.wasm exists", () => {
  assert.ok(fs.existsSync(CORE_WASM), "build/core.wasm missing: run npm run build:wasm");
});

test("heap does not grow over 10,000 poll cycles", async () => {
  let after10 = -1;
  let after10000 = -1;
  const counts = await runCore(10000, (i, heap) => {
    if (i === 10) after10 = heap;
    if (i === 10000) after10000 = heap;
  });
  assert.ok(after10 > 0);
  assert.equal(after10000, after10);
  // The run really exercised the agent: ~1,000 renewals, status reports, failures.
  assert.ok(counts.PUT >= 900, `only ${counts.PUT} Lease renewals`);
  assert.ok(counts.PATCH >= 30, `only ${counts.PATCH} status reports`);
  assert.ok(counts.POST >= 4, `only ${counts.POST} creates`);
  assert.ok(counts.failures >= 20, `only ${counts.failures} injected failures`);
});

test("init() allocates everything once, up to the exported __heap_base; nothing runs before it", async () => {
  const core = await loadCore();
  // scripts/shrink-wasm.mjs moved the start function into init(): the
  // device writes the data segments after instantiation, before init().
  const before = core.ex.heap_offset() >>> 0;
  core.ex.init(); // fails (no configuration) after the start function allocated
  const after = core.ex.heap_offset() >>> 0;
  assert.ok(after > before, "init() ran the start function");
  core.ex.init(); // a second init() allocates nothing
  assert.equal(core.ex.heap_offset() >>> 0, after);
  assert.ok(core.ex.__heap_base.value >= after);
  assert.ok(core.ex.__heap_base.value - after < 16);
  assert.ok(core.ex.__data_end.value <= after);
});

test("exports exactly the ABI's entry points", async () => {
  const mod = new WebAssembly.Module(fs.readFileSync(CORE_WASM));
  const names = WebAssembly.Module.exports(mod).map((e) => e.name).sort();
  assert.deepEqual(names, ["__data_end", "__heap_base", "event", "heap_offset", "init", "memory", "poll"]);
  for (const imp of WebAssembly.Module.imports(mod)) assert.equal(imp.module, "host");
});
