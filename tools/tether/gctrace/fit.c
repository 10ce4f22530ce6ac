/* The live-heap trend of a trace and the verdict drawn from it. The slope is
 * Theil-Sen's (the median of all pairwise slopes), which a few outliers cannot
 * move; Kendall's tau (tau-b, ties allowed) says how consistently the heap rises.
 * Traces with more than GCT_FIT_POINTS GCs are first reduced to that many
 * equal-count buckets (median time, median live heap), which keeps the fit
 * quadratic in a constant and the whole run linear in the number of GCs. */
#include "gctrace.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define GCT_FIT_POINTS 1000

/* One point of the fit: minutes, MB. */
typedef struct point {
  double x, y;
} point;

static void swap_d(double *a, double *b) {
  double t = *a;
  *a = *b;
  *b = t;
}

/* The K-th smallest of V[0..N) (N > K); reorders V. Hoare's selection with a
 * median-of-three pivot. */
static double select_kth(double *v, size_t n, size_t k) {
  size_t lo = 0, hi = n - 1;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (v[mid] < v[lo]) swap_d(&v[mid], &v[lo]);
    if (v[hi] < v[lo]) swap_d(&v[hi], &v[lo]);
    if (v[hi] < v[mid]) swap_d(&v[hi], &v[mid]);
    double pivot = v[mid];
    size_t i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        swap_d(&v[i], &v[j]);
        i++;
        if (j == 0) break;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return v[k];
  }
  return v[k];
}

/* The median of V[0..N), N > 0; reorders V. */
static double median(double *v, size_t n) {
  double hi = select_kth(v, n, n / 2);
  if (n % 2 == 1) return hi;
  double lo = v[0];
  for (size_t i = 1; i < n / 2; i++)
    if (v[i] > lo) lo = v[i];
  return (lo + hi) / 2;
}

/* Reduces the GCs to at most GCT_FIT_POINTS points. Returns the count, 0 on no memory. */
static size_t make_points(const gct_trace *tr, point **out) {
  size_t n = tr->n_gcs, m = n < GCT_FIT_POINTS ? n : GCT_FIT_POINTS;
  point *pts = malloc(m * sizeof *pts);
  double *tmp = malloc((n / m + 2) * sizeof *tmp);
  if (pts == NULL || tmp == NULL) {
    free(pts);
    free(tmp);
    return 0;
  }
  for (size_t b = 0; b < m; b++) {
    size_t from = b * n / m, to = (b + 1) * n / m;
    for (size_t i = from; i < to; i++) tmp[i - from] = tr->gcs[i].t / 60.0;
    pts[b].x = median(tmp, to - from);
    for (size_t i = from; i < to; i++) tmp[i - from] = tr->gcs[i].live;
    pts[b].y = median(tmp, to - from);
  }
  free(tmp);
  *out = pts;
  return m;
}

/* Theil-Sen slope of the points with x >= FROM_X; NAN when fewer than two differ in x.
 * SLOPES has room for all pairs. Also counts Kendall's pairs when TAU is not NULL. */
static double theil_sen(const point *p, size_t n, double from_x, double *slopes, double *tau) {
  size_t k = 0;
  double conc = 0, disc = 0, all = 0, tie_x = 0, tie_y = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i].x < from_x) continue;
    for (size_t j = i + 1; j < n; j++) {
      if (p[j].x < from_x) continue;
      double dx = p[j].x - p[i].x, dy = p[j].y - p[i].y;
      all++;
      if (dx == 0) tie_x++;
      if (dy == 0) tie_y++;
      if (dx != 0) slopes[k++] = dy / dx;
      if (dx * dy > 0) conc++;
      else if (dx * dy < 0) disc++;
    }
  }
  if (tau != NULL) {
    double den = sqrt((all - tie_x) * (all - tie_y));
    *tau = den > 0 ? (conc - disc) / den : 0;
  }
  return k == 0 ? NAN : median(slopes, k);
}

/* Intercept at X0 (median residual), R^2 and median level of the fitted line. */
static int finish_line(const point *p, size_t n, gct_fit_result *f) {
  double *v = malloc(n * sizeof *v);
  if (v == NULL) return -1;
  double mean = 0, ss_tot = 0, ss_res = 0;
  for (size_t i = 0; i < n; i++) v[i] = p[i].y - f->slope * (p[i].x - f->t0_min);
  f->intercept = median(v, n);
  for (size_t i = 0; i < n; i++) mean += p[i].y / (double)n;
  for (size_t i = 0; i < n; i++) {
    double fitted = f->intercept + f->slope * (p[i].x - f->t0_min);
    ss_tot += (p[i].y - mean) * (p[i].y - mean);
    ss_res += (p[i].y - fitted) * (p[i].y - fitted);
    v[i] = p[i].y;
  }
  f->r2 = ss_tot > 0 ? 1 - ss_res / ss_tot : 0;
  f->level_mb = median(v, n);
  free(v);
  return 0;
}

