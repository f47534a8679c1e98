/*
 * Runtime adapter for WAMR (the device runtime): classic interpreter, all
 * runtime memory from one fixed pool (Alloc_With_Pool), natives registered
 * from the ABI table (shim_abi.h SHIM_ABI_IMPORTS). Pointers cross as "i"
 * (module offsets) and are bounds-checked by the shared natives, so both
 * runtimes run the same checks.
 */
#include <stdio.h>
#include <string.h>

#include "wasm_export.h"

#include "runtime/runtime.h"
#include "runtime/wamr/runtime_wamr.h"
#include "runtime/wamr/wasm_image.h"
#include "shim.h"

/* The pool WAMR allocates everything from: module copy (the classic
 * interpreter rewrites it in RAM; without the data segments' bytes, see
 * wasm_image.h), instance, linear memory, stacks. Must fit
 * core.wasm (<= 32 KB) plus its linear memory (<= 24 KB budget) with room;
 * the simulator also runs test fixtures with a 64 KiB page. */
#ifndef SHIM_WAMR_POOL_BYTES
#define SHIM_WAMR_POOL_BYTES (256u * 1024u)
#endif

/* Operand/call stack of the exec env (frames, locals, operands; it comes
 * out of the pool). Measured with the end-to-end suite under WAMR: on
 * x86-64, whose frames hold 8-byte pointers, it overflows at 3 KiB and
 * passes at 5 KiB, so this default (64-bit simulators) keeps 6 KiB; built
 * 32-bit like the device (scripts/build-sim.sh) all 37 tests pass at 3 KiB
 * and at 4 KiB and every one fails at 1 KiB, so the device and the 32-bit
 * build/sim-wamr use 4 KiB (device.cmake K3S_DEVICE_LIMITS). */
#ifndef SHIM_WAMR_STACK_BYTES
#define SHIM_WAMR_STACK_BYTES (6u * 1024u)
#endif

/* App heap WAMR adds for the module's malloc: 0, the core allocates nothing
 * through the runtime (--runtime stub). */
#ifndef SHIM_WAMR_APP_HEAP_BYTES
#define SHIM_WAMR_APP_HEAP_BYTES 0u
#endif

/* Largest module file accepted. */
#ifndef SHIM_WAMR_MODULE_MAX
#define SHIM_WAMR_MODULE_MAX (128u * 1024u)
#endif

#define SHIM_WAMR_ERROR_MAX 128

static uint8_t shim_wamr_pool[SHIM_WAMR_POOL_BYTES];
static uint8_t shim_wamr_module_buf[SHIM_WAMR_MODULE_MAX];
static uint8_t *shim_wamr_module_copy; /* in the pool, see shim_wamr_load_bytes */
static wasm_module_t shim_wamr_module;
static wasm_module_inst_t shim_wamr_inst;
static wasm_exec_env_t shim_wamr_env;
static wasm_function_inst_t shim_wamr_f_init;
static wasm_function_inst_t shim_wamr_f_poll;
static wasm_function_inst_t shim_wamr_f_event;
static char shim_wamr_error[SHIM_WAMR_ERROR_MAX];
static char shim_wamr_name[48]; /* "wamr://" + three u32 */
static int shim_wamr_runtime_up;

/* ---- natives: module "host" ----
 * One function shim_wamr_<name> per ABI table entry and the registration
 * table, both generated from SHIM_ABI_IMPORTS: each forwards its i32
 * arguments to shim_native_<name>. `i32` is defined only around the
 * expansion (wasm_val_t has a member of that name). */
#define i32 int32_t
#define SHIM_WAMR_PARAMS(...) (wasm_exec_env_t shim_wamr_e, __VA_ARGS__)
#define SHIM_WAMR_CALL_void(call) call;
#define SHIM_WAMR_CALL_i32(call) return call;
#define SHIM_WAMR_NATIVE(name, ret, params, args, sig)   \
  static ret shim_wamr_##name SHIM_WAMR_PARAMS params { \
    (void)shim_wamr_e;                                  \
    SHIM_WAMR_CALL_##ret(shim_native_##name args)       \
  }
