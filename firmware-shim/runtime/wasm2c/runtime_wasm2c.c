/*
 * Runtime adapter for wasm2c (wabt): the core is translated to C at build time
 * (`wasm2c core.wasm -n core`) and linked in, so shim_runtime_load() ignores
 * its path. Imports are the functions Z_hostZ_<name>; each forwards to the
 * shared native. Traps longjmp back to wasm_rt_impl_try() around each call.
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

/* ---- imports: module "host" (shim_abi.h SHIM_ABI_IMPORTS) ---- */

void Z_hostZ_log(struct Z_host_instance_t *h, u32 level, u32 ptr, u32 len) {
  (void)h;
  shim_native_log((int32_t)level, ptr, len);
}

u32 Z_hostZ_config_get(struct Z_host_instance_t *h, u32 kptr, u32 klen, u32 optr, u32 ocap) {
  (void)h;
  return (u32)shim_native_config_get(kptr, klen, optr, ocap);
}

u32 Z_hostZ_random_fill(struct Z_host_instance_t *h, u32 ptr, u32 len) {
  (void)h;
  return (u32)shim_native_random_fill(ptr, len);
}

u32 Z_hostZ_net_connect(struct Z_host_instance_t *h, u32 hptr, u32 hlen, u32 port, u32 flags) {
  (void)h;
  return (u32)shim_native_net_connect(hptr, hlen, (int32_t)port, (int32_t)flags);
}

u32 Z_hostZ_net_send(struct Z_host_instance_t *h, u32 handle, u32 ptr, u32 len) {
  (void)h;
  return (u32)shim_native_net_send((int32_t)handle, ptr, len);
}

u32 Z_hostZ_net_recv(struct Z_host_instance_t *h, u32 handle, u32 ptr, u32 cap) {
  (void)h;
  return (u32)shim_native_net_recv((int32_t)handle, ptr, cap);
}

u32 Z_hostZ_net_close(struct Z_host_instance_t *h, u32 handle) {
  (void)h;
  return (u32)shim_native_net_close((int32_t)handle);
}

u32 Z_hostZ_devmem_read(struct Z_host_instance_t *h, u32 ptr, u32 cap) {
  (void)h;
  return (u32)shim_native_devmem_read(ptr, cap);
}

u32 Z_hostZ_devmem_commit(struct Z_host_instance_t *h, u32 ptr, u32 len) {
  (void)h;
  return (u32)shim_native_devmem_commit(ptr, len);
}

u32 Z_hostZ_key_ensure(struct Z_host_instance_t *h, u32 slot) {
  (void)h;
  return (u32)shim_native_key_ensure((int32_t)slot);
}

u32 Z_hostZ_csr_create(struct Z_host_instance_t *h, u32 slot, u32 cnptr, u32 cnlen, u32 orgptr,
                       u32 orglen, u32 optr, u32 ocap) {
  (void)h;
  return (u32)shim_native_csr_create((int32_t)slot, cnptr, cnlen, orgptr, orglen, optr, ocap);
}

u32 Z_hostZ_cert_stage(struct Z_host_instance_t *h, u32 slot, u32 ptr, u32 len) {
  (void)h;
  return (u32)shim_native_cert_stage((int32_t)slot, ptr, len);
}

u32 Z_hostZ_cert_install(struct Z_host_instance_t *h, u32 slot) {
  (void)h;
  return (u32)shim_native_cert_install((int32_t)slot);
}

u32 Z_hostZ_cert_info(struct Z_host_instance_t *h, u32 slot, u32 optr, u32 ocap) {
  (void)h;
  return (u32)shim_native_cert_info((int32_t)slot, optr, ocap);
}

/* Every entry of the ABI table must have its import above: this fails to
 * compile (undeclared Z_hostZ_<name>) when the table grows without it. */
#define SHIM_W2C_CHECK(name, ret, params, sig) (void (*)(void)) Z_hostZ_##name,
static void (*const shim_w2c_table[])(void) = {SHIM_ABI_IMPORTS(SHIM_W2C_CHECK)};
#undef SHIM_W2C_CHECK

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
  (void)shim_w2c_table;
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
