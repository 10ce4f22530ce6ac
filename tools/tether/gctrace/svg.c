/* The chart behind `tether gctrace --svg`: live heap, heap at GC start and heap
 * goal against time, with the fitted trend line. Axes carry their units and each
 * line is labelled at its right end, so the chart reads without a legend. Long
 * traces are thinned to the smallest and largest value of each of at most
 * SVG_BUCKETS buckets per line, which keeps the file small and the peaks visible. */
#include "gctrace.h"

#include <math.h>
#include <stdlib.h>

#define SVG_W 900.0
#define SVG_H 500.0
#define PLOT_L 80.0
#define PLOT_R 720.0
#define PLOT_T 60.0
#define PLOT_B 430.0
#define SVG_BUCKETS 800

enum { SER_LIVE, SER_START, SER_GOAL, SER_COUNT };

static const char *const k_color[SER_COUNT] = {"#1f5fbf", "#e08a1e", "#6b6b6b"};
static const char *const k_label[SER_COUNT] = {"live heap (after GC)", "heap at GC start", "heap goal"};

/* Maps data to pixels. */
typedef struct frame {
  double t0, t1, tscale; /* seconds; tscale: 1 for seconds, 60 for minutes on the axis */
  double ymax;           /* MB */
} frame;

static double px(const frame *f, double t) {
  double span = f->t1 > f->t0 ? f->t1 - f->t0 : 1;
  return PLOT_L + (t - f->t0) / span * (PLOT_R - PLOT_L);
}

static double py(const frame *f, double mb) { return PLOT_B - mb / f->ymax * (PLOT_B - PLOT_T); }

static double value(const gct_gc *g, int ser) {
  return ser == SER_LIVE ? g->live : ser == SER_START ? g->heap_start : g->goal;
}

/* A round tick step (1, 2 or 5 times a power of ten) giving about five ticks over RANGE. */
static double nice_step(double range) {
  double raw = range / 5, p = pow(10, floor(log10(raw))), m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static void axes(FILE *out, const frame *f) {
  const char *unit = f->tscale == 60 ? "min" : "s";
  fprintf(out, "<g stroke=\"#999\" stroke-width=\"1\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/></g>\n",
          PLOT_L, PLOT_B, PLOT_R, PLOT_B, PLOT_L, PLOT_T, PLOT_L, PLOT_B);
  /* The runtime prints whole MB: no ticks between them. */
  double ystep = fmax(nice_step(f->ymax), 1);
  for (int i = 0; i <= 20 && i * ystep <= f->ymax * 1.0001; i++) {
    double y = i * ystep;
    fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e6e6e6\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
            PLOT_L, py(f, y), PLOT_R, py(f, y), PLOT_L - 6, py(f, y) + 4, y);
  }
  double a0 = f->t0 / f->tscale, a1 = f->t1 / f->tscale;
  double xstep = nice_step(a1 > a0 ? a1 - a0 : 1);
  /* The count bound also covers spans too small to step through at this magnitude. */
  for (int i = 0; i <= 20; i++) {
    double x = (ceil(a0 / xstep) + i) * xstep;
    if (x > a1 + xstep * 1e-6) break;
    fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n",
            px(f, x * f->tscale), PLOT_B, px(f, x * f->tscale), PLOT_B + 5, px(f, x * f->tscale), PLOT_B + 20, x);
  }
  fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">time since program start (%s)</text>\n",
          (PLOT_L + PLOT_R) / 2, PLOT_B + 45, unit);
  fprintf(out, "<text transform=\"translate(22 %.1f) rotate(-90)\" text-anchor=\"middle\">heap (MB)</text>\n",
          (PLOT_T + PLOT_B) / 2);
}

/* One point of a polyline. */
static void vertex(FILE *out, const frame *f, const gct_gc *g, int ser) {
  fprintf(out, "%.1f,%.1f ", px(f, g->t), py(f, value(g, ser)));
}

/* One series as a polyline, thinned to each bucket's extremes in time order. */
static void series(FILE *out, const frame *f, const gct_trace *tr, int ser, const char *style) {
  size_t n = tr->n_gcs, buckets = n < 2 * SVG_BUCKETS ? n : SVG_BUCKETS;
  fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" %s points=\"", k_color[ser], style);
  for (size_t b = 0; b < buckets; b++) {
    size_t from = b * n / buckets, to = (b + 1) * n / buckets, lo = from, hi = from;
    for (size_t i = from; i < to; i++) {
      if (value(&tr->gcs[i], ser) < value(&tr->gcs[lo], ser)) lo = i;
      if (value(&tr->gcs[i], ser) > value(&tr->gcs[hi], ser)) hi = i;
    }
    vertex(out, f, &tr->gcs[lo < hi ? lo : hi], ser);
    if (lo != hi) vertex(out, f, &tr->gcs[lo < hi ? hi : lo], ser);
  }
  fputs("\"/>\n", out);
}

