/* The watch engine on profiles written here snapshot by snapshot: a leak whose
 * stacks differ only in runtime frames is one suspect at its user function; a
 * warm-up that levels off, a sawtooth cache and noise are not suspects; fewer
 * than five snapshots are insufficient; --skip; snapshots out of time order;
 * flat and cum equal the profile engine's report per snapshot; and the links
 * to the findings of a scan of real fixtures (the leaking Go bus, C
 * registrations). */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli-util.h"
#include "prof/report.h"
#include "runner.h"
#include "watch/watch.h"

#define WATCH_FIX TETHER_SOURCE_DIR "/tests/fixtures/watch/"
#define MB (1024 * 1024LL)
#define SEC 1000000000LL

/* A service's stacks: the leak (two stacks differing only in runtime frames),
 * a warm-up, a sawtooth and a steady part, valued by snapshot I of N. */
typedef long long (*valuer)(int i, int n);

static const cli_frame k_leak_a[] = {{"runtime.makemap_small", "/go/src/runtime/map.go", 290},
                                     {"main.newState", "/src/svc/state.go", 12},
                                     {"main.handle", "/src/svc/main.go", 40},
                                     {"main.main", "/src/svc/main.go", 70}};
static const cli_frame k_leak_b[] = {{"runtime.mallocgc", "/go/src/runtime/malloc.go", 1100},
                                     {"runtime.growslice", "/go/src/runtime/slice.go", 270},
                                     {"main.newState", "/src/svc/state.go", 14},
                                     {"main.handle", "/src/svc/main.go", 40},
                                     {"main.main", "/src/svc/main.go", 70}};
static const cli_frame k_warm[] = {{"main.fillCache", "/src/svc/cache.go", 8}, {"main.main", "/src/svc/main.go", 60}};
static const cli_frame k_saw[] = {{"main.refresh", "/src/svc/cache.go", 30}, {"main.main", "/src/svc/main.go", 62}};
static const cli_frame k_base[] = {{"main.setup", "/src/svc/main.go", 20}, {"main.main", "/src/svc/main.go", 55}};

static long long leak_a(int i, int n) { (void)n; return 1 * MB + i * 512 * 1024LL; }
static long long leak_b(int i, int n) { (void)n; return i * 256 * 1024LL + (i % 3) * 4096; }
static long long warm(int i, int n) { return (i < n / 3 ? i : n / 3) * 3 * MB; }
static long long saw(int i, int n) { (void)n; return (i % 4) * 2 * MB; }
static long long none(int i, int n) { (void)i, (void)n; return 0; }
static long long base(int i, int n) { (void)n; return 20 * MB + (i % 2) * 64 * 1024; }

/* Snapshot I of N: a profile with each part's stack valued as given. */
static prof_profile *snapshot(int i, int n, valuer a, valuer b, valuer w, valuer s) {
  cli_sample smp[5] = {{k_leak_a, 4, a(i, n)}, {k_leak_b, 5, b(i, n)}, {k_warm, 2, w(i, n)}, {k_saw, 2, s(i, n)},
                       {k_base, 2, base(i, n)}};
  size_t len;
  char err[256];
  unsigned char *buf = cli_profile(smp, 5, 1700000000 * SEC + i * 10 * SEC, &len);
  prof_profile *p = buf ? prof_decode(buf, len, err, sizeof err) : NULL;
  if (p == NULL) printf("    snapshot: %s\n", buf ? err : "out of memory");
  free(buf);
  return p;
}

/* Makes snapshot I of N from CTX. */
typedef prof_profile *(*maker)(int i, int n, const void *ctx);

