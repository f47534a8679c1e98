/*
 * wamr-pool: loads core.wasm into WAMR's fixed pool the way the firmware
 * does (runtime/wamr/runtime_wamr.c: Alloc_With_Pool, the module copied into
 * the pool without its data segments' bytes, which are written into linear
 * memory after instantiation (runtime/wamr/wasm_image.h), classic interpreter, the same stack and app-heap sizes), runs
 * init() and poll() against an inert host, and prints the pool's use after
 * each step as one JSON object on stdout.
 *
 * The host imports are shim_abi.h's table (SHIM_ABI_IMPORTS): the
 * registration is generated from it, so a new import without an inert
 * answer here fails the build. The answers: a small realistic config, a
 * client certificate in slot 0 (so the agent goes on to register its Node),
 * and net_connect failing with SHIM_E_CONNECT, so nothing connects and the
 * agent keeps retrying with backoff.
 *
 * Pool figures come from wasm_runtime_get_mem_alloc_info (wasm_export.h:
 * "Get memory info, only pool mode is supported now"): total_size is the
 * pool minus the allocator's own header, highmark_size the most bytes ever
 * in use (block headers included).
 *
 * Usage: wamr-pool --wasm FILE --pool BYTES --stack BYTES --heap BYTES
 *                  [--polls N] [--verbose]
 * Exit 0 when every step succeeded, 1 when one failed (the JSON then says
 * which, so a caller can search for the smallest pool that works), 2 on bad
 * arguments.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm_export.h"

#include "runtime/wamr/wasm_image.h"
#include "shim_abi.h"

/* Largest pool and module this tool accepts (the device's are 108 KiB and
 * 40 KiB; room to measure a larger core or a larger pool). */
#define WAMR_POOL_MAX (1024u * 1024u)
#define WAMR_MODULE_MAX (512u * 1024u)

/* The device's pool is a uint8_t array in .bss that the linker places 4 bytes
 * past an 8-byte boundary today (k3s_pico_node.elf.map); WAMR's allocator
 * aligns its start up to 8 (mem-alloc/ems/ems_kfc.c, gc_init_with_pool), so
 * the pool here starts at such an address too: the worst case. */
static uint8_t wamr_pool_area[WAMR_POOL_MAX + 8] __attribute__((aligned(8)));
#define WAMR_POOL_START (wamr_pool_area + 4)

static uint8_t wamr_module_file[WAMR_MODULE_MAX];

/* Time the inert host reports: monotonic ms and a fixed Unix epoch base
 * (2026-01-01T00:00:00Z) so certificate dates and the wall clock agree. */
#define WAMR_WALL_BASE_MS INT64_C(1767225600000)
static int64_t wamr_now_ms = 1000;
static int wamr_verbose;
static uint32_t wamr_log_lines;
static uint32_t wamr_connects;

/* ---- inert host ---- */

/* The realistic part of the config: what init() needs to start joining
 * (assembly/host/config.ts) and the platform.* facts the device's natives
 * answer (src/natives.c, port/pico/platform.c). Anything else: not found. */
static const struct {
  const char *key;
  const char *value;
} wamr_config[] = {
    {"node.name", "pico-node-1"},
    {"server.host", "k3s.example.internal"},
    {"node.ip", "192.0.2.10"}, /* RFC 5737 documentation range */
    {"platform.arch", "arm"},
    {"platform.os", "none"},
    {"platform.runtime", "wamr://2.4.5"},
    {"platform.os_image", "k3s-pico-node firmware (Raspberry Pi Pico W)"},
    {"platform.kernel_version", "pico-sdk 2.1.1"},
    {"platform.machine_id", "0123456789abcdef0123456789abcdef"},
    {"platform.memory_bytes", "270336"},
    {"platform.memory_allocatable_bytes", "65536"},
    {"platform.cpu_cores", "2"},
    {"platform.devmem_bytes", "256"},
};

/* (ptr, len) in the module's memory as a host pointer, or NULL when outside. */
static uint8_t *wamr_range(wasm_exec_env_t e, int32_t ptr, int32_t len) {
  wasm_module_inst_t inst = wasm_runtime_get_module_inst(e);
  if (len < 0 || !wasm_runtime_validate_app_addr(inst, (uint64_t)(uint32_t)ptr, (uint64_t)len)) {
    return NULL;
  }
  return wasm_runtime_addr_app_to_native(inst, (uint64_t)(uint32_t)ptr);
}

