/* Helpers for the CLI tests: run the built tool through the shell, read files. */
#ifndef TETHER_TESTS_CLI_UTIL_H
#define TETHER_TESTS_CLI_UTIL_H

#include <pthread.h>
#include <stdatomic.h>
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

/* A test HTTP server on 127.0.0.1, on a port the kernel picks, answering one
 * connection at a time from a thread, for at most CLI_HTTP_MAX_S seconds (it
 * stops itself then, also when a test forgets to). Each request is answered by
 * the first route whose path prefix its path starts with (404 when none); the
 * request lines seen are kept for the test to read. */
#define CLI_HTTP_MAX_S 120

typedef struct cli_http_route {
  const char *prefix;   /* path prefix, e.g. "/debug/pprof/heap" */
  int status;           /* 200, 404, ... */
  const char *ctype;    /* Content-Type, or NULL for none */
  const void *body;     /* served as is */
  size_t len;
  int delay_ms;         /* wait this long before answering */
  const void *const *bodies; /* when not NULL: the Nth request gets bodies[N % nbodies] */
  const size_t *lens;        /* (a NULL body is answered with status 500) */
  size_t nbodies;
} cli_http_route;

typedef struct cli_http {
  int fd, port;
  const cli_http_route *routes;
  size_t nroutes;
  char requests[8192]; /* the request lines, one per line */
  size_t hits[16];     /* requests answered per route (the first 16) */
  atomic_int stop;
  pthread_t thread;
} cli_http;

/* Starts S serving ROUTES (which must outlive it). Returns 0, or -1. */
int cli_http_start(cli_http *s, const cli_http_route *routes, size_t nroutes);
/* Stops S and waits for its thread. */
void cli_http_stop(cli_http *s);

/* A profile.proto written here for the tests, shaped like a Go heap profile:
 * two sample types (inuse_objects/count, inuse_space/bytes), one location per
 * frame, functions shared by name and file. */
typedef struct cli_frame {
  const char *func, *file;
  long long line;
} cli_frame;

typedef struct cli_sample {
  const cli_frame *frames; /* leaf first */
  size_t nframes;
  long long bytes;   /* inuse_space; inuse_objects is bytes / 1024 */
} cli_sample;

/* Encodes the profile (raw, not gzipped) into a malloc'd buffer; *LEN gets its
 * length. NULL when out of memory. */
unsigned char *cli_profile(const cli_sample *s, size_t n, long long time_nanos, size_t *len);

/* Writes BYTES to PATH; 0 or -1. */
int cli_write(const char *path, const void *bytes, size_t len);

/* Runs "TETHER_BIN ARGS" through the shell (ARGS may redirect standard input).
 * Returns its exit status; up to CAP-1 bytes of standard output go to OUT and
 * of standard error to ERR (ERRCAP bytes). */
int cli_tether(const char *args, char *out, size_t cap, char *err, size_t errcap);

/* Whether "TETHER_BIN ARGS" exits 2 with exactly one line on standard error,
 * starting "tether " and containing NEEDLE; prints that stderr when not. */
int cli_one_error_line(const char *args, const char *needle);
