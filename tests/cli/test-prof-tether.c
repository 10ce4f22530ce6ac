/* libtether's profiles read back with the CLI's own decoder: a live registry's
 * tether_profile_write, into memory, then prof_decode. The sample types and the
 * default one, one sample per registration with its name label, values equal to
 * tether_walk's figures, locations whose function, file and line are the
 * registration sites, time_nanos between the clock readings around the write,
 * and with capture_stack the registering stack, bounded by its depth. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "prof/profile.h"
#include "runner.h"
#include "tether/tether.h"

static int handler(void *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  return 0;
}

/* A registry clock the test sets: idle and age times are then exact, the same
 * in the profile and in the walk after it. */
static _Atomic uint64_t g_now = 1000;
static uint64_t test_clock(void *ud) {
  (void)ud;
  return g_now;
}

static int64_t realtime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The registry's profile, decoded; the clock before and after the write in
 * *T0 and *T1, the count tether_profile_write returned in *N. */
static prof_profile *profile_of(tether_registry *r, int64_t *t0, int64_t *t1, int *n) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (f == NULL) return NULL;
  *t0 = realtime_ns();
  *n = tether_profile_write(r, f, 0);
  *t1 = realtime_ns();
  fclose(f);
  char err[256] = "";
  prof_profile *p = prof_decode((const unsigned char *)buf, len, err, sizeof err);
  if (p == NULL) printf("    decode: %s\n", err);
  free(buf);
  return p;
}

/* What tether_walk says, kept past the visit. */
typedef struct walked {
  char name[64];
  tether_site site;
  size_t ctx_size;
  uint64_t calls, idle_ms;
  int seen; /* samples found for it */
} walked;

typedef struct walk_all {
  walked *v;
  size_t n, cap;
} walk_all;

static int keep(const tether_info *in, void *arg) {
  walk_all *w = arg;
  if (w->n == w->cap) return 1;
  walked *x = &w->v[w->n++];
  snprintf(x->name, sizeof x->name, "%s", in->name);
  x->site = in->site;
  x->ctx_size = in->ctx_size;
  x->calls = in->calls;
  x->idle_ms = in->idle_ms;
  x->seen = 0;
  return 0;
}

static const char *str(const prof_profile *p, size_t i) {
  return i < p->nstr ? p->str[i] : "(bad index)";
}

static const prof_label *label(const prof_profile *p, const prof_sample *s, const char *key) {
  for (uint32_t k = 0; k < s->label_count; k++) {
    const prof_label *l = &p->labels[s->label_start + k];
    if (strcmp(str(p, l->key), key) == 0) return l;
  }
  return NULL;
}

/* Checks every sample of P against the walk W (CALLS: the profile has the calls
 * type). Returns 0, or the line of the first failed check (printed). */
