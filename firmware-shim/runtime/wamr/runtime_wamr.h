/*
 * WAMR adapter functions beyond runtime/runtime.h, for hosts that hold the
 * module in memory instead of a file (the device: a flash region).
 */
#ifndef SHIM_RUNTIME_WAMR_H
#define SHIM_RUNTIME_WAMR_H

#include <stdint.h>

/** Loads and instantiates the core from size bytes at wasm (copied into the
 *  adapter's module buffer, SHIM_WAMR_MODULE_MAX, which the classic
 *  interpreter rewrites). Same results as shim_runtime_load. */
int32_t shim_wamr_load_bytes(const uint8_t *wasm, uint32_t size);

/** Bytes of WAMR's pool in use and its size (Alloc_With_Pool), for the
 *  device's memory report; 0, 0 before load. */
void shim_wamr_pool_usage(uint32_t *used, uint32_t *total);

#endif /* SHIM_RUNTIME_WAMR_H */
