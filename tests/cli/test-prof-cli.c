/* tether diff and tether top as a user runs them: the table, --top, JSON, the
 * growth gate on the leaky and fixed programs' profiles, and bad input of every
 * kind answered with one line on stderr and exit status 2. */
#include <stdlib.h>
#include <unistd.h>

#include "cli-util.h"
#include "runner.h"

#define OUT TETHER_SOURCE_DIR "/tests/fixtures/go/out/"
#define CORPUS TETHER_SOURCE_DIR "/fuzz/corpus/profile/"

static char g_out[1 << 16], g_err[4096];

/* Runs "tether ARGS"; returns the exit status, stdout in g_out, stderr in g_err. */
static int tether(const char *args) { return cli_tether(args, g_out, sizeof g_out, g_err, sizeof g_err); }

static int lines_in(const char *s) {
  int n = 0;
  for (; *s; s++) n += *s == '\n';
  return n;
}

TEST(prof_cli_diff_table_shows_the_leak) {
  CHECK_EQ(tether("diff " OUT "leaky-1.pb.gz " OUT "leaky-4.pb.gz"), 0);
  CHECK(strstr(g_out, "Type: inuse_space\n") != NULL);
  CHECK(strstr(g_out, "      flat  flat%   sum%        cum   cum%\n") != NULL);
  /* The first row is the growing function, with a sign and a human unit. */
  const char *row = strstr(g_out, "cum%\n") + 5;
  CHECK(strstr(row, "main.loadHeavy\n") != NULL);
  CHECK(strncmp(row, "  +99.", 6) == 0);
  CHECK(strstr(g_out, "main.serve (inline)\n") != NULL);
  CHECK_EQ(g_err[0], 0);
}

TEST(prof_cli_top_limits_rows_and_sample_index_switches_type) {
  CHECK_EQ(tether("top --top 2 --sample-index alloc_objects " OUT "leaky-4.pb.gz"), 0);
  CHECK(strstr(g_out, "Type: alloc_objects\n") != NULL);
  CHECK(strstr(g_out, "Showing top 2 nodes out of ") != NULL);
  CHECK_EQ(lines_in(strstr(g_out, "cum%\n") + 5), 2);
  CHECK_EQ(tether("top --sample-index=0 --raw " OUT "leaky-4.pb.gz"), 0);
  CHECK(strstr(g_out, "Type: alloc_objects\n") != NULL);
}

TEST(prof_cli_json_has_the_schema_fields) {
  CHECK_EQ(tether("diff --format json --lines " OUT "leaky-1.pb.gz " OUT "leaky-4.pb.gz"), 0);
  CHECK(g_out[0] == '{' && strstr(g_out, "}\n") != NULL);
  CHECK(strstr(g_out, "\"command\":\"diff\"") != NULL);
  CHECK(strstr(g_out, "\"sample_type\":\"inuse_space\",\"unit\":\"bytes\"") != NULL);
  CHECK(strstr(g_out, "\"granularity\":\"lines\"") != NULL);
  CHECK(strstr(g_out, "\"rows\":[{\"name\":\"main.loadHeavy ") != NULL);
  CHECK(strstr(g_out, "leaky/main.go:") != NULL);
}

TEST(prof_cli_growth_gate_trips_on_leaky_only) {
  CHECK_EQ(tether("diff --fail-if-growth 10MB " OUT "leaky-1.pb.gz " OUT "leaky-4.pb.gz"), 1);
  CHECK(strstr(g_err, "exceeds --fail-if-growth 10MB") != NULL);
  CHECK_EQ(tether("diff --fail-if-growth 10MB " OUT "fixed-1.pb.gz " OUT "fixed-4.pb.gz"), 0);
  CHECK_EQ(tether("diff --fail-if-growth 1000 --sample-index inuse_objects " OUT "leaky-1.pb.gz " OUT
                  "leaky-4.pb.gz"),
           1);
  CHECK_EQ(tether("diff --format json --fail-if-growth 1GiB " OUT "leaky-1.pb.gz " OUT "leaky-4.pb.gz"), 0);
  CHECK(strstr(g_out, "\"gate\":{\"limit\":1073741824,\"tripped\":false}") != NULL);
}

TEST(prof_cli_closures_name_the_enclosing_function) {
  CHECK_EQ(tether("diff --closures --top 1 " OUT "leaky-1.pb.gz " OUT "leaky-4.pb.gz"), 0);
  CHECK(strstr(g_out, "main.main.func1 (in main.main at ") != NULL);
}

/* Each bad input: exit 2 and exactly one line on stderr naming the file. */
#define one_error_line cli_one_error_line

TEST(prof_cli_bad_input_is_one_line_and_status_2) {
  CHECK(one_error_line("top " CORPUS "empty", "empty: not a pprof profile"));
  CHECK(one_error_line("top " CORPUS "not-a-profile.txt", "not a pprof profile"));
  CHECK(one_error_line("top " CORPUS "leaky-1-truncated.pb.gz", "truncated gzip"));
  CHECK(one_error_line("top " CORPUS "leaky-1-truncated.raw.pb", "truncated"));
  CHECK(one_error_line("top " CORPUS "bad-gzip.gz", "corrupt gzip"));
  CHECK(one_error_line("top " CORPUS "unknown-location.pb", "unknown location id 7"));
  CHECK(one_error_line("top " CORPUS "long-varint.pb", "not a pprof profile"));
  CHECK(one_error_line("diff " OUT "leaky-1.pb.gz /nonexistent/x.pb.gz", "/nonexistent/x.pb.gz"));
  CHECK(one_error_line("top /", "/"));
}

