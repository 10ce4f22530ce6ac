#!/usr/bin/env bash
# libtether's ABI. The release build's libtether.so.0 (make release, as installed)
# exports only tether_* under the version node TETHER_0.1 (nm -D), and keeps the
# ABI of the committed baseline (scripts/abi.sh check: abidiff). Then the check
# proves it can fail, on scratch libraries built here and thrown away: one with a
# function removed, one with a public struct's layout changed, both refused with
# the soname message; and one with a function added, accepted.
. "$(dirname "$0")/../tier.sh"

make -s release >/dev/null || { bad "make release"; finish; }
lib=build-release/libtether.so.0
objs=(build-release/CMakeFiles/tether_obj.dir/src/*.c.o)

[ "$(cat src/tether.map)" = "TETHER_0.1 { global: tether_*; local: *; };" ] &&
  ok "src/tether.map: TETHER_0.1 { global: tether_*; local: *; };" || bad "src/tether.map is not the TETHER_0.1 script"
echo "\$ nm -D --defined-only $lib"
nm -D --defined-only "$lib" | tee "$scratch/nm"
others=$(awk '!($2 == "A" && $3 == "TETHER_0.1") && $3 !~ /^tether_[A-Za-z0-9_]*@@TETHER_0\.1$/' "$scratch/nm")
count=$(grep -c ' T tether_' "$scratch/nm")
if [ -z "$others" ] && [ "$count" -gt 20 ]; then
  ok "nm -D: $count functions, every one tether_*@@TETHER_0.1, nothing else exported"
else
  bad "nm -D: exported besides tether_*@@TETHER_0.1: $others"
fi
readelf -d "$lib" | grep_all 'Library soname: \[libtether.so.0\]' && ok "soname libtether.so.0" || bad "soname is not libtether.so.0"

if scripts/abi.sh check "$lib"; then ok "abidiff: the release build keeps the baseline's ABI"; else bad "abidiff: the release build breaks the baseline's ABI"; fi

# expect_refused WHAT LIB PATTERN: the check must fail on LIB, naming PATTERN.
expect_refused() {
  local out rc
  out=$(scripts/abi.sh check "$2" 2>&1)
  rc=$?
  echo "$out" | sed 's/^/  | /'
  if [ "$rc" -eq 1 ] && echo "$out" | grep_all "$3" && echo "$out" | grep_all "bump the soname" &&
     echo "$out" | grep_all "or restore the ABI"; then
    ok "self-test: $1 is refused, naming $3, with the soname message"
  else
    bad "self-test: $1 was not refused as it should be (exit $rc)"
  fi
}
link_scratch() { # link_scratch DIR MAP EXTRA_OBJECTS...: the release objects as libtether.so.0
  local dir=$1 map=$2
  shift 2
  mkdir -p "$dir"
  cc -shared -o "$dir/libtether.so.0" -Wl,-soname,libtether.so.0 -Wl,--version-script="$map" "${objs[@]}" "$@" -lpthread
}

# 1. tether_count made local by the version script: a removed function.
echo 'TETHER_0.1 { global: tether_*; local: tether_count; *; };' >"$scratch/hide.map"
if link_scratch "$scratch/removed" "$scratch/hide.map" && ! nm -D "$scratch/removed/libtether.so.0" | grep_all tether_count; then
  expect_refused "a library without tether_count" "$scratch/removed/libtether.so.0" "tether_count"
else
  bad "self-test: could not build the library without tether_count"
fi

# 2. The library compiled from a copy of the sources whose header has a field
#    inserted at the start of tether_stats: every function taking one changes.
mkdir -p "$scratch/layout/src" "$scratch/layout/include/tether"
cp src/*.c src/*.h "$scratch/layout/src/"
sed '/^typedef struct tether_stats {$/a\  uint64_t abi_selftest_inserted;' include/tether/tether.h \
  >"$scratch/layout/include/tether/tether.h"
version=$(sed -n 's/^project(tether VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
IFS=. read -r vmaj vmin vpat <<<"$version"
if grep -q abi_selftest_inserted "$scratch/layout/include/tether/tether.h" &&
   (cd "$scratch/layout" && cc -shared -fPIC -g -O0 -fvisibility=hidden -fexceptions -D_GNU_SOURCE -DNDEBUG \
     -DTETHER_BUILDING=1 -DTETHER_BUILD_VERSION="\"$version\"" -DTETHER_BUILD_VERSION_MAJOR="$vmaj" \
     -DTETHER_BUILD_VERSION_MINOR="$vmin" -DTETHER_BUILD_VERSION_PATCH="$vpat" -Iinclude -Isrc src/*.c \
     -o libtether.so.0 -Wl,-soname,libtether.so.0 -Wl,--version-script="$OLDPWD/src/tether.map" -lpthread); then
  expect_refused "a library whose tether_stats has a field inserted" "$scratch/layout/libtether.so.0" "tether_stats"
else
  bad "self-test: could not build the library with a changed tether_stats"
fi

# 3. One function more: compatible, accepted and noted.
printf '%s\n' '#include <tether/tether.h>' \
  '__attribute__((visibility("default"))) int tether_abi_selftest_added(int x);' \
  'int tether_abi_selftest_added(int x) { return x; }' >"$scratch/added.c"
if cc -g -fPIC -Iinclude -c "$scratch/added.c" -o "$scratch/added.o" &&
   link_scratch "$scratch/added" src/tether.map "$scratch/added.o"; then
  out=$(scripts/abi.sh check "$scratch/added/libtether.so.0" 2>&1)
  rc=$?
  echo "$out" | sed 's/^/  | /'
  if [ "$rc" -eq 0 ] && echo "$out" | grep_all "compatible: added since the baseline: tether_abi_selftest_added"; then
    ok "self-test: a library with one function more is accepted, the addition noted"
  else
    bad "self-test: a compatible addition was refused (exit $rc)"
  fi
else
  bad "self-test: could not build the library with a function added"
fi
git diff --quiet -- abi src include || bad "the self-tests changed tracked files"
finish
