/* Profile sources: files, standard input and HTTP(S) through libcurl. One
 * curl easy handle per fetcher is reused, so a watch that takes a snapshot every
 * few seconds keeps its connection. Transfers are bounded in time (--timeout,
 * plus the seconds of a delta profile) and in size (PROF_MAX_BYTES), follow at
 * most five redirects, speak only HTTP and HTTPS, and can be abandoned from a
 * signal handler through the stop flag (checked by curl's progress callback).
 * libcurl's global state is set up once, on the first fetcher. */
#include "prof/source.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cli.h"

struct prof_fetcher {
  CURL *curl;
};

/* What one transfer collects. */
typedef struct body {
  unsigned char *data;
  size_t len, cap;
  int too_big;
  char status[128];  /* the last status line ("HTTP/1.1 200 OK"), without CRLF */
  char ctype[128];   /* the Content-Type header */
  volatile sig_atomic_t *stop;
} body;

int prof_source_is_url(const char *src) {
  return strncasecmp(src, "http://", 7) == 0 || strncasecmp(src, "https://", 8) == 0;
}

/* Whether URL's path ends with /debug/pprof/heap or /debug/pprof/allocs. */
static int is_heap_endpoint(const char *url, size_t path_end) {
  static const char *const ends[] = {"/debug/pprof/heap", "/debug/pprof/allocs"};
  while (path_end > 0 && url[path_end - 1] == '/') path_end--;
  for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
    size_t n = strlen(ends[i]);
    if (path_end >= n && strncmp(url + path_end - n, ends[i], n) == 0) return 1;
  }
  return 0;
}

char *prof_source_url(const char *src) {
  size_t path_end = strcspn(src, "?#");
  char *out = NULL;
  if (src[path_end] == 0 && is_heap_endpoint(src, path_end)) {
    if (asprintf(&out, "%s?gc=1", src) < 0) return NULL;
    return out;
  }
  return strdup(src);
}

/* N from a seconds=N query parameter, or 0. */
static double delta_seconds(const char *url) {
  const char *q = strchr(url, '?');
  while (q != NULL) {
    q++;
    if (strncmp(q, "seconds=", 8) == 0) {
      double v = strtod(q + 8, NULL);
      return v > 0 && v < 1e7 ? v : 0;
    }
    q = strchr(q, '&');
  }
  return 0;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *user) {
  body *b = user;
  size_t n = size * nmemb;
  if (n > PROF_MAX_BYTES - b->len) {
    b->too_big = 1;
    return 0;
  }
  if (b->len + n + 1 > b->cap) {
    size_t nc = b->cap ? b->cap : 1 << 16;
    while (nc < b->len + n + 1) nc *= 2;
    unsigned char *q = realloc(b->data, nc);
    if (q == NULL) return 0;
    b->data = q;
    b->cap = nc;
  }
  memcpy(b->data + b->len, ptr, n);
  b->len += n;
  b->data[b->len] = 0;
  return n;
}

/* Copies header line LINE (N bytes, CRLF at the end) without its line end. */
static void copy_line(char *dst, size_t cap, const char *line, size_t n) {
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
  if (n >= cap) n = cap - 1;
  memcpy(dst, line, n);
  dst[n] = 0;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *user) {
  body *b = user;
  size_t n = size * nmemb;
  if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
    copy_line(b->status, sizeof b->status, ptr, n);
    b->ctype[0] = 0; /* a new response (after a redirect) starts over */
  } else if (n > 13 && strncasecmp(ptr, "content-type:", 13) == 0) {
    const char *v = ptr + 13;
    size_t k = n - 13;
    while (k > 0 && (*v == ' ' || *v == '\t')) v++, k--;
    copy_line(b->ctype, sizeof b->ctype, v, k);
  }
  return n;
}

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
  (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
  body *b = user;
  return b->stop != NULL && *b->stop ? 1 : 0;
}

prof_fetcher *prof_fetcher_new(char *err, size_t errlen) {
  static int initialised;
  if (!initialised) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      snprintf(err, errlen, "cannot start libcurl");
      return NULL;
    }
    initialised = 1;
  }
  prof_fetcher *f = calloc(1, sizeof *f);
  if (f == NULL || (f->curl = curl_easy_init()) == NULL) {
    free(f);
    snprintf(err, errlen, "cannot start libcurl");
    return NULL;
  }
  return f;
}

void prof_fetcher_free(prof_fetcher *f) {
  if (f == NULL) return;
  curl_easy_cleanup(f->curl);
  free(f);
}

/* The first line of a text body, for an error message: at most 60 printable bytes. */
static void body_excerpt(const body *b, char *out, size_t cap) {
  size_t k = 0;
  for (size_t i = 0; i < b->len && b->data[i] != '\n' && k + 1 < cap && k < 60; i++)
    out[k++] = isprint(b->data[i]) ? (char)b->data[i] : '?';
  out[k] = 0;
}

static void setup(CURL *c, const char *url, body *b, double timeout) {
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_USERAGENT, "tether/" TETHER_VERSION);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout * 1000));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, b);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, b);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
}

