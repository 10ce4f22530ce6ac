/* The live-heap trend of a trace and the verdict drawn from it. The fit is the
 * trend engine's (trend/trend.h: Theil-Sen slope, Kendall's tau, the slope of
 * each half), the one tether watch uses too. Traces with more than
 * GCT_FIT_POINTS GCs are first reduced to that many equal-count buckets (median
 * time, median live heap), which keeps the fit quadratic in a constant and the
 * whole run linear in the number of GCs. */
#include "gctrace.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "trend/trend.h"

#define GCT_FIT_POINTS 1000

int gct_fit_range(const gct_trace *tr, size_t from, size_t to, gct_fit_result *out) {
  memset(out, 0, sizeof *out);
  if (to > tr->n_gcs) to = tr->n_gcs;
  if (from >= to || to - from < 2) return -2;
  size_t n = to - from, m = n < GCT_FIT_POINTS ? n : GCT_FIT_POINTS;
  trend_point *all = malloc(n * sizeof *all), *pts = malloc(m * sizeof *pts);
  int rc = -1;
  if (all == NULL || pts == NULL) goto done;
  /* The span is that of the GCs themselves, not of the bucket medians. */
  double x_min = INFINITY, x_max = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    all[i].x = tr->gcs[from + i].t / 60.0;
    all[i].y = tr->gcs[from + i].live;
    x_min = fmin(x_min, all[i].x);
    x_max = fmax(x_max, all[i].x);
  }
  if (trend_reduce(all, n, m, pts) != m) goto done;
  trend_fit f;
  rc = trend_fit_points(pts, m, x_min, x_max, &f);
  out->points = m;
  out->t0_min = f.x0;
  out->slope = f.slope;
  out->late_slope = f.late_slope;
  out->early_slope = f.early_slope;
  out->tau = f.tau;
  if (rc != 0) goto done;
  out->intercept = f.intercept;
  out->growth_mb = f.growth;
  out->level_mb = f.level;
  out->r2 = f.r2;
done:
  free(all);
  free(pts);
  return rc;
}

int gct_fit(const gct_trace *tr, gct_fit_result *out) { return gct_fit_range(tr, 0, tr->n_gcs, out); }

void gct_thresholds_default(gct_thresholds *th) {
  th->min_gcs = 5;
  th->min_growth_mb = 4;
  th->min_rel = 0.10;
  th->min_tau = 0.5;
  th->late_ratio = 0.25;
  th->quantum_mb = 1;
}

const char *gct_size(double mb, double quantum_mb, char *buf, size_t n) {
  if (quantum_mb > 0) {
    snprintf(buf, n, "%.1f MB", mb);
    return buf;
  }
  double b = mb * 1048576.0, a = fabs(b);
  if (a < 1000)
    snprintf(buf, n, "%.0f B", b);
  else if (a < 1e6)
    snprintf(buf, n, "%.1f kB", b / 1e3);
  else if (a < 1e9)
    snprintf(buf, n, "%.1f MB", b / 1e6);
  else
    snprintf(buf, n, "%.2f GB", b / 1e9);
  return buf;
}

const char *gct_verdict_name(int verdict) {
  switch (verdict) {
    case GCT_GROWING: return "growing";
    case GCT_STABLE: return "stable";
    default: return "insufficient";
  }
}

/* Appends one reason sentence. */
__attribute__((format(printf, 2, 3))) static void reason(gct_verdict *v, const char *fmt, ...) {
  if (v->n_reasons >= GCT_MAX_REASONS) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(v->reasons[v->n_reasons++], sizeof v->reasons[0], fmt, ap);
  va_end(ap);
}

/* The trend engine's rules with gctrace's thresholds. */
static trend_rules rules_of(const gct_thresholds *th) {
  /* The starting level is taken as at least one rounding step (Go: 1 MB), or
   * 1 kB for exact bytes, so that a start near zero does not make any growth
   * "relative". */
  trend_rules r = {th->min_growth_mb, th->min_rel, th->quantum_mb > 0 ? th->quantum_mb : 1.0 / 1024, th->min_tau,
                   th->late_ratio, 0};
  return r;
}

/* Evaluates the four conditions of "growing" into OK[]; returns how many failed. A
 * live heap that never moves by more than the runtime's 1 MB rounding step has not
 * grown, whatever a short run's slope says. */
static trend_fit line_of(const gct_fit_result *f) {
  trend_fit tf;
  memset(&tf, 0, sizeof tf);
  tf.slope = f->slope;
  tf.intercept = f->intercept;
  tf.growth = f->growth_mb;
  tf.tau = f->tau;
  tf.late_slope = f->late_slope;
  tf.early_slope = f->early_slope;
  return tf;
}

