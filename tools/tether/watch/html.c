/* The HTML page of `tether watch --html FILE`: one file, no external asset
 * (styles inline, charts inline SVG, no script), readable offline and in a CI
 * artifact. It holds the verdict and the total heap's chart, then per suspect
 * its chart (site series, with flat and cum, and the fitted trend), the chain
 * from the allocation to the map that keeps it, each link with its source
 * lines, and the fix; then what moved but is no suspect, and the snapshots. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "prof/listing.h"
#include "watch/report.h"

#define CTX_LINES 3 /* source lines shown before and after a linked line */

static void esc_n(FILE *out, const char *s, size_t n) {
  for (size_t i = 0; i < n && s[i]; i++) {
    switch (s[i]) {
      case '<': fputs("&lt;", out); break;
      case '>': fputs("&gt;", out); break;
      case '&': fputs("&amp;", out); break;
      case '"': fputs("&quot;", out); break;
      case '\t': fputs("    ", out); break;
      default:
        if ((unsigned char)s[i] >= 0x20 || s[i] == '\n') fputc(s[i], out);
    }
  }
}

static void esc(FILE *out, const char *s) { esc_n(out, s, strlen(s)); }

static const char k_style[] =
    ":root{--ink:#1d2430;--mute:#5b6575;--line:#e3e7ee;--bg:#f5f7fa;--card:#fff;--red:#c8323c;"
    "--green:#1e8a5a;--amber:#b7791f;--blue:#2563c9;--violet:#7b4bc4}"
    "*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--ink);"
    "font:15px/1.5 -apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}"
    "header{background:#16202e;color:#fff;padding:28px 40px 24px}"
    "header h1{margin:0;font-size:22px;font-weight:600;letter-spacing:.2px}"
    "header .src{color:#aab6c8;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;margin-top:4px;"
    "word-break:break-all}"
    ".badge{display:inline-block;padding:3px 12px;border-radius:999px;font-size:13px;font-weight:700;"
    "text-transform:uppercase;letter-spacing:.6px;vertical-align:middle;margin-left:10px}"
    ".growing{background:var(--red);color:#fff}.stable{background:var(--green);color:#fff}"
    ".insufficient{background:var(--amber);color:#fff}"
    ".stats{display:flex;gap:28px;flex-wrap:wrap;margin-top:18px}"
    ".stat b{display:block;font-size:20px;font-weight:600}.stat span{color:#aab6c8;font-size:12px;"
    "text-transform:uppercase;letter-spacing:.5px}"
    "main{max-width:1120px;margin:0 auto;padding:24px 40px 60px}"
    "section.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:22px 26px;"
    "margin:20px 0;box-shadow:0 1px 2px rgba(16,24,40,.05)}"
    "h2{margin:0 0 12px;font-size:18px}h2 .rank{color:var(--mute);font-weight:500;margin-right:6px}"
    "code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}"
    ".pill{display:inline-block;background:#fdecee;color:var(--red);border-radius:6px;padding:1px 8px;"
    "font-weight:600;font-size:13px;margin-left:8px}"
    ".muted{color:var(--mute)}svg{display:block;max-width:100%;height:auto}"
    ".chain{list-style:none;margin:16px 0 0;padding:0}"
    ".chain li{position:relative;padding:0 0 16px 34px;border-left:2px solid var(--line);margin-left:9px}"
    ".chain li:last-child{border-left-color:transparent}"
    ".chain li:before{content:'';position:absolute;left:-9px;top:2px;width:16px;height:16px;border-radius:50%;"
    "background:#fff;border:3px solid var(--blue)}"
    ".chain li.alloc:before{border-color:var(--red)}.chain li.closure:before{border-color:var(--violet)}"
    ".chain li.map:before{border-color:var(--amber)}.chain li.fix:before{border-color:var(--green);"
    "background:var(--green)}"
    ".step{font-size:12px;text-transform:uppercase;letter-spacing:.6px;color:var(--mute);font-weight:600}"
    ".where{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;color:var(--blue)}"
    ".rule{display:inline-block;font-size:11px;font-weight:700;border:1px solid var(--line);border-radius:4px;"
    "padding:0 5px;margin-left:6px;color:var(--mute)}"
    "pre.src{background:#0f1722;color:#d6deeb;border-radius:8px;padding:10px 0;margin:8px 0 0;overflow-x:auto;"
    "font-size:12.5px;line-height:1.55}"
    "pre.src span{display:block;padding:0 14px}pre.src span.hit{background:#3b2a12;color:#ffd9a0}"
    "pre.src i{display:inline-block;width:3.2em;color:#5f6f86;font-style:normal;text-align:right;"
    "margin-right:14px;user-select:none}"
    ".fixbox{background:#eaf7f0;border:1px solid #bfe5d2;color:#134e35;border-radius:8px;padding:12px 16px;"
    "margin-top:6px}"
    "table{border-collapse:collapse;width:100%;font-size:13.5px}th,td{text-align:left;padding:7px 10px;"
    "border-bottom:1px solid var(--line)}th{color:var(--mute);font-weight:600;font-size:12px;"
    "text-transform:uppercase;letter-spacing:.5px}td.num{text-align:right;font-variant-numeric:tabular-nums}"
    "details summary{cursor:pointer;color:var(--blue)}footer{color:var(--mute);font-size:12px;text-align:center;"
    "padding:20px}";

