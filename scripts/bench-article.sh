#!/usr/bin/env bash
# scripts/bench-article.sh [--quick] [--no-docs] OUTDIR (make bench-article: OUTDIR
# is build-bench/): the comparison table of the Go article measured for real.
#
# Installs what is missing (deps.sh bench-article), builds bench-article (the C
# and C++ peers, against libtether built by CMake in build-bench-article/) and
# bench/go's two commands, then runs the Go rows (articlebench), the C and C++
# rows (bench-article: one thread, two threads, and both with a churning writer),
# and callgrind's instruction counts per lookup + call (two op counts per peer,
# counted inside the reader's loop only, which bench-article marks with
# callgrind's client requests; the difference of the two removes what a run
# costs whatever its op count). Writes
# OUTDIR/article.tsv, article-detail.tsv, article.svg, article.md and the raw
# results, prints the table, and rewrites docs/bench.md's generated section and
# docs/bench-article.svg from them.
#
#   --quick    a smoke run: 1000 Go keys, 20000 ops per row, one run, no callgrind;
#              implies --no-docs
#   --no-docs  leave docs/ alone
# BENCH_ARTICLE_REPS (default 3) sets the runs per row; BENCH_ARTICLE_OPS the ops.
# Exit status: 0, 1 when a step fails, 2 for bad usage.
set -euo pipefail

quick=0 docs=1 out=""
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 docs=0 ;;
    --no-docs) docs=0 ;;
    -*) echo "bench-article.sh: unknown option '$arg'" >&2; exit 2 ;;
    *)
      [ -z "$out" ] || { echo "usage: scripts/bench-article.sh [--quick] [--no-docs] OUTDIR" >&2; exit 2; }
      out=$arg ;;
  esac
done
[ -n "$out" ] || { echo "usage: scripts/bench-article.sh [--quick] [--no-docs] OUTDIR" >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$root"

keys=100000
ops=${BENCH_ARTICLE_OPS:-10000000}
reps=${BENCH_ARTICLE_REPS:-3}
if [ "$quick" = 1 ]; then
  keys=1000 ops=${BENCH_ARTICLE_OPS:-20000} reps=${BENCH_ARTICLE_REPS:-1}
fi
case "$ops$reps" in *[!0-9]*) echo "bench-article.sh: BENCH_ARTICLE_OPS and BENCH_ARTICLE_REPS must be counts" >&2; exit 2 ;; esac
[ "$ops" -gt 0 ] && [ "$reps" -gt 0 ] || { echo "bench-article.sh: ops and reps must be positive" >&2; exit 2; }

t_start=$(date +%s)
step() { echo "==> $* ($(( $(date +%s) - t_start ))s)" >&2; }

step "dependencies"
scripts/deps.sh bench-article

step "building bench-article and bench/go"
build=build-bench-article
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DTETHER_BUILD_BENCH=ON -DTETHER_BUILD_BENCH_ARTICLE=ON \
  -DTETHER_BUILD_TOOLS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target bench-article >/dev/null
cbench=$root/$build/bench/bench-article
mkdir -p "$build/go"
(cd bench/go && GOPROXY=off GOFLAGS=-mod=mod go build -o "$root/$build/go/" ./cmd/articlebench ./cmd/articlereport)
gobench=$root/$build/go/articlebench
report=$root/$build/go/articlereport