/* Adds N snapshots from MAKE to a new watch and analyses it. */
static watch *watch_of(const watch_opts *o, int n, maker make, const void *ctx, watch_result *r) {
  watch *wt = watch_new(o);
  char err[256];
  for (int i = 0; wt && i < n; i++) {
    prof_profile *p = make(i, n, ctx);
    if (p == NULL || watch_add(wt, p, p->time_nanos, "synth", NULL, err, sizeof err) != 0) {
      watch_free(wt);
      return NULL;
    }
  }
  if (wt && watch_analyse(wt, r) != 0) {
    watch_free(wt);
    return NULL;
  }
  return wt;
}

/* The parts of run(): the valuers of the two leak stacks, the warm-up and the sawtooth. */
typedef struct parts {
  valuer a, b, w, s;
} parts;

static prof_profile *from_parts(int i, int n, const void *ctx) {
  const parts *p = ctx;
  return snapshot(i, n, p->a, p->b, p->w, p->s);
}

/* N snapshots (one every 10 s) of the parts given, analysed. */
static watch *run(const watch_opts *o, int n, valuer a, valuer b, valuer w, valuer s, watch_result *r) {
  parts p = {a, b, w, s};
  return watch_of(o, n, from_parts, &p, r);
}

TEST(watch_leak_is_one_suspect_at_its_user_function) {
  watch_opts o;
  watch_result r;
  watch_opts_default(&o);
  watch *w = run(&o, 12, leak_a, leak_b, warm, saw, &r);
  CHECK(w != NULL);
  CHECK_EQ(r.verdict, WATCH_GROWING);
  CHECK_STREQ(r.type, "inuse_space");
  CHECK_EQ(r.nsnaps, 12);
  /* Both stacks go through main.newState; their runtime frames differ. */
  CHECK_EQ(r.nsuspects, 1);
  const watch_suspect *s = &r.suspects[0];
  CHECK_STREQ(s->function, "main.newState");
  /* 512 KiB + 256 KiB per 10 s snapshot = 4.5 MiB per minute. */
  CHECK(fabs(s->fit.slope - 4.5 * MB) < 0.05 * MB);
  CHECK(s->fit.tau > 0.9);
  CHECK_STREQ(s->file, "/src/svc/state.go");
  CHECK_EQ(s->line, 12); /* the line that grows fastest */
  CHECK_EQ(s->first, leak_a(0, 12) + leak_b(0, 12));
  CHECK_EQ(s->last, leak_a(11, 12) + leak_b(11, 12));
  /* pprof's flat is at the runtime frames; the site folds them. */
  CHECK(s->flat == NULL || s->flat[11] == 0);
  CHECK(s->cum != NULL && s->cum[11] == s->last);
  CHECK(s->nstacks == 2);
  CHECK_EQ(s->stacks[0].value, leak_a(11, 12));
  CHECK_EQ(s->stacks[0].growth, leak_a(11, 12) - leak_a(0, 12));
  CHECK(s->stacks[0].frames[0].internal && !s->stacks[0].frames[1].internal);
  /* The warm-up and the sawtooth moved but are no suspects, each for its reason. */
  int warm_seen = 0, saw_seen = 0;
  for (size_t i = 0; i < r.nmovers; i++) {
    if (strcmp(r.movers[i].function, "main.fillCache") == 0)
      warm_seen = !r.movers[i].ok[TREND_HALVES] || !r.movers[i].ok[TREND_LATE];
    if (strcmp(r.movers[i].function, "main.refresh") == 0) saw_seen = !r.movers[i].ok[TREND_TAU];
  }
  CHECK(warm_seen);
  CHECK(saw_seen);
  watch_free(w);
}

TEST(watch_warm_up_sawtooth_and_noise_are_stable) {
  watch_opts o;
  watch_result r;
  watch_opts_default(&o);
  watch *w = run(&o, 15, none, none, warm, saw, &r);
  CHECK(w != NULL);
  CHECK_EQ(r.verdict, WATCH_STABLE);
  CHECK_EQ(r.nsuspects, 0);
  watch_free(w);
}

