/* The library's version, as the build's project version gives it. The header's
 * TETHER_VERSION_* macros are what a program was compiled against; this string is
 * what it runs with. The build refuses a header that disagrees with the project. */
#include "tether/tether.h"

#if !defined(TETHER_BUILD_VERSION) || !defined(TETHER_BUILD_VERSION_MAJOR) || \
    !defined(TETHER_BUILD_VERSION_MINOR) || !defined(TETHER_BUILD_VERSION_PATCH)
#error "version.c needs TETHER_BUILD_VERSION* from the build (src/library.cmake)"
#endif
#if TETHER_VERSION_MAJOR != TETHER_BUILD_VERSION_MAJOR || \
    TETHER_VERSION_MINOR != TETHER_BUILD_VERSION_MINOR || \
    TETHER_VERSION_PATCH != TETHER_BUILD_VERSION_PATCH
#error "TETHER_VERSION_* in include/tether/tether.h differ from project(VERSION) in CMakeLists.txt"
#endif

const char *tether_version(void) { return TETHER_BUILD_VERSION; }