step "machine and versions"
{
  echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
  rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  # The two files this script rewrites do not count as changes to what is measured.
  [ -z "$(git status --porcelain --untracked-files=no -- . ':!docs/bench.md' ':!docs/bench-article.svg' 2>/dev/null)" ] ||
    rev="$rev (with uncommitted changes)"
  echo "commit=$rev"
  echo "libtether=$(awk '/define TETHER_VERSION_(MAJOR|MINOR|PATCH)/ {v = v (v == "" ? "" : ".") $3} END {print v}' include/tether/tether.h)"
  echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  echo "cpus=$(nproc)"
  for c in /sys/devices/system/cpu/cpu0/cache/index*; do # l1d=48K, l2=2048K, l3=...
    [ -r "$c/size" ] || continue
    case "$(cat "$c/level")/$(cat "$c/type")" in
      1/Data) echo "l1d=$(cat "$c/size")" ;;
      2/Unified) echo "l2=$(cat "$c/size")" ;;
      3/Unified) echo "l3=$(cat "$c/size")" ;;
    esac
  done
  echo "kernel=$(uname -sr)"
  echo "os=$( (. /etc/os-release && echo "$PRETTY_NAME") 2>/dev/null || uname -s)"
  echo "go=$(go version | awk '{print $3}')"
  echo "gcc=$(cc --version | head -1)"
  echo "cxx=$(c++ --version | head -1)"
  echo "glib=$(pkg-config --modversion glib-2.0)"
  echo "liburcu=$(pkg-config --modversion liburcu)"
  echo "uthash=$(dpkg-query -W -f='${Version}' uthash-dev 2>/dev/null || echo unknown)"
  echo "boost=$(sed -n 's/^#define BOOST_LIB_VERSION "\(.*\)"/\1/p' /usr/include/boost/version.hpp | tr _ .)"
  echo "valgrind=$(valgrind --version 2>/dev/null || echo none)"
  if [ "$quick" = 1 ]; then echo "keys=$keys (Go rows; the C and C++ rows always 100000)"; else echo "keys=$keys"; fi
  echo "ops=$ops"
  echo "reps=$reps"
  [ "$quick" = 1 ] || echo "callgrind_ops=20000 and 120000 lookups per peer on one reader, counted inside its loop; Ir/op = difference / 100000"
} >"$out/machine.txt"

step "Go rows: $keys keys, $ops ops, $reps run(s) each"
"$gobench" -keys "$keys" -ops "$ops" -reps "$reps" >"$out/raw-go.tsv"

step "C and C++ rows: $ops ops, $reps run(s) each"
peers=()
churners=()
while IFS=$'\t' read -r name _ churn; do
  peers+=("$name")
  [ "$churn" = churn ] && churners+=("$name")
done < <("$cbench" --list)
: >"$out/raw-c.tsv"
for ((rep = 0; rep < reps; rep++)); do
  for p in "${peers[@]}"; do "$cbench" --ops "$ops" "$p" >>"$out/raw-c.tsv"; done
  for p in "${peers[@]}"; do "$cbench" --ops "$ops" --threads 2 "$p" >>"$out/raw-c.tsv"; done
  for t in 1 2; do
    for p in "${churners[@]}"; do "$cbench" --ops "$ops" --threads "$t" --churn "$p" >>"$out/raw-c.tsv"; done
  done
done

: >"$out/raw-ir.tsv"
if [ "$quick" = 0 ]; then
  step "callgrind instruction counts"
  collected() { # collected OPS PEER: instructions callgrind counted inside the reader thread
    valgrind --tool=callgrind --callgrind-out-file=/dev/null --instr-atstart=no --collect-atstart=no \
      "$cbench" --ops "$1" "$2" 2>&1 >/dev/null | sed -n 's/^==[0-9]*== Collected : //p'
  }
  for p in "${peers[@]}"; do
    a=$(collected 20000 "$p")
    b=$(collected 120000 "$p")
    if [ -z "$a" ] || [ -z "$b" ]; then
      echo "bench-article.sh: callgrind gave no count for $p" >&2
      exit 1
    fi
    printf 'variant=%s\tir_per_op=%s\n' "$p" "$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.1f", (b - a) / 100000}')" >>"$out/raw-ir.tsv"
  done
fi

step "report"
doc_args=()
[ "$docs" = 1 ] && doc_args=(-doc docs/bench.md)
"$report" -out "$out" -machine "$out/machine.txt" -svg-name bench-article.svg "${doc_args[@]+"${doc_args[@]}"}" \
  "$out/raw-go.tsv" "$out/raw-c.tsv" "$out/raw-ir.tsv"
if [ "$docs" = 1 ]; then
  cp "$out/article.svg" docs/bench-article.svg
fi
echo
echo "wrote $out/article.tsv, article-detail.tsv, article.svg, article.md$([ "$docs" = 1 ] && echo "; docs/bench.md and docs/bench-article.svg") in $(( $(date +%s) - t_start ))s"