TEST(prof_cli_usage_errors_are_status_2) {
  CHECK(one_error_line("diff " OUT "leaky-1.pb.gz", "BASE and CUR"));
  CHECK(one_error_line("top", "PROFILE"));
  CHECK(one_error_line("top --bogus " OUT "leaky-1.pb.gz", "unknown option"));
  CHECK(one_error_line("top --top x " OUT "leaky-1.pb.gz", "--top"));
  CHECK(one_error_line("top --format xml " OUT "leaky-1.pb.gz", "--format"));
  CHECK(one_error_line("top --fail-if-growth 10XB " OUT "leaky-1.pb.gz", "--fail-if-growth"));
  CHECK(one_error_line("top --sample-index nope " OUT "leaky-1.pb.gz", "no sample type 'nope'"));
  CHECK(one_error_line("top --focus '(' " OUT "leaky-1.pb.gz", "--focus"));
  CHECK(one_error_line("diff --fail-if-growth 1MB --sample-index inuse_objects " OUT "leaky-1.pb.gz " OUT
                       "leaky-2.pb.gz",
                       "byte unit"));
  CHECK(one_error_line("top --fail-if-growth 1MB " OUT "leaky-1.pb.gz", "--fail-if-growth needs a base"));
  CHECK(one_error_line("top --source . " OUT "leaky-1.pb.gz", "--source goes with --list"));
  CHECK(one_error_line("top --list 'nomatch$' " OUT "leaky-1.pb.gz", "no function with samples matches"));
  CHECK(one_error_line("top --list '[' " OUT "leaky-1.pb.gz", "bad --list regular expression"));
  CHECK(one_error_line("top --timeout 5 " OUT "leaky-1.pb.gz", "--timeout"));
  CHECK_EQ(tether("diff --help"), 0);
  CHECK(strstr(g_out, "usage: tether diff [OPTIONS] BASE CUR") != NULL);
  CHECK_EQ(tether("top --version"), 0);
  CHECK(strncmp(g_out, "tether ", 7) == 0);
}

/* tether top --list against pprof -list -source_path (tests/fixtures/go/gen.sh
 * recorded them, out/pprof/LIST): the same text, line for line. */
TEST(prof_cli_list_agrees_with_pprof) {
  char *index = cli_slurp(OUT "pprof/LIST", NULL);
  CHECK(index != NULL);
  int cases = 0, same = 0;
  for (char *line = strtok(index, "\n"); line != NULL; line = strtok(NULL, "\n")) {
    char name[128], regex[128], prof[128], args[1024], path[512];
    if (sscanf(line, "%127s %127s %127s", name, regex, prof) != 3) continue;
    cases++;
    snprintf(args, sizeof args, "top --list '%s' --source " TETHER_SOURCE_DIR "/tests/fixtures/go " OUT "%s", regex,
             prof);
    int st = tether(args);
    snprintf(path, sizeof path, OUT "pprof/%s.txt", name);
    char *want = cli_slurp(path, NULL);
    if (st == 0 && want != NULL && strcmp(want, g_out) == 0) same++;
    else printf("    %s differs:\n%s\n", name, g_out);
    free(want);
  }
  free(index);
  CHECK(cases >= 3);
  CHECK_EQ(same, cases);
}

/* The header pprof prints (File, Type, Time) is tether's too, line for line,
 * before the table; a diff shows the earliest time, as pprof's merge does. */
TEST(prof_cli_header_agrees_with_pprof) {
  static const char *const cases[][2] = {
      {"top --sample-index alloc_space " OUT "leaky-4.pb.gz", "leaky-4.human.txt"},
      {"diff " OUT "leaky-1.pb.gz " OUT "leaky-4.pb.gz", "leaky-1-4.human.txt"},
      {"diff --sample-index alloc_space " OUT "fixed-1.pb.gz " OUT "fixed-4.pb.gz", "fixed-1-4.human.txt"},
      {"diff " OUT "many-1.pb.gz " OUT "many-2.pb.gz", "many-1-2.human.txt"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char args[1024], path[512];
    snprintf(args, sizeof args, "%s", cases[i][0]);
    setenv("TZ", "UTC", 1);
    int st = tether(args);
    unsetenv("TZ");
    snprintf(path, sizeof path, OUT "pprof/%s", cases[i][1]);
    char *want = cli_slurp(path, NULL);
    CHECK_EQ(st, 0);
    CHECK(want != NULL);
    char *end = strstr(want, "Showing nodes");
    CHECK(end != NULL);
    *end = 0;
    /* tether's own Total line (diff) follows pprof's header lines. */
    int ok = strncmp(g_out, want, strlen(want)) == 0 && strstr(want, "File: ") == want &&
             strstr(want, "\nTime: ") != NULL;
    if (!ok) printf("    %s:\n%s---\n%s\n", cases[i][1], want, g_out);
    free(want);
    CHECK(ok);
  }
}

/* Sizes take decimals with a unit: 1.5MB is 1572864 bytes. */
TEST(prof_cli_sizes_take_decimals) {
  CHECK_EQ(tether("diff --format json --fail-if-growth 1.5MB " OUT "leaky-1.pb.gz " OUT "leaky-4.pb.gz"), 1);
  CHECK(strstr(g_out, "\"gate\":{\"limit\":1572864,\"tripped\":true}") != NULL);
  CHECK(tether("diff --format json --fail-if-growth 0.25kB " OUT "fixed-1.pb.gz " OUT "fixed-2.pb.gz") <= 1);
  CHECK(strstr(g_out, "\"limit\":256,") != NULL);
  CHECK(one_error_line("diff --fail-if-growth 1.5 " OUT "leaky-1.pb.gz " OUT "leaky-4.pb.gz", "--fail-if-growth"));
  CHECK(one_error_line("diff --fail-if-growth 1.MB " OUT "leaky-1.pb.gz " OUT "leaky-4.pb.gz", "--fail-if-growth"));
}
