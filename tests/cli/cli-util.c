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
  if (r && r->delay_ms > 0 && !(r->bodies && r->nbodies)) {
    for (int waited = 0; waited < r->delay_ms && !s->stop; waited += 20) usleep(20000);
  }
  char head[512];
  int status = r ? r->status : 404;
  const void *body = r ? r->body : "404 page not found\n";
  size_t len = r ? r->len : strlen("404 page not found\n");
  size_t ri = r ? (size_t)(r - s->routes) : 0;
  if (r && r->bodies && r->nbodies) {
    size_t k = (ri < 16 ? s->hits[ri] : 0) % r->nbodies;
    body = r->bodies[k] ? r->bodies[k] : "failed\n";
    len = r->bodies[k] ? r->lens[k] : 7;
    if (r->bodies[k] == NULL) status = 500;
  }
  if (r && ri < 16) s->hits[ri]++;
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

/* ---- Profiles written for the tests. ---- */

typedef struct pbuf {
  unsigned char *b;
  size_t n, cap;
  int oom;
} pbuf;

static void pb_byte(pbuf *o, unsigned char c) {
  if (o->n == o->cap) {
    size_t nc = o->cap ? o->cap * 2 : 256;
    unsigned char *q = realloc(o->b, nc);
    if (q == NULL) {
      o->oom = 1;
      return;
    }
    o->b = q;
    o->cap = nc;
  }
  o->b[o->n++] = c;
}

static void pb_varint(pbuf *o, unsigned long long v) {
  while (v >= 0x80) {
    pb_byte(o, (unsigned char)(v | 0x80));
    v >>= 7;
  }
  pb_byte(o, (unsigned char)v);
}

static void pb_int(pbuf *o, unsigned field, unsigned long long v) {
  pb_varint(o, (unsigned long long)field << 3);
  pb_varint(o, v);
}

static void pb_msg(pbuf *o, unsigned field, const pbuf *m) {
  pb_varint(o, (unsigned long long)field << 3 | 2);
  pb_varint(o, m->n);
  for (size_t i = 0; i < m->n; i++) pb_byte(o, m->b[i]);
}

/* The string table: index of S, added when new. */
typedef struct strtab {
  const char *v[4096];
  size_t n;
} strtab;

static unsigned long long str_ix(strtab *t, const char *s) {
  for (size_t i = 0; i < t->n; i++)
    if (strcmp(t->v[i], s) == 0) return i;
  if (t->n == sizeof t->v / sizeof t->v[0]) return 0;
  t->v[t->n] = s;
  return t->n++;
}

unsigned char *cli_profile(const cli_sample *s, size_t n, long long time_nanos, size_t *len) {
  static strtab t;
  pbuf o = {NULL, 0, 0, 0}, m = {NULL, 0, 0, 0};
  size_t nfuncs = 0, nlocs = 0;
  t.n = 0;
  str_ix(&t, "");
  static const char *const types[2][2] = {{"inuse_objects", "count"}, {"inuse_space", "bytes"}};
  for (int k = 0; k < 2; k++) {
    m.n = 0;
    pb_int(&m, 1, str_ix(&t, types[k][0]));
    pb_int(&m, 2, str_ix(&t, types[k][1]));
    pb_msg(&o, 1, &m);
  }
  /* Functions by (name, file), locations one per frame occurrence. */
  const char *fname[1024], *ffile[1024];
  for (size_t i = 0; i < n; i++) {
    pbuf sm = {NULL, 0, 0, 0};
    for (size_t f = 0; f < s[i].nframes; f++) {
      const cli_frame *fr = &s[i].frames[f];
      size_t fid = 0;
      while (fid < nfuncs && !(strcmp(fname[fid], fr->func) == 0 && strcmp(ffile[fid], fr->file) == 0)) fid++;
      if (fid == nfuncs && nfuncs < 1024) {
        fname[nfuncs] = fr->func;
        ffile[nfuncs++] = fr->file;
        m.n = 0;
        pb_int(&m, 1, fid + 1);
        pb_int(&m, 2, str_ix(&t, fr->func));
        pb_int(&m, 4, str_ix(&t, fr->file));
        pb_msg(&o, 5, &m);
      }
      pbuf line = {NULL, 0, 0, 0};
      pb_int(&line, 1, fid + 1);
      pb_int(&line, 2, (unsigned long long)fr->line);
      m.n = 0;
      pb_int(&m, 1, ++nlocs);
      pb_msg(&m, 4, &line);
      free(line.b);
      pb_msg(&o, 4, &m);
      pb_int(&sm, 1, nlocs);
    }
    pb_int(&sm, 2, (unsigned long long)(s[i].bytes / 1024));
    pb_int(&sm, 2, (unsigned long long)s[i].bytes);
    pb_msg(&o, 2, &sm);
    free(sm.b);
  }
  pb_int(&o, 9, (unsigned long long)time_nanos);
  m.n = 0;
  pb_int(&m, 1, str_ix(&t, "space"));
  pb_int(&m, 2, str_ix(&t, "bytes"));
  pb_msg(&o, 11, &m);
  pb_int(&o, 12, 1);
  for (size_t i = 0; i < t.n; i++) {
    pbuf sb = {NULL, 0, 0, 0};
    for (const char *c = t.v[i]; *c; c++) pb_byte(&sb, (unsigned char)*c);
    pb_msg(&o, 6, &sb);
    free(sb.b);
  }
  free(m.b);
  if (o.oom) {
    free(o.b);
    return NULL;
  }
  *len = o.n;
  return o.b;
}

int cli_write(const char *path, const void *bytes, size_t len) {
  FILE *f = fopen(path, "wb");
  if (f == NULL) return -1;
  int ok = fwrite(bytes, 1, len, f) == len;
  return fclose(f) == 0 && ok ? 0 : -1;
}

/* ---- Running the tool. ---- */

int cli_tether(const char *args, char *out, size_t cap, char *err, size_t errcap) {
  char *cmd = NULL, errpath[] = "/tmp/tether-cli-test-XXXXXX";
  int fd = mkstemp(errpath);
  if (fd < 0) return -1;
  close(fd);
  if (asprintf(&cmd, "%s %s 2>%s", TETHER_BIN, args, errpath) < 0) {
    unlink(errpath);
    return -1;
  }
  int st = cli_shell_buf(cmd, out, cap);
  free(cmd);
  char *e = cli_slurp(errpath, NULL);
  snprintf(err, errcap, "%s", e ? e : "");
  free(e);
  unlink(errpath);
  return st;
}

int cli_one_error_line(const char *args, const char *needle) {
  static char out[1 << 16], err[8192];
  if (cli_tether(args, out, sizeof out, err, sizeof err) != 2) return 0;
  int lines = 0;
  for (const char *p = err; *p; p++) lines += *p == '\n';
  int ok = lines == 1 && strncmp(err, "tether ", 7) == 0 && strstr(err, needle) != NULL;
  if (!ok) printf("    stderr: %s", err);
  return ok;
}
