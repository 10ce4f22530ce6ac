/* The chart behind `tether gctrace --svg`: live heap, heap at GC start and heap
 * goal against time, a point per GC on the live heap (forced GCs ringed), and
 * the fitted trend line drawn last, on top of the data. Axes carry their units
 * (the title's time unit is the axis's) and each line is labelled at its right
 * end, so the chart reads without a legend. When time goes backwards (several
 * runs in one log) the runs are laid end to end: each line breaks there and a
 * dashed rule marks the restart; the trend covers the run judged. Long traces
 * are thinned to the smallest and largest value of each of at most SVG_BUCKETS
 * buckets per line, which keeps the file small and the peaks visible. */
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
#define MAX_RESTART_LABELS 8
#define MAX_FORCED_RINGS 200

enum { SER_LIVE, SER_START, SER_GOAL, SER_COUNT };

static const char *const k_color[SER_COUNT] = {"#1f5fbf", "#e08a1e", "#6b6b6b"};
static const char *const k_label[SER_COUNT] = {"live heap (after GC)", "heap at GC start", "heap goal"};

/* Maps data to pixels. Chart time is the trace's time with the runs laid end to
 * end: GC i is at gcs[i].t + shift[i]. */
typedef struct frame {
  const gct_trace *tr;
  double *shift;         /* per GC: what its run adds to its time */
  double t0, t1, tscale; /* chart seconds; tscale: 1 for seconds, 60 for minutes on the axis */
  double ymax;           /* MB */
} frame;

static double chart_t(const frame *f, size_t i) { return f->tr->gcs[i].t + f->shift[i]; }

static double px(const frame *f, double t) {
  double span = f->t1 > f->t0 ? f->t1 - f->t0 : 1;
  return PLOT_L + (t - f->t0) / span * (PLOT_R - PLOT_L);
}

static double py(const frame *f, double mb) { return PLOT_B - mb / f->ymax * (PLOT_B - PLOT_T); }

static double value(const gct_gc *g, int ser) {
  return ser == SER_LIVE ? g->live : ser == SER_START ? g->heap_start : g->goal;
}

/* Lays the runs end to end: each run starts where the previous one ended, plus
 * a gap (2% of the whole, less when there are many runs), so that the break shows. */
static int layout(frame *f) {
  const gct_trace *tr = f->tr;
  size_t n = tr->n_gcs;
  f->shift = malloc(n * sizeof *f->shift);
  if (f->shift == NULL) return -1;
  double total = 0, shift = 0, run_t0 = tr->gcs[0].t, prev = tr->gcs[0].t;
  size_t restarts = 0;
  for (size_t i = 1; i < n; i++) {
    if (tr->gcs[i].t < tr->gcs[i - 1].t) {
      total += tr->gcs[i - 1].t - run_t0;
      run_t0 = tr->gcs[i].t;
      restarts++;
    }
  }
  total += tr->gcs[n - 1].t - run_t0;
  double share = restarts > 5 ? 0.1 / (double)restarts : 0.02;
  double gap = total > 0 ? total * share : 1;
  run_t0 = tr->gcs[0].t;
  for (size_t i = 0; i < n; i++) {
    if (i > 0 && tr->gcs[i].t < tr->gcs[i - 1].t) {
      /* The new run starts a gap after the end of the last one. */
      shift = prev + gap - tr->gcs[i].t;
    }
    f->shift[i] = shift;
    prev = tr->gcs[i].t + shift;
  }
  f->t0 = tr->gcs[0].t;
  f->t1 = prev;
  for (size_t i = 0; i < n; i++) f->t0 = fmin(f->t0, chart_t(f, i));
  return 0;
}

