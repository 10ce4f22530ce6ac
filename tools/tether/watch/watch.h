/* The engine of `tether watch`: heap snapshots in, a verdict and its suspects
 * out, each suspect linked to the scan findings that explain what keeps it
 * alive. Three parts:
 *  - series (series.c): every snapshot is reduced at once to one value per
 *    series and freed (only the first and the last are kept, for their
 *    stacks), so a watch of any length needs memory for its numbers only:
 *      flat, cum  per function, exactly as `go tool pprof -top` counts them
 *                 (the profile engine's report);
 *      site       per function: flat with runtime-internal and allocator
 *                 frames folded into the first caller in user code, so
 *                 stacks that differ only there are one series;
 *      line       per source line of such an allocation site;
 *      total      pprof's total;
 *  - analysis (series.c): the trend engine's fit of each series over the
 *    snapshots in time order, the suspects (site series that pass every rule,
 *    ranked by slope) and the verdict;
 *  - linking (link.c): a scan of the program's source through the scan engine,
 *    and the findings that name a function or a line on a suspect's stacks.
 * Nothing here parses options or prints. */
#ifndef TETHER_WATCH_H
#define TETHER_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "prof/profile.h"
#include "scan/scan.h"
#include "trend/trend.h"

enum { WATCH_INSUFFICIENT = 0, WATCH_STABLE = 1, WATCH_GROWING = 2 };

/* What to collect and how to judge it. watch_opts_default gives the documented
 * defaults; the size thresholds depend on the unit, so they are resolved at the
 * first snapshot when left negative. */
typedef struct watch_opts {
  const char *sample_index; /* a sample type by name or index; NULL: the profile's default */
  double skip_s;            /* snapshots in the first SKIP_S seconds are not judged */
  size_t min_snapshots;     /* fewer judged snapshots: insufficient */
  double min_growth;        /* per series, over the judged span, in the unit; < 0: 1 MiB or 1000 */
  double min_rel;           /* ... and this share of the series' starting level */
  double min_tau;           /* Kendall's tau */
  double late_ratio;        /* second-half slope over the slope */
  size_t max_suspects;      /* at most this many suspects (ranked by slope) */
} watch_opts;

void watch_opts_default(watch_opts *o);

/* One snapshot, in time order once analysed. */
typedef struct watch_snap {
  double t;           /* seconds since the first snapshot */
  int64_t time_nanos; /* when it was taken (the profile's time, else the file's or the fetch's) */
  char *source;       /* the file or URL it came from */
  char *kept;         /* where --keep wrote it, or NULL */
  int64_t total;      /* pprof's total for the sample type */
} watch_snap;

/* A frame of a stack, leaf first. */
typedef struct watch_frame {
  const char *function, *file;
  int64_t line;
  int internal; /* a runtime-internal or allocator frame (folded) */
} watch_frame;

typedef struct watch_stack {
  int64_t value;  /* in the last snapshot */
  int64_t growth; /* last minus first */
  watch_frame *frames;
  size_t nframes;
} watch_stack;

/* One finding that explains a suspect. */
typedef enum {
  WATCH_LINK_CLOSURE, /* TG104: a stored closure defined on the stacks or capturing what was allocated there */
  WATCH_LINK_MAP,     /* TG101/TG102: the func map that closure goes into */
  WATCH_LINK_REGISTER,/* TG103: the Register-like function it goes through */
  WATCH_LINK_SITE     /* TC201-TC203: a C registration at a frame of the stacks */
} watch_link_role;

typedef struct watch_link {
  watch_link_role role;
  const scan_finding *finding; /* owned by the scan */
  int strong;                  /* the closure captures what a frame's line allocates */
  char *variable;              /* the variable that holds it (malloc'd), or NULL */
  int64_t variable_line;       /* where that variable is declared */
  int64_t call_line;           /* when the frame's line passes the allocation to the closure's
                                  function (register(..., alloc(...))): that line, else 0 */
} watch_link;

typedef struct watch_suspect {
  const char *function;    /* the allocation site's function */
  const char *file;        /* its file and the line that grew most */
  int64_t line;
  trend_fit fit;           /* of the site series, over the judged snapshots, per minute */
  trend_fit line_fit;      /* of that line's series */
  const int64_t *site, *flat, *cum; /* per snapshot, in time order (flat/cum NULL when never a row) */
  int64_t first, last;     /* site value at the first and last judged snapshot */
  watch_stack *stacks;     /* the largest stacks into it in the last snapshot */
  size_t nstacks;
  watch_link *links;
  size_t nlinks;
} watch_suspect;

/* A site series that moved by at least the minimum growth but is no suspect,
 * with the rules it passed and failed. */
typedef struct watch_mover {
  const char *function;
  trend_fit fit;
  int64_t range; /* its largest minus its smallest judged value */
  int ok[TREND_NRULES];
} watch_mover;

typedef struct watch_result {
  const char *type, *unit;
  int verdict;
  size_t nsnaps;
  watch_snap *snaps;          /* in time order */
  size_t judged_from;         /* the first snapshot judged (after --skip) */
  size_t min_snapshots;       /* fewer judged: insufficient */
  trend_rules rules;          /* as applied */
  trend_fit total_fit;        /* of the total, per minute */
  int total_ok[TREND_NRULES]; /* the total's rules */
  int total_fit_ok;           /* a line could be fitted */
  watch_suspect *suspects;
  size_t nsuspects;
  watch_mover *movers;        /* the largest non-suspects, for the report's "not suspects" */
  size_t nmovers;
} watch_result;

typedef struct watch watch;

/* A new, empty watch. NULL when out of memory. O must outlive it. */
watch *watch_new(const watch_opts *o);
void watch_free(watch *w);

/* Adds a snapshot taken at TIME_NANOS from SOURCE (saved to KEPT, or NULL).
 * The watch takes P: it is reduced to its series and freed, or kept as the
 * first or last snapshot. Returns 0, or -1 with a reason in ERR (another sample
 * type than the first snapshot's, no memory); P is freed then too. */
int watch_add(watch *w, prof_profile *p, int64_t time_nanos, const char *source, const char *kept, char *err,
              size_t errlen);

/* The snapshots added so far, and the last one's total (for a progress line). */
size_t watch_count(const watch *w);
int64_t watch_last_total(const watch *w);
const char *watch_unit(const watch *w);
const char *watch_type(const watch *w);

/* Orders the snapshots by time, fits every series and decides the suspects and
 * the verdict. R stays valid until the watch is freed (or analysed again).
 * Returns 0, or -1 when memory ran out. */
int watch_analyse(watch *w, watch_result *r);

/* Links R's suspects to the findings of SCAN (a scan that has run): see the
 * file's opening comment. Returns 0, or -1 when memory ran out. */
int watch_link_findings(watch *w, watch_result *r, const scan_result *scan);

/* The fix for S in words, from the hints of the findings linked to it
 * (malloc'd), or NULL when no finding explains it. */
char *watch_fix(const watch_suspect *s);

/* Of the site series, the one that grew most from the first snapshot added to
 * the last (arrival order), for a progress line: its function and growth. 0,
 * or -1 when nothing grew. */
int watch_top_mover(const watch *w, const char **function, int64_t *growth);

/* Whether NAME is a runtime-internal or allocator frame (folded into its caller). */
int watch_internal_frame(const char *name);

#endif
