#!/bin/sh
# Installs what evn-mbus needs to build, test and run its demo, from Debian's packages
# (bookworm). Safe to run again. Runs apt-get as root, or through sudo.
set -eu

packages="
    build-essential cmake pkg-config git ca-certificates
    libssl-dev libboost-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
    libpaho-mqttpp-dev libpaho-mqtt-dev libsystemd-dev libtelnet-dev
    nlohmann-json3-dev libcli11-dev
    libgtest-dev libgmock-dev libbenchmark-dev
    mosquitto mosquitto-clients openssl procps ser2net prometheus curl
    clang-14 libclang-rt-14-dev python3
"

missing=""
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -z "$missing" ]; then
    echo "install-deps: all build and test dependencies are installed"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "install-deps: need root (or sudo) to install:$missing" >&2
    exit 1
fi

echo "install-deps: installing:$missing"
$sudo apt-get update
# shellcheck disable=SC2086  # the list is meant to split into words
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends $missing
