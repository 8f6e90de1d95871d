#!/bin/sh
# Tests the Debian package as a user gets it: builds it (scripts/build-deb.sh, with lintian),
# installs it on THIS machine, checks files, modes, the service user, the configuration file
# (made by postinst, no conffile), the placeholder-key message, the systemd units
# (systemd-analyze verify and security), then removes and purges it. Needs root; evn-mbus
# must not be installed before. The path through a booted systemd (upgrades, instances of the
# template, reload, purge) is scripts/test-install.sh.
#
# Usage: scripts/test-deb.sh            build, then test
#        DEB=path/to/evn-mbus_*.deb scripts/test-deb.sh   test that package, no build
# Ends with the line "N passed, N failed"; exits 1 if a check failed.
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/build-deb/package"
max_exposure="2.0"
unit_dir=/lib/systemd/system

if [ "$(id -u)" -ne 0 ]; then
    echo "test-deb: run me as root: I install and purge the package evn-mbus" >&2
    exit 2
fi
if dpkg-query -W -f='${Status}' evn-mbus 2>/dev/null | grep -q "installed"; then
    echo "test-deb: evn-mbus is installed on this machine; I would purge it with its" \
         "configuration. Purge it yourself first (apt-get purge evn-mbus)." >&2
    exit 2
fi

started="$(date +%s)"
deb="${DEB:-}"
if [ -z "$deb" ]; then
    "$root/scripts/build-deb.sh" "$out"
    deb="$(echo "$out"/evn-mbus_*.deb)"
fi
built="$(date +%s)"
deb="$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")"

. "$root/scripts/checks.sh"
# mode_is FILE MODE OWNER GROUP
mode_is() {
    actual="$(stat -c '%a %U %G' "$1" 2>/dev/null || echo missing)"
    [ "$actual" = "$2 $3 $4" ] || { echo "  $1: $actual, expected $2 $3 $4"; return 1; }
}
contains() { printf '%s' "$1" | grep -q -- "$2"; }
log="$(mktemp -d)"
trap 'rm -rf "$log"' EXIT

echo "== install $deb"
export DEBIAN_FRONTEND=noninteractive
if apt-get install -y --no-install-recommends "$deb" >"$log/install" 2>&1; then
    ok "the package installs"
else
    bad "the package installs"
    cat "$log/install"
fi
check "the install output says the service is not enabled until the key is set" \
    grep -q "NOT enabled and NOT started" "$log/install"
check "the install output names the placeholder key" grep -q "placeholder" "$log/install"
sed -n '/^evn-mbus: the service/,/man evn-mbus/p' "$log/install"

echo "== files and modes"
check "/usr/bin/evn-mbus 0755 root:root" mode_is /usr/bin/evn-mbus 755 root root
check "/etc/evn-mbus.yaml 0640 root:evn-mbus (it holds the key)" \
    mode_is /etc/evn-mbus.yaml 640 root evn-mbus
check "$unit_dir/evn-mbus.service 0644" mode_is "$unit_dir/evn-mbus.service" 644 root root
check "$unit_dir/evn-mbus@.service 0644" mode_is "$unit_dir/evn-mbus@.service" 644 root root
check "/usr/lib/sysusers.d/evn-mbus.conf" test -f /usr/lib/sysusers.d/evn-mbus.conf
check "man page evn-mbus(8)" test -f /usr/share/man/man8/evn-mbus.8.gz
check "README in /usr/share/doc/evn-mbus" \
    sh -c 'ls /usr/share/doc/evn-mbus/README.md* >/dev/null 2>&1'
check "copyright and changelog" test -f /usr/share/doc/evn-mbus/copyright -a \
    -f /usr/share/doc/evn-mbus/changelog.Debian.gz
check "the documented example /usr/share/evn-mbus/evn-mbus.yaml 0644" \
    mode_is /usr/share/evn-mbus/evn-mbus.yaml 644 root root
check "and under /usr/share/doc/evn-mbus/examples/" \
    cmp -s /usr/share/doc/evn-mbus/examples/evn-mbus.yaml /usr/share/evn-mbus/evn-mbus.yaml
check "/etc/evn-mbus.yaml is a copy of it" \
    cmp -s /etc/evn-mbus.yaml /usr/share/evn-mbus/evn-mbus.yaml
# shellcheck disable=SC2016  # expanded by dpkg-query
check "/etc/evn-mbus.yaml is no conffile (an upgrade never asks about it)" \
    sh -c '! dpkg-query -W -f="\${Conffiles}" evn-mbus | grep -q evn-mbus.yaml'
check "the service is not enabled" sh -c '! systemctl is-enabled --quiet evn-mbus 2>/dev/null'

echo "== the service user"
entry="$(getent passwd evn-mbus || true)"
echo "  $entry; groups: $(id -nG evn-mbus 2>/dev/null || true)"
check "user evn-mbus exists" test -n "$entry"
uid="$(echo "$entry" | cut -d: -f3)"
check "it is a system user (uid $uid < 1000), no login, no home" sh -c \
    "[ '${uid:-1000}' -lt 1000 ] && echo '$entry' | grep -q ':/nonexistent:/usr/sbin/nologin\$'"
