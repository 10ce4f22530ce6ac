/* Fuzz target of the profile decoder of tether diff/top: any bytes go through
 * prof_decode (gzip or raw protocol buffer); when they decode, the report is
 * built alone, against itself as base, per line and per closure, with a focus,
 * so that every reference the decoder resolved is also used. No crash, no leak,
 * no unbounded loop is allowed. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "prof/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[256];
  prof_profile *p = prof_decode(data, size, err, sizeof err);
  if (p == NULL) return 0;
  prof_opts o;
  prof_report r;
  memset(&o, 0, sizeof o);
  for (int mode = 0; mode < 4; mode++) {
    o.lines = mode == 1;
    o.closures = mode == 2;
    o.focus = mode == 3 ? "main|runtime" : NULL;
    if (prof_report_build(mode == 3 ? p : NULL, p, &o, &r, err, sizeof err) == 0) prof_report_free(&r);
  }
  prof_free(p);
  return 0;
}
