#!/usr/bin/env bash
# Replays every fuzz corpus (fuzz/corpus/NAME/) through its target under ASan+UBSan,
# and the API fuzzer's corpus (two threads on one registry in many of its inputs)
# under ThreadSanitizer too. With TETHER_BUILD_DIR (make coverage's
# build-coverage), through that build's targets only.
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
if [ -z "${TETHER_BUILD_DIR:-}" ] && [ -d fuzz/corpus/api ]; then
  bin=build-tsan/fuzz/replay-api
  if [ ! -x "$bin" ]; then echo "no ThreadSanitizer replay binary for corpus api"; rc=1; else
    echo "replay api under ThreadSanitizer: $(ls fuzz/corpus/api | wc -l) inputs"
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" "$bin" fuzz/corpus/api || rc=1
  fi
fi
exit $rc
