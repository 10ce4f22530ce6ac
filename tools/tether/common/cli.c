/* Shared helpers of the tether CLI: file input, colour policy, JSON strings. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int tcli_read_file(const char *path, size_t max_bytes, unsigned char **data, size_t *len) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  size_t cap = 1 << 16, n = 0;
  unsigned char *buf = NULL;
  *data = NULL;
  *len = 0;
  if (f == NULL) return -1;
  buf = malloc(cap + 1);
  if (buf == NULL) goto fail;
  for (;;) {
    if (n == cap) {
      if (cap > max_bytes) {
        errno = EFBIG;
        goto fail;
      }
      unsigned char *grown = realloc(buf, cap * 2 + 1);
      if (grown == NULL) goto fail;
      buf = grown;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) break;
  }
  if (ferror(f)) {
    if (errno == 0) errno = EIO;
    goto fail;
  }
  if (n > max_bytes) {
    errno = EFBIG;
    goto fail;
  }
  if (f != stdin) fclose(f);
  buf[n] = 0;
  *data = buf;
  *len = n;
  return 0;
fail: {
  int saved = errno;
  free(buf);
  if (f != stdin) fclose(f);
  errno = saved;
  return -1;
}
}

int tcli_use_color(FILE *f) {
  const char *no = getenv("NO_COLOR");
  const char *term = getenv("TERM");
  if (no != NULL && no[0] != '\0') return 0;
  if (term != NULL && strcmp(term, "dumb") == 0) return 0;
  return isatty(fileno(f));
}

size_t tcli_utf8_len(const unsigned char *s, size_t n) {
  uint32_t cp;
  size_t len;
  if (s[0] < 0x80) return 1;
  if ((s[0] & 0xE0) == 0xC0) { len = 2; cp = s[0] & 0x1Fu; }
  else if ((s[0] & 0xF0) == 0xE0) { len = 3; cp = s[0] & 0x0Fu; }
  else if ((s[0] & 0xF8) == 0xF0) { len = 4; cp = s[0] & 0x07u; }
  else return 0;
  if (len > n) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3Fu);
  }
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
      cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

void tcli_json_string_n(FILE *out, const char *str, size_t n) {
  const unsigned char *s = (const unsigned char *)str;
  fputc('"', out);
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    if (c == '"' || c == '\\') {
      fputc('\\', out);
      fputc(c, out);
      i++;
    } else if (c < 0x20) {
      switch (c) {
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default: fprintf(out, "\\u%04x", c); break;
      }
      i++;
    } else {
      size_t len = tcli_utf8_len(s + i, n - i);
      if (len == 0) {
        fputs("\\ufffd", out);
        i++;
      } else {
        fwrite(s + i, 1, len, out);
        i += len;
      }
    }
  }
  fputc('"', out);
}

void tcli_json_string(FILE *out, const char *s) { tcli_json_string_n(out, s, strlen(s)); }

int tcli_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "tether %s: ", cmd);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return TCLI_USAGE;
}

int tcli_number(const char *cmd, const char *name, const char *s, double *v) {
  char *end;
  errno = 0;
  *v = strtod(s, &end);
  if (end == s || *end != '\0' || errno != 0 || !isfinite(*v) || *v < 0)
    return tcli_usage_error(cmd, "%s wants a number >= 0, not '%s'", name, s);
  return 0;
}

int tcli_valued_option(const char *cmd, int argc, char **argv, int *i, const char *const *valued, size_t n,
                       char *name, size_t cap, const char **value) {
  const char *a = argv[*i], *eq = strchr(a, '=');
  size_t len = eq ? (size_t)(eq - a) : strlen(a);
  int known = 0;
  if (len < cap) {
    memcpy(name, a, len);
    name[len] = 0;
    for (size_t k = 0; k < n; k++) known |= strcmp(name, valued[k]) == 0;
  }
  if (!known) return tcli_usage_error(cmd, "unknown option '%s' (see --help)", a);
  if (eq == NULL && *i + 1 >= argc) return tcli_usage_error(cmd, "%s needs a value", name);
  *value = eq ? eq + 1 : argv[++*i];
  return 0;
}

int tcli_parse_duration(const char *s, double *seconds) {
  static const struct { const char *name; double factor; } units[] = {
      {"ns", 1e-9}, {"us", 1e-6}, {"\xc2\xb5s", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"m", 60}, {"h", 3600}};
  double total = 0;
  if (s == NULL || *s == 0) return -1;
  while (*s) {
    if (!isdigit((unsigned char)*s) && *s != '.') return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno != 0 || !isfinite(v) || v < 0) return -1;
    s = end;
    size_t best = 0, best_len = 0;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
      size_t n = strlen(units[i].name);
      if (strncmp(s, units[i].name, n) == 0 && n > best_len && !isalpha((unsigned char)s[n])) {
        best = i;
        best_len = n;
      }
    }
    if (best_len == 0) return -1;
    total += v * units[best].factor;
    s += best_len;
  }
  if (!isfinite(total) || total > 1e12) return -1;
  *seconds = total;
  return 0;
}
