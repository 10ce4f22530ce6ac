/* `tether gctrace [FILE|-]`: options, input and output. The input is read with
 * read(2) in chunks and parsed as it arrives, so a pipe is followed live and a file
 * of any size needs memory only for the per-GC records. With --tee every byte read
 * is written to standard output at once (nothing is held back waiting for a full
 * buffer) and the report goes to standard error; when the reader of standard output
 * goes away the input is still read to the end so that the verdict is printed, and
 * a first Ctrl-C (SIGINT) or SIGTERM ends the input early and still prints it. The
 * --svg file is opened before the input is read, so a bad path fails at once. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "common/cli.h"
#include "gctrace.h"

#define CHUNK (1 << 18)

/* Set by the first SIGINT or SIGTERM: stop reading and report what was read. */
static volatile sig_atomic_t g_stop;

static void on_stop(int sig) {
  (void)sig;
  g_stop = 1;
}

/* Lets a first SIGINT/SIGTERM interrupt read(2) (no SA_RESTART); a second one kills. */
static void catch_stop_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sa.sa_flags = (int)SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

typedef struct options {
  const char *input;
  const char *svg;
  int tee, json;
  double gate;
  double skip_s;
  size_t skip_gcs;
  unsigned registry;  /* --registry N (tether lines), 0: the first one */
  int min_growth_set; /* --min-growth given */
  gct_thresholds th;
} options;

static void usage(FILE *out) {
  fputs("usage: tether gctrace [OPTIONS] [FILE|-]\n\n"
        "Reads a Go program's output with GODEBUG=gctrace=1 lines mixed in (Go 1.5 and later),\n"
        "summarises the GCs and judges whether the live heap keeps growing. A C program on\n"
        "libtether run with TETHER_DEBUG=trace is read the same way: its registry's retained\n"
        "bytes after each background pass stand in for the live heap.\n\n"
        "  --tee                  copy the input to stdout as it arrives; report on stderr\n"
        "  --fail-on-growth RATE  exit 1 when the verdict is growing and the fitted live-heap\n"
        "                         slope exceeds RATE MB/min (a stable run never trips it)\n"
        "  --skip DURATION|Ngc    judge the run from DURATION (30s, 2m) or N GCs after its start\n"
        "  --format text|json     report format (default text)\n"
        "  --svg FILE             draw live heap, heap at GC start, goal and trend to FILE\n"
        "  --min-gcs N            fewer GCs give the verdict insufficient (default 5)\n"
        "  --min-growth MB        fitted growth over the run needed for growing (default 4)\n"
        "  --min-rel PCT          ... and as a percentage of the starting level (default 10)\n"
        "  --min-tau X            Kendall's tau of time and live heap needed (default 0.5)\n"
        "  --late-ratio X         second-half slope / overall slope needed (default 0.25)\n"
        "  --registry N           tether lines: judge registry N (default: the first in the input)\n"
        "  --help, --version\n\n"
        "Exit status: 0 report printed, 1 --fail-on-growth tripped, 2 usage or input error.\n",
        out);
}

/* Handles one option that takes VALUE; returns 0, or 2 on a bad value. */
static int option_value(options *o, const char *name, const char *value) {
  double v;
  if (strcmp(name, "--svg") == 0) {
    o->svg = value;
    return 0;
  }
  if (strcmp(name, "--skip") == 0) {
    size_t n = strlen(value);
    if (n > 2 && strcmp(value + n - 2, "gc") == 0) {
      char *end;
      errno = 0;
      unsigned long long k = strtoull(value, &end, 10);
      if (value[0] == '-' || errno != 0 || end != value + n - 2)
        return tcli_usage_error("gctrace", "--skip wants a duration (30s, 2m) or a GC count (10gc), not '%s'", value);
      o->skip_gcs = k > SIZE_MAX ? SIZE_MAX : (size_t)k;
      return 0;
    }
    if (tcli_parse_duration(value, &o->skip_s) != 0)
      return tcli_usage_error("gctrace", "--skip wants a duration (30s, 2m) or a GC count (10gc), not '%s'", value);
    return 0;
  }
  if (strcmp(name, "--format") == 0) {
    if (strcmp(value, "json") != 0 && strcmp(value, "text") != 0)
      return tcli_usage_error("gctrace", "--format wants text or json, not '%s'", value);
    o->json = strcmp(value, "json") == 0;
    return 0;
  }
  if (tcli_number("gctrace", name, value, &v) != 0) return TCLI_USAGE;
  if (strcmp(name, "--fail-on-growth") == 0) o->gate = v;
  else if (strcmp(name, "--min-gcs") == 0) o->th.min_gcs = v > 1e9 ? (size_t)1e9 : (size_t)v;
  else if (strcmp(name, "--min-growth") == 0) {
    o->th.min_growth_mb = v;
    o->min_growth_set = 1;
  } else if (strcmp(name, "--registry") == 0) {
    if (v < 1 || v > UINT32_MAX || v != floor(v))
      return tcli_usage_error("gctrace", "--registry wants a registry number (1, 2, ...), not '%s'", value);
    o->registry = (unsigned)v;
  }
  else if (strcmp(name, "--min-rel") == 0) o->th.min_rel = v / 100;
  else if (strcmp(name, "--min-tau") == 0) o->th.min_tau = v;
  else if (strcmp(name, "--late-ratio") == 0) o->th.late_ratio = v;
  else return tcli_usage_error("gctrace", "unknown option '%s' (see --help)", name);
  return 0;
}

