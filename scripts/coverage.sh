#!/usr/bin/env bash
# make coverage: builds the library, the CLI and the tests with gcov instrumentation
# in build-coverage/ (gcc --coverage, -O0, assertions on, atomic counters since the
# tests are threaded), runs the test tiers that exercise the code (the library suite,
# the CLI suite, and the check.d tiers that run the built programs), then prints the
# line and branch coverage of src/ and of tools/ (third_party/ and tests/ left out),
# writes an HTML report, and compares the lines of src/ left uncovered with the list
# in docs/testing.md (scripts/coverage.py). Fails when a tier fails, when src/ is
# under its target (95% of lines, 85% of branches) or when the list is not true.
# Usage: scripts/coverage.sh [BUILD_DIR]; COVERAGE_TIERS="20-fuzz-replay ..." picks
# the check.d tiers (default below; "none" runs only the two suites).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dir=${1:-build-coverage}
jobs=$(nproc)
scripts/deps.sh build coverage || exit 1

# TETHER_COVERAGE: tests/wrap.c's child processes write their counters before _exit.
flags="--coverage -fprofile-update=atomic -DTETHER_COVERAGE=1"
echo "==> configure and build $dir (gcc $flags, -O0)"
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER="$(command -v gcc)" \
  -DCMAKE_CXX_COMPILER="$(command -v g++)" \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS=--coverage \
  -DCMAKE_SHARED_LINKER_FLAGS=--coverage -DCMAKE_MODULE_LINKER_FLAGS=--coverage >/dev/null || exit 1
cmake --build "$dir" -j "$jobs" 2>&1 | grep -vE '^\[ *[0-9]+%\]|^(gmake|make)\[[0-9]+\]: (Entering|Leaving)'
[ "${PIPESTATUS[0]}" -eq 0 ] || exit 1

# Counters start from zero at every run.
find "$dir" -name '*.gcda' -delete
logs=$dir/logs
mkdir -p "$logs"
# Programs the tiers compile against $dir/libtether.a link gcov's runtime too.
cat >"$dir/cc-gcov" <<'EOF'
#!/bin/sh
exec gcc "$@" -lgcov
EOF
chmod +x "$dir/cc-gcov"

tiers_failed=0
tier() { # tier NAME COMMAND...: output to $logs/NAME.log, one line here
  local name=$1 t0 t1 rc counts
  shift
  t0=$(date +%s.%N)
  timeout --kill-after=10 "${TIER_TIMEOUT:-900}" "$@" >"$logs/$name.log" 2>&1
  rc=$?
  t1=$(date +%s.%N)
  counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$logs/$name.log" |
    awk '{p+=$1; f+=$3} END {if (NR) printf "%d passed, %d failed", p, f}')
  printf 'tier %-18s %7.1fs  %s%s\n' "$name" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" \
    "$([ "$rc" -eq 0 ] && echo ok || echo "FAILED (rc=$rc, see $logs/$name.log)")" "${counts:+  ($counts)}"
  [ "$rc" -eq 0 ] || tiers_failed=$((tiers_failed + 1))
}

echo "==> test tiers (logs in $logs/)"
tier lib "$dir/tests/run"
tier cli "$dir/tests/run-cli"
# The check.d tiers that run the built library and tool; the packaging tiers
# (30, 31, 32, 70) build release copies of their own and are left out.
export TETHER_BUILD_DIR=$dir TETHER_BIN=$root/$dir/tether CC=$root/$dir/cc-gcov
for name in ${COVERAGE_TIERS:-20-fuzz-replay 50-scan-stdlib 51-scan-govet 52-scan-ci 60-watch 62-gctrace-tether 65-export}; do
  [ "$name" = none ] && continue
  if [ -x "scripts/check.d/$name.sh" ]; then tier "$name" "scripts/check.d/$name.sh"; else echo "tier $name: no scripts/check.d/$name.sh"; tiers_failed=$((tiers_failed + 1)); fi
done

rm -rf "$dir/html"
mkdir -p "$dir/html"
echo "==> coverage (gcovr $(gcovr --version | awk 'NR==1{print $2}'), exception edges of calls left out)"
# --exclude-throw-branches: the library is built with -fexceptions, so each call has
# an edge for an exception passing through it; those are not decisions of the code.
gcovr -r . -j "$jobs" --object-directory "$dir" --exclude-directories "$dir/CMakeFiles/[0-9.]+" \
  -f 'src/' -f 'tools/' -e 'third_party/' -e 'tests/' --exclude-throw-branches \
  --json "$dir/coverage.json" --json-summary "$dir/coverage-summary.json" \
  --html-details "$dir/html/index.html" --html-title "tether coverage" "$dir" \
  >"$logs/gcovr.log" 2>&1 || { cat "$logs/gcovr.log"; exit 1; }
python3 scripts/coverage.py report "$dir/coverage-summary.json" "$dir/coverage.json" docs/testing.md \
  "$dir/uncovered.txt"
rc=$?
echo "HTML report: $dir/html/index.html (uncovered lines of src/: $dir/uncovered.txt)"
if [ "$tiers_failed" -ne 0 ]; then
  echo "coverage: $tiers_failed tier(s) failed"
  exit 1
fi
exit $rc
