/* The text and JSON reports of tether watch, and what they share with the HTML
 * page: the gate, value formats, a suspect's callers and the words of a link.
 * Numbers that cannot be computed are null in JSON and "n/a" in text, never
 * nan or inf. */
#include "watch/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "prof/format.h"
#include "prof/listing.h"

static const char *verdict_name(int v) {
  return v == WATCH_GROWING ? "growing" : v == WATCH_STABLE ? "stable" : "insufficient";
}

void watch_gate(watch_info *info) {
  const watch_result *r = info->r;
  info->gate_tripped = 0;
  info->gate_series = NULL;
  if (isnan(info->gate) || r->verdict != WATCH_GROWING) return;
  /* Suspects come by slope: the first one over the rate names the cause best. */
  for (size_t i = 0; i < r->nsuspects && !info->gate_tripped; i++)
    if (r->suspects[i].fit.slope > info->gate) {
      info->gate_tripped = 1;
      info->gate_series = r->suspects[i].function;
      info->gate_slope = r->suspects[i].fit.slope;
    }
  if (!info->gate_tripped && r->total_fit_ok && r->total_fit.slope > info->gate) {
    info->gate_tripped = 1;
    info->gate_series = "total";
    info->gate_slope = r->total_fit.slope;
  }
}

void watch_fmt(char *buf, size_t n, double v, const char *unit, int is_signed) {
  if (!isfinite(v)) {
    snprintf(buf, n, "n/a");
    return;
  }
  int64_t x = (int64_t)llround(v);
  prof_fmt_value(buf, n, x, unit, prof_pick_scale(x, unit, 0), is_signed);
}

void watch_fmt_span(char *buf, size_t n, double s) {
  if (s >= 120) snprintf(buf, n, "%.1f min", s / 60);
  else snprintf(buf, n, "%.1f s", s);
}

size_t watch_callers(const watch_suspect *s, const watch_frame **out, size_t max) {
  size_t k = 0;
  if (s->nstacks == 0) return 0;
  const watch_stack *st = &s->stacks[0];
  int past_site = 0;
  for (size_t i = 0; i < st->nframes && k < max; i++) {
    const watch_frame *f = &st->frames[i];
    if (!past_site) {
      past_site = !f->internal && strcmp(f->function, s->function) == 0;
      continue;
    }
    if (f->internal || strcmp(f->function, s->function) == 0) continue;
    out[k++] = f;
  }
  return k;
}

const char *watch_shown_path(const watch_info *in, const char *file, char *buf, size_t n) {
  const char *shown;
  char *found = in->source_dir && file[0] ? prof_find_source(file, in->source_dir, &shown) : NULL;
  snprintf(buf, n, "%s", found ? found : file);
  free(found);
  return buf;
}