static const char *verdict_name(int v) {
  return v == WATCH_GROWING ? "growing" : v == WATCH_STABLE ? "stable" : "insufficient";
}

/* ---- Charts. ---- */

typedef struct chart {
  double w, h, l, r, t, b; /* size and plot margins */
  double x1, ymin, ymax;   /* data ranges: x from 0 (seconds), y */
  int minutes;             /* x axis in minutes */
} chart;

static double cx(const chart *c, double x) { return c->l + x / (c->x1 > 0 ? c->x1 : 1) * (c->w - c->l - c->r); }

static double cy(const chart *c, double y) {
  double span = c->ymax > c->ymin ? c->ymax - c->ymin : 1;
  return c->h - c->b - (y - c->ymin) / span * (c->h - c->t - c->b);
}

static double nice_step(double range) {
  if (range <= 0) return 1;
  double raw = range / 4, p = pow(10, floor(log10(raw))), m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static void axes(FILE *out, const chart *c, const char *unit) {
  double step = nice_step(c->ymax - c->ymin);
  for (int i = 0; i <= 12; i++) {
    double y = ceil(c->ymin / step) * step + i * step;
    if (y > c->ymax * 1.0001) break;
    char label[48];
    watch_fmt(label, sizeof label, y, unit, 0);
    fprintf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#edf0f5\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#5b6575\">%s</text>\n",
            c->l, c->w - c->r, cy(c, y), cy(c, y), c->l - 8, cy(c, y) + 4, label);
  }
  double scale = c->minutes ? 60 : 1, xstep = nice_step(c->x1 / scale);
  for (int i = 0; i <= 12; i++) {
    double x = i * xstep;
    if (x * scale > c->x1 * 1.0001) break;
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#5b6575\">%g</text>\n",
            cx(c, x * scale), c->h - c->b + 18, x);
  }
  fprintf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#c4cbd6\"/>", c->l, c->w - c->r,
          c->h - c->b, c->h - c->b);
  fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#5b6575\">%s</text>\n", c->w - c->r,
          c->h - c->b + 34, c->minutes ? "minutes since the first snapshot" : "seconds since the first snapshot");
}

/* A series: a line through the points and a dot per snapshot (with its value
 * as a tooltip). */
static void line(FILE *out, const chart *c, const watch_result *r, const int64_t *v, const char *color,
                 double width, int dots, const char *label) {
  fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\" stroke-linejoin=\"round\" points=\"",
          color, width);
  for (size_t i = 0; i < r->nsnaps; i++) fprintf(out, "%.1f,%.1f ", cx(c, r->snaps[i].t), cy(c, (double)v[i]));
  fputs("\"/>\n", out);
  if (!dots) return;
  for (size_t i = 0; i < r->nsnaps; i++) {
    char val[48];
    watch_fmt(val, sizeof val, (double)v[i], r->unit, 0);
    fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"#fff\" stroke=\"%s\" stroke-width=\"2\">"
            "<title>%s %s at %.1f s</title></circle>\n",
            cx(c, r->snaps[i].t), cy(c, (double)v[i]), color, label, val, r->snaps[i].t);
  }
}

