#!/usr/bin/env bash
# tether diff vs `go tool pprof -top -base` on the committed large heap profiles
# (tests/fixtures/go/out/many-*.pb.gz, more than 100,000 samples each), in one
# run on this machine. Best of several runs each; prints a table with the ratio.
# Skipped, with a message, when Go is not installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=tests/fixtures/go/out
# TETHER names the binary to time; else the first built one (make bench builds build-bench/).
tether="${TETHER:-}"
for t in build-bench/tether build/tether build-prof/tether; do
  [ -z "$tether" ] && [ -x "$t" ] && tether=$t
done
if [ -z "$tether" ]; then
  echo "prof: no built tether binary (run make first); skipped"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "prof: Go is not installed (scripts/deps.sh go); skipped"
  exit 0
fi
export GOCACHE="${GOCACHE:-$(mktemp -d)}" GOFLAGS= GOTOOLCHAIN=local

# best RUNS CMD...: the fastest wall time of RUNS runs, in seconds.
best() {
  local runs=$1 best="" t0 t1 t
  shift
  for _ in $(seq "$runs"); do
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    t=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
  done
  echo "$best"
}

echo "tether: $tether; $(go version)"
pprof=(go tool pprof -symbolize=none -nodecount=1000000 -nodefraction=0 -edgefraction=0 -unit=B)
printf '%-40s %12s %14s %8s\n' "profiles (samples)" "tether diff" "go tool pprof" "ratio"
row() {
  local label=$1 si=$2 base=$3 cur=$4
  local t p
  t=$(best 5 "$tether" diff --raw --sample-index "$si" "$base" "$cur")
  p=$(best 3 "${pprof[@]}" -top -sample_index="$si" -base "$base" "$cur")
  printf '%-40s %11.3fs %13.3fs %7.1fx\n' "$label" "$t" "$p" "$(echo "$p / $t" | bc -l)"
}
samples=$("$tether" top --format json "$out/many-2.pb.gz" | sed -n 's/.*"samples":\([0-9]*\).*/\1/p')
row "many-1 -> many-2 inuse_space ($samples)" inuse_space "$out/many-1.pb.gz" "$out/many-2.pb.gz"
row "many-1 -> many-2 alloc_objects" alloc_objects "$out/many-1.pb.gz" "$out/many-2.pb.gz"
row "leaky-1 -> leaky-4 inuse_space (small)" inuse_space "$out/leaky-1.pb.gz" "$out/leaky-4.pb.gz"
