/* What `tether gctrace` says about a trace: the summary figures, the analysis that
 * ties summary, fit and verdict together, and the text and JSON reports. Reports
 * only read the result; numbers that cannot be computed are printed as null (JSON)
 * or "n/a" (text), never as nan or inf. */
#include "gctrace.h"

#include <math.h>
#include <string.h>

#include "common/cli.h"

void gct_summarise(const gct_trace *tr, gct_summary *s) { gct_summarise_range(tr, 0, tr->n_gcs, s); }

void gct_summarise_range(const gct_trace *tr, size_t from, size_t to, gct_summary *s) {
  memset(s, 0, sizeof *s);
  if (to > tr->n_gcs) to = tr->n_gcs;
  if (from >= to) return;
  s->n = to - from;
  const gct_gc *g = tr->gcs + from, *last = &tr->gcs[to - 1];
  s->t_first = s->t_last = g[0].t;
  s->live_first = s->live_min = s->live_max = g[0].live;
  s->goal_first = g[0].goal;
  for (size_t i = 0; i < s->n; i++) {
    if (g[i].t < s->t_first) s->t_first = g[i].t;
    if (g[i].t > s->t_last) s->t_last = g[i].t;
    if (g[i].live < s->live_min) s->live_min = g[i].live;
    if (g[i].live > s->live_max) s->live_max = g[i].live;
    if (g[i].heap_start > s->start_max) s->start_max = g[i].heap_start;
    if (g[i].goal > s->goal_max) s->goal_max = g[i].goal;
    if (g[i].pause_ms > s->pause_max_ms) s->pause_max_ms = g[i].pause_ms;
    s->pause_total_ms += g[i].pause_ms;
  }
  s->span_s = s->t_last - s->t_first;
  s->cpu_pct = last->cpu_pct;
  s->live_last = last->live;
  s->goal_last = last->goal;
}

size_t gct_runs(const gct_trace *tr, size_t *starts, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < tr->n_gcs; i++) {
    if (i > 0 && tr->gcs[i].t >= tr->gcs[i - 1].t) continue;
    if (n < max) starts[n] = i;
    n++;
  }
  return n;
}

/* The GCs to judge: the last run's, less what --skip drops from its start. */
static void pick_range(gct_result *r) {
  const gct_trace *tr = r->trace;
  r->runs = 0;
  r->run_from = 0;
  for (size_t i = 0; i < tr->n_gcs; i++)
    if (i == 0 || tr->gcs[i].t < tr->gcs[i - 1].t) {
      r->runs++;
      r->run_from = i;
    }
  r->from = r->run_from;
  r->to = tr->n_gcs;
  size_t skip = r->skip_gcs < r->to - r->from ? r->skip_gcs : r->to - r->from;
  r->from += skip;
  if (r->skip_s > 0 && r->run_from < r->to) {
    double until = tr->gcs[r->run_from].t + r->skip_s;
    while (r->from < r->to && tr->gcs[r->from].t < until) r->from++;
  }
}

int gct_analyse(gct_result *r) {
  pick_range(r);
  gct_summarise_range(r->trace, r->from, r->to, &r->sum);
  int rc = gct_fit_range(r->trace, r->from, r->to, &r->fit);
  if (rc == -1) return -1;
  r->fit_ok = rc == 0;
  gct_judge(&r->sum, &r->fit, r->fit_ok, &r->th, &r->verdict);
  /* The gate trips only on a run judged growing: a warm-up raises the slope of a
   * stable service, and such a run must not fail a build. */
  r->gate_tripped = !isnan(r->gate_rate) && r->verdict.verdict == GCT_GROWING && !isnan(r->fit.slope) &&
                    r->fit.slope > r->gate_rate;
  return 0;
}

/* The Go versions the lines came from, in words. */
static const char *format_name(const gct_trace *tr) {
  if (tr->tether) return "tether";
  int old = tr->fmt_seen[GCT_FMT_GO15] > 0, now = tr->fmt_seen[GCT_FMT_GO118] > 0;
  if (old && now) return "mixed";
  if (now) return "go1.18+";
  return old ? "go1.5-1.17" : "none";
}

