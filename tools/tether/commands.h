/* The subcommands main.c dispatches to. Each takes the arguments after "tether"
 * (argv[0] is the subcommand's name) and returns the process exit status:
 * 0 nothing to report, 1 a finding or gate tripped, 2 usage or input error. */
#ifndef TETHER_COMMANDS_H
#define TETHER_COMMANDS_H

int tether_cmd_scan(int argc, char **argv);    /* scan/ */
int tether_cmd_diff(int argc, char **argv);    /* prof/ */
int tether_cmd_top(int argc, char **argv);     /* prof/ */
int tether_cmd_gctrace(int argc, char **argv); /* gctrace/ */
int tether_cmd_watch(int argc, char **argv);   /* watch/ */
int tether_cmd_vet(int argc, char **argv);     /* scan/vet.c: the go vet -vettool protocol */
/* 1 when ARGV is how go vet runs a vet tool (-V=full, -flags, [FLAGS] X.cfg). */
int tether_vet_invocation(int argc, char **argv);

#endif
