/* Helpers for the CLI tests (see cli-util.h). */
#include "cli-util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* Reads F to its end into a malloc'd NUL-terminated buffer; NULL when out of memory. */
static char *read_all(FILE *f, size_t *len) {
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  for (size_t got; buf != NULL && (got = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
    n += got;
    if (cap - n < 4096) {
      char *bigger = realloc(buf, cap * 2);
      if (bigger == NULL) {
        free(buf);
        return NULL;
      }
      buf = bigger;
      cap *= 2;
    }
  }
  if (buf == NULL) return NULL;
  buf[n] = '\0';
  if (len != NULL) *len = n;
  return buf;
}

int cli_shell(const char *cmd, char **out) {
  FILE *p = popen(cmd, "r");
  if (out != NULL) *out = NULL;
  if (p == NULL) return -1;
  char *buf = read_all(p, NULL);
  while (fgetc(p) != EOF) {
  }
  int st = pclose(p);
  if (out != NULL)
    *out = buf;
  else
    free(buf);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int cli_shell_buf(const char *cmd, char *buf, size_t cap) {
  char *out = NULL;
  int st = cli_shell(cmd, &out);
  if (cap > 0) {
    size_t n = out ? strlen(out) : 0;
    if (n > cap - 1) n = cap - 1;
    if (n > 0) memcpy(buf, out, n);
    buf[n] = '\0';
  }
  free(out);
  return st;
}

char *cli_slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  char *buf = read_all(f, len);
  fclose(f);
  return buf;
}
