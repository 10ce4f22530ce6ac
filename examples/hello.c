/* The smallest use of libtether: register a handler with a context, call it by
 * name, remove it; the destructor runs exactly once. */
#include <stdio.h>
#include <stdlib.h>

#include <tether/tether.h>

static int greet(void *ctx, void *arg) {
  printf("%s, %s\n", (const char *)ctx, (const char *)arg);
  return 0;
}

int main(void) {
  tether_registry *r = NULL;
  tether_id id = 0;
  int rc = tether_registry_new(&r, NULL);
  if (rc < 0) return fprintf(stderr, "%s\n", tether_strerror(rc)), 1;
  char *ctx = malloc(6);
  if (ctx == NULL) return 1;
  snprintf(ctx, 6, "hello");
  rc = tether_register(r, "greet", greet, ctx, free, NULL, &id);
  if (rc < 0) return fprintf(stderr, "%s\n", tether_strerror(rc)), 1;
  int result = -1;
  rc = tether_call(r, "greet", "tether", &result);
  if (rc < 0) return fprintf(stderr, "%s\n", tether_strerror(rc)), 1;
  rc = tether_unregister_sync(r, id); /* ctx is freed when this returns */
  if (rc < 0) return fprintf(stderr, "%s\n", tether_strerror(rc)), 1;
  return tether_registry_free(r) == 0 ? 0 : 1;
}
