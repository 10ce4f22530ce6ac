#!/usr/bin/env bash
# Long fuzzing campaigns, run in chunks and accounted (docs/testing.md, "Fuzzing").
#
#   scripts/fuzz-campaign.sh run NAME SECONDS [plain|asan] [CHUNK]
#       fuzzes target NAME for SECONDS in chunks of CHUNK seconds (default 1800),
#       under nice -n 10, growing build-fuzz-campaign/corpus/NAME from the
#       committed seeds fuzz/corpus/NAME. Each chunk appends one line to
#       build-fuzz-campaign/NAME.log: flavour, executions, cov, ft, corpus size,
#       and the crash file when it found one (the run stops there).
#   scripts/fuzz-campaign.sh merge NAME [edges]
#       minimizes seeds + grown corpus (libFuzzer -merge=1 into a fresh folder)
#       and replaces fuzz/corpus/NAME with the result; with "edges", inputs are
#       kept for the edges they cover alone, not for how often (a smaller corpus).
#   scripts/fuzz-campaign.sh report
#       one line per target: executions in total, the last cov and ft, crashes.
#
# plain: libFuzzer with coverage instrumentation only (the library and the
# whole CLI core are instrumented), the fast flavour for the bulk of the
# executions; asan: the same under ASan+UBSan (what make fuzz builds).
set -euo pipefail
cd "$(dirname "$0")/.."
CAMP=build-fuzz-campaign

build() { # build FLAVOUR NAME: configures and builds fuzz-NAME, prints the build folder
  local dir=build-fuzz-plain san=""
  if [ "$1" = asan ]; then dir=build-fuzz san=address; fi
  cmake -S . -B "$dir" -DCMAKE_C_COMPILER=clang -DTETHER_BUILD_FUZZ=ON -DTETHER_SANITIZE="$san" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  nice -n 10 cmake --build "$dir" -j 2 --target "fuzz-$2" >/dev/null
  echo "$dir"
}

# The longest input libFuzzer makes per target: scan's cost grows with the
# source's size (two parses, error recovery), so its inputs are kept to 1 KiB (a 4 KiB
# one may take 15 ms); the API fuzzer's sequences need up to about 2 KiB.
max_len() { case "$1" in scan) echo 1024 ;; api) echo 2048 ;; *) echo 0 ;; esac; }

run() {
  local name=$1 secs=$2 flavour=${3:-plain} chunk=${4:-1800}
  local dir bin
  dir=$(build "$flavour" "$name")
  bin=$dir/fuzz/fuzz-$name
  [ -x "$bin" ] || { echo "fuzz-campaign: no target $name" >&2; exit 2; }
  mkdir -p "$CAMP/corpus/$name" "$CAMP/crashes/$name" "$CAMP/logs" "fuzz/corpus/$name"
  local left=$secs
  while [ "$left" -gt 0 ]; do
    local t=$((left < chunk ? left : chunk)) log
    log=$CAMP/logs/$name-$(date +%Y%m%d-%H%M%S).txt
    local rc=0
    nice -n 10 "$bin" -max_total_time="$t" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$name")" \
      -print_final_stats=1 -artifact_prefix="$CAMP/crashes/$name/" \
      "$CAMP/corpus/$name" "fuzz/corpus/$name" >"$log" 2>&1 || rc=$?
    local runs done_line crash=""
    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
    done_line=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    if [ -z "$runs" ]; then # stopped by a crash: the last status line counts
      runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
      crash=$(sed -n 's/.*Test unit written to \(.*\)/\1/p' "$log" | tail -1)
    fi
    local cov ft
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done_line")
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$flavour" "${runs:-0}" "${cov:-?}" "${ft:-?}" \
      "$(ls "$CAMP/corpus/$name" | wc -l)" "${crash:--}" >>"$CAMP/$name.log"
    echo "fuzz-campaign: $name $flavour ${t}s: ${runs:-0} runs, cov ${cov:-?} ft ${ft:-?}${crash:+, crash $crash}"
    if [ -n "$crash" ] || [ "$rc" -ne 0 ]; then
      echo "fuzz-campaign: $name stopped (rc $rc), see $log" >&2
      exit 1
    fi
    left=$((left - t))
  done
}

merge() {
  local name=$1 by=${2:-features} dir fresh counters=1
  [ "$by" = edges ] && counters=0
  dir=$(build plain "$name")
  fresh=$CAMP/merged/$name
  rm -rf "$fresh"
  mkdir -p "$fresh" "$CAMP/corpus/$name" "fuzz/corpus/$name"
  nice -n 10 "$dir/fuzz/fuzz-$name" -merge=1 -use_counters=$counters -timeout=10 -rss_limit_mb=2048 \
    -max_len="$(max_len "$name")" \
    "$fresh" "fuzz/corpus/$name" "$CAMP/corpus/$name" >"$CAMP/logs/merge-$name.txt" 2>&1
  # A merged input keeps the name it had among the seeds (hand-written ones are
  # named for what they test); new ones are named by their SHA-1, as libFuzzer
  # names them. Seeds with a name of their own (written for what they test, or
  # regress-*: inputs that once crashed) always stay, whatever the merge kept.
  declare -A seed_name=()
  for f in "fuzz/corpus/$name"/*; do
    [ -e "$f" ] && seed_name[$(sha1sum <"$f" | cut -c1-40)]=$(basename "$f")
  done
  mkdir -p "$CAMP/named/$name"
  rm -f "$CAMP/named/$name"/*
  for f in "fuzz/corpus/$name"/*; do
    [ -e "$f" ] || continue
    [[ $(basename "$f") =~ ^[0-9a-f]{40}$ ]] || cp "$f" "$CAMP/named/$name/"
  done
  rm -rf "fuzz/corpus/$name"
  mkdir -p "fuzz/corpus/$name"
  for f in "$fresh"/*; do
    local sum
    sum=$(basename "$f")
    cp "$f" "fuzz/corpus/$name/${seed_name[$sum]:-$sum}"
  done
  cp "$CAMP/named/$name"/* "fuzz/corpus/$name/" 2>/dev/null || true
  echo "fuzz-campaign: $name: $(ls "fuzz/corpus/$name" | wc -l) inputs after the merge"
}

report() {
  printf '%-10s %14s %8s %8s %8s\n' target executions cov ft crashes
  for log in "$CAMP"/*.log; do
    [ -e "$log" ] || continue
    local name
    name=$(basename "$log" .log)
    awk -F'\t' -v n="$name" '{ runs += $2; if ($3 != "?") { cov = $3; ft = $4 } if ($6 != "-") crashes++ }
      END { printf "%-10s %14d %8s %8s %8d\n", n, runs, cov, ft, crashes }' "$log"
  done
}

case "${1:-}" in
  run) shift; run "$@" ;;
  merge) shift; merge "$@" ;;
  report) report ;;
  *) sed -n '2,18p' "$0" >&2; exit 2 ;;
esac
