#!/usr/bin/env bash
# make bench: builds with NDEBUG and -O2 in build-bench/, runs the library's
# benchmark (bench/bench-registry) and then every scripts/bench.d/*.sh. Benchmarks
# print tables; they never pass or fail on timings.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DTETHER_BUILD_BENCH=ON -DTETHER_BUILD_TOOLS=ON >/dev/null
cmake --build build-bench -j "$(nproc)" >/dev/null
if [ -x build-bench/bench/bench-registry ]; then
  build-bench/bench/bench-registry
fi
for b in scripts/bench.d/*.sh; do
  [ -e "$b" ] || continue
  echo
  echo "==> $(basename "$b" .sh)"
  "$b"
done