SHIM_ABI_IMPORTS(SHIM_WAMR_NATIVE)
#undef SHIM_WAMR_NATIVE
#undef SHIM_WAMR_CALL_i32
#undef SHIM_WAMR_CALL_void
#undef SHIM_WAMR_PARAMS
#undef i32

#define SHIM_WAMR_SYMBOL(name, ret, params, args, sig) {#name, (void *)shim_wamr_##name, sig, NULL},
static NativeSymbol shim_wamr_host_symbols[] = {SHIM_ABI_IMPORTS(SHIM_WAMR_SYMBOL)};
#undef SHIM_WAMR_SYMBOL

/* AssemblyScript's default env.abort (`--use abort=` removes it): traps. */
static void shim_wamr_abort(wasm_exec_env_t e, int32_t msg, int32_t file, int32_t line,
                            int32_t col) {
  (void)msg;
  (void)file;
  shim_log(SHIM_LOG_ERROR, "core: abort at line %ld column %ld", (long)line, (long)col);
  wasm_runtime_set_exception(wasm_runtime_get_module_inst(e), "abort");
}

static NativeSymbol shim_wamr_env_symbols[] = {{"abort", (void *)shim_wamr_abort, "(iiii)", NULL}};

/* ---- adapter ---- */

static int32_t shim_wamr_read(const char *path, uint32_t *size) {
  FILE *f;
  size_t n;
  if (path == NULL) {
    snprintf(shim_wamr_error, sizeof(shim_wamr_error), "no module path (--wasm)");
    return SHIM_RT_E_LOAD;
  }
  f = fopen(path, "rb");
  if (f == NULL) {
    snprintf(shim_wamr_error, sizeof(shim_wamr_error), "cannot open %s", path);
    return SHIM_RT_E_LOAD;
  }
  n = fread(shim_wamr_module_buf, 1, sizeof(shim_wamr_module_buf), f);
  if (!feof(f) || ferror(f)) {
    fclose(f);
    snprintf(shim_wamr_error, sizeof(shim_wamr_error),
             "cannot read %s or larger than SHIM_WAMR_MODULE_MAX", path);
    return SHIM_RT_E_LOAD;
  }
  fclose(f);
  *size = (uint32_t)n;
  return SHIM_OK;
}

int32_t shim_runtime_load(const char *wasm_path) {
  uint32_t size = 0;

#ifdef SHIM_DEFAULT_WASM
  if (wasm_path == NULL) {
    wasm_path = SHIM_DEFAULT_WASM;
  }
#endif
  if (shim_wamr_read(wasm_path, &size) != SHIM_OK) {
    return SHIM_RT_E_LOAD;
  }
  return shim_wamr_load_bytes(shim_wamr_module_buf, size);
}

