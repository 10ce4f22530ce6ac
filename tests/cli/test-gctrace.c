/* tether gctrace internals: the line parser on lines in every layout the Go runtime
 * prints, the streaming splitter, the rejoining of split lines, the trend fit and
 * the verdict rules. */
#include <math.h>
#include <stdlib.h>

#include "gctrace/gctrace.h"
#include "runner.h"

#define NEAR(a, b, eps) (fabs((double)(a) - (double)(b)) <= (eps))

static const char k_go118[] =
    "gc 5 @0.069s 2%: 0.025+0.76+0.004 ms clock, 0.051+0/0.35/0.83+0.008 ms cpu, 19->19->18 MB, "
    "30 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)";
static const char k_go115[] =
    "gc 1 @0.012s 1%: 0.011+0.35+0.003 ms clock, 0.045+0.15/0.28/0.40+0.014 ms cpu, 4->4->0 MB, "
    "5 MB goal, 4 P";

static gct_kind parse(const char *s, gct_gc *g) { return gct_parse_line(s, strlen(s), g); }

TEST(gctrace_parse_go118_forced) {
  gct_gc g;
  CHECK_EQ(parse(k_go118, &g), GCT_GC);
  CHECK_EQ(g.num, 5);
  CHECK(NEAR(g.t, 0.069, 1e-12));
  CHECK_EQ(g.cpu_pct, 2);
  CHECK_EQ(g.heap_start, 19);
  CHECK_EQ(g.heap_end, 19);
  CHECK_EQ(g.live, 18);
  CHECK_EQ(g.goal, 30);
  CHECK(NEAR(g.pause_ms, 0.029, 1e-6));
  CHECK_EQ(g.format, GCT_FMT_GO118);
  CHECK_EQ(g.flags, GCT_FLAG_FORCED);
}

TEST(gctrace_parse_go115) {
  gct_gc g;
  CHECK_EQ(parse(k_go115, &g), GCT_GC);
  CHECK_EQ(g.num, 1);
  CHECK(NEAR(g.t, 0.012, 1e-12));
  CHECK_EQ(g.live, 0);
  CHECK_EQ(g.heap_start, 4);
  CHECK_EQ(g.goal, 5);
  CHECK_EQ(g.format, GCT_FMT_GO15);
  CHECK_EQ(g.flags, 0);
}

TEST(gctrace_parse_whole_ms_and_bare_zero) {
  gct_gc g;
  CHECK_EQ(parse("gc 1204 @3601.250s 7%: 0+104+12 ms clock, 0+80/410/1200+48 ms cpu, "
                 "912->950->488 MB, 977 MB goal, 2 MB stacks, 1 MB globals, 16 P", &g), GCT_GC);
  CHECK_EQ(g.num, 1204);
  CHECK(NEAR(g.t, 3601.25, 1e-9));
  CHECK_EQ(g.cpu_pct, 7);
  CHECK(NEAR(g.pause_ms, 12, 1e-6));
  CHECK_EQ(g.live, 488);
  CHECK_EQ(g.goal, 977);
}

TEST(gctrace_parse_scavenger_lines) {
  gct_gc g;
  CHECK_EQ(parse("scav 0 KiB work (bg), 0 KiB work (eager), 1234 KiB now, 95% util", &g), GCT_SCAV);
  CHECK_EQ(parse("scav 12# KiB work, 4096 KiB total, 88% util", &g), GCT_SCAV);
  CHECK_EQ(parse("scvg0: inuse: 3, idle: 0, sys: 3, released: 0, consumed: 3 (MB)", &g), GCT_SCAV);
}

TEST(gctrace_parse_other_lines) {
  gct_gc g;
  CHECK_EQ(parse("round 5: 120 handlers registered", &g), GCT_OTHER);
  CHECK_EQ(parse("", &g), GCT_OTHER);
  CHECK_EQ(parse("gc is a garbage collector", &g), GCT_OTHER);
  CHECK_EQ(parse("gcx 1 @0.1s 1%:", &g), GCT_OTHER);
  CHECK_EQ(parse("GC 1 @0.1s", &g), GCT_OTHER);
}

