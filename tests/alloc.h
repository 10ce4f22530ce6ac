/* The tests' counting allocator (see alloc.c). */
#ifndef TETHER_TESTS_ALLOC_H
#define TETHER_TESTS_ALLOC_H

#include <stdatomic.h>
#include <stdint.h>

#include "tether/tether.h"

typedef struct test_alloc {
  tether_allocator iface;     /* pass &a->iface as tether_options.allocator */
  _Atomic uint64_t calls;     /* allocations asked for, failed ones included */
  _Atomic uint64_t fail_at;   /* 0: never fail; else the call number that fails */
  int fail_after;             /* with fail_at: fail every call from then on */
  _Atomic uint64_t failures;  /* allocations refused */
  _Atomic uint64_t live_blocks, live_bytes, peak_bytes;
} test_alloc;

void test_alloc_init(test_alloc *a);
/* Fails the NTH allocation from now on (1 = the next one); 0 disarms. */
void test_alloc_fail_nth(test_alloc *a, uint64_t nth);
/* Fails the NTH allocation that the calling thread asks of A from now on (1 = its
 * next one), and with EVERY_AFTER each one after it too; other threads are not
 * affected. 0 disarms. */
void test_alloc_fail_here(test_alloc *a, uint64_t nth, int every_after);
/* How many allocations the calling thread has been refused by its armed failures. */
uint64_t test_alloc_refused_here(void);

#endif
