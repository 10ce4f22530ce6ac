#!/usr/bin/env bash
# tether watch over 100 snapshots of the large heap profiles
# (tests/fixtures/go/out/many-*.pb.gz, copied 50 times each, in turn): the time
# spent reading the snapshots (read + gunzip + decode) against the time of the
# analysis (reducing each to its series, the fits, the report), as tether watch
# --stats measures them in one run. Best of 3 runs (by total time). The
# analysis should cost at most as much again as the reading: ratio <= 1.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=tests/fixtures/go/out
tether="${TETHER:-}"
for t in build-bench/tether build/tether; do
  [ -z "$tether" ] && [ -x "$t" ] && tether=$t
done
if [ -z "$tether" ]; then
  echo "watch: no built tether binary (run make first); skipped"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for i in $(seq -w 0 99); do
  if [ $((10#$i % 2)) -eq 0 ]; then cp "$out/many-1.pb.gz" "$tmp/s$i.pb.gz"; else cp "$out/many-2.pb.gz" "$tmp/s$i.pb.gz"; fi
done
samples=$("$tether" top --format json "$out/many-2.pb.gz" | sed -n 's/.*"samples":\([0-9]*\).*/\1/p')
best=""
for _ in 1 2 3; do
  line=$("$tether" watch --stats "$tmp" 2>&1 >/dev/null | grep 'stats:')
  read_s=$(echo "$line" | sed 's/.*reading \([0-9.]*\) s.*/\1/')
  anal_s=$(echo "$line" | sed 's/.*; analysis \([0-9.]*\) s.*/\1/')
  total=$(echo "$read_s + $anal_s" | bc -l)
  if [ -z "$best" ] || [ "$(echo "$total < $best" | bc -l)" = 1 ]; then
    best=$total
    best_read=$read_s
    best_anal=$anal_s
  fi
done
echo "tether: $tether; 100 snapshots, 50 of many-1 and 50 of many-2 ($samples samples)"
printf '%-44s %10s %10s %10s\n' "tether watch --stats (best of 3)" "reading" "analysis" "ratio"
printf '%-44s %9.3fs %9.3fs %9.2f\n' "100 snapshots, directory" "$best_read" "$best_anal" \
  "$(echo "$best_anal / $best_read" | bc -l)"
