/* The outputs of `tether watch`: the text report, the JSON document (schema in
 * docs/watch.md) and the HTML page. They only read what the watch found. */
#ifndef TETHER_WATCH_REPORT_H
#define TETHER_WATCH_REPORT_H

#include <stdio.h>

#include "watch/watch.h"

/* A snapshot that could not be read. */
typedef struct watch_failure {
  char *source;
  char *error;
  double at; /* seconds since the watch started */
} watch_failure;

/* What the reports say besides the result. */
typedef struct watch_info {
  const char *what;          /* the URL, directory or files watched, in words */
  const watch_result *r;
  const scan_result *scan;   /* the --source scan, or NULL */
  const char *source_dir;    /* --source DIR, or NULL */
  double gate;               /* --fail-on-growth per minute, NAN when not given */
  int gate_tripped;
  const char *gate_series;   /* what tripped it ("total" or a function), or NULL */
  double gate_slope;
  const watch_failure *failures;
  size_t nfailures;
  int interrupted;           /* stopped by SIGINT or SIGTERM */
  int color;                 /* text: use colour */
} watch_info;

/* Decides the gate of INFO from INFO->r: it trips when the verdict is growing
 * and a suspect or the total grows faster than INFO->gate per minute. */
void watch_gate(watch_info *info);

void watch_print_text(FILE *out, const watch_info *info);
void watch_print_json(FILE *out, const watch_info *info);

/* The HTML page: charts, links with their source lines, fixes; nothing external.
 * Returns 0, or -1 when writing failed. */
int watch_write_html(FILE *out, const watch_info *info);

/* V in the unit's human form, with its own scale ("1.25MB", "1200"); SIGNED
 * adds a '+' to positive values. */
void watch_fmt(char *buf, size_t n, double v, const char *unit, int is_signed);

/* A span of seconds in words: "42.0 s", "3.5 min". */
void watch_fmt_span(char *buf, size_t n, double seconds);

/* The frames of S's largest stack above its allocation site that are not
 * internal, at most MAX of them, into OUT; returns how many. */
size_t watch_callers(const watch_suspect *s, const watch_frame **out, size_t max);

/* FILE (a path as the profile records it) as the report shows it: the file
 * found under --source when there is one, else as recorded. Into BUF. */
const char *watch_shown_path(const watch_info *info, const char *file, char *buf, size_t n);

/* The name of a link's rule and role, and a one-line explanation of it
 * (malloc'd). */
char *watch_link_text(const watch_link *l);

#endif
