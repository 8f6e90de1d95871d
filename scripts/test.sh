#!/bin/sh
# README command two: installs the dependencies, builds (Release, warnings as errors:
# scripts/build.sh) and runs the whole test suite on that build.
# Extra arguments go to ctest (for example: -L unit, -R golden).
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
cd "${BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "$(nproc 2>/dev/null || echo 2)" "$@"
