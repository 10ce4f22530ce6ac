/* The JSON reader (json.h): a recursive-descent parser bounded to 64 levels of
 * nesting, so no input can exhaust the stack; strings are decoded (escapes,
 * surrogate pairs) into UTF-8 and checked. Allocation failure is an error like
 * any other, reported in ERR. */
#include "json.h"

#include "cli.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_DEPTH_MAX 64

typedef struct parser {
  const char *p, *end, *start;
  char *err;
  size_t errlen;
  int failed;
} parser;

static void fail(parser *ps, const char *what) {
  if (ps->failed) return;
  ps->failed = 1;
  size_t line = 1;
  for (const char *q = ps->start; q < ps->p && q < ps->end; q++) line += *q == '\n';
  snprintf(ps->err, ps->errlen, "line %zu: %s", line, what);
}

static void skip_ws(parser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static tcli_json *node(parser *ps, tcli_json_type t) {
  tcli_json *j = calloc(1, sizeof *j);
  if (j == NULL)
    fail(ps, "out of memory");
  else
    j->type = t;
  return j;
}

static int hex4(const char *s, uint32_t *out) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (uint32_t)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (uint32_t)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (uint32_t)(c - 'A' + 10);
    else
      return 0;
  }
  *out = v;
  return 1;
}

static size_t put_utf8(char *o, uint32_t cp) {
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (cp >> 18));
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* A string at ps->p (the opening quote); *LEN gets its decoded length. */
static char *parse_string(parser *ps, size_t *len) {
  ps->p++;
  const char *q = ps->p;
  size_t cap = 0;
  while (q < ps->end && *q != '"') {
    if (*q == '\\') q++;
    q++;
    cap += 4;
  }
  if (q >= ps->end) {
    fail(ps, "unterminated string");
    return NULL;
  }
  char *out = malloc(cap + 1), *o = out;
  if (out == NULL) {
    fail(ps, "out of memory");
    return NULL;
  }
  while (ps->p < ps->end && *ps->p != '"') {
    unsigned char c = (unsigned char)*ps->p;
    if (c < 0x20) {
      fail(ps, "control character in a string");
      break;
    }
    if (c != '\\') {
      size_t l = tcli_utf8_len((const unsigned char *)ps->p, (size_t)(ps->end - ps->p));
      if (l == 0) {
        fail(ps, "invalid UTF-8 in a string");
        break;
      }
      memcpy(o, ps->p, l);
      o += l;
      ps->p += l;
      continue;
    }
    if (ps->p + 1 >= ps->end) {
      fail(ps, "unterminated escape");
      break;
    }
    char e = ps->p[1];
    ps->p += 2;
    switch (e) {
      case '"':
        *o++ = '"';
        break;
      case '\\':
        *o++ = '\\';
        break;
      case '/':
        *o++ = '/';
        break;
      case 'b':
        *o++ = '\b';
        break;
      case 'f':
        *o++ = '\f';
        break;
      case 'n':
        *o++ = '\n';
        break;
      case 'r':
        *o++ = '\r';
        break;
      case 't':
        *o++ = '\t';
        break;
      case 'u': {
        uint32_t cp, lo;
        if (ps->end - ps->p < 4 || !hex4(ps->p, &cp)) {
          fail(ps, "bad \\u escape");
          break;
        }
        ps->p += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' || !hex4(ps->p + 2, &lo) ||
              lo < 0xDC00 || lo > 0xDFFF) {
            fail(ps, "unpaired surrogate in a \\u escape");
            break;
          }
          ps->p += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          fail(ps, "unpaired surrogate in a \\u escape");
          break;
        }
        o += put_utf8(o, cp);
        break;
      }
      default:
        fail(ps, "bad escape");
        break;
    }
    if (ps->failed) break;
  }
  if (ps->failed) {
    free(out);
    return NULL;
  }
  ps->p++; /* the closing quote */
  *o = 0;
  *len = (size_t)(o - out);
  return out;
}

static tcli_json *parse_value(parser *ps, int depth);

static int append(parser *ps, tcli_json *j, tcli_json *item, char *key) {
  if ((j->n & (j->n - 1)) == 0 || j->n == 0) { /* grow at powers of two */
    size_t cap = j->n ? j->n * 2 : 4;
    tcli_json **items = realloc(j->items, cap * sizeof *items);
    if (items == NULL) goto oom;
    j->items = items;
    if (j->type == TJ_OBJECT) {
      char **keys = realloc(j->keys, cap * sizeof *keys);
      if (keys == NULL) goto oom;
      j->keys = keys;
    }
  }
  j->items[j->n] = item;
  if (j->type == TJ_OBJECT) j->keys[j->n] = key;
  j->n++;
  return 1;
oom:
  fail(ps, "out of memory");
  tcli_json_free(item);
  free(key);
  return 0;
}

