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

/* ---- The test HTTP server. ---- */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w <= 0) return;
    p += w;
    n -= (size_t)w;
  }
}

static void serve_one(cli_http *s, int c) {
  char req[4096];
  size_t n = 0;
  double until = mono_s() + 5;
  while (n + 1 < sizeof req && mono_s() < until) {
    struct pollfd pf = {c, POLLIN, 0};
    if (poll(&pf, 1, 200) <= 0) continue;
    ssize_t got = read(c, req + n, sizeof req - 1 - n);
    if (got <= 0) break;
    n += (size_t)got;
    req[n] = 0;
    if (strstr(req, "\r\n\r\n")) break;
  }
  req[n] = 0;
  char method[16] = "", path[2048] = "";
  if (sscanf(req, "%15s %2047s", method, path) != 2) return;
  size_t used = strlen(s->requests);
  snprintf(s->requests + used, sizeof s->requests - used, "%s %s\n", method, path);
  const cli_http_route *r = NULL;
  for (size_t i = 0; i < s->nroutes && r == NULL; i++)
    if (strncmp(path, s->routes[i].prefix, strlen(s->routes[i].prefix)) == 0) r = &s->routes[i];
  if (r && r->delay_ms > 0) {
    for (int waited = 0; waited < r->delay_ms && !s->stop; waited += 20) usleep(20000);
  }
  char head[512];
  int status = r ? r->status : 404;
  const void *body = r ? r->body : "404 page not found\n";
  size_t len = r ? r->len : strlen("404 page not found\n");
  int hn = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\n%s%s%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
                    status, status == 200 ? "OK" : status == 404 ? "Not Found" : "Error",
                    r && r->ctype ? "Content-Type: " : "", r && r->ctype ? r->ctype : "",
                    r && r->ctype ? "\r\n" : "", len);
  write_all(c, head, (size_t)hn);
  write_all(c, body, len);
}

static void *http_main(void *arg) {
  cli_http *s = arg;
  double end = mono_s() + CLI_HTTP_MAX_S;
  while (!s->stop && mono_s() < end) {
    struct pollfd pf = {s->fd, POLLIN, 0};
    if (poll(&pf, 1, 100) <= 0) continue;
    int c = accept(s->fd, NULL, NULL);
    if (c < 0) continue;
    serve_one(s, c);
    close(c);
  }
  return NULL;
}

int cli_http_start(cli_http *s, const cli_http_route *routes, size_t nroutes) {
  struct sockaddr_in a;
  socklen_t alen = sizeof a;
  memset(s, 0, sizeof *s);
  s->routes = routes;
  s->nroutes = nroutes;
  s->fd = socket(AF_INET, SOCK_STREAM, 0);
  if (s->fd < 0) return -1;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (bind(s->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->fd, 16) != 0 ||
      getsockname(s->fd, (struct sockaddr *)&a, &alen) != 0 || pthread_create(&s->thread, NULL, http_main, s) != 0) {
    close(s->fd);
    return -1;
  }
  s->port = ntohs(a.sin_port);
  return 0;
}

void cli_http_stop(cli_http *s) {
  if (s->fd <= 0) return;
  s->stop = 1;
  pthread_join(s->thread, NULL);
  close(s->fd);
  s->fd = -1;
}
