// Uses libtether from C++ through find_package(tether): a lambda without captures
// as a handler, a context destroyed exactly once, TETHER_HERE as a C++ expression.
#include <tether/tether.h>

#include <cstdio>
#include <string>

int main() {
  tether_registry *r = nullptr;
  if (tether_registry_new(&r, nullptr) != 0) return 1;
  static int destroyed = 0;
  auto *greeting = new std::string("hello");
  tether_id id = 0;
  int rc = tether_register_at(
      r, TETHER_HERE, "greet",
      [](void *ctx, void *arg) -> int {
        static_cast<std::string *>(arg)->append(*static_cast<std::string *>(ctx));
        return 7;
      },
      greeting,
      [](void *ctx) {
        delete static_cast<std::string *>(ctx);
        destroyed++;
      },
      nullptr, &id);
  if (rc != 0) return 2;
  std::string out;
  int result = 0;
  if (tether_call(r, "greet", &out, &result) != 0 || result != 7 || out != "hello") return 3;
  if (tether_unregister_sync(r, id) != 0 || destroyed != 1) return 4;
  if (tether_call(r, "greet", &out, &result) != TETHER_ENOENT) return 5;
  if (tether_registry_free(r) != 0) return 6;
  std::printf("c++: libtether %s: ok\n", tether_version());
  return 0;
}
