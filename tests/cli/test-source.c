/* Profile sources of tether top, diff and watch: a URL served by a test HTTP
 * server on 127.0.0.1 (gc=1 added to a heap endpoint without a query, delta
 * profiles left alone, redirects followed), standard input, and each way a
 * fetch goes wrong (404, an HTML page, a text-format profile, an empty body, a
 * server too slow for --timeout, a dead server), every one a single line on
 * stderr and exit status 2. */
#include <stdlib.h>
#include <unistd.h>

#include "cli-util.h"
#include "runner.h"

#define OUT TETHER_SOURCE_DIR "/tests/fixtures/go/out/"

static char g_out[1 << 16], g_err[4096];

static int tether(const char *args) { return cli_tether(args, g_out, sizeof g_out, g_err, sizeof g_err); }

#define one_error_line cli_one_error_line

static const char k_html[] = "<!DOCTYPE html><html><body>/debug/pprof/</body></html>\n";
static const char k_text[] = "heap profile: 3: 1024 [4: 2048] @ heap/1048576\n1: 512 [1: 512] @ 0x1\n";

TEST(source_url_fetches_a_heap_profile_with_gc) {
  size_t len;
  char *prof = cli_slurp(OUT "leaky-4.pb.gz", &len);
  CHECK(prof != NULL);
  cli_http_route routes[] = {{"/debug/pprof/heap", 200, "application/octet-stream", prof, len, 0, NULL, NULL, 0},
                             {"/moved", 302, NULL, "", 0, 0, NULL, NULL, 0}};
  cli_http s;
  CHECK_EQ(cli_http_start(&s, routes, 2), 0);
  char args[512];
  snprintf(args, sizeof args, "top --top 1 http://127.0.0.1:%d/debug/pprof/heap", s.port);
  int st = tether(args);
  int found = strstr(g_out, "main.loadHeavy") != NULL;
  snprintf(args, sizeof args, "top --top 1 'http://127.0.0.1:%d/debug/pprof/heap?seconds=1'", s.port);
  int st2 = tether(args);
  snprintf(args, sizeof args, "diff --top 1 %s http://127.0.0.1:%d/debug/pprof/heap/", OUT "leaky-1.pb.gz", s.port);
  int st3 = tether(args);
  int grew = strstr(g_out, "+99.") != NULL;
  cli_http_stop(&s);
  free(prof);
  CHECK_EQ(st, 0);
  CHECK(found);
  CHECK_EQ(st2, 0);
  CHECK_EQ(st3, 0);
  CHECK(grew);
  CHECK(strstr(s.requests, "GET /debug/pprof/heap?gc=1\n") != NULL);
  CHECK(strstr(s.requests, "GET /debug/pprof/heap?seconds=1\n") != NULL);
  CHECK(strstr(s.requests, "GET /debug/pprof/heap/?gc=1\n") != NULL);
}

TEST(source_bad_answers_are_one_line_and_status_2) {
  cli_http_route routes[] = {
      {"/debug/pprof/nosuch", 404, "text/plain; charset=utf-8", "Unknown profile\n", 16, 0, NULL, NULL, 0},
      {"/debug/pprof/", 200, "text/html; charset=utf-8", k_html, sizeof k_html - 1, 0, NULL, NULL, 0},
      {"/text", 200, "text/plain; charset=utf-8", k_text, sizeof k_text - 1, 0, NULL, NULL, 0},
      {"/html-as-octets", 200, "application/octet-stream", k_html, sizeof k_html - 1, 0, NULL, NULL, 0},
      {"/empty", 200, "application/octet-stream", "", 0, 0, NULL, NULL, 0},
      {"/garbage", 200, "application/octet-stream", "\x1f\x8bxyz", 5, 0, NULL, NULL, 0},
      {"/slow", 200, "application/octet-stream", "", 0, 3000, NULL, NULL, 0},
  };
  cli_http s;
  CHECK_EQ(cli_http_start(&s, routes, sizeof routes / sizeof routes[0]), 0);
  char a[512];
  int ok[8];
  snprintf(a, sizeof a, "top http://127.0.0.1:%d/debug/pprof/nosuch", s.port);
  ok[0] = one_error_line(a, "HTTP 404 Not Found: Unknown profile");
  snprintf(a, sizeof a, "top http://127.0.0.1:%d/debug/pprof/", s.port);
  ok[1] = one_error_line(a, "received an HTML page (Content-Type text/html; charset=utf-8)");
  snprintf(a, sizeof a, "top 'http://127.0.0.1:%d/text?debug=1'", s.port);
  ok[2] = one_error_line(a, "received a text-format profile");
  snprintf(a, sizeof a, "top http://127.0.0.1:%d/html-as-octets", s.port);
  ok[3] = one_error_line(a, "received an HTML page");
  snprintf(a, sizeof a, "top http://127.0.0.1:%d/empty", s.port);
  ok[4] = one_error_line(a, "received an empty body");
  snprintf(a, sizeof a, "top http://127.0.0.1:%d/garbage", s.port);
  ok[5] = one_error_line(a, "gzip");
  snprintf(a, sizeof a, "top --timeout 300ms http://127.0.0.1:%d/slow", s.port);
  ok[6] = one_error_line(a, "no answer within 0.3s (--timeout)");
  int port = s.port;
  cli_http_stop(&s);
  snprintf(a, sizeof a, "top --timeout 2s http://127.0.0.1:%d/debug/pprof/heap", port);
  ok[7] = one_error_line(a, "http://127.0.0.1:");
  for (int i = 0; i < 8; i++) {
    if (!ok[i]) printf("    case %d failed\n", i);
    CHECK(ok[i]);
  }
}

TEST(source_standard_input) {
  CHECK_EQ(tether("top --top 1 - < " OUT "leaky-4.pb.gz"), 0);
  CHECK(strstr(g_out, "main.loadHeavy") != NULL);
  CHECK(one_error_line("top - < /dev/null", "empty: not a pprof profile"));
  CHECK(one_error_line("top - < " TETHER_SOURCE_DIR "/README.md", "not a pprof profile"));
}
