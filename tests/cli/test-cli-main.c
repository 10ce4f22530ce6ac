/* The tool's front door: --version, --help, unknown commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tether/tether.h>

#include "cli-util.h"
#include "runner.h"

/* Runs the tether binary with ARGS; returns its exit status and the first line of
 * its standard output in LINE. */
static int run_tool(const char *args, char *line, size_t n) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s %s 2>/dev/null", TETHER_BIN, args);
  int st = cli_shell_buf(cmd, line, n);
  char *nl = strchr(line, '\n');
  if (nl != NULL) nl[1] = '\0';
  return st;
}

TEST(cli_version) {
  char line[256];
  CHECK_EQ(run_tool("--version", line, sizeof line), 0);
  CHECK_STREQ(line, "tether 0.1.0\n");
}

/* The version lines: the library the tool runs with, and the grammars compiled
 * in, as scripts/grammars.sh pinned and recorded them in third_party/. */
TEST(cli_version_names_library_and_grammars) {
  char cmd[1024], *out = NULL, want[256], *v[2] = {NULL, NULL};
  const char *langs[2] = {"go", "c"};
  for (int i = 0; i < 2; i++) {
    snprintf(cmd, sizeof cmd, "%s/third_party/tree-sitter-%s/.version", TETHER_SOURCE_DIR, langs[i]);
    v[i] = cli_slurp(cmd, NULL);
    CHECK(v[i] != NULL);
    char *nl = strchr(v[i], '\n');
    if (nl != NULL) *nl = '\0';
  }
  snprintf(cmd, sizeof cmd, "%s --version", TETHER_BIN);
  CHECK_EQ(cli_shell(cmd, &out), 0);
  CHECK(out != NULL);
  snprintf(want, sizeof want, "tether %s\nlibtether %s\ngrammars: tree-sitter-go %s, tree-sitter-c %s\n",
           tether_version(), tether_version(), v[0], v[1]);
  CHECK_STREQ(out, want);
  free(out);
  free(v[0]);
  free(v[1]);
}

TEST(cli_help_lists_commands) {
  char cmd[1024], buf[4096];
  snprintf(cmd, sizeof cmd, "%s --help", TETHER_BIN);
  CHECK_EQ(cli_shell_buf(cmd, buf, sizeof buf), 0);
  CHECK(strstr(buf, "scan") != NULL);
  CHECK(strstr(buf, "diff") != NULL);
  CHECK(strstr(buf, "gctrace") != NULL);
}

TEST(cli_unknown_command_is_usage_error) {
  char line[256];
  CHECK_EQ(run_tool("frobnicate", line, sizeof line), 2);
  CHECK_EQ(run_tool("", line, sizeof line), 2);
}
