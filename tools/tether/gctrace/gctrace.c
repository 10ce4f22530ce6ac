/* Placeholder until the gctrace subcommand lands (issue 4); replaced by its owner. */
#include <stdio.h>
#include "commands.h"
int tether_cmd_gctrace(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "tether gctrace: not built yet\n");
  return 2;
}