static int matches_walk(const prof_profile *p, walk_all *w, int calls) {
#define EXPECT_AT(cond)                                 \
  do {                                                  \
    if (!(cond)) {                                      \
      printf("    sample %zu: EXPECT(%s)\n", i, #cond); \
      return __LINE__;                                  \
    }                                                   \
  } while (0)
  size_t i = 0;
  EXPECT_AT(p->nsamples == w->n);
  for (i = 0; i < p->nsamples; i++) {
    const prof_sample *s = &p->samples[i];
    const prof_label *name = label(p, s, "name");
    EXPECT_AT(name != NULL && name->str != 0);
    walked *x = NULL;
    for (size_t k = 0; k < w->n && x == NULL; k++)
      if (strcmp(w->v[k].name, str(p, name->str)) == 0) x = &w->v[k];
    EXPECT_AT(x != NULL);
    x->seen++;
    const int64_t *v = &p->values[s->value_start];
    EXPECT_AT(v[0] == 1);
    EXPECT_AT(v[1] == (int64_t)x->ctx_size);
    if (calls) EXPECT_AT(v[2] == (int64_t)x->calls);
    const prof_label *idle = label(p, s, "idle");
    if (calls && x->calls > 0) {
      EXPECT_AT(idle != NULL && idle->str == 0 && idle->num == (int64_t)x->idle_ms);
      EXPECT_AT(strcmp(str(p, idle->num_unit), "ms") == 0);
    } else {
      EXPECT_AT(idle == NULL);
    }
    /* The leaf is the registration site. */
    EXPECT_AT(s->loc_count >= 1);
    const prof_location *loc = &p->locs[p->sample_locs[s->loc_start]];
    EXPECT_AT(loc->line_count == 1);
    const prof_line *ln = &p->lines[loc->line_start];
    const prof_function *fn = &p->funcs[ln->func];
    EXPECT_AT(ln->line == x->site.line);
    EXPECT_AT(strcmp(str(p, fn->name), x->site.func ? x->site.func : "?") == 0);
    EXPECT_AT(strcmp(str(p, fn->system_name), str(p, fn->name)) == 0);
    EXPECT_AT(strcmp(str(p, fn->filename), x->site.file ? x->site.file : "?") == 0);
  }
  for (size_t k = 0; k < w->n; k++) {
    i = k;
    EXPECT_AT(w->v[k].seen == 1); /* one sample per registration */
  }
  return 0;
#undef EXPECT_AT
}

static int has_comment(const prof_profile *p, const char *prefix) {
  for (size_t i = 0; i < p->ncomments; i++)
    if (strncmp(str(p, p->comments[i]), prefix, strlen(prefix)) == 0) return 1;
  return 0;
}

TEST(prof_tether_profile_is_the_walk) {
  static const tether_site sites[] = {
      {"plugins/audio.c", 42, "audio_load"}, {"plugins/video.c", 7, "video_load"},
      {"plugins/audio.c", 50, "audio_load"},                  /* same function, another line */
      {"net/routes.c", 120, "route_add"},    {NULL, 0, NULL}, /* unknown: "?" */
  };
  g_now = 1000;
  tether_options o = {.track_calls = 1, .mode = TETHER_BUS, .clock_ms = test_clock};
  tether_registry *r;
  CHECK_EQ(tether_registry_new(&r, &o), 0);
  int made = 0;
  for (int i = 0; i < 40; i++) {
    char name[64];
    snprintf(name, sizeof name, "%s/%d", i % 2 ? "event" : "hook with spaces \"and quotes\"", i);
    tether_reg_options ro = {.ctx_size = (size_t)(i * 37 % 1000)};
    CHECK_EQ(tether_register_at(r, sites[i % 5], name, handler, NULL, NULL, &ro, NULL), 0);
    made++;
    for (int k = 0; k < i % 4; k++) CHECK_EQ(tether_emit(r, name, NULL), 1);
  }
  g_now = 3000; /* the callers are idle for 2000 ms */
  walked v[64];
  walk_all w = {v, 0, 64};
  int64_t t0, t1;
  int n = 0;
  prof_profile *p = profile_of(r, &t0, &t1, &n);
  CHECK(p != NULL);
  CHECK_EQ(tether_walk(r, keep, &w), made);
  CHECK_EQ(n, made);
  /* Types, the default, the period. */
  int types = p->ntypes == 3 && strcmp(str(p, p->types[0].type), "registrations") == 0 &&
              strcmp(str(p, p->types[0].unit), "count") == 0 &&
              strcmp(str(p, p->types[1].type), "retained") == 0 &&
              strcmp(str(p, p->types[1].unit), "bytes") == 0 &&
              strcmp(str(p, p->types[2].type), "calls") == 0 &&
              strcmp(str(p, p->types[2].unit), "count") == 0;
  int dflt = prof_default_type(p) == 1 && strcmp(str(p, p->default_type), "retained") == 0 &&
             prof_type_index(p, "calls") == 2;
  int period = strcmp(str(p, p->period_type.type), "registrations") == 0 && p->period == 1;
  int when = p->time_nanos >= t0 && p->time_nanos <= t1;
  int comment = has_comment(p, "libtether registry ");
  /* One function per (name, file), one location per site. */
  int interned = p->nfuncs == 4 && p->nlocs == 5 && p->main_file == 0;
  int rc = matches_walk(p, &w, 1);
  int idle = 0; /* "event/1" was called once, at 1000 */
  for (size_t k = 0; k < w.n; k++)
    if (strcmp(w.v[k].name, "event/1") == 0) idle = w.v[k].calls == 1 && w.v[k].idle_ms == 2000;
  prof_free(p);
  CHECK(idle);
  CHECK(types);
  CHECK(dflt);
  CHECK(period);
  CHECK(when);
  CHECK(comment);
  CHECK(interned);
  CHECK_EQ(rc, 0);
  CHECK_EQ(tether_registry_free(r), made);
}

TEST(prof_tether_profile_untracked_and_empty) {
  tether_options o = {.clock_ms = test_clock};
  tether_registry *r;
  CHECK_EQ(tether_registry_new(&r, &o), 0);
  int64_t t0, t1;
  int n = -1;
  prof_profile *p = profile_of(r, &t0, &t1, &n);
  CHECK(p != NULL);
  int empty = n == 0 && p->nsamples == 0 && p->ntypes == 2 && prof_default_type(p) == 1 &&
              p->time_nanos >= t0 && p->time_nanos <= t1;
  prof_free(p);
  CHECK(empty);
  tether_reg_options ro = {.ctx_size = 4096};
  CHECK_EQ(tether_register(r, "only", handler, NULL, NULL, &ro, NULL), 0);
  CHECK_EQ(tether_emit(r, "only", NULL), 1);
  walked v[4];
  walk_all w = {v, 0, 4};
  p = profile_of(r, &t0, &t1, &n);
  CHECK(p != NULL);
  CHECK_EQ(tether_walk(r, keep, &w), 1);
  int two = p->ntypes == 2 && prof_type_index(p, "calls") == -1;
  int rc = matches_walk(p, &w, 0); /* no calls type, no idle label */
  prof_free(p);
  CHECK(two);
  CHECK_EQ(rc, 0);
  CHECK_EQ(tether_registry_free(r), 1);
}

/* Thousands of registrations from hundreds of sites: every table of the
 * writer grows; the sums per type are the walk's. */
TEST(prof_tether_profile_of_many_sites) {
  enum { N = 3000, SITES = 300 };
  g_now = 1000;
  tether_options o = {.track_calls = 1, .clock_ms = test_clock};
  tether_registry *r;
  CHECK_EQ(tether_registry_new(&r, &o), 0);
  for (int i = 0; i < N; i++) {
    char name[32], file[32], func[32];
    snprintf(name, sizeof name, "reg-%d", i);
    snprintf(file, sizeof file, "src/file-%d.c", i % SITES);
    snprintf(func, sizeof func, "func_%d", i % SITES);
    tether_site site = {file, 10 + i % 7, func};
    tether_reg_options ro = {.ctx_size = (size_t)(i % 97) * 16};
    CHECK_EQ(tether_register_at(r, site, name, handler, NULL, NULL, &ro, NULL), 0);
    if (i % 5 == 0) CHECK_EQ(tether_emit(r, name, NULL), 1);
  }
  static walked v[N];
  walk_all w = {v, 0, N};
  int64_t t0, t1;
  int n = 0;
  prof_profile *p = profile_of(r, &t0, &t1, &n);
  CHECK(p != NULL);
  CHECK_EQ(tether_walk(r, keep, &w), N);
  CHECK_EQ(n, N);
  int64_t sum[3] = {0, 0, 0}, want[3] = {0, 0, 0};
  for (size_t i = 0; i < p->nsamples; i++)
    for (int k = 0; k < 3; k++) sum[k] += p->values[p->samples[i].value_start + (uint32_t)k];
  for (size_t i = 0; i < w.n; i++) {
    want[0]++;
    want[1] += (int64_t)v[i].ctx_size;
    want[2] += (int64_t)v[i].calls;
  }
  /* Sites: file-K.c and func_K per K, lines 10..16: functions per K, and
   * locations per (K, line) that occur. */
  size_t funcs = p->nfuncs;
  int rc = matches_walk(p, &w, 1);
  prof_free(p);
  CHECK_EQ(rc, 0);
  CHECK_EQ(sum[0], want[0]);
  CHECK_EQ(sum[1], want[1]);
  CHECK_EQ(sum[2], want[2]);
  CHECK_EQ(want[2], N / 5);
  CHECK_EQ(funcs, SITES);
  CHECK_EQ(tether_registry_free(r), N);
}

/* ---- capture_stack ---- */

static volatile int g_depth_seen;

/* Registers at depth 0 of a recursion LEVELS deep (each level its own frame). */
__attribute__((noinline)) static int nest(tether_registry *r, int levels, const char *name) {
  if (levels == 0) return tether_register(r, name, handler, NULL, NULL, NULL, NULL);
  int rc = nest(r, levels - 1, name);
  g_depth_seen = levels; /* keeps the call from becoming a jump */
  __asm__ volatile("" ::: "memory");
  return rc;
}

TEST(prof_tether_profile_registering_stack_bounded_by_depth) {
  for (unsigned depth = 3; depth <= TETHER_STACK_MAX; depth += TETHER_STACK_MAX - 3) {
    tether_options o = {.capture_stack = depth};
    tether_registry *r;
    CHECK_EQ(tether_registry_new(&r, &o), 0);
    CHECK_EQ(nest(r, 10, "deep"), 0);
    CHECK_EQ(nest(r, 0, "shallow"), 0);
    int64_t t0, t1;
    int n = 0;
    prof_profile *p = profile_of(r, &t0, &t1, &n);
    CHECK(p != NULL);
    uint32_t deep = 0, shallow = 0;
    int addresses_only = 1;
    for (size_t i = 0; i < p->nsamples; i++) {
      const prof_sample *s = &p->samples[i];
      const prof_label *l = label(p, s, "name");
      uint32_t k = s->loc_count;
      if (l && strcmp(str(p, l->str), "deep") == 0) deep = k;
      if (l && strcmp(str(p, l->str), "shallow") == 0) shallow = k;
      for (uint32_t j = 1; j < k; j++)
        if (p->locs[p->sample_locs[s->loc_start + j]].line_count != 0) addresses_only = 0;
    }
    /* The mapping of the program itself comes first, with its build id. */
    char exe[4096] = "";
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) exe[len] = '\0';
    int mapped = p->main_file != 0 && strcmp(str(p, p->main_file), exe) == 0;
    size_t build_id = p->build_id ? strlen(str(p, p->build_id)) : 0;
    prof_free(p);
    CHECK_EQ(n, 2);
    CHECK(addresses_only); /* the callers are addresses for pprof to symbolize */
    CHECK(mapped);
    CHECK(build_id == 0 || build_id == 40);
    if (depth == 3) {
      /* The site, then exactly DEPTH callers: nest's own frames. */
      CHECK_EQ(deep, 1 + 3);
      CHECK(shallow >= 2 && shallow <= 1 + 3);
    } else {
      /* Ten more frames than the shallow one, all kept. */
      CHECK(shallow >= 2 && shallow <= 1 + TETHER_STACK_MAX);
      CHECK_EQ(deep, shallow + 10);
    }
    CHECK_EQ(tether_registry_free(r), 2);
  }
}
