/* `tether watch [OPTIONS] SOURCE`: the command. A URL is fetched every
 * --interval, --count times or for --duration (snapshots are scheduled from the
 * start, so a slow fetch does not push the next ones back); a directory or a
 * list of files is read at once. Each snapshot goes to the watch engine
 * (watch.h) and is freed; with --keep its bytes are written first, named by
 * the time they were taken. A snapshot that cannot be read is reported and
 * skipped. A first SIGINT or SIGTERM ends the watch early and the report covers
 * the snapshots taken so far; a second one ends the tool at once. Exit status 0,
 * 1 when --fail-on-growth tripped, 2 for a usage error or when no snapshot at
 * all could be read. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "common/cli.h"
#include "prof/format.h"
#include "prof/source.h"
#include "watch/report.h"

static volatile sig_atomic_t g_stop;

static void on_stop(int sig) {
  (void)sig;
  g_stop = 1;
}

typedef struct options {
  const char **sources;
  size_t nsources;
  int url;
  double interval_s, duration_s;
  long count; /* -1: not given */
  const char *keep, *source_dir, *html;
  int json;
  double gate;
  int gate_has_unit;
  prof_source_opts fetch;
  watch_opts wo;
  const char *min_growth; /* as given, checked against the unit later */
  int stats;              /* --stats: time spent reading and analysing, on stderr */
} options;

static void usage(FILE *out) {
  fputs("usage: tether watch [OPTIONS] URL\n"
        "       tether watch [OPTIONS] DIR | PROFILE...\n\n"
        "Takes heap snapshots of a live process (a pprof URL such as\n"
        "http://127.0.0.1:6060/debug/pprof/heap, fetched with gc=1), or reads saved ones,\n"
        "follows every function's allocations across them, names the ones that keep\n"
        "growing and, with --source, the code that keeps them alive and its fix.\n\n"
        "  --interval DURATION    time between snapshots (default 10s)\n"
        "  --count N              snapshots to take (default 10)\n"
        "  --duration DURATION    take snapshots for this long (instead of --count)\n"
        "  --keep DIR             write every snapshot fetched to DIR, named by time\n"
        "  --timeout DURATION     give up on a snapshot after this long (default 30s)\n"
        "  --sample-index TYPE    sample type (default: inuse_space for heap profiles)\n"
        "  --skip DURATION        do not judge the first DURATION of the run (warm-up)\n"
        "  --source DIR           scan DIR (Go and C) and link suspects to its findings\n"
        "  --format text|json     report format (default text)\n"
        "  --html FILE            also write a self-contained HTML report to FILE\n"
        "  --fail-on-growth RATE  exit 1 when the verdict is growing and a suspect or the\n"
        "                         total grows faster than RATE per minute (5MB, or a count)\n"
        "  --min-growth SIZE      growth a series needs over the run (default 1MB, or 1000)\n"
        "  --min-rel PCT          ... as a share of its starting level (default 10)\n"
        "  --min-tau X            Kendall's tau needed (default 0.5)\n"
        "  --late-ratio X         second-half slope / slope needed (default 0.25)\n"
        "  --min-snapshots N      fewer snapshots judged give insufficient (default 5)\n"
        "  --top N                at most N suspects (default 10)\n"
        "  --stats                print the time spent reading and analysing to stderr\n"
        "  --help, --version\n\n"
        "Exit status: 0 report printed, 1 --fail-on-growth tripped, 2 usage error or no\n"
        "snapshot could be read.\n",
        out);
}

static int count(const char *name, const char *s, long *out, long min) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (end == s || *end != '\0' || errno != 0 || v < min || v > 1000000)
    return tcli_usage_error("watch", "%s wants a count of at least %ld, not '%s'", name, min, s);
  *out = v;
  return 0;
}

