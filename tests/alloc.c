/* The counting allocator the tests pass to registries: counts live blocks and
 * bytes, checks that every free matches its allocation's size, and can fail the
 * Nth allocation (for the allocation-failure tests). Thread-safe. */
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct header {
  size_t size;
  uint64_t magic;
} header;

#define ALIVE 0x7e7e7e7e11223344ull
#define DEAD 0xdeaddeaddeaddeadull

/* This thread's armed failure (test_alloc_fail_here): the allocator it applies
 * to, how many allocations are left before the one that fails, whether every
 * one after it fails too, and how many this thread was refused. */
static _Thread_local struct {
  const test_alloc *a;
  uint64_t left;
  int after;
  uint64_t refused;
} t_here;

/* Whether this thread's armed failure refuses the allocation now asked of A. */
static int fail_here(const test_alloc *a) {
  if (t_here.a != a) return 0;
  if (t_here.left > 1) {
    t_here.left--;
    return 0;
  }
  if (!t_here.after) t_here.a = NULL;
  t_here.refused++;
  return 1;
}

static void *count_alloc(void *ud, size_t size) {
  test_alloc *a = ud;
  uint64_t n = atomic_fetch_add(&a->calls, 1) + 1;
  uint64_t fail_at = atomic_load(&a->fail_at);
  if (fail_here(a) || (fail_at != 0 && (n == fail_at || (a->fail_after && n >= fail_at)))) {
    atomic_fetch_add(&a->failures, 1);
    return NULL;
  }
  header *h = malloc(sizeof(header) + size);
  if (h == NULL) return NULL;
  h->size = size;
  h->magic = ALIVE;
  atomic_fetch_add(&a->live_blocks, 1);
  atomic_fetch_add(&a->live_bytes, size);
  uint64_t now = atomic_load(&a->live_bytes);
  uint64_t peak = atomic_load(&a->peak_bytes);
  while (now > peak && !atomic_compare_exchange_weak(&a->peak_bytes, &peak, now)) {
  }
  return h + 1;
}

static void count_free(void *ud, void *ptr, size_t size) {
  test_alloc *a = ud;
  if (ptr == NULL) return;
  header *h = (header *)ptr - 1;
  if (h->magic != ALIVE || h->size != size) {
    fprintf(stderr, "test_alloc: bad free of %p (size %zu, recorded %zu, magic %llx)\n", ptr, size,
            h->size, (unsigned long long)h->magic);
    abort();
  }
  h->magic = DEAD;
  atomic_fetch_sub(&a->live_blocks, 1);
  atomic_fetch_sub(&a->live_bytes, size);
  free(h);
}

void test_alloc_init(test_alloc *a) {
  atomic_init(&a->calls, 0);
  atomic_init(&a->fail_at, 0);
  atomic_init(&a->failures, 0);
  atomic_init(&a->live_blocks, 0);
  atomic_init(&a->live_bytes, 0);
  atomic_init(&a->peak_bytes, 0);
  a->fail_after = 0;
  a->iface.alloc = count_alloc;
  a->iface.free = count_free;
  a->iface.ud = a;
}

void test_alloc_fail_nth(test_alloc *a, uint64_t nth) {
  atomic_store(&a->fail_at, nth == 0 ? 0 : atomic_load(&a->calls) + nth);
}

void test_alloc_fail_here(test_alloc *a, uint64_t nth, int every_after) {
  t_here.a = nth == 0 ? NULL : a;
  t_here.left = nth;
  t_here.after = every_after;
}

uint64_t test_alloc_refused_here(void) {
  return t_here.refused;
}
