#!/bin/sh
# Builds the libFuzzer targets (tests/fuzz) with clang, ASan and UBSan in ./build-fuzz (or
# $BUILD_DIR), runs each committed corpus once as a regression test, then fuzzes each target
# for FUZZ_SECONDS and prints a table: executions, executions per second, coverage (libFuzzer's
# cov: edges and ft: features) and crashes.
#
#   scripts/fuzz.sh [target...]       targets: mbus_frame_assembler telegram_decoder axdr
#                                     dlms_security config_loader hdlc_frame_assembler
#                                     dsmr_telegram mbus_records (default: all that exist)
#   FUZZ_SECONDS=60                   fuzzing time per target
#   FUZZ_JOBS=<nproc>                 targets fuzzed at the same time (at most nproc)
#   FUZZ_UPDATE_CORPUS=1              merge what was found into tests/fuzz/corpus/<target>/
#                                     and minimise it (-merge=1 on edges); otherwise the
#                                     committed corpus is only read
#   FUZZ_RESEED=1                     with FUZZ_UPDATE_CORPUS: also merge fresh seeds made from
#                                     the fixtures by tests/fuzz/make_seeds.py
#
# A crash, hang (10 s per input) or leak fails the script; the input is kept under
# <build>/fuzz-findings/<target>/ and the command to reproduce it is printed. Once fixed, copy it
# into tests/fuzz/corpus/<target>/ as regression-<what>: it then runs with every test suite
# built with EVN_MBUS_FUZZ (ctest -L fuzz-regression) and is never minimised away.
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build-fuzz}"
seconds="${FUZZ_SECONDS:-60}"
cores="$(nproc 2>/dev/null || echo 2)"
jobs="${FUZZ_JOBS:-$cores}"
[ "$jobs" -gt "$cores" ] && jobs="$cores"
[ "$jobs" -lt 1 ] && jobs=1
cxx="${FUZZ_CXX:-clang++-14}"

"$root/scripts/install-deps.sh"
command -v "$cxx" >/dev/null 2>&1 || {
    echo "fuzz: $cxx not found; install clang-14 and libclang-rt-14-dev" >&2
    exit 1
}

# Warnings are the GCC build's business; clang's own extra ones must not stop fuzzing.
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" \
    -DEVN_MBUS_FUZZ=ON -DEVN_MBUS_WERROR=OFF -DEVN_MBUS_BUILD_BENCH=OFF >/dev/null

all="mbus_frame_assembler telegram_decoder axdr dlms_security config_loader hdlc_frame_assembler
    dsmr_telegram mbus_records"
if [ $# -gt 0 ]; then
    targets="$*"
else
    targets=""
    for t in $all; do
        [ -f "$root/tests/fuzz/${t}_fuzzer.cpp" ] && targets="$targets $t"
    done
fi
build_targets=""
for t in $targets; do build_targets="$build_targets fuzz_$t"; done
# shellcheck disable=SC2086  # one word per target
cmake --build "$build" -j "$cores" --target $build_targets

# A smaller quarantine than ASan's default (256 MB) keeps use-after-free detection for recent
# frees and makes fuzzing faster on small machines; every finding aborts.
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=16:detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

echo "fuzz: the committed corpora as regression tests"
regex=""
for t in $targets; do regex="$regex|^fuzz_regression\\.$t\$"; done
(cd "$build" && ctest --output-on-failure -L fuzz-regression -R "${regex#|}")

work="$(mktemp -d "${TMPDIR:-/tmp}/evn-mbus-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
findings="$build/fuzz-findings"

run_target() {
    t="$1"
    corpus="$root/tests/fuzz/corpus/$t"
    dict=""
    [ -f "$root/tests/fuzz/$t.dict" ] && dict="-dict=$root/tests/fuzz/$t.dict"
    mkdir -p "$work/$t/new" "$work/$t/findings"
    set +e
    # New inputs go to the first directory only; the committed corpus is read, not written.
    # shellcheck disable=SC2086  # $dict is empty or one word
    "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len=4096 -print_final_stats=1 -artifact_prefix="$work/$t/findings/" $dict \
        "$work/$t/new" "$corpus" >"$work/$t/log" 2>&1
    echo $? >"$work/$t/status"
    set -e
}

start=$(date +%s)
count=0
# shellcheck disable=SC2086  # one word per target
set -- $targets
while [ $# -gt 0 ]; do
    batch=0
    while [ $# -gt 0 ] && [ "$batch" -lt "$jobs" ]; do
        echo "fuzz: $1 for ${seconds} s"
        run_target "$1" &
        shift
        count=$((count + 1))
        batch=$((batch + 1))
    done
    wait
done
elapsed=$(($(date +%s) - start))

failed=0
printf '\n%-22s %12s %8s %7s %7s %8s %8s\n' target executions exec/s cov ft new crashes
for t in $targets; do
    log="$work/$t/log"
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep ' cov: ' "$log" | tail -n 1 | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(grep ' ft: ' "$log" | tail -n 1 | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    new=$(find "$work/$t/new" -type f | wc -l)
    crashes=$(find "$work/$t/findings" -type f | wc -l)
    status=$(cat "$work/$t/status")
    if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes="?"; fi
    printf '%-22s %12s %8s %7s %7s %8s %8s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
        "${ft:-?}" "$new" "$crashes"
    if [ "$status" -ne 0 ]; then
        failed=1
        echo "--- fuzz_$t failed (exit $status); the end of its log:"
        tail -n 60 "$log"
        mkdir -p "$findings/$t"
        cp "$log" "$findings/$t/fuzz.log"
        echo "--- its whole log: $findings/$t/fuzz.log"
        for found in "$work/$t/findings"/*; do
            [ -f "$found" ] || continue
            f="$findings/$t/$(basename "$found")"
            cp "$found" "$f"
            echo "--- kept: $f"
            echo "    reproduce: $build/tests/fuzz/fuzz_$t $f"
            echo "    once fixed: cp $f $root/tests/fuzz/corpus/$t/regression-<what>"
        done
    fi
done
echo "fuzz: $count targets, ${seconds} s each, $jobs at a time, ${elapsed} s in all"

if [ "${FUZZ_UPDATE_CORPUS:-0}" = 1 ] && [ "$failed" -eq 0 ]; then
    seeds=""
    if [ "${FUZZ_RESEED:-0}" = 1 ]; then
        python3 "$root/tests/fuzz/make_seeds.py" "$work/seeds"
        seeds="$work/seeds"
    fi
    for t in $targets; do
        corpus="$root/tests/fuzz/corpus/$t"
        mkdir -p "$corpus" "$work/$t/merged"
        extra=""
        [ -n "$seeds" ] && [ -d "$seeds/$t" ] && extra="$seeds/$t"
        # shellcheck disable=SC2086  # $extra is empty or one directory
        "$build/tests/fuzz/fuzz_$t" -merge=1 -use_counters=0 -max_len=4096 "$work/$t/merged" \
            "$corpus" "$work/$t/new" $extra >"$work/$t/merge.log" 2>&1
        # Minimised: the inputs that reach new edges (hit counts ignored, which keeps the corpus
        # at tens of files), plus the regression inputs of past findings.
        find "$corpus" -type f ! -name 'regression-*' -delete
        find "$work/$t/merged" -type f -exec cp {} "$corpus"/ \;
        echo "fuzz: tests/fuzz/corpus/$t now holds $(find "$corpus" -type f | wc -l) inputs"
    done
fi

exit "$failed"
