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
passed=1
# A release build: the installed library does not assert.
if nm -D "$libdir/libtether.so.0" | grep -q '__assert_fail'; then
  echo "install: libtether.so.0 calls __assert_fail (built without NDEBUG)"; exit 1
fi
passed=$((passed + 1))
# The header compiles as C++, and a C++ exception thrown by a handler goes
# through the installed library to the caller, closing the read section: the
# thread may then wait for destructors, and the registry frees clean.
if command -v g++ >/dev/null; then
  cat > "$stage/cxx.cc" <<'EOF'
#include <tether/tether.h>
#include <cstdio>
#include <stdexcept>
static int freed;
static int thrower(void *, void *) { throw std::runtime_error("from a handler"); }
static void destroy(void *) { freed++; }
int main() {
  tether_registry *r = nullptr;
  if (tether_registry_new(&r, nullptr) != 0) return 1;
  tether_reg_options once = {};
  once.flags = TETHER_ONCE;
  tether_id id = 0;
  if (tether_register(r, "plain", thrower, nullptr, destroy, nullptr, &id) != 0) return 2;
  if (tether_register(r, "once", thrower, nullptr, destroy, &once, nullptr) != 0) return 3;
  int caught = 0;
  for (const char *name : {"plain", "once", "plain"}) {
    try {
      tether_emit(r, name, nullptr);
    } catch (const std::runtime_error &) {
      caught++;
    }
  }
  if (caught != 3) return 4;
  if (tether_emit(r, "once", nullptr) != 0) return 5; /* consumed by its one call */
  if (tether_unregister_sync(r, id) != 0) return 6;   /* EDEADLK if still "inside" */
  if (freed != 2) return 7;
  if (tether_registry_free(r) != 0) return 8;
  std::puts("c++: exceptions through tether_emit: ok");
  return 0;
}
EOF
  g++ -std=c++17 -Wall -Wextra -Werror $cflags "$stage/cxx.cc" -o "$stage/cxx" $libs -lpthread
  LD_LIBRARY_PATH="$libdir" "$stage/cxx"
  passed=$((passed + 1))
fi
echo "$passed passed, 0 failed"
