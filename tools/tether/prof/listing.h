/* Annotated source, as `pprof -list REGEX` prints it: for every function whose
 * name matches, and every file it has samples in, the function's lines from its
 * first line (or five before the first line with samples) to five after the
 * last, each with its flat and cum values. The values come from a report built
 * per line (prof_opts.lines); the source text from files found under a source
 * directory by the longest suffix of the path the profile records, so a
 * profile taken on another machine still finds its checkout. */
#ifndef TETHER_PROF_LISTING_H
#define TETHER_PROF_LISTING_H

#include <stddef.h>
#include <stdint.h>

#include "prof/report.h"

typedef struct prof_list_line {
  int64_t line;
  int64_t flat, cum;
  const char *text; /* the source line, without its newline; TEXT_LEN bytes */
  size_t text_len;
} prof_list_line;

typedef struct prof_list_block {
  const char *func, *file; /* as the profile names them */
  const char *shown;       /* the file as found: the suffix of FILE that exists under the source dir */
  int64_t flat, cum;       /* summed over the function's lines in FILE */
  const char *error;       /* why the source could not be read, or NULL */
  prof_list_line *lines;
  size_t nlines;
} prof_list_block;

typedef struct prof_listing {
  prof_list_block *blocks; /* by function name, then file */
  size_t n;
  void *priv;
} prof_listing;

/* Builds the listing of the functions of LINES (a report built with
 * prof_opts.lines) that REGEX matches, reading sources under SOURCE_DIR (NULL:
 * the current directory). Returns 0; 1 when no function matches; -1 with a
 * one-line reason in ERR (a bad expression, no memory). Free with
 * prof_listing_free (also after 1). LINES must outlive the listing. */
int prof_listing_build(const prof_report *lines, const char *regex, const char *source_dir, prof_listing *out,
                       char *err, size_t errlen);
void prof_listing_free(prof_listing *l);

/* Finds PATH (a source file as a profile records it) under DIR (NULL: the
 * current directory): DIR joined with the longest suffix of PATH, after a '/',
 * that names a readable regular file; else PATH itself when it is one. Returns
 * the path found (malloc'd) and points *SHOWN at the suffix of PATH used, or
 * NULL when none exists. */
char *prof_find_source(const char *path, const char *dir, const char **shown);

#endif
