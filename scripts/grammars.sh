#!/usr/bin/env bash
# Fetches the two tree-sitter grammars tether scan compiles in (their generated
# src/parser.c) from the npm registry into third_party/, only when absent. The
# tarballs are pinned by version and sha256; third_party/ is never committed.
# Both grammars are language ABI 14, which Debian's tree-sitter 0.20 runtime loads.
set -euo pipefail
cd "$(dirname "$0")/.."

grammars=(
  "tree-sitter-go 0.23.4 8779d20d322b4319ad8c833ea72ecb6d109cf1fec8979bdcdb5315a2e511dd2c"
  "tree-sitter-c 0.23.6 88175d4425037ec0026233a44f82064a676573b1fd748fc709ae607332151243"
)

mkdir -p third_party
for entry in "${grammars[@]}"; do
  read -r name version sum <<<"$entry"
  dest="third_party/$name"
  if [ -f "$dest/src/parser.c" ] && [ "$(cat "$dest/.version" 2>/dev/null)" = "$version" ]; then
    continue
  fi
  tgz="third_party/$name-$version.tgz"
  if [ ! -f "$tgz" ]; then
    echo "grammars.sh: fetching $name@$version" >&2
    (cd third_party && npm pack --silent "$name@$version" >/dev/null)
  fi
  got=$(sha256sum "$tgz" | cut -d' ' -f1)
  if [ "$got" != "$sum" ]; then
    echo "grammars.sh: $tgz has sha256 $got, expected $sum; refusing it" >&2
    rm -f "$tgz"
    exit 1
  fi
  rm -rf "$dest" "$dest.tmp"
  mkdir -p "$dest.tmp"
  tar xzf "$tgz" -C "$dest.tmp"
  mv "$dest.tmp/package" "$dest"
  rmdir "$dest.tmp"
  echo "$version" >"$dest/.version"
done