static void print_counts(FILE *out, const gct_result *r) {
  const gct_trace *tr = r->trace;
  if (tr->tether)
    fprintf(out, "lines: %llu read, %zu background passes, %llu other", (unsigned long long)tr->lines, tr->n_gcs,
            (unsigned long long)tr->other);
  else
    fprintf(out, "lines: %llu read, %zu GCs (%llu forced), %llu scavenger, %llu other",
            (unsigned long long)tr->lines, tr->n_gcs, (unsigned long long)tr->forced,
            (unsigned long long)tr->scav, (unsigned long long)tr->other);
  if (tr->rejoined) fprintf(out, ", %llu split gc lines rejoined", (unsigned long long)tr->rejoined);
  if (tr->malformed) fprintf(out, ", %llu malformed gc lines skipped", (unsigned long long)tr->malformed);
  fprintf(out, "; format %s", format_name(tr));
  if (tr->tether) fprintf(out, ", registry %u", tr->want_registry);
  if (tr->other_registry)
    fprintf(out, " (%llu lines of other registries skipped: --registry N)", (unsigned long long)tr->other_registry);
  if (tr->other_kind)
    fprintf(out, " (%llu %s lines skipped)", (unsigned long long)tr->other_kind, tr->tether ? "Go gctrace" : "tether");
  fputc('\n', out);
  if (r->runs > 1)
    fprintf(out, "runs: %zu in the input (time went backwards %llu times); judging the last run, GCs %zu-%zu\n",
            r->runs, (unsigned long long)tr->time_backwards, r->run_from + 1, tr->n_gcs);
  if (r->from > r->run_from)
    fprintf(out, "skipped: the first %zu GCs of the run (--skip)\n", r->from - r->run_from);
}

void gct_print_text(FILE *out, const gct_result *r) {
  const gct_summary *s = &r->sum;
  const gct_fit_result *f = &r->fit;
  print_counts(out, r);
  int tether = r->trace->tether;
  double q = r->th.quantum_mb;
  char a[32], b[32], c[32], d[32];
  if (s->n > 0 && tether) {
    fprintf(out, "time: %.3f s to %.3f s (span %.1f %s), background passes %.1f ms total, %.2f ms max\n",
            s->t_first, s->t_last, s->span_s >= 120 ? s->span_s / 60 : s->span_s, s->span_s >= 120 ? "min" : "s",
            s->pause_total_ms, s->pause_max_ms);
    fprintf(out, "retained: first %s, last %s, min %s, max %s\n", gct_size(s->live_first, q, a, sizeof a),
            gct_size(s->live_last, q, b, sizeof b), gct_size(s->live_min, q, c, sizeof c),
            gct_size(s->live_max, q, d, sizeof d));
  } else if (s->n > 0) {
    fprintf(out, "time: %.3f s to %.3f s (span %.1f %s), GC CPU %d%%, stop-the-world %.1f ms total, %.2f ms max\n",
            s->t_first, s->t_last, s->span_s >= 120 ? s->span_s / 60 : s->span_s, s->span_s >= 120 ? "min" : "s",
            s->cpu_pct, s->pause_total_ms, s->pause_max_ms);
    fprintf(out, "live heap: first %.0f MB, last %.0f MB, min %.0f MB, max %.0f MB\n", s->live_first,
            s->live_last, s->live_min, s->live_max);
    fprintf(out, "heap goal: first %.0f MB, last %.0f MB, max %.0f MB\n", s->goal_first, s->goal_last,
            s->goal_max);
  }
  if (r->fit_ok && tether) {
    fprintf(out, "trend: %s/min (Theil-Sen over %zu points), %s over the run, Kendall tau %.2f, R^2 %.2f",
            gct_size(f->slope, q, a, sizeof a), f->points, gct_size(f->growth_mb, q, b, sizeof b), f->tau, f->r2);
    if (!isnan(f->late_slope)) fprintf(out, ", second half %s/min", gct_size(f->late_slope, q, c, sizeof c));
    fputc('\n', out);
  } else if (r->fit_ok) {
    fprintf(out, "trend: %+.3f MB/min (Theil-Sen over %zu points), %+.1f MB over the run, Kendall tau %.2f, R^2 %.2f",
            f->slope, f->points, f->growth_mb, f->tau, f->r2);
    if (!isnan(f->late_slope)) fprintf(out, ", second half %+.3f MB/min", f->late_slope);
    fputc('\n', out);
  } else {
    fprintf(out, "trend: n/a\n");
  }
  static const char *const k_color[] = {"\033[33m", "\033[32m", "\033[1;31m"};
  int color = tcli_use_color(out);
  fprintf(out, "verdict: %s%s%s\n", color ? k_color[r->verdict.verdict] : "", gct_verdict_name(r->verdict.verdict),
          color ? "\033[0m" : "");
  for (size_t i = 0; i < r->verdict.n_reasons; i++) fprintf(out, "  - %s\n", r->verdict.reasons[i]);
  if (!isnan(r->gate_rate))
    fprintf(out, "gate --fail-on-growth %g MB/min: %s\n", r->gate_rate,
            r->gate_tripped ? "TRIPPED"
            : r->verdict.verdict != GCT_GROWING && isfinite(r->fit.slope) && r->fit.slope > r->gate_rate
                ? "passed (the slope is above the rate, but the verdict is not growing)"
                : "passed");
}

/* A JSON number, or null when X is not finite. */
static void jnum(FILE *out, const char *key, double x, int comma) {
  if (isfinite(x)) fprintf(out, "\"%s\":%.6g", key, x);
  else fprintf(out, "\"%s\":null", key);
  if (comma) fputc(',', out);
}

