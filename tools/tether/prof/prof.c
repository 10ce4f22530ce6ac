/* Placeholder until the diff/top subcommands land (issue 4); replaced by their owner. */
#include <stdio.h>
#include "commands.h"
int tether_cmd_diff(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "tether diff: not built yet\n");
  return 2;
}
int tether_cmd_top(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "tether top: not built yet\n");
  return 2;
}
