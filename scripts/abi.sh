#!/usr/bin/env bash
# libtether's ABI against the committed baseline (abi/libtether.so.N.abi), with
# libabigail's abidw and abidiff (Debian's abigail-tools).
#   scripts/abi.sh check [LIB]   compare LIB (default: the release build's
#                                libtether.so.N) with the baseline of its soname;
#                                exit 1 on an incompatible change
#   scripts/abi.sh baseline      record the release build's ABI as the baseline
#                                (make abi-baseline), after a soname bump or a release
# Only types the public header defines count: the baseline is recorded with
# --headers-dir include/tether --drop-private-types, so the opaque structs of src/
# are declarations there, and abidiff files their definitions in a new build under
# harmless changes (a declaration that became defined). The layout of src/'s
# structs is not ABI. Removed or changed functions and
# changed public types fail the check; added functions are compatible and only noted.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-check}
lib=${2:-build-release/libtether.so.0}

soname_of() { # the soname of $1, or exit 2: not a shared library with one
  local name
  name=$(readelf -d "$1" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
  if [ -z "$name" ]; then
    echo "abi.sh: $1 is not a shared library with a soname" >&2
    exit 2
  fi
  echo "$name"
}

case "$mode" in
  baseline)
    [ -f "$lib" ] || { echo "abi.sh: no $lib (make release first)" >&2; exit 2; }
    soname=$(soname_of "$lib") || exit 2
    mkdir -p abi
    abidw --headers-dir include/tether --drop-private-types --exported-interfaces-only --no-corpus-path \
      --no-comp-dir-path --no-show-locs --type-id-style hash "$lib" |
      sed "s|path='$PWD/|path='|" >"abi/$soname.abi"
    echo "abi.sh: recorded abi/$soname.abi ($(grep -c '<elf-symbol ' "abi/$soname.abi") symbols)"
    ;;
  check)
    [ -f "$lib" ] || { echo "abi.sh: no $lib (make release first)" >&2; exit 2; }
    soname=$(soname_of "$lib") || exit 2
    base=abi/$soname.abi
    if [ ! -f "$base" ]; then
      echo "abi.sh: no ABI baseline for $soname: after a soname bump, record one with 'make abi-baseline' and commit it"
      exit 1
    fi
    # A stripped library (a package's) has its types in a separate debug file:
    # ABI_DEBUG_DIR names where (the -dbgsym package's usr/lib/debug).
    debug=()
    [ -n "${ABI_DEBUG_DIR:-}" ] && debug=(--d2 "$ABI_DEBUG_DIR")
    if [ ${#debug[@]} -eq 0 ] && ! readelf -S "$lib" 2>/dev/null | grep '\.debug_info' >/dev/null; then
      echo "abi.sh: $lib has no debug info: only its symbols are compared (set ABI_DEBUG_DIR for its types)"
    fi
    echo "\$ abidiff ${debug[*]} $base $lib" | tr -s ' '
    set +e
    report=$(abidiff "${debug[@]}" "$base" "$lib")
    rc=$?
    set -e
    [ -n "$report" ] && echo "$report"
    if [ $((rc & 3)) -ne 0 ]; then
      echo "abi.sh: abidiff could not compare $base with $lib (exit $rc)"
      exit 2
    fi
    # abidiff sets bit 4 for any change, additions included: what breaks programs
    # built against the baseline is a removal or a change (bit 8 or a count).
    broken=$(echo "$report" | { grep 'summary:' || true; } | { grep -oE '[0-9]+ (Removed|Changed)' || true; } |
      awk '{s += $1} END {print s + 0}')
    if [ $((rc & 8)) -ne 0 ] || [ "$broken" -gt 0 ]; then
      what="an ABI change"
      [ $((rc & 8)) -ne 0 ] && what="an incompatible ABI change"
      echo "abi.sh: $lib has $what against $base (abidiff exit $rc, above)."
      echo "abi.sh: programs linked against $soname would break: bump the soname (TETHER_SOVERSION in"
      echo "abi.sh: src/library.cmake, and the libtetherN package in debian/) and record a new baseline with"
      echo "abi.sh: 'make abi-baseline', or restore the ABI."
      exit 1
    fi
    added=$(echo "$report" | sed -n "s/^  \[A\] .* \([A-Za-z_][A-Za-z0-9_]*\)(.*/\1/p" | sort -u | tr '\n' ' ')
    if [ -n "$added" ]; then
      echo "abi.sh: compatible: added since the baseline: $added(the next release records them: make abi-baseline)"
    fi
    echo "abi.sh: $lib keeps the ABI of $base"
    ;;
  *)
    echo "usage: scripts/abi.sh check [LIB] | baseline" >&2
    exit 2
    ;;
esac