/* Prototypes from the ABI table: each inert answer below must match it. */
#define i32 int32_t
#define WAMR_POOL_PARAMS(...) (wasm_exec_env_t e, __VA_ARGS__)
#define WAMR_POOL_PROTO(name, ret, params, args, sig) \
  static ret wamr_host_##name WAMR_POOL_PARAMS params;
SHIM_ABI_IMPORTS(WAMR_POOL_PROTO)
#undef WAMR_POOL_PROTO

static void wamr_host_log(wasm_exec_env_t e, i32 level, i32 ptr, i32 len) {
  const uint8_t *msg = wamr_range(e, ptr, len);
  wamr_log_lines++;
  if (wamr_verbose && msg != NULL) {
    fprintf(stderr, "core[%" PRId32 "]: %.*s\n", level, (int)len, (const char *)msg);
  }
}

static i32 wamr_host_config_get(wasm_exec_env_t e, i32 kptr, i32 klen, i32 optr, i32 ocap) {
  const uint8_t *key = wamr_range(e, kptr, klen);
  uint8_t *out = wamr_range(e, optr, ocap);
  size_t i;
  size_t n;
  if (key == NULL || out == NULL) {
    return SHIM_E_BADPTR;
  }
  for (i = 0; i < sizeof(wamr_config) / sizeof(wamr_config[0]); i++) {
    if (strlen(wamr_config[i].key) == (size_t)klen && memcmp(key, wamr_config[i].key, klen) == 0) {
      n = strlen(wamr_config[i].value);
      if (n > (size_t)ocap) {
        return SHIM_E_TOOLARGE;
      }
      memcpy(out, wamr_config[i].value, n);
      return (i32)n;
    }
  }
  if (klen == 11 && memcmp(key, "abi.version", 11) == 0) {
    n = (size_t)snprintf((char *)out, (size_t)ocap, "%d", SHIM_ABI_VERSION);
    return n > (size_t)ocap ? SHIM_E_TOOLARGE : (i32)n;
  }
  return SHIM_E_NOTFOUND;
}

static i32 wamr_host_random_fill(wasm_exec_env_t e, i32 ptr, i32 len) {
  uint8_t *buf = wamr_range(e, ptr, len);
  i32 i;
  if (buf == NULL) {
    return SHIM_E_BADPTR;
  }
  for (i = 0; i < len; i++) {
    buf[i] = (uint8_t)rand();
  }
  return len;
}

static i32 wamr_host_net_connect(wasm_exec_env_t e, i32 hptr, i32 hlen, i32 port, i32 flags) {
  (void)e;
  (void)hptr;
  (void)hlen;
  (void)port;
  (void)flags;
  wamr_connects++;
  return SHIM_E_CONNECT;
}

/* No connection is ever open: every handle is invalid. */
static i32 wamr_host_net_send(wasm_exec_env_t e, i32 h, i32 ptr, i32 len) {
  (void)e, (void)h, (void)ptr, (void)len;
  return SHIM_E_INVAL;
}

static i32 wamr_host_net_recv(wasm_exec_env_t e, i32 h, i32 ptr, i32 cap) {
  (void)e, (void)h, (void)ptr, (void)cap;
  return SHIM_E_INVAL;
}

static i32 wamr_host_net_close(wasm_exec_env_t e, i32 h) {
  (void)e, (void)h;
  return SHIM_E_INVAL;
}

static i32 wamr_host_net_listen(wasm_exec_env_t e, i32 port, i32 flags) {
  (void)e, (void)port, (void)flags;
  return SHIM_E_UNSUPPORTED;
}

static i32 wamr_host_net_accept(wasm_exec_env_t e, i32 lh) {
  (void)e, (void)lh;
  return SHIM_E_INVAL;
}

static i32 wamr_host_net_peer(wasm_exec_env_t e, i32 h, i32 optr, i32 ocap) {
  (void)e, (void)h, (void)optr, (void)ocap;
  return SHIM_E_INVAL;
}

static i32 wamr_host_net_alpn(wasm_exec_env_t e, i32 h, i32 optr, i32 ocap) {
  (void)e, (void)h, (void)optr, (void)ocap;
  return SHIM_E_INVAL;
}

static i32 wamr_host_devmem_read(wasm_exec_env_t e, i32 ptr, i32 cap) {
  (void)e, (void)ptr, (void)cap;
  return 0;
}

static i32 wamr_host_devmem_commit(wasm_exec_env_t e, i32 ptr, i32 len) {
  (void)e, (void)ptr;
  return len;
}