int gct_fit(const gct_trace *tr, gct_fit_result *out) {
  memset(out, 0, sizeof *out);
  if (tr->n_gcs < 2) return -2;
  point *p = NULL;
  size_t n = make_points(tr, &p);
  double *slopes = n ? malloc(n * (n - 1) / 2 * sizeof *slopes) : NULL;
  int rc = -1;
  if (slopes == NULL) goto done;
  /* The span is that of the GCs themselves, not of the bucket medians. */
  double x_min = tr->gcs[0].t, x_max = tr->gcs[0].t;
  for (size_t i = 1; i < tr->n_gcs; i++) {
    if (tr->gcs[i].t < x_min) x_min = tr->gcs[i].t;
    if (tr->gcs[i].t > x_max) x_max = tr->gcs[i].t;
  }
  x_min /= 60.0;
  x_max /= 60.0;
  out->points = n;
  out->t0_min = tr->gcs[0].t / 60.0;
  out->slope = theil_sen(p, n, -INFINITY, slopes, &out->tau);
  rc = -2;
  if (isnan(out->slope)) goto done;
  out->late_slope = theil_sen(p, n, (x_min + x_max) / 2, slopes, NULL);
  out->growth_mb = out->slope * (x_max - x_min);
  rc = finish_line(p, n, out);
done:
  free(slopes);
  free(p);
  return rc;
}

void gct_thresholds_default(gct_thresholds *th) {
  th->min_gcs = 5;
  th->min_growth_mb = 4;
  th->min_rel = 0.10;
  th->min_tau = 0.5;
  th->late_ratio = 0.25;
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

/* Evaluates the four conditions of "growing" into OK[]; returns how many failed. A
 * live heap that never moves by more than the runtime's 1 MB rounding step has not
 * grown, whatever a short run's slope says. */
static int growth_conditions(const gct_summary *s, const gct_fit_result *f, const gct_thresholds *th,
                             int ok[4]) {
  double start = f->intercept > 1 ? f->intercept : 1;
  ok[0] = f->growth_mb >= th->min_growth_mb && s->live_max - s->live_min > 1;
  ok[1] = f->growth_mb / start >= th->min_rel;
  ok[2] = f->tau >= th->min_tau;
  /* The plateau test only means something for a rising line. */
  ok[3] = f->slope <= 0 || isnan(f->late_slope) || f->late_slope >= th->late_ratio * f->slope;
  return !ok[0] + !ok[1] + !ok[2] + !ok[3];
}

/* Writes one reason per condition whose outcome is WANT (1: passed, 0: failed). */
static void explain(const gct_summary *s, const gct_fit_result *f, const gct_thresholds *th,
                    const int ok[4], int want, gct_verdict *v) {
  double start = f->intercept > 1 ? f->intercept : 1;
  if (ok[0] == want && !ok[0] && s->live_max - s->live_min <= 1)
    reason(v, "the live heap stays within %.0f-%.0f MB, the runtime's 1 MB rounding step", s->live_min,
           s->live_max > s->live_min ? s->live_max : s->live_min + 1);
  else if (ok[0] == want)
    reason(v, "fitted growth %+.1f MB over %.1f %s (%+.2f MB/min) is %s %.1f MB", f->growth_mb,
           s->span_s >= 120 ? s->span_s / 60 : s->span_s, s->span_s >= 120 ? "min" : "s", f->slope,
           ok[0] ? "at least" : "below", th->min_growth_mb);
  if (ok[1] == want)
    reason(v, "growth is %.0f%% of the starting level %.1f MB (%s %.0f%%)", f->growth_mb / start * 100,
           start, ok[1] ? "at least" : "below", th->min_rel * 100);
  if (ok[2] == want)
    reason(v, "%s rise: Kendall tau %.2f is %s %.2f", ok[2] ? "consistent" : "no consistent", f->tau,
           ok[2] ? "at least" : "below", th->min_tau);
  if (ok[3] == want && !isnan(f->late_slope) && f->slope > 0)
    reason(v, "second-half slope %+.2f MB/min is %s %.0f%% of the overall slope (%s)", f->late_slope,
           ok[3] ? "at least" : "below", th->late_ratio * 100, ok[3] ? "still rising" : "it levelled off");
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