static int growth_conditions(const gct_summary *s, const gct_fit_result *f, const gct_thresholds *th,
                             int ok[4]) {
  trend_rules r = rules_of(th);
  trend_fit tf = line_of(f);
  int all[TREND_NRULES];
  trend_check(&tf, &r, all);
  ok[0] = all[TREND_GROWTH] && s->live_max - s->live_min > th->quantum_mb;
  ok[1] = all[TREND_REL];
  ok[2] = all[TREND_TAU];
  ok[3] = all[TREND_LATE];
  return !ok[0] + !ok[1] + !ok[2] + !ok[3];
}

/* Writes one reason per condition whose outcome is WANT (1: passed, 0: failed). */
static void explain(const gct_summary *s, const gct_fit_result *f, const gct_thresholds *th,
                    const int ok[4], int want, gct_verdict *v) {
  trend_rules rules = rules_of(th);
  trend_fit line = line_of(f);
  double start = trend_start_level(&line, &rules);
  double q = th->quantum_mb;
  char a[32], b[32], c[32];
  if (ok[0] == want && !ok[0] && q > 0 && s->live_max - s->live_min <= q)
    reason(v, "the live heap stays within %.0f-%.0f MB, the runtime's 1 MB rounding step", s->live_min,
           s->live_max > s->live_min ? s->live_max : s->live_min + 1);
  else if (ok[0] == want && !ok[0] && s->live_max == s->live_min)
    reason(v, "the retained bytes stay at %s", gct_size(s->live_min, q, a, sizeof a));
  else if (ok[0] == want && q > 0)
    reason(v, "fitted growth %+.1f MB over %.1f %s (%+.2f MB/min) is %s %.1f MB", f->growth_mb,
           s->span_s >= 120 ? s->span_s / 60 : s->span_s, s->span_s >= 120 ? "min" : "s", f->slope,
           ok[0] ? "at least" : "below", th->min_growth_mb);
  else if (ok[0] == want)
    reason(v, "fitted growth %s over %.1f %s (%s/min) is %s %s", gct_size(f->growth_mb, q, a, sizeof a),
           s->span_s >= 120 ? s->span_s / 60 : s->span_s, s->span_s >= 120 ? "min" : "s",
           gct_size(f->slope, q, b, sizeof b), ok[0] ? "at least" : "below",
           gct_size(th->min_growth_mb, q, c, sizeof c));
  if (ok[1] == want)
    reason(v, "growth is %.0f%% of the starting level %s (%s %.0f%%)", f->growth_mb / start * 100,
           q > 0 ? (snprintf(a, sizeof a, "%.1f MB", start), a) : gct_size(start, q, a, sizeof a),
           ok[1] ? "at least" : "below", th->min_rel * 100);
  if (ok[2] == want)
    reason(v, "%s rise: Kendall tau %.2f is %s %.2f", ok[2] ? "consistent" : "no consistent", f->tau,
           ok[2] ? "at least" : "below", th->min_tau);
  if (ok[3] == want && !isnan(f->late_slope) && f->slope > 0)
  {
    if (q > 0)
      snprintf(a, sizeof a, "%+.2f MB/min", f->late_slope);
    else
      snprintf(a, sizeof a, "%s/min", gct_size(f->late_slope, q, b, sizeof b));
    reason(v, "second-half slope %s is %s %.0f%% of the overall slope (%s)", a, ok[3] ? "at least" : "below",
           th->late_ratio * 100, ok[3] ? "still rising" : "it levelled off");
  }
}

void gct_judge(const gct_summary *sum, const gct_fit_result *fit, int fit_ok,
               const gct_thresholds *th, gct_verdict *out) {
  memset(out, 0, sizeof *out);
  if (sum->n < th->min_gcs || sum->n < 2) {
    out->verdict = GCT_INSUFFICIENT;
    reason(out, "only %zu GC%s in the input; at least %zu are needed", sum->n, sum->n == 1 ? "" : "s",
           th->min_gcs < 2 ? (size_t)2 : th->min_gcs);
    return;
  }
  if (!fit_ok) {
    out->verdict = GCT_INSUFFICIENT;
    reason(out, "all GCs have the same time stamp: no trend can be fitted");
    return;
  }
  int ok[4];
  int failed = growth_conditions(sum, fit, th, ok);
  out->verdict = failed == 0 ? GCT_GROWING : GCT_STABLE;
  explain(sum, fit, th, ok, failed == 0, out);
}