/* Labels at the right end of the lines, pushed apart so that none overlap. */
static void labels(FILE *out, const frame *f, const gct_trace *tr, const gct_fit_result *fit, int fit_ok) {
  const gct_gc *last = &tr->gcs[tr->n_gcs - 1];
  double y[SER_COUNT + 1];
  int order[SER_COUNT + 1], n = SER_COUNT + (fit_ok ? 1 : 0);
  for (int s = 0; s < SER_COUNT; s++) y[s] = py(f, value(last, s));
  if (fit_ok) y[SER_COUNT] = py(f, fit->intercept + fit->slope * (f->t1 / 60 - fit->t0_min));
  for (int i = 0; i < n; i++) {
    y[i] = fmin(fmax(y[i], PLOT_T), PLOT_B);
    order[i] = i;
  }
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && y[order[j]] < y[order[j - 1]]; j--) {
      int t = order[j];
      order[j] = order[j - 1];
      order[j - 1] = t;
    }
  for (int i = 1; i < n; i++)
    if (y[order[i]] < y[order[i - 1]] + 15) y[order[i]] = y[order[i - 1]] + 15;
  for (int s = 0; s < n; s++) {
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">", PLOT_R + 8, y[s] + 4,
            s < SER_COUNT ? k_color[s] : "#c0392b");
    if (s < SER_COUNT) fputs(k_label[s], out);
    else fprintf(out, "trend %+.*f MB/min", fabs(fit->slope) >= 100 ? 0 : fabs(fit->slope) >= 10 ? 1 : 2, fit->slope);
    fputs("</text>\n", out);
  }
}

static void trend(FILE *out, const frame *f, const gct_fit_result *fit) {
  double y0 = fit->intercept + fit->slope * (f->t0 / 60 - fit->t0_min);
  double y1 = fit->intercept + fit->slope * (f->t1 / 60 - fit->t0_min);
  fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c0392b\" "
          "stroke-width=\"2\" stroke-dasharray=\"8 5\" clip-path=\"url(#plot)\"/>\n",
          px(f, f->t0), py(f, y0), px(f, f->t1), py(f, y1));
}

int gct_write_svg(FILE *out, const gct_result *r) {
  const gct_trace *tr = r->trace;
  const gct_summary *sum = &r->sum;
  const gct_fit_result *fit = &r->fit;
  int fit_ok = r->fit_ok;
  if (tr->n_gcs == 0) return -1;
  frame f = {sum->t_first, sum->t_last, sum->span_s >= 120 ? 60 : 1, 1};
  double top = fmax(fmax(sum->start_max, sum->goal_max), sum->live_max);
  f.ymax = top < 1 ? 1 : top * 1.05;
  fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
          "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
          "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
          SVG_W, SVG_H, SVG_W, SVG_H);
  fprintf(out, "<clipPath id=\"plot\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/></clipPath>\n",
          PLOT_L, PLOT_T, PLOT_R - PLOT_L, PLOT_B - PLOT_T);
  fprintf(out, "<text x=\"%.1f\" y=\"26\" font-size=\"16\">Go heap after each GC: %zu GCs over %.1f s</text>\n",
          PLOT_L, sum->n, sum->span_s);
  fprintf(out, "<text x=\"%.1f\" y=\"46\" fill=\"#444\">verdict: %s", PLOT_L, gct_verdict_name(r->verdict.verdict));
  if (fit_ok) fprintf(out, " (live heap trend %+.2f MB/min, Kendall tau %.2f)", fit->slope, fit->tau);
  fputs("</text>\n", out);
  axes(out, &f);
  series(out, &f, tr, SER_GOAL, "stroke-width=\"1.5\" stroke-dasharray=\"4 3\"");
  series(out, &f, tr, SER_START, "stroke-width=\"1\"");
  series(out, &f, tr, SER_LIVE, "stroke-width=\"2.5\"");
  if (fit_ok) trend(out, &f, fit);
  labels(out, &f, tr, fit, fit_ok);
  fputs("</svg>\n", out);
  return ferror(out) ? -1 : 0;
}
