/* tether: the command-line tool. This file only dispatches to the subcommands,
 * one folder each (scan/, prof/, gctrace/, watch/); each parses its own options. */
#include <stdio.h>
#include <string.h>

#include <tether/tether.h>

#include "commands.h"
#include "common/cli.h"

typedef struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} command;

static const command k_commands[] = {
  {"scan", tether_cmd_scan, "find callback registries that can only grow, in Go and C source"},
  {"diff", tether_cmd_diff, "what grew between two pprof profiles (like pprof -top -base)"},
  {"top", tether_cmd_top, "the top functions of one pprof profile"},
  {"gctrace", tether_cmd_gctrace, "summarise a GODEBUG=gctrace=1 log and judge the live-heap trend"},
  {"watch", tether_cmd_watch, "heap snapshots of a live process: what keeps growing, and the code that keeps it"},
  {"vet", tether_cmd_vet, "the go vet tool protocol: go vet -vettool=$(command -v tether) ./..."},
};

static void usage(FILE *out) {
  fprintf(out,
          "usage: tether COMMAND [OPTIONS] [ARGS]\n"
          "       tether --help | --version\n\n"
          "Hunts leaking callback registries.\n\ncommands:\n");
  for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
    fprintf(out, "  %-8s %s\n", k_commands[i].name, k_commands[i].summary);
  fprintf(out,
          "\n'tether COMMAND --help' describes a command; 'man tether' (docs/tether.1) all of them.\n"
          "Exit status: 0 nothing found, 1 something found or a gate tripped, 2 usage or input error.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return TCLI_USAGE;
  }
  /* go vet -vettool=tether runs `tether -V=full`, `tether -flags`, `tether [FLAGS] X.cfg`. */
  if (tether_vet_invocation(argc, argv)) return tether_cmd_vet(argc, argv);
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return TCLI_OK;
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
    printf("tether %s\nlibtether %s\ngrammars: tree-sitter-go %s, tree-sitter-c %s\n", TETHER_VERSION,
           tether_version(), TETHER_GRAMMAR_GO, TETHER_GRAMMAR_C);
    return TCLI_OK;
  }
  for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++) {
    if (strcmp(argv[1], k_commands[i].name) == 0) return k_commands[i].run(argc - 1, argv + 1);
  }
  fprintf(stderr, "tether: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return TCLI_USAGE;
}
