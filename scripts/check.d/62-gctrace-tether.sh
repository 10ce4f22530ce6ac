#!/usr/bin/env bash
# tether gctrace on libtether's own trace: a C program run with TETHER_DEBUG=trace
# prints one line per background pass on stderr; piped to `tether gctrace`, a
# program that leaks its registrations is judged growing and trips the gate,
# one whose registrations expire is judged stable and does not.
set -uo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
check() { # check WHAT COMMAND...
  local what=$1
  shift
  if "$@"; then
    echo "ok   $what"
    passed=$((passed + 1))
  else
    echo "FAIL $what"
    failed=$((failed + 1))
  fi
}
# TETHER_BUILD_DIR: the build to test (make coverage points it at build-coverage, with CC linking gcov).
build=${TETHER_BUILD_DIR:-build}
"${CC:-cc}" -std=c11 -O1 -Iinclude tests/fixtures/trace/grow.c "$build/libtether.a" -lpthread -o "$tmp/grow" || exit 1
TETHER_DEBUG=trace "$tmp/grow" 2> "$tmp/grow.trace"
TETHER_DEBUG=trace "$tmp/grow" stable 2> "$tmp/stable.trace"
check "the trace has one line per pass" test "$(grep -c '^tether: sweep [0-9]* @' "$tmp/grow.trace")" -ge 20
"$build/tether" gctrace --fail-on-growth 0.1 --svg "$tmp/grow.svg" "$tmp/grow.trace" > "$tmp/grow.out"
rc=$?
cat "$tmp/grow.out"
check "a leaking registry is growing" grep -q '^verdict: growing' "$tmp/grow.out"
check "and trips --fail-on-growth (exit 1)" test "$rc" -eq 1
check "the report speaks of retained bytes" grep -q '^retained: first .* kB' "$tmp/grow.out"
check "the chart is drawn" grep -q 'bytes retained after each background pass' "$tmp/grow.svg"
"$build/tether" gctrace --fail-on-growth 0.1 "$tmp/stable.trace" > "$tmp/stable.out"
rc=$?
cat "$tmp/stable.out"
check "expiring registrations are stable" grep -q '^verdict: stable' "$tmp/stable.out"
check "and do not trip the gate (exit 0)" test "$rc" -eq 0
"$build/tether" gctrace --format json "$tmp/grow.trace" > "$tmp/grow.json"
check "json says format tether" grep -q '"format":"tether","registry":1' "$tmp/grow.json"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