TEST(gctrace_parse_malformed_and_truncated) {
  gct_gc g;
  CHECK_EQ(parse("gc 26 @0.255s round 5: 120 handlers registered", &g), GCT_MALFORMED);
  char cut[sizeof k_go118];
  /* Every proper prefix that ends before the "P" is malformed, never a GC. */
  size_t full = strlen(k_go118), p_at = (size_t)(strstr(k_go118, " P") - k_go118);
  for (size_t n = 4; n <= p_at; n++) {
    memcpy(cut, k_go118, n);
    CHECK_EQ(gct_parse_line(cut, n, &g), GCT_MALFORMED);
  }
  CHECK_EQ(gct_parse_line(k_go118, full, &g), GCT_GC);
}

TEST(gctrace_parse_absurd_numbers) {
  gct_gc g;
  CHECK_EQ(parse("gc 1 @99999999999999999999.5s 1%: 0+0+0 ms clock, 0+0/0/0+0 ms cpu, 1->1->1 MB, 4 MB goal, 1 P",
                 &g), GCT_MALFORMED);
  CHECK_EQ(parse("gc 1 @1.0s 1%: 0+0+0 ms clock, 0+0/0/0+0 ms cpu, 1->1->99999999999999 MB, 4 MB goal, 1 P", &g),
           GCT_MALFORMED);
  CHECK_EQ(parse("gc 99999999999 @1.0s 999%: 0+0+0 ms clock, 0+0/0/0+0 ms cpu, 1->1->1 MB, 4 MB goal, 1 P", &g),
           GCT_GC);
  CHECK_EQ(g.num, UINT32_MAX);
  CHECK_EQ(g.cpu_pct, 255);
  CHECK_EQ(parse("gc 3 @1.s 1%: 0+0+0 ms clock, 0+0/0/0+0 ms cpu, 1->1->1 MB, 4 MB goal, 1 P", &g), GCT_MALFORMED);
}

TEST(gctrace_parse_nul_bytes_and_prefixes) {
  gct_gc g;
  char line[512];
  size_t n = (size_t)snprintf(line, sizeof line, "xy%c%s", 0, k_go115);
  CHECK_EQ(gct_parse_line(line, n, &g), GCT_GC);
  CHECK_EQ(g.goal, 5);
  n = (size_t)snprintf(line, sizeof line, "%s", k_go115);
  line[20] = 0; /* a NUL inside the clock times */
  CHECK_EQ(gct_parse_line(line, n, &g), GCT_MALFORMED);
  CHECK_EQ(parse("round 7 finishedgc 1 @0.012s 1%: 0.011+0.35+0.003 ms clock, 0.045+0.15/0.28/0.40+0.014 "
                 "ms cpu, 4->4->3 MB, 5 MB goal, 4 P", &g), GCT_GC);
  CHECK_EQ(g.live, 3);
}

/* Feeds TEXT to a fresh trace in pieces of STEP bytes. */
static void feed(gct_trace *tr, const char *text, size_t len, size_t step) {
  memset(tr, 0, sizeof *tr);
  for (size_t i = 0; i < len; i += step) gct_trace_feed(tr, text + i, len - i < step ? len - i : step);
  gct_trace_finish(tr);
}

