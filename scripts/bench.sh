#!/bin/sh
# Builds and runs the core decode benchmark (telegrams/s, allocations per telegram).
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh"
BUILD_TYPE=Release BUILD_DIR="${BUILD_DIR:-$root/build-release}" "$root/scripts/build.sh"
"${BUILD_DIR:-$root/build-release}/tests/bench/evn_mbus_core_bench" --benchmark_min_time=2 "$@"
