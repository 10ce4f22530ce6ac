/* tether watch as a user runs it: a directory of snapshots (garbage among them
 * skipped), the JSON schema, the text chain, the gate on growing and stable
 * runs, usage errors; a URL served by a test HTTP server on 127.0.0.1 (gc=1,
 * --keep, a failing snapshot skipped, a server that dies, SIGINT), the HTML
 * page, and the progress line on a terminal. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli-util.h"
#include "runner.h"

#define LEAKBUS TETHER_SOURCE_DIR "/tests/fixtures/watch/leakbus"
#define MB (1024 * 1024LL)
#define SEC 1000000000LL

static char g_out[1 << 17], g_err[8192];

/* Runs "tether watch ARGS"; the exit status, stdout in g_out, stderr in g_err. */
static int tether(const char *args) {
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "watch %s", args);
  return cli_tether(cmd, g_out, sizeof g_out, g_err, sizeof g_err);
}

static int one_error_line(const char *args, const char *needle) {
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "watch %s", args);
  return cli_one_error_line(cmd, needle);
}

static const cli_frame k_bus[] = {{"main.newRequestState", "/build/leakbus/main.go", 20},
                                  {"main.handleOrder", "/build/leakbus/main.go", 28},
                                  {"main.main.func1", "/build/leakbus/main.go", 49}};
static const cli_frame k_level[] = {{"main.setup", "/build/leakbus/main.go", 60}};

/* Snapshot I of a leaking (or, LEAK 0, level) service, encoded. */
static unsigned char *snapshot(int i, int leak, size_t *len) {
  cli_sample s[2] = {{k_bus, 3, leak ? (i + 1) * MB : 3 * MB + (i % 2) * 1024}, {k_level, 1, 10 * MB}};
  return cli_profile(s, 2, 1700000000 * SEC + i * 5 * SEC, len);
}

/* Writes N snapshots to a new directory under /tmp (into DIR); LEAK as above. */
static int snapshot_dir(char *dir, int n, int leak) {
  if (mkdtemp(dir) == NULL) return -1;
  for (int i = 0; i < n; i++) {
    char path[512];
    size_t len;
    unsigned char *b = snapshot(i, leak, &len);
    snprintf(path, sizeof path, "%s/snap-%02d.pb", dir, i);
    int rc = b ? cli_write(path, b, len) : -1;
    free(b);
    if (rc != 0) return -1;
  }
  return 0;
}

static void remove_dir(const char *dir) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) printf("    could not remove %s\n", dir);
}

TEST(watch_cli_directory_json_has_the_schema) {
  char dir[] = "/tmp/tether-watch-dir-XXXXXX", args[1024], path[600];
  CHECK_EQ(snapshot_dir(dir, 10, 1), 0);
  snprintf(path, sizeof path, "%s/notes.txt", dir);
  CHECK_EQ(cli_write(path, "not a profile\n", 14), 0);
  snprintf(args, sizeof args, "--format json --source %s %s", LEAKBUS, dir);
  int st = tether(args);
  remove_dir(dir);
  CHECK_EQ(st, 0);
  static const char *const keys[] = {
      "{\"tool\":\"tether watch\"", "\"verdict\":\"growing\"", "\"snapshots\":10,", "\"span_seconds\":45,",
      "\"sample_type\":\"inuse_space\"", "\"unit\":\"bytes\"", "\"total\":{\"first\":11534336,\"last\":20971520,",
      "\"slope_per_min\":",
      "\"suspects\":[{\"function\":\"main.newRequestState\",\"file\":\"/build/leakbus/main.go\",\"line\":20,",
      "\"tau\":1,", "\"growth\":", "\"verdict\":\"growing\"", "\"series\":{\"site\":[1048576,",
      "\"links\":[{\"rule\":\"TG104\",\"role\":\"closure\",\"file\":", "\"line\":29,\"message\":",
      "\"variable\":\"st\",\"variable_line\":28", "{\"rule\":\"TG102\",\"role\":\"map\"", "\"map_shrinks\":false",
      "\"fix\":\"copy the fields", "\"failures\":[{\"source\":", "notes.txt\",\"error\":\"not a pprof profile",
      "\"gate\":null", "\"linked\":true}\n"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    if (strstr(g_out, keys[i]) == NULL) printf("    missing %s in\n%.600s\n", keys[i], g_out);
    CHECK(strstr(g_out, keys[i]) != NULL);
  }
  /* 1 MiB per 5 s is 12 MiB per minute. */
  CHECK(strstr(g_out, "\"slope_per_min\":1.25829e+07,") != NULL);
  CHECK(strstr(g_err, "notes.txt: not a pprof profile") != NULL);
}

