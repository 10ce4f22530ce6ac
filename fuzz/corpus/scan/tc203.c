/* TC203: a file-scope table of callbacks with context pointers, filled at run
 * time and never cleared; and one that is cleared. */
#include <string.h>

struct handler {
  void (*fn)(void *ctx);
  void *ctx;
};

static struct handler handlers[64];
static int nhandlers;

void add_handler(void (*fn)(void *), void *ctx) {
  handlers[nhandlers].fn = fn;
  handlers[nhandlers].ctx = ctx;
  nhandlers++;
}

typedef struct {
  void (*cb)(void *);
  void *data;
} slot;

static slot slots[16];

void slot_set(int i, void (*cb)(void *), void *data) {
  slots[i].cb = cb;
  slots[i].data = data;
}

void slot_clear(int i) {
  slots[i].cb = NULL;
  slots[i].data = NULL;
}

typedef void (*hook_fn)(void *);
static hook_fn hooks[8];
static void *hook_ctx[8];

void hook_add(int i, hook_fn f, void *c) {
  hooks[i] = f;
  hook_ctx[i] = c;
}

static struct handler fixed[2] = {{0, 0}, {0, 0}};

void reset_all(void) { memset(hook_ctx, 0, sizeof hook_ctx); }
