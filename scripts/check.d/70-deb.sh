#!/usr/bin/env bash
# The Debian packages, built as `make deb` builds them (scripts/deb.sh: a copy of
# the source tree, dpkg-buildpackage -us -uc -b, the grammars fetched anew; no
# build folder reused). Then: lintian reports no error; the packages hold what they
# should (dpkg-deb -c); they install into a scratch root with dpkg --root; against
# the packaged files examples/hello.c builds with pkg-config (shared and static),
# the CMake package user (tests/package) builds and runs, the packaged library has
# the baseline's ABI (with the -dbgsym package's types) and the packaged tether
# runs; and purging removes every file.
. "$(dirname "$0")/../tier.sh"

out=$scratch/deb
t0=$(date +%s)
if scripts/deb.sh "$out"; then
  ok "dpkg-buildpackage -us -uc -b built the packages in $(( $(date +%s) - t0 )) s"
else
  bad "dpkg-buildpackage failed"
  finish
fi
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
for pkg in libtether0 libtether-dev tether; do
  [ -f "$out/${pkg}_${version}_$arch.deb" ] && ok "built ${pkg}_${version}_$arch.deb" || bad "no ${pkg}_${version}_$arch.deb"
done
# Compiler and dpkg tools' warnings ("file:line: warning:", "dpkg-gensymbols:
# warning:"); CMake's note on debhelper's unused cache variables is not one.
if grep -q '^dpkg-gensymbols: warning: ' "$out/build.log"; then
  sed -n '/^dpkg-gensymbols: warning: /,/^   dh_/p' "$out/build.log" | grep -v '^   dh_'
  bad "the exported symbols differ from debian/libtether0.symbols (diff above): list each new function there, with the version that adds it"
elif grep -q ': warning: ' "$out/build.log"; then
  grep ': warning: ' "$out/build.log" | head -20
  bad "the package build printed compiler or packaging warnings"
else
  ok "the package build printed no compiler or dpkg warning"
fi

