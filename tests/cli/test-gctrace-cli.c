/* tether gctrace as a user runs it: verdicts on the traces of the real Go programs
 * in tests/fixtures/go/ (a leaking callback registry and its fix), --tee in a live
 * pipe, the CI gate, JSON, SVG, and clear exit status 2 on bad input. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli-util.h"
#include "runner.h"

#define LEAKY TETHER_SOURCE_DIR "/tests/fixtures/go/out/leaky.gctrace"
#define FIXED TETHER_SOURCE_DIR "/tests/fixtures/go/out/fixed.gctrace"

/* Runs "tether gctrace ARGS" through the shell (ARGS may redirect); returns its exit
 * status and up to CAP-1 bytes of its standard output in OUT. */
static int gctrace(const char *args, char *out, size_t cap) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "%s gctrace %s", TETHER_BIN, args);
  return cli_shell_buf(cmd, out, cap);
}

static char g_out[1 << 16];

TEST(gctrace_cli_leaky_program_is_growing) {
  CHECK_EQ(gctrace(LEAKY, g_out, sizeof g_out), 0);
  CHECK(strstr(g_out, "verdict: growing\n") != NULL);
  CHECK(strstr(g_out, "live heap: first 0 MB") != NULL);
  CHECK_EQ(gctrace("--format json " LEAKY, g_out, sizeof g_out), 0);
  CHECK(strstr(g_out, "\"verdict\":\"growing\"") != NULL);
  CHECK(strstr(g_out, "\"format\":\"go1.18+\"") != NULL);
}

TEST(gctrace_cli_fixed_program_is_stable) {
  CHECK_EQ(gctrace(FIXED, g_out, sizeof g_out), 0);
  CHECK(strstr(g_out, "verdict: stable\n") != NULL);
  CHECK_EQ(gctrace("--format=json " FIXED, g_out, sizeof g_out), 0);
  CHECK(strstr(g_out, "\"verdict\":\"stable\"") != NULL);
}

TEST(gctrace_cli_fail_on_growth_gate) {
  CHECK_EQ(gctrace("--fail-on-growth 10 " LEAKY, g_out, sizeof g_out), 1);
  CHECK(strstr(g_out, "TRIPPED") != NULL);
  CHECK_EQ(gctrace("--fail-on-growth 1000000 " LEAKY, g_out, sizeof g_out), 0);
  CHECK_EQ(gctrace("--fail-on-growth 0 " FIXED, g_out, sizeof g_out), 0);
  CHECK_EQ(gctrace("--format json --fail-on-growth=10 " LEAKY, g_out, sizeof g_out), 1);
  CHECK(strstr(g_out, "\"tripped\":true") != NULL);
}

/* Writes a trace of N GCs, one every STEP seconds, live heap LIVE(i) MB, to a
 * temporary file whose name goes to PATH (the caller unlinks it). */
static int write_trace(char *path, int n, double step, double (*live)(int i, int n)) {
  int fd = mkstemp(path);
  if (fd < 0) return -1;
  FILE *f = fdopen(fd, "w");
  if (f == NULL) return -1;
  for (int i = 0; i < n; i++) {
    int c = (int)live(i, n);
    fprintf(f, "gc %d @%.3fs 1%%: 0.01+0.5+0.01 ms clock, 0.02+0/0.2/0.4+0.02 ms cpu, "
               "%d->%d->%d MB, %d MB goal, 0 MB stacks, 0 MB globals, 2 P%s\n",
            i + 1, step * i, c + 10, c + 10, c, 2 * c + 4, i % 10 == 9 ? " (forced)" : "");
  }
  return fclose(f);
}

static double rise_2mb_in_60s(int i, int n) { (void)n; return 10 + i / 30; }
static double slow_leak_half_mb_per_min(int i, int n) { (void)n; return 20 + i / 24; } /* a GC every 5 s */
static double warmup_then_level(int i, int n) { (void)n; return i < 48 ? 2 * i : 96 + i % 3; }

/* Writes a trace of N GCs STEP seconds apart (live heap LIVE) and runs
 * `tether gctrace --fail-on-growth RATE` on it; the exit status, the report in OUT. */
static int gate_run(int n, double step, double (*live)(int, int), const char *rate, char *out, size_t cap) {
  char path[] = "/tmp/tether-gate-XXXXXX", args[256];
  if (write_trace(path, n, step, live) != 0) return -1;
  snprintf(args, sizeof args, "--fail-on-growth %s %s", rate, path);
  int st = gctrace(args, out, cap);
  unlink(path);
  return st;
}

