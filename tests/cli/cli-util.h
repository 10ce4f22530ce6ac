/* Helpers for the CLI tests: run the built tool through the shell, read files. */
#ifndef TETHER_TESTS_CLI_UTIL_H
#define TETHER_TESTS_CLI_UTIL_H

#include <stddef.h>

/* Runs CMD through the shell. Returns its exit status (-1 when it could not be
 * run or died of a signal) and, when OUT is not NULL, its whole standard output
 * as a malloc'd NUL-terminated string in *OUT (NULL when out of memory). */
int cli_shell(const char *cmd, char **out);

/* Like cli_shell, with up to CAP-1 bytes of standard output copied into BUF. */
int cli_shell_buf(const char *cmd, char *buf, size_t cap);

/* Reads all of PATH into a malloc'd NUL-terminated buffer; stores the length in
 * *LEN when LEN is not NULL. Returns NULL when the file cannot be read. */
char *cli_slurp(const char *path, size_t *len);

#endif