echo "\$ lintian -I --pedantic $(basename "$out"/*.changes)"
lintian -I --pedantic "$out"/*.changes >"$scratch/lintian" 2>&1
lrc=$?
grep -v 'running with root privileges' "$scratch/lintian"
if [ "$lrc" -eq 0 ] && ! grep -q '^E: ' "$scratch/lintian"; then
  ok "lintian: no error ($(grep -c '^[WIP]: ' "$scratch/lintian") warnings, infos and pedantic notes)"
else
  bad "lintian reports errors (exit $lrc)"
fi

for deb in "$out"/libtether0_*.deb "$out"/libtether-dev_*.deb "$out"/tether_*.deb; do
  echo "\$ dpkg-deb -c $(basename "$deb")"
  dpkg-deb -c "$deb" | tee "$scratch/$(basename "$deb").list"
done
has() { grep -q -- " \./$2\( \|$\)" "$scratch/$1_${version}_$arch.deb.list"; }
want=(
  "libtether0 usr/lib/$multiarch/libtether.so.$version"
  "libtether0 usr/lib/$multiarch/libtether.so.0"
  "libtether-dev usr/include/tether/tether.h"
  "libtether-dev usr/lib/$multiarch/libtether.a"
  "libtether-dev usr/lib/$multiarch/libtether.so"
  "libtether-dev usr/lib/$multiarch/pkgconfig/tether.pc"
  "libtether-dev usr/lib/$multiarch/cmake/tether/tetherConfig.cmake"
  "libtether-dev usr/lib/$multiarch/cmake/tether/tetherConfigVersion.cmake"
  "libtether-dev usr/share/man/man7/tether.7.gz"
  "tether usr/bin/tether"
  "tether usr/share/man/man1/tether.1.gz"
)
for page in docs/man/*.3; do want+=("libtether-dev usr/share/man/man3/$(basename "$page").gz"); done
missing=()
for w in "${want[@]}"; do has $w || missing+=("$w"); done
[ ${#missing[@]} -eq 0 ] && ok "the packages hold the ${#want[@]} files they should" || bad "missing: ${missing[*]}"
if grep -q 'libtether\.so' "$scratch/tether_${version}_$arch.deb.list" || grep -q 'usr/include' "$scratch/libtether0_${version}_$arch.deb.list"; then
  bad "a file in the wrong package"
else
  ok "the library is only in libtether0/libtether-dev, the header only in libtether-dev"
fi
dpkg-deb --ctrl-tarfile "$out/libtether0_${version}_$arch.deb" | tar -xOf - ./symbols >"$scratch/symbols" 2>/dev/null
nsyms=$(grep -c '@TETHER_0.1 ' "$scratch/symbols")
[ "$nsyms" -gt 20 ] && ok "libtether0 ships a symbols file ($nsyms versioned symbols)" || bad "libtether0 has no symbols file"

# A scratch root: dpkg --root installs there (the libc and friends it depends on
# are the host's, hence --force-depends).
root=$scratch/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
: >"$root/var/lib/dpkg/status"
if dpkg --root="$root" --log=/dev/null --force-depends --force-script-chrootless -i "$out"/*.deb >"$scratch/install.log" 2>&1; then
  ok "dpkg --root installs the $(ls "$out"/*.deb | wc -l) packages into a scratch root"
else
  cat "$scratch/install.log"
  bad "dpkg --root -i failed"
fi
dpkg --root="$root" -l | grep '^ii'
libdir=$root/usr/lib/$multiarch
export PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_LIBDIR=$libdir/pkgconfig
flags=$(pkg-config --cflags --libs tether)
if cc -Wall -Wextra -Werror examples/hello.c $flags -lpthread -o "$scratch/hello" 2>&1 &&
   out_hello=$(LD_LIBRARY_PATH=$libdir "$scratch/hello") && [ "$out_hello" = "hello, tether" ] &&
   LD_LIBRARY_PATH=$libdir ldd "$scratch/hello" | grep_all "$libdir/libtether.so.0"; then
  ok "examples/hello.c against the packaged files (pkg-config: $flags): prints '$out_hello', loads the packaged libtether.so.0"
else
  bad "examples/hello.c does not build or run against the packaged files"
fi
if cc -Wall -Wextra -Werror $(pkg-config --cflags tether) examples/hello.c "$libdir/libtether.a" -lpthread -o "$scratch/hello-static" &&
   [ "$("$scratch/hello-static")" = "hello, tether" ] && ! ldd "$scratch/hello-static" | grep_all libtether; then
  ok "examples/hello.c linked with the packaged libtether.a runs"
else
  bad "examples/hello.c with the packaged libtether.a"
fi
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR
if cmake -S tests/package -B "$scratch/user" -DCMAKE_PREFIX_PATH="$root/usr" >"$scratch/user.log" 2>&1 &&
   cmake --build "$scratch/user" -j 2 >>"$scratch/user.log" 2>&1 &&
   grep -q "^tether_DIR=$libdir/cmake/tether$" "$scratch/user/found.txt" &&
   "$scratch/user/use-c" && "$scratch/user/use-cxx-static"; then
  ok "find_package(tether 0.1 CONFIG REQUIRED) finds the packaged config; C and C++ programs build and run"
else
  tail -20 "$scratch/user.log"
  bad "the CMake package user against the packaged files"
fi
if ABI_DEBUG_DIR=$root/usr/lib/debug scripts/abi.sh check "$libdir/libtether.so.0"; then
  ok "the packaged libtether.so.0 keeps the baseline's ABI (types from libtether0-dbgsym)"
else
  bad "the packaged libtether.so.0 breaks the baseline's ABI"
fi
tv=$("$root/usr/bin/tether" --version 2>&1)
if [ "$(echo "$tv" | head -1)" = "tether $version" ] && echo "$tv" | grep_all "^grammars: tree-sitter-go [0-9.]*, tree-sitter-c [0-9.]*$"; then
  ok "the packaged tether --version: $(echo "$tv" | tr '\n' ';')"
else
  bad "the packaged tether --version printed: $tv"
fi
if MANPATH=$root/usr/share/man MANWIDTH=80 man -P cat 3 tether_register_at 2>/dev/null | grep_all "tether_register_at," &&
   MANPATH=$root/usr/share/man man -w 1 tether 2>/dev/null | grep_all "$root/usr/share/man/man1/tether.1.gz"; then
  ok "man finds tether_register_at(3) and tether(1) in the packaged pages"
else
  bad "man does not find the packaged pages"
fi
dpkg --root="$root" --log=/dev/null --force-depends -P tether-dbgsym libtether0-dbgsym tether libtether-dev libtether0 \
  >"$scratch/purge.log" 2>&1
left=$(find "$root/usr" -type f -o -type l 2>/dev/null | head)
[ -z "$left" ] && ok "purging the packages removes every file they installed" || bad "left after purge: $left"
finish
