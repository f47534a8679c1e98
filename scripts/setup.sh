#!/usr/bin/env bash
# Installs what the build and the tests need, idempotently: Debian packages,
# npm packages. The Go build of the control plane is done by
# tests/cluster/cluster.sh (cached). Safe to run again: it only installs what
# is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages (what each is for):
#   wabt              wasm2c/wat2wasm: the simulator runs core.wasm through wasm2c
#                     when WAMR's sources are not at hand
#   libmbedtls-dev    the simulator's TLS (the device builds Mbed TLS from the SDK)
#   gcc-arm-none-eabi libnewlib-arm-none-eabi
#                     cross-compile check of the shim for cortex-m0plus
#   openssl           test certificates for the shim's TLS tests
#   cmake gcc make    the shim and the simulator
#   python3-pip       installs the Python packages below (Prometheus parser)
#   qemu-system-arm   runs test programs built for the RP2040's CPU on an
#                     emulated Cortex-M0 (tests/m0/run.sh)
#   gcc-multilib      gcc -m32: bench/wamr-pool.mjs builds WAMR for a 32-bit
#                     target to measure the pool as the device lays it out
DEB_PACKAGES=(wabt libmbedtls-dev gcc-arm-none-eabi libnewlib-arm-none-eabi openssl cmake gcc gcc-multilib make qemu-system-arm python3 python3-pip)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

command -v node >/dev/null || { echo "setup: Node.js 20 or newer is required" >&2; exit 1; }
command -v go >/dev/null || { echo "setup: Go is required to build the test control plane (tests/cluster)" >&2; exit 1; }

# npm packages: reinstall when the lock file changed since the last install.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi

# Python packages for the end-to-end tests, into build/pylib (no system-wide
# install): prometheus_client, Prometheus' own text-format parser, reads the
# kubelet endpoint's /metrics (tests/e2e/promparse.py).
PY_PACKAGES=(prometheus_client==0.26.0)
if [[ ! -f build/pylib/.installed || "$(cat build/pylib/.installed)" != "${PY_PACKAGES[*]}" ]]; then
  echo "setup: installing Python packages: ${PY_PACKAGES[*]}"
  rm -rf build/pylib
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target build/pylib "${PY_PACKAGES[*]}"
  echo "${PY_PACKAGES[*]}" > build/pylib/.installed
fi
