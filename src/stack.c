/* Registering call stacks (capture_stack) and the loaded objects a profile
 * names so that pprof can symbolize them.
 *
 * - The stack is captured with glibc's backtrace() before the registry's mutex
 *   is taken; its first use loads the unwinder, so tether_registry_new calls it
 *   once when stacks are wanted (the loader allocates then, not in a register).
 * - Loaded objects come from dl_iterate_phdr: each executable segment with the
 *   object's file, its offset and the GNU build id. The loader's lock is held
 *   during the walk, so nothing is allocated inside it: a first walk counts, the
 *   memory is allocated, a second walk fills at most what was counted. */
#include <elf.h>
#include <execinfo.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "stack.h"

/* Frames of backtrace() that are not the caller's: this function and the
 * public registering function. */
#define STACK_SKIP 3

__attribute__((noinline)) size_t tether__stack_capture(uintptr_t *pcs, size_t depth) {
  void *buf[TETHER_STACK_MAX + STACK_SKIP];
  if (depth > TETHER_STACK_MAX) depth = TETHER_STACK_MAX;
  int n = backtrace(buf, (int)(depth + STACK_SKIP));
  size_t got = n > STACK_SKIP ? (size_t)n - STACK_SKIP : 0;
  for (size_t i = 0; i < got; i++) pcs[i] = (uintptr_t)buf[i + STACK_SKIP];
  return got;
}

void tether__stack_warm(void) {
  void *buf[4];
  (void)backtrace(buf, 4);
}

/* ---- loaded objects ---- */

typedef struct walk {
  tether__mapping *v; /* NULL while counting */
  size_t n, cap;
  char *text, *text_end;
  size_t text_needed;
  const char *exe; /* the main program's path (its dlpi_name is "") */
} walk;

/* The GNU build id of an object, as lowercase hex (at most 40 digits + NUL). */
static void build_id_of(const struct dl_phdr_info *info, char *out, size_t n) {
  out[0] = '\0';
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_NOTE) continue;
    const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)(const void *)p;
      size_t name = (nh->n_namesz + 3) & ~(size_t)3, desc = (nh->n_descsz + 3) & ~(size_t)3;
      const unsigned char *d = (const unsigned char *)p + sizeof *nh + name;
      if ((const char *)d + nh->n_descsz > end) break;
      if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && memcmp(p + sizeof *nh, "GNU", 4) == 0) {
        size_t k = 0;
        for (size_t j = 0; j < nh->n_descsz && k + 3 <= n; j++) k += (size_t)snprintf(out + k, n - k, "%02x", d[j]);
        return;
      }
      p = (const char *)d + desc;
    }
  }
}

static int each_object(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  walk *w = arg;
  const char *file = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name : w->exe;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
    size_t len = strlen(file) + 1;
    if (w->v == NULL) {
      w->n++;
      w->text_needed += len;
      continue;
    }
    if (w->n == w->cap || (size_t)(w->text_end - w->text) < len) return 1;
    tether__mapping *m = &w->v[w->n++];
    m->start = info->dlpi_addr + ph->p_vaddr;
    m->limit = m->start + ph->p_memsz;
    m->offset = ph->p_offset;
    memcpy(w->text, file, len);
    m->file = w->text;
    w->text += len;
    build_id_of(info, m->build_id, sizeof m->build_id);
  }
  return 0;
}

/* The main program's path, read once (profiles are written from any thread,
 * and from the background thread, at the same time). */
static char g_exe[4096];
static pthread_once_t g_exe_once = PTHREAD_ONCE_INIT;

static void read_exe(void) {
  ssize_t k = readlink("/proc/self/exe", g_exe, sizeof g_exe - 1);
  if (k > 0) g_exe[k] = '\0';
}

int tether__mappings(tether_registry *r, tether__mappings_t *out) {
  memset(out, 0, sizeof *out);
  pthread_once(&g_exe_once, read_exe);
  const char *exe = g_exe;
  walk w = {0};
  w.exe = exe;
  dl_iterate_phdr(each_object, &w);
  /* Room for objects loaded between the two walks. */
  w.cap = w.n + 16;
  size_t text = w.text_needed + 16 * sizeof g_exe;
  out->size = w.cap * sizeof *w.v + text;
  out->v = tether__alloc(r, out->size);
  if (out->v == NULL) return TETHER_ENOMEM;
  w.v = out->v;
  w.n = 0;
  w.text = (char *)(w.v + w.cap);
  w.text_end = w.text + text;
  dl_iterate_phdr(each_object, &w);
  out->n = w.n;
  return 0;
}

void tether__mappings_free(tether_registry *r, tether__mappings_t *m) {
  if (m->v) tether__free(r, m->v, m->size);
  m->v = NULL;
}