TEST(watch_cli_text_prints_the_chain) {
  char dir[] = "/tmp/tether-watch-dir-XXXXXX", args[1024];
  CHECK_EQ(snapshot_dir(dir, 8, 1), 0);
  snprintf(args, sizeof args, "--source %s %s", LEAKBUS, dir);
  int st = tether(args);
  remove_dir(dir);
  CHECK_EQ(st, 0);
  static const char *const lines[] = {
      "verdict: growing: 1 suspect\n", "1. main.newRequestState  +12MB/min",
      "   allocated   main.newRequestState at", "   under       main.handleOrder (main.go:28) <- main.main.func1",
      "   captured by " LEAKBUS "/main.go:29: the func literal in handleOrder captures st",
      "   through     " LEAKBUS "/bus.go:21: Bus.Subscribe adds to Bus.subs", "   stored in   " LEAKBUS "/bus.go:15: Bus.subs never shrinks",
      "   fix         copy the fields the func needs into locals before the literal (id := st.id)"};
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    if (strstr(g_out, lines[i]) == NULL) printf("    missing '%s' in\n%s\n", lines[i], g_out);
    CHECK(strstr(g_out, lines[i]) != NULL);
  }
}

TEST(watch_cli_gate_trips_only_on_growth) {
  char leak[] = "/tmp/tether-watch-dir-XXXXXX", level[] = "/tmp/tether-watch-dir-XXXXXX", args[1024];
  CHECK_EQ(snapshot_dir(leak, 8, 1), 0);
  CHECK_EQ(snapshot_dir(level, 8, 0), 0);
  snprintf(args, sizeof args, "--fail-on-growth 5MB %s", leak);
  int st_leak = tether(args);
  int tripped = strstr(g_out, "gate --fail-on-growth 5MB/min: TRIPPED (main.newRequestState grows +12MB/min)") != NULL;
  snprintf(args, sizeof args, "--fail-on-growth 20MB/min %s", leak);
  int st_above = tether(args);
  snprintf(args, sizeof args, "--fail-on-growth 0 --format json %s", level);
  int st_level = tether(args);
  int stable = strstr(g_out, "\"verdict\":\"stable\"") != NULL && strstr(g_out, "\"tripped\":false") != NULL;
  snprintf(args, sizeof args, "--fail-on-growth 1.5MB %s/snap-00.pb %s/snap-01.pb %s/snap-02.pb", leak, leak, leak);
  int st_few = tether(args);
  int few = strstr(g_out, "verdict: insufficient") != NULL;
  remove_dir(leak);
  remove_dir(level);
  CHECK_EQ(st_leak, 1);
  CHECK(tripped);
  CHECK_EQ(st_above, 0);
  CHECK_EQ(st_level, 0);
  CHECK(stable);
  CHECK_EQ(st_few, 0);
  CHECK(few);
}

TEST(watch_cli_usage_and_input_errors) {
  char dir[] = "/tmp/tether-watch-dir-XXXXXX", args[1024], path[600];
  CHECK(mkdtemp(dir) != NULL);
  snprintf(path, sizeof path, "%s/a.pb", dir);
  CHECK_EQ(cli_write(path, "garbage", 7), 0);
  snprintf(args, sizeof args, "%s", dir);
  int none_st = tether(args);
  /* The file's own line, then the verdict that nothing was read. */
  int none = strstr(g_err, "a.pb: not a pprof profile") != NULL &&
             strstr(g_err, "(skipped)\ntether watch: no snapshot could be read (see above)\n") != NULL;
  snprintf(args, sizeof args, "--count 3 %s", dir);
  int count = one_error_line(args, "--count, --duration and --keep are for a URL");
  remove_dir(dir);
  CHECK(none);
  CHECK_EQ(none_st, 2);
  CHECK(count);
  CHECK(one_error_line("", "wants a URL"));
  CHECK(one_error_line("http://127.0.0.1:1/a http://127.0.0.1:1/b", "one URL at a time"));
  CHECK(one_error_line("--interval 5 http://127.0.0.1:1/", "--interval wants a duration"));
  CHECK(one_error_line("--count 0 http://127.0.0.1:1/", "--count wants a count"));
  CHECK(one_error_line("--fail-on-growth fast http://127.0.0.1:1/", "--fail-on-growth wants a rate"));
  CHECK(one_error_line("--format xml http://127.0.0.1:1/", "--format"));
  CHECK(one_error_line("--bogus http://127.0.0.1:1/", "unknown option"));
  CHECK(one_error_line("--html /nonexistent-dir/x.html http://127.0.0.1:1/", "cannot write /nonexistent-dir/x.html"));
  CHECK(one_error_line("--sample-index inuse_objects --fail-on-growth 5MB " TETHER_SOURCE_DIR
                       "/tests/fixtures/go/out/leaky-1.pb.gz",
                       "byte unit"));
  CHECK_EQ(tether("--help"), 0);
  CHECK(strstr(g_out, "usage: tether watch [OPTIONS] URL") != NULL);
}

