# Firmware build, part 2 (included by the top-level CMakeLists.txt after
# project() when PICO_BOARD is set, e.g. pico_w): the SDK, WAMR, the shim with
# port/pico, and a known-answer test of AES-GCM as its own firmware.
# Outputs: k3s_pico_node.elf/.bin (+ .map); the .uf2 is written by
# scripts/build-firmware.sh with tools/uf2/uf2.mjs (firmware + core.wasm
# region, firmware-shim/port/pico/flash_layout.h).
set(PICO_DIR ${CMAKE_CURRENT_LIST_DIR})
set(SHIM_DIR ${CMAKE_SOURCE_DIR}/firmware-shim)
if(NOT PICO_CYW43_SUPPORTED)
  message(FATAL_ERROR "PICO_BOARD=${PICO_BOARD} has no CYW43 Wi-Fi: use PICO_BOARD=pico_w")
endif()
# An absolute path: a bare "mbedtls_config.h" would resolve to Mbed TLS's own.
set(PICO_MBEDTLS_CONFIG_FILE ${PICO_DIR}/mbedtls_config.h)
pico_sdk_init()

set(SHIM_WARNINGS -Wall -Wextra -Werror -Wvla -Wshadow)

add_subdirectory(${PICO_DIR}/wamr ${CMAKE_BINARY_DIR}/wamr)

# Mbed TLS 3.6.2's gcm.c is miscompiled by arm-none-eabi-gcc 12.2 at -O3 for
# cortex-m0plus (wrong tags, DESIGN.md; Mbed-TLS/TF-PSA-Crypto#665): build it
# without strict aliasing at -O2. Checked by k3s_gcm_kat (below, on the device)
# and tests/uf2/gcm-kat.sh (host run + cross compile).
set(K3S_GCM_FLAGS -Wno-cast-qual -fno-strict-aliasing -O2)
set_source_files_properties(${PICO_MBEDTLS_PATH}/library/gcm.c PROPERTIES
                            COMPILE_OPTIONS "${K3S_GCM_FLAGS}")

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
#    build, structure sizes equal to the Thumb build's) for a 65,713-byte
#    core (HTTP/2, the k3s agent tunnel, the kubelet endpoint; 12,225 bytes
#    of data segments) with 36,448 bytes of linear memory: peak 120,984
#    (module copy 53,464, structures 16,688, instance + memory 45,080, exec
#    env 5,704), smallest working pool 125,080; + 4 KiB margin: 127 KiB.
#    Re-run it when the core changes. (The budgets, 32 KB core and 24 KB
#    memory, would need about 86 KB, estimated.) The board logs the real peak at boot
#    ("mem: WAMR pool peak ...").
#    The fast interpreter needs ~90 KB more (host: 185 KB vs 97.5 KB peak)
#    and 6.8 KB more flash, so the classic one is used.
#  - SHIM_WAMR_STACK_BYTES: the exec env stack (runtime_wamr.c): the
#    end-to-end suite passes at 3 KiB and 4 KiB under WAMR built 32-bit, and
#    fails at 1 KiB; 4 KiB instead of the 64-bit simulators' 6 KiB.
#  - SHIM_KUBELET_MAX_CONNS=1, SHIM_TUNNEL_CONNS=0: the kubelet endpoint
#    serves one connection at a time (each open TLS session is ~21 KB of
#    heap next to the API server's; the core then closes every connection
#    after its answer, no keep-alive) and there is no agent tunnel (NET_HTTP1
#    is E_UNSUPPORTED here): 5 connection slots instead of 11.
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
    SHIM_TUNNEL_CONNS=0
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
add_executable(k3s_pico_node ${K3S_SHIM_SOURCES})
# TLS 1.3 (MBEDTLS_SSL_PROTO_TLS1_3 in mbedtls_config.h): Mbed TLS 3.6 sources
# that pico-sdk 2.2.0's pico_mbedtls does not list.
target_sources(k3s_pico_node PRIVATE
  ${PICO_MBEDTLS_PATH}/library/ssl_tls13_client.c
  ${PICO_MBEDTLS_PATH}/library/ssl_tls13_generic.c
  ${PICO_MBEDTLS_PATH}/library/ssl_tls13_server.c
  ${PICO_MBEDTLS_PATH}/library/psa_util.c
  ${PICO_MBEDTLS_PATH}/library/psa_crypto_driver_wrappers_no_static.c)
# Our sources build with warnings as errors; SDK sources keep the SDK's flags.
set_source_files_properties(${K3S_SHIM_SOURCES} PROPERTIES COMPILE_OPTIONS "${SHIM_WARNINGS}")
target_include_directories(k3s_pico_node PRIVATE ${PICO_DIR} ${SHIM_DIR}/include ${SHIM_DIR}
                           ${SHIM_DIR}/runtime/wamr)
target_compile_definitions(k3s_pico_node PRIVATE ${K3S_DEVICE_LIMITS}
  # Out of heap is an error code (Mbed TLS -> SHIM_E_NOMEM), not a panic.
  PICO_MALLOC_PANIC=0
  PICO_STDIO_USB_CONNECT_WAIT_TIMEOUT_MS=2000 # banner visible on a terminal opened at boot
  CYW43_HOST_NAME="k3s-pico-node")
target_link_libraries(k3s_pico_node PRIVATE
  pico_stdlib pico_rand pico_unique_id hardware_watchdog hardware_flash hardware_adc pico_flash
  pico_cyw43_arch_lwip_poll pico_lwip_sntp pico_mbedtls
  pico_wamr_vmlib)
pico_enable_stdio_usb(k3s_pico_node 1)
pico_enable_stdio_uart(k3s_pico_node 0)
pico_set_program_name(k3s_pico_node "k3s_pico_node")
pico_add_bin_output(k3s_pico_node)
pico_add_map_output(k3s_pico_node)
pico_add_dis_output(k3s_pico_node)
# The firmware must stay inside its flash slot (flash_layout.h).
target_link_options(k3s_pico_node PRIVATE -Wl,--print-memory-usage)

# AES-GCM known-answer test as firmware (prints over USB serial, LED on when
# it passes). The same source is built and run on the host by
# tests/uf2/gcm-kat.sh.
add_executable(k3s_gcm_kat ${PICO_DIR}/tests/gcm_kat.c ${PICO_DIR}/tests/gcm_kat_main.c)
set_source_files_properties(${PICO_DIR}/tests/gcm_kat.c ${PICO_DIR}/tests/gcm_kat_main.c
                            PROPERTIES COMPILE_OPTIONS "${SHIM_WARNINGS}")
target_include_directories(k3s_gcm_kat PRIVATE ${PICO_DIR})
target_link_libraries(k3s_gcm_kat PRIVATE pico_stdlib pico_mbedtls)
pico_enable_stdio_usb(k3s_gcm_kat 1)
pico_enable_stdio_uart(k3s_gcm_kat 0)
pico_add_bin_output(k3s_gcm_kat)
