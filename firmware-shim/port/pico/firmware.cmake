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

include(${PICO_DIR}/device.cmake)
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
