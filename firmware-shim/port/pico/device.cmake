# What the device build is made of, shared by firmware.cmake (the firmware)
# and hosted/CMakeLists.txt (the same code on the hosted board): the shim's
# sources with port/pico, and the device's limits. Needs SHIM_DIR and PICO_DIR.
# Limits of the device build (each overrides a default named in
# shim_config.h / runtime_wamr.c):
#  - SHIM_WAMR_MODULE_MAX: largest core.wasm accepted: what its flash slot
#    holds (FLASH_CORE_BYTES minus the 16-byte header, flash_layout.h); the
#    module is read from flash, so this costs no RAM on the device.
#  - SHIM_WAMR_POOL_BYTES: WAMR's pool holds everything the runtime needs:
#    the RAM copy of core.wasm the classic interpreter rewrites (without the
#    bytes of its data segments, written from flash into linear memory after
#    instantiation: runtime/wamr/wasm_image.h), the loaded module's
#    structures, the core's linear memory (served by os_mmap in
#    wamr_platform/) and the exec env stack (4 KiB, below). Measured
#    by bench/wamr-pool.mjs (these WAMR options and platform layer, 32-bit
#    build, structure sizes equal to the Thumb build's) for a 66,045-byte
#    core (HTTP/2, the k3s agent tunnel, the kubelet endpoint) with 36,464
#    bytes of linear memory: peak 121,608 (module copy 53,784, structures
#    16,896, instance + memory 45,176, exec env 5,704), smallest working
#    pool 125,704; the hosted board logs a peak of 121,256 at work
#    (bench/hosted.mjs); + 4 KiB margin: 127 KiB.
#    Re-run it when the core changes. (The budgets, 32 KB core and 24 KB
#    memory, would need about 86 KB, estimated.) The board logs the real peak at boot
#    ("mem: WAMR pool peak ...").
#    The fast interpreter needs ~90 KB more (host: 185 KB vs 97.5 KB peak)
#    and 6.8 KB more flash, so the classic one is used.
#  - SHIM_WAMR_STACK_BYTES: the exec env stack (runtime_wamr.c): the
#    end-to-end suite passes at 3 KiB and 4 KiB under WAMR built 32-bit, and
#    fails at 1 KiB; 4 KiB instead of the 64-bit simulators' 6 KiB.
#  - SHIM_KUBELET_MAX_CONNS=1: the kubelet endpoint serves one connection
#    at a time (the core then closes every connection after its answer, no
#    keep-alive); with k3s' agent tunnel (its own TLS session, and a loopback
#    pair for the connection it pipes, net.c) that is three TLS sessions of
#    ~9 KB of heap each with 4 KiB input buffers (mbedtls_config.h):
#    7 connection slots instead of 11.
#  - SHIM_CERT_STAGE_MAX: the staged certificate (identity.c, static RAM):
#    base64 of a PEM leaf + two P-256 CAs is ~3.6 KB; 4 KiB instead of the
#    8 KiB default leaves the heap to the TLS session.
#  - SHIM_TLS_VERIFY_TEXT=0: a rejected server certificate is logged with its
#    verify flags, not mbedtls_x509_crt_verify_info's text (flash).
#  - SHIM_CONFIG_ARENA_BYTES: the configuration's keys and values (src/config.c):
#    a device's text is a few hundred bytes (tools/uf2 config); 2 KiB instead
#    of the simulator's 8.5 KiB (7.5 KB of static RAM less than the fixed
#    32 x (48 + 255)-byte entries before).
set(K3S_DEVICE_LIMITS SHIM_WAMR_MODULE_MAX=131056u SHIM_WAMR_POOL_BYTES=130048u SHIM_WAMR_STACK_BYTES=4096u
    SHIM_KUBELET_MAX_CONNS=1
    SHIM_CERT_STAGE_MAX=4096u SHIM_TLS_VERIFY_TEXT=0 SHIM_CONFIG_ARENA_BYTES=2048u)

set(K3S_SHIM_SOURCES
  ${SHIM_DIR}/src/config.c
  ${SHIM_DIR}/src/devmem.c
  ${SHIM_DIR}/src/identity.c
  ${SHIM_DIR}/src/log.c
  ${SHIM_DIR}/src/loop.c
  ${SHIM_DIR}/src/natives.c
  ${SHIM_DIR}/src/tls.c
  ${SHIM_DIR}/runtime/wamr/runtime_wamr.c
  ${SHIM_DIR}/runtime/wamr/wasm_image.c
  ${PICO_DIR}/main.c
  ${PICO_DIR}/platform.c
  ${PICO_DIR}/flash_regions.c
  ${PICO_DIR}/wifi.c
  ${PICO_DIR}/net.c
  ${PICO_DIR}/devmem.c
  ${PICO_DIR}/identity.c
  ${PICO_DIR}/store.c
  ${PICO_DIR}/store_flash.c)
