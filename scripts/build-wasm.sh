#!/usr/bin/env bash
# Builds the node agent: assembly/index.ts -> build/core.wasm.
#  1. asc (asconfig.json, target release): stub runtime with the core's own
#     allocator (assembly/rt/bump.ts), identical UTF-8 literals shared
#     (scripts/lit-transform.mjs), optimized for size, names kept for the
#     next step (build/core.names.wasm);
#  2. scripts/shrink-wasm.mjs: removes memory.grow/memory.size and the zero
#     stores asc emits for every field (checked against the unmodified
#     module), exports heap_offset, __heap_base (= heap end after start) and
#     __data_end, re-optimizes for size, strips names, and fails the build on
#     a foreign import, an unexpected export or a memory that can grow;
#  3. prints the budget figures (DESIGN.md "Budgets").
set -euo pipefail
cd "$(dirname "$0")/.."

# Budgets (DESIGN.md): reported, and a line says when one is exceeded.
CORE_WASM_BUDGET=32768
CORE_MEMORY_BUDGET=24576

mkdir -p build
npx asc assembly/index.ts --config asconfig.json --target release
figures=$(node scripts/shrink-wasm.mjs build/core.names.wasm build/core.wasm)
size=$(node -e 'const f=JSON.parse(process.argv[1]);console.log(f.core_wasm_size)' "$figures")
mem=$(node -e 'const f=JSON.parse(process.argv[1]);console.log(f.heap_base)' "$figures")
echo "core.wasm: ${size} bytes (budget ${CORE_WASM_BUDGET})"
echo "core linear memory used (heap end after init): ${mem} bytes (budget ${CORE_MEMORY_BUDGET})"
[ "$size" -le "$CORE_WASM_BUDGET" ] || echo "WARNING: core.wasm exceeds its budget"
[ "$mem" -le "$CORE_MEMORY_BUDGET" ] || echo "WARNING: core linear memory exceeds its budget"