/* A slow, steady rise of 2 MB over 60 s is below the verdict's 4 MB minimum
 * growth: stable. Its slope (2 MB/min) is above --fail-on-growth 1, and the gate
 * still passes: a run the verdict calls stable never trips it. A warm-up that
 * levels off raises the overall slope far above 5 MB/min; its verdict is stable
 * and --fail-on-growth 5 (the docs' example) passes too. */
TEST(gctrace_cli_gate_never_trips_on_a_stable_run) {
  CHECK_EQ(gate_run(61, 1, rise_2mb_in_60s, "1", g_out, sizeof g_out), 0);
  CHECK(strstr(g_out, "verdict: stable") != NULL);
  CHECK(strstr(g_out, "trend: +1.") != NULL);
  CHECK(strstr(g_out, "passed (the slope is above the rate, but the verdict is not growing)") != NULL);
  CHECK_EQ(gate_run(120, 1, warmup_then_level, "5", g_out, sizeof g_out), 0);
  CHECK(strstr(g_out, "verdict: stable") != NULL);
  CHECK(strstr(g_out, "levelled off") != NULL);
  CHECK(strstr(g_out, "passed (the slope is above the rate, but the verdict is not growing)") != NULL);
}

/* A real slow leak of 0.5 MB/min over 40 minutes is growing, and a gate below
 * its slope trips; one above it passes. */
TEST(gctrace_cli_gate_trips_on_a_slow_leak) {
  CHECK_EQ(gate_run(480, 5, slow_leak_half_mb_per_min, "0.6", g_out, sizeof g_out), 0);
  CHECK_EQ(gate_run(480, 5, slow_leak_half_mb_per_min, "0.4", g_out, sizeof g_out), 1);
  CHECK(strstr(g_out, "verdict: growing") != NULL);
  CHECK(strstr(g_out, "TRIPPED") != NULL);
}

/* --skip drops the start of the run from the judgement: GCs or a duration. */
TEST(gctrace_cli_skip_ignores_the_start) {
  char path[] = "/tmp/tether-skip-XXXXXX";
  CHECK_EQ(write_trace(path, 120, 1, warmup_then_level), 0);
  char args[256];
  snprintf(args, sizeof args, "--format json %s", path);
  int st0 = gctrace(args, g_out, sizeof g_out);
  int whole = strstr(g_out, "\"judged\":{\"first_gc\":1,\"last_gc\":120,\"skipped\":0}") != NULL;
  int warm_slope = strstr(g_out, "\"slope_mb_per_min\":0,") == NULL;
  snprintf(args, sizeof args, "--format json --skip 48gc %s", path);
  int st1 = gctrace(args, g_out, sizeof g_out);
  int by_count = strstr(g_out, "\"judged\":{\"first_gc\":49,\"last_gc\":120,\"skipped\":48}") != NULL;
  int level_slope = strstr(g_out, "\"slope_mb_per_min\":0,") != NULL;
  snprintf(args, sizeof args, "--format=json --skip=1m30s %s", path);
  int st2 = gctrace(args, g_out, sizeof g_out);
  int by_time = strstr(g_out, "\"judged\":{\"first_gc\":91,\"last_gc\":120,\"skipped\":90}") != NULL;
  snprintf(args, sizeof args, "--skip 118gc %s", path);
  int st3 = gctrace(args, g_out, sizeof g_out);
  int few = strstr(g_out, "verdict: insufficient") != NULL && strstr(g_out, "skipped: the first 118 GCs") != NULL;
  snprintf(args, sizeof args, "--skip 12 %s 2>/dev/null", path);
  int bad = gctrace(args, g_out + 8192, sizeof g_out - 8192);
  snprintf(args, sizeof args, "--skip -3gc %s 2>/dev/null", path);
  int bad2 = gctrace(args, g_out + 8192, sizeof g_out - 8192);
  unlink(path);
  CHECK(st0 == 0 && st1 == 0 && st2 == 0 && st3 == 0);
  CHECK(whole);
  CHECK(warm_slope);
  CHECK(by_count);
  CHECK(level_slope);
  CHECK(by_time);
  CHECK(few);
  CHECK_EQ(bad, 2);
  CHECK_EQ(bad2, 2);
}

