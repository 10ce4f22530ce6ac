/* Uses libtether from C through find_package(tether): a BUS name with two handlers
 * bound to a scoped owner, an emit, then the owner's scope ends and they are gone. */
#include <stdio.h>
#include <string.h>

#include <tether/tether.h>

static int add(void *ctx, void *arg) {
  *(int *)arg += *(int *)ctx;
  return 0;
}

static int emit_in_scope(tether_registry *r) {
  static int one = 1, ten = 10;
  TETHER_SCOPED_OWNER(scope);
  tether_reg_options ro = {.owner = scope};
  if (tether_register(r, "sum", add, &one, NULL, &ro, NULL) != 0) return -1;
  if (tether_register(r, "sum", add, &ten, NULL, &ro, NULL) != 0) return -1;
  int total = 0;
  if (tether_emit(r, "sum", &total) != 2) return -1;
  return total;
}

int main(void) {
  tether_registry *r = NULL;
  tether_options opts = {.mode = TETHER_BUS};
  if (tether_registry_new(&r, &opts) != 0) return 1;
  int total = emit_in_scope(r);
  if (total != 11) return fprintf(stderr, "use-c: total %d, want 11\n", total), 2;
  if (tether_count(r, "sum") != 0) return fprintf(stderr, "use-c: handlers outlived their owner\n"), 3;
  char header[32];
  snprintf(header, sizeof header, "%d.%d.%d", TETHER_VERSION_MAJOR, TETHER_VERSION_MINOR, TETHER_VERSION_PATCH);
  if (strcmp(tether_version(), header) != 0) return 4;
  if (tether_registry_free(r) != 0) return 5;
  printf("c: libtether %s: ok\n", tether_version());
  return 0;
}
