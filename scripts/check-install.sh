#!/usr/bin/env bash
# `make install` into a staging folder, then build examples/hello.c against the
# installed copy with pkg-config (shared library, found through its soname) and run it.
set -euo pipefail
cd "$(dirname "$0")/.."
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
make -s install DESTDIR="$stage" PREFIX=/usr/local >/dev/null
prefix="$stage/usr/local"
libdir=$(ls -d "$prefix"/lib* | head -1)
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cflags=$(pkg-config --cflags tether | sed "s|-I/usr/local|-I$prefix|")
libs=$(pkg-config --libs tether | sed "s|-L/usr/local/lib|-L$libdir|")
test -e "$libdir/libtether.so.0" || { echo "no soname link libtether.so.0"; exit 1; }
cc -std=c11 -Wall -Wextra -Werror $cflags examples/hello.c -o "$stage/hello" $libs -lpthread
LD_LIBRARY_PATH="$libdir" "$stage/hello"
# The header also compiles as C++.
if command -v g++ >/dev/null; then
  printf '#include <tether/tether.h>\nint main() { tether_registry *r = nullptr; return tether_registry_new(&r, nullptr) == 0 ? tether_registry_free(r) : 1; }\n' > "$stage/cxx.cc"
  g++ -Wall -Wextra -Werror $cflags "$stage/cxx.cc" -o "$stage/cxx" $libs -lpthread
  LD_LIBRARY_PATH="$libdir" "$stage/cxx"
fi
echo "1 passed, 0 failed"
