#!/bin/sh
# Builds evn-mbus and its tests with GCC's sanitizers and runs them; prints the time of each
# stage. Any sanitizer finding fails the script.
#
#   scripts/sanitize.sh [asan] [tsan]     default: both
#
#   asan  AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer included) in
#         ./build-asan: the whole test suite, every label (the benchmarks are not built).
#         SANITIZE_ASAN_CTEST="-LE soak" (for example) narrows it.
#   tsan  ThreadSanitizer in ./build-tsan: the tests whose processes run several threads, the
#         MQTT publisher (Paho calls back from its own threads) and the daemon as a process:
#         labels mqtt, daemon and e2e, but for the start-up signal tests and the AMIS
#         end-to-end tests (also the one through ser2net). SANITIZE_TSAN_CTEST overrides
#         "-L ^(mqtt|daemon|e2e)$ -E ^(startup_signals|amis_e2e|bridge_e2e.an_amis)".
#         The AMIS tests run the meter's 9600-baud line a byte per write for about a minute;
#         under ThreadSanitizer on two cores that load made a broker-timing test beside them
#         miss its 5 s wait (meter_status, once). They add no thread to check: the simulator
#         and the daemon's serial side are one Asio thread each, and the MQTT side is covered
#         by the other e2e tests. They run in the ASan+UBSan stage and in scripts/test.sh.
#         Those measure when SIGTERM reaches the daemon's handler, and ThreadSanitizer's
#         runtime takes every signal first and calls the handler later, at a point it deems
#         safe. Under load it lost one of 3,000: the daemon sat in epoll_wait with SIGTERM
#         unblocked, no signal pending in the kernel (/proc/<pid>/task/*/status) and our handler
#         never called. They run in the plain suite (1,000 + 300 starts) and under ASan+UBSan,
#         whose runtimes deliver signals as the kernel does.
#
# The sanitizers are built into everything compiled from this tree (CMake's EVN_MBUS_SANITIZE:
# no recovery, every finding aborts), including the evn-mbus program that the daemon and
# end-to-end tests start as a child process. Debian's libraries (Paho, OpenSSL, libstdc++) are
# not instrumented. Reports go to files (<build>/sanitizer-reports/), so that a finding in a
# child process whose exit status a test does not look at still fails this script; they are
# printed at the end. tests/tsan.supp holds ThreadSanitizer suppressions for Paho only, one
# reason per entry; our own code is never suppressed.
set -eu
# The start-up signal tests start the daemon 1,300 times in the plain suite; under the
# sanitizers each start is several times slower, and 200 runs of each still reach every
# stage of start-up.
EVN_MBUS_STARTUP_RUNS="${EVN_MBUS_STARTUP_RUNS:-200}"
export EVN_MBUS_STARTUP_RUNS
root="$(cd "$(dirname "$0")/.." && pwd)"
cores="$(nproc 2>/dev/null || echo 2)"
stages="${*:-asan tsan}"
for s in $stages; do
    case "$s" in
        asan | tsan) ;;
        *)
            echo "usage: $0 [asan] [tsan]" >&2
            exit 2
            ;;
    esac
done

summary=""
failed=0
t0=$(date +%s)
mark=$t0
# stage_done NAME: records how long the stage since the last mark took.
stage_done() {
    now=$(date +%s)
    summary="$summary$(printf '%-34s %5d s' "$1" $((now - mark)))
"
    echo "=== sanitize: $1 took $((now - mark)) s"
    mark=$now
}

"$root/scripts/install-deps.sh"
stage_done "dependencies"

# Kernels with more mmap randomisation than the sanitizer runtimes of GCC 12 know (Linux 6.5+
# may use 32 bits) make them fail at start; such a run needs ASLR off for the test processes.
run_tests() {
    bits="$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 28)"
    if [ "$bits" -gt 28 ]; then
        if setarch "$(uname -m)" -R true 2>/dev/null; then
            echo "sanitize: vm.mmap_rnd_bits is $bits: running the tests with ASLR off"
            setarch "$(uname -m)" -R "$@"
            return
        fi
        echo "sanitize: vm.mmap_rnd_bits is $bits and ASLR cannot be turned off here; the" \
            "sanitizers may fail to start (sysctl vm.mmap_rnd_bits=28 helps)" >&2
    fi
    "$@"
}

# check_reports DIR NAME: fails when a sanitizer wrote a report.
check_reports() {
    reports="$(find "$1" -type f 2>/dev/null | sort)"
    if [ -n "$reports" ]; then
        echo "=== sanitize: $2 reported $(echo "$reports" | wc -l) finding(s):"
        for r in $reports; do
            echo "--- $r"
            cat "$r"
        done
        return 1
    fi
    echo "sanitize: no $2 reports"
}