static int duration(const char *name, const char *s, double *out) {
  if (tcli_parse_duration(s, out) != 0 || *out <= 0)
    return tcli_usage_error("watch", "%s wants a duration like 10s, 500ms or 2m, not '%s'", name, s);
  return 0;
}

/* RATE for --fail-on-growth: a size or a count, "/min" allowed after it. */
static int rate(options *o, const char *s) {
  char buf[64];
  size_t n = strlen(s);
  if (n >= sizeof buf) return tcli_usage_error("watch", "--fail-on-growth wants a rate like 5MB, not '%s'", s);
  memcpy(buf, s, n + 1);
  if (n > 4 && strcmp(buf + n - 4, "/min") == 0) buf[n - 4] = 0;
  int64_t v;
  if (prof_parse_size(buf, &v, &o->gate_has_unit) != 0)
    return tcli_usage_error("watch", "--fail-on-growth wants a rate like 5MB (per minute) or a count, not '%s'", s);
  o->gate = (double)v;
  return 0;
}

static int option_value(options *o, const char *name, const char *v) {
  double x;
  long k;
  if (strcmp(name, "--interval") == 0) return duration(name, v, &o->interval_s);
  if (strcmp(name, "--duration") == 0) return duration(name, v, &o->duration_s);
  if (strcmp(name, "--timeout") == 0) return duration(name, v, &o->fetch.timeout_s);
  if (strcmp(name, "--skip") == 0) return duration(name, v, &o->wo.skip_s);
  if (strcmp(name, "--count") == 0) return count(name, v, &o->count, 1);
  if (strcmp(name, "--keep") == 0) o->keep = v;
  else if (strcmp(name, "--source") == 0) o->source_dir = v;
  else if (strcmp(name, "--html") == 0) o->html = v;
  else if (strcmp(name, "--sample-index") == 0) o->wo.sample_index = v;
  else if (strcmp(name, "--fail-on-growth") == 0) return rate(o, v);
  else if (strcmp(name, "--min-growth") == 0) o->min_growth = v;
  else if (strcmp(name, "--format") == 0) {
    if (strcmp(v, "json") != 0 && strcmp(v, "text") != 0)
      return tcli_usage_error("watch", "--format is text or json, not '%s'", v);
    o->json = strcmp(v, "json") == 0;
  } else if (strcmp(name, "--min-snapshots") == 0) {
    if (count(name, v, &k, 2) != 0) return TCLI_USAGE;
    o->wo.min_snapshots = (size_t)k;
  } else if (strcmp(name, "--top") == 0) {
    if (count(name, v, &k, 1) != 0) return TCLI_USAGE;
    o->wo.max_suspects = (size_t)k;
  } else {
    if (tcli_number("watch", name, v, &x) != 0) return TCLI_USAGE;
    if (strcmp(name, "--min-rel") == 0) o->wo.min_rel = x / 100;
    else if (strcmp(name, "--min-tau") == 0) o->wo.min_tau = x;
    else if (strcmp(name, "--late-ratio") == 0) o->wo.late_ratio = x;
    else return tcli_usage_error("watch", "unknown option '%s' (see --help)", name);
  }
  return 0;
}

