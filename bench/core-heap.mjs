// Prints the core's memory figures as JSON lines (DESIGN.md "Budgets"):
// heap after 10 and 10,000 poll cycles, core.wasm size, linear memory used.
// Needs build/core.wasm (npm run build:wasm).
import fs from "node:fs";
import { CORE_WASM, loadCore, runCore } from "../tests/assembly/core-driver.mjs";

let after10 = 0;
let after10000 = 0;
await runCore(10000, (i, heap) => {
  if (i === 10) after10 = heap;
  if (i === 10000) after10000 = heap;
});
const core = await loadCore();
const lines = [
  { metric: "core_heap_after_10_polls", value: after10, unit: "bytes" },
  { metric: "core_heap_after_10000_polls", value: after10000, unit: "bytes" },
  { metric: "core_wasm_size", value: fs.statSync(CORE_WASM).size, unit: "bytes" },
  { metric: "core_linear_memory_used", value: core.ex.__heap_base.value, unit: "bytes" },
];
for (const l of lines) console.log(JSON.stringify(l));
