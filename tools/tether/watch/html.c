/* The HTML page of tether watch --html (placeholder while the page is built). */
#include "watch/report.h"

int watch_write_html(FILE *out, const watch_info *info) {
  (void)info;
  fputs("<!DOCTYPE html><html><body></body></html>\n", out);
  return ferror(out) ? -1 : 0;
}