int32_t shim_wamr_load_bytes(const uint8_t *wasm, uint32_t size) {
  RuntimeInitArgs args;
  uint32_t pool_used = 0;
  uint32_t pool_total = 0;
  uint32_t major = 0;
  uint32_t minor = 0;
  uint32_t patch = 0;
  int32_t rc = SHIM_RT_E_LOAD;
  shim_wasm_image_t image;
  uint8_t *memory;
  uint32_t memory_size = 0;

  if (wasm == NULL || size == 0 || size > SHIM_WAMR_MODULE_MAX) {
    snprintf(shim_wamr_error, sizeof(shim_wamr_error), "module missing or larger than %lu bytes",
             (unsigned long)SHIM_WAMR_MODULE_MAX);
    return SHIM_RT_E_LOAD;
  }
  memset(&args, 0, sizeof(args));
  args.mem_alloc_type = Alloc_With_Pool;
  args.mem_alloc_option.pool.heap_buf = shim_wamr_pool;
  args.mem_alloc_option.pool.heap_size = sizeof(shim_wamr_pool);
  args.native_module_name = SHIM_ABI_MODULE;
  args.native_symbols = shim_wamr_host_symbols;
  args.n_native_symbols = sizeof(shim_wamr_host_symbols) / sizeof(shim_wamr_host_symbols[0]);
  if (!wasm_runtime_full_init(&args)) {
    snprintf(shim_wamr_error, sizeof(shim_wamr_error), "wasm_runtime_full_init failed");
    return SHIM_RT_E_LOAD;
  }
  shim_wamr_runtime_up = 1;
  wasm_runtime_register_natives("env", shim_wamr_env_symbols, 1);
  wasm_runtime_get_version(&major, &minor, &patch);
  snprintf(shim_wamr_name, sizeof(shim_wamr_name), "wamr://%lu.%lu.%lu", (unsigned long)major,
           (unsigned long)minor, (unsigned long)patch);

  /* The classic interpreter rewrites the module while loading and keeps
   * pointing into it: it gets a RAM copy from the pool that lives as long as
   * the module (so the device needs no second static buffer). The copy
   * leaves the data segments' bytes out when it can (wasm_image.h); they are
   * written from the image once the instance has its linear memory. */
  shim_wasm_image_scan(wasm, size, &image);
  shim_wamr_module_copy = wasm_runtime_malloc(image.copy_size);
  if (shim_wamr_module_copy == NULL) {
    snprintf(shim_wamr_error, sizeof(shim_wamr_error),
             "no room in the pool for the %lu-byte module", (unsigned long)image.copy_size);
    goto cleanup;
  }
  shim_wasm_image_copy(wasm, size, &image, shim_wamr_module_copy);
  shim_wamr_module = wasm_runtime_load(shim_wamr_module_copy, image.copy_size, shim_wamr_error,
                                       sizeof(shim_wamr_error));
  if (shim_wamr_module == NULL) {
    goto cleanup;
  }
  shim_wamr_inst = wasm_runtime_instantiate(shim_wamr_module, SHIM_WAMR_STACK_BYTES,
                                            SHIM_WAMR_APP_HEAP_BYTES, shim_wamr_error,
                                            sizeof(shim_wamr_error));
  if (shim_wamr_inst == NULL) {
    goto cleanup;
  }
  memory = shim_runtime_memory(&memory_size);
  if (shim_wasm_image_write_data(wasm, &image, memory, memory_size) != SHIM_OK) {
    snprintf(shim_wamr_error, sizeof(shim_wamr_error),
             "a data segment lies outside the %lu-byte linear memory", (unsigned long)memory_size);
    goto cleanup;
  }
  shim_wamr_env = wasm_runtime_create_exec_env(shim_wamr_inst, SHIM_WAMR_STACK_BYTES);
  shim_wamr_f_init = wasm_runtime_lookup_function(shim_wamr_inst, "init");
  shim_wamr_f_poll = wasm_runtime_lookup_function(shim_wamr_inst, "poll");
  shim_wamr_f_event = wasm_runtime_lookup_function(shim_wamr_inst, "event");
  if (shim_wamr_env == NULL || shim_wamr_f_init == NULL || shim_wamr_f_poll == NULL ||
      shim_wamr_f_event == NULL) {
    snprintf(shim_wamr_error, sizeof(shim_wamr_error),
             "module lacks an export (init, poll, event) or exec env");
    goto cleanup;
  }
  rc = SHIM_OK;
  shim_wamr_pool_usage(&pool_used, &pool_total);
  shim_log(SHIM_LOG_DEBUG,
           "wamr: pool peak %lu of %lu bytes after load (module %lu bytes, %lu in the pool: "
           "%lu bytes of data segments written from the image)",
           (unsigned long)pool_used, (unsigned long)pool_total, (unsigned long)size,
           (unsigned long)image.copy_size, (unsigned long)(image.split ? image.data_bytes : 0u));
cleanup:
  if (rc != SHIM_OK) {
    shim_runtime_unload();
  }
  return rc;
}

