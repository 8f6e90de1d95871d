#!/bin/sh
# Builds the Debian package evn-mbus_<version>_<arch>.deb on this machine and checks it with
# lintian (no errors, no warnings). Installs what it needs with apt-get (as root or through
# sudo): debhelper, lintian and the build dependencies of debian/control.
#
# Usage: scripts/build-deb.sh [OUTPUT_DIR]      (default: build-deb/package)
#   DEB_BUILD_OPTIONS=nocheck scripts/build-deb.sh   builds without running the tests.
#
# The build runs in a copy of the sources (the files git tracks plus new files that are not
# ignored), so the work tree stays clean and the package is the one a clean clone gives.
# The .deb, .buildinfo and .changes files end up in OUTPUT_DIR.
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/build-deb/package}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    sudo="false"  # fails with a message below if anything has to be installed
fi
now() { date +%s; }
started="$(now)"

# Tools for building and checking packages.
missing=""
for p in build-essential dpkg-dev debhelper lintian git; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    echo "build-deb: installing:$missing"
    $sudo apt-get update
    # shellcheck disable=SC2086  # the list is meant to split into words
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends $missing
fi

# A copy of the sources.
src="$out/src/evn-mbus"
rm -rf "$out/src"
mkdir -p "$src"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$root" && git ls-files -z --cached --others --exclude-standard |
        tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$src"
else
    (cd "$root" && tar --exclude='./build*' --exclude='./obj-*' -cf - .) | tar -xf - -C "$src"
fi

# The build dependencies (with the nocheck profile when the tests are skipped).
profiles=""
case " ${DEB_BUILD_OPTIONS:-} " in *" nocheck "*) profiles="nocheck" ;; esac
if ! (cd "$src" && dpkg-checkbuilddeps ${profiles:+-P "$profiles"} >/dev/null 2>&1); then
    echo "build-deb: installing the build dependencies of debian/control"
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get build-dep -y --no-install-recommends \
        ${profiles:+-P "$profiles"} "$src"
fi
deps_done="$(now)"

# The build: configure, compile, run the tests (dh_auto_test, unless nocheck), package.
cd "$src"
dpkg-buildpackage -us -uc -b -j"$(nproc 2>/dev/null || echo 2)" ${profiles:+-P"$profiles"}
build_done="$(now)"
for f in "$out"/src/*.deb "$out"/src/*.ddeb "$out"/src/*.buildinfo "$out"/src/*.changes; do
    [ -e "$f" ] && mv -f "$f" "$out/"
done

# lintian: errors and warnings fail the build; the informational tags are shown too.
debs="$(echo "$out"/evn-mbus_*.deb)"  # the debug symbols are in a .ddeb
# shellcheck disable=SC2086  # one or more file names without spaces
lintian --fail-on error,warning --display-info $debs
echo "build-deb: lintian: no errors, no warnings"
lintian_done="$(now)"

echo "build-deb: built $debs"
echo "build-deb: times (s): dependencies $((deps_done - started)), build and tests" \
     "$((build_done - deps_done)), lintian $((lintian_done - build_done))," \
     "total $((lintian_done - started))"
