/*
 * The WASM runtime adapter: one implementation per runtime (runtime/wasm2c/,
 * runtime/wamr/), linked into a host together with the shared shim. The
 * natives reach linear memory only through shim_runtime_memory(), so both
 * runtimes share one bounds check (shim_abi.h conventions).
 *
 * Results: SHIM_OK, or one of the SHIM_RT_E_* codes below (host-internal,
 * never passed to the core).
 */
#ifndef SHIM_RUNTIME_H
#define SHIM_RUNTIME_H

#include <stdint.h>

#define SHIM_RT_E_LOAD (-201) /* the module could not be loaded / instantiated */
#define SHIM_RT_E_TRAP (-202) /* the call trapped; see shim_runtime_last_trap() */

/** Loads and instantiates the core. wasm_path names the module file for
 *  runtimes that load at run time (WAMR); wasm2c has it compiled in and
 *  ignores it (NULL is fine). */
int32_t shim_runtime_load(const char *wasm_path);

/** Calls the export init() -> i32; *result gets its value. */
int32_t shim_runtime_init(int32_t *result);

/** Calls poll(now_ms, wall_ms) -> i32; *next_ms gets its value. */
int32_t shim_runtime_poll(uint64_t now_ms, uint64_t wall_ms, int32_t *next_ms);

/** Calls event(handle, flags). */
int32_t shim_runtime_event(int32_t handle, uint32_t flags);

/** Base and byte size of the core's linear memory (NULL, 0 before load). */
uint8_t *shim_runtime_memory(uint32_t *size);

/** "<runtime>://<version>" for platform.runtime, e.g. "wasm2c://1.0.32". */
const char *shim_runtime_name(void);

/** A description of the last trap ("" if none). */
const char *shim_runtime_last_trap(void);

/** Frees the instance. */
void shim_runtime_unload(void);

#endif /* SHIM_RUNTIME_H */
