/* The tool's front door: --version, --help, unknown commands. */
#include <stdio.h>
#include <stdlib.h>

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