/* A round tick step (1, 2 or 5 times a power of ten) giving about five ticks over RANGE. */
static double nice_step(double range) {
  double raw = range / 5, p = pow(10, floor(log10(raw))), m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static void axes(FILE *out, const frame *f, size_t runs) {
  const char *unit = f->tscale == 60 ? "min" : "s";
  fprintf(out, "<g stroke=\"#999\" stroke-width=\"1\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/></g>\n",
          PLOT_L, PLOT_B, PLOT_R, PLOT_B, PLOT_L, PLOT_T, PLOT_L, PLOT_B);
  /* The runtime prints whole MB: no ticks between them (tether's bytes are exact). */
  double ystep = f->tr->tether ? nice_step(f->ymax) : fmax(nice_step(f->ymax), 1);
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
  fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s (%s)</text>\n", (PLOT_L + PLOT_R) / 2,
          PLOT_B + 45, runs > 1 ? "time, the runs laid end to end" : "time since program start", unit);
  fprintf(out, "<text transform=\"translate(22 %.1f) rotate(-90)\" text-anchor=\"middle\">%s (MB)</text>\n",
          (PLOT_T + PLOT_B) / 2, f->tr->tether ? "retained" : "heap");
}

/* One point of a line: the caller writes the M that starts each run. */
static void vertex(FILE *out, const frame *f, size_t i, int ser) {
  fprintf(out, "%.1f,%.1f ", px(f, chart_t(f, i)), py(f, value(&f->tr->gcs[i], ser)));
}

/* Calls EACH for the GCs [FROM, TO) thinned to each bucket's extremes, in time order. */
static void thinned(const frame *f, size_t from, size_t to, int ser, void (*each)(FILE *, const frame *, size_t, int),
                    FILE *out) {
  const gct_gc *g = f->tr->gcs;
  size_t n = to - from, all = f->tr->n_gcs;
  /* A run gets its share of the buckets, at least one. */
  size_t buckets = all < 2 * SVG_BUCKETS ? n : (SVG_BUCKETS * n + all - 1) / all;
  if (buckets < 1) buckets = 1;
  if (buckets > n) buckets = n;
  for (size_t b = 0; b < buckets; b++) {
    size_t lo_i = from + b * n / buckets, hi_i = from + (b + 1) * n / buckets, lo = lo_i, hi = lo_i;
    for (size_t i = lo_i; i < hi_i; i++) {
      if (value(&g[i], ser) < value(&g[lo], ser)) lo = i;
      if (value(&g[i], ser) > value(&g[hi], ser)) hi = i;
    }
    each(out, f, lo < hi ? lo : hi, ser);
    if (lo != hi) each(out, f, lo < hi ? hi : lo, ser);
  }
}

/* One series as one path with a subpath per run, so the line breaks at every
 * restart (a path's points after M are joined by lines). */
static void series(FILE *out, const frame *f, int ser, const char *style) {
  const gct_trace *tr = f->tr;
  fprintf(out, "<path fill=\"none\" stroke=\"%s\" stroke-linejoin=\"round\" %s d=\"", k_color[ser], style);
  for (size_t from = 0; from < tr->n_gcs;) {
    size_t to = from + 1;
    while (to < tr->n_gcs && tr->gcs[to].t >= tr->gcs[to - 1].t) to++;
    fputc('M', out);
    thinned(f, from, to, ser, vertex, out);
    from = to;
  }
  fputs("\"/>\n", out);
}

static void dot(FILE *out, const frame *f, size_t i, int ser) {
  fprintf(out, "M%.1f %.1fh0", px(f, chart_t(f, i)), py(f, value(&f->tr->gcs[i], ser)));
}

/* A point per GC on the live heap (one path of zero-length round-capped strokes). */
static void points(FILE *out, const frame *f) {
  const gct_trace *tr = f->tr;
  fprintf(out, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"4.5\" stroke-linecap=\"round\" d=\"",
          k_color[SER_LIVE]);
  for (size_t from = 0; from < tr->n_gcs;) {
    size_t to = from + 1;
    while (to < tr->n_gcs && tr->gcs[to].t >= tr->gcs[to - 1].t) to++;
    thinned(f, from, to, SER_LIVE, dot, out);
    from = to;
  }
  fputs("\"/>\n", out);
}

