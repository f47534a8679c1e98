# WAMR's feature set, one list for every WAMR build of the project (the
# simulator's runtime/wamr/wamr.cmake, the device's port/pico/wamr and
# bench/wamr-pool): classic interpreter only, no AOT/JIT/WASI/libc/threads,
# bulk memory (AssemblyScript's memory.copy/fill). With
# SHIM_WAMR_DEVICE_FEATURES set, also what the device turns off: memory
# profiling, call-stack dumps and the MMU-based bound checks it has no MMU
# for. Include it before ${WAMR_ROOT}/build-scripts/runtime_lib.cmake.
set(WAMR_BUILD_INTERP 1)
set(WAMR_BUILD_FAST_INTERP 0)
set(WAMR_BUILD_AOT 0)
set(WAMR_BUILD_JIT 0)
set(WAMR_BUILD_FAST_JIT 0)
set(WAMR_BUILD_LIBC_BUILTIN 0)
set(WAMR_BUILD_LIBC_WASI 0)
set(WAMR_BUILD_MULTI_MODULE 0)
set(WAMR_BUILD_SHARED_MEMORY 0)
set(WAMR_BUILD_THREAD_MGR 0)
set(WAMR_BUILD_LIB_PTHREAD 0)
set(WAMR_BUILD_SIMD 0)
set(WAMR_BUILD_REF_TYPES 0)
set(WAMR_BUILD_BULK_MEMORY 1)
if(SHIM_WAMR_DEVICE_FEATURES)
  set(WAMR_BUILD_MEMORY_PROFILING 0)
  set(WAMR_BUILD_DUMP_CALL_STACK 0)
  set(WAMR_DISABLE_HW_BOUND_CHECK 1)
  set(WAMR_DISABLE_STACK_HW_BOUND_CHECK 1)
endif()
