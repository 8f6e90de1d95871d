#!/bin/sh
# Builds Release and runs every benchmark, then prints one table (docs/BENCHMARKS.md explains
# the method and shows the figures):
#   core decode throughput and allocations per telegram (Google Benchmark, tests/bench/core_bench)
#   end-to-end latency, daemon footprint (RSS, CPU per push and per hour), start-up to READY=1
#   (the daemon as a process against a real Mosquitto, tests/bench/daemon_bench)
#   the AMIS acknowledgement (E5h) latency over 1,000 frames on a pty (evn-mbus simulate)
#   the latency through Debian's ser2net on loopback (raw TCP and RFC 2217), beside the pty's
#   the HTTP API: latency of 10,000 requests on loopback, the daemon's RSS with it off and on
# About two minutes after the build. Arguments go to evn_mbus_daemon_bench, e.g.
#   scripts/bench.sh latency --latency-pushes 5000
# Environment: BUILD_DIR (default build-release), CORE_MIN_TIME (seconds per decode
# benchmark, default 2).
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build-release}"
jobs="$(nproc 2>/dev/null || echo 2)"

"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DEVN_MBUS_WERROR=ON \
    -DEVN_MBUS_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j "$jobs" --target evn-mbus evn_mbus_core_bench evn_mbus_daemon_bench \
    evn_mbus_http_bench

out="$(mktemp -d "${TMPDIR:-/tmp}/evn-mbus-bench-XXXXXX")"
trap 'rm -rf "$out"' EXIT
trap 'exit 130' INT TERM

echo "== core decode throughput =="
"$build/tests/bench/evn_mbus_core_bench" --benchmark_min_time="${CORE_MIN_TIME:-2}" \
    --benchmark_out="$out/core.json" --benchmark_out_format=json
echo
echo "== the daemon as a process =="
if [ "$#" -eq 0 ]; then
    # Also a few pushes at the meter's own pace (2400 baud, 8 bytes a write): the daemon then
    # reads each push in dozens of small pieces, as from a real UART.
    "$build/tests/bench/evn_mbus_daemon_bench" latency --paced --latency-pushes 20 --warmup 2 \
        --json "$out/paced.json"
else
    echo '{}' >"$out/paced.json"
fi
"$build/tests/bench/evn_mbus_daemon_bench" --json "$out/daemon.json" "$@"
if [ "$#" -eq 0 ]; then
    # The meter far from the Pi: the same pushes read by Debian's ser2net from the pty and
    # passed to the daemon on a loopback port, raw and with RFC 2217 (what the bridge adds).
    for via in tcp rfc2217; do
        "$build/tests/bench/evn_mbus_daemon_bench" latency --via "$via" \
            --json "$out/bridge-$via.json"
    done
    # The silence inside a frame, on the pty and through ser2net: what serial.idle_gap_ms must
    # exceed (about 50 s).
    "$build/tests/bench/evn_mbus_daemon_bench" gaps --json "$out/gaps.json"
else
    echo '{}' >"$out/bridge-tcp.json"
    echo '{}' >"$out/bridge-rfc2217.json"
    echo '{}' >"$out/gaps.json"
fi
echo
echo "== the HTTP API: 10,000 requests on loopback, RSS with it off and on =="
"$build/tests/bench/evn_mbus_http_bench" --json "$out/http.json"
echo
echo "== AMIS: the daemon's acknowledgement, 1,000 frames on a pty =="
# The simulated AMIS meter (Netz OOe) sends a push as soon as the last one was answered; it
# measures from the frame's last byte to the E5h. The daemon decodes and answers, no MQTT.
printf 'serial:\n  device: %s\n  baud: 9600\n  link: amis\nmeter:\n  key: %s\n' \
    "$out/meter" 36C66639E48A8CA4D6BC8B282A793BBB >"$out/amis.yaml"
timeout 300 "$build/src/app/evn-mbus" simulate --link-layer amis --link "$out/meter" --count 1000 \
    --speed max --report "$out/amis.json" >/dev/null 2>"$out/amis-simulate.log" &
