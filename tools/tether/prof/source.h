/* Where tether top, diff and watch read profiles from: a file, standard input
 * ("-"), or an http:// or https:// URL fetched with libcurl. A Go heap endpoint
 * (.../debug/pprof/heap or .../allocs) gets gc=1 when its URL has no query, so
 * each snapshot is taken after a collection; ?seconds=N delta profiles get N
 * seconds more than the timeout. What came back is checked before it is
 * decoded: an HTTP status other than 200, an HTML page, a text-format profile
 * (?debug=1) or an empty body each give a one-line reason saying what was
 * received. Nothing here prints. */
#ifndef TETHER_PROF_SOURCE_H
#define TETHER_PROF_SOURCE_H

#include <signal.h>
#include <stddef.h>

#include "prof/profile.h"

/* The default --timeout, seconds. */
#define PROF_SOURCE_TIMEOUT_S 30.0

typedef struct prof_source_opts {
  double timeout_s;                 /* 0: PROF_SOURCE_TIMEOUT_S */
  volatile sig_atomic_t *stop;      /* when set and non-zero, a fetch in flight is abandoned */
} prof_source_opts;

/* A reusable HTTP client (one connection kept alive between fetches). */
typedef struct prof_fetcher prof_fetcher;

/* 1 when SRC is an http:// or https:// URL. */
int prof_source_is_url(const char *src);

/* The URL that is fetched for SRC (gc=1 added where it applies), malloc'd; NULL
 * when out of memory. */
char *prof_source_url(const char *src);

/* A new client, or NULL (with a reason in ERR) when libcurl cannot start. */
prof_fetcher *prof_fetcher_new(char *err, size_t errlen);
void prof_fetcher_free(prof_fetcher *f);

/* Fetches URL (taken as is: see prof_source_url) into a malloc'd buffer, at most
 * PROF_MAX_BYTES. Returns 0, or -1 with a one-line reason in ERR. */
int prof_fetch(prof_fetcher *f, const char *url, const prof_source_opts *o, unsigned char **data, size_t *len,
               char *err, size_t errlen);

/* Reads SRC (file, "-" or URL) and decodes it. Returns the profile, or NULL with
 * a one-line reason in ERR (which does not repeat SRC). FETCHER may be NULL (one
 * is made for a URL and freed). When RAW is not NULL the bytes as read are kept
 * there (malloc'd, *RAW_LEN long) for the caller to save. */
prof_profile *prof_source_load(const char *src, prof_fetcher *fetcher, const prof_source_opts *o,
                               unsigned char **raw, size_t *raw_len, char *err, size_t errlen);

/* Why BUF (LEN bytes, FETCHED over HTTP or read from a file) cannot be a
 * profile, in words, or NULL when it may be one: empty, an HTML page, a
 * text-format profile. */
const char *prof_source_sniff(const unsigned char *buf, size_t len, int fetched);

#endif
