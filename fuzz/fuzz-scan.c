/* Fuzz target for tether scan: feeds the bytes as Go source and then as C
 * source through the whole per-file pipeline (parse, fact extraction, the Go
 * package rules and the C rules, output to /dev/null), checking nothing but that
 * it neither crashes, leaks nor hangs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void scan_as(const uint8_t *data, size_t size, scan_lang lang, FILE *sink) {
  scan_options o;
  scan_options_default(&o);
  scan_file f;
  memset(&f, 0, sizeof f);
  f.path = strdup(lang == SCAN_LANG_GO ? "fuzz.go" : "fuzz.c");
  f.lang = lang;
  f.data = malloc(size + 1);
  if (f.path == NULL || f.data == NULL) {
    free(f.path);
    free(f.data);
    return;
  }
  memcpy(f.data, data, size);
  f.data[size] = 0;
  f.len = size;
  scan_buffer(&f, &o);
  scan_finding **v = malloc((f.findings.n + 1) * sizeof *v);
  for (size_t i = 0; v && i < f.findings.n; i++) v[i] = &f.findings.v[i];
  scan_summary sum = {.files = 1};
  if (v && sink) {
    scan_write(sink, SCAN_FMT_TEXT, v, f.findings.n, &sum, 0);
    scan_write(sink, SCAN_FMT_JSON, v, f.findings.n, &sum, 0);
    scan_write(sink, SCAN_FMT_SARIF, v, f.findings.n, &sum, 0);
  }
  free(v);
  scan_file_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > (1u << 20)) return 0;
  static FILE *sink;
  if (sink == NULL) sink = fopen("/dev/null", "w");
  scan_as(data, size, SCAN_LANG_GO, sink);
  scan_as(data, size, SCAN_LANG_C, sink);
  return 0;
}