simulator=$!
"$build/src/app/evn-mbus" run --config "$out/amis.yaml" --no-mqtt --log-target stderr \
    >/dev/null 2>"$out/amis-run.log" &
daemon=$!
wait "$simulator" || { cat "$out/amis-simulate.log" "$out/amis-run.log"; exit 1; }
kill "$daemon"
wait "$daemon" || true
tail -n 1 "$out/amis-simulate.log"

compiler="$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")"
compiler_version="$("${compiler:-c++}" --version | head -n 1)"
cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)"
cpus="$(nproc)"
kernel="$(uname -sr)"

python3 - "$out/core.json" "$out/daemon.json" "$out/paced.json" \
    "$cpu" "$cpus" "$kernel" "$compiler_version" "$out/amis.json" \
    "$out/bridge-tcp.json" "$out/bridge-rfc2217.json" "$out/gaps.json" "$out/http.json" <<'EOF'
import json
import sys

core_path, daemon_path, paced_path, cpu, cpus, kernel, compiler, amis_path = sys.argv[1:9]
bridges = {via: json.load(open(path)).get("latency")
           for via, path in (("raw TCP", sys.argv[9]), ("RFC 2217", sys.argv[10]))}
gaps = json.load(open(sys.argv[11])).get("gaps")
http = json.load(open(sys.argv[12]))
amis = json.load(open(amis_path))
core = json.load(open(core_path))["benchmarks"]
daemon = json.load(open(daemon_path))
paced = json.load(open(paced_path)).get("latency")
rows = []


def row(name, value, target="", met=None):
    rows.append((name, value, target, "" if met is None else ("yes" if met else "NO")))


for b in core:
    if b.get("run_type") != "iteration":
        continue
    name = b["name"].replace("bm_real_capture/", "capture ").replace("bm_synthetic_kaifa",
                                                                     "synthetic EVN Kaifa x100")
    rate = b["telegrams/s"]
    allocs = b["allocs/telegram"]
    # Google Benchmark averages over every iteration: a few allocations while buffers grow
    # to their final size show as millionths. Those count as none.
    row("decode " + name, f"{rate:,.0f} telegrams/s, {allocs:.2g} allocs/telegram",
        ">= 500,000/s, 0 allocs", rate >= 500000 and allocs < 1e-3)

lat = daemon.get("latency")
if lat:
    row(f"latency to first message ({lat['pushes']} pushes)",
        f"p50 {lat['first_p50_ms']:.2f} ms, p99 {lat['first_p99_ms']:.2f} ms, "
        f"max {lat['first_max_ms']:.1f} ms")
    row(f"latency to last message ({lat['messages_per_push']} a push)",
        f"p50 {lat['state_p50_ms']:.2f} ms, p99 {lat['state_p99_ms']:.2f} ms, "
        f"max {lat['state_max_ms']:.1f} ms", "p99 < 10 ms", lat["state_p99_ms"] < 10)

for via, b in bridges.items():
    if b:
        row(f"latency through ser2net, {via} ({b['pushes']} pushes)",
            f"p50 {b['state_p50_ms']:.2f} ms, p99 {b['state_p99_ms']:.2f} ms, "
            f"max {b['state_max_ms']:.1f} ms (last message)")

if gaps:
    for baud, by in gaps.items():
        row(f"silence inside a frame at {baud} baud (pty / ser2net)",
            f"max {by['pty']['max_ms']:.1f} ms / {by['ser2net']['max_ms']:.1f} ms",
            "< idle gap (100 / 500 ms)",
            by["pty"]["max_ms"] < 100 and by["ser2net"]["max_ms"] < 500)

if paced:
    row(f"latency at 2400 baud ({paced['pushes']} pushes)",
        f"p50 {paced['state_p50_ms']:.2f} ms, p99 {paced['state_p99_ms']:.2f} ms, "
        f"max {paced['state_max_ms']:.1f} ms (last message)")