check "it is in the group dialout" sh -c 'id -nG evn-mbus | tr " " "\n" | grep -qx dialout'

echo "== check-config on the installed configuration"
status=0
/usr/bin/evn-mbus check-config >"$log/cc.out" 2>"$log/cc.err" || status=$?
sed 's/^/  /' "$log/cc.err"
check "check-config fails (status 1, got $status)" test "$status" -eq 1
check "it says the key is a placeholder" grep -q "placeholder" "$log/cc.err"
status=0
runuser -u evn-mbus -- /usr/bin/evn-mbus check-config >/dev/null 2>"$log/cc-user.err" ||
    status=$?
check "the service user can read the file (and gets the same placeholder message)" \
    grep -q "placeholder" "$log/cc-user.err"
runuser -u nobody -- /usr/bin/evn-mbus check-config >/dev/null 2>"$log/cc-nobody.err" || true
check "other users cannot read it" sh -c "! grep -q placeholder '$log/cc-nobody.err'"
status=0
runuser -u evn-mbus -- timeout 20 /usr/bin/evn-mbus run --config /etc/evn-mbus.yaml \
    --log-target stderr >/dev/null 2>"$log/run.err" || status=$?
sed 's/^/  /' "$log/run.err"
check "the service's command stops with status 78 on the placeholder (got $status)" \
    test "$status" -eq 78
check "and logs that the key is a placeholder" grep -q "placeholder" "$log/run.err"

echo "== the systemd units"
man_opt=""
command -v man >/dev/null 2>&1 || man_opt="--man=no"
for unit in "$unit_dir/evn-mbus.service" evn-mbus@meter2.service; do
    systemd-analyze verify $man_opt "$unit" >"$log/verify" 2>&1 || true
    sed 's/^/  /' "$log/verify"
    check "systemd-analyze verify $unit is clean" test ! -s "$log/verify"
done
for unit in "$unit_dir/evn-mbus.service" "$unit_dir/evn-mbus@.service"; do
    systemd-analyze security --offline=yes "$unit" >"$log/security" 2>&1 || true
    line="$(grep "Overall exposure level" "$log/security" || echo "no result")"
    echo "  $line"
    exposure="$(echo "$line" | sed -n 's/.*: \([0-9.]*\) .*/\1/p')"
    check "exposure of $(basename "$unit") ${exposure:-?} <= $max_exposure" \
        awk -v e="${exposure:-99}" -v m="$max_exposure" 'BEGIN { exit !(e <= m) }'
done

echo "== upgrade (reinstall) keeps the user's configuration"
echo "# changed by test-deb" >>/etc/evn-mbus.yaml
apt-get install -y --reinstall "$deb" >"$log/reinstall" 2>&1 || cat "$log/reinstall"
check "the changed configuration is kept" grep -q "changed by test-deb" /etc/evn-mbus.yaml
check "and still 0640 root:evn-mbus" mode_is /etc/evn-mbus.yaml 640 root evn-mbus

echo "== remove"
apt-get remove -y evn-mbus >"$log/remove" 2>&1 || cat "$log/remove"
check "the program is gone" test ! -e /usr/bin/evn-mbus
check "the units are gone" test ! -e "$unit_dir/evn-mbus.service"
check "the configuration is kept" test -f /etc/evn-mbus.yaml
check "the user is kept" getent passwd evn-mbus

echo "== purge"
apt-get purge -y evn-mbus >"$log/purge" 2>&1 || cat "$log/purge"
# shellcheck disable=SC2016  # expanded by dpkg-query
check "the package is gone" sh -c '! dpkg-query -W -f="\${Status}" evn-mbus 2>/dev/null |
    grep -q "ok"'
check "the configuration is gone" sh -c '! ls /etc/evn-mbus.yaml* >/dev/null 2>&1'
check "the user evn-mbus is gone" sh -c '! getent passwd evn-mbus'
check "the group evn-mbus is gone" sh -c '! getent group evn-mbus'
check "no file of the package is left" sh -c \
    '! ls -d /usr/share/doc/evn-mbus /usr/lib/sysusers.d/evn-mbus.conf 2>/dev/null'

echo "== purge with the template's configurations still present"
apt-get install -y "$deb" >"$log/install2" 2>&1 || cat "$log/install2"
mkdir -p /etc/evn-mbus
cp /etc/evn-mbus.yaml /etc/evn-mbus/meter2.yaml || true
chgrp evn-mbus /etc/evn-mbus/meter2.yaml || true
apt-get purge -y evn-mbus >"$log/purge2" 2>&1 || cat "$log/purge2"
check "purge says why it keeps the user" grep -q "are kept" "$log/purge2"
check "the user is kept for /etc/evn-mbus/" getent passwd evn-mbus
rm -rf /etc/evn-mbus
userdel evn-mbus 2>/dev/null || true
groupdel evn-mbus 2>/dev/null || true

finished="$(date +%s)"
echo "test-deb: times (s): build $((built - started)), install tests $((finished - built))"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
