#!/usr/bin/env bash
# tether gctrace on libtether's own trace: a C program run with TETHER_DEBUG=trace
# prints one line per background pass on stderr; piped to `tether gctrace`, a
# program that leaks its registrations is judged growing and trips the gate,
# one whose registrations expire is judged stable and does not.
. "$(dirname "$0")/../tier.sh"
check() { # check WHAT COMMAND...
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
# TETHER_BUILD_DIR: the build to test (make coverage points it at build-coverage, with CC linking gcov).
build=${TETHER_BUILD_DIR:-build}
"${CC:-cc}" -std=c11 -O1 -Iinclude tests/fixtures/trace/grow.c "$build/libtether.a" -lpthread -o "$scratch/grow" || exit 1
TETHER_DEBUG=trace "$scratch/grow" 2> "$scratch/grow.trace"
TETHER_DEBUG=trace "$scratch/grow" stable 2> "$scratch/stable.trace"
check "the trace has one line per pass" test "$(grep -c '^tether: sweep [0-9]* @' "$scratch/grow.trace")" -ge 20
"$build/tether" gctrace --fail-on-growth 0.1 --svg "$scratch/grow.svg" "$scratch/grow.trace" > "$scratch/grow.out"
rc=$?
cat "$scratch/grow.out"
check "a leaking registry is growing" grep -q '^verdict: growing' "$scratch/grow.out"
check "and trips --fail-on-growth (exit 1)" test "$rc" -eq 1
check "the report speaks of retained bytes" grep -q '^retained: first .* kB' "$scratch/grow.out"
check "the chart is drawn" grep -q 'bytes retained after each background pass' "$scratch/grow.svg"
"$build/tether" gctrace --fail-on-growth 0.1 "$scratch/stable.trace" > "$scratch/stable.out"
rc=$?
cat "$scratch/stable.out"
check "expiring registrations are stable" grep -q '^verdict: stable' "$scratch/stable.out"
check "and do not trip the gate (exit 0)" test "$rc" -eq 0
"$build/tether" gctrace --format json "$scratch/grow.trace" > "$scratch/grow.json"
check "json says format tether" grep -q '"format":"tether","registry":1' "$scratch/grow.json"
finish
