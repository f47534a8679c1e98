# Mbed TLS built from source for the simulator, with the device's
# configuration (DESIGN.md: "The device's Mbed TLS configuration file is the
# one the simulator uses when it builds Mbed TLS from source"; RAM figures come
# from the simulator's peak of the same allocators, so the settings must match).
#
# Input:  MBEDTLS_SOURCE_DIR   an Mbed TLS 3.x source tree (pico-sdk ships one
#                              as lib/mbedtls: 3.6.2 in pico-sdk 2.2.0)
#         SHIM_MBEDTLS_CONFIG_FILE  the configuration header, by default the
#                              device's firmware-shim/port/pico/mbedtls_config.h
# Output: shim_mbedtls (static library of library/*.c), MBEDTLS_INCLUDE_DIR,
#         MBEDTLS_LIBS, SHIM_HEAP_WRAP OFF (the heap is counted through
#         MBEDTLS_PLATFORM_MEMORY, port/posix/heap.c), and MBEDTLS_CONFIG_FILE
#         defined for every target created after this file is included.
set(SHIM_MBEDTLS_CONFIG_FILE "${SHIM_DIR}/port/pico/mbedtls_config.h" CACHE FILEPATH
    "Mbed TLS configuration header the source build uses (the device's)")

set(_mbedtls_info ${MBEDTLS_SOURCE_DIR}/include/mbedtls/build_info.h)
if(NOT EXISTS ${_mbedtls_info})
  message(FATAL_ERROR "MBEDTLS_SOURCE_DIR=${MBEDTLS_SOURCE_DIR} is not an Mbed TLS 3.x tree "
                      "(no include/mbedtls/build_info.h)")
endif()
file(STRINGS ${_mbedtls_info} _mbedtls_ver REGEX "define MBEDTLS_VERSION_STRING +\"")
string(REGEX REPLACE ".*\"([0-9.]+)\".*" "\\1" MBEDTLS_SOURCE_VERSION "${_mbedtls_ver}")
if(NOT MBEDTLS_SOURCE_VERSION MATCHES "^3\\.")
  message(FATAL_ERROR "MBEDTLS_SOURCE_DIR: Mbed TLS ${MBEDTLS_SOURCE_VERSION}, need 3.x")
endif()
message(STATUS "Mbed TLS ${MBEDTLS_SOURCE_VERSION} from source: ${MBEDTLS_SOURCE_DIR}, "
               "config ${SHIM_MBEDTLS_CONFIG_FILE}")

# An absolute path: a bare "mbedtls_config.h" would resolve to Mbed TLS's own.
add_compile_definitions("MBEDTLS_CONFIG_FILE=\"${SHIM_MBEDTLS_CONFIG_FILE}\"")

file(GLOB _mbedtls_sources ${MBEDTLS_SOURCE_DIR}/library/*.c)
add_library(shim_mbedtls STATIC ${_mbedtls_sources})
target_include_directories(shim_mbedtls PUBLIC ${MBEDTLS_SOURCE_DIR}/include
                           PRIVATE ${MBEDTLS_SOURCE_DIR}/library)
# Not our code to keep warning-free; the configuration is checked by Mbed
# TLS's own check_config.h, which fails the build on an invalid combination.
target_compile_options(shim_mbedtls PRIVATE -w)
set_target_properties(shim_mbedtls PROPERTIES C_STANDARD 99 C_EXTENSIONS ON)

set(MBEDTLS_INCLUDE_DIR ${MBEDTLS_SOURCE_DIR}/include)
set(MBEDTLS_LIBS shim_mbedtls)
set(SHIM_HEAP_WRAP OFF)
