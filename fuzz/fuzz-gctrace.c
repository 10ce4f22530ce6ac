/* libFuzzer target for tether gctrace: feeds the input to the streaming parser in
 * chunks whose sizes come from the input itself (so lines split across chunks are
 * exercised), then runs the analysis and every report (text, JSON, SVG) into
 * /dev/null. Any crash, leak, sanitizer report or hang is a bug. The single-line
 * parser and the split-line rejoiner are also called directly on the raw bytes. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gctrace/gctrace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Feeds DATA in chunks of 1 + (a byte of the input) bytes. */
static void feed_chunked(gct_trace *tr, const char *data, size_t size) {
  size_t i = 0, k = 0;
  while (i < size) {
    size_t step = 1 + (unsigned char)data[k++ % size];
    if (step > size - i) step = size - i;
    gct_trace_feed(tr, data + i, step);
    i += step;
  }
  gct_trace_finish(tr);
}

static void report_all(const gct_trace *tr) {
  static FILE *sink;
  if (sink == NULL) sink = fopen("/dev/null", "w");
  if (sink == NULL) return;
  gct_result r;
  memset(&r, 0, sizeof r);
  r.input = "fuzz";
  r.trace = tr;
  r.gate_rate = 1;
  gct_thresholds_default(&r.th);
  if (tr->n_gcs == 0 || gct_analyse(&r) != 0) return;
  gct_print_text(sink, &r);
  gct_print_json(sink, &r);
  gct_write_svg(sink, &r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  gct_gc g;
  gct_parse_line(s, size, &g);
  size_t half = size / 2;
  gct_parse_split(s, half, s + half, size - half, &g);
  gct_trace tr;
  memset(&tr, 0, sizeof tr);
  feed_chunked(&tr, s, size);
  report_all(&tr);
  gct_trace_free(&tr);
  return 0;
}
