/* tether_version: the library's version string is the header's version. */
#include <stdio.h>
#include <string.h>

#include "runner.h"
#include "tether/tether.h"

TEST(version_matches_the_header) {
  char want[64];
  snprintf(want, sizeof want, "%d.%d.%d", TETHER_VERSION_MAJOR, TETHER_VERSION_MINOR, TETHER_VERSION_PATCH);
  CHECK(tether_version() != NULL);
  CHECK_STREQ(tether_version(), want);
  CHECK(tether_version() == tether_version()); /* static, not allocated per call */
}
