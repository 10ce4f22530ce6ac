/* Error names: one table (TETHER_ERRNO_MAP in the header) generates the codes and
 * these strings. */
#include "tether/tether.h"

const char *tether_strerror(int err) {
  switch (err) {
#define TETHER_ERRNO_CASE(name, value, text) \
  case TETHER_##name:                        \
    return "TETHER_" #name ": " text;
    TETHER_ERRNO_MAP(TETHER_ERRNO_CASE)
#undef TETHER_ERRNO_CASE
    case 0:
      return "success";
    default:
      return "unknown error";
  }
}
