#!/usr/bin/env bash
# The CMake package: `make install` into a staging folder, then a separate project
# (tests/package/) finds it with find_package(tether 0.1 CONFIG REQUIRED) and builds
# C and C++ programs against tether::tether (shared) and tether::tether_static;
# each runs. Also: the version file's same-major rule, and the pkg-config file.
. "$(dirname "$0")/../tier.sh"

make -s install DESTDIR="$scratch" PREFIX=/usr/local >/dev/null || { bad "make install"; finish; }
prefix="$scratch/usr/local"
cfg=$(find "$prefix" -name tetherConfig.cmake)
if [ -n "$cfg" ] && [ -f "$(dirname "$cfg")/tetherConfigVersion.cmake" ] &&
   [ -f "$(dirname "$cfg")/tetherTargets.cmake" ]; then
  ok "installed ${cfg#"$scratch"} with its version and targets files"
else
  bad "no tetherConfig.cmake, tetherConfigVersion.cmake and tetherTargets.cmake under $prefix"
fi

# The user's project, configured against the staged prefix only.
if cmake -S tests/package -B "$scratch/user" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF \
     >"$scratch/configure.log" 2>&1 && cmake --build "$scratch/user" -j 2 >"$scratch/build.log" 2>&1; then
  ok "find_package(tether 0.1 CONFIG REQUIRED): configured and built"
else
  cat "$scratch/configure.log" "$scratch/build.log" 2>/dev/null | tail -30
  bad "the package user did not configure or build"
fi
if grep -q "^tether_VERSION=0\.1\.0$" "$scratch/user/found.txt" 2>/dev/null &&
   grep -q "^tether_DIR=$scratch" "$scratch/user/found.txt"; then
  ok "found version 0.1.0 in the staged prefix"
else
  bad "found.txt: $(cat "$scratch/user/found.txt" 2>/dev/null)"
fi
for prog in use-c use-c-static use-cxx use-cxx-static; do
  if out=$("$scratch/user/$prog" 2>&1) && [[ "$out" == *": libtether 0.1.0: ok" ]]; then
    ok "$prog runs: $out"
  else
    bad "$prog: $out"
  fi
done
# The shared targets load the staged libtether.so.0 (by soname); the static ones
# need no libtether at run time.
for prog in use-c use-cxx; do
  lib=$(ldd "$scratch/user/$prog" | awk '$1 == "libtether.so.0" {print $3}')
  if [[ "$lib" == "$prefix"/lib*/libtether.so.0 ]]; then ok "$prog loads ${lib#"$scratch"} (staged)"; else bad "$prog loads libtether.so.0 from '$lib'"; fi
done
for prog in use-c-static use-cxx-static; do
  if ldd "$scratch/user/$prog" | grep_all libtether; then bad "$prog links libtether dynamically"; else ok "$prog is static"; fi
done

# Same-major compatibility: 0.1 and 0.0 are accepted, 0.2 (newer) and 1 are not.
probe() { # probe VERSION: exit status of a configure asking for that version
  mkdir -p "$scratch/probe-$1"
  printf 'cmake_minimum_required(VERSION 3.18)\nproject(p LANGUAGES C)\nfind_package(tether %s CONFIG REQUIRED)\n' "$1" \
    >"$scratch/probe-$1/CMakeLists.txt"
  cmake -S "$scratch/probe-$1" -B "$scratch/probe-$1/b" -DCMAKE_PREFIX_PATH="$prefix" >"$scratch/probe-$1.log" 2>&1
}
for v in 0.1 0.1.0 0.0.9; do probe "$v" && ok "find_package(tether $v) accepts 0.1.0" || bad "find_package(tether $v) refused 0.1.0"; done
for v in 0.2 1.0 1; do
  if probe "$v"; then bad "find_package(tether $v) accepted 0.1.0"
  elif grep -q "not compatible\|version: 0.1.0" "$scratch/probe-$v.log"; then ok "find_package(tether $v) refuses 0.1.0"
  else bad "find_package(tether $v) failed for another reason: $(tail -5 "$scratch/probe-$v.log")"; fi
done

# pkg-config still works beside it.
pc=$(find "$prefix" -name tether.pc)
if [ -n "$pc" ] && [ "$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --modversion tether)" = 0.1.0 ]; then
  ok "tether.pc says 0.1.0"
else
  bad "tether.pc missing or of another version"
fi
finish