/* Forced GCs (runtime.GC()) ringed: at most one ring per bucket of
 * MAX_FORCED_RINGS, all in one path of two arcs each. */
static size_t forced(FILE *out, const frame *f) {
  const gct_trace *tr = f->tr;
  size_t n = tr->n_gcs, buckets = n < MAX_FORCED_RINGS ? n : MAX_FORCED_RINGS, shown = 0;
  fputs("<path fill=\"none\" stroke=\"#7b2cbf\" stroke-width=\"1.5\" d=\"", out);
  for (size_t b = 0; b < buckets; b++) {
    for (size_t i = b * n / buckets; i < (b + 1) * n / buckets; i++) {
      if (!(tr->gcs[i].flags & GCT_FLAG_FORCED)) continue;
      fprintf(out, "M%.1f %.1fa5 5 0 1 0 10 0a5 5 0 1 0-10 0", px(f, chart_t(f, i)) - 5, py(f, tr->gcs[i].live));
      shown++;
      break;
    }
  }
  fputs("\"/>\n", out);
  return shown;
}

/* A dashed rule at each restart (time went backwards, one path), the first few labelled. */
static void restarts(FILE *out, const frame *f) {
  const gct_trace *tr = f->tr;
  size_t k = 0;
  fputs("<path stroke=\"#b00020\" stroke-dasharray=\"3 3\" d=\"", out);
  for (size_t i = 1; i < tr->n_gcs; i++) {
    if (tr->gcs[i].t >= tr->gcs[i - 1].t) continue;
    fprintf(out, "M%.1f %.0fV%.0f", (px(f, chart_t(f, i - 1)) + px(f, chart_t(f, i))) / 2, PLOT_T, PLOT_B);
  }
  fputs("\"/>\n", out);
  double last_x = -INFINITY;
  for (size_t i = 1; i < tr->n_gcs && k < MAX_RESTART_LABELS; i++) {
    if (tr->gcs[i].t >= tr->gcs[i - 1].t) continue;
    double x = (px(f, chart_t(f, i - 1)) + px(f, chart_t(f, i))) / 2;
    if (x - last_x < 50) continue; /* labels would overlap */
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#b00020\" font-size=\"10\">restart</text>\n", x + 3,
            PLOT_T + 10);
    last_x = x;
    k++;
  }
}

/* Whether series SER is drawn: tether passes have only the retained bytes. */
static int shown(const frame *f, int ser) { return !f->tr->tether || ser == SER_LIVE; }

/* Labels at the right end of the lines, pushed apart so that none overlap. */
static void labels(FILE *out, const frame *f, const gct_result *r, size_t nforced) {
  const gct_trace *tr = f->tr;
  const gct_fit_result *fit = &r->fit;
  const gct_gc *last = &tr->gcs[tr->n_gcs - 1];
  double y[SER_COUNT + 1];
  int order[SER_COUNT + 1], n = SER_COUNT + (r->fit_ok ? 1 : 0);
  for (int s = 0; s < SER_COUNT; s++) y[s] = shown(f, s) ? py(f, value(last, s)) : -1e9;
  if (r->fit_ok) y[SER_COUNT] = py(f, fit->intercept + fit->slope * (last->t / 60 - fit->t0_min));
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
    if (s < SER_COUNT && !shown(f, s)) continue;
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">", PLOT_R + 8, y[s] + 4,
            s < SER_COUNT ? k_color[s] : "#c0392b");
    if (s < SER_COUNT) fputs(tr->tether ? "retained bytes (after a pass)" : k_label[s], out);
    else fprintf(out, "trend %+.*f MB/min", fabs(fit->slope) >= 100 ? 0 : fabs(fit->slope) >= 10 ? 1 : 2, fit->slope);
    fputs("</text>\n", out);
  }
  if (nforced > 0)
    fprintf(out, "<g><circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"none\" stroke=\"#7b2cbf\" stroke-width=\"1.5\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" fill=\"#7b2cbf\">forced GC (runtime.GC)</text></g>\n",
            PLOT_R + 13, PLOT_B - 4, PLOT_R + 24, PLOT_B);
}

