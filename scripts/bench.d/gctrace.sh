#!/usr/bin/env bash
# tether gctrace throughput: generates a 2-million-line trace (Go 1.18+ and 1.5-1.17
# gc lines, scavenger lines and program output, one GC a second with a slow leak),
# then times the parse-fit-report run reading a file, a pipe, and with --tee.
# Prints a table; the target is at least 1 million lines per second.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${TETHER:-build-bench/tether}
[ -x "$bin" ] || { echo "gctrace bench: no $bin (run make bench, or set TETHER=path)"; exit 0; }
lines=${GCTRACE_BENCH_LINES:-2000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk -v n="$lines" 'BEGIN {
  for (i = 0; i < n; i++) {
    k = i % 10
    if (k == 7) { printf "request %d served in %d us\n", i, i % 997; continue }
    if (k == 9) { printf "scav 0 KiB work (bg), 0 KiB work (eager), %d KiB now, 95%% util\n", 1000 + i % 50; continue }
    live = 200 + int(i / 20000) + (i % 13)
    if (k == 3)
      printf "gc %d @%d.%03ds 3%%: 0.021+1.2+0.012 ms clock, 0.17+0.33/2.1/4.5+0.098 ms cpu, %d->%d->%d MB, %d MB goal, 4 P\n", i, i / 10, i % 1000, live * 2, live * 2 + 3, live, live * 2 + 8
    else
      printf "gc %d @%d.%03ds 3%%: 0.021+1.2+0.012 ms clock, 0.17+0.33/2.1/4.5+0.098 ms cpu, %d->%d->%d MB, %d MB goal, 0 MB stacks, 0 MB globals, 8 P%s\n", i, i / 10, i % 1000, live * 2, live * 2 + 3, live, live * 2 + 8, (k == 5 ? " (forced)" : "")
  }
}' > "$tmp/trace"
bytes=$(stat -c %s "$tmp/trace")

# Runs the command 3 times and prints the best wall time in seconds.
best() {
  local b=999999 s e t
  for _ in 1 2 3; do
    s=$(date +%s.%N)
    "$@" > /dev/null 2>&1 || [ $? -eq 1 ]
    e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc -l)
    b=$(echo "if ($t < $b) $t else $b" | bc -l)
  done
  echo "$b"
}
run_file() { "$bin" gctrace "$tmp/trace"; }
run_pipe() { cat "$tmp/trace" | "$bin" gctrace -; }
run_tee() { cat "$tmp/trace" | "$bin" gctrace --tee; }
run_json_svg() { "$bin" gctrace --format json --svg "$tmp/out.svg" "$tmp/trace"; }

printf "input: %d lines, %.1f MB (%s)\n" "$lines" "$(echo "$bytes / 1048576" | bc -l)" "$bin"
printf "%-22s %10s %14s %10s\n" "mode" "seconds" "lines/s" "MB/s"
for mode in file pipe tee json_svg; do
  t=$(best "run_$mode")
  printf "%-22s %10.3f %14.0f %10.1f\n" "$mode" "$t" "$(echo "$lines / $t" | bc -l)" \
    "$(echo "$bytes / 1048576 / $t" | bc -l)"
done
"$bin" gctrace "$tmp/trace" | sed -n '1p;$p' | sed 's/^/  /'
