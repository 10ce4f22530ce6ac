/* Internals of `tether gctrace`, shared by its files and its tests. A trace is read
 * as a stream of byte chunks: gct_trace_feed splits them into lines (any length,
 * CRLF or LF, NUL bytes allowed, a missing final newline handled by
 * gct_trace_finish) and keeps one compact record per `gc N @...` line. gct_fit then
 * fits a robust trend to the live heap and gct_judge turns it into a verdict. */
#ifndef TETHER_GCTRACE_H
#define TETHER_GCTRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* What one input line was. */
typedef enum gct_kind {
  GCT_OTHER = 0,     /* anything else: the program's own output */
  GCT_GC = 1,        /* a gctrace line, parsed into a gct_gc */
  GCT_SCAV = 2,      /* a scavenger line (scav ..., scvg...): skipped */
  GCT_MALFORMED = 3, /* starts like "gc N @" but does not parse: counted, skipped */
} gct_kind;

/* Which layout a line had: Go's gctrace (1.5-1.17, 1.18+), or libtether's
 * TETHER_DEBUG=trace ("tether: sweep N @T s: ..., live L (B bytes), ..., D ms
 * [registry R]"), whose retained bytes stand in for the live heap. */
enum { GCT_FMT_GO15 = 1, GCT_FMT_GO118 = 2, GCT_FMT_TETHER = 3 };
enum { GCT_FLAG_FORCED = 1 };

/* One garbage collection, as the runtime reported it. Heap sizes are in MB (the
 * runtime prints them rounded down); times in seconds since program start. */
typedef struct gct_gc {
  double t;           /* @T s */
  float heap_start;   /* A of A->B->C */
  float heap_end;     /* B */
  float live;         /* C: marked (live) heap, the number to trend */
  float goal;         /* heap goal */
  float pause_ms;     /* stop-the-world wall time: sweep termination + mark termination */
  uint32_t num;       /* gc N (saturated) */
  uint32_t registry;  /* tether lines: the registry's number; 0 for Go */
  uint8_t cpu_pct;    /* GC share of CPU since start, percent (saturated at 255) */
  uint8_t format;     /* GCT_FMT_* */
  uint8_t flags;      /* GCT_FLAG_* */
} gct_gc;

/* Parses one line (N bytes, no newline; a trailing CR is allowed). Returns its
 * kind; fills *OUT only for GCT_GC. Never reads past S + N. */
gct_kind gct_parse_line(const char *s, size_t n, gct_gc *out);

/* Rejoins a gctrace line that other output split in two: HEAD is a line that
 * starts like "gc N @" but did not parse, TAIL a later line. Returns 1 and fills
 * *OUT when a prefix of HEAD followed by TAIL is a gctrace line, else 0. */
int gct_parse_split(const char *head, size_t hn, const char *tail, size_t tn, gct_gc *out);

/* The records and counters of a whole input. Zero-initialise, feed, finish, free. */
typedef struct gct_trace {
  gct_gc *gcs;           /* in input order */
  size_t n_gcs, cap_gcs;
  uint64_t lines;        /* all lines seen */
  uint64_t other;        /* lines passed over */
  uint64_t scav;         /* scavenger lines */
  uint64_t malformed;    /* gc-looking lines that did not parse */
  uint64_t forced;       /* GCs with (forced) */
  uint64_t fmt_seen[4];  /* lines per GCT_FMT_* */
  int tether;            /* the records are tether lines (the first record decides) */
  uint32_t want_registry; /* tether lines: the registry to keep (0: the first one seen) */
  uint64_t other_kind;   /* records of the other kind (Go among tether, or the reverse): skipped */
  uint64_t other_registry; /* tether lines of other registries: skipped */
  uint64_t time_backwards; /* GCs whose time is below the previous one (a restart) */
  uint64_t rejoined;     /* GC lines split by other output and put back together */
  char *held;            /* a malformed gc line kept to be rejoined with a later line */
  size_t held_len;
  int held_age;          /* lines seen since it was kept */
  char *partial;         /* start of a line split across chunks (at most GCT_MAX_LINE bytes kept) */
  size_t partial_len;
  int partial_long;      /* the partial line was longer than GCT_MAX_LINE */
  int oom;               /* an allocation failed: the records are incomplete */
} gct_trace;

/* Lines longer than this are never gctrace lines; only their start is looked at. */
#define GCT_MAX_LINE 4096

/* Feeds N more bytes of input. Returns 0, or -1 when memory ran out. */
int gct_trace_feed(gct_trace *tr, const char *buf, size_t n);
/* Handles a last line without a newline. Returns 0, or -1 when memory ran out. */
int gct_trace_finish(gct_trace *tr);
void gct_trace_free(gct_trace *tr);

