#!/usr/bin/env bash
# tether scan speed on the Go standard library (GOROOT/src with its tests): the
# tree-sitter parse alone (the hidden --parse-only flag: same file walk, same
# reads, same threads, no facts and no rules) against the full scan, measured in
# one run with the same --jobs. Prints lines/s, MB/s and the ratio; never fails
# on timings.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${TETHER_BIN:-build-bench/tether}
[ -x "$bin" ] || bin=build/tether
command -v go >/dev/null || scripts/deps.sh go
src="$(go env GOROOT)/src"
jobs=${SCAN_JOBS:-$(nproc)}

# run MODE-FLAGS...: prints "seconds bytes lines" of one timed run.
run() {
  local t0 t1 stats
  t0=$(date +%s.%N)
  stats=$("$bin" scan --stats --include-tests --jobs "$jobs" --format json "$@" "$src" 2>&1 >/dev/null |
    grep 'files,' || true)
  t1=$(date +%s.%N)
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}') $(echo "$stats" | awk '{print $5, $7}')"
}

"$bin" scan --parse-only --include-tests --jobs "$jobs" "$src" 2>/dev/null || true # warm the page cache
read -r tp bytes lines < <(run --parse-only)
read -r ts _ _ < <(run)
echo "tether scan on $src ($jobs jobs, $(nproc) cores): $lines lines, $bytes bytes"
printf '%-12s %9s %14s %9s\n' mode seconds lines/s MB/s
printf '%-12s %9.2f %14.0f %9.2f\n' parse-only "$tp" "$(awk -v l="$lines" -v t="$tp" 'BEGIN{print l/t}')" \
  "$(awk -v b="$bytes" -v t="$tp" 'BEGIN{print b/1e6/t}')"
printf '%-12s %9.2f %14.0f %9.2f\n' scan "$ts" "$(awk -v l="$lines" -v t="$ts" 'BEGIN{print l/t}')" \
  "$(awk -v b="$bytes" -v t="$ts" 'BEGIN{print b/1e6/t}')"
printf 'ratio scan/parse-only: %.2f (target: at most 1.5)\n' "$(awk -v a="$ts" -v b="$tp" 'BEGIN{print a/b}')"
