#!/bin/sh
# Tests the Debian package the way a user meets it: on a booted Debian 12 with systemd as
# PID 1, in a container (mmdebstrap makes the root, systemd-nspawn boots it; the host's own
# PID 1 need not be systemd). In the container, with both evn-mbus and the instance
# evn-mbus@meter2 enabled (valid keys, serial devices not plugged in, Mosquitto running):
#   - an upgrade from a package of the first layout (/etc/evn-mbus.yaml a conffile, edited by
#     the user) to this package, then to a newer one whose shipped configuration changed a
#     default: non-interactive, no --force-conf*, no prompt, the user's key kept, both units
#     restarted (new main process, not the deleted old program);
#   - systemctl reload: succeeds with a good file; with a broken one it fails, and the
#     service keeps running;
#   - remove: both stopped; purge: no enablement link, no file of the package left;
#   - a fresh installation: /etc/evn-mbus.yaml made 0640 root:evn-mbus, not a conffile, the
#     service not started, the placeholder key named.
# The two derived packages (older, newer) are this .deb with another version (dpkg-deb -R,
# -b); everything in them runs the real maintainer scripts and program.
#
# Usage (as root): scripts/test-install.sh path/to/evn-mbus_*.deb
#   TEST_INSTALL_ROOT_CACHE=/var/tmp/root.tar ...   keeps the bootstrapped root for the next run
#   OLDER_DEB=path/to/an/earlier.deb ...   upgrade from that package (its files and scripts,
#                                          given a version below this one) instead
# Needs mmdebstrap and systemd-container (installed with apt-get when missing) and the Debian
# mirror. Ends with "N passed, N failed"; exits 1 if a check failed. Cleans up on any exit.
set -eu

if [ "$(id -u)" -ne 0 ]; then
    echo "test-install: run me as root: I build and boot a container" >&2
    exit 2
fi
if [ "$#" -ne 1 ] || [ ! -f "$1" ]; then
    echo "usage: scripts/test-install.sh path/to/evn-mbus_VERSION_ARCH.deb" >&2
    exit 2
fi
deb="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
started="$(date +%s)"

missing=""
command -v mmdebstrap >/dev/null 2>&1 || missing="$missing mmdebstrap"
command -v systemd-nspawn >/dev/null 2>&1 || missing="$missing systemd-container"
if [ -n "$missing" ]; then
    echo "test-install: installing:$missing"
    apt-get update
    # shellcheck disable=SC2086  # the list is meant to split into words
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi

work="$(mktemp -d /var/tmp/evn-mbus-install.XXXXXX)"
root="$work/root"
log="$work/log"
mkdir -p "$log"
nspawn_pid=""
ct_pid=""

# end_process PID SIGNAL TRIES: sends SIGNAL, waits up to TRIES half seconds for the end.
end_process() {
    kill "-$2" "$1" 2>/dev/null || true
    i=0
    while kill -0 "$1" 2>/dev/null && [ "$i" -lt "$3" ]; do
        sleep 0.5
        i=$((i + 1))
    done
}

cleanup() {
    status=$?
    if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
        # SIGTERM: nspawn shuts the container down in order; SIGKILL if that hangs.
        end_process "$nspawn_pid" TERM 60
        kill -KILL "$nspawn_pid" 2>/dev/null || true
    fi
    # The container's init (and with it everything in its PID namespace) must be gone before
    # its root is deleted: nspawn killed by SIGKILL does not take it along.
    if [ -n "$ct_pid" ] && kill -0 "$ct_pid" 2>/dev/null; then
        end_process "$ct_pid" KILL 20
    fi
    # Mounts left under the root (mmdebstrap stopped halfway): unmount before deleting.
    findmnt -rn -o TARGET | grep "^$work/" | sort -r | while read -r m; do
        umount -l "$m" || true
    done
    rm -rf --one-file-system "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. "$(cd "$(dirname "$0")" && pwd)/checks.sh"
# ct COMMAND...: runs a command in the container, with a clean environment.
ct() {
    nsenter -t "$ct_pid" -a env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}
prop() { ct systemctl show -P "$2" "$1"; }
# wait_active UNIT: READY=1 (Type=notify) within 60 s.
wait_active() {
    i=0
    while [ "$i" -lt 120 ]; do
        [ "$(ct systemctl is-active "$1" 2>/dev/null || true)" = active ] && return 0
        sleep 0.5
        i=$((i + 1))
    done
    ct systemctl status --no-pager "$1" 2>&1 | sed 's/^/  /' || true
    return 1
}
# The processes running the program: "PID EXE" lines ("(deleted)": an old, replaced binary).
evn_processes() {
    # shellcheck disable=SC2016  # expanded in the container
    ct sh -c 'for p in /proc/[0-9]*; do
        e="$(readlink "$p/exe" 2>/dev/null)" || continue
        case "$e" in /usr/bin/evn-mbus*) echo "${p#/proc/} $e" ;; esac
    done'
}
# restarted UNIT OLD_PID: a new main process that runs the installed program.
restarted() {
    new="$(prop "$1" MainPID)"
    exe="$(ct readlink "/proc/$new/exe" 2>/dev/null || echo "no process")"
    echo "  $1: main process $2 -> $new ($exe)"
    [ "$new" != 0 ] && [ "$new" != "$2" ] && [ "$exe" = /usr/bin/evn-mbus ]
}
no_prompt() { ! grep -q "Configuration file '/etc/evn-mbus.yaml'" "$1"; }
not() { ! "$@"; }
both_active() { [ "$(ct systemctl is-active evn-mbus evn-mbus@meter2 | sort -u)" = active ]; }
stopped() { [ "$(ct systemctl is-active "$1" || true)" != active ]; }
no_deleted_program() { ! evn_processes | grep -q deleted; }
no_processes() { [ -z "$(evn_processes)" ]; }
user_gone() { ! ct getent passwd evn-mbus >/dev/null && ! ct getent group evn-mbus >/dev/null; }
not_loaded() { [ "$(prop "$1" LoadState)" != loaded ]; }
# shellcheck disable=SC2016  # expanded by dpkg-query
not_conffile() { ! ct dpkg-query -W -f='${Conffiles}' evn-mbus | grep -q evn-mbus.yaml; }
not_started() { ! ct systemctl is-enabled --quiet evn-mbus && ! ct systemctl is-active --quiet evn-mbus; }

