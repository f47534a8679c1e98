# WAMR platform "pico" (bare-metal pico-sdk, one thread, no MMU), selected by
# setting SHARED_PLATFORM_CONFIG to this file before WAMR's runtime_lib.cmake
# (firmware-shim/port/pico/wamr/CMakeLists.txt). Written for this project:
# WAMR ships no pico-sdk platform.
set(PLATFORM_SHARED_DIR ${CMAKE_CURRENT_LIST_DIR})
add_definitions(-DBH_PLATFORM_PICO)
include_directories(${PLATFORM_SHARED_DIR})
include_directories(${WAMR_ROOT}/core/shared/platform/include)
set(PLATFORM_SHARED_SOURCE ${PLATFORM_SHARED_DIR}/pico_platform.c)
