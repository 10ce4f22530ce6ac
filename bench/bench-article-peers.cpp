// make bench-article's C++ peers: what a C++ programmer would pick instead of
// libtether. std::unordered_map of std::function behind a std::shared_mutex
// (its nodes and buckets from the harness's counting allocator), and
// Boost.Signals2: a signal per name in such a map, emitted after the lookup
// (measured by mallinfo2: signals allocate through plain operator new), and one
// signal on its own, the peer of tether_topic_emit with one topic. Every
// lookup and emit holds the map's shared lock, which a writer needs to be able
// to register and remove names meanwhile.
#include <boost/signals2/signal.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "bench-article.h"

namespace {

template <class T>
struct counting_allocator {
  using value_type = T;
  counting_allocator() = default;
  template <class U>
  counting_allocator(const counting_allocator<U> &) noexcept {}
  T *allocate(std::size_t n) {
    void *p = article_alloc(n * sizeof(T));
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T *>(p);
  }
  void deallocate(T *p, std::size_t n) noexcept { article_free(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const counting_allocator<U> &) const noexcept {
    return true;
  }
  template <class U>
  bool operator!=(const counting_allocator<U> &) const noexcept {
    return false;
  }
};

// Lookups by a C string build no std::string (C++20 heterogeneous lookup).
struct name_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

using handler_fn = std::function<int(void *)>;
using signal_t = boost::signals2::signal<void(void *)>;

template <class V, class Alloc>
struct locked_map {
  std::unordered_map<std::string, V, name_hash, std::equal_to<>, Alloc> map;
  std::shared_mutex lock;
  const char *const *names = nullptr;
};

using fn_map = locked_map<handler_fn, counting_allocator<std::pair<const std::string, handler_fn>>>;
using signal_map = locked_map<std::unique_ptr<signal_t>, std::allocator<std::pair<const std::string, std::unique_ptr<signal_t>>>>;

handler_fn make_fn(tether_fn fn, void *ctx) {
  return [fn, ctx](void *arg) { return fn(ctx, arg); };
}

std::unique_ptr<signal_t> make_signal(tether_fn fn, void *ctx) {
  auto s = std::make_unique<signal_t>();
  s->connect([fn, ctx](void *arg) { fn(ctx, arg); });
  return s;
}

void fire(handler_fn &f, void *arg) { f(arg); }
void fire(std::unique_ptr<signal_t> &s, void *arg) { (*s)(arg); }

template <class M>
using value_of = typename decltype(M::map)::mapped_type;

// The operations of both maps: MAKE builds a name's value (a std::function, or
// a signal with one slot connected). The harness is C: no exception may leave
// them. Out of memory is the only one they throw, reported as -1 or NULL.
template <class M, value_of<M> (*make)(tether_fn, void *)>
int map_add(void *state, const char *name, tether_fn fn, void *ctx) noexcept try {
  auto *s = static_cast<M *>(state);
  auto v = make(fn, ctx);
  std::unique_lock<std::shared_mutex> w(s->lock);
  s->map.insert_or_assign(std::string(name), std::move(v));
  return 0;
} catch (const std::bad_alloc &) {
  return -1;
}

template <class M, value_of<M> (*make)(tether_fn, void *)>
void *map_setup(const char *const *names, unsigned n, tether_fn fn, void *ctx) noexcept try {
  auto s = std::make_unique<M>();
  s->names = names;
  for (unsigned i = 0; i < n; i++)
    if (map_add<M, make>(s.get(), names[i], fn, ctx) != 0) return nullptr;
  return s.release();
} catch (const std::bad_alloc &) {
  return nullptr;
}

template <class M>
void map_call(void *state, unsigned index, void *arg) {
  auto *s = static_cast<M *>(state);
  std::shared_lock<std::shared_mutex> r(s->lock);
  auto it = s->map.find(std::string_view(s->names[index]));
  if (it != s->map.end()) fire(it->second, arg);
}

template <class M>
void map_remove(void *state, const char *name) {
  auto *s = static_cast<M *>(state);
  std::unique_lock<std::shared_mutex> w(s->lock);
  auto it = s->map.find(std::string_view(name));
  if (it != s->map.end()) s->map.erase(it);
}

// ---- Boost.Signals2: one signal, one slot ----

void *one_signal_setup(const char *const *, unsigned, tether_fn fn, void *ctx) noexcept try {
  return make_signal(fn, ctx).release();
} catch (const std::bad_alloc &) {
  return nullptr;
}

void one_signal_call(void *state, unsigned, void *arg) { (*static_cast<signal_t *>(state))(arg); }

}  // namespace

extern "C" {

const article_peer article_cxx_peers[] = {
    {"std::unordered_map + std::shared_mutex", "c++", "counting allocator", 0, map_setup<fn_map, make_fn>, nullptr,
     map_call<fn_map>, map_add<fn_map, make_fn>, map_remove<fn_map>, nullptr, nullptr},
    {"Boost.Signals2 (a signal per name)", "c++", "mallinfo2", 0, map_setup<signal_map, make_signal>, nullptr,
     map_call<signal_map>, map_add<signal_map, make_signal>, map_remove<signal_map>, nullptr, nullptr},
    {"Boost.Signals2 (one signal)", "c++", "mallinfo2", 1, one_signal_setup, nullptr, one_signal_call, nullptr, nullptr,
     nullptr, nullptr},
};

const unsigned article_cxx_peer_count = sizeof article_cxx_peers / sizeof article_cxx_peers[0];

}  // extern "C"
