/* The robust line fit of trend.h. Theil-Sen and Kendall's tau both look at every
 * pair of points, so a fit of n points costs O(n^2) time and n^2/2 doubles of
 * scratch; callers with long series reduce them first (trend_reduce). Medians
 * come from Hoare's selection, linear on average. */
#include "trend/trend.h"

#include <math.h>
#include <stdlib.h>

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

double trend_median(double *v, size_t n) {
  double hi = select_kth(v, n, n / 2);
  if (n % 2 == 1) return hi;
  double lo = v[0];
  for (size_t i = 1; i < n / 2; i++)
    if (v[i] > lo) lo = v[i];
  return (lo + hi) / 2;
}

size_t trend_reduce(const trend_point *in, size_t n, size_t max, trend_point *out) {
  size_t m = n < max ? n : max;
  if (m == 0) return 0;
  double *tmp = malloc((n / m + 2) * sizeof *tmp);
  if (tmp == NULL) return 0;
  for (size_t b = 0; b < m; b++) {
    size_t from = b * n / m, to = (b + 1) * n / m;
    for (size_t i = from; i < to; i++) tmp[i - from] = in[i].x;
    out[b].x = trend_median(tmp, to - from);
    for (size_t i = from; i < to; i++) tmp[i - from] = in[i].y;
    out[b].y = trend_median(tmp, to - from);
  }
  free(tmp);
  return m;
}

/* Theil-Sen slope of the points with LO <= x < HI (HI inclusive when CLOSED);
 * NAN when no two of them differ in x. SLOPES has room for all pairs. Also
 * counts Kendall's pairs into *TAU when TAU is not NULL. */
static double theil_sen(const trend_point *p, size_t n, double lo, double hi, int closed, double *slopes,
                        double *tau) {
  size_t k = 0;
  double conc = 0, disc = 0, all = 0, tie_x = 0, tie_y = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i].x < lo || p[i].x > hi || (!closed && p[i].x == hi)) continue;
    for (size_t j = i + 1; j < n; j++) {
      if (p[j].x < lo || p[j].x > hi || (!closed && p[j].x == hi)) continue;
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
  return k == 0 ? NAN : trend_median(slopes, k);
}

/* Intercept at x0 (median residual), R^2 and median level of the fitted line. */
static int finish_line(const trend_point *p, size_t n, trend_fit *f) {
  double *v = malloc(n * sizeof *v);
  if (v == NULL) return -1;
  double mean = 0, ss_tot = 0, ss_res = 0;
  for (size_t i = 0; i < n; i++) v[i] = p[i].y - f->slope * (p[i].x - f->x0);
  f->intercept = trend_median(v, n);
  for (size_t i = 0; i < n; i++) mean += p[i].y / (double)n;
  for (size_t i = 0; i < n; i++) {
    double fitted = f->intercept + f->slope * (p[i].x - f->x0);
    ss_tot += (p[i].y - mean) * (p[i].y - mean);
    ss_res += (p[i].y - fitted) * (p[i].y - fitted);
    v[i] = p[i].y;
  }
  f->r2 = ss_tot > 0 ? 1 - ss_res / ss_tot : 0;
  f->level = trend_median(v, n);
  free(v);
  return 0;
}

int trend_fit_points(const trend_point *p, size_t n, double x_min, double x_max, trend_fit *out) {
  out->points = n;
  out->slope = out->early_slope = out->late_slope = NAN;
  out->intercept = out->growth = out->level = out->tau = out->r2 = out->span = 0;
  out->x0 = x_min;
  if (n < 2) return -2;
  if (isnan(x_min) || isnan(x_max)) {
    x_min = x_max = p[0].x;
    for (size_t i = 1; i < n; i++) {
      if (p[i].x < x_min) x_min = p[i].x;
      if (p[i].x > x_max) x_max = p[i].x;
    }
  }
  double *slopes = malloc(n * (n - 1) / 2 * sizeof *slopes);
  if (slopes == NULL) return -1;
  int rc = -2;
  out->x0 = x_min;
  out->span = x_max - x_min;
  out->slope = theil_sen(p, n, -INFINITY, INFINITY, 1, slopes, &out->tau);
  if (!isnan(out->slope)) {
    double mid = (x_min + x_max) / 2;
    out->early_slope = theil_sen(p, n, -INFINITY, mid, 0, slopes, NULL);
    out->late_slope = theil_sen(p, n, mid, INFINITY, 1, slopes, NULL);
    out->growth = out->slope * out->span;
    rc = finish_line(p, n, out);
  }
  free(slopes);
  return rc;
}

double trend_start_level(const trend_fit *f, const trend_rules *r) {
  return f->intercept > r->rel_floor ? f->intercept : r->rel_floor;
}

int trend_check(const trend_fit *f, const trend_rules *r, int ok[TREND_NRULES]) {
  double start = trend_start_level(f, r);
  ok[TREND_GROWTH] = f->growth >= r->min_growth;
  ok[TREND_REL] = start > 0 ? f->growth / start >= r->min_rel : f->growth > 0 || r->min_rel <= 0;
  ok[TREND_TAU] = f->tau >= r->min_tau;
  /* The plateau rule only means something for a rising line. */
  ok[TREND_LATE] = f->slope <= 0 || isnan(f->late_slope) || f->late_slope >= r->late_ratio * f->slope;
  ok[TREND_HALVES] = !r->both_halves || (f->early_slope > 0 && f->late_slope > 0);
  int failed = 0;
  for (int i = 0; i < TREND_NRULES; i++) failed += !ok[i];
  return failed;
}