static void json_counts(FILE *out, const gct_result *r) {
  const gct_trace *tr = r->trace;
  fprintf(out, "\"lines\":%llu,\"gcs\":%zu,\"forced\":%llu,\"scavenger\":%llu,\"other\":%llu,"
          "\"malformed\":%llu,\"rejoined\":%llu,\"time_backwards\":%llu,\"format\":\"%s\",",
          (unsigned long long)tr->lines, tr->n_gcs, (unsigned long long)tr->forced,
          (unsigned long long)tr->scav, (unsigned long long)tr->other, (unsigned long long)tr->malformed,
          (unsigned long long)tr->rejoined, (unsigned long long)tr->time_backwards, format_name(tr));
  if (tr->tether)
    fprintf(out, "\"registry\":%u,\"other_registry_lines\":%llu,", tr->want_registry,
            (unsigned long long)tr->other_registry);
  if (tr->other_kind) fprintf(out, "\"other_kind_lines\":%llu,", (unsigned long long)tr->other_kind);
  fprintf(out, "\"runs\":%zu,\"judged\":{\"first_gc\":%zu,\"last_gc\":%zu,\"skipped\":%zu},", r->runs,
          r->from < r->to ? r->from + 1 : 0, r->from < r->to ? r->to : 0, r->from - r->run_from);
}

static void json_summary(FILE *out, const gct_summary *s) {
  if (s->n == 0) {
    fputs("\"summary\":null,", out);
    return;
  }
  fputs("\"summary\":{", out);
  jnum(out, "first_s", s->t_first, 1);
  jnum(out, "last_s", s->t_last, 1);
  jnum(out, "span_s", s->span_s, 1);
  fprintf(out, "\"gc_cpu_percent\":%d,", s->cpu_pct);
  jnum(out, "pause_total_ms", s->pause_total_ms, 1);
  jnum(out, "pause_max_ms", s->pause_max_ms, 1);
  fputs("\"live_mb\":{", out);
  jnum(out, "first", s->live_first, 1);
  jnum(out, "last", s->live_last, 1);
  jnum(out, "min", s->live_min, 1);
  jnum(out, "max", s->live_max, 0);
  fputs("},\"goal_mb\":{", out);
  jnum(out, "first", s->goal_first, 1);
  jnum(out, "last", s->goal_last, 1);
  jnum(out, "max", s->goal_max, 0);
  fputs("}},", out);
}

static void json_trend(FILE *out, const gct_result *r) {
  const gct_fit_result *f = &r->fit;
  if (!r->fit_ok) {
    fputs("\"trend\":null,", out);
    return;
  }
  fprintf(out, "\"trend\":{\"method\":\"theil-sen\",\"points\":%zu,", f->points);
  jnum(out, "slope_mb_per_min", f->slope, 1);
  jnum(out, "intercept_mb", f->intercept, 1);
  jnum(out, "growth_mb", f->growth_mb, 1);
  jnum(out, "level_mb", f->level_mb, 1);
  jnum(out, "kendall_tau", f->tau, 1);
  jnum(out, "r2", f->r2, 1);
  jnum(out, "early_slope_mb_per_min", f->early_slope, 1);
  jnum(out, "late_slope_mb_per_min", f->late_slope, 0);
  fputs("},", out);
}

static void json_verdict(FILE *out, const gct_result *r) {
  const gct_thresholds *th = &r->th;
  fprintf(out, "\"thresholds\":{\"min_gcs\":%zu,", th->min_gcs);
  jnum(out, "min_growth_mb", th->min_growth_mb, 1);
  jnum(out, "min_rel", th->min_rel, 1);
  jnum(out, "min_tau", th->min_tau, 1);
  jnum(out, "late_ratio", th->late_ratio, 0);
  fprintf(out, "},\"verdict\":\"%s\",\"reasons\":[", gct_verdict_name(r->verdict.verdict));
  for (size_t i = 0; i < r->verdict.n_reasons; i++) {
    if (i) fputc(',', out);
    tcli_json_string(out, r->verdict.reasons[i]);
  }
  fputs("],\"gate\":", out);
  if (isnan(r->gate_rate)) {
    fputs("null", out);
  } else {
    fputc('{', out);
    jnum(out, "rate_mb_per_min", r->gate_rate, 1);
    fprintf(out, "\"tripped\":%s}", r->gate_tripped ? "true" : "false");
  }
}

void gct_print_json(FILE *out, const gct_result *r) {
  fputs("{\"tool\":\"tether gctrace\",\"version\":\"" TETHER_VERSION "\",\"input\":", out);
  tcli_json_string(out, r->input);
  fputc(',', out);
  json_counts(out, r);
  json_summary(out, &r->sum);
  json_trend(out, r);
  json_verdict(out, r);
  fputs("}\n", out);
}