/* Two runs in one log (time goes backwards): the verdict is the last run's. */
TEST(gctrace_cli_restart_judges_the_last_run) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "cat %s %s | %s gctrace --format json", FIXED, LEAKY, TETHER_BIN);
  CHECK_EQ(cli_shell_buf(cmd, g_out, sizeof g_out), 0);
  CHECK(strstr(g_out, "\"runs\":2,\"judged\":{\"first_gc\":337,\"last_gc\":407,") != NULL);
  CHECK(strstr(g_out, "\"verdict\":\"growing\"") != NULL);
  snprintf(cmd, sizeof cmd, "cat %s %s | %s gctrace", LEAKY, FIXED, TETHER_BIN);
  CHECK_EQ(cli_shell_buf(cmd, g_out, sizeof g_out), 0);
  CHECK(strstr(g_out, "runs: 2 in the input (time went backwards 1 times); judging the last run, GCs 72-407") != NULL);
  CHECK(strstr(g_out, "verdict: stable") != NULL);
}

/* The chart: a point per GC, forced GCs ringed, a break and a mark at the
 * restart, the title's unit that of the axis, and the trend drawn last. */
TEST(gctrace_cli_svg_marks_points_restarts_and_draws_the_trend_last) {
  char path[] = "/tmp/tether-gctrace-XXXXXX.svg";
  int fd = mkstemps(path, 4);
  CHECK(fd >= 0);
  close(fd);
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "cat %s %s | %s gctrace --svg %s >/dev/null", FIXED, LEAKY, TETHER_BIN, path);
  int rc = cli_shell_buf(cmd, g_out, sizeof g_out);
  char *svg = cli_slurp(path, NULL);
  unlink(path);
  CHECK_EQ(rc, 0);
  CHECK(svg != NULL);
  const char *trend = strstr(svg, "stroke=\"#c0392b\" stroke-width=\"2.5\"");
  const char *last_path = NULL;
  for (const char *q = svg; (q = strstr(q, "<path")) != NULL; q++) last_path = q;
  int ok = trend != NULL && last_path != NULL && trend > last_path && strstr(trend, "<text") == NULL;
  ok = ok && strstr(svg, "stroke-linecap=\"round\" d=\"M") != NULL;   /* the points */
  ok = ok && strstr(svg, "forced GC (runtime.GC)") != NULL && strstr(svg, "a5 5 0 1 0 10 0") != NULL;
  ok = ok && strstr(svg, ">restart</text>") != NULL && strstr(svg, "in 2 runs") != NULL;
  ok = ok && strstr(svg, "over 7.6 s in 2 runs") != NULL && strstr(svg, "the runs laid end to end (s)") != NULL;
  /* Each series is one path with a subpath per run: two M's. */
  const char *live = strstr(svg, "stroke=\"#1f5fbf\" stroke-linejoin");
  ok = ok && live != NULL && strchr(strchr(live, 'M') + 1, 'M') != NULL;
  free(svg);
  CHECK(ok);
}

TEST(gctrace_cli_json_has_every_field) {
  static const char *const keys[] = {"\"gcs\":71", "\"rejoined\":1", "\"span_s\":3.681", "\"gc_cpu_percent\":",
                                     "\"live_mb\":{\"first\":0,\"last\":101,\"min\":0,\"max\":102}",
                                     "\"goal_mb\":", "\"slope_mb_per_min\":", "\"kendall_tau\":", "\"r2\":",
                                     "\"thresholds\":", "\"reasons\":[\"", "\"gate\":null"};
  CHECK_EQ(gctrace("--format json < " LEAKY, g_out, sizeof g_out), 0);
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    if (strstr(g_out, keys[i]) == NULL) fprintf(stderr, "    missing %s\n", keys[i]);
    CHECK(strstr(g_out, keys[i]) != NULL);
  }
}

TEST(gctrace_cli_thresholds_flags) {
  CHECK_EQ(gctrace("--min-growth 1000 " LEAKY, g_out, sizeof g_out), 0);
  CHECK(strstr(g_out, "verdict: stable\n") != NULL);
  CHECK(strstr(g_out, "below 1000.0 MB") != NULL);
  CHECK_EQ(gctrace("--min-gcs 500 " LEAKY, g_out, sizeof g_out), 0);
  CHECK(strstr(g_out, "verdict: insufficient\n") != NULL);
}

TEST(gctrace_cli_tee_passes_input_through) {
  char path[] = "/tmp/tether-gctrace-err-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  close(fd);
  char args[256];
  snprintf(args, sizeof args, "--tee < %s 2> %s", LEAKY, path);
  size_t in_len;
  char *in = cli_slurp(LEAKY, &in_len);
  CHECK(in != NULL);
  int rc = gctrace(args, g_out, sizeof g_out);
  char *err = cli_slurp(path, NULL);
  unlink(path);
  int same = strlen(g_out) == in_len && memcmp(g_out, in, in_len) == 0;
  int verdict = err != NULL && strstr(err, "verdict: growing") != NULL;
  free(in);
  free(err);
  CHECK_EQ(rc, 0);
  CHECK(same);
  CHECK(verdict);
}