static int parse_args(int argc, char **argv, options *o) {
  static const char *const k_valued[] = {"--interval", "--count", "--duration", "--keep", "--timeout",
                                         "--sample-index", "--skip", "--source", "--format", "--html",
                                         "--fail-on-growth", "--min-growth", "--min-rel", "--min-tau",
                                         "--late-ratio", "--min-snapshots", "--top"};
  o->sources = calloc((size_t)argc, sizeof *o->sources);
  if (o->sources == NULL) return tcli_usage_error("watch", "out of memory");
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return usage(stdout), -1;
    if (strcmp(a, "--version") == 0) return printf("tether %s\n", TETHER_VERSION), -1;
    if (strcmp(a, "--stats") == 0) {
      o->stats = 1;
      continue;
    }
    if (a[0] != '-' || a[1] == 0) {
      o->sources[o->nsources++] = a;
      continue;
    }
    char name[32];
    const char *value;
    if (tcli_valued_option("watch", argc, argv, &i, k_valued, sizeof k_valued / sizeof k_valued[0], name,
                           sizeof name, &value) != 0)
      return TCLI_USAGE;
    int rc = option_value(o, name, value);
    if (rc != 0) return rc;
  }
  if (o->nsources == 0) return tcli_usage_error("watch", "wants a URL, a directory or profiles (see --help)");
  for (size_t i = 0; i < o->nsources; i++) o->url += prof_source_is_url(o->sources[i]);
  if (o->url && o->nsources > 1) return tcli_usage_error("watch", "watches one URL at a time");
  if (!o->url && (o->count >= 0 || o->duration_s > 0 || o->keep))
    return tcli_usage_error("watch", "--count, --duration and --keep are for a URL; files are read as they are");
  if (o->url && o->count < 0 && o->duration_s <= 0) o->count = 10;
  return 0;
}

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t wall_nanos(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Sleeps until monotonic time UNTIL, or until a stop signal. */
static void sleep_until(double until) {
  while (!g_stop) {
    double left = until - mono_s();
    if (left <= 0) return;
    struct timespec ts = {(time_t)left, (long)((left - floor(left)) * 1e9)};
    nanosleep(&ts, NULL); /* a signal ends it early (no SA_RESTART) */
  }
}

/* The state of one run. */
typedef struct run {
  options *o;
  watch *w;
  prof_fetcher *fetcher;
  watch_failure *fail;
  size_t nfail, cap_fail;
  double t0;
  int progress;   /* stderr is a terminal: a line per snapshot */
  size_t planned; /* snapshots planned, 0 when not known */
  double read_s;  /* time spent reading and decoding snapshots (--stats) */
  double add_s;   /* ... reducing them to series */
} run;

static void add_failure(run *r, const char *source, const char *error) {
  fprintf(stderr, "tether watch: %s: %s (skipped)\n", source, error);
  if (r->nfail == r->cap_fail) {
    size_t nc = r->cap_fail ? r->cap_fail * 2 : 8;
    watch_failure *f = realloc(r->fail, nc * sizeof *f);
    if (f == NULL) return;
    r->fail = f;
    r->cap_fail = nc;
  }
  watch_failure *f = &r->fail[r->nfail];
  f->source = strdup(source);
  f->error = strdup(error);
  f->at = mono_s() - r->t0;
  if (f->source && f->error) r->nfail++;
  else {
    free(f->source);
    free(f->error);
  }
}

/* The progress line of a snapshot just added. */
static void progress(run *r, const char *source) {
  if (!r->progress) return;
  char total[48], grow[48], span[32];
  const char *fn = NULL;
  int64_t g = 0;
  size_t n = watch_count(r->w);
  watch_fmt(total, sizeof total, (double)watch_last_total(r->w), watch_unit(r->w), 0);
  watch_fmt_span(span, sizeof span, mono_s() - r->t0);
  fprintf(stderr, "tether watch: ");
  if (r->planned) fprintf(stderr, "[%zu/%zu]", n, r->planned);
  else fprintf(stderr, "[%zu]", n);
  fprintf(stderr, " %8s  %s %s", span, watch_type(r->w), total);
  if (watch_top_mover(r->w, &fn, &g) == 0) {
    watch_fmt(grow, sizeof grow, (double)g, watch_unit(r->w), 1);
    fprintf(stderr, "  top: %s %s", fn, grow);
  }
  if (!r->o->url) fprintf(stderr, "  (%s)", source);
  fputc('\n', stderr);
}

/* --keep: writes RAW to DIR under a name made of the endpoint and TIME. */
static char *keep_snapshot(const run *r, const unsigned char *raw, size_t len, int64_t t) {
  const char *url = r->o->sources[0];
  size_t path_end = strcspn(url, "?#");
  while (path_end > 0 && url[path_end - 1] == '/') path_end--;
  size_t start = path_end;
  while (start > 0 && url[start - 1] != '/') start--;
  char name[64];
  size_t k = 0;
  for (size_t i = start; i < path_end && k + 1 < sizeof name && k < 32; i++)
    name[k++] = (url[i] >= 'a' && url[i] <= 'z') || (url[i] >= '0' && url[i] <= '9') ? url[i] : '_';
  name[k] = 0;
  time_t secs = (time_t)(t / 1000000000);
  struct tm tm;
  char when[32];
  if (gmtime_r(&secs, &tm) == NULL || strftime(when, sizeof when, "%Y%m%dT%H%M%S", &tm) == 0) return NULL;
  int gz = len >= 2 && raw[0] == 0x1f && raw[1] == 0x8b;
  for (int dup = 0; dup < 100; dup++) {
    char *path = NULL;
    char suffix[16] = "";
    if (dup) snprintf(suffix, sizeof suffix, "-%d", dup);
    if (asprintf(&path, "%s/%s-%s.%03dZ%s.%s", r->o->keep, k ? name : "profile", when,
                 (int)(t / 1000000 % 1000), suffix, gz ? "pb.gz" : "pb") < 0)
      return NULL;
    FILE *f = fopen(path, "wx");
    if (f == NULL && errno == EEXIST) {
      free(path);
      continue;
    }
    int ok = f != NULL && fwrite(raw, 1, len, f) == len;
    if (f && fclose(f) != 0) ok = 0;
    if (!ok) {
      fprintf(stderr, "tether watch: cannot write %s: %s\n", path, strerror(errno));
      free(path);
      return NULL;
    }
    return path;
  }
  return NULL;
}

/* Takes one snapshot of the URL. */
static void take(run *r) {
  char err[512];
  unsigned char *raw = NULL;
  size_t len = 0;
  const char *url = r->o->sources[0];
  int64_t fetched = wall_nanos();
  double t0 = mono_s();
  prof_profile *p = prof_source_load(url, r->fetcher, &r->o->fetch, r->o->keep ? &raw : NULL, &len, err, sizeof err);
  r->read_s += mono_s() - t0;
  if (p == NULL) {
    if (!g_stop) add_failure(r, url, err);
    return;
  }
  int64_t t = p->time_nanos ? p->time_nanos : fetched;
  char *kept = raw ? keep_snapshot(r, raw, len, t) : NULL;
  free(raw);
  t0 = mono_s();
  int rc = watch_add(r->w, p, t, url, kept, err, sizeof err);
  r->add_s += mono_s() - t0;
  if (rc != 0) add_failure(r, url, err);
  else progress(r, url);
  free(kept);
}

static void watch_url(run *r) {
  const options *o = r->o;
  char err[256];
  if ((r->fetcher = prof_fetcher_new(err, sizeof err)) == NULL) {
    add_failure(r, o->sources[0], err);
    return;
  }
  if (o->count > 0) r->planned = (size_t)o->count;
  if (o->duration_s > 0) {
    size_t by_time = (size_t)floor(o->duration_s / o->interval_s) + 1;
    if (r->planned == 0 || by_time < r->planned) r->planned = by_time;
  }
  for (size_t k = 0; k < r->planned && !g_stop; k++) {
    sleep_until(r->t0 + (double)k * o->interval_s);
    if (g_stop) break;
    take(r);
  }
}

/* A profile file's time: its own, else the file's modification time. */
static int64_t file_time(const prof_profile *p, const char *path) {
  struct stat st;
  if (p->time_nanos) return p->time_nanos;
  if (stat(path, &st) != 0) return 0;
  return (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
}

static void read_file(run *r, const char *path) {
  char err[512];
  double t0 = mono_s();
  prof_profile *p = prof_source_load(path, NULL, &r->o->fetch, NULL, NULL, err, sizeof err);
  r->read_s += mono_s() - t0;
  if (p == NULL) {
    add_failure(r, path, err);
    return;
  }
  t0 = mono_s();
  int rc = watch_add(r->w, p, file_time(p, path), path, NULL, err, sizeof err);
  r->add_s += mono_s() - t0;
  if (rc != 0) add_failure(r, path, err);
  else progress(r, path);
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Every regular file of DIR (not those starting with '.'), by name. */
static void read_dir(run *r, const char *dir) {
  DIR *d = opendir(dir);
  if (d == NULL) {
    add_failure(r, dir, strerror(errno));
    return;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char *path = NULL;
    struct stat st;
    if (asprintf(&path, "%s/%s", dir, e->d_name) < 0) break;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
      free(path);
      continue;
    }
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **q = realloc(names, cap * sizeof *q);
      if (q == NULL) {
        free(path);
        break;
      }
      names = q;
    }
    names[n++] = path;
  }
  closedir(d);
  if (n > 1) qsort(names, n, sizeof *names, by_name);
  r->planned += n;
  for (size_t i = 0; i < n; i++) {
    if (!g_stop) read_file(r, names[i]);
    free(names[i]);
  }
  free(names);
  if (n == 0) add_failure(r, dir, "no profiles in the directory");
}

static void watch_files(run *r) {
  for (size_t i = 0; i < r->o->nsources; i++) {
    struct stat st;
    if (stat(r->o->sources[i], &st) == 0 && S_ISDIR(st.st_mode)) continue;
    r->planned++;
  }
  for (size_t i = 0; i < r->o->nsources && !g_stop; i++) {
    const char *s = r->o->sources[i];
    struct stat st;
    if (stat(s, &st) == 0 && S_ISDIR(st.st_mode)) read_dir(r, s);
    else read_file(r, s);
  }
}

static void catch_stop_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sa.sa_flags = (int)SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

/* The thresholds that depend on the unit, once the first snapshot gave it. */
static int unit_checks(options *o, const watch *w) {
  int bytes = strcmp(watch_unit(w), "bytes") == 0;
  if (o->gate_has_unit && !bytes)
    return tcli_usage_error("watch", "--fail-on-growth has a byte unit but %s is in %s", watch_type(w), watch_unit(w));
  if (o->min_growth) {
    int64_t v;
    int has_unit;
    if (prof_parse_size(o->min_growth, &v, &has_unit) != 0 || (has_unit && !bytes))
      return tcli_usage_error("watch", "--min-growth wants a size like 1MB (or a count for %s), not '%s'",
                              watch_type(w), o->min_growth);
    o->wo.min_growth = (double)v;
  }
  return 0;
}

/* Scans --source with the scan engine, as tether scan does with its default
 * options (the module packages the code imports included), and links the
 * suspects. A file that cannot be read is reported and the rest still linked.
 * Returns 0, or 2 after a message. */
static int link_source(const options *o, watch *w, watch_result *res, scan_result *scan) {
  struct stat st;
  if (stat(o->source_dir, &st) != 0) return tcli_usage_error("watch", "--source %s: %s", o->source_dir, strerror(errno));
  if (scan_languages_check() != 0) return TCLI_USAGE;
  scan_options so;
  scan_options_default(&so);
  const char *paths[1] = {o->source_dir};
  if (scan_run(paths, 1, &so, scan) != 0) return tcli_usage_error("watch", "out of memory");
  for (size_t i = 0; i < scan->nerrors; i++) fprintf(stderr, "tether watch --source: %s\n", scan->errors[i]);
  if (watch_link_findings(w, res, scan) != 0) return tcli_usage_error("watch", "out of memory");
  return 0;
}

static int report(options *o, run *r, FILE *html) {
  watch_result res;
  scan_result scan;
  double t0 = mono_s();
  memset(&scan, 0, sizeof scan);
  int rc = unit_checks(o, r->w);
  if (rc == 0 && watch_analyse(r->w, &res) != 0) rc = tcli_usage_error("watch", "out of memory");
  if (rc == 0 && o->source_dir) rc = link_source(o, r->w, &res, &scan);
  if (rc == 0) {
    char what[512];
    if (o->url || o->nsources == 1) snprintf(what, sizeof what, "%s", o->sources[0]);
    else snprintf(what, sizeof what, "%zu profiles (%s ...)", o->nsources, o->sources[0]);
    watch_info info;
    memset(&info, 0, sizeof info);
    info.what = what;
    info.r = &res;
    info.scan = o->source_dir ? &scan : NULL;
    info.source_dir = o->source_dir;
    info.gate = o->gate;
    info.failures = r->fail;
    info.nfailures = r->nfail;
    info.interrupted = g_stop != 0;
    info.color = !o->json && tcli_use_color(stdout);
    watch_gate(&info);
    if (o->json) watch_print_json(stdout, &info);
    else watch_print_text(stdout, &info);
    fflush(stdout);
    if (html && (watch_write_html(html, &info) != 0 || fflush(html) != 0))
      rc = tcli_usage_error("watch", "cannot write %s", o->html);
    if (rc == 0) rc = info.gate_tripped ? TCLI_FOUND : TCLI_OK;
  }
  scan_result_free(&scan);
  if (o->stats) {
    double rest = mono_s() - t0;
    fprintf(stderr, "tether watch: stats: %zu snapshots; reading %.3f s; analysis %.3f s (series %.3f s, fits, "
            "links and report %.3f s); analysis/reading %.2f\n",
            watch_count(r->w), r->read_s, r->add_s + rest, r->add_s, rest,
            r->read_s > 0 ? (r->add_s + rest) / r->read_s : 0);
  }
  return rc;
}

int tether_cmd_watch(int argc, char **argv) {
  options o;
  memset(&o, 0, sizeof o);
  o.interval_s = 10;
  o.count = -1;
  o.gate = NAN;
  watch_opts_default(&o.wo);
  int rc = parse_args(argc, argv, &o);
  if (rc != 0) {
    free(o.sources);
    return rc < 0 ? TCLI_OK : rc;
  }
  struct stat st;
  if (o.keep && ((mkdir(o.keep, 0777) != 0 && errno != EEXIST) || stat(o.keep, &st) != 0 || !S_ISDIR(st.st_mode))) {
    free(o.sources);
    return tcli_usage_error("watch", "--keep %s: %s", o.keep, errno == EEXIST ? "not a directory" : strerror(errno));
  }
  FILE *html = o.html ? fopen(o.html, "w") : NULL;
  if (o.html && html == NULL) {
    free(o.sources);
    return tcli_usage_error("watch", "cannot write %s: %s", o.html, strerror(errno));
  }
  run r;
  memset(&r, 0, sizeof r);
  r.o = &o;
  r.w = watch_new(&o.wo);
  r.t0 = mono_s();
  r.progress = isatty(STDERR_FILENO);
  g_stop = 0;
  o.fetch.stop = &g_stop;
  catch_stop_signals();
  if (r.w == NULL) rc = tcli_usage_error("watch", "out of memory");
  else if (o.url) watch_url(&r);
  else watch_files(&r);
  if (rc == 0 && watch_count(r.w) == 0)
    rc = tcli_usage_error("watch", "no snapshot could be read%s", r.nfail ? " (see above)" : "");
  if (rc == 0) rc = report(&o, &r, html);
  if (html) {
    fclose(html);
    if (rc == TCLI_USAGE) unlink(o.html);
  }
  watch_free(r.w);
  prof_fetcher_free(r.fetcher);
  for (size_t i = 0; i < r.nfail; i++) {
    free(r.fail[i].source);
    free(r.fail[i].error);
  }
  free(r.fail);
  free(o.sources);
  return rc;
}
