# WAMR for the simulator (-DWAMR_ROOT=<wasm-micro-runtime source tree>):
# classic interpreter only, no AOT/JIT/WASI/libc, the same feature set the
# device uses. WAMR's own build script supplies its sources and include dirs.
if(NOT EXISTS ${WAMR_ROOT}/build-scripts/runtime_lib.cmake)
  message(FATAL_ERROR "WAMR_ROOT=${WAMR_ROOT} is not a wasm-micro-runtime source tree")
endif()
set(WAMR_BUILD_PLATFORM "linux")
include(${CMAKE_CURRENT_LIST_DIR}/features.cmake)
include(${WAMR_ROOT}/build-scripts/runtime_lib.cmake)
add_library(shim_wamr_vmlib STATIC ${WAMR_RUNTIME_LIB_SOURCE})
target_compile_options(shim_wamr_vmlib PRIVATE -w)

# shim_wamr_core(<name>): the WAMR adapter plus WAMR, as a library the hosts link.
function(shim_wamr_core name)
  add_library(${name} OBJECT ${SHIM_DIR}/runtime/wamr/runtime_wamr.c
              ${SHIM_DIR}/runtime/wamr/wasm_image.c)
  target_include_directories(${name} PRIVATE ${WAMR_ROOT}/core/iwasm/include ${SHIM_DIR}/include
                             ${SHIM_DIR})
  target_compile_options(${name} PRIVATE ${SHIM_WARNINGS})
  target_compile_definitions(${name} PRIVATE SHIM_DEFAULT_WASM="${SHIM_CORE_WASM}")
  target_link_libraries(${name} PUBLIC shim_wamr_vmlib pthread m dl)
endfunction()