static void trend_line(FILE *out, const chart *c, const watch_result *r, const trend_fit *f) {
  if (!isfinite(f->slope) || r->judged_from >= r->nsnaps) return;
  double x0 = r->snaps[r->judged_from].t, x1 = r->snaps[r->nsnaps - 1].t;
  double y0 = f->intercept + f->slope * (x0 / 60 - f->x0), y1 = f->intercept + f->slope * (x1 / 60 - f->x0);
  fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c8323c\" stroke-width=\"2.5\" "
          "stroke-dasharray=\"7 5\" clip-path=\"url(#%s)\"/>\n",
          cx(c, x0), cy(c, y0), cx(c, x1), cy(c, y1), "plotclip");
}

/* A chart of the series V[0..NV) (the first is the main one), with the trend F. */
static void chart_svg(FILE *out, const watch_result *r, const int64_t *const *v, const char *const *colors,
                      const char *const *labels, size_t nv, const trend_fit *f, double height) {
  chart c = {880, height, 78, 20, 14, 44, 0, 0, 1, 0};
  c.x1 = r->nsnaps ? r->snaps[r->nsnaps - 1].t : 1;
  if (c.x1 <= 0) c.x1 = 1;
  c.minutes = c.x1 >= 120;
  double lo = INFINITY, hi = -INFINITY;
  for (size_t k = 0; k < nv; k++)
    for (size_t i = 0; v[k] && i < r->nsnaps; i++) {
      lo = fmin(lo, (double)v[k][i]);
      hi = fmax(hi, (double)v[k][i]);
    }
  if (!isfinite(lo)) lo = 0, hi = 1;
  c.ymin = lo >= 0 ? 0 : lo * 1.05;
  c.ymax = hi > c.ymin ? hi * 1.08 : c.ymin + 1;
  fprintf(out, "<svg viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" font-size=\"11\" "
          "font-family=\"-apple-system,Segoe UI,Roboto,Arial,sans-serif\" role=\"img\">\n",
          c.w, c.h, c.w, c.h);
  fprintf(out, "<clipPath id=\"plotclip\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/></clipPath>\n",
          c.l, c.t, c.w - c.l - c.r, c.h - c.t - c.b);
  if (r->judged_from > 0 && r->judged_from < r->nsnaps)
    fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#f1f3f7\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" fill=\"#8a94a6\">skipped</text>\n",
            c.l, c.t, cx(&c, r->snaps[r->judged_from].t) - c.l, c.h - c.t - c.b, c.l + 6, c.t + 14);
  axes(out, &c, r->unit);
  /* An area under the main series. */
  if (v[0] && r->nsnaps > 1) {
    fprintf(out, "<path fill=\"%s\" fill-opacity=\"0.10\" d=\"M%.1f %.1f", colors[0], cx(&c, r->snaps[0].t),
            cy(&c, c.ymin));
    for (size_t i = 0; i < r->nsnaps; i++) fprintf(out, "L%.1f %.1f", cx(&c, r->snaps[i].t), cy(&c, (double)v[0][i]));
    fprintf(out, "L%.1f %.1fZ\"/>\n", cx(&c, r->snaps[r->nsnaps - 1].t), cy(&c, c.ymin));
  }
  for (size_t k = nv; k-- > 0;)
    if (v[k]) line(out, &c, r, v[k], colors[k], k == 0 ? 2.5 : 1.5, k == 0, labels[k]);
  if (f) trend_line(out, &c, r, f);
  /* The legend. */
  double lx = c.l + 8;
  for (size_t k = 0; k < nv; k++) {
    if (!v[k]) continue;
    fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"3\" fill=\"%s\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" fill=\"#1d2430\">%s</text>\n",
            lx, c.t + 2, colors[k], lx + 16, c.t + 6, labels[k]);
    lx += 30 + 6.2 * (double)strlen(labels[k]);
  }
  if (f && isfinite(f->slope)) {
    char s[48];
    watch_fmt(s, sizeof s, f->slope, r->unit, 1);
    fprintf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#c8323c\" stroke-width=\"2\" "
            "stroke-dasharray=\"5 3\"/><text x=\"%.1f\" y=\"%.1f\" fill=\"#c8323c\">trend %s/min</text>\n",
            lx, lx + 14, c.t + 3, c.t + 3, lx + 18, c.t + 6, s);
  }
  fputs("</svg>\n", out);
}