/* Waits up to MS milliseconds for FD to have data, then reads it. */
static ssize_t read_within(int fd, char *buf, size_t cap, int ms) {
  struct pollfd p = {fd, POLLIN, 0};
  if (poll(&p, 1, ms) <= 0) return -1;
  return read(fd, buf, cap);
}

/* Starts "tether gctrace --tee" with its standard input, output and error on
 * pipes; returns the pid (-1 on failure) and this side's ends of the pipes. */
static pid_t spawn_tee(int *in_w, int *out_r, int *err_r) {
  int in[2], out[2], err[2];
  if (pipe(in) != 0 || pipe(out) != 0 || pipe(err) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    for (int i = 0; i < 2; i++) close(in[i]), close(out[i]), close(err[i]);
    execl(TETHER_BIN, TETHER_BIN, "gctrace", "--tee", (char *)NULL);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  *in_w = in[1];
  *out_r = out[0];
  *err_r = err[0];
  return pid;
}

/* Reads FD until end of file or 5 s of silence, into a NUL-terminated BUF. */
static void read_all_within(int fd, char *buf, size_t cap) {
  ssize_t n = 0, k;
  while ((k = read_within(fd, buf + n, cap - 1 - (size_t)n, 5000)) > 0) n += k;
  buf[n < 0 ? 0 : n] = 0;
}

TEST(gctrace_cli_tee_is_live_in_a_pipe) {
  int in_w, out_r, err_r;
  pid_t pid = spawn_tee(&in_w, &out_r, &err_r);
  CHECK(pid > 0);
  const char *line = "gc 1 @0.012s 1%: 0.011+0.35+0.003 ms clock, 0.045+0.15/0.28/0.40+0.014 ms cpu, 4->4->0 MB, 5 MB goal, 4 P\n";
  ssize_t w = write(in_w, line, strlen(line));
  char buf[512];
  /* The line must come back while the input is still open. */
  ssize_t got = read_within(out_r, buf, sizeof buf - 1, 5000);
  close(in_w);
  char ebuf[4096];
  read_all_within(err_r, ebuf, sizeof ebuf);
  int st;
  waitpid(pid, &st, 0);
  close(out_r);
  close(err_r);
  CHECK_EQ(w, (ssize_t)strlen(line));
  CHECK_EQ(got, (ssize_t)strlen(line));
  CHECK(memcmp(buf, line, strlen(line)) == 0);
  CHECK(strstr(ebuf, "verdict: insufficient") != NULL);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

TEST(gctrace_cli_ctrl_c_still_reports) {
  int in_w, out_r, err_r;
  pid_t pid = spawn_tee(&in_w, &out_r, &err_r);
  CHECK(pid > 0);
  size_t len;
  char *trace = cli_slurp(LEAKY, &len);
  ssize_t w = trace != NULL ? write(in_w, trace, len) : -1;
  free(trace);
  /* Once all of it has come back, tether has parsed it; the input stays open. */
  size_t back = 0;
  ssize_t k;
  while (back < len && (k = read_within(out_r, g_out, sizeof g_out, 5000)) > 0) back += (size_t)k;
  kill(pid, SIGINT);
  char ebuf[4096];
  read_all_within(err_r, ebuf, sizeof ebuf);
  int st;
  waitpid(pid, &st, 0);
  close(in_w);
  close(out_r);
  close(err_r);
  CHECK_EQ(w, (ssize_t)len);
  CHECK_EQ(back, len);
  CHECK(strstr(ebuf, "verdict: growing") != NULL);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

TEST(gctrace_cli_tee_reader_gone_still_reports) {
  char path[] = "/tmp/tether-gctrace-err-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  close(fd);
  char cmd[1024];
  /* 20 copies (about 1 MB) overflow the pipe, so tether is still writing when head exits. */
  snprintf(cmd, sizeof cmd,
           "(for i in $(seq 20); do cat %s; done | %s gctrace --tee 2> %s; echo $? >> %s) | head -c 10 > /dev/null",
           FIXED, TETHER_BIN, path, path);
  int st = system(cmd);
  char *err = cli_slurp(path, NULL);
  unlink(path);
  size_t n = err != NULL ? strlen(err) : 0;
  int ok = err != NULL && strstr(err, "6720 GCs") != NULL && strstr(err, "verdict: ") != NULL && n >= 3 &&
           strcmp(err + n - 3, "\n0\n") == 0;
  free(err);
  CHECK(st != -1);
  CHECK(ok);
}

TEST(gctrace_cli_svg) {
  char path[] = "/tmp/tether-gctrace-XXXXXX.svg";
  int fd = mkstemps(path, 4);
  CHECK(fd >= 0);
  close(fd);
  char args[256];
  snprintf(args, sizeof args, "--svg %s %s", path, LEAKY);
  int rc = gctrace(args, g_out, sizeof g_out);
  char *svg = cli_slurp(path, NULL);
  unlink(path);
  CHECK_EQ(rc, 0);
  CHECK(svg != NULL);
  int ok = strncmp(svg, "<svg ", 5) == 0 && strstr(svg, "</svg>\n") != NULL &&
           strstr(svg, "live heap (after GC)") != NULL && strstr(svg, "heap at GC start") != NULL &&
           strstr(svg, "heap goal") != NULL && strstr(svg, "trend +") != NULL &&
           strstr(svg, "heap (MB)") != NULL && strstr(svg, "time since program start (s)") != NULL &&
           strstr(svg, "71 GCs over 3.7 s</text>") != NULL;
  free(svg);
  CHECK(ok);
  /* A bad SVG path fails before any input is read: this input never ends. */
  CHECK_EQ(gctrace("--svg /nonexistent-dir/x.svg - < /dev/zero 2>/dev/null", g_out, sizeof g_out), 2);
}

TEST(gctrace_cli_bad_input_is_status_2) {
  CHECK_EQ(gctrace("/nonexistent/trace 2>/dev/null", g_out, sizeof g_out), 2);
  CHECK_EQ(gctrace(TETHER_SOURCE_DIR " 2>/dev/null", g_out, sizeof g_out), 2);
  CHECK_EQ(gctrace("< /dev/null 2>/dev/null", g_out, sizeof g_out), 2);
  CHECK_EQ(gctrace("--bogus " LEAKY " 2>/dev/null", g_out, sizeof g_out), 2);
  CHECK_EQ(gctrace("--fail-on-growth abc " LEAKY " 2>/dev/null", g_out, sizeof g_out), 2);
  CHECK_EQ(gctrace("--fail-on-growth -1 " LEAKY " 2>/dev/null", g_out, sizeof g_out), 2);
  CHECK_EQ(gctrace("--format xml " LEAKY " 2>/dev/null", g_out, sizeof g_out), 2);
  CHECK_EQ(gctrace("--svg 2>/dev/null", g_out, sizeof g_out), 2);
  CHECK_EQ(gctrace(LEAKY " " FIXED " 2>/dev/null", g_out, sizeof g_out), 2);
  CHECK_EQ(gctrace("--help", g_out, sizeof g_out), 0);
  CHECK(strstr(g_out, "--fail-on-growth") != NULL);
}

/* A real Go 1.19 trace with scavenger lines (tests/fixtures/gctrace/gen.sh). */
TEST(gctrace_cli_real_scavenger_lines_are_skipped) {
  CHECK_EQ(gctrace(TETHER_SOURCE_DIR "/tests/fixtures/gctrace/churn.gctrace", g_out, sizeof g_out), 0);
  CHECK(strstr(g_out, "lines: 72 read, 21 GCs (4 forced), 21 scavenger, 30 other; format go1.18+\n") != NULL);
  CHECK(strstr(g_out, "verdict: stable\n") != NULL);
}

TEST(gctrace_cli_tee_json_goes_to_stderr) {
  CHECK_EQ(gctrace("--tee --format json < " FIXED " 2>&1 >/dev/null", g_out, sizeof g_out), 0);
  CHECK(strncmp(g_out, "{\"tool\":\"tether gctrace\"", 24) == 0);
  CHECK(strstr(g_out, "\"verdict\":\"stable\"") != NULL);
}

TEST(gctrace_cli_svg_of_a_long_trace_is_thinned) {
  char path[] = "/tmp/tether-gctrace-XXXXXX.svg";
  int fd = mkstemps(path, 4);
  CHECK(fd >= 0);
  close(fd);
  char args[512];
  /* 200 copies of the leaky trace: 14200 GCs, about 500 KB of vertices unthinned. */
  snprintf(args, sizeof args, "--svg %s - < <(for i in $(seq 200); do cat %s; done) > /dev/null", path, LEAKY);
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "bash -c '%s gctrace %s'", TETHER_BIN, args);
  int st = system(cmd);
  size_t len = 0;
  char *svg = cli_slurp(path, &len);
  int read_ok = svg != NULL;
  unlink(path);
  free(svg);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  CHECK(read_ok);
  CHECK(len < 120000); /* 3 lines of at most 1600 vertices each, plus the frame */
  CHECK(len > 20000);
}