fp = daemon.get("footprint")
if fp:
    mib = lambda kib: kib / 1024.0
    row("RSS: VmRSS end / VmHWM",
        f"{mib(fp['vm_rss_kib']):.1f} MiB / {mib(fp['vm_hwm_kib']):.1f} MiB "
        f"(after warm-up {mib(fp['vm_rss_start_kib']):.1f})", "< 10 MiB",
        fp["vm_hwm_kib"] < 10 * 1024)
    row("RSS: shared libraries / private",
        f"{mib(fp['rss_file_kib']):.1f} MiB file-backed / {mib(fp['private_dirty_kib']):.1f} MiB "
        f"private dirty; Pss {mib(fp['pss_kib']):.1f} MiB")
    row(f"CPU a push ({fp['pushes']:,} accelerated)",
        f"{fp['cpu_per_push_us']:.0f} us ({fp['pushes_per_s']:.0f} pushes/s)")
    if lat:
        row(f"CPU a push (one every {lat['interval_ms']} ms)", f"{lat['cpu_per_push_us']:.0f} us")
    if paced:
        row("CPU a push (at 2400 baud)", f"{paced['cpu_per_push_us']:.0f} us")
    row("CPU idle", f"{fp['idle_cpu_ms_per_hour']:.0f} ms an hour, "
        f"{fp['idle_wakeups_per_s']:.1f} wake-ups/s")
    hour = lambda us, period: (fp["idle_cpu_ms_per_hour"] + us / 1000 * 3600 / period) / 1000
    row("CPU an hour (accelerated a push)",
        f"{hour(fp['cpu_per_push_us'], 5):.2f} s (a push every 5 s, EVN), "
        f"{hour(fp['cpu_per_push_us'], 1):.2f} s (every 1 s)")
    if paced:
        row("CPU an hour (2400 baud a push)",
            f"{hour(paced['cpu_per_push_us'], 5):.2f} s (a push every 5 s, EVN), "
            f"{hour(paced['cpu_per_push_us'], 1):.2f} s (every 1 s)")

al = amis["latency_ms"]
row(f"AMIS acknowledgement E5h ({al['count']} frames, pty)",
    f"p50 {al['p50']:.2f} ms, p99 {al['p99']:.2f} ms, max {al['max']:.1f} ms; "
    f"{amis['late']} late, {amis['missing']} missing", "every one < 500 ms",
    al["max"] < 500 and amis["late"] == 0 and amis["missing"] == 0)

for key, what in (("reading_keepalive", "GET /api/v1/reading, kept-alive"),
                  ("metrics_keepalive", "GET /metrics, kept-alive"),
                  ("reading_new_connection", "GET /api/v1/reading, new connection each")):
    t = http[key]
    row(f"HTTP {what} ({t['requests']:,} requests)",
        f"p50 {t['p50_ms']:.3f} ms, p99 {t['p99_ms']:.3f} ms, max {t['max_ms']:.1f} ms")
mem = lambda m: f"{m['vm_rss_kib'] / 1024:.1f} MiB (VmHWM {m['vm_hwm_kib'] / 1024:.1f})"
row("RSS with the HTTP API off / on (after the requests)",
    f"{mem(http['memory_http_off'])} / {mem(http['memory_http_on_after'])}, "
    f"+{(http['memory_http_on_after']['vm_rss_kib'] - http['memory_http_off']['vm_rss_kib']) / 1024:.2f} MiB")

st = daemon.get("startup")
if st:
    row(f"start-up to READY=1 ({st['runs']} runs)",
        f"median {st['ready_median_ms']:.1f} ms (min {st['ready_min_ms']:.1f}, "
        f"max {st['ready_max_ms']:.1f}); MQTT online {st['online_median_ms']:.1f} ms")

print()
print(f"evn-mbus benchmarks: {cpu}, {cpus} CPUs, {kernel}, {compiler}, Release")
widths = [max(len(r[i]) for r in rows + [("figure", "measured", "target", "met")])
          for i in range(4)]
line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
print(line(("figure", "measured", "target", "met")))
print(line(tuple("-" * w for w in widths)))
for r in rows:
    print(line(r))
EOF