static i32 wamr_host_key_ensure(wasm_exec_env_t e, i32 slot) {
  (void)e, (void)slot;
  return SHIM_OK;
}

static i32 wamr_host_csr_create(wasm_exec_env_t e, i32 slot, i32 cnptr, i32 cnlen, i32 orgptr,
                                i32 orglen, i32 optr, i32 ocap) {
  (void)e, (void)slot, (void)cnptr, (void)cnlen, (void)orgptr, (void)orglen, (void)optr, (void)ocap;
  return SHIM_E_UNSUPPORTED;
}

static i32 wamr_host_cert_stage(wasm_exec_env_t e, i32 slot, i32 ptr, i32 len) {
  (void)e, (void)slot, (void)ptr, (void)len;
  return SHIM_E_UNSUPPORTED;
}

static i32 wamr_host_cert_install(wasm_exec_env_t e, i32 slot) {
  (void)e, (void)slot;
  return SHIM_E_UNSUPPORTED;
}

/* Slot 0 holds a node-issued client certificate valid for a year (notBefore,
 * notAfter as little-endian i64 Unix ms, assembly/k8s/identity.ts readInfo);
 * slot 1 (serving) none yet. */
static i32 wamr_host_cert_info(wasm_exec_env_t e, i32 slot, i32 optr, i32 ocap) {
  uint8_t *out = wamr_range(e, optr, ocap);
  int64_t dates[2] = {WAMR_WALL_BASE_MS - 3600000, WAMR_WALL_BASE_MS + INT64_C(31536000000)};
  int i;
  if (out == NULL) {
    return SHIM_E_BADPTR;
  }
  if (slot != SHIM_KEY_SLOT_CLIENT) {
    return SHIM_E_NOTFOUND;
  }
  if (ocap < 16) {
    return SHIM_E_TOOLARGE;
  }
  for (i = 0; i < 16; i++) {
    out[i] = (uint8_t)((uint64_t)dates[i / 8] >> (8 * (i % 8)));
  }
  return SHIM_CERT_SOURCE_NODE;
}

static i32 wamr_host_stats_read(wasm_exec_env_t e, i32 optr, i32 ocap) {
  (void)e, (void)optr, (void)ocap;
  return 0;
}

#define WAMR_POOL_SYMBOL(name, ret, params, args, sig) {#name, (void *)wamr_host_##name, sig, NULL},
static NativeSymbol wamr_host_symbols[] = {SHIM_ABI_IMPORTS(WAMR_POOL_SYMBOL)};
#undef WAMR_POOL_SYMBOL
#undef WAMR_POOL_PARAMS
#undef i32

/* AssemblyScript's env.abort, registered like the firmware does (the shrunk
 * core imports none; unused imports are allowed). */
static void wamr_env_abort(wasm_exec_env_t e, int32_t msg, int32_t file, int32_t line,
                           int32_t col) {
  (void)msg, (void)file;
  fprintf(stderr, "wamr-pool: core abort at line %" PRId32 " column %" PRId32 "\n", line, col);
  wasm_runtime_set_exception(wasm_runtime_get_module_inst(e), "abort");
}

static NativeSymbol wamr_env_symbols[] = {{"abort", (void *)wamr_env_abort, "(iiii)", NULL}};

/* WAMR's pico platform asks the shim's port for time (port.h). */
uint64_t port_now_ms(void) {
  return (uint64_t)wamr_now_ms;
}

/* ---- measurement ---- */

/* One row of the breakdown: bytes in use now and the high-water mark. */
typedef struct {
  const char *name;
  uint32_t used;
  uint32_t peak;
} wamr_step;

#define WAMR_STEPS_MAX 8
static wamr_step wamr_steps[WAMR_STEPS_MAX];
static int wamr_nsteps;
static uint32_t wamr_pool_total;

static void wamr_record(const char *name) {
  mem_alloc_info_t info;
  if (wamr_nsteps == WAMR_STEPS_MAX || !wasm_runtime_get_mem_alloc_info(&info)) {
    return;
  }
  wamr_pool_total = info.total_size;
  wamr_steps[wamr_nsteps].name = name;
  wamr_steps[wamr_nsteps].used = info.total_size - info.total_free_size;
  wamr_steps[wamr_nsteps].peak = info.highmark_size;
  wamr_nsteps++;
}