/* Figures over all GCs of a trace. */
typedef struct gct_summary {
  size_t n;               /* GCs */
  double t_first, t_last; /* seconds */
  double span_s;
  int cpu_pct;            /* at the last GC: the share over the whole run */
  double pause_total_ms, pause_max_ms;
  double live_first, live_last, live_min, live_max;
  double start_max;
  double goal_first, goal_last, goal_max;
} gct_summary;

/* Summarises GCs [FROM, TO) of TR; gct_summarise all of them. */
void gct_summarise_range(const gct_trace *tr, size_t from, size_t to, gct_summary *out);
void gct_summarise(const gct_trace *tr, gct_summary *out);

/* The first GC of each run in TR: a run ends where time goes backwards (two
 * runs of a program in one log). Fills STARTS (room for MAX) and returns the
 * number of runs, which may exceed MAX (the first MAX are stored). */
size_t gct_runs(const gct_trace *tr, size_t *starts, size_t max);

/* A robust straight-line fit of live heap (MB) against time (minutes). */
typedef struct gct_fit_result {
  size_t points;          /* points the fit used (GCs, or bucket medians of them) */
  double slope;           /* MB per minute (Theil-Sen: median of pairwise slopes) */
  double intercept;       /* MB at t_first */
  double growth_mb;       /* slope times the span */
  double level_mb;        /* median live heap, MB */
  double tau;             /* Kendall's tau of (time, live): -1..1 */
  double r2;              /* 1 - SSres/SStot of the fitted line; 0 when the heap is flat */
  double late_slope;      /* Theil-Sen slope over the second half of the time span */
  double early_slope;     /* ... and over the first half */
  double t0_min;          /* time origin of the line, minutes */
} gct_fit_result;

/* Fits the live heap of TR's GCs [FROM, TO). Returns 0; -2 when no line can be
 * fitted (fewer than two GCs, or no two at different times); -1 when memory ran
 * out. gct_fit fits all of TR. */
int gct_fit_range(const gct_trace *tr, size_t from, size_t to, gct_fit_result *out);
int gct_fit(const gct_trace *tr, gct_fit_result *out);

/* Verdict thresholds; gct_thresholds_default gives the documented defaults. */
typedef struct gct_thresholds {
  size_t min_gcs;        /* fewer GCs: "insufficient" */
  double min_growth_mb;  /* fitted growth over the run must reach this */
  double min_rel;        /* ... and this fraction of the starting level */
  double min_tau;        /* Kendall's tau must reach this */
  double late_ratio;     /* the second half's slope must be at least this share of the slope */
  double quantum_mb;     /* the input's rounding: Go prints whole MB (1); tether exact bytes (0) */
} gct_thresholds;

void gct_thresholds_default(gct_thresholds *th);
/* A size given in MB as text for reports: "%.1f MB" for Go's rounded MB
 * (QUANTUM_MB 1), bytes with a unit (B, kB, MB, GB) for exact inputs. */
const char *gct_size(double mb, double quantum_mb, char *buf, size_t n);

enum { GCT_INSUFFICIENT = 0, GCT_STABLE = 1, GCT_GROWING = 2 };
#define GCT_MAX_REASONS 8

typedef struct gct_verdict {
  int verdict;                          /* GCT_* above */
  size_t n_reasons;
  char reasons[GCT_MAX_REASONS][160];   /* one sentence each */
} gct_verdict;

const char *gct_verdict_name(int verdict);
void gct_judge(const gct_summary *sum, const gct_fit_result *fit, int fit_ok,
               const gct_thresholds *th, gct_verdict *out);

/* Everything one run found, for the reports. */
typedef struct gct_result {
  const char *input;        /* file name, or "-" */
  const gct_trace *trace;
  double skip_s;            /* --skip DURATION: seconds of the last run not judged */
  size_t skip_gcs;          /* --skip Ngc: GCs of the last run not judged */
  size_t runs;              /* runs in the input (time went backwards runs - 1 times) */
  size_t run_from;          /* the last run's first GC */
  size_t from, to;          /* the GCs judged: the last run's, after --skip */
  gct_summary sum;          /* of the GCs judged */
  gct_fit_result fit;
  int fit_ok;
  gct_thresholds th;
  gct_verdict verdict;
  double gate_rate;         /* --fail-on-growth RATE, or NAN when not given */
  int gate_tripped;
} gct_result;

/* Picks the GCs to judge (the last run's, after R->skip_*), runs summary, fit
 * and verdict over them with R->th, and sets the gate: it trips only when the
 * verdict is growing and the slope exceeds R->gate_rate. Returns 0, or -1 when
 * memory ran out. */
int gct_analyse(gct_result *r);
void gct_print_text(FILE *out, const gct_result *r);
void gct_print_json(FILE *out, const gct_result *r);

/* Writes the chart of R (live heap, heap at GC start, goal, a point per GC with
 * forced GCs marked, restarts, and the trend line on top) as SVG. Returns 0, or
 * -1 when R has no GCs or writing failed. */
int gct_write_svg(FILE *out, const gct_result *r);

#endif