TEST(watch_fewer_than_five_snapshots_are_insufficient) {
  watch_opts o;
  watch_result r;
  watch_opts_default(&o);
  watch *w = run(&o, 4, leak_a, leak_b, none, none, &r);
  CHECK(w != NULL);
  CHECK_EQ(r.verdict, WATCH_INSUFFICIENT);
  CHECK_EQ(r.nsuspects, 0);
  watch_free(w);
  w = run(&o, 5, leak_a, leak_b, none, none, &r);
  CHECK(w != NULL);
  CHECK_EQ(r.verdict, WATCH_GROWING);
  watch_free(w);
}

/* The warm-up alone, judged after it: --skip 40s leaves the level. */
static long long warm_then_leak(int i, int n) { return warm(i, n) + (i > n / 3 ? (i - n / 3) * 2 * MB : 0); }

TEST(watch_skip_judges_after_the_start) {
  watch_opts o;
  watch_result r;
  watch_opts_default(&o);
  watch *w = run(&o, 15, none, none, warm_then_leak, none, &r);
  CHECK(w != NULL);
  /* With the warm-up the first half's slope is steeper than the second's, but the second still rises. */
  CHECK_EQ(r.verdict, WATCH_GROWING);
  watch_free(w);
  o.skip_s = 60;
  w = run(&o, 15, none, none, warm_then_leak, none, &r);
  CHECK(w != NULL);
  CHECK_EQ(r.judged_from, 6);
  CHECK_EQ(r.verdict, WATCH_GROWING);
  CHECK_EQ(r.nsuspects, 1);
  CHECK(fabs(r.suspects[0].fit.slope - 12 * MB) < 0.1 * MB); /* 2 MiB per 10 s */
  watch_free(w);
  o.skip_s = 130; /* 2 snapshots left */
  w = run(&o, 15, leak_a, none, none, none, &r);
  CHECK(w != NULL);
  CHECK_EQ(r.verdict, WATCH_INSUFFICIENT);
  watch_free(w);
}

TEST(watch_orders_snapshots_by_time_and_matches_the_report) {
  watch_opts o;
  watch_result r;
  char err[256];
  watch_opts_default(&o);
  watch *w = watch_new(&o);
  CHECK(w != NULL);
  int order[8] = {3, 0, 7, 1, 5, 2, 6, 4};
  for (int k = 0; k < 8; k++) {
    prof_profile *p = snapshot(order[k], 8, leak_a, leak_b, warm, saw);
    CHECK(p != NULL);
    CHECK_EQ(watch_add(w, p, p->time_nanos, "synth", NULL, err, sizeof err), 0);
  }
  CHECK_EQ(watch_analyse(w, &r), 0);
  for (size_t i = 1; i < r.nsnaps; i++) CHECK(r.snaps[i].t > r.snaps[i - 1].t);
  CHECK(fabs(r.snaps[7].t - 70) < 1e-9);
  CHECK_EQ(r.nsuspects, 1);
  /* Per snapshot, cum and total are the report's, exactly. */
  for (int i = 0; i < 8; i++) {
    prof_profile *p = snapshot(i, 8, leak_a, leak_b, warm, saw);
    prof_opts po;
    prof_report rep;
    memset(&po, 0, sizeof po);
    CHECK(p != NULL);
    CHECK_EQ(prof_report_build(NULL, p, &po, &rep, err, sizeof err), 0);
    CHECK_EQ(r.snaps[i].total, rep.total);
    for (size_t k = 0; k < rep.nrows; k++)
      if (strcmp(rep.rows[k].name, "main.newState") == 0) CHECK_EQ(r.suspects[0].cum[i], rep.rows[k].cum);
    prof_report_free(&rep);
    prof_free(p);
  }
  watch_free(w);
}