/* Prints the JSON object: settings, the step that failed (or null), steps. */
static void wamr_report(uint32_t pool, uint32_t stack, uint32_t heap, uint32_t module_size,
                        uint32_t linear, uint32_t polls, const char *failed, const char *error) {
  int i;
  printf("{\"pointer_bytes\":%u,\"pool\":%" PRIu32 ",\"pool_allocator_total\":%" PRIu32
         ",\"stack\":%" PRIu32 ",\"app_heap\":%" PRIu32 ",\"module\":%" PRIu32
         ",\"linear_memory\":%" PRIu32 ",\"polls\":%" PRIu32 ",\"connects\":%" PRIu32
         ",\"log_lines\":%" PRIu32 ",",
         (unsigned)sizeof(void *), pool, wamr_pool_total, stack, heap, module_size, linear, polls,
         wamr_connects, wamr_log_lines);
  if (failed != NULL) {
    /* error may be WAMR's message: quotes and control characters become ' */
    printf("\"failed\":\"%s\",\"error\":\"", failed);
    for (; error != NULL && *error != '\0'; error++) {
      putchar(*error == '"' || *error == '\\' || (unsigned char)*error < 0x20 ? '\'' : *error);
    }
    printf("\",");
  } else {
    printf("\"failed\":null,");
  }
  printf("\"steps\":[");
  for (i = 0; i < wamr_nsteps; i++) {
    printf("%s{\"step\":\"%s\",\"used\":%" PRIu32 ",\"peak\":%" PRIu32 "}", i ? "," : "",
           wamr_steps[i].name, wamr_steps[i].used, wamr_steps[i].peak);
  }
  printf("]}\n");
}

/* Records which step failed and why (for the report); returns the step. */
static const char *wamr_fail(const char *step, char *error, size_t cap, const char *why) {
  if (why != NULL) {
    snprintf(error, cap, "%s", why);
  }
  return step;
}

static int wamr_read(const char *path, uint32_t *size) {
  FILE *f = fopen(path, "rb");
  size_t n;
  if (f == NULL) {
    fprintf(stderr, "wamr-pool: cannot open %s.\n", path);
    return -1;
  }
  n = fread(wamr_module_file, 1, sizeof(wamr_module_file), f);
  if (ferror(f) || !feof(f)) {
    fclose(f);
    fprintf(stderr, "wamr-pool: cannot read %s or it is larger than %u bytes.\n", path,
            WAMR_MODULE_MAX);
    return -1;
  }
  fclose(f);
  *size = (uint32_t)n;
  return 0;
}

static uint32_t wamr_arg_u32(const char *s) {
  char *end;
  unsigned long v = strtoul(s, &end, 0);
  return (*s == '\0' || *end != '\0' || v > UINT32_MAX) ? UINT32_MAX : (uint32_t)v;
}