TEST(gctrace_stream_chunking_crlf_and_no_final_newline) {
  char text[2048];
  int n = snprintf(text, sizeof text, "hello\r\n%s\r\nother\n\n%s\r\n%s", k_go115, k_go118, k_go115);
  gct_trace a, b;
  feed(&a, text, (size_t)n, (size_t)n);
  feed(&b, text, (size_t)n, 1);
  CHECK_EQ(a.lines, 6);
  CHECK_EQ(a.n_gcs, 3);
  CHECK_EQ(a.other, 3);
  CHECK_EQ(a.forced, 1);
  CHECK_EQ(b.lines, a.lines);
  CHECK_EQ(b.n_gcs, a.n_gcs);
  CHECK(memcmp(a.gcs, b.gcs, a.n_gcs * sizeof *a.gcs) == 0);
  CHECK_EQ(a.fmt_seen[GCT_FMT_GO15], 2);
  CHECK_EQ(a.fmt_seen[GCT_FMT_GO118], 1);
  gct_trace_free(&a);
  gct_trace_free(&b);
}

TEST(gctrace_stream_very_long_line) {
  size_t big = 100000;
  char *text = malloc(big + 512);
  CHECK(text != NULL);
  memset(text, 'x', big);
  memcpy(text, "gc 1 @", 6); /* looks like a gc line but is far too long to be one */
  int n = snprintf(text + big, 512, "\n%s\n", k_go115);
  gct_trace tr;
  feed(&tr, text, big + (size_t)n, 4000);
  free(text);
  CHECK_EQ(tr.lines, 2);
  CHECK_EQ(tr.n_gcs, 1);
  CHECK_EQ(tr.other, 1);
  gct_trace_free(&tr);
}

/* Lines 29-32 of tests/fixtures/go/out/leaky.gctrace: the runtime's line for GC 26
 * was cut in two by the program's own output. */
static const char k_split[] =
    "gc 25 @0.255s 0%: 0.017+0.17+0.003 ms clock, 0.035+0.057/0.095/0+0.007 ms cpu, 9->10->10 MB, 8 MB goal, 0 MB "
    "stacks, 0 MB globals, 2 P\n"
    "gc 26 @0.255s round 5: 120 handlers registered\n"
    "0%: 0.011+0.099+0.012 ms clock, 0.022+0.037/0.024/0.036+0.024 ms cpu, 11->12->10 MB, 12 MB goal, 0 MB stacks, "
    "0 MB globals, 2 P\n"
    "gc 27 @0.316s 0%: 0.020+0.23+0.013 ms clock, 0.041+0.041/0.096/0.033+0.026 ms cpu, 11->11->10 MB, 12 MB "
    "goal, 0 MB stacks, 0 MB globals, 2 P\n";

TEST(gctrace_stream_rejoins_split_line) {
  gct_trace tr;
  feed(&tr, k_split, strlen(k_split), 7);
  CHECK_EQ(tr.n_gcs, 3);
  CHECK_EQ(tr.rejoined, 1);
  CHECK_EQ(tr.malformed, 0);
  CHECK_EQ(tr.gcs[1].num, 26);
  CHECK(NEAR(tr.gcs[1].t, 0.255, 1e-12));
  CHECK_EQ(tr.gcs[1].heap_start, 11);
  CHECK_EQ(tr.gcs[1].live, 10);
  CHECK_EQ(tr.gcs[1].goal, 12);
  CHECK_EQ(tr.gcs[2].num, 27);
  gct_trace_free(&tr);
}

TEST(gctrace_stream_unjoinable_split_is_malformed) {
  const char *text = "gc 26 @0.255s round 5\nround 6\nround 7\nround 8\nround 9\nround 10\nround 11\n";
  gct_trace tr;
  feed(&tr, text, strlen(text), 5);
  CHECK_EQ(tr.n_gcs, 0);
  CHECK_EQ(tr.malformed, 1);
  CHECK_EQ(tr.rejoined, 0);
  gct_trace_free(&tr);
}