/* ---- Source excerpts. ---- */

/* The bytes of FILE: a scanned file's buffer when the scan has it, else read
 * from disk into *OWNED (which the caller frees). */
static const char *file_text(const watch_info *in, const char *file, size_t *len, unsigned char **owned) {
  *owned = NULL;
  if (in->scan)
    for (size_t i = 0; i < in->scan->nfiles; i++)
      if (strcmp(in->scan->files[i].path, file) == 0 && in->scan->files[i].data) {
        *len = in->scan->files[i].len;
        return (const char *)in->scan->files[i].data;
      }
  if (tcli_read_file(file, 8u << 20, owned, len) != 0) return NULL;
  return (const char *)*owned;
}

/* Lines LINE-CTX_LINES .. LINE+CTX_LINES of FILE, LINE highlighted. */
static void excerpt(FILE *out, const watch_info *in, const char *file, int64_t line) {
  size_t len;
  unsigned char *owned;
  const char *text = file && line > 0 ? file_text(in, file, &len, &owned) : NULL;
  if (text == NULL) return;
  const char *p = text, *end = text + len;
  fputs("<pre class=\"src\">", out);
  for (int64_t l = 1; p < end && l <= line + CTX_LINES; l++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *e = nl ? nl : end;
    if (l >= line - CTX_LINES) {
      fprintf(out, "<span%s><i>%lld</i>", l == line ? " class=\"hit\"" : "", (long long)l);
      esc_n(out, p, (size_t)(e - p));
      fputs("</span>", out);
    }
    p = nl ? nl + 1 : end;
  }
  fputs("</pre>\n", out);
  free(owned);
}

/* ---- The page. ---- */

static void head(FILE *out, const watch_info *in) {
  const watch_result *r = in->r;
  char span[32], a[48], b[48], s[48];
  fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        "<title>tether watch: ", out);
  esc(out, verdict_name(r->verdict));
  fprintf(out, "</title><style>%s</style></head><body>\n<header><h1>tether watch<span class=\"badge %s\">%s</span>"
          "</h1><div class=\"src\">",
          k_style, verdict_name(r->verdict), verdict_name(r->verdict));
  esc(out, in->what);
  fputs("</div><div class=\"stats\">", out);
  watch_fmt_span(span, sizeof span, r->nsnaps ? r->snaps[r->nsnaps - 1].t : 0);
  fprintf(out, "<div class=\"stat\"><b>%zu</b><span>snapshots</span></div>", r->nsnaps);
  fprintf(out, "<div class=\"stat\"><b>%s</b><span>watched</span></div>", span);
  fprintf(out, "<div class=\"stat\"><b>");
  esc(out, r->type);
  fputs("</b><span>sample type</span></div>", out);
  if (r->nsnaps) {
    watch_fmt(a, sizeof a, (double)r->snaps[r->judged_from < r->nsnaps ? r->judged_from : 0].total, r->unit, 0);
    watch_fmt(b, sizeof b, (double)r->snaps[r->nsnaps - 1].total, r->unit, 0);
    fprintf(out, "<div class=\"stat\"><b>%s &rarr; %s</b><span>total</span></div>", a, b);
  }
  if (r->total_fit_ok) {
    watch_fmt(s, sizeof s, r->total_fit.slope, r->unit, 1);
    fprintf(out, "<div class=\"stat\"><b>%s/min</b><span>total trend (tau %.2f)</span></div>", s, r->total_fit.tau);
  }
  fprintf(out, "<div class=\"stat\"><b>%zu</b><span>suspect%s</span></div>", r->nsuspects,
          r->nsuspects == 1 ? "" : "s");
  fputs("</div></header>\n<main>\n", out);
}