TEST(watch_refuses_a_snapshot_of_another_unit) {
  watch_opts o;
  char err[256];
  watch_opts_default(&o);
  o.sample_index = "inuse_space";
  watch *w = watch_new(&o);
  CHECK(w != NULL);
  prof_profile *p = snapshot(0, 5, leak_a, none, none, none);
  CHECK_EQ(watch_add(w, p, 1, "a", NULL, err, sizeof err), 0);
  o.sample_index = "nosuch";
  watch *w2 = watch_new(&o);
  p = snapshot(1, 5, leak_a, none, none, none);
  CHECK_EQ(watch_add(w2, p, 2, "b", NULL, err, sizeof err), -1);
  CHECK(strstr(err, "no sample type 'nosuch'") != NULL);
  watch_free(w);
  watch_free(w2);
}

TEST(watch_internal_frames) {
  CHECK(watch_internal_frame("runtime.mallocgc"));
  CHECK(watch_internal_frame("runtime/internal/atomic.Load"));
  CHECK(watch_internal_frame("internal/poll.(*FD).Read"));
  CHECK(watch_internal_frame("malloc"));
  CHECK(watch_internal_frame("g_malloc0"));
  CHECK(!watch_internal_frame("main.runtimeStats"));
  CHECK(!watch_internal_frame("mallocate"));
  CHECK(!watch_internal_frame("net/http.(*conn).serve"));
}

/* ---- Links, against real scans. ---- */

static const cli_frame k_bus[] = {{"main.newRequestState", "/build/leakbus/main.go", 20},
                                  {"main.handleOrder", "/build/leakbus/main.go", 28},
                                  {"main.main.func1", "/build/leakbus/main.go", 49},
                                  {"main.main.func3", "/build/leakbus/main.go", 43},
                                  {"tetherwatch/svc.Run.func1", "/build/svc/svc.go", 37}};
static const cli_frame k_logging_only[] = {{"main.logging.func1", "/build/leakbus/main.go", 42},
                                           {"main.main", "/build/leakbus/main.go", 49}};
static const cli_frame k_plugin[] = {{"example.com/hookbus/plugins.newState", "/build/plugins/plugins.go", 13},
                                     {"example.com/hookbus/plugins.Init", "/build/plugins/plugins.go", 19},
                                     {"main.main", "/build/cmd/hookbus/main.go", 9}};
static const cli_frame k_c[] = {{"g_signal_connect", "/usr/src/glib/gsignal.c", 3000},
                                {"build", "/build/ui/tc202.c", 13},
                                {"main", "/build/ui/main.c", 5}};
static const cli_frame k_c_table[] = {{"malloc", "malloc.c", 1}, {"make_ctx", "/build/tc203.c", 40},
                                      {"add_handler", "/build/tc203.c", 14}};

/* A stack and its length, for one_stack. */
typedef struct stack {
  const cli_frame *frames;
  size_t n;
} stack;

/* Snapshot I: the stack grown to I + 1 MiB, beside a level part. */
static prof_profile *one_stack(int i, int n, const void *ctx) {
  const stack *st = ctx;
  cli_sample s[2] = {{st->frames, st->n, (i + 1) * MB}, {k_base, 2, base(i, n)}};
  size_t len;
  char err[256];
  unsigned char *buf = cli_profile(s, 2, (i + 1) * SEC, &len);
  prof_profile *p = buf ? prof_decode(buf, len, err, sizeof err) : NULL;
  free(buf);
  return p;
}

/* A watch of 8 snapshots of STACK growing 1 MiB each. */
static watch *grow(const watch_opts *o, const cli_frame *frames, size_t nframes, watch_result *r) {
  stack st = {frames, nframes};
  return watch_of(o, 8, one_stack, &st, r);
}

/* A scan of DIR through the engine, as watch --source runs it. */
static scan_result *scan_of(const char *dir) {
  scan_result *s = malloc(sizeof *s);
  if (s == NULL) return NULL;
  scan_options o;
  scan_options_default(&o);
  const char *paths[1] = {dir};
  if (scan_run(paths, 1, &o, s) != 0) {
    scan_result_free(s);
    free(s);
    return NULL;
  }
  return s;
}