static const char *base(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

/* The map a finding names, "Owner.map" or "map", into BUF. */
static const char *map_name(char *buf, size_t n, const scan_facts *fx) {
  if (fx == NULL || fx->map.n == 0) return "the map";
  snprintf(buf, n, "%.*s%s%.*s", (int)fx->owner.n, fx->owner.s, fx->owner.n ? "." : "", (int)fx->map.n, fx->map.s);
  return buf;
}

char *watch_link_text(const watch_link *l) {
  const scan_finding *f = l->finding;
  const scan_facts *fx = f->facts;
  char map[160], *out = NULL;
  int n = -1;
  switch (l->role) {
    case WATCH_LINK_CLOSURE:
      if (l->call_line > 0)
        n = asprintf(&out, "line %lld passes the allocation to %.*s, whose func literal captures %s and is stored in %s",
                     (long long)l->call_line, fx ? (int)fx->func.n : 0, fx ? fx->func.s : "",
                     l->variable ? l->variable : "it", map_name(map, sizeof map, fx));
      else if (l->strong)
        n = asprintf(&out, "the func literal in %.*s captures %s, declared at line %lld where the memory is allocated, "
                     "and is stored in %s%s%.*s",
                     fx ? (int)fx->func.n : 0, fx ? fx->func.s : "", l->variable, (long long)l->variable_line,
                     map_name(map, sizeof map, fx), fx && fx->via.n ? " through " : "", fx ? (int)fx->via.n : 0,
                     fx ? fx->via.s : "");
      else
        n = asprintf(&out, "a func literal in %.*s, on the stacks, is stored in %s: %s", fx ? (int)fx->func.n : 0,
                     fx ? fx->func.s : "", map_name(map, sizeof map, fx), f->message);
      break;
    case WATCH_LINK_MAP:
      n = asprintf(&out, "%s %s", map_name(map, sizeof map, fx),
                   fx && fx->map_shrinks ? "shrinks (something deletes from it): check that every handler is removed "
                                           "when its owner ends"
                                         : "never shrinks: nothing in the package deletes from it, so every func "
                                           "stored stays, with what it captured");
      break;
    case WATCH_LINK_REGISTER:
      n = asprintf(&out, "%.*s%s%.*s adds to %s and nothing removes what it adds", fx ? (int)fx->recv.n : 0,
                   fx ? fx->recv.s : "", fx && fx->recv.n ? "." : "", fx ? (int)fx->func.n : 0, fx ? fx->func.s : "",
                   map_name(map, sizeof map, fx));
      break;
    case WATCH_LINK_SITE:
      n = asprintf(&out, "%s", f->message);
      break;
  }
  return n < 0 ? NULL : out;
}

static const char *role_label(watch_link_role r) {
  switch (r) {
    case WATCH_LINK_CLOSURE: return "captured by";
    case WATCH_LINK_MAP: return "stored in";
    case WATCH_LINK_REGISTER: return "through";
    default: return "registered";
  }
}

static const char *role_name(watch_link_role r) {
  switch (r) {
    case WATCH_LINK_CLOSURE: return "closure";
    case WATCH_LINK_MAP: return "map";
    case WATCH_LINK_REGISTER: return "register";
    default: return "registration";
  }
}

/* ---- Text. ---- */

static void text_header(FILE *out, const watch_info *in) {
  const watch_result *r = in->r;
  char span[32], a[48], b[48], d[48], s[48];
  double whole = r->nsnaps ? r->snaps[r->nsnaps - 1].t : 0;
  watch_fmt_span(span, sizeof span, whole);
  fprintf(out, "tether watch: %zu snapshot%s of %s from %s over %s%s\n", r->nsnaps, r->nsnaps == 1 ? "" : "s",
          r->type, in->what, span, in->interrupted ? " (interrupted)" : "");
  for (size_t i = 0; i < in->nfailures; i++)
    fprintf(out, "skipped: %s: %s\n", in->failures[i].source, in->failures[i].error);
  if (r->judged_from > 0) {
    watch_fmt_span(span, sizeof span, r->snaps[r->judged_from].t);
    fprintf(out, "judged: from %s on (--skip), %zu snapshots\n", span, r->nsnaps - r->judged_from);
  }
  if (r->nsnaps == 0) return;
  watch_fmt(a, sizeof a, (double)r->snaps[r->judged_from < r->nsnaps ? r->judged_from : 0].total, r->unit, 0);
  watch_fmt(b, sizeof b, (double)r->snaps[r->nsnaps - 1].total, r->unit, 0);
  watch_fmt(d, sizeof d,
            (double)(r->snaps[r->nsnaps - 1].total - r->snaps[r->judged_from < r->nsnaps ? r->judged_from : 0].total),
            r->unit, 1);
  fprintf(out, "total: %s -> %s (%s)", a, b, d);
  if (r->total_fit_ok) {
    watch_fmt(s, sizeof s, r->total_fit.slope, r->unit, 1);
    fprintf(out, ", trend %s/min, Kendall tau %.2f", s, r->total_fit.tau);
  }
  fputc('\n', out);
}

static void text_verdict(FILE *out, const watch_info *in) {
  const watch_result *r = in->r;
  static const char *const k_color[] = {"\033[33m", "\033[32m", "\033[1;31m"};
  fprintf(out, "verdict: %s%s%s", in->color ? k_color[r->verdict] : "", verdict_name(r->verdict),
          in->color ? "\033[0m" : "");
  size_t judged = r->nsnaps - r->judged_from;
  if (r->verdict == WATCH_INSUFFICIENT && judged >= r->min_snapshots)
    fprintf(out, " (the snapshots judged were all taken at the same time: no trend can be fitted)");
  else if (r->verdict == WATCH_INSUFFICIENT)
    fprintf(out, " (%zu snapshot%s judged; at least %zu are needed)", judged, judged == 1 ? "" : "s",
            r->min_snapshots);
  else if (r->nsuspects > 0)
    fprintf(out, ": %zu suspect%s", r->nsuspects, r->nsuspects == 1 ? "" : "s");
  else if (r->verdict == WATCH_GROWING)
    fprintf(out, ": the total grows, but no single allocation site does enough to be a suspect");
  fputc('\n', out);
}

/* A frame as "function (file:line)". */
static void frame_text(FILE *out, const watch_frame *f) {
  fprintf(out, "%s (%s:%lld)", f->function, base(f->file), (long long)f->line);
}

static void text_links(FILE *out, const watch_info *in, const watch_suspect *s) {
  for (size_t k = 0; k < s->nlinks; k++) {
    const watch_link *l = &s->links[k];
    char *t = watch_link_text(l);
    fprintf(out, "   %-11s %s:%u: %s [%s]\n", role_label(l->role), l->finding->file, l->finding->line, t ? t : "",
            scan_rules[l->finding->rule].id);
    free(t);
  }
  if (s->nlinks == 0) {
    const watch_frame *callers[4];
    size_t nc = watch_callers(s, callers, 4);
    if (in->scan)
      fprintf(out, "   no finding of the scan of %s explains it; its top frames in user code: ", in->source_dir);
    else
      fprintf(out, "   (--source DIR links it to the code that keeps it alive); its top frames in user code: ");
    fprintf(out, "%s (%s:%lld)", s->function, base(s->file), (long long)s->line);
    for (size_t c = 0; c < nc; c++) {
      fputs(" <- ", out);
      frame_text(out, callers[c]);
    }
    fputc('\n', out);
  }
  char *fix = watch_fix(s);
  if (fix) fprintf(out, "   %-11s %s\n", "fix", fix);
  free(fix);
}

static void text_suspect(FILE *out, const watch_info *in, size_t i) {
  const watch_result *r = in->r;
  const watch_suspect *s = &r->suspects[i];
  char slope[48], growth[48], span[32], path[1024];
  watch_fmt(slope, sizeof slope, s->fit.slope, r->unit, 1);
  watch_fmt(growth, sizeof growth, s->fit.growth, r->unit, 1);
  watch_fmt_span(span, sizeof span, s->fit.span * 60);
  fprintf(out, "\n%zu. %s%s%s  %s/min  (%s over %s, Kendall tau %.2f)\n", i + 1, in->color ? "\033[1m" : "",
          s->function, in->color ? "\033[0m" : "", slope, growth, span, s->fit.tau);
  fprintf(out, "   %-11s %s at %s:%lld", "allocated", s->function, watch_shown_path(in, s->file, path, sizeof path),
          (long long)s->line);
  if (isfinite(s->line_fit.slope)) {
    watch_fmt(slope, sizeof slope, s->line_fit.slope, r->unit, 1);
    fprintf(out, ", %s/min", slope);
  }
  fputc('\n', out);
  const watch_frame *callers[4];
  size_t nc = watch_callers(s, callers, 4);
  if (nc > 0) {
    fprintf(out, "   %-11s ", "under");
    for (size_t c = 0; c < nc; c++) {
      if (c) fputs(" <- ", out);
      frame_text(out, callers[c]);
    }
    fputc('\n', out);
  }
  text_links(out, in, s);
}

/* Why a mover is no suspect, in words. */
static const char *failed_rule(const watch_mover *m) {
  const int *ok = m->ok;
  if ((!ok[TREND_HALVES] || !ok[TREND_LATE]) && m->fit.early_slope > 0)
    return "rose, then levelled off: the second half does not keep rising (a warm-up)";
  if (!ok[TREND_TAU]) return "no consistent rise: it goes up and down (a cache, or noise)";
  if (!ok[TREND_HALVES] || !ok[TREND_LATE]) return "the second half does not keep rising";
  if (!ok[TREND_GROWTH]) return "its fitted growth is below the minimum";
  if (!ok[TREND_REL]) return "its growth is small for its size";
  return "";
}

static void text_movers(FILE *out, const watch_result *r) {
  if (r->nmovers == 0) return;
  fputs("\nnot suspects:\n", out);
  for (size_t i = 0; i < r->nmovers; i++) {
    char g[48], t[48];
    watch_fmt(g, sizeof g, (double)r->movers[i].range, r->unit, 0);
    watch_fmt(t, sizeof t, r->movers[i].fit.slope, r->unit, 1);
    fprintf(out, "  %s  moved %s (trend %s/min, Kendall tau %.2f): %s\n", r->movers[i].function, g, t,
            r->movers[i].fit.tau, failed_rule(&r->movers[i]));
  }
}

void watch_print_text(FILE *out, const watch_info *in) {
  const watch_result *r = in->r;
  text_header(out, in);
  text_verdict(out, in);
  for (size_t i = 0; i < r->nsuspects; i++) text_suspect(out, in, i);
  text_movers(out, r);
  if (!isnan(in->gate)) {
    char rate[48], got[48];
    watch_fmt(rate, sizeof rate, in->gate, r->unit, 0);
    fprintf(out, "\ngate --fail-on-growth %s/min: ", rate);
    if (in->gate_tripped) {
      watch_fmt(got, sizeof got, in->gate_slope, r->unit, 1);
      fprintf(out, "TRIPPED (%s grows %s/min)\n", in->gate_series, got);
    } else {
      fprintf(out, "passed%s\n", r->verdict != WATCH_GROWING ? " (the verdict is not growing)" : "");
    }
  }
}

/* ---- JSON. ---- */

static void jnum(FILE *out, const char *key, double x) {
  if (isfinite(x)) fprintf(out, "\"%s\":%.6g", key, x);
  else fprintf(out, "\"%s\":null", key);
}

static void json_fit(FILE *out, const trend_fit *f) {
  jnum(out, "slope_per_min", f->slope);
  fputc(',', out);
  jnum(out, "tau", f->tau);
  fputc(',', out);
  jnum(out, "growth", f->growth);
  fputc(',', out);
  jnum(out, "early_slope_per_min", f->early_slope);
  fputc(',', out);
  jnum(out, "late_slope_per_min", f->late_slope);
}

static void json_values(FILE *out, const char *key, const int64_t *v, size_t n) {
  fprintf(out, "\"%s\":", key);
  if (v == NULL) {
    fputs("null", out);
    return;
  }
  fputc('[', out);
  for (size_t i = 0; i < n; i++) fprintf(out, "%s%lld", i ? "," : "", (long long)v[i]);
  fputc(']', out);
}

static void json_link(FILE *out, const watch_link *l) {
  const scan_finding *f = l->finding;
  fputs("{\"rule\":", out);
  tcli_json_string(out, scan_rules[f->rule].id);
  fputs(",\"role\":", out);
  tcli_json_string(out, role_name(l->role));
  fputs(",\"file\":", out);
  tcli_json_string(out, f->file);
  fprintf(out, ",\"line\":%u,\"message\":", f->line);
  tcli_json_string(out, f->message);
  char *t = watch_link_text(l);
  fputs(",\"explanation\":", out);
  tcli_json_string(out, t ? t : "");
  free(t);
  fputs(",\"hint\":", out);
  tcli_json_string(out, f->hint ? f->hint : "");
  if (l->variable) {
    fputs(",\"variable\":", out);
    tcli_json_string(out, l->variable);
    fprintf(out, ",\"variable_line\":%lld", (long long)l->variable_line);
  }
  if (l->call_line > 0) fprintf(out, ",\"call_line\":%lld", (long long)l->call_line);
  if (f->facts && f->facts->map.n) {
    char map[160];
    fputs(",\"map\":", out);
    tcli_json_string(out, map_name(map, sizeof map, f->facts));
    fprintf(out, ",\"map_shrinks\":%s", f->facts->map_shrinks ? "true" : "false");
  }
  fputc('}', out);
}

static void json_stack(FILE *out, const watch_stack *st) {
  fprintf(out, "{\"value\":%lld,\"growth\":%lld,\"frames\":[", (long long)st->value, (long long)st->growth);
  for (size_t k = 0; k < st->nframes; k++) {
    fputs(k ? ",{\"function\":" : "{\"function\":", out);
    tcli_json_string(out, st->frames[k].function);
    fputs(",\"file\":", out);
    tcli_json_string(out, st->frames[k].file);
    fprintf(out, ",\"line\":%lld,\"internal\":%s}", (long long)st->frames[k].line,
            st->frames[k].internal ? "true" : "false");
  }
  fputs("]}", out);
}

static void json_suspect(FILE *out, const watch_result *r, const watch_suspect *s) {
  fputs("{\"function\":", out);
  tcli_json_string(out, s->function);
  fputs(",\"file\":", out);
  tcli_json_string(out, s->file);
  fprintf(out, ",\"line\":%lld,", (long long)s->line);
  json_fit(out, &s->fit);
  fprintf(out, ",\"first\":%lld,\"last\":%lld,\"verdict\":\"growing\",", (long long)s->first, (long long)s->last);
  jnum(out, "line_slope_per_min", s->line_fit.slope);
  fputs(",\"series\":{", out);
  json_values(out, "site", s->site, r->nsnaps);
  fputc(',', out);
  json_values(out, "flat", s->flat, r->nsnaps);
  fputc(',', out);
  json_values(out, "cum", s->cum, r->nsnaps);
  fputs("},\"stacks\":[", out);
  for (size_t k = 0; k < s->nstacks; k++) {
    if (k) fputc(',', out);
    json_stack(out, &s->stacks[k]);
  }
  fputs("],\"links\":[", out);
  for (size_t k = 0; k < s->nlinks; k++) {
    if (k) fputc(',', out);
    json_link(out, &s->links[k]);
  }
  fputs("],\"fix\":", out);
  char *fix = watch_fix(s);
  if (fix) tcli_json_string(out, fix);
  else fputs("null", out);
  free(fix);
  fputc('}', out);
}

static void json_snapshots(FILE *out, const watch_result *r) {
  fputs("\"snapshot_list\":[", out);
  for (size_t i = 0; i < r->nsnaps; i++) {
    const watch_snap *s = &r->snaps[i];
    fprintf(out, "%s{\"seconds\":%.3f,\"time_nanos\":%lld,\"total\":%lld,\"judged\":%s,\"source\":", i ? "," : "",
            s->t, (long long)s->time_nanos, (long long)s->total, i >= r->judged_from ? "true" : "false");
    tcli_json_string(out, s->source ? s->source : "");
    fputs(",\"file\":", out);
    if (s->kept) tcli_json_string(out, s->kept);
    else fputs("null", out);
    fputc('}', out);
  }
  fputs("]", out);
}

void watch_print_json(FILE *out, const watch_info *in) {
  const watch_result *r = in->r;
  fputs("{\"tool\":\"tether watch\",\"version\":\"" TETHER_VERSION "\",\"source\":", out);
  tcli_json_string(out, in->what);
  fprintf(out, ",\"verdict\":\"%s\",\"snapshots\":%zu,\"judged_snapshots\":%zu,", verdict_name(r->verdict),
          r->nsnaps, r->nsnaps - r->judged_from);
  jnum(out, "span_seconds", r->nsnaps ? r->snaps[r->nsnaps - 1].t : 0);
  fputc(',', out);
  jnum(out, "skipped_seconds", r->judged_from < r->nsnaps ? r->snaps[r->judged_from].t : 0);
  fputs(",\"sample_type\":", out);
  tcli_json_string(out, r->type);
  fputs(",\"unit\":", out);
  tcli_json_string(out, r->unit);
  size_t f0 = r->judged_from < r->nsnaps ? r->judged_from : 0;
  fprintf(out, ",\"total\":{\"first\":%lld,\"last\":%lld,", r->nsnaps ? (long long)r->snaps[f0].total : 0,
          r->nsnaps ? (long long)r->snaps[r->nsnaps - 1].total : 0);
  if (r->total_fit_ok) json_fit(out, &r->total_fit);
  else fputs("\"slope_per_min\":null,\"tau\":null,\"growth\":null,\"early_slope_per_min\":null,"
             "\"late_slope_per_min\":null", out);
  fputs("},\"thresholds\":{", out);
  jnum(out, "min_growth", r->rules.min_growth);
  fputc(',', out);
  jnum(out, "min_rel", r->rules.min_rel);
  fputc(',', out);
  jnum(out, "min_tau", r->rules.min_tau);
  fputc(',', out);
  jnum(out, "late_ratio", r->rules.late_ratio);
  fputs("},\"suspects\":[", out);
  for (size_t i = 0; i < r->nsuspects; i++) {
    if (i) fputc(',', out);
    json_suspect(out, r, &r->suspects[i]);
  }
  fputs("],\"not_suspects\":[", out);
  for (size_t i = 0; i < r->nmovers; i++) {
    fputs(i ? ",{\"function\":" : "{\"function\":", out);
    tcli_json_string(out, r->movers[i].function);
    fputc(',', out);
    json_fit(out, &r->movers[i].fit);
    fprintf(out, ",\"range\":%lld,\"reason\":", (long long)r->movers[i].range);
    tcli_json_string(out, failed_rule(&r->movers[i]));
    fputc('}', out);
  }
  fputs("],", out);
  json_snapshots(out, r);
  fputs(",\"failures\":[", out);
  for (size_t i = 0; i < in->nfailures; i++) {
    fputs(i ? ",{\"source\":" : "{\"source\":", out);
    tcli_json_string(out, in->failures[i].source);
    fputs(",\"error\":", out);
    tcli_json_string(out, in->failures[i].error);
    fprintf(out, ",\"at_seconds\":%.3f}", in->failures[i].at);
  }
  fprintf(out, "],\"interrupted\":%s,\"gate\":", in->interrupted ? "true" : "false");
  if (isnan(in->gate)) {
    fputs("null", out);
  } else {
    fputc('{', out);
    jnum(out, "rate_per_min", in->gate);
    fprintf(out, ",\"tripped\":%s,\"series\":", in->gate_tripped ? "true" : "false");
    if (in->gate_series) tcli_json_string(out, in->gate_series);
    else fputs("null", out);
    fputc('}', out);
  }
  fputs(",\"linked\":", out);
  fputs(in->scan ? "true" : "false", out);
  fputs("}\n", out);
}