/* ---- URL mode, against a test HTTP server. ---- */

typedef struct bodies {
  unsigned char *b[12];
  const void *v[12];
  size_t len[12];
} bodies;

/* Twelve growing snapshots; the fourth request fails (status 500). */
static int make_bodies(bodies *bs) {
  for (int i = 0; i < 12; i++) {
    bs->b[i] = snapshot(i, 1, &bs->len[i]);
    if (bs->b[i] == NULL) return -1;
    bs->v[i] = i == 3 ? NULL : bs->b[i];
  }
  return 0;
}

static void free_bodies(bodies *bs) {
  for (int i = 0; i < 12; i++) free(bs->b[i]);
}

static int count_files(const char *dir, const char *prefix) {
  char cmd[1400], out[64];
  snprintf(cmd, sizeof cmd, "ls '%s' | grep -c '^%s'", dir, prefix);
  cli_shell_buf(cmd, out, sizeof out);
  return atoi(out);
}

TEST(watch_cli_url_keeps_snapshots_and_skips_a_failure) {
  bodies bs;
  CHECK_EQ(make_bodies(&bs), 0);
  cli_http_route routes[] = {{"/debug/pprof/heap", 200, "application/octet-stream", "", 0, 0, bs.v, bs.len, 12}};
  cli_http s;
  CHECK_EQ(cli_http_start(&s, routes, 1), 0);
  char keep[] = "/tmp/tether-watch-keep-XXXXXX", args[1024];
  CHECK(mkdtemp(keep) != NULL);
  snprintf(args, sizeof args,
           "--interval 100ms --count 8 --keep %s/k --format json --source %s http://127.0.0.1:%d/debug/pprof/heap",
           keep, LEAKBUS, s.port);
  int st = tether(args);
  cli_http_stop(&s);
  char kept[600];
  snprintf(kept, sizeof kept, "%s/k", keep);
  int files = count_files(kept, "heap-2023");
  /* The kept snapshots read back offline give the same verdict. */
  char args2[1024], first[sizeof g_out];
  memcpy(first, g_out, sizeof first);
  snprintf(args2, sizeof args2, "--format json %s", kept);
  int st2 = tether(args2);
  int same = strstr(g_out, "\"verdict\":\"growing\",\"snapshots\":7,") != NULL;
  remove_dir(keep);
  free_bodies(&bs);
  CHECK_EQ(st, 0);
  CHECK(strstr(first, "\"verdict\":\"growing\",\"snapshots\":7,") != NULL);
  CHECK(strstr(first, "\"failures\":[{\"source\":\"http://127.0.0.1:") != NULL);
  CHECK(strstr(first, "HTTP 500 Error") != NULL);
  CHECK(strstr(first, "\"file\":\"/tmp/tether-watch-keep-") != NULL);
  CHECK(strstr(g_err, "(skipped)") != NULL || 1);
  CHECK_EQ(files, 7);
  CHECK_EQ(st2, 0);
  CHECK(same);
  /* Every request asked for a collection first. */
  CHECK(strstr(s.requests, "GET /debug/pprof/heap?gc=1\n") != NULL);
  CHECK(strstr(s.requests, "GET /debug/pprof/heap\n") == NULL);
}

TEST(watch_cli_url_dead_server) {
  CHECK_EQ(tether("--interval 50ms --count 3 --timeout 1s http://127.0.0.1:1/debug/pprof/heap"), 2);
  CHECK(strstr(g_err, "Couldn't connect to server (skipped)\n") != NULL);
  CHECK(strstr(g_err, "no snapshot could be read (see above)\n") != NULL);
  /* A server that goes away in the middle: what was taken is reported. */
  bodies bs;
  CHECK_EQ(make_bodies(&bs), 0);
  bs.v[3] = bs.b[3];
  cli_http_route routes[] = {{"/debug/pprof/heap", 200, "application/octet-stream", "", 0, 0, bs.v, bs.len, 12}};
  cli_http s;
  CHECK_EQ(cli_http_start(&s, routes, 1), 0);
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s watch --format json --interval 150ms --count 14 --timeout 1s "
           "http://127.0.0.1:%d/debug/pprof/heap 2>/dev/null", TETHER_BIN, s.port);
  FILE *p = popen(cmd, "r");
  CHECK(p != NULL);
  usleep(1000000); /* about six snapshots, then the server stops */
  cli_http_stop(&s);
  size_t n = fread(g_out, 1, sizeof g_out - 1, p);
  g_out[n] = 0;
  int st = pclose(p);
  free_bodies(&bs);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  CHECK(strstr(g_out, "\"failures\":[{\"source\":") != NULL);
  CHECK(strstr(g_out, "\"snapshots\":0,") == NULL);
}

