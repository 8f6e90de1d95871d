# Sourced by scripts/test-deb.sh and scripts/test-install.sh: counting checks, and the
# closing line "N passed, N failed".
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $1"; }
bad() { failed=$((failed + 1)); echo "FAIL: $1"; }
# check DESCRIPTION COMMAND...: the command's exit status decides.
check() {
    what="$1"
    shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}
