/*
 * Sizes of the WAMR structures the pool holds, as symbols: compiled for the
 * measuring build (gcc -m32) and for the device (arm-none-eabi-gcc,
 * cortex-m0plus) with the same WAMR options, `nm -S` on both objects shows
 * whether the 32-bit host lays them out as the M0+ does
 * (bench/wamr-pool.mjs compares them). Never linked or run.
 */
#include "wasm_runtime.h"
#include "wasm_exec_env.h"
#include "wasm_interp.h"
#include "ems_gc_internal.h"

/* One array per structure, sizeof(T) bytes long: its symbol size is the
 * structure's size (-fno-common keeps each in .bss with its size). */
#define WAMR_LAYOUT(T) char wamr_layout_##T[sizeof(T)];

WAMR_LAYOUT(WASMModule)
WAMR_LAYOUT(WASMFunction)
WAMR_LAYOUT(WASMFuncType)
WAMR_LAYOUT(WASMImport)
WAMR_LAYOUT(WASMExport)
WAMR_LAYOUT(WASMGlobal)
WAMR_LAYOUT(WASMMemory)
WAMR_LAYOUT(WASMTable)
WAMR_LAYOUT(WASMTableSeg)
WAMR_LAYOUT(WASMDataSeg)
WAMR_LAYOUT(WASMBranchBlock)
WAMR_LAYOUT(WASMModuleInstance)
WAMR_LAYOUT(WASMModuleInstanceExtra)
WAMR_LAYOUT(WASMFunctionInstance)
WAMR_LAYOUT(WASMGlobalInstance)
WAMR_LAYOUT(WASMMemoryInstance)
WAMR_LAYOUT(WASMTableInstance)
WAMR_LAYOUT(WASMExportFuncInstance)
WAMR_LAYOUT(WASMExecEnv)
WAMR_LAYOUT(WASMInterpFrame)
WAMR_LAYOUT(NativeSymbol)
WAMR_LAYOUT(gc_heap_t)
WAMR_LAYOUT(hmu_t)