int main(int argc, char **argv) {
  const char *wasm_path = NULL;
  uint32_t pool = 0, stack = 0, heap = 0, polls = 3000, size = 0, linear = 0, done = 0;
  char error[128] = "";
  const char *failed = NULL;
  RuntimeInitArgs args;
  uint8_t *copy = NULL;
  shim_wasm_image_t image;
  wasm_module_t module = NULL;
  wasm_module_inst_t inst = NULL;
  wasm_exec_env_t env = NULL;
  wasm_function_inst_t f_init, f_poll;
  wasm_memory_inst_t mem;
  wasm_val_t res[1], pargs[2];
  int i;

  for (i = 1; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : "";
    if (strcmp(argv[i], "--wasm") == 0 && i + 1 < argc) {
      wasm_path = argv[++i];
    } else if (strcmp(argv[i], "--pool") == 0) {
      pool = wamr_arg_u32(v), i++;
    } else if (strcmp(argv[i], "--stack") == 0) {
      stack = wamr_arg_u32(v), i++;
    } else if (strcmp(argv[i], "--heap") == 0) {
      heap = wamr_arg_u32(v), i++;
    } else if (strcmp(argv[i], "--polls") == 0) {
      polls = wamr_arg_u32(v), i++;
    } else if (strcmp(argv[i], "--verbose") == 0) {
      wamr_verbose = 1;
    } else {
      fprintf(stderr, "wamr-pool: unknown argument %s.\n", argv[i]);
      return 2;
    }
  }
  if (wasm_path == NULL || pool == 0 || pool > WAMR_POOL_MAX || stack == 0 || stack == UINT32_MAX ||
      heap == UINT32_MAX || polls == UINT32_MAX) {
    fprintf(stderr,
            "usage: wamr-pool --wasm FILE --pool BYTES (<= %u) --stack BYTES --heap BYTES "
            "[--polls N] [--verbose]\n",
            WAMR_POOL_MAX);
    return 2;
  }
  if (wamr_read(wasm_path, &size) != 0) {
    return 2;
  }
  srand(1);

  /* The firmware's sequence (runtime_wamr.c shim_wamr_load_bytes). */
  memset(&args, 0, sizeof(args));
  args.mem_alloc_type = Alloc_With_Pool;
  args.mem_alloc_option.pool.heap_buf = WAMR_POOL_START;
  args.mem_alloc_option.pool.heap_size = pool;
  args.native_module_name = SHIM_ABI_MODULE;
  args.native_symbols = wamr_host_symbols;
  args.n_native_symbols = sizeof(wamr_host_symbols) / sizeof(wamr_host_symbols[0]);
  if (!wasm_runtime_full_init(&args)) {
    wamr_report(pool, stack, heap, size, 0, 0, "runtime_init", "wasm_runtime_full_init failed");
    return 1;
  }
  wasm_runtime_register_natives("env", wamr_env_symbols, 1);
  wamr_record("runtime_init");

  shim_wasm_image_scan(wamr_module_file, size, &image);
  copy = wasm_runtime_malloc(image.copy_size);
  if (copy == NULL) {
    failed = wamr_fail("module_copy", error, sizeof(error), "no room for the module copy");
    goto done;
  }
  shim_wasm_image_copy(wamr_module_file, size, &image, copy);
  wamr_record("module_copy");

  module = wasm_runtime_load(copy, image.copy_size, error, sizeof(error));
  if (module == NULL) {
    failed = "load";
    goto done;
  }
  wamr_record("load");

  inst = wasm_runtime_instantiate(module, stack, heap, error, sizeof(error));
  if (inst == NULL) {
    failed = "instantiate";
    goto done;
  }
  mem = wasm_runtime_get_default_memory(inst);
  if (mem != NULL) {
    linear = (uint32_t)(wasm_memory_get_cur_page_count(mem) * wasm_memory_get_bytes_per_page(mem));
  }
  if (shim_wasm_image_write_data(wamr_module_file, &image,
                                 mem != NULL ? wasm_memory_get_base_address(mem) : NULL,
                                 linear) != SHIM_OK) {
    failed = wamr_fail("instantiate", error, sizeof(error), "a data segment lies outside memory");
    goto done;
  }
  wamr_record("instantiate");

  env = wasm_runtime_create_exec_env(inst, stack);
  f_init = wasm_runtime_lookup_function(inst, "init");
  f_poll = wasm_runtime_lookup_function(inst, "poll");
  if (env == NULL || f_init == NULL || f_poll == NULL) {
    failed = wamr_fail("exec_env", error, sizeof(error), "no exec env or no init/poll export");
    goto done;
  }
  wamr_record("exec_env");

  res[0].kind = WASM_I32;
  if (!wasm_runtime_call_wasm_a(env, f_init, 1, res, 0, NULL)) {
    failed = wamr_fail("init", error, sizeof(error), wasm_runtime_get_exception(inst));
    goto done;
  }
  if (res[0].of.i32 < 0) {
    snprintf(error, sizeof(error), "init() returned %" PRId32, res[0].of.i32);
    failed = "init";
    goto done;
  }
  wamr_record("init");

  /* Time moves by what poll() asks for (1 ms .. 10 s), so retries, backoff
   * and the Lease/status timers all come due. */
  for (done = 0; done < polls; done++) {
    pargs[0].kind = WASM_I64;
    pargs[0].of.i64 = wamr_now_ms;
    pargs[1].kind = WASM_I64;
    pargs[1].of.i64 = WAMR_WALL_BASE_MS + wamr_now_ms;
    res[0].kind = WASM_I32;
    if (!wasm_runtime_call_wasm_a(env, f_poll, 1, res, 2, pargs)) {
      failed = wamr_fail("poll", error, sizeof(error), wasm_runtime_get_exception(inst));
      goto done;
    }
    wamr_now_ms += res[0].of.i32 < 1 ? 1 : res[0].of.i32 > 10000 ? 10000 : res[0].of.i32;
  }
  wamr_record("polls");

done:
  wamr_report(pool, stack, heap, size, linear, done, failed, error);
  if (env != NULL) {
    wasm_runtime_destroy_exec_env(env);
  }
  if (inst != NULL) {
    wasm_runtime_deinstantiate(inst);
  }
  if (module != NULL) {
    wasm_runtime_unload(module);
  }
  if (copy != NULL) {
    wasm_runtime_free(copy);
  }
  wasm_runtime_destroy();
  return failed == NULL ? 0 : 1;
}
