/* The tool's front door: --version, --help, unknown commands. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "runner.h"

/* Runs the tether binary with ARGS through the shell; returns its exit status and
 * the first line of its standard output in LINE. */
static int run_tool(const char *args, char *line, size_t n) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s %s 2>/dev/null", TETHER_BIN, args);
  FILE *p = popen(cmd, "r");
  if (p == NULL) return -1;
  line[0] = 0;
  if (fgets(line, (int)n, p) == NULL) line[0] = 0;
  while (fgetc(p) != EOF) {
  }
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(cli_version) {
  char line[256];
  CHECK_EQ(run_tool("--version", line, sizeof line), 0);
  CHECK_STREQ(line, "tether 0.1.0\n");
}

TEST(cli_help_lists_commands) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s --help", TETHER_BIN);
  FILE *p = popen(cmd, "r");
  CHECK(p != NULL);
  char buf[4096];
  size_t n = fread(buf, 1, sizeof buf - 1, p);
  buf[n] = 0;
  CHECK_EQ(WEXITSTATUS(pclose(p)), 0);
  CHECK(strstr(buf, "scan") != NULL);
  CHECK(strstr(buf, "diff") != NULL);
  CHECK(strstr(buf, "gctrace") != NULL);
}

TEST(cli_unknown_command_is_usage_error) {
  char line[256];
  CHECK_EQ(run_tool("frobnicate", line, sizeof line), 2);
  CHECK_EQ(run_tool("", line, sizeof line), 2);
}