/* Builds a trace of N GCs over SECONDS whose live heap is LIVE(i) MB. */
static void synth(gct_trace *tr, size_t n, double seconds, double (*live)(size_t i, size_t n)) {
  memset(tr, 0, sizeof *tr);
  char line[512];
  for (size_t i = 0; i < n; i++) {
    double c = floor(live(i, n));
    int len = snprintf(line, sizeof line,
                       "gc %zu @%.3fs 1%%: 0.02+0.5+0.01 ms clock, 0.04+0.1/0.2/0.3+0.02 ms cpu, "
                       "%.0f->%.0f->%.0f MB, %.0f MB goal, 0 MB stacks, 0 MB globals, 4 P\n",
                       i + 1, seconds * (double)i / (double)(n - 1), c * 2, c * 2, c, c * 2 + 4);
    gct_trace_feed(tr, line, (size_t)len);
  }
  gct_trace_finish(tr);
}

/* Judges TR with the default thresholds. */
static int judge(const gct_trace *tr, gct_fit_result *fit, gct_verdict *v) {
  gct_summary s;
  gct_thresholds th;
  gct_thresholds_default(&th);
  gct_summarise(tr, &s);
  int ok = gct_fit(tr, fit) == 0;
  gct_judge(&s, fit, ok, &th, v);
  return v->verdict;
}

/* A leak of 2 MB per minute-of-index with a spike of +500 MB on every tenth GC. */
static double leak_with_spikes(size_t i, size_t n) {
  (void)n;
  return 20 + 0.5 * (double)i + (i % 10 == 3 ? 500 : 0);
}
static double flat_0_1(size_t i, size_t n) { return (double)((i * 7 + n) % 3 == 0); }
static double flat_noisy(size_t i, size_t n) { return 50 + (double)((i * 37 + n) % 7); }
static double warmup_plateau(size_t i, size_t n) { return i < n / 5 ? 5 + 60.0 * (double)i / (double)(n / 5) : 65 + (double)(i % 5); }
static double slow_leak(size_t i, size_t n) { return 300 + 60.0 * (double)i / (double)n + (double)(i % 4); }

TEST(gctrace_fit_theil_sen_ignores_spikes) {
  gct_trace tr;
  gct_fit_result fit;
  gct_verdict v;
  synth(&tr, 121, 120, leak_with_spikes); /* one GC a second: 0.5 MB/s = 30 MB/min */
  CHECK_EQ(judge(&tr, &fit, &v), GCT_GROWING);
  CHECK(NEAR(fit.slope, 30, 1.0));
  CHECK(NEAR(fit.growth_mb, 60, 2.0));
  CHECK(fit.tau > 0.7);
  gct_trace_free(&tr);
}

TEST(gctrace_fit_buckets_large_traces) {
  gct_trace tr;
  gct_fit_result fit;
  gct_verdict v;
  synth(&tr, 20001, 20000, leak_with_spikes);
  CHECK_EQ(judge(&tr, &fit, &v), GCT_GROWING);
  CHECK(fit.points <= 1000);
  CHECK(NEAR(fit.slope, 30, 1.0));
  gct_trace_free(&tr);
}

TEST(gctrace_verdict_zero_one_mb_is_stable) {
  gct_trace tr;
  gct_fit_result fit;
  gct_verdict v;
  synth(&tr, 300, 4, flat_0_1);
  CHECK_EQ(judge(&tr, &fit, &v), GCT_STABLE);
  CHECK(v.n_reasons >= 1);
  CHECK(strstr(v.reasons[0], "within 0-1 MB") != NULL);
  gct_trace_free(&tr);
}

TEST(gctrace_verdict_noisy_flat_is_stable) {
  gct_trace tr;
  gct_fit_result fit;
  gct_verdict v;
  synth(&tr, 500, 600, flat_noisy);
  CHECK_EQ(judge(&tr, &fit, &v), GCT_STABLE);
  CHECK(fabs(fit.tau) < 0.2);
  gct_trace_free(&tr);
}

