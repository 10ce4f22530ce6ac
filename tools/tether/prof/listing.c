/* The annotated source of listing.h. Each source file is read once and split
 * into lines in place; blocks point into those buffers, which the listing owns. */
#include "prof/listing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cli.h"
#include "common/regex.h"

#define LIST_MARGIN 5 /* lines before the first and after the last line with samples */
#define LIST_MAX_SOURCE ((size_t)64 << 20)

typedef struct source {
  char *path;             /* as the profile records it */
  char *data;             /* NULL when not found or unreadable */
  size_t len;
  const char **line;      /* line[i]: start of line i + 1 */
  size_t *line_len;
  size_t nlines;
  const char *shown;
} source;

typedef struct priv {
  source *src;
  size_t nsrc;
} priv;

static int readable_file(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

char *prof_find_source(const char *path, const char *dir, const char **shown) {
  const char *base = dir ? dir : ".";
  size_t blen = strlen(base);
  while (blen > 1 && base[blen - 1] == '/') blen--;
  for (const char *s = path; s != NULL && *s;) {
    while (*s == '/') s++;
    if (*s == 0) break;
    char *cand = NULL;
    if (asprintf(&cand, "%.*s/%s", (int)blen, base, s) < 0) return NULL;
    if (readable_file(cand)) {
      *shown = s;
      return cand;
    }
    free(cand);
    s = strchr(s, '/');
  }
  if (path[0] != 0 && readable_file(path)) {
    *shown = path;
    return strdup(path);
  }
  return NULL;
}

/* Reads and splits the source of PATH into S. */
static void load_source(source *s, const char *dir) {
  char *found = prof_find_source(s->path, dir, &s->shown);
  unsigned char *data = NULL;
  size_t len = 0;
  if (found == NULL) return;
  int rc = tcli_read_file(found, LIST_MAX_SOURCE, &data, &len);
  free(found);
  if (rc != 0) return;
  size_t cap = 64;
  s->line = malloc(cap * sizeof *s->line);
  s->line_len = malloc(cap * sizeof *s->line_len);
  if (s->line == NULL || s->line_len == NULL) {
    free(data);
    return;
  }
  s->data = (char *)data;
  s->len = len;
  for (size_t at = 0; at < len;) {
    const char *nl = memchr(s->data + at, '\n', len - at);
    size_t end = nl ? (size_t)(nl - s->data) : len;
    if (s->nlines == cap) {
      cap *= 2;
      const char **l = realloc(s->line, cap * sizeof *l);
      size_t *ll = l ? realloc(s->line_len, cap * sizeof *ll) : NULL;
      if (l) s->line = l;
      if (ll == NULL) break;
      s->line_len = ll;
    }
    size_t n = end - at;
    if (n > 0 && s->data[end - 1] == '\r') n--;
    s->line[s->nlines] = s->data + at;
    s->line_len[s->nlines++] = n;
    at = end + 1;
  }
}

static int by_func_file(const void *a, const void *b) {
  const prof_row *x = *(const prof_row *const *)a, *y = *(const prof_row *const *)b;
  int c = strcmp(x->func, y->func);
  if (c == 0) c = strcmp(x->file, y->file);
  if (c == 0) c = x->line < y->line ? -1 : x->line > y->line;
  return c;
}

/* The source of FILE, read on first use. */
static source *source_of(priv *pv, const char *file, const char *dir) {
  for (size_t i = 0; i < pv->nsrc; i++)
    if (strcmp(pv->src[i].path, file) == 0) return &pv->src[i];
  source *grown = realloc(pv->src, (pv->nsrc + 1) * sizeof *grown);
  if (grown == NULL) return NULL;
  pv->src = grown;
  source *s = &pv->src[pv->nsrc];
  memset(s, 0, sizeof *s);
  if ((s->path = strdup(file)) == NULL) return NULL;
  pv->nsrc++;
  load_source(s, dir);
  return s;
}

/* Fills block B from rows R[0..N) (one function, one file, sorted by line). */
static int fill_block(prof_list_block *b, prof_row *const *r, size_t n, source *s) {
  int64_t lo = r[0]->start_line > 0 ? r[0]->start_line : r[0]->line - LIST_MARGIN;
  int64_t hi = r[n - 1]->line + LIST_MARGIN;
  for (size_t i = 0; i < n; i++) {
    b->flat += r[i]->flat;
    b->cum += r[i]->cum;
    if (r[i]->start_line <= 0 && r[i]->line - LIST_MARGIN < lo) lo = r[i]->line - LIST_MARGIN;
  }
  if (lo < 1) lo = 1;
  b->shown = s->data ? s->shown : r[0]->file;
  if (s->data == NULL) {
    b->error = "could not find the file";
    return 0;
  }
  if ((size_t)lo > s->nlines) return 0;
  if ((size_t)hi > s->nlines) hi = (int64_t)s->nlines;
  b->lines = calloc((size_t)(hi - lo + 1), sizeof *b->lines);
  if (b->lines == NULL) return -1;
  size_t k = 0;
  for (int64_t l = lo; l <= hi; l++, k++) {
    prof_list_line *ln = &b->lines[k];
    ln->line = l;
    ln->text = s->line[l - 1];
    ln->text_len = s->line_len[l - 1];
    for (size_t i = 0; i < n; i++)
      if (r[i]->line == l) {
        ln->flat += r[i]->flat;
        ln->cum += r[i]->cum;
      }
  }
  b->nlines = k;
  return 0;
}

int prof_listing_build(const prof_report *lines, const char *regex, const char *source_dir, prof_listing *out,
                       char *err, size_t errlen) {
  char msg[192];
  memset(out, 0, sizeof *out);
  tcli_regex *re = tcli_regex_new(regex, msg, sizeof msg);
  if (re == NULL) {
    snprintf(err, errlen, "bad --list regular expression '%s': %s", regex, msg);
    return -1;
  }
  priv *pv = calloc(1, sizeof *pv);
  prof_row **rows = calloc(lines->nrows + 1, sizeof *rows);
  size_t n = 0;
  int rc = pv && rows ? 0 : -1;
  out->priv = pv;
  for (size_t i = 0; rc == 0 && i < lines->nrows; i++)
    if (lines->rows[i].file[0] != 0 && tcli_regex_match(re, lines->rows[i].func)) rows[n++] = &lines->rows[i];
  qsort(rows, n, sizeof *rows, by_func_file);
  out->blocks = calloc(n + 1, sizeof *out->blocks);
  if (out->blocks == NULL) rc = -1;
  for (size_t i = 0; rc == 0 && i < n;) {
    size_t j = i + 1;
    while (j < n && strcmp(rows[j]->func, rows[i]->func) == 0 && strcmp(rows[j]->file, rows[i]->file) == 0) j++;
    prof_list_block *b = &out->blocks[out->n++];
    b->func = rows[i]->func;
    b->file = rows[i]->file;
    source *s = source_of(pv, rows[i]->file, source_dir);
    rc = s ? fill_block(b, rows + i, j - i, s) : -1;
    i = j;
  }
  free(rows);
  tcli_regex_free(re);
  if (rc != 0) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  return out->n == 0 ? 1 : 0;
}

void prof_listing_free(prof_listing *l) {
  priv *pv = l->priv;
  for (size_t i = 0; i < l->n; i++) free(l->blocks[i].lines);
  free(l->blocks);
  if (pv) {
    for (size_t i = 0; i < pv->nsrc; i++) {
      free(pv->src[i].path);
      free(pv->src[i].data);
      free(pv->src[i].line);
      free(pv->src[i].line_len);
    }
    free(pv->src);
  }
  free(pv);
  memset(l, 0, sizeof *l);
}