static void scan_done(scan_result *s) {
  if (s) scan_result_free(s);
  free(s);
}

static const watch_link *link_of(const watch_suspect *s, watch_link_role role, const char *rule) {
  for (size_t i = 0; i < s->nlinks; i++)
    if (s->links[i].role == role && strcmp(scan_rules[s->links[i].finding->rule].id, rule) == 0) return &s->links[i];
  return NULL;
}

TEST(watch_links_the_bus_leak_to_closure_subscribe_and_map) {
  watch_opts o;
  watch_result r;
  watch_opts_default(&o);
  scan_result *scan = scan_of(WATCH_FIX "leakbus");
  watch *w = grow(&o, k_bus, 5, &r);
  CHECK(scan != NULL && w != NULL);
  CHECK_EQ(r.nsuspects, 1);
  CHECK_EQ(watch_link_findings(w, &r, scan), 0);
  const watch_suspect *s = &r.suspects[0];
  CHECK_STREQ(s->function, "main.newRequestState");
  const watch_link *c = link_of(s, WATCH_LINK_CLOSURE, "TG104");
  CHECK(c != NULL);
  CHECK(c->strong);
  CHECK_STREQ(c->variable, "st");
  CHECK_EQ(c->variable_line, 28);
  CHECK(strstr(c->finding->file, "leakbus/main.go") != NULL);
  const watch_link *reg = link_of(s, WATCH_LINK_REGISTER, "TG103");
  CHECK(reg != NULL && strstr(reg->finding->file, "leakbus/bus.go") != NULL);
  const watch_link *map = link_of(s, WATCH_LINK_MAP, "TG102");
  CHECK(map != NULL && strstr(map->finding->file, "leakbus/bus.go") != NULL);
  CHECK(map->finding->facts && !map->finding->facts->map_shrinks);
  /* The chain comes in order: closure, Register-like function, map. */
  CHECK(s->links[0].role == WATCH_LINK_CLOSURE);
  CHECK(s->links[s->nlinks - 1].role == WATCH_LINK_MAP);
  char *fix = watch_fix(s);
  CHECK(fix != NULL);
  CHECK(strstr(fix, "capture those, not st") != NULL);
  CHECK(strstr(fix, "remove the handler when its owner ends") != NULL);
  free(fix);
  watch_free(w);
  scan_done(scan);
}

TEST(watch_does_not_blame_the_middleware_or_an_unrelated_scan) {
  watch_opts o;
  watch_result r;
  watch_opts_default(&o);
  scan_result *scan = scan_of(WATCH_FIX "leakbus");
  watch *w = grow(&o, k_logging_only, 2, &r);
  CHECK(scan != NULL && w != NULL);
  CHECK_EQ(r.nsuspects, 1);
  CHECK_EQ(watch_link_findings(w, &r, scan), 0);
  CHECK_EQ(r.suspects[0].nlinks, 0);
  CHECK(watch_fix(&r.suspects[0]) == NULL);
  watch_free(w);
  scan_done(scan);
  /* The fixed bus: its closure is linked, and its map shrinks. */
  scan = scan_of(WATCH_FIX "fixedbus");
  w = grow(&o, k_bus, 5, &r);
  CHECK(scan != NULL && w != NULL);
  CHECK_EQ(watch_link_findings(w, &r, scan), 0);
  CHECK(link_of(&r.suspects[0], WATCH_LINK_MAP, "TG102") == NULL);
  watch_free(w);
  scan_done(scan);
}

/* A module of three packages: the closure in plugins goes through
 * app.Register, which stores it (through registry.Add) in registry's map. */
