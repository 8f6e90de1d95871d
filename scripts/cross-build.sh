#!/bin/sh
# Cross-builds the Debian package for the Raspberry Pi on an amd64 Debian machine and runs its
# tests under qemu-user-static.
#
# Usage: scripts/cross-build.sh arm64|armhf [ctest arguments]
#   arm64: Raspberry Pi 3/4/5 with a 64-bit OS; armhf: 32-bit Raspberry Pi OS / Debian armhf.
#   The ctest arguments choose the tests (default: -L 'unit|serial|mqtt', see below).
#
# Needs root (it builds a chroot). Steps:
#  1. A Debian bookworm chroot with the foreign architecture added (mmdebstrap; kept in
#     build-deb/cross-chroot-ARCH and reused). The build dependencies of another
#     architecture are installed there, not on this machine: some -dev packages (yaml-cpp)
#     cannot be installed for two architectures at once and would replace this machine's.
#  2. In it: crossbuild-essential-ARCH, qemu-user-static and the build dependencies of
#     debian/control for ARCH (apt-get build-dep -a ARCH), then
#     `dpkg-buildpackage -a ARCH -us -uc -b` with DEB_BUILD_OPTIONS=nocheck: the test
#     binaries are built (for ARCH) but not run by the package build.
#  3. ctest in the build folder: every test binary runs under qemu-ARCH-static (CMake's
#     CROSSCOMPILING_EMULATOR, set by debian/rules; no binfmt_misc needed; the ARCH libraries
#     come from the chroot's multiarch folders, so no QEMU_LD_PREFIX either).
#     The cli and daemon tests start the evn-mbus binary as a child process; that needs the
#     kernel's binfmt_misc to hand ARM binaries to qemu, which this script does not set up
#     (it is global to the machine). So they are left out by default.
#  4. lintian on the .deb; the .deb lands in build-deb/cross-ARCH/.
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
arch="${1:-}"
case "$arch" in
    arm64) triplet=aarch64-linux-gnu ;;
    armhf) triplet=arm-linux-gnueabihf ;;
    *)
        echo "usage: $0 arm64|armhf [ctest arguments]" >&2
        exit 2
        ;;
esac
shift
if [ "$#" -eq 0 ]; then set -- -L 'unit|serial|mqtt'; fi
if [ "$(id -u)" -ne 0 ]; then
    echo "cross-build: run me as root (I build a chroot)" >&2
    exit 2
fi
chroot_dir="${CROSS_CHROOT:-$root/build-deb/cross-chroot-$arch}"
out="$root/build-deb/cross-$arch"
jobs="$(nproc 2>/dev/null || echo 2)"
now() { date +%s; }
t0="$(now)"

# Runs a command in the chroot with /dev (ptys for the serial tests) and /proc mounted in a
# private mount namespace: the mounts vanish with the command, nothing stays mounted.
in_chroot() {
    # shellcheck disable=SC2016  # expanded by the inner shell
    unshare --mount --propagation private --fork sh -c '
        c="$1"; shift
        mount --rbind /dev "$c/dev"
        mount -t proc proc "$c/proc"
        exec chroot "$c" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
            LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"' sh "$chroot_dir" "$@"
}

missing=""
for p in mmdebstrap lintian; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "cross-build: installing:$missing"
    apt-get update
    # shellcheck disable=SC2086  # the list is meant to split into words
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi

tools="crossbuild-essential-$arch,qemu-user-static,debhelper,dpkg-dev,git"
if [ ! -x "$chroot_dir/usr/bin/dpkg-buildpackage" ]; then
    echo "cross-build: creating the bookworm chroot $chroot_dir"
    rm -rf "$chroot_dir"
    mkdir -p "$root/build-deb" "$(dirname "$chroot_dir")"
    # The suites of a default Debian installation; one retry for a mirror caught mid-sync
    # ("File has unexpected size"). CROSS_SUITES="bookworm bookworm-updates" leaves out the
    # security suite if its mirror stays broken (the package then lacks security updates).
    for suite in ${CROSS_SUITES:-bookworm bookworm-updates bookworm-security}; do
        case "$suite" in
            *-security) echo "deb http://deb.debian.org/debian-security $suite main" ;;
            *) echo "deb http://deb.debian.org/debian $suite main" ;;
        esac
    done >"$root/build-deb/cross-sources-$arch.list"
    for attempt in 1 2; do
        if mmdebstrap --variant=buildd --architectures="amd64,$arch" --include="$tools" \
            bookworm "$chroot_dir" - <"$root/build-deb/cross-sources-$arch.list"; then
            break
        fi
        [ "$attempt" -eq 2 ] && exit 1
        echo "cross-build: mmdebstrap failed; trying again in 60 s"
        rm -rf "$chroot_dir"
        sleep 60
    done
    in_chroot apt-get update -q  # mmdebstrap leaves no package lists
else
    echo "cross-build: reusing the chroot $chroot_dir"
    in_chroot apt-get update -q
    # shellcheck disable=SC2046  # the list is meant to split into words
    in_chroot apt-get install -y -q --no-install-recommends $(echo "$tools" | tr , ' ')
fi
t1="$(now)"

# The tests connect to "localhost"; a fresh chroot has no /etc/hosts to resolve it.
if [ ! -s "$chroot_dir/etc/hosts" ]; then
    printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' \
        >"$chroot_dir/etc/hosts"
fi

# The sources: what git tracks plus new files that are not ignored (as scripts/build-deb.sh).
rm -rf "$chroot_dir/build"
mkdir -p "$chroot_dir/build/evn-mbus"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$root" && git ls-files -z --cached --others --exclude-standard |
        tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
        tar -xf - -C "$chroot_dir/build/evn-mbus"
else
    (cd "$root" && tar --exclude='./build*' --exclude='./obj-*' -cf - .) |
        tar -xf - -C "$chroot_dir/build/evn-mbus"
fi

in_chroot apt-get build-dep -y -q --no-install-recommends -a "$arch" /build/evn-mbus
t2="$(now)"

in_chroot sh -c "cd /build/evn-mbus &&
    DEB_BUILD_OPTIONS='nocheck parallel=$jobs' dpkg-buildpackage -a $arch -us -uc -b"
t3="$(now)"

echo "cross-build: running the tests under qemu: ctest $*"
status=0
# Under qemu-user every instruction is emulated (5-20 times slower), and the mqtt and serial
# tests wait for a real broker and a pty with bounds made for a native machine: a test that
# fails is run once more (--repeat until-pass:2), and its first failure stays in the log
# above the summary. A test that fails twice fails the stage. The native suite, the package
# build and the sanitizer runs have no second try.
# shellcheck disable=SC2016  # expanded by the inner shell
in_chroot sh -c 'dir="$1" jobs="$2"; shift 2; cd "$dir" &&
    ctest --output-on-failure --repeat until-pass:2 -j"$jobs" "$@"' \
    sh "/build/evn-mbus/obj-$triplet" "$jobs" "$@" || status=$?
t4="$(now)"

rm -rf "$out"
mkdir -p "$out"
cp "$chroot_dir"/build/evn-mbus_*_"$arch".deb "$out/"
for f in "$chroot_dir"/build/*.ddeb "$chroot_dir"/build/*.buildinfo "$chroot_dir"/build/*.changes; do
    [ -e "$f" ] && cp "$f" "$out/"
done
deb="$(ls "$out"/evn-mbus_*_"$arch".deb)"
lintian --fail-on error,warning "$deb" || status=1
file_type="$(file -b "$chroot_dir/build/evn-mbus/obj-$triplet/src/app/evn-mbus" 2>/dev/null || true)"
t5="$(now)"

echo "cross-build: $deb"
[ -n "$file_type" ] && echo "cross-build: evn-mbus is: $file_type"
echo "cross-build: times (s): chroot $((t1 - t0)), build dependencies $((t2 - t1))," \
     "build $((t3 - t2)), tests under qemu $((t4 - t3)), lintian $((t5 - t4))," \
     "total $((t5 - t0))"
exit "$status"