# --- the packages: this one, an older one of the first layout, a newer one -----------------
version="$(dpkg-deb -f "$deb" Version)"
# derive FROM_DEB NEW_DEB VERSION older|newer
derive() {
    d="$work/derive"
    rm -rf "$d"
    dpkg-deb -R "$1" "$d"
    shift
    sed -i "s/^Version: .*/Version: $2/" "$d/DEBIAN/control"
    shipped=""
    for f in etc/evn-mbus.yaml usr/share/evn-mbus/evn-mbus.yaml; do
        if [ -f "$d/$f" ]; then shipped="$shipped $f"; fi
    done
    case "$3" in
    older)
        # The first packages shipped /etc/evn-mbus.yaml as a conffile.
        if [ ! -f "$d/etc/evn-mbus.yaml" ]; then
            mkdir -p "$d/etc"
            cp "$d/usr/share/evn-mbus/evn-mbus.yaml" "$d/etc/evn-mbus.yaml"
            echo /etc/evn-mbus.yaml >>"$d/DEBIAN/conffiles"
        fi
        ;;
    newer)
        # Upstream changed a default in the shipped configuration (and a comment).
        for f in $shipped; do
            sed -i 's/^\([[:space:]]*summary_interval_s:[[:space:]]*\)3600/\11800/' "$d/$f"
            echo "# changed upstream in $2" >>"$d/$f"
        done
        ;;
    esac
    (cd "$d" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -print |
        sed 's|^\./||' | sort | xargs md5sum) >"$d/DEBIAN/md5sums"
    dpkg-deb -Zgzip -b "$d" "$1" >/dev/null
    rm -rf "$d"
}
mkdir -p "$work/debs"
cp "$deb" "$work/debs/current.deb"
derive "${OLDER_DEB:-$deb}" "$work/debs/older.deb" "$version~older1" older
derive "$deb" "$work/debs/newer.deb" "$version+newer1" newer
echo "test-install: packages $version~older1 (conffile layout), $version, $version+newer1"

# --- the booted container ------------------------------------------------------------------
# The package's dependencies and Mosquitto come from the mirror now, so that apt in the
# container needs no network (it has only its own loopback).
deps="$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/:any//' |
    tr -d ' \t' | grep . | paste -sd, -)"
cache="${TEST_INSTALL_ROOT_CACHE:-}"  # developers: a tarball of the root, made once, reused
if [ -n "$cache" ] && [ -f "$cache" ]; then
    echo "== the root from $cache"
    mkdir -p "$root"
    tar -C "$root" -xf "$cache"
else
    echo "== mmdebstrap bookworm (minbase, systemd, mosquitto, $deps)"
    if ! timeout 900 mmdebstrap --variant=minbase \
        --include="systemd,systemd-sysv,dbus,libpam-systemd,mosquitto,$deps" \
        bookworm "$root" >"$log/mmdebstrap" 2>&1; then
        tail -20 "$log/mmdebstrap"
        echo "test-install: mmdebstrap failed" >&2
        exit 1
    fi
    if [ -n "$cache" ]; then tar -C "$root" -cf "$cache" .; fi
fi
bootstrapped="$(date +%s)"
mkdir -p "$root/root/debs"
cp "$work/debs/"*.deb "$root/root/debs/"