static void total_card(FILE *out, const watch_info *in, int64_t *totals) {
  const watch_result *r = in->r;
  for (size_t i = 0; i < r->nsnaps; i++) totals[i] = r->snaps[i].total;
  const int64_t *v[1] = {totals};
  const char *colors[1] = {"#2563c9"}, *labels[1] = {"total"};
  fputs("<section class=\"card\"><h2>Total heap</h2>", out);
  if (r->verdict == WATCH_INSUFFICIENT && r->nsnaps - r->judged_from >= r->min_snapshots)
    fputs("<p class=\"muted\">The snapshots judged were all taken at the same time: no trend can be fitted.</p>",
          out);
  else if (r->verdict == WATCH_INSUFFICIENT)
    fprintf(out, "<p class=\"muted\">Too few snapshots to judge: %zu judged, at least %zu are needed.</p>",
            r->nsnaps - r->judged_from, r->min_snapshots);
  else if (r->verdict == WATCH_STABLE)
    fputs("<p class=\"muted\">Nothing grows steadily: no allocation site passes the rules of a leak.</p>", out);
  chart_svg(out, r, v, colors, labels, 1, r->total_fit_ok ? &r->total_fit : NULL, 280);
  if (!isnan(in->gate)) {
    char rate[48], got[48];
    watch_fmt(rate, sizeof rate, in->gate, r->unit, 0);
    fprintf(out, "<p>Gate <code>--fail-on-growth %s</code> (per minute): <b>%s</b>", rate,
            in->gate_tripped ? "tripped" : "passed");
    if (in->gate_tripped) {
      watch_fmt(got, sizeof got, in->gate_slope, r->unit, 1);
      fputs(", by <code>", out);
      esc(out, in->gate_series);
      fprintf(out, "</code> at %s/min", got);
    }
    fputs("</p>", out);
  }
  fputs("</section>\n", out);
}

static const char *role_class(watch_link_role role) {
  return role == WATCH_LINK_CLOSURE ? "closure" : role == WATCH_LINK_MAP ? "map" : "register";
}

static const char *role_step(watch_link_role role) {
  switch (role) {
    case WATCH_LINK_CLOSURE: return "captured by a stored closure";
    case WATCH_LINK_REGISTER: return "through a Register-like function";
    case WATCH_LINK_MAP: return "kept in a map that never lets go";
    default: return "registered here";
  }
}

static void chain(FILE *out, const watch_info *in, const watch_suspect *s) {
  const watch_result *r = in->r;
  char path[1024], rate[48];
  fputs("<ol class=\"chain\">", out);
  watch_shown_path(in, s->file, path, sizeof path);
  watch_fmt(rate, sizeof rate, isfinite(s->line_fit.slope) ? s->line_fit.slope : s->fit.slope, r->unit, 1);
  fputs("<li class=\"alloc\"><div class=\"step\">allocated</div><code>", out);
  esc(out, s->function);
  fprintf(out, "</code> at <span class=\"where\">");
  esc(out, path);
  fprintf(out, ":%lld</span>, %s/min", (long long)s->line, rate);
  const watch_frame *callers[5];
  size_t nc = watch_callers(s, callers, 5);
  if (nc) {
    fputs("<div class=\"muted mono\">under ", out);
    for (size_t c = 0; c < nc; c++) {
      if (c) fputs(" &larr; ", out);
      esc(out, callers[c]->function);
    }
    fputs("</div>", out);
  }
  excerpt(out, in, path, s->line);
  fputs("</li>", out);
  for (size_t k = 0; k < s->nlinks; k++) {
    const watch_link *l = &s->links[k];
    char *t = watch_link_text(l);
    fprintf(out, "<li class=\"%s\"><div class=\"step\">%s<span class=\"rule\">%s</span></div>"
            "<span class=\"where\">", role_class(l->role), role_step(l->role), scan_rules[l->finding->rule].id);
    esc(out, l->finding->file);
    fprintf(out, ":%u</span> ", l->finding->line);
    esc(out, t ? t : "");
    free(t);
    excerpt(out, in, l->finding->file, l->finding->line);
    fputs("</li>", out);
  }
  char *fix = watch_fix(s);
  if (fix) {
    fputs("<li class=\"fix\"><div class=\"step\">fix</div><div class=\"fixbox\">", out);
    esc(out, fix);
    fputs("</div></li>", out);
  } else {
    fputs("<li class=\"fix\"><div class=\"step\">no finding explains it</div><p class=\"muted\">", out);
    fputs(in->scan ? "The scan of the source found nothing on these stacks; look at the frames above."
                   : "Run with <code>--source DIR</code> to link it to the code that keeps it alive.",
          out);
    fputs("</p></li>", out);
  }
  free(fix);
  fputs("</ol>\n", out);
}

