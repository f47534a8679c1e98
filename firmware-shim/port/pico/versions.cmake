# The one place the firmware's external sources are pinned. Used by
# sdk_setup.cmake: with PICO_FETCH=ON (opt-in, needs internet) CMake downloads
# these exact versions when PICO_SDK_PATH / WAMR_ROOT are not given.
# pico-sdk 2.2.0 brings lwIP 2.2.1, Mbed TLS 3.6.2 and cyw43-driver as
# submodules (the combination DESIGN.md's device facts were measured with).
set(K3S_PICO_SDK_GIT https://github.com/raspberrypi/pico-sdk.git)
set(K3S_PICO_SDK_TAG 2.2.0)
set(K3S_WAMR_GIT https://github.com/bytecodealliance/wasm-micro-runtime.git)
set(K3S_WAMR_TAG WAMR-2.4.5)
