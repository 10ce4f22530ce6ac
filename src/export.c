/* Exports that need no code change: TETHER_PROFILE=DIR (periodic profiles,
 * written by the background thread) and TETHER_DEBUG=trace (one line per pass
 * of the background thread).
 *
 * - Both are read once, at tether_registry_new.
 * - A profile is written to a temporary name and renamed into place, so a reader
 *   of DIR (tether watch) never sees half a file. The snapshot is taken under
 *   the registry mutex (tether_profile_write); the file is written with no lock
 *   held, on the background thread, never on the dispatch path.
 * - A directory that cannot be written gets one line on stderr, and no more
 *   tries for that registry. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

uint64_t tether__mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int tether__export_init(tether_registry *r) {
  const char *dbg = getenv("TETHER_DEBUG");
  r->trace = dbg != NULL && strstr(dbg, "trace") != NULL;
  const char *dir = getenv("TETHER_PROFILE");
  if (dir == NULL || dir[0] == '\0') return 0;
  size_t n = strlen(dir) + 1;
  r->profile_dir = tether__alloc(r, n);
  if (r->profile_dir == NULL) return TETHER_ENOMEM;
  memcpy(r->profile_dir, dir, n);
  const char *iv = getenv("TETHER_PROFILE_INTERVAL_MS");
  char *end = NULL;
  unsigned long ms = iv != NULL ? strtoul(iv, &end, 10) : 0;
  if (iv == NULL || end == iv || *end != '\0' || ms == 0 || ms > 86400000ul) {
    if (iv != NULL) fprintf(stderr, "tether: TETHER_PROFILE_INTERVAL_MS=%s: not a number of ms; using 1000\n", iv);
    ms = 1000;
  }
  r->profile_interval_ms = (unsigned)ms;
  return 0;
}

void tether__export_free(tether_registry *r) {
  if (r->profile_dir) tether__free(r, r->profile_dir, strlen(r->profile_dir) + 1);
  r->profile_dir = NULL;
}

static void give_up(tether_registry *r, const char *path, const char *why) {
  fprintf(stderr, "tether: TETHER_PROFILE=%s: cannot write %s: %s; no more profiles of registry %" PRIu64 "\n",
          r->profile_dir, path, why, r->serial);
  r->profile_failed = 1;
}

void tether__export_profile(tether_registry *r) {
  if (r->profile_dir == NULL || r->profile_failed) return;
  char path[4096], tmp[4200];
  int k = snprintf(path, sizeof path, "%s/tether-%ld-%" PRIu64 "-%06" PRIu64 ".pb", r->profile_dir,
                   (long)getpid(), r->serial, r->profile_seq);
  if (k < 0 || (size_t)k >= sizeof path) {
    give_up(r, r->profile_dir, "path too long");
    return;
  }
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "wb");
  if (f == NULL) {
    give_up(r, tmp, strerror(errno));
    return;
  }
  int rc = tether_profile_write(r, f, 0);
  int saved = errno;
  if (fclose(f) != 0 && rc >= 0) {
    rc = TETHER_EIO;
    saved = errno;
  }
  if (rc < 0) {
    unlink(tmp);
    /* Out of memory: try again next time. A write that failed (a full disk):
     * stop, as for a directory that cannot be written. */
    if (rc == TETHER_EIO) give_up(r, tmp, strerror(saved));
    return;
  }
  if (rename(tmp, path) != 0) {
    give_up(r, path, strerror(errno));
    unlink(tmp);
    return;
  }
  r->profile_seq++;
}

void tether__export_trace(tether_registry *r, uint64_t t0_ns, size_t scanned, size_t expired,
                          uint64_t destructors) {
  tether_stats st;
  if (tether_stats_get(r, &st) != 0) return;
  uint64_t now = tether__now(r);
  double t = (double)(now >= r->created_ms ? now - r->created_ms : 0) / 1000.0;
  uint64_t pass = ++r->trace_passes;
  fprintf(stderr,
          "tether: sweep %" PRIu64 " @%.3f s: %zu scanned, %zu expired, %" PRIu64 " destructors, live %" PRIu64
          " (%" PRIu64 " bytes), pending %" PRIu64 ", %.3f ms [registry %" PRIu64 "]\n",
          pass, t, scanned, expired, destructors, st.live, st.live_bytes, st.destructors_pending,
          (double)(tether__mono_ns() - t0_ns) / 1e6, r->serial);
}