echo "== boot it (systemd-nspawn -b)"
SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 setsid systemd-nspawn -b -D "$root" --register=no \
    --keep-unit --console=passive --private-network --machine=evn-mbus-test \
    >"$log/nspawn" 2>&1 &
nspawn_pid=$!
# The container's PID 1 is the child of systemd-nspawn that runs systemd (nspawn's own
# intermediate child comes and goes first); systemctl answers once its socket is up.
# At most three minutes in all, whatever each call takes.
deadline=$(($(date +%s) + 180))
state=""
while [ "$(date +%s)" -lt "$deadline" ]; do
    if [ -z "$ct_pid" ]; then
        ct_pid="$(ps -o pid=,comm= --ppid "$nspawn_pid" 2>/dev/null |
            awk '$2 == "systemd" { print $1; exit }')"
    fi
    if [ -n "$ct_pid" ]; then
        state="$(timeout 20 nsenter -t "$ct_pid" -a systemctl is-system-running --wait \
            2>/dev/null || true)"
        case "$state" in running | degraded) break ;; esac
    fi
    sleep 0.5
done
if [ "$state" != running ] && [ "$state" != degraded ]; then
    cat "$log/nspawn"
    echo "test-install: the container did not boot (state: ${state:-none})" >&2
    exit 1
fi
echo "  container PID 1 is $ct_pid on the host; system state $state"
booted="$(date +%s)"

echo "== install $version~older1 (conffile layout), enable evn-mbus and evn-mbus@meter2"
ct apt-get install -y --no-install-recommends /root/debs/older.deb </dev/null \
    >"$log/install-older" 2>&1 || cat "$log/install-older"
check "the older package installs" ct dpkg-query -W evn-mbus
# What a user does: the key into the file; a second meter from the example.
ct sed -i -e 's/^  key: .*/  key: 00112233445566778899AABBCCDDEEFF/' \
    -e 's|^  device: .*|  device: /dev/ttyUSB7|' /etc/evn-mbus.yaml
ct mkdir -p /etc/evn-mbus
# shellcheck disable=SC2016  # expanded in the container
ct sh -c 'src=/usr/share/evn-mbus/evn-mbus.yaml; [ -f "$src" ] || src=/etc/evn-mbus.yaml
    install -m 0640 -g evn-mbus "$src" /etc/evn-mbus/meter2.yaml'
ct sed -i -e 's/^  key: .*/  key: FFEEDDCCBBAA99887766554433221100/' \
    -e 's|^  device: .*|  device: /dev/ttyUSB8|' -e 's/^  topic_prefix: .*/  topic_prefix: evn2/' \
    /etc/evn-mbus/meter2.yaml
ct evn-mbus check-config >"$log/cc1" 2>&1 || cat "$log/cc1"
ct evn-mbus check-config --config /etc/evn-mbus/meter2.yaml >"$log/cc2" 2>&1 || cat "$log/cc2"
ct systemctl enable --now evn-mbus evn-mbus@meter2 >"$log/enable" 2>&1 || cat "$log/enable"
check "evn-mbus is running (device not plugged in)" wait_active evn-mbus
check "evn-mbus@meter2 is running" wait_active evn-mbus@meter2

# upgrade DEB NAME: non-interactive, stdin closed (a prompt then fails the upgrade).
upgrade() {
    main_before="$(prop evn-mbus MainPID)"
    meter2_before="$(prop evn-mbus@meter2 MainPID)"
    status=0
    ct apt-get install -y --no-install-recommends "/root/debs/$1" </dev/null \
        >"$log/upgrade-$1" 2>&1 || status=$?
    if [ "$status" -ne 0 ] || ! no_prompt "$log/upgrade-$1"; then
        sed 's/^/  /' "$log/upgrade-$1"
    fi
    check "the upgrade to $2 succeeds non-interactively (status $status)" test "$status" -eq 0
    check "no prompt about /etc/evn-mbus.yaml" no_prompt "$log/upgrade-$1"
    # shellcheck disable=SC2016  # expanded by dpkg-query
    check "installed version is $2" \
        test "$(ct dpkg-query -W -f='${Version}' evn-mbus)" = "$2"
    check "the user's key is kept in /etc/evn-mbus.yaml" \
        ct grep -q "^  key: 00112233445566778899AABBCCDDEEFF" /etc/evn-mbus.yaml
    check "and its other change (serial.device)" \
        ct grep -q "^  device: /dev/ttyUSB7" /etc/evn-mbus.yaml
    check "/etc/evn-mbus.yaml still 0640 root:evn-mbus" \
        test "$(ct stat -c '%a %U %G' /etc/evn-mbus.yaml)" = "640 root evn-mbus"
    check "evn-mbus was restarted with the new program" restarted evn-mbus "$main_before"
    check "evn-mbus@meter2 was restarted with the new program" \
        restarted evn-mbus@meter2 "$meter2_before"
    check "both are running" both_active
    check "no process runs a deleted old program" no_deleted_program
}