TEST(gctrace_verdict_warmup_then_plateau_is_stable) {
  gct_trace tr;
  gct_fit_result fit;
  gct_verdict v;
  synth(&tr, 400, 400, warmup_plateau);
  CHECK_EQ(judge(&tr, &fit, &v), GCT_STABLE);
  int levelled = 0;
  for (size_t i = 0; i < v.n_reasons; i++) levelled |= strstr(v.reasons[i], "levelled off") != NULL;
  CHECK(levelled);
  gct_trace_free(&tr);
}

TEST(gctrace_verdict_slow_leak_on_big_heap) {
  gct_trace tr;
  gct_fit_result fit;
  gct_verdict v;
  synth(&tr, 2000, 3600, slow_leak); /* +60 MB (20%) in an hour on 300 MB */
  CHECK_EQ(judge(&tr, &fit, &v), GCT_GROWING);
  CHECK(NEAR(fit.slope, 1.0, 0.05));
  gct_trace_free(&tr);
}

TEST(gctrace_verdict_insufficient) {
  gct_trace tr;
  gct_fit_result fit;
  gct_verdict v;
  synth(&tr, 4, 10, slow_leak);
  CHECK_EQ(judge(&tr, &fit, &v), GCT_INSUFFICIENT);
  gct_trace_free(&tr);
  const char *same = "gc 1 @1.000s 1%: 0+0+0 ms clock, 0+0/0/0+0 ms cpu, 1->1->1 MB, 4 MB goal, 1 P\n";
  memset(&tr, 0, sizeof tr);
  for (int i = 0; i < 10; i++) gct_trace_feed(&tr, same, strlen(same));
  CHECK_EQ(gct_fit(&tr, &fit), -2);
  CHECK_EQ(judge(&tr, &fit, &v), GCT_INSUFFICIENT);
  gct_trace_free(&tr);
}

static double step_500_501(size_t i, size_t n) { return i < n / 2 ? 500 : 501; }

