#!/usr/bin/env bash
# scripts/ab.sh [REV...]: compares dispatch speed across builds of libtether in
# one process (bench/ab-dispatch.c). Each REV is a git revision, or "." for the
# work tree; the default is "HEAD ." (the last commit against uncommitted
# changes). Builds go to build-ab/; AB_ROUNDS sets the rounds (default 15).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build bench >/dev/null
[ $# -eq 0 ] && set -- HEAD .
mkdir -p build-ab
libs=()
for rev in "$@"; do
  if [ "$rev" = . ]; then
    src=. name=worktree
  else
    sha=$(git rev-parse --short "$rev^{commit}")
    src=build-ab/src-$sha name=$sha
    if [ ! -d "$src" ]; then
      mkdir -p "$src"
      git archive "$sha" | tar -x -C "$src"
    fi
  fi
  cmake -S "$src" -B "build-ab/$name" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" \
    -DTETHER_BUILD_TOOLS=OFF >/dev/null
  cmake --build "build-ab/$name" -j "$(nproc)" --target tether_shared >/dev/null
  libs+=("build-ab/$name/libtether.so.0")
done
cmake -S . -B build-ab/tool -DCMAKE_BUILD_TYPE=Release -DTETHER_BUILD_BENCH=ON -DTETHER_BUILD_TOOLS=OFF >/dev/null
cmake --build build-ab/tool -j "$(nproc)" --target ab-dispatch >/dev/null
build-ab/tool/bench/ab-dispatch "${libs[@]}"
