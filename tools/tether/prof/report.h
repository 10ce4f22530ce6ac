/* The report of tether diff/top: per-function (or per-line, or per-closure)
 * flat and cum values of one sample type, computed the way `go tool pprof -top`
 * computes them, so the numbers agree exactly. */
#ifndef TETHER_PROF_REPORT_H
#define TETHER_PROF_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "prof/profile.h"

/* What to report. Zero means the default for every field. */
typedef struct prof_opts {
  const char *sample_index; /* a sample type's name or index; NULL: the profile's default */
  const char *focus;        /* keep only samples with a frame whose function or file matches */
  const char *ignore;       /* drop samples with such a frame */
  int lines;                /* one row per source line instead of per function */
  int closures;             /* only stacks with a Go closure, one row per closure */
  int rows_only;            /* only rows and totals are wanted: nsamples is left 0, which lets a
                               profile without base or negative values skip merging its samples */
} prof_opts;

typedef struct prof_row {
  const char *name; /* printable name: "fn", "fn file:line" or a closure group */
  int inlined;      /* 0, or 1 "(inline)", or 2 "(partial-inline)", as pprof marks calls */
  int64_t flat, cum;
  const char *func, *file; /* the row's function and its file (the closure's, with closures) */
  int64_t line;            /* with lines: the line; else 0 */
  int64_t start_line;      /* the function's first line when the profile says, else 0 */
} prof_row;

typedef struct prof_report {
  const char *type, *unit; /* the sample type reported */
  int64_t total;           /* pprof's total: the sum of |value| over the merged samples */
  int64_t base_sum;        /* the base's sum of values (0 without a base) */
  int64_t cur_sum;         /* the current profile's sum of values */
  int64_t kept_sum;        /* the net value of the samples kept by focus/ignore/closures */
  size_t nsamples;         /* merged samples with a non-zero value */
  prof_row *rows;          /* sorted as pprof sorts -top: by |flat|, then name, then |cum| */
  size_t nrows;
  void *priv;              /* owns the names and strings */
} prof_report;

/* Builds the report of CUR minus BASE (BASE may be NULL: CUR alone). Returns 0,
 * or -1 with a one-line reason in ERR (an unknown sample type, a bad regular
 * expression, no memory). The report is freed with prof_report_free. */
int prof_report_build(const prof_profile *base, const prof_profile *cur, const prof_opts *o,
                      prof_report *r, char *err, size_t errlen);

void prof_report_free(prof_report *r);

/* Whether NAME (a function name) is a Go closure, in any of the naming forms
 * (pkg.f.func1, pkg.f.func1.1, pkg.f.func1.func2, gowrap/deferwrap, generics);
 * when it is and ENCLOSING is not NULL, stores the length of the enclosing
 * function's name (a prefix of NAME) in *ENCLOSING. */
int prof_is_closure(const char *name, size_t *enclosing);

#endif
