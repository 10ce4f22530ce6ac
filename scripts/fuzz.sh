#!/usr/bin/env bash
# make fuzz: builds the libFuzzer targets with clang and runs each for SECONDS
# (default 120), starting from its seed corpus; new inputs go to build-fuzz/corpus/NAME.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-120}
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DTETHER_BUILD_FUZZ=ON \
  -DTETHER_SANITIZE=address -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$(nproc)" >/dev/null
for bin in build-fuzz/fuzz/fuzz-*; do
  name=${bin##*/fuzz-}
  mkdir -p "build-fuzz/corpus/$name"
  echo "==> fuzz $name for ${secs}s"
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    "build-fuzz/corpus/$name" "fuzz/corpus/$name"
done
