// C++ exceptions thrown through libtether: from handlers (every way of
// dispatching) and from a walk visitor. Each must reach the caller, and the
// registry must go on as if the handler had returned: no thread left "inside",
// nothing leaked, every destructor once.
#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>

extern "C" {
#include "runner.h"
#include "tether/tether.h"
}

namespace {

struct boom : std::runtime_error {
  boom() : std::runtime_error("boom") {}
};

struct counter {
  std::atomic<int> calls{0}, freed{0};
};

int throwing_fn(void *ctx, void *arg) {
  (void)arg;
  static_cast<counter *>(ctx)->calls++;
  throw boom();
}

int counting_fn(void *ctx, void *arg) {
  (void)arg;
  static_cast<counter *>(ctx)->calls++;
  return 0;
}

int nested_fn(void *ctx, void *arg) {
  static_cast<counter *>(ctx)->calls++;
  tether_emit(static_cast<tether_registry *>(arg), "thrower", nullptr);  // throws two sections deep
  return 0;
}

void counting_free(void *ctx) { static_cast<counter *>(ctx)->freed++; }

int visit_throws(const tether_info *info, void *arg) {
  (void)info;
  (void)arg;
  throw boom();
}

// A counting allocator: every block must be back when the registry is freed.
std::atomic<long> g_live{0};
void *count_alloc(void *ud, size_t size) {
  (void)ud;
  g_live++;
  return std::malloc(size);
}
void count_free(void *ud, void *p, size_t size) {
  (void)ud;
  (void)size;
  g_live--;
  std::free(p);
}
const tether_allocator k_counting = {count_alloc, count_free, nullptr};

template <typename F>
bool throws(F f) {
  try {
    f();
  } catch (const boom &) {
    return true;
  }
  return false;
}

}  // namespace

TEST(unwind_exception_through_every_dispatch) {
  for (int mode : {TETHER_MAP, TETHER_BUS}) {
    tether_options o = {};
    o.mode = mode;
    o.allocator = &k_counting;
    tether_registry *r = nullptr;
    CHECK_EQ(tether_registry_new(&r, &o), 0);
    counter thrower, after, once, nested;
    tether_id tid = 0, nid = 0;
    CHECK_EQ(tether_register(r, "thrower", throwing_fn, &thrower, counting_free, nullptr, &tid), 0);
    if (mode == TETHER_BUS)  // a later handler of the same emit is not called
      CHECK_EQ(tether_register(r, "thrower", counting_fn, &after, counting_free, nullptr, nullptr), 0);
    tether_reg_options ro = {};
    ro.flags = TETHER_ONCE;
    CHECK_EQ(tether_register(r, "once", throwing_fn, &once, counting_free, &ro, nullptr), 0);
    CHECK_EQ(tether_register(r, "nested", nested_fn, &nested, counting_free, nullptr, &nid), 0);
    std::string long_name(40, 'x');  // the general path, past the 16-byte fast path
    CHECK_EQ(tether_register(r, long_name.c_str(), throwing_fn, &thrower, nullptr, nullptr, nullptr), 0);
    CHECK(throws([&] { tether_emit(r, "thrower", nullptr); }));
    CHECK(throws([&] { tether_call(r, "thrower", nullptr, nullptr); }));
    CHECK(throws([&] { tether_emit(r, long_name.c_str(), nullptr); }));
    tether_topic *t = nullptr;
    CHECK_EQ(tether_topic_get(r, "thrower", &t), 0);
    CHECK(throws([&] { tether_topic_emit(t, nullptr); }));
    tether_topic_release(t);
    tether_ref *ref = nullptr;
    CHECK_EQ(tether_acquire(r, tid, &ref), 0);
    CHECK(throws([&] { tether_ref_call(ref, nullptr, nullptr); }));
    tether_ref_release(ref);
    CHECK(throws([&] { tether_emit(r, "nested", r); }));
    CHECK(throws([&] { tether_emit(r, "once", nullptr); }));
    CHECK_EQ(after.calls.load(), 0);
    // The ONCE call happened: consumed. This thread is outside every section.
    CHECK_EQ(tether_emit(r, "once", nullptr), 0);
    CHECK_EQ(tether_barrier(r), 0);
    CHECK_EQ(once.freed.load(), 1);
    CHECK_EQ(tether_unregister_sync(r, tid), 0);
    CHECK_EQ(thrower.freed.load(), 1);
    CHECK_EQ(tether_unregister_sync(r, nid), 0);
    CHECK_EQ(nested.freed.load(), 1);
    tether_stats st;
    CHECK_EQ(tether_stats_get(r, &st), 0);
    CHECK_EQ(st.destructors_pending, 0);
    CHECK_EQ(tether_registry_free(r), mode == TETHER_BUS ? 2 : 1);  // "after" and the long name
    CHECK_EQ(g_live.load(), 0);
    CHECK_EQ(thrower.calls.load(), 6);
    CHECK_EQ(once.calls.load(), 1);
  }
}

TEST(unwind_exception_from_walk_visitor) {
  tether_options o = {};
  o.allocator = &k_counting;
  tether_registry *r = nullptr;
  CHECK_EQ(tether_registry_new(&r, &o), 0);
  CHECK_EQ(tether_register(r, "a", counting_fn, nullptr, nullptr, nullptr, nullptr), 0);
  CHECK(throws([&] { tether_walk(r, visit_throws, nullptr); }));
  // The snapshot was freed and the walk's frame is gone: the registry may be
  // freed from this thread.
  CHECK_EQ(tether_registry_free(r), 1);
  CHECK_EQ(g_live.load(), 0);
}
