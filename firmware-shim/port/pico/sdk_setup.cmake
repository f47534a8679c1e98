# Firmware build, part 1 (included by the top-level CMakeLists.txt before
# project()): finds pico-sdk and WAMR, or downloads the versions pinned in
# versions.cmake when PICO_FETCH=ON. Without them the configure stops with a
# message saying what to set.
include(${CMAKE_CURRENT_LIST_DIR}/versions.cmake)
option(PICO_FETCH "Download pico-sdk and WAMR (versions.cmake) when not given" OFF)

if(NOT PICO_SDK_PATH AND DEFINED ENV{PICO_SDK_PATH})
  set(PICO_SDK_PATH $ENV{PICO_SDK_PATH})
endif()
if(NOT WAMR_ROOT AND DEFINED ENV{WAMR_ROOT})
  set(WAMR_ROOT $ENV{WAMR_ROOT})
endif()

if(PICO_FETCH AND (NOT PICO_SDK_PATH OR NOT WAMR_ROOT))
  # Not exercised by the project's tests (they run without internet).
  include(FetchContent)
  if(NOT PICO_SDK_PATH)
    FetchContent_Declare(pico_sdk GIT_REPOSITORY ${K3S_PICO_SDK_GIT} GIT_TAG ${K3S_PICO_SDK_TAG}
                         GIT_SUBMODULES_RECURSE FALSE)
    FetchContent_Populate(pico_sdk)
    execute_process(COMMAND git submodule update --init lib/lwip lib/mbedtls lib/cyw43-driver
                            lib/tinyusb
                    WORKING_DIRECTORY ${pico_sdk_SOURCE_DIR})
    set(PICO_SDK_PATH ${pico_sdk_SOURCE_DIR})
  endif()
  if(NOT WAMR_ROOT)
    FetchContent_Declare(wamr GIT_REPOSITORY ${K3S_WAMR_GIT} GIT_TAG ${K3S_WAMR_TAG})
    FetchContent_Populate(wamr)
    set(WAMR_ROOT ${wamr_SOURCE_DIR})
  endif()
endif()

if(NOT PICO_SDK_PATH OR NOT EXISTS ${PICO_SDK_PATH}/pico_sdk_init.cmake)
  message(FATAL_ERROR
    "PICO_SDK_PATH is not set to a pico-sdk ${K3S_PICO_SDK_TAG} tree (with submodules lwip, "
    "mbedtls, cyw43-driver). Set PICO_SDK_PATH, or configure with -DPICO_FETCH=ON to download it.")
endif()
if(NOT WAMR_ROOT OR NOT EXISTS ${WAMR_ROOT}/build-scripts/runtime_lib.cmake)
  message(FATAL_ERROR
    "WAMR_ROOT is not set to a wasm-micro-runtime ${K3S_WAMR_TAG} tree. Set WAMR_ROOT, or "
    "configure with -DPICO_FETCH=ON to download it.")
endif()
set(PICO_SDK_PATH ${PICO_SDK_PATH} CACHE PATH "pico-sdk" FORCE)
set(WAMR_ROOT ${WAMR_ROOT} CACHE PATH "wasm-micro-runtime" FORCE)
# No picotool here: the UF2 comes from tools/uf2/uf2.mjs (scripts/build-firmware.sh).
set(PICO_NO_PICOTOOL 1)
set(PICO_NO_UF2 1)
include(${PICO_SDK_PATH}/pico_sdk_init.cmake)
