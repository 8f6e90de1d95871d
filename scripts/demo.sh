#!/bin/sh
# README command one: installs the dependencies, builds, and decodes every real meter capture
# in fixtures/ with its published key, printing the readings as JSON.
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" >/dev/null
bin="${BUILD_DIR:-$root/build}/src/app/evn-mbus"
# id and key of each capture, as published with it (fixtures/README.md gives the sources).
while read -r id key; do
    echo "== $id"
    "$bin" decode --key "$key" "$root/fixtures/$id.hex"
done <<KEYS
evn_kaifa_ma309_doc 36C66639E48A8CA4D6BC8B282A793BBB
tinetz_kaifa_ma309_doc 101112131415161718191A1B1C1D1E1F
evn_sagemcom_t210d_fkw9 E36344D76C1F6E5DD9F54258B5508866
KEYS