/* Fills O from the arguments; returns -1 after --help/--version, 2 on a usage error. */
static int parse_args(int argc, char **argv, options *o) {
  static const char *const k_valued[] = {"--svg", "--format", "--fail-on-growth", "--skip", "--min-gcs",
                                         "--min-growth", "--min-rel", "--min-tau", "--late-ratio", "--registry"};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return -1;
    }
    if (strcmp(a, "--version") == 0) {
      printf("tether %s\n", TETHER_VERSION);
      return -1;
    }
    if (strcmp(a, "--tee") == 0) {
      o->tee = 1;
      continue;
    }
    if (a[0] != '-' || strcmp(a, "-") == 0) {
      if (o->input != NULL) return tcli_usage_error("gctrace", "one input only ('%s' and '%s')", o->input, a);
      o->input = a;
      continue;
    }
    char name[32];
    const char *value;
    if (tcli_valued_option("gctrace", argc, argv, &i, k_valued, sizeof k_valued / sizeof k_valued[0], name,
                           sizeof name, &value) != 0)
      return TCLI_USAGE;
    int rc = option_value(o, name, value);
    if (rc != 0) return rc;
  }
  if (o->input == NULL) o->input = "-";
  return 0;
}

/* Writes all of BUF to standard output; returns -1 once the reader has gone. */
static int tee_out(const char *buf, size_t n) {
  while (n > 0) {
    ssize_t w = write(STDOUT_FILENO, buf, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    buf += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Reads the whole input into TR. Returns 0, or 2 after printing why not. */
static int read_input(const options *o, gct_trace *tr) {
  int fd = strcmp(o->input, "-") == 0 ? STDIN_FILENO : open(o->input, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return tcli_usage_error("gctrace", "cannot open %s: %s", o->input, strerror(errno));
  char *buf = malloc(CHUNK);
  int rc = 0, teeing = o->tee;
  if (buf == NULL) rc = tcli_usage_error("gctrace", "out of memory");
  while (rc == 0 && !g_stop) {
    ssize_t got = read(fd, buf, CHUNK);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) rc = tcli_usage_error("gctrace", "cannot read %s: %s", o->input, strerror(errno));
    if (got <= 0) break;
    if (teeing && tee_out(buf, (size_t)got) != 0) teeing = 0;
    if (gct_trace_feed(tr, buf, (size_t)got) != 0) rc = tcli_usage_error("gctrace", "out of memory");
  }
  if (rc == 0 && gct_trace_finish(tr) != 0) rc = tcli_usage_error("gctrace", "out of memory");
  if (fd != STDIN_FILENO) close(fd);
  free(buf);
  return rc;
}

/* Writes the chart to the already open SVG file F and closes it. */
static int write_svg(const options *o, FILE *f, const gct_result *r) {
  int bad = gct_write_svg(f, r) != 0;
  bad |= fclose(f) != 0;
  return bad ? tcli_usage_error("gctrace", "cannot write %s", o->svg) : 0;
}

/* Analyses TR, prints the report and writes the chart to SVG (when not NULL, which
 * this closes); returns the exit status. */
static int report(const options *o, const gct_trace *tr, FILE *svg) {
  gct_result r;
  memset(&r, 0, sizeof r);
  r.input = o->input;
  r.trace = tr;
  r.th = o->th;
  r.gate_rate = o->gate;
  r.skip_s = o->skip_s;
  r.skip_gcs = o->skip_gcs;
  if (tr->tether) {
    /* Exact bytes, not Go's whole MB: no rounding step, and the growth floor is
     * the relative one unless --min-growth says otherwise. */
    r.th.quantum_mb = 0;
    if (!o->min_growth_set) r.th.min_growth_mb = 0;
  }
  int rc = TCLI_OK;
  if (tr->n_gcs == 0 && tr->other_registry > 0)
    rc = tcli_usage_error("gctrace", "no tether lines of registry %u in %s", o->registry,
                          strcmp(o->input, "-") == 0 ? "standard input" : o->input);
  else if (tr->n_gcs == 0)
    rc = tcli_usage_error("gctrace",
                          "no gctrace lines ('gc N @...') nor tether trace lines in %s; run the program with "
                          "GODEBUG=gctrace=1 (Go) or TETHER_DEBUG=trace (libtether)",
                          strcmp(o->input, "-") == 0 ? "standard input" : o->input);
  else if (gct_analyse(&r) != 0)
    rc = tcli_usage_error("gctrace", "out of memory");
  if (rc != TCLI_OK) {
    if (svg != NULL) {
      fclose(svg);
      unlink(o->svg);
    }
    return rc;
  }
  FILE *out = o->tee ? stderr : stdout;
  if (o->json) gct_print_json(out, &r);
  else gct_print_text(out, &r);
  fflush(out);
  if (svg != NULL && write_svg(o, svg, &r) != 0) return TCLI_USAGE;
  return r.gate_tripped ? TCLI_FOUND : TCLI_OK;
}

int tether_cmd_gctrace(int argc, char **argv) {
  options o;
  memset(&o, 0, sizeof o);
  o.gate = NAN;
  gct_thresholds_default(&o.th);
  int rc = parse_args(argc, argv, &o);
  if (rc != 0) return rc < 0 ? TCLI_OK : rc;
  FILE *svg = o.svg != NULL ? fopen(o.svg, "w") : NULL;
  if (o.svg != NULL && svg == NULL)
    return tcli_usage_error("gctrace", "cannot write %s: %s", o.svg, strerror(errno));
  if (o.tee) signal(SIGPIPE, SIG_IGN);
  g_stop = 0;
  catch_stop_signals();
  gct_trace tr;
  memset(&tr, 0, sizeof tr);
  tr.want_registry = o.registry;
  rc = read_input(&o, &tr);
  if (rc == 0) {
    rc = report(&o, &tr, svg);
  } else if (svg != NULL) {
    fclose(svg);
    unlink(o.svg);
  }
  gct_trace_free(&tr);
  return rc;
}
