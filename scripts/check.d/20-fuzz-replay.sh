#!/usr/bin/env bash
# Replays every fuzz corpus (fuzz/corpus/NAME/) through its target under ASan+UBSan
# (or through the targets of TETHER_BUILD_DIR: make coverage's build-coverage).
set -euo pipefail
cd "$(dirname "$0")/../.."
rc=0
for dir in fuzz/corpus/*/; do
  [ -d "$dir" ] || continue
  name=$(basename "$dir")
  bin=${TETHER_BUILD_DIR:-build-asan}/fuzz/replay-$name
  if [ ! -x "$bin" ]; then echo "no replay binary for corpus $name"; rc=1; continue; fi
  echo "replay $name: $(ls "$dir" | wc -l) inputs"
  ASAN_OPTIONS=detect_leaks=1 "$bin" "$dir" || rc=1
done
exit $rc