/* The fitted line over the GCs judged, in the chart's time. */
static void trend(FILE *out, const frame *f, const gct_result *r) {
  const gct_fit_result *fit = &r->fit;
  const gct_gc *g = r->trace->gcs;
  size_t a = r->from, b = r->to - 1;
  double y0 = fit->intercept + fit->slope * (g[a].t / 60 - fit->t0_min);
  double y1 = fit->intercept + fit->slope * (g[b].t / 60 - fit->t0_min);
  fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c0392b\" "
          "stroke-width=\"2.5\" stroke-dasharray=\"8 5\" clip-path=\"url(#plot)\"/>\n",
          px(f, chart_t(f, a)), py(f, y0), px(f, chart_t(f, b)), py(f, y1));
}

int gct_write_svg(FILE *out, const gct_result *r) {
  const gct_trace *tr = r->trace;
  if (tr->n_gcs == 0) return -1;
  frame f = {tr, NULL, 0, 0, 1, 1};
  if (layout(&f) != 0) return -1;
  double span = f.t1 - f.t0, top = 0;
  for (size_t i = 0; i < tr->n_gcs; i++)
    top = fmax(top, fmax(fmax(tr->gcs[i].heap_start, tr->gcs[i].goal), tr->gcs[i].live));
  f.tscale = span >= 120 ? 60 : 1;
  f.ymax = tr->tether ? (top > 0 ? top * 1.05 : 1) : top < 1 ? 1 : top * 1.05;
  fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
          "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
          "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
          SVG_W, SVG_H, SVG_W, SVG_H);
  fprintf(out, "<clipPath id=\"plot\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/></clipPath>\n",
          PLOT_L, PLOT_T, PLOT_R - PLOT_L, PLOT_B - PLOT_T);
  if (tr->tether)
    fprintf(out, "<text x=\"%.1f\" y=\"26\" font-size=\"16\">libtether registry %u, bytes retained after each "
            "background pass: %zu passes over %.1f %s", PLOT_L, tr->want_registry, tr->n_gcs, span / f.tscale,
            f.tscale == 60 ? "min" : "s");
  else
    fprintf(out, "<text x=\"%.1f\" y=\"26\" font-size=\"16\">Go heap after each GC: %zu GCs over %.1f %s", PLOT_L,
            tr->n_gcs, span / f.tscale, f.tscale == 60 ? "min" : "s");
  if (r->runs > 1) fprintf(out, " in %zu runs", r->runs);
  fputs("</text>\n", out);
  fprintf(out, "<text x=\"%.1f\" y=\"46\" fill=\"#444\">verdict: %s", PLOT_L, gct_verdict_name(r->verdict.verdict));
  if (r->fit_ok) fprintf(out, " (live heap trend %+.2f MB/min, Kendall tau %.2f)", r->fit.slope, r->fit.tau);
  if (r->runs > 1) fputs(", on the last run", out);
  fputs("</text>\n", out);
  axes(out, &f, r->runs);
  restarts(out, &f);
  if (shown(&f, SER_GOAL)) series(out, &f, SER_GOAL, "stroke-width=\"1.5\" stroke-dasharray=\"4 3\"");
  if (shown(&f, SER_START)) series(out, &f, SER_START, "stroke-width=\"1\"");
  series(out, &f, SER_LIVE, "stroke-width=\"2\"");
  points(out, &f);
  size_t nforced = forced(out, &f);
  labels(out, &f, r, nforced);
  if (r->fit_ok && r->to > r->from) trend(out, &f, r);
  fputs("</svg>\n", out);
  free(f.shift);
  return ferror(out) ? -1 : 0;
}
