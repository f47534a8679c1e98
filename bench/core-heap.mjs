// Prints the core's memory figures as JSON lines (DESIGN.md "Budgets"):
// heap after 10 and 10,000 poll cycles, core.wasm size, linear memory used.
// Needs build/core.wasm (npm run build:wasm).
import fs from "node:fs";
import { CORE_WASM, loadCore, runCore } from "../tests/assembly/core-driver.mjs";
import { out } from "./lib.mjs";

let after10 = 0;
let after10000 = 0;
await runCore(10000, (i, heap) => {
  if (i === 10) after10 = heap;
  if (i === 10000) after10000 = heap;
});
const core = await loadCore();
out("core_heap_after_10_polls", after10, "bytes");
out("core_heap_after_10000_polls", after10000, "bytes");
out("core_wasm_size", fs.statSync(CORE_WASM).size, "bytes");
out("core_linear_memory_used", core.ex.__heap_base.value, "bytes");
