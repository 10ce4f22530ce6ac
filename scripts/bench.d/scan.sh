#!/usr/bin/env bash
# tether scan speed on the Go standard library (GOROOT/src with its tests): the
# tree-sitter parse alone (the hidden --parse-only flag: same file walk, same
# reads, same threads, no facts and no rules) against the full scan, measured in
# one run with the same --jobs. Prints wall and CPU seconds, lines/s, MB/s (per
# wall second) and the ratios; never fails on timings.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${TETHER_BIN:-build-bench/tether}
[ -x "$bin" ] || bin=build/tether
command -v go >/dev/null || scripts/deps.sh go
src="$(go env GOROOT)/src"
jobs=${SCAN_JOBS:-$(nproc)}

# run MODE-FLAGS...: prints "wall-seconds cpu-seconds bytes lines" of one timed run.
run() {
  local t stats
  t=$(mktemp)
  stats=$(/usr/bin/time -f "%e %U %S" -o "$t" "$bin" scan --stats --include-tests --jobs "$jobs" \
    --format json "$@" "$src" 2>&1 >/dev/null | grep 'files,' || true)
  echo "$(tail -n 1 "$t" | awk '{print $1, $2 + $3}') $(echo "$stats" | awk '{print $5, $7}')"
  rm -f "$t"
}

"$bin" scan --parse-only --include-tests --jobs "$jobs" "$src" 2>/dev/null || true # warm the page cache
# Alternate the two modes ROUNDS times and keep each one's fastest run, so that a
# burst of other load on the machine does not decide the ratio.
rounds=${SCAN_ROUNDS:-3}
tp=1e9 cp=1e9 ts=1e9 cs=1e9
min() { awk -v a="$1" -v b="$2" 'BEGIN{print (a < b ? a : b)}'; }
for _ in $(seq "$rounds"); do
  read -r w c bytes lines < <(run --parse-only)
  tp=$(min "$tp" "$w") cp=$(min "$cp" "$c")
  read -r w c _ _ < <(run)
  ts=$(min "$ts" "$w") cs=$(min "$cs" "$c")
done
rate() { awk -v n="$1" -v t="$2" -v d="$3" -v p="${4:-0}" 'BEGIN{printf("%." p "f", n/d/t)}'; }
echo "tether scan on $src ($jobs jobs, $(nproc) cores, best of $rounds): $lines lines, $bytes bytes"
printf '%-12s %9s %9s %14s %9s\n' mode wall-s cpu-s lines/s MB/s
printf '%-12s %9.2f %9.2f %14s %9s\n' parse-only "$tp" "$cp" "$(rate "$lines" "$tp" 1)" "$(rate "$bytes" "$tp" 1e6 2)"
printf '%-12s %9.2f %9.2f %14s %9s\n' scan "$ts" "$cs" "$(rate "$lines" "$ts" 1)" "$(rate "$bytes" "$ts" 1e6 2)"
printf 'ratio scan/parse-only: %.2f wall, %.2f cpu (target: at most 1.5)\n' \
  "$(awk -v a="$ts" -v b="$tp" 'BEGIN{print a/b}')" "$(awk -v a="$cs" -v b="$cp" 'BEGIN{print a/b}')"
