/* Placeholder until the scan subcommand lands (issue 3); replaced by its owner. */
#include <stdio.h>
#include "commands.h"
int tether_cmd_scan(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "tether scan: not built yet\n");
  return 2;
}
