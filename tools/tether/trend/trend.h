/* The trend engine of tether gctrace and tether watch: a robust straight-line
 * fit of a series (x in minutes, y in any unit) and the rules that turn the fit
 * into "growing". Both commands call it; neither has a fit of its own.
 *  - slope: Theil-Sen, the median of the slopes between every pair of points;
 *  - Kendall's tau-b (ties allowed): how consistently y rises with x;
 *  - the same slope over the first and the second half of the x span, to tell a
 *    sustained rise from a warm-up that levels off;
 *  - the intercept (median residual at x0), R^2 and the median level.
 * Nothing here prints or allocates beyond the scratch a fit needs. */
#ifndef TETHER_TREND_H
#define TETHER_TREND_H

#include <stddef.h>

typedef struct trend_point {
  double x, y;
} trend_point;

typedef struct trend_fit {
  size_t points;      /* points fitted */
  double x0;          /* where the line starts: the span's first x */
  double span;        /* x_max - x_min */
  double slope;       /* Theil-Sen, y per x unit */
  double intercept;   /* y of the line at x0 */
  double growth;      /* slope times span */
  double level;       /* median y */
  double tau;         /* Kendall's tau-b of (x, y): -1..1 */
  double r2;          /* 1 - SSres/SStot of the line; 0 when y never changes */
  double early_slope; /* Theil-Sen over the first half of the span; NAN with < 2 points there */
  double late_slope;  /* ... over the second half */
} trend_fit;

/* Fits the N points of P (any order). X_MIN and X_MAX bound the span (the line
 * starts at X_MIN; the halves split at the middle); pass NAN for both to take
 * them from the points. Returns 0; -2 when no line can be fitted (fewer than two
 * points at different x); -1 when memory ran out. */
int trend_fit_points(const trend_point *p, size_t n, double x_min, double x_max, trend_fit *out);

/* Reduces the N points of IN (in x order) to at most MAX points, the median x
 * and median y of each of MAX equal-count buckets, into OUT (room for MAX).
 * Returns the count, 0 when out of memory. Long series cost a constant then:
 * the fit is quadratic in its points. */
size_t trend_reduce(const trend_point *in, size_t n, size_t max, trend_point *out);

/* The median of V[0..N), N > 0; reorders V. */
double trend_median(double *v, size_t n);

/* What "growing" takes. Zero-initialised rules pass everything. */
typedef struct trend_rules {
  double min_growth; /* growth over the span must reach this (y units) */
  double min_rel;    /* ... and this share of the starting level */
  double rel_floor;  /* the starting level is taken as at least this (avoids dividing by ~0) */
  double min_tau;    /* Kendall's tau must reach this */
  double late_ratio; /* the second-half slope must reach this share of the slope */
  int both_halves;   /* both halves must rise (slope > 0 in each) */
} trend_rules;

enum { TREND_GROWTH, TREND_REL, TREND_TAU, TREND_LATE, TREND_HALVES, TREND_NRULES };

/* Evaluates each rule into OK[] (1: it holds for a rising series). Returns the
 * number that fail; 0 means the fit says "growing". */
int trend_check(const trend_fit *f, const trend_rules *r, int ok[TREND_NRULES]);

/* The starting level the relative rule divides by. */
double trend_start_level(const trend_fit *f, const trend_rules *r);

#endif