echo "== upgrade to $version (this package)"
upgrade current.deb "$version"

echo "== systemctl reload"
check "reload with a good file succeeds" ct systemctl reload evn-mbus
pid="$(prop evn-mbus MainPID)"
ct cp -p /etc/evn-mbus.yaml /root/good.yaml
ct sh -c 'printf "serial: [\n" >>/etc/evn-mbus.yaml'
status=0
ct systemctl reload evn-mbus >"$log/reload-broken" 2>&1 || status=$?
sed 's/^/  /' "$log/reload-broken"
check "reload with a broken file fails (status $status)" test "$status" -ne 0
check "the service keeps running, same process" \
    test "$(ct systemctl is-active evn-mbus)/$(prop evn-mbus MainPID)" = "active/$pid"
ct journalctl -u evn-mbus --no-pager -n 6 -o cat 2>&1 | sed 's/^/  journal: /'
ct cp -p /root/good.yaml /etc/evn-mbus.yaml
pid="$(prop evn-mbus@meter2 MainPID)"
ct sh -c 'printf "serial: [\n" >>/etc/evn-mbus/meter2.yaml'
status=0
ct systemctl reload evn-mbus@meter2 >/dev/null 2>&1 || status=$?
check "reload of evn-mbus@meter2 with a broken file fails (status $status)" \
    test "$status" -ne 0
check "evn-mbus@meter2 keeps running, same process" \
    test "$(ct systemctl is-active evn-mbus@meter2)/$(prop evn-mbus@meter2 MainPID)" = \
    "active/$pid"
ct sed -i '$ d' /etc/evn-mbus/meter2.yaml
check "reload of evn-mbus@meter2 with its file repaired succeeds" \
    ct systemctl reload evn-mbus@meter2

echo "== upgrade to $version+newer1 (a changed default in the shipped configuration)"
upgrade newer.deb "$version+newer1"
check "the user's file did not get the new default" \
    not ct grep -q 'changed upstream' /etc/evn-mbus.yaml
check "the shipped example has it (/usr/share/evn-mbus/evn-mbus.yaml)" \
    ct grep -q "changed upstream" /usr/share/evn-mbus/evn-mbus.yaml

echo "== remove"
ct apt-get remove -y evn-mbus </dev/null >"$log/remove" 2>&1 || cat "$log/remove"
for unit in evn-mbus evn-mbus@meter2; do
    check "$unit is stopped" stopped "$unit"
done
evn_processes | sed 's/^/  still running: /'
check "no evn-mbus process is left" no_processes
check "the configuration is kept" ct test -f /etc/evn-mbus.yaml

echo "== purge"
ct rm -r /etc/evn-mbus  # the user's own file for meter2 (kept otherwise, with the user)
ct apt-get purge -y evn-mbus </dev/null >"$log/purge" 2>&1 || cat "$log/purge"
links="$(ct sh -c 'ls -d /etc/systemd/system/*.wants/evn-mbus* 2>/dev/null' || true)"
[ -z "$links" ] || echo "$links" | sed 's/^/  left: /'
check "no enablement link is left" test -z "$links"
left="$(ct find / -xdev -ignore_readdir_race \( -path /proc -o -path /sys -o -path /var/log/journal \) -prune \
    -o -name '*evn-mbus*' -print)"
[ -z "$left" ] || echo "$left" | sed 's/^/  left: /'
check "no file of the package is left" test -z "$left"
check "the user and group evn-mbus are gone" user_gone
check "systemd does not know evn-mbus@meter2 any more" not_loaded evn-mbus@meter2

echo "== fresh installation of $version"
ct apt-get install -y --no-install-recommends /root/debs/current.deb </dev/null \
    >"$log/install" 2>&1 || cat "$log/install"
sed -n '/^evn-mbus: the service/,/^A second meter/p' "$log/install" | sed 's/^/  /'
check "the install output names the placeholder key" grep -q "placeholder" "$log/install"
check "/etc/evn-mbus.yaml made 0640 root:evn-mbus" \
    test "$(ct stat -c '%a %U %G' /etc/evn-mbus.yaml)" = "640 root evn-mbus"
check "it is the shipped example" ct cmp -s /etc/evn-mbus.yaml /usr/share/evn-mbus/evn-mbus.yaml
check "it is not a conffile (an upgrade never asks about it)" not_conffile
check "the service is neither enabled nor started" not_started

finished="$(date +%s)"
echo "test-install: times (s): mmdebstrap $((bootstrapped - started)), boot" \
    "$((booted - bootstrapped)), tests $((finished - booted)), total $((finished - started))"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