/* Calls f; on an exception records it and returns SHIM_RT_E_TRAP. */
static int32_t shim_wamr_call(wasm_function_inst_t f, uint32_t nres, wasm_val_t *res,
                              uint32_t nargs, wasm_val_t *args) {
  if (shim_wamr_inst == NULL) {
    return SHIM_RT_E_LOAD;
  }
  if (!wasm_runtime_call_wasm_a(shim_wamr_env, f, nres, res, nargs, args)) {
    const char *ex = wasm_runtime_get_exception(shim_wamr_inst);
    snprintf(shim_wamr_error, sizeof(shim_wamr_error), "%s", ex != NULL ? ex : "exception");
    return SHIM_RT_E_TRAP;
  }
  return SHIM_OK;
}

int32_t shim_runtime_init(int32_t *result) {
  wasm_val_t res[1];
  int32_t rc;
  if (result == NULL) {
    return SHIM_RT_E_LOAD;
  }
  res[0].kind = WASM_I32;
  rc = shim_wamr_call(shim_wamr_f_init, 1, res, 0, NULL);
  if (rc == SHIM_OK) {
    *result = res[0].of.i32;
  }
  return rc;
}

int32_t shim_runtime_poll(uint64_t now_ms, uint64_t wall_ms, int32_t *next_ms) {
  wasm_val_t res[1];
  wasm_val_t args[2];
  int32_t rc;
  if (next_ms == NULL) {
    return SHIM_RT_E_LOAD;
  }
  args[0].kind = WASM_I64;
  args[0].of.i64 = (int64_t)now_ms;
  args[1].kind = WASM_I64;
  args[1].of.i64 = (int64_t)wall_ms;
  res[0].kind = WASM_I32;
  rc = shim_wamr_call(shim_wamr_f_poll, 1, res, 2, args);
  if (rc == SHIM_OK) {
    *next_ms = res[0].of.i32;
  }
  return rc;
}

int32_t shim_runtime_event(int32_t handle, uint32_t flags) {
  wasm_val_t args[2];
  args[0].kind = WASM_I32;
  args[0].of.i32 = handle;
  args[1].kind = WASM_I32;
  args[1].of.i32 = (int32_t)flags;
  return shim_wamr_call(shim_wamr_f_event, 0, NULL, 2, args);
}

uint8_t *shim_runtime_memory(uint32_t *size) {
  wasm_memory_inst_t mem;
  uint64_t bytes;
  if (size != NULL) {
    *size = 0;
  }
  if (shim_wamr_inst == NULL) {
    return NULL;
  }
  mem = wasm_runtime_get_default_memory(shim_wamr_inst);
  if (mem == NULL) {
    return NULL;
  }
  bytes = wasm_memory_get_cur_page_count(mem) * wasm_memory_get_bytes_per_page(mem);
  if (size != NULL) {
    *size = bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes;
  }
  return wasm_memory_get_base_address(mem);
}

const char *shim_runtime_name(void) {
  return shim_wamr_name[0] != '\0' ? shim_wamr_name : "wamr://unknown";
}

const char *shim_runtime_last_trap(void) {
  return shim_wamr_error;
}

void shim_runtime_unload(void) {
  if (shim_wamr_env != NULL) {
    wasm_runtime_destroy_exec_env(shim_wamr_env);
    shim_wamr_env = NULL;
  }
  if (shim_wamr_inst != NULL) {
    wasm_runtime_deinstantiate(shim_wamr_inst);
    shim_wamr_inst = NULL;
  }
  if (shim_wamr_module != NULL) {
    wasm_runtime_unload(shim_wamr_module);
    shim_wamr_module = NULL;
  }
  if (shim_wamr_module_copy != NULL) {
    wasm_runtime_free(shim_wamr_module_copy);
    shim_wamr_module_copy = NULL;
  }
  if (shim_wamr_runtime_up) {
    wasm_runtime_destroy();
    shim_wamr_runtime_up = 0;
  }
}

void shim_wamr_pool_usage(uint32_t *used, uint32_t *total) {
  mem_alloc_info_t info;
  uint32_t u = 0;
  uint32_t t = 0;
  if (shim_wamr_runtime_up && wasm_runtime_get_mem_alloc_info(&info)) {
    t = info.total_size;
    u = info.highmark_size;
  }
  if (used != NULL) {
    *used = u;
  }
  if (total != NULL) {
    *total = t;
  }
}
