/* The loaded objects of the process, as a profile's mappings (stack.c). */
#ifndef TETHER_STACK_H
#define TETHER_STACK_H

#include <stddef.h>
#include <stdint.h>

typedef struct tether_registry tether_registry;

/* One executable segment of a loaded object. */
typedef struct tether__mapping {
  uintptr_t start, limit, offset;
  const char *file;
  char build_id[41]; /* lowercase hex, "" when the object has none */
} tether__mapping;

typedef struct tether__mappings_t {
  tether__mapping *v;
  size_t n;
  size_t size; /* bytes of the one allocation behind v */
} tether__mappings_t;

/* Lists the executable segments of every loaded object, in one allocation of R's
 * allocator. 0 or TETHER_ENOMEM. */
int tether__mappings(tether_registry *r, tether__mappings_t *out);
void tether__mappings_free(tether_registry *r, tether__mappings_t *m);

#endif
