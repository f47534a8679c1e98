/*
 * Runtime adapter for wasm2c (wabt): the core is translated to C at build time
 * (`wasm2c core.wasm -n core`) and linked in, so shim_runtime_load() ignores
 * its path. Imports are the functions Z_hostZ_<name>, generated from the ABI
 * table; each forwards to the shared native. Traps longjmp back to
 * wasm_rt_impl_try() around each call.
 */
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "core_imports.h" /* generated: which import modules the core has */
#include "wasm-rt-impl.h"

#include "runtime/runtime.h"
#include "shim.h"

#ifndef SHIM_WASM2C_VERSION
#define SHIM_WASM2C_VERSION "unknown"
#endif

/* wasm2c passes this to every import of module "host"; the natives keep
 * their state themselves, so it carries nothing. */
struct Z_host_instance_t {
  int unused;
};

static struct Z_host_instance_t shim_w2c_host;
static Z_core_instance_t shim_w2c_core;
static int shim_w2c_loaded;
static char shim_w2c_trap[96];

/* ---- imports: module "host" (shim_abi.h SHIM_ABI_IMPORTS) ----
 * One function Z_hostZ_<name> per table entry, generated: wasm2c passes every
 * i32 as u32 after the instance pointer, and each forwards to
 * shim_native_<name> (whose parameters convert the u32 back). core.h
 * declares the imports the module uses; a mismatch with the table is a
 * compile error here, and imports the module does not use are harmless. */
#define i32 u32
#define SHIM_W2C_PARAMS(...) (struct Z_host_instance_t * shim_w2c_h, __VA_ARGS__)
#define SHIM_W2C_CALL_void(call) call;
#define SHIM_W2C_CALL_i32(call) return (u32)call;
#define SHIM_W2C_IMPORT(name, ret, params, args, sig) \
  ret Z_hostZ_##name SHIM_W2C_PARAMS params {         \
    (void)shim_w2c_h;                                 \
    SHIM_W2C_CALL_##ret(shim_native_##name args)      \
  }
SHIM_ABI_IMPORTS(SHIM_W2C_IMPORT)
#undef SHIM_W2C_IMPORT
#undef SHIM_W2C_CALL_i32
#undef SHIM_W2C_CALL_void
#undef SHIM_W2C_PARAMS
#undef i32

#if SHIM_W2C_IMPORTS_ENV
/* AssemblyScript's default abort import (`--use abort=` removes it): a module
 * that calls it is dead, so it traps. */
struct Z_env_instance_t {
  int unused;
};
static struct Z_env_instance_t shim_w2c_env;

void Z_envZ_abort(struct Z_env_instance_t *e, u32 msg, u32 file, u32 line, u32 col) {
  (void)e;
  (void)msg;
  (void)file;
  shim_log(SHIM_LOG_ERROR, "core: abort at line %lu column %lu", (unsigned long)line,
           (unsigned long)col);
  wasm_rt_trap(WASM_RT_TRAP_UNREACHABLE);
}
#endif

static int32_t shim_w2c_trapped(wasm_rt_trap_t code) {
  snprintf(shim_w2c_trap, sizeof(shim_w2c_trap), "wasm trap %d (%s)", (int)code,
           wasm_rt_strerror(code));
  return SHIM_RT_E_TRAP;
}

int32_t shim_runtime_load(const char *wasm_path) {
  wasm_rt_trap_t code;
  (void)wasm_path; /* compiled in */
  if (shim_w2c_loaded) {
    return SHIM_OK;
  }
  wasm_rt_init();
  Z_core_init_module();
  /* Instantiation runs the data segments and start function: it can trap. */
  code = wasm_rt_impl_try();
  if (code != WASM_RT_TRAP_NONE) {
    shim_w2c_trapped(code);
    return SHIM_RT_E_LOAD;
  }
  /* wasm2c passes one instance pointer per imported module, in order. */
#if SHIM_W2C_IMPORTS_HOST && SHIM_W2C_IMPORTS_ENV && SHIM_W2C_ENV_FIRST
  Z_core_instantiate(&shim_w2c_core, &shim_w2c_env, &shim_w2c_host);
#elif SHIM_W2C_IMPORTS_HOST && SHIM_W2C_IMPORTS_ENV
  Z_core_instantiate(&shim_w2c_core, &shim_w2c_host, &shim_w2c_env);
#elif SHIM_W2C_IMPORTS_HOST
  Z_core_instantiate(&shim_w2c_core, &shim_w2c_host);
#elif SHIM_W2C_IMPORTS_ENV
  Z_core_instantiate(&shim_w2c_core, &shim_w2c_env);
#else
  (void)shim_w2c_host;
  Z_core_instantiate(&shim_w2c_core);
#endif
  shim_w2c_loaded = 1;
  return SHIM_OK;
}

int32_t shim_runtime_init(int32_t *result) {
  wasm_rt_trap_t code;
  if (!shim_w2c_loaded || result == NULL) {
    return SHIM_RT_E_LOAD;
  }
  code = wasm_rt_impl_try();
  if (code != WASM_RT_TRAP_NONE) {
    return shim_w2c_trapped(code);
  }
  *result = (int32_t)Z_coreZ_init(&shim_w2c_core);
  return SHIM_OK;
}

int32_t shim_runtime_poll(uint64_t now_ms, uint64_t wall_ms, int32_t *next_ms) {
  wasm_rt_trap_t code;
  if (!shim_w2c_loaded || next_ms == NULL) {
    return SHIM_RT_E_LOAD;
  }
  code = wasm_rt_impl_try();
  if (code != WASM_RT_TRAP_NONE) {
    return shim_w2c_trapped(code);
  }
  *next_ms = (int32_t)Z_coreZ_poll(&shim_w2c_core, now_ms, wall_ms);
  return SHIM_OK;
}

int32_t shim_runtime_event(int32_t handle, uint32_t flags) {
  wasm_rt_trap_t code;
  if (!shim_w2c_loaded) {
    return SHIM_RT_E_LOAD;
  }
  code = wasm_rt_impl_try();
  if (code != WASM_RT_TRAP_NONE) {
    return shim_w2c_trapped(code);
  }
  Z_coreZ_event(&shim_w2c_core, (u32)handle, flags);
  return SHIM_OK;
}

uint8_t *shim_runtime_memory(uint32_t *size) {
  wasm_rt_memory_t *mem;
  if (!shim_w2c_loaded) {
    if (size != NULL) {
      *size = 0;
    }
    return NULL;
  }
  mem = Z_coreZ_memory(&shim_w2c_core);
  if (size != NULL) {
    *size = mem->size;
  }
  return mem->data;
}

const char *shim_runtime_name(void) {
  return "wasm2c://" SHIM_WASM2C_VERSION;
}

const char *shim_runtime_last_trap(void) {
  return shim_w2c_trap;
}

void shim_runtime_unload(void) {
  if (shim_w2c_loaded) {
    Z_core_free(&shim_w2c_core);
    wasm_rt_free();
    shim_w2c_loaded = 0;
  }
}
