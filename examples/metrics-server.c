/* A registry's metrics for Prometheus, served with libmicrohttpd.
 *
 *   metrics-server [SECONDS]
 *
 * A small plugin host fills a registry, then serves GET /metrics on 127.0.0.1
 * (a port the kernel picks) for SECONDS (default 60) or until SIGINT/SIGTERM.
 * Each scrape is one tether_metrics_write into memory, answered with the
 * exposition format's content type; a scrape never blocks the registry's
 * users (the snapshot is taken under the registry mutex, the text written
 * without it). On standard output it prints where it listens, then what the
 * registry holds, for a reader to compare with what Prometheus scraped:
 *   listening on http://127.0.0.1:PORT/metrics
 *   stats <TAB> live=N live_bytes=N registered_total=N ...   (tether_stats_get)
 *   reg <TAB> NAME <TAB> FUNC <TAB> BYTES                    (tether_walk)
 * A Prometheus scrape config for it:
 *   scrape_configs:
 *     - job_name: plugins
 *       static_configs: [{targets: ["127.0.0.1:PORT"]}]  */
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tether/tether.h>

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

/* ---- the plugin host ---- */

static int on_event(void *ctx, void *arg) {
  (void)arg;
  return ((const char *)ctx)[0] == 1;
}

/* Registers a handler with a fresh context of BYTES. A helper that registers
 * for its callers passes their site (TETHER_HERE), so that the metrics' site
 * series name the callers, not the helper. */
static int add(tether_registry *r, tether_site site, const char *name, size_t bytes,
               tether_owner *owner, uint64_t ttl_ms) {
  char *ctx = calloc(1, bytes);
  if (ctx == NULL) return TETHER_ENOMEM;
  tether_reg_options ro = {.ctx_size = bytes, .owner = owner, .ttl_ms = ttl_ms};
  int rc = tether_register_at(r, site, name, on_event, ctx, free, &ro, NULL);
  if (rc != 0) free(ctx);
  return rc;
}

static int plugin_load(tether_registry *r, const char *plugin, tether_owner *owner) {
  char name[64];
  int rc = 0;
  for (int i = 0; rc == 0 && i < 3; i++) {
    snprintf(name, sizeof name, "%s/hook-%d", plugin, i);
    rc = add(r, TETHER_HERE, name, 4096 + 1024 * (size_t)i, owner, 0);
  }
  return rc;
}

static int session_open(tether_registry *r, int id) {
  char name[64];
  snprintf(name, sizeof name, "session-%d/message", id);
  return add(r, TETHER_HERE, name, 512, NULL, 3600 * 1000);
}

/* Loads two plugins and opens five sessions; then one session closes and the
 * video plugin is unloaded. *AUDIO gets the plugin that stays loaded. */
static int host_start(tether_registry *r, tether_owner **audio) {
  tether_owner *video;
  if (tether_owner_new(audio) != 0) return TETHER_ENOMEM;
  if (tether_owner_new(&video) != 0) return TETHER_ENOMEM;
  int rc = plugin_load(r, "audio", *audio);
  if (rc == 0) rc = plugin_load(r, "video", video);
  for (int i = 0; rc == 0 && i < 5; i++) rc = session_open(r, i);
  if (rc == 0) rc = tether_unregister_name(r, "session-3/message") == 1 ? 0 : TETHER_ENOENT;
  tether_owner_free(video); /* the video plugin is unloaded: its hooks go with it */
  if (rc == 0) rc = tether_barrier(r);
  return rc;
}

/* ---- what it prints ---- */

static int print_reg(const tether_info *in, void *arg) {
  (void)arg;
  printf("reg\t%s\t%s\t%zu\n", in->name, in->site.func, in->ctx_size);
  return 0;
}

static void print_figures(tether_registry *r) {
  tether_stats st;
  tether_stats_get(r, &st);
  printf("stats\tlive=%" PRIu64 " live_bytes=%" PRIu64 " registered_total=%" PRIu64
         " unregistered_total=%" PRIu64 " expired_total=%" PRIu64 " owner_removed_total=%" PRIu64
         " replaced_total=%" PRIu64 " destructors_run_total=%" PRIu64
         " destructors_pending=%" PRIu64 "\n",
         st.live, st.live_bytes, st.registered_total, st.unregistered_total, st.expired_total,
         st.owner_removed_total, st.replaced_total, st.destructors_run_total,
         st.destructors_pending);
  tether_walk(r, print_reg, NULL);
  fflush(stdout);
}

/* ---- the HTTP side ---- */

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *ctype,
                              char *body, size_t len) {
  struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
  if (resp == NULL) {
    free(body);
    return MHD_NO;
  }
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
  enum MHD_Result rc = MHD_queue_response(c, status, resp);
  MHD_destroy_response(resp);
  return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **state) {
  (void)version;
  (void)upload;
  (void)upload_size;
  (void)state;
  tether_registry *r = cls;
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
    return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", strdup("GET only\n"), 9);
  if (strcmp(url, "/metrics") != 0)
    return answer(c, MHD_HTTP_NOT_FOUND, "text/plain", strdup("not found: try /metrics\n"), 24);
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (f == NULL) return MHD_NO;
  int rc = tether_metrics_write(r, f, "registry=\"plugins\"");
  if (fclose(f) != 0 || rc < 0) {
    free(text);
    char *why = strdup(rc < 0 ? tether_strerror(rc) : "out of memory");
    return answer(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", why, why ? strlen(why) : 0);
  }
  return answer(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

int main(int argc, char **argv) {
  long seconds = argc > 1 ? strtol(argv[1], NULL, 10) : 60;
  if (argc > 2 || seconds <= 0) {
    fprintf(stderr, "usage: metrics-server [SECONDS]\n");
    return 2;
  }
  tether_registry *r;
  tether_owner *audio = NULL;
  if (tether_registry_new(&r, NULL) != 0) return 1;
  int rc = host_start(r, &audio);
  if (rc != 0) {
    fprintf(stderr, "metrics-server: %s\n", tether_strerror(rc));
    return 1;
  }

  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0; /* the kernel picks */
  struct MHD_Daemon *d =
      MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                       on_request, r, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                       MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
  const union MHD_DaemonInfo *info = d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
  if (info == NULL) {
    fprintf(stderr, "metrics-server: cannot listen on 127.0.0.1\n");
    return 1;
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  printf("listening on http://127.0.0.1:%u/metrics\n", (unsigned)info->port);
  print_figures(r);

  struct timespec tick = {0, 100 * 1000000L};
  for (long t = 0; !g_stop && t < seconds * 10; t++) nanosleep(&tick, NULL);
  MHD_stop_daemon(d);
  /* The audio plugin's hooks and the sessions are still registered: freeing
   * the registry destroys them (TETHER_LEAKCHECK=1 would list them). */
  tether_registry_free(r);
  tether_owner_free(audio);
  return 0;
}