static tcli_json *parse_container(parser *ps, int depth, int object) {
  tcli_json *j = node(ps, object ? TJ_OBJECT : TJ_ARRAY);
  if (j == NULL) return NULL;
  ps->p++;
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == (object ? '}' : ']')) {
    ps->p++;
    return j;
  }
  for (;;) {
    char *key = NULL;
    skip_ws(ps);
    if (object) {
      size_t kl;
      if (ps->p >= ps->end || *ps->p != '"') {
        fail(ps, "expected a key string");
        break;
      }
      key = parse_string(ps, &kl);
      if (key == NULL) break;
      skip_ws(ps);
      if (ps->p >= ps->end || *ps->p != ':') {
        free(key);
        fail(ps, "expected ':'");
        break;
      }
      ps->p++;
    }
    tcli_json *v = parse_value(ps, depth + 1);
    if (v == NULL) {
      free(key);
      break;
    }
    if (!append(ps, j, v, key)) break;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      continue;
    }
    if (ps->p < ps->end && *ps->p == (object ? '}' : ']')) {
      ps->p++;
      return j;
    }
    fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
    break;
  }
  tcli_json_free(j);
  return NULL;
}

static tcli_json *parse_number(parser *ps) {
  const char *s = ps->p;
  if (ps->p < ps->end && *ps->p == '-') ps->p++;
  if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
    fail(ps, "unexpected character");
    return NULL;
  }
  if (*ps->p == '0')
    ps->p++;
  else
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
  if (ps->p < ps->end && *ps->p == '.') {
    ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
      fail(ps, "bad number");
      return NULL;
    }
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
  }
  if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
    ps->p++;
    if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
      fail(ps, "bad number");
      return NULL;
    }
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
  }
  char buf[64];
  size_t n = (size_t)(ps->p - s);
  if (n >= sizeof buf) n = sizeof buf - 1;
  memcpy(buf, s, n);
  buf[n] = 0;
  tcli_json *j = node(ps, TJ_NUMBER);
  if (j) j->number = strtod(buf, NULL);
  return j;
}

static int literal(parser *ps, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return 0;
  ps->p += n;
  return 1;
}

static tcli_json *parse_value(parser *ps, int depth) {
  if (depth > JSON_DEPTH_MAX) {
    fail(ps, "nested too deeply");
    return NULL;
  }
  skip_ws(ps);
  if (ps->p >= ps->end) {
    fail(ps, "unexpected end of input");
    return NULL;
  }
  tcli_json *j;
  switch (*ps->p) {
    case '{':
      return parse_container(ps, depth, 1);
    case '[':
      return parse_container(ps, depth, 0);
    case '"':
      j = node(ps, TJ_STRING);
      if (j && (j->string = parse_string(ps, &j->string_len)) == NULL) {
        free(j);
        return NULL;
      }
      return j;
    case 't':
    case 'f':
      if (literal(ps, "true") || literal(ps, "false")) {
        j = node(ps, TJ_BOOL);
        if (j) j->boolean = ps->p[-1] == 'e' && ps->p[-2] == 'u';
        return j;
      }
      break;
    case 'n':
      if (literal(ps, "null")) return node(ps, TJ_NULL);
      break;
    default:
      return parse_number(ps);
  }
  fail(ps, "unexpected character");
  return NULL;
}

tcli_json *tcli_json_parse(const char *text, size_t len, char *err, size_t errlen) {
  char dummy[8];
  parser ps = {text, text + len, text, err ? err : dummy, err ? errlen : sizeof dummy, 0};
  if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) ps.p += 3; /* a byte order mark */
  tcli_json *j = parse_value(&ps, 0);
  if (j == NULL) return NULL;
  skip_ws(&ps);
  if (ps.p != ps.end) {
    fail(&ps, "unexpected data after the value");
    tcli_json_free(j);
    return NULL;
  }
  return j;
}

void tcli_json_free(tcli_json *j) {
  if (j == NULL) return;
  for (size_t i = 0; i < j->n; i++) {
    tcli_json_free(j->items[i]);
    if (j->keys) free(j->keys[i]);
  }
  free(j->items);
  free(j->keys);
  free(j->string);
  free(j);
}

const tcli_json *tcli_json_get(const tcli_json *obj, const char *key) {
  if (obj == NULL || obj->type != TJ_OBJECT) return NULL;
  for (size_t i = 0; i < obj->n; i++)
    if (strcmp(obj->keys[i], key) == 0) return obj->items[i];
  return NULL;
}

const char *tcli_json_get_string(const tcli_json *obj, const char *key) {
  const tcli_json *v = tcli_json_get(obj, key);
  return v && v->type == TJ_STRING ? v->string : NULL;
}
