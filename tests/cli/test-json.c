/* The tool's JSON reader (common/json.c): values, escapes, errors, limits. */
#include <stdlib.h>

#include "common/json.h"
#include "runner.h"

static tcli_json *parse(const char *s, char *err, size_t errlen) {
  return tcli_json_parse(s, strlen(s), err, errlen);
}

TEST(json_values_and_escapes) {
  char err[128];
  tcli_json *j = parse(
      " {\"a\": [1, -2.5e3, true, false, null], \"s\": \"x\\u00e9\\ud83d\\ude00\\n\\\"\", \"o\": "
      "{}} ",
      err, sizeof err);
  CHECK(j != NULL);
  CHECK_EQ(j->type, TJ_OBJECT);
  const tcli_json *a = tcli_json_get(j, "a");
  CHECK(a != NULL && a->type == TJ_ARRAY && a->n == 5);
  CHECK(a->items[0]->number == 1 && a->items[1]->number == -2500);
  CHECK(a->items[2]->boolean == 1 && a->items[3]->boolean == 0 && a->items[4]->type == TJ_NULL);
  CHECK_STREQ(tcli_json_get_string(j, "s"), "x\xc3\xa9\xf0\x9f\x98\x80\n\"");
  CHECK(tcli_json_get(j, "o")->type == TJ_OBJECT);
  CHECK(tcli_json_get(j, "missing") == NULL);
  tcli_json_free(j);
}

TEST(json_errors_are_one_line_with_a_line_number) {
  static const char *const bad[] = {"",          "{",        "[1,]",   "{\"a\" 1}", "\"\\ud800\"",
                                    "\"a\x01\"", "\"\xff\"", "tru",    "01",        "1.",
                                    "[1] x",     "{\"a\":}", "\"\\q\""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char err[128] = "";
    tcli_json *j = parse(bad[i], err, sizeof err);
    CHECK(j == NULL);
    CHECK(strncmp(err, "line ", 5) == 0);
    CHECK(strchr(err, '\n') == NULL);
  }
  char err[128];
  CHECK(parse("[\n\n1,\n]", err, sizeof err) == NULL);
  CHECK(strncmp(err, "line 4", 6) == 0);
}

TEST(json_nesting_is_bounded) {
  char deep[4096];
  size_t n = 0;
  for (int i = 0; i < 2000; i++) deep[n++] = '[';
  deep[n] = 0;
  char err[128];
  CHECK(parse(deep, err, sizeof err) == NULL);
  CHECK(strstr(err, "nested too deeply") != NULL);
  n = 0;
  for (int i = 0; i < 60; i++) deep[n++] = '[';
  for (int i = 0; i < 60; i++) deep[n++] = ']';
  deep[n] = 0;
  tcli_json *j = parse(deep, err, sizeof err);
  CHECK(j != NULL);
  tcli_json_free(j);
}