# build DIR SANITIZERS [targets...]
build() {
    dir="$1"
    sanitizers="$2"
    shift 2
    # Warnings are the normal build's business (GCC warns about fences under TSan, in headers).
    # ASan+UBSan at -O1 -g1, as the sanitizers' own documentation advises: line tables are all
    # its reports need, and GCC 12 compiles the heaviest test file in 40 s instead of 77 s at
    # RelWithDebInfo's -O2 -g (the ASan build took 27 of CI's 86 minutes). TSan keeps -O2 -g:
    # its suppressions (tests/tsan.supp) name inlined frames (~shared_ptr), which -g1 does not
    # describe, so at -g1 a suppressed Paho race was reported and stopped the daemon.
    flags="-O2 -g -DNDEBUG"  # CMake's RelWithDebInfo, said so that a reused build folder gets it
    if [ "$sanitizers" = "address,undefined" ]; then flags="-O1 -g1 -DNDEBUG"; fi
    cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEVN_MBUS_SANITIZE="$sanitizers" \
        -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$flags" -DCMAKE_C_FLAGS_RELWITHDEBINFO="$flags" \
        -DEVN_MBUS_WERROR=OFF -DEVN_MBUS_BUILD_BENCH=OFF -DEVN_MBUS_FUZZ=OFF >/dev/null
    if [ $# -gt 0 ]; then
        targets=""
        for t in "$@"; do targets="$targets --target $t"; done
        # shellcheck disable=SC2086  # one word per argument
        cmake --build "$dir" -j "$cores" $targets
    else
        cmake --build "$dir" -j "$cores"
    fi
}

# ctest_run DIR ARGS...: the number of tests run goes into $ran.
ctest_run() {
    dir="$1"
    shift
    ran="$(cd "$dir" && ctest -N "$@" | sed -n 's/^Total Tests: //p')"
    status=0
    # shellcheck disable=SC2086  # one word per argument
    (cd "$dir" && run_tests ctest --output-on-failure -j "$cores" "$@") || status=$?
    return "$status"
}

for s in $stages; do
    if [ "$s" = asan ]; then
        dir="$root/build-asan"
        echo "=== sanitize: AddressSanitizer + UndefinedBehaviorSanitizer build in $dir"
        build "$dir" address,undefined
        stage_done "asan+ubsan build"
        reports="$dir/sanitizer-reports"
        rm -rf "$reports"
        mkdir -p "$reports"
        ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
        ASAN_OPTIONS="$ASAN_OPTIONS:check_initialization_order=1:strict_init_order=1"
        ASAN_OPTIONS="$ASAN_OPTIONS:detect_stack_use_after_return=1:log_path=$reports/asan"
        UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan"
        export ASAN_OPTIONS UBSAN_OPTIONS
        # shellcheck disable=SC2086  # ctest arguments, one word each
        if ! ctest_run "$dir" ${SANITIZE_ASAN_CTEST:-}; then
            echo "=== sanitize: asan+ubsan: tests failed"
            failed=1
        fi
        check_reports "$reports" "AddressSanitizer/UndefinedBehaviorSanitizer" || failed=1
        unset ASAN_OPTIONS UBSAN_OPTIONS
        stage_done "asan+ubsan tests ($ran)"
    fi
    if [ "$s" = tsan ]; then
        dir="$root/build-tsan"
        echo "=== sanitize: ThreadSanitizer build in $dir"
        build "$dir" thread evn-mbus evn_mbus_mqtt_tests evn_mbus_service_tests evn_mbus_e2e_tests
        stage_done "tsan build"
        reports="$dir/sanitizer-reports"
        rm -rf "$reports"
        mkdir -p "$reports"
        TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$reports/tsan"
        if [ -f "$root/tests/tsan.supp" ]; then
            TSAN_OPTIONS="$TSAN_OPTIONS:suppressions=$root/tests/tsan.supp"
        fi
        export TSAN_OPTIONS
        args="${SANITIZE_TSAN_CTEST:-"-L ^(mqtt|daemon|e2e)\$ -E ^(startup_signals|amis_e2e|bridge_e2e.an_amis)"}"
        # shellcheck disable=SC2086  # ctest arguments, one word each
        if ! ctest_run "$dir" $args; then
            echo "=== sanitize: tsan: tests failed"
            failed=1
        fi
        check_reports "$reports" "ThreadSanitizer" || failed=1
        unset TSAN_OPTIONS
        stage_done "tsan tests ($ran)"
    fi
done

echo "=== sanitize: times"
printf '%s' "$summary"
printf '%-34s %5d s\n' "total" $(($(date +%s) - t0))
if [ "$failed" -ne 0 ]; then
    echo "=== sanitize: FAILED"
    exit 1
fi
echo "=== sanitize: passed"
