/* Fuzz target for the tool's JSON reader (go vet configurations, scan
 * baselines): any bytes must parse or fail with a message, never crash, leak or
 * recurse without bound. A parsed document is walked and looked up as the vet
 * front-end and the baseline reader do. */
#include <stdint.h>
#include <stdlib.h>

#include "common/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t walk(const tcli_json *j, int depth) {
  size_t n = 1;
  for (size_t i = 0; j && i < j->n && depth < 100; i++) n += walk(j->items[i], depth + 1);
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > (1u << 20)) return 0;
  char err[128];
  tcli_json *j = tcli_json_parse((const char *)data, size, err, sizeof err);
  if (j != NULL) {
    (void)walk(j, 0);
    (void)tcli_json_get_string(j, "ImportPath");
    const tcli_json *files = tcli_json_get(j, "GoFiles");
    if (files && files->type == TJ_ARRAY && files->n > 0) (void)files->items[0]->string;
    (void)tcli_json_get(j, "findings");
  }
  tcli_json_free(j);
  return 0;
}
