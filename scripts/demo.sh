#!/bin/bash
# README command one: installs the dependencies, builds, and runs the whole chain on this
# machine: a simulated EVN Kaifa MA309M meter on a pseudo-terminal, a local Mosquitto on a
# free loopback port, and the evn-mbus daemon between them. Shows the readings as they arrive
# on the broker until Ctrl-C (or for DEMO_SECONDS seconds), then stops everything it started.
#
#   DEMO_SPEED=5 scripts/demo.sh     # five times faster than a real meter (one push a second)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh"
echo "demo: building (first time takes a few minutes)..."
"$root/scripts/build.sh" >/dev/null
bin="${BUILD_DIR:-$root/build}/src/app/evn-mbus"

work="$(mktemp -d /tmp/evn-mbus-demo.XXXXXX)"
pids=()
cleanup() {
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
    echo "demo: stopped; everything it started is gone"
}
trap cleanup EXIT INT TERM

# A broker of our own on a free loopback port (a port in use makes mosquitto exit at once).
port=""
for _ in $(seq 1 20); do
    candidate=$((20000 + RANDOM % 40000))
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$candidate" \
        >"$work/mosquitto.conf"
    mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
    broker=$!
    sleep 0.5
    if kill -0 "$broker" 2>/dev/null; then
        pids+=("$broker")
        port="$candidate"
        break
    fi
done
[ -n "$port" ] || { echo "demo: could not start mosquitto" >&2; exit 1; }

# The simulated meter. Its key is EVN's published example key; a real meter's comes from the
# grid operator's web portal.
key="36C66639E48A8CA4D6BC8B282A793BBB"
"$bin" simulate --link "$work/meter" --key "$key" --speed "${DEMO_SPEED:-5}" \
    >"$work/simulate.out" 2>"$work/simulate.log" &
pids+=("$!")

cat >"$work/evn-mbus.yaml" <<CONFIG
serial:
  device: $work/meter
meter:
  key: "$key"
mqtt:
  uri: tcp://127.0.0.1:$port
  topic_prefix: evn
log:
  level: info
CONFIG
"$bin" run --config "$work/evn-mbus.yaml" --log-target stderr 2>"$work/evn-mbus.log" &
pids+=("$!")

echo "demo: meter simulator -> $work/meter -> evn-mbus -> mosquitto on 127.0.0.1:$port"
echo "demo: daemon log: $work/evn-mbus.log; press Ctrl-C to stop"
echo
sub=(mosquitto_sub -h 127.0.0.1 -p "$port" -v -t 'evn/#' -T evn/raw -T evn/state
     -T evn/diagnostics)
if [ -n "${DEMO_SECONDS:-}" ]; then
    timeout "$DEMO_SECONDS" "${sub[@]}" || true
    echo
    echo "demo: daemon log:"
    cat "$work/evn-mbus.log"
else
    "${sub[@]}" || true
fi