TEST(watch_links_a_register_function_of_another_package) {
  watch_opts o;
  watch_result r;
  watch_opts_default(&o);
  scan_result *scan = scan_of(TETHER_SOURCE_DIR "/tests/fixtures/scan/gomod");
  watch *w = grow(&o, k_plugin, 3, &r);
  CHECK(scan != NULL && w != NULL);
  CHECK_EQ(r.nsuspects, 1);
  CHECK_EQ(watch_link_findings(w, &r, scan), 0);
  const watch_suspect *s = &r.suspects[0];
  CHECK_STREQ(s->function, "example.com/hookbus/plugins.newState");
  const watch_link *c = link_of(s, WATCH_LINK_CLOSURE, "TG104");
  CHECK(c != NULL && c->strong && strstr(c->finding->file, "plugins/plugins.go") != NULL);
  CHECK_EQ(c->finding->line, 20);
  CHECK_STREQ(c->variable, "st");
  CHECK_EQ(c->variable_line, 19);
  CHECK(c->finding->facts && scan_str_eq(c->finding->facts->via, "Register") &&
        scan_str_eq(c->finding->facts->func, "Init"));
  const watch_link *reg = link_of(s, WATCH_LINK_REGISTER, "TG103");
  CHECK(reg != NULL && strstr(reg->finding->file, "app/app.go") != NULL);
  CHECK_EQ(reg->finding->line, 16);
  const watch_link *map = link_of(s, WATCH_LINK_MAP, "TG102");
  CHECK(map != NULL && strstr(map->finding->file, "registry/registry.go") != NULL);
  CHECK_EQ(map->finding->line, 11);
  CHECK(map->finding->facts && scan_str_eq(map->finding->facts->map, "hooks") && !map->finding->facts->map_shrinks);
  /* The other literals of Init are linked too (Init is on the stacks), but
   * only the one capturing st holds the allocation; it comes first. */
  CHECK(s->links[0].finding == c->finding);
  for (size_t i = 0; i < s->nlinks; i++)
    if (s->links[i].role == WATCH_LINK_CLOSURE && s->links[i].finding != c->finding) CHECK(!s->links[i].strong);
  watch_free(w);
  scan_done(scan);
}

TEST(watch_links_c_registrations_at_their_site) {
  watch_opts o;
  watch_result r;
  watch_opts_default(&o);
  /* Alone: its folder also has a file that disconnects (tc202_paired). */
  scan_result *scan = scan_of(TETHER_SOURCE_DIR "/tests/fixtures/scan/c/tc202.c");
  watch *w = grow(&o, k_c, 3, &r);
  CHECK(scan != NULL && w != NULL);
  CHECK_EQ(watch_link_findings(w, &r, scan), 0);
  CHECK_EQ(r.nsuspects, 1);
  /* GLib's own function is the site (only runtime and allocator frames fold);
   * the registration is found on the stack below it. */
  CHECK_STREQ(r.suspects[0].function, "g_signal_connect");
  const watch_link *l = link_of(&r.suspects[0], WATCH_LINK_SITE, "TC202");
  CHECK(l != NULL);
  CHECK_EQ(l->finding->line, 13);
  CHECK(strstr(l->finding->file, "tc202.c") != NULL);
  watch_free(w);
  scan_done(scan);
  scan = scan_of(TETHER_SOURCE_DIR "/tests/fixtures/scan/c/tc203.c");
  w = grow(&o, k_c_table, 3, &r);
  CHECK(scan != NULL && w != NULL);
  CHECK_EQ(watch_link_findings(w, &r, scan), 0);
  CHECK_STREQ(r.suspects[0].function, "make_ctx");
  l = link_of(&r.suspects[0], WATCH_LINK_SITE, "TC203");
  CHECK(l != NULL && l->finding->facts && scan_str_eq(l->finding->facts->func, "add_handler"));
  char *fix = watch_fix(&r.suspects[0]);
  CHECK(fix != NULL && strstr(fix, "clear the slot") != NULL);
  free(fix);
  watch_free(w);
  scan_done(scan);
}
