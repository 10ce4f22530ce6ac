/* The trend engine both tether gctrace and tether watch use: Theil-Sen against a
 * brute-force median of all pairwise slopes, Kendall's tau against a direct
 * count, the halves' slopes on a warm-up that levels off, the bucket reduction,
 * and the rules of "growing". */
#include <math.h>
#include <stdlib.h>

#include "runner.h"
#include "trend/trend.h"

#define NEAR(a, b, eps) (fabs((a) - (b)) <= (eps))

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

TEST(trend_theil_sen_and_tau_equal_brute_force) {
  trend_point p[30];
  double slopes[30 * 29 / 2];
  for (size_t n = 2; n <= 30; n++) {
    double conc = 0, disc = 0, ties_x = 0, ties_y = 0, all = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
      p[i].x = (double)((i * 7) % 11) + (double)i / 100; /* not in order, a few close x */
      p[i].y = (double)((i * 2654435761u + n) % 23);
    }
    for (size_t i = 0; i < n; i++)
      for (size_t j = i + 1; j < n; j++) {
        double dx = p[j].x - p[i].x, dy = p[j].y - p[i].y;
        all++;
        ties_x += dx == 0;
        ties_y += dy == 0;
        conc += dx * dy > 0;
        disc += dx * dy < 0;
        if (dx != 0) slopes[k++] = dy / dx;
      }
    qsort(slopes, k, sizeof slopes[0], cmp_double);
    double want = k % 2 ? slopes[k / 2] : (slopes[k / 2 - 1] + slopes[k / 2]) / 2;
    double tau = (conc - disc) / sqrt((all - ties_x) * (all - ties_y));
    trend_fit f;
    CHECK_EQ(trend_fit_points(p, n, NAN, NAN, &f), 0);
    CHECK(NEAR(f.slope, want, 1e-9 * (1 + fabs(want))));
    CHECK(NEAR(f.tau, tau, 1e-12));
    CHECK_EQ(f.points, n);
  }
}

TEST(trend_halves_tell_a_warm_up_from_a_leak) {
  trend_point warm[40], leak[40];
  for (int i = 0; i < 40; i++) {
    warm[i].x = leak[i].x = i;
    warm[i].y = i < 15 ? 4.0 * i : 60 + (i % 3); /* rises, then holds */
    leak[i].y = 10 + 2.0 * i + (i % 4);         /* rises all along */
  }
  trend_fit fw, fl;
  CHECK_EQ(trend_fit_points(warm, 40, NAN, NAN, &fw), 0);
  CHECK_EQ(trend_fit_points(leak, 40, NAN, NAN, &fl), 0);
  CHECK(fw.slope > 0.5);
  CHECK(fw.early_slope > 2 && NEAR(fw.late_slope, 0, 0.2));
  CHECK(NEAR(fl.slope, 2, 0.1) && NEAR(fl.early_slope, 2, 0.3) && NEAR(fl.late_slope, 2, 0.3));
  trend_rules r = {10, 0.1, 1, 0.5, 0.25, 1};
  int ok[TREND_NRULES];
  CHECK(trend_check(&fw, &r, ok) > 0);
  CHECK(!ok[TREND_LATE] && !ok[TREND_HALVES]);
  CHECK_EQ(trend_check(&fl, &r, ok), 0);
  CHECK(NEAR(fl.span, 39, 1e-12) && NEAR(fl.growth, fl.slope * 39, 1e-9));
}

TEST(trend_rules_size_and_noise) {
  trend_point noise[50];
  for (int i = 0; i < 50; i++) {
    noise[i].x = i;
    noise[i].y = 100 + (double)((i * 37) % 7);
  }
  trend_fit f;
  CHECK_EQ(trend_fit_points(noise, 50, NAN, NAN, &f), 0);
  CHECK(fabs(f.tau) < 0.2);
  trend_rules r = {1, 0.1, 1, 0.5, 0.25, 1};
  int ok[TREND_NRULES];
  CHECK(trend_check(&f, &r, ok) > 0);
  CHECK(!ok[TREND_TAU]);
  /* A steady rise too small for the absolute or the relative minimum. */
  trend_point small[20];
  for (int i = 0; i < 20; i++) {
    small[i].x = i;
    small[i].y = 1000 + 0.1 * i;
  }
  CHECK_EQ(trend_fit_points(small, 20, NAN, NAN, &f), 0);
  CHECK(f.tau > 0.99);
  trend_rules big = {5, 0.1, 1, 0.5, 0.25, 1};
  CHECK(trend_check(&f, &big, ok) > 0);
  CHECK(!ok[TREND_GROWTH] && !ok[TREND_REL] && ok[TREND_TAU]);
  /* Zero rules pass a rising line. */
  trend_rules none = {0, 0, 0, 0, 0, 0};
  CHECK_EQ(trend_check(&f, &none, ok), 0);
}

TEST(trend_no_line_and_reduce) {
  trend_point same[3] = {{1, 1}, {1, 2}, {1, 3}};
  trend_fit f;
  CHECK_EQ(trend_fit_points(same, 3, NAN, NAN, &f), -2);
  CHECK_EQ(trend_fit_points(same, 1, NAN, NAN, &f), -2);
  trend_point in[1000], out[10];
  for (int i = 0; i < 1000; i++) {
    in[i].x = i;
    in[i].y = i % 100 == 0 ? 1e9 : 3.0 * i; /* spikes vanish in the bucket medians */
  }
  CHECK_EQ(trend_reduce(in, 1000, 10, out), 10);
  for (int b = 0; b < 10; b++) CHECK(NEAR(out[b].y, 3 * out[b].x, 3.01));
  CHECK_EQ(trend_fit_points(out, 10, 0, 999, &f), 0);
  CHECK(NEAR(f.slope, 3, 1e-9) && NEAR(f.x0, 0, 0) && NEAR(f.span, 999, 0));
}
