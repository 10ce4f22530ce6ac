/* make bench-article: the registries measured on the article's set-up, seen by
 * the harness (bench-article.c) through one table of operations per peer. The C
 * peers live in bench-article.c, the C++ ones in bench-article-peers.cpp; this
 * header is all the two share. */
#ifndef TETHER_BENCH_ARTICLE_H
#define TETHER_BENCH_ARTICLE_H

#include <stddef.h>

#include "tether/tether.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One registry under test. Every handler is FN(CTX, arg); the harness checks
 * that each lookup found and called one. */
typedef struct article_peer {
  const char *name;         /* the row's name */
  const char *lang;         /* "c" or "c++" */
  const char *alloc_source; /* how its bytes are counted: "counting allocator" or "mallinfo2" */
  int single;               /* 1: registers one name, whatever N, and every call goes to it */
  /* Registers NAMES[0..N) (strings that outlive the state); NULL on failure. */
  void *(*setup)(const char *const *names, unsigned n, tether_fn fn, void *ctx);
  /* Waits for work setup left to background threads; NULL when there is none. */
  void (*settle)(void *state);
  /* Looks up NAMES[INDEX] and calls its handler with ARG. Any reader thread. */
  void (*call)(void *state, unsigned index, void *arg);
  /* Churn, from one writer thread while readers call: registers NAME (a string
   * that outlives the state), then removes it. NULL when the peer is not safe
   * under a concurrent writer. */
  int (*add)(void *state, const char *name, tether_fn fn, void *ctx);
  void (*remove)(void *state, const char *name);
  /* Called by each reader and writer thread before its first and after its last
   * operation; NULL when not needed. */
  void (*thread_enter)(void *state);
  void (*thread_leave)(void *state);
} article_peer;

/* The C++ peers, in row order. */
extern const article_peer article_cxx_peers[];
extern const unsigned article_cxx_peer_count;

/* The harness's counting allocator, for peers that take an allocator: size is
 * what was asked (and is given back to article_free). Thread-safe. */
void *article_alloc(size_t size);
void article_free(void *ptr, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* TETHER_BENCH_ARTICLE_H */
