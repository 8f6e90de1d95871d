#!/bin/sh
# Configures and builds evn-mbus in ./build (or $BUILD_DIR). Used by the other scripts.
# Release (-O3) by default: what a packager builds first, and where GCC's flow-dependent
# warnings (-Warray-bounds, -Wstringop-overflow) show; BUILD_TYPE=RelWithDebInfo for a
# debugger. Warnings are errors here (EVN_MBUS_WERROR, off in a plain CMake build); extra
# arguments go to cmake, so -DEVN_MBUS_WERROR=OFF overrides it.
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
jobs="$(nproc 2>/dev/null || echo 2)"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" -DEVN_MBUS_WERROR=ON "$@"
cmake --build "$build" -j "$jobs"