int prof_fetch(prof_fetcher *f, const char *url, const prof_source_opts *o, unsigned char **data, size_t *len,
               char *err, size_t errlen) {
  body b;
  memset(&b, 0, sizeof b);
  b.stop = o ? o->stop : NULL;
  double timeout = o && o->timeout_s > 0 ? o->timeout_s : PROF_SOURCE_TIMEOUT_S;
  timeout += delta_seconds(url);
  *data = NULL;
  *len = 0;
  setup(f->curl, url, &b, timeout);
  CURLcode rc = curl_easy_perform(f->curl);
  long code = 0;
  curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &code);
  if (rc != CURLE_OK) {
    if (b.too_big) snprintf(err, errlen, "response larger than %zu MiB", PROF_MAX_BYTES >> 20);
    else if (rc == CURLE_ABORTED_BY_CALLBACK) snprintf(err, errlen, "interrupted");
    else if (rc == CURLE_OPERATION_TIMEDOUT) snprintf(err, errlen, "no answer within %gs (--timeout)", timeout);
    else snprintf(err, errlen, "%s", curl_easy_strerror(rc));
    free(b.data);
    return -1;
  }
  if (code != 200) {
    char excerpt[64];
    body_excerpt(&b, excerpt, sizeof excerpt);
    const char *status = b.status[0] ? b.status + strcspn(b.status, " ") : "";
    while (*status == ' ') status++;
    snprintf(err, errlen, "HTTP %s%s%s%s (a profile needs status 200)", status[0] ? status : "status",
             status[0] ? "" : " unknown", excerpt[0] ? ": " : "", excerpt);
    free(b.data);
    return -1;
  }
  if (b.data == NULL && (b.data = malloc(1)) != NULL) b.data[0] = 0;
  if (b.data == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  if (strncasecmp(b.ctype, "text/html", 9) == 0 && b.len > 0) {
    snprintf(err, errlen, "received an HTML page (Content-Type %s), not a profile: the URL of a profile "
             "ends in /debug/pprof/heap (or another profile's name)", b.ctype);
    free(b.data);
    return -1;
  }
  *data = b.data;
  *len = b.len;
  return 0;
}

const char *prof_source_sniff(const unsigned char *buf, size_t len, int fetched) {
  size_t i = 0;
  if (len == 0) return fetched ? "received an empty body: not a pprof profile" : "empty: not a pprof profile";
  while (i < len && i < 64 && isspace(buf[i])) i++;
  const char *s = (const char *)buf + i;
  size_t n = len - i;
  if ((n >= 9 && strncasecmp(s, "<!doctype", 9) == 0) || (n >= 5 && strncasecmp(s, "<html", 5) == 0))
    return fetched ? "received an HTML page, not a pprof profile: the URL of a profile ends in "
                     "/debug/pprof/heap (or another profile's name)"
                   : "an HTML page, not a pprof profile";
  static const char *const text[] = {"heap profile:", "goroutine profile:", "--- contention", "mutex profile:",
                                     "block profile:", "threadcreate profile:", "allocs profile:"};
  for (size_t k = 0; k < sizeof text / sizeof text[0]; k++)
    if (n >= strlen(text[k]) && strncmp(s, text[k], strlen(text[k])) == 0)
      return fetched ? "received a text-format profile (debug=1 or debug=2), not profile.proto: drop the "
                       "debug parameter"
                     : "a text-format profile (debug=1 or debug=2), not profile.proto: fetch it without "
                       "the debug parameter";
  return NULL;
}

prof_profile *prof_source_load(const char *src, prof_fetcher *fetcher, const prof_source_opts *o,
                               unsigned char **raw, size_t *raw_len, char *err, size_t errlen) {
  unsigned char *data = NULL;
  size_t len = 0;
  if (raw) *raw = NULL;
  if (prof_source_is_url(src)) {
    prof_fetcher *own = NULL;
    char *url = prof_source_url(src);
    if (url == NULL) {
      snprintf(err, errlen, "out of memory");
      return NULL;
    }
    if (fetcher == NULL && (fetcher = own = prof_fetcher_new(err, errlen)) == NULL) {
      free(url);
      return NULL;
    }
    int rc = prof_fetch(fetcher, url, o, &data, &len, err, errlen);
    prof_fetcher_free(own);
    free(url);
    if (rc != 0) return NULL;
  } else if (tcli_read_file(src, PROF_MAX_BYTES, &data, &len) != 0) {
    snprintf(err, errlen, "%s", errno == EFBIG ? "file too large" : strerror(errno));
    return NULL;
  }
  const char *why = prof_source_sniff(data, len, prof_source_is_url(src));
  if (why != NULL) {
    snprintf(err, errlen, "%s", why);
    free(data);
    return NULL;
  }
  prof_profile *p = prof_decode(data, len, err, errlen);
  if (p != NULL && raw != NULL) {
    *raw = data;
    *raw_len = len;
  } else {
    free(data);
  }
  return p;
}