static void suspect_card(FILE *out, const watch_info *in, size_t i) {
  const watch_result *r = in->r;
  const watch_suspect *s = &r->suspects[i];
  char slope[48], growth[48], span[32];
  watch_fmt(slope, sizeof slope, s->fit.slope, r->unit, 1);
  watch_fmt(growth, sizeof growth, s->fit.growth, r->unit, 1);
  watch_fmt_span(span, sizeof span, s->fit.span * 60);
  fprintf(out, "<section class=\"card\"><h2><span class=\"rank\">#%zu</span><code>", i + 1);
  esc(out, s->function);
  fprintf(out, "</code><span class=\"pill\">%s/min</span></h2>"
          "<div class=\"muted\">%s over %s, Kendall tau %.2f; both halves rise</div>\n",
          slope, growth, span, s->fit.tau);
  const int64_t *v[3] = {s->site, s->cum, s->flat};
  const char *colors[3] = {"#c8323c", "#7b4bc4", "#b7791f"};
  const char *labels[3] = {"allocation site", "cum", "flat"};
  chart_svg(out, r, v, colors, labels, 3, &s->fit, 240);
  chain(out, in, s);
  fputs("</section>\n", out);
}

static void rest(FILE *out, const watch_info *in) {
  const watch_result *r = in->r;
  if (r->nmovers) {
    fputs("<section class=\"card\"><h2>Not suspects</h2><table><tr><th>function</th><th>moved</th><th>trend</th>"
          "<th>tau</th><th>why not</th></tr>",
          out);
    for (size_t i = 0; i < r->nmovers; i++) {
      char g[48], t[48];
      watch_fmt(g, sizeof g, (double)r->movers[i].range, r->unit, 0);
      watch_fmt(t, sizeof t, r->movers[i].fit.slope, r->unit, 1);
      fputs("<tr><td class=\"mono\">", out);
      esc(out, r->movers[i].function);
      fprintf(out, "</td><td class=\"num\">%s</td><td class=\"num\">%s/min</td><td class=\"num\">%.2f</td><td>", g, t,
              r->movers[i].fit.tau);
      int levelled = (!r->movers[i].ok[TREND_HALVES] || !r->movers[i].ok[TREND_LATE]) && r->movers[i].fit.early_slope > 0;
      fputs(levelled ? "rose, then levelled off (a warm-up)"
                     : !r->movers[i].ok[TREND_TAU] ? "no consistent rise (a cache, or noise)" : "below the minimum growth",
            out);
      fputs("</td></tr>", out);
    }
    fputs("</table></section>\n", out);
  }
  fputs("<section class=\"card\"><details><summary>Snapshots</summary><table><tr><th>#</th><th>seconds</th>"
        "<th>total</th><th>kept as</th></tr>",
        out);
  for (size_t i = 0; i < r->nsnaps; i++) {
    char t[48];
    watch_fmt(t, sizeof t, (double)r->snaps[i].total, r->unit, 0);
    fprintf(out, "<tr><td>%zu</td><td class=\"num\">%.1f</td><td class=\"num\">%s</td><td class=\"mono\">", i + 1,
            r->snaps[i].t, t);
    esc(out, r->snaps[i].kept ? r->snaps[i].kept : "");
    fputs("</td></tr>", out);
  }
  fputs("</table></details>", out);
  for (size_t i = 0; i < in->nfailures; i++) {
    fputs("<p class=\"muted\">skipped: <code>", out);
    esc(out, in->failures[i].source);
    fputs("</code>: ", out);
    esc(out, in->failures[i].error);
    fputs("</p>", out);
  }
  fputs("</section>\n", out);
}

int watch_write_html(FILE *out, const watch_info *in) {
  const watch_result *r = in->r;
  int64_t *totals = malloc((r->nsnaps ? r->nsnaps : 1) * sizeof *totals);
  if (totals == NULL) return -1;
  head(out, in);
  total_card(out, in, totals);
  for (size_t i = 0; i < r->nsuspects; i++) suspect_card(out, in, i);
  rest(out, in);
  fputs("</main><footer>tether " TETHER_VERSION " &middot; tether watch</footer></body></html>\n", out);
  free(totals);
  return ferror(out) ? -1 : 0;
}