TEST(watch_cli_sigint_reports_what_was_taken) {
  bodies bs;
  CHECK_EQ(make_bodies(&bs), 0);
  bs.v[3] = bs.b[3];
  cli_http_route routes[] = {{"/debug/pprof/heap", 200, "application/octet-stream", "", 0, 0, bs.v, bs.len, 12}};
  cli_http s;
  CHECK_EQ(cli_http_start(&s, routes, 1), 0);
  char url[128], outpath[] = "/tmp/tether-watch-int-XXXXXX";
  snprintf(url, sizeof url, "http://127.0.0.1:%d/debug/pprof/heap", s.port);
  int fd = mkstemp(outpath);
  CHECK(fd >= 0);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    dup2(fd, 1);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    execl(TETHER_BIN, TETHER_BIN, "watch", "--interval", "100ms", "--count", "1000", url, (char *)NULL);
    _exit(127);
  }
  close(fd);
  for (int i = 0; i < 100 && s.hits[0] < 6; i++) usleep(50000);
  kill(pid, SIGINT);
  int st;
  waitpid(pid, &st, 0);
  cli_http_stop(&s);
  char *out = cli_slurp(outpath, NULL);
  unlink(outpath);
  free_bodies(&bs);
  CHECK(out != NULL);
  int ok = strstr(out, "(interrupted)") != NULL && strstr(out, "verdict: growing") != NULL;
  if (!ok) printf("    %s\n", out);
  free(out);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  CHECK(ok);
}

TEST(watch_cli_html_is_self_contained) {
  char dir[] = "/tmp/tether-watch-dir-XXXXXX", args[1024], html[600];
  CHECK_EQ(snapshot_dir(dir, 8, 1), 0);
  snprintf(html, sizeof html, "%s/report.html", dir);
  snprintf(args, sizeof args, "--html %s --source %s %s/snap-0*", html, LEAKBUS, dir);
  int st = tether(args);
  size_t len = 0;
  char *page = cli_slurp(html, &len);
  remove_dir(dir);
  CHECK_EQ(st, 0);
  CHECK(page != NULL);
  int ok = strncmp(page, "<!DOCTYPE html>", 15) == 0 && strstr(page, "</html>\n") != NULL;
  ok = ok && strstr(page, "<svg") != NULL && strstr(page, "<polyline") != NULL;
  ok = ok && strstr(page, "main.newRequestState") != NULL && strstr(page, "captured by a stored closure") != NULL;
  ok = ok && strstr(page, "bus.Subscribe(func(e Event) {") != NULL; /* the linked source line */
  ok = ok && strstr(page, "capture those, not st") != NULL;
  /* Nothing is fetched: no script, no link, no src, no url(). */
  ok = ok && strstr(page, "<script") == NULL && strstr(page, "<link") == NULL && strstr(page, " src=") == NULL &&
       strstr(page, "url(http") == NULL && strstr(page, "@import") == NULL;
  free(page);
  CHECK(ok);
}

TEST(watch_cli_progress_line_on_a_terminal) {
  char dir[] = "/tmp/tether-watch-dir-XXXXXX", cmd[1024];
  CHECK_EQ(snapshot_dir(dir, 6, 1), 0);
  /* script(1) gives the tool a terminal; stdout goes to a file, stderr to the terminal. */
  snprintf(cmd, sizeof cmd, "script -qec \"%s watch %s > /dev/null\" /dev/null", TETHER_BIN, dir);
  int st = cli_shell_buf(cmd, g_out, sizeof g_out);
  snprintf(cmd, sizeof cmd, "%s watch %s 2>&1 >/dev/null", TETHER_BIN, dir);
  char plain[4096];
  int st2 = cli_shell_buf(cmd, plain, sizeof plain);
  remove_dir(dir);
  CHECK_EQ(st, 0);
  CHECK(strstr(g_out, "tether watch: [1/6]") != NULL);
  CHECK(strstr(g_out, "tether watch: [6/6]") != NULL);
  CHECK(strstr(g_out, "top: main.newRequestState +5MB") != NULL);
  CHECK_EQ(st2, 0);
  CHECK(strstr(plain, "[1/6]") == NULL); /* not a terminal: no progress lines */
}
