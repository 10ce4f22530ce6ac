#!/usr/bin/env bash
# Every test tier, in order, with its time. Called by `make check` (after deps.sh).
# Tiers: the plain build and suites; ASan+UBSan; TSan; valgrind memcheck; clang;
# an example built against an installed copy; then scripts/check.d/*.sh in order
# (tiers the CLI adds: fuzz corpus replay, the Go standard-library scan, ...).
# Prints a table of tier timings and ends with "total: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc)
LOG=build-logs
mkdir -p "$LOG"
: > "$LOG/summary"
passed=0
failed=0
tiers_failed=0

# Runs a tier: tier NAME COMMAND...; output goes to the terminal and build-logs/NAME.log.
tier() {
  local name=$1
  shift
  local t0 t1 rc
  t0=$(date +%s.%N)
  echo "==> tier $name"
  # A hung test tier fails after TIER_TIMEOUT seconds instead of eating CI's 90
  # minutes (builds are shell functions here and run without it).
  local guard=(timeout --kill-after=10 "${TIER_TIMEOUT:-900}")
  [ "$(type -t "$1")" = function ] && guard=()
  "${guard[@]}" "$@" 2>&1 | tee "$LOG/$name.log"
  rc=${PIPESTATUS[0]}
  t1=$(date +%s.%N)
  local p f
  p=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$LOG/$name.log" | awk '{s+=$1} END {print s+0}')
  f=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$LOG/$name.log" | awk '{s+=$3} END {print s+0}')
  passed=$((passed + p))
  failed=$((failed + f))
  if [ "$rc" -ne 0 ]; then
    tiers_failed=$((tiers_failed + 1))
    [ "$f" -eq 0 ] && failed=$((failed + 1))
  fi
  printf '%-16s %8.1fs  %s\n' "$name" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" "$([ "$rc" -eq 0 ] && echo ok || echo "FAILED (rc=$rc)")" >> "$LOG/summary"
}

configure() { # configure DIR [cmake args...]: configure and build, printing only problems
  local dir=$1
  shift
  cmake -S . -B "$dir" "$@" >/dev/null || return 1
  cmake --build "$dir" -j "$JOBS" 2>&1 | grep -vE '^\[ *[0-9]+%\]|^(gmake|make)\[[0-9]+\]: (Entering|Leaving)|^-- '
  return "${PIPESTATUS[0]}"
}

tier build configure build -DCMAKE_BUILD_TYPE=RelWithDebInfo
tier lib ./build/tests/run
tier cli ./build/tests/run-cli
tier asan-build configure build-asan -DTETHER_SANITIZE=address -DCMAKE_BUILD_TYPE=RelWithDebInfo
tier lib-asan env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 ./build-asan/tests/run
tier cli-asan env ASAN_OPTIONS=detect_leaks=1 ./build-asan/tests/run-cli
tier tsan-build configure build-tsan -DTETHER_SANITIZE=thread -DTETHER_BUILD_TOOLS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
tier lib-tsan env TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 die_after_fork=0" ./build-tsan/tests/run
tier lib-valgrind env TETHER_TEST_SCALE=valgrind valgrind -q --fair-sched=yes --error-exitcode=99 --leak-check=full \
  --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect ./build/tests/run
tier clang-build configure build-clang -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo
tier lib-clang ./build-clang/tests/run
tier install scripts/check-install.sh
for hook in scripts/check.d/*.sh; do
  [ -e "$hook" ] || continue
  name=$(basename "$hook" .sh)
  tier "$name" "$hook"
done

echo
echo "tier timings:"
cat "$LOG/summary"
echo "total: $passed passed, $failed failed"
[ "$tiers_failed" -eq 0 ]