TEST(gctrace_verdict_one_mb_step_is_stable_even_without_growth_thresholds) {
  gct_trace tr;
  gct_fit_result fit;
  gct_verdict v;
  gct_summary s;
  gct_thresholds th;
  synth(&tr, 200, 100, step_500_501);
  gct_thresholds_default(&th);
  th.min_growth_mb = 0;
  th.min_rel = 0;
  gct_summarise(&tr, &s);
  CHECK_EQ(gct_fit(&tr, &fit), 0);
  CHECK(fit.growth_mb > 0);
  CHECK(fit.tau > 0.5);
  gct_judge(&s, &fit, 1, &th, &v);
  CHECK_EQ(v.verdict, GCT_STABLE);
  CHECK(strstr(v.reasons[0], "within 500-501 MB") != NULL);
  gct_trace_free(&tr);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double pseudo_random(size_t i, size_t n) { return (double)((i * 2654435761u + n) % 97); }

/* The selection-based median must equal a sorted median of all pairwise slopes. */
TEST(gctrace_fit_slope_equals_brute_force_median) {
  for (size_t n = 2; n <= 40; n++) {
    gct_trace tr;
    gct_fit_result fit;
    synth(&tr, n, 37, pseudo_random);
    double slopes[40 * 39 / 2];
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
      for (size_t j = i + 1; j < n; j++)
        slopes[k++] = ((double)tr.gcs[j].live - tr.gcs[i].live) / (tr.gcs[j].t / 60.0 - tr.gcs[i].t / 60.0);
    qsort(slopes, k, sizeof slopes[0], cmp_double);
    double want = k % 2 ? slopes[k / 2] : (slopes[k / 2 - 1] + slopes[k / 2]) / 2;
    CHECK_EQ(gct_fit(&tr, &fit), 0);
    if (!NEAR(fit.slope, want, 1e-9 * (1 + fabs(want)))) fprintf(stderr, "    n=%zu %g != %g\n", n, fit.slope, want);
    CHECK(NEAR(fit.slope, want, 1e-9 * (1 + fabs(want))));
    gct_trace_free(&tr);
  }
}

/* ---- libtether's TETHER_DEBUG=trace lines ---- */

static const char k_tether[] =
    "tether: sweep 12 @3.004 s: 100 scanned, 3 expired, 5 destructors, live 97 (3104768 bytes), pending 2, "
    "0.021 ms [registry 4]";

TEST(gctrace_parse_tether_trace_line) {
  gct_gc g;
  CHECK_EQ(parse(k_tether, &g), GCT_GC);
  CHECK_EQ(g.format, GCT_FMT_TETHER);
  CHECK_EQ(g.num, 12);
  CHECK(NEAR(g.t, 3.004, 1e-12));
  CHECK(NEAR(g.live, 3104768.0 / 1048576.0, 1e-6));
  CHECK(NEAR(g.pause_ms, 0.021, 1e-6));
  CHECK_EQ(g.registry, 4);
  /* Without the registry tag (registry 0: "the one"), and with a CR. */
  CHECK_EQ(parse("tether: sweep 1 @0.100 s: 0 scanned, 0 expired, 0 destructors, live 0 (0 bytes), pending 0, "
                 "0.000 ms\r",
                 &g),
           GCT_GC);
  CHECK_EQ(g.registry, 0);
  /* Truncated, garbled or with impossible numbers: malformed, never a record. */
  CHECK_EQ(parse("tether: sweep 12 @3.004 s: 100 scanned, 3 expired", &g), GCT_MALFORMED);
  CHECK_EQ(parse("tether: sweep x @3.004 s: 100 scanned, 3 expired, 5 destructors, live 97 (3104768 bytes), "
                 "pending 2, 0.021 ms",
                 &g),
           GCT_MALFORMED);
  CHECK_EQ(parse("tether: sweep 1 @1 s: 1 scanned, 1 expired, 1 destructors, live 1 (9999999999999999 bytes), "
                 "pending 1, 1 ms",
                 &g),
           GCT_MALFORMED);
  CHECK_EQ(parse("tether: sweep 1 @1 s: 1 scanned, 1 expired, 1 destructors, live 1 (1 bytes), pending 1, 1 ms "
                 "[registry x]",
                 &g),
           GCT_MALFORMED);
  CHECK_EQ(parse("tether: 1 registration still live", &g), GCT_OTHER);
}

/* One registry is judged: the first one in the input, or the one asked for; Go
 * GC lines in a tether trace (or the reverse) are counted and skipped. */
TEST(gctrace_tether_lines_by_registry) {
  char buf[4096];
  size_t n = 0;
  for (int i = 0; i < 6; i++)
    for (int reg = 1; reg <= 2; reg++)
      n += (size_t)snprintf(buf + n, sizeof buf - n,
                            "tether: sweep %d @%d.000 s: 0 scanned, 0 expired, 0 destructors, live 1 (%d bytes), "
                            "pending 0, 0.010 ms [registry %d]\n",
                            i + 1, i, reg == 1 ? 1000 * (i + 1) : 5000, reg);
  n += (size_t)snprintf(buf + n, sizeof buf - n, "%s\n", k_go118);
  for (unsigned want = 0; want <= 2; want++) {
    gct_trace tr;
    memset(&tr, 0, sizeof tr);
    tr.want_registry = want;
    CHECK_EQ(gct_trace_feed(&tr, buf, n), 0);
    CHECK_EQ(gct_trace_finish(&tr), 0);
    CHECK(tr.tether);
    CHECK_EQ(tr.n_gcs, 6);
    CHECK_EQ(tr.other_registry, 6);
    CHECK_EQ(tr.other_kind, 1);
    CHECK_EQ(tr.want_registry, want == 0 ? 1 : want);
    CHECK(NEAR(tr.gcs[5].live, (want == 2 ? 5000 : 6000) / 1048576.0, 1e-9));
    gct_trace_free(&tr);
  }
}
