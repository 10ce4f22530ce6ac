#!/usr/bin/env bash
# make deb: builds the Debian packages libtether0, libtether-dev and tether (and
# their -dbgsym packages) with `dpkg-buildpackage -us -uc -b`, from a copy of the
# source tree in OUT/tether-VERSION/ (the files git tracks, plus untracked ones it
# does not ignore: never build*/ or third_party/, so nothing of another build is
# reused and the grammars are fetched as a fresh clone fetches them). The .deb,
# .buildinfo and .changes files land in OUT (default build-deb/), the parent of
# the copy, where dpkg-buildpackage writes them; the build's log is OUT/build.log.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build-deb}
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
src="$out/tether-$version"
rm -rf "$out"
mkdir -p "$src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] && printf '%s\0' "$f"
  done | tar --null -T - -cf - | tar -xf - -C "$src"
else
  tar --exclude='./build*' --exclude=./third_party -cf - . | tar -xf - -C "$src"
fi
jobs=$(nproc)
# npm may be installed outside Debian's packages (as scripts/deps.sh accepts): then
# it is the one unmet build dependency, and a working npm stands in for it.
flags=(-us -uc -b)
unmet=$(cd "$src" && dpkg-checkbuilddeps 2>&1 | sed -n 's/.*Unmet build dependencies: //p')
if [ "$unmet" = npm ] && command -v npm >/dev/null 2>&1; then
  echo "deb.sh: npm is not a Debian package here; using $(command -v npm) (dpkg-buildpackage -d)"
  flags+=(-d)
fi
echo "deb.sh: dpkg-buildpackage ${flags[*]} in $src (log: $out/build.log)"
if ! (cd "$src" && DEB_BUILD_OPTIONS="parallel=$jobs ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage "${flags[@]}") \
  >"$out/build.log" 2>&1; then
  tail -40 "$out/build.log"
  echo "deb.sh: dpkg-buildpackage failed; the whole log is $out/build.log" >&2
  exit 1
fi
rm -rf "$src"
ls -1 "$out"/*.deb
