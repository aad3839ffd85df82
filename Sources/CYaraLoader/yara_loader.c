// libyara loaded on demand (see yara_loader.h): dlopen once, every function looked up, yr_initialize called.
#include "yara_loader.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static struct {
  int (*initialize)(void);
  int (*compiler_create)(YR_COMPILER **);
  void (*compiler_destroy)(YR_COMPILER *);
  void (*compiler_set_callback)(YR_COMPILER *, YR_COMPILER_CALLBACK_FUNC, void *);
  int (*compiler_add_fd)(YR_COMPILER *, YR_FILE_DESCRIPTOR, const char *, const char *);
  int (*compiler_get_rules)(YR_COMPILER *, YR_RULES **);
  int (*rules_destroy)(YR_RULES *);
  int (*scanner_create)(YR_RULES *, YR_SCANNER **);
  void (*scanner_destroy)(YR_SCANNER *);
  void (*scanner_set_flags)(YR_SCANNER *, int);
  void (*scanner_set_callback)(YR_SCANNER *, YR_CALLBACK_FUNC, void *);
  int (*scanner_scan_mem_blocks)(YR_SCANNER *, YR_MEMORY_BLOCK_ITERATOR *);
} yara;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int ready;
static char failure[512];

static void load(void) {
  // The soname of libyara 4.x, whose structures the headers describe; another major version is another ABI.
  // CHECKPOINTCTL_LIBYARA names another file (a libyara built elsewhere; the tests name a missing one).
  const char *name = getenv("CHECKPOINTCTL_LIBYARA");
  if (name == NULL || *name == 0) name = "libyara.so.9";
  void *library = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    const char *reason = dlerror();
    snprintf(failure, sizeof failure, "%s", reason != NULL ? reason : "libyara cannot be loaded");
    return;
  }
#define LOOK_UP(field, symbol)                                               \
  if ((*(void **)&yara.field = dlsym(library, symbol)) == NULL) {            \
    snprintf(failure, sizeof failure, "%s has no function %s", name, symbol); \
    return;                                                                  \
  }
  LOOK_UP(initialize, "yr_initialize")
  LOOK_UP(compiler_create, "yr_compiler_create")
  LOOK_UP(compiler_destroy, "yr_compiler_destroy")
  LOOK_UP(compiler_set_callback, "yr_compiler_set_callback")
  LOOK_UP(compiler_add_fd, "yr_compiler_add_fd")
  LOOK_UP(compiler_get_rules, "yr_compiler_get_rules")
  LOOK_UP(rules_destroy, "yr_rules_destroy")
  LOOK_UP(scanner_create, "yr_scanner_create")
  LOOK_UP(scanner_destroy, "yr_scanner_destroy")
  LOOK_UP(scanner_set_flags, "yr_scanner_set_flags")
  LOOK_UP(scanner_set_callback, "yr_scanner_set_callback")
  LOOK_UP(scanner_scan_mem_blocks, "yr_scanner_scan_mem_blocks")
#undef LOOK_UP
  int status = yara.initialize();
  if (status != ERROR_SUCCESS) {
    snprintf(failure, sizeof failure, "yr_initialize failed (error %d)", status);
    return;
  }
  ready = 1;
}

const char *cy_load(void) {
  pthread_once(&once, load);
  return ready ? NULL : failure;
}

int cy_compiler_create(YR_COMPILER **compiler) { return yara.compiler_create(compiler); }
void cy_compiler_destroy(YR_COMPILER *compiler) { yara.compiler_destroy(compiler); }
void cy_compiler_set_callback(YR_COMPILER *compiler, YR_COMPILER_CALLBACK_FUNC callback, void *user_data) {
  yara.compiler_set_callback(compiler, callback, user_data);
}
int cy_compiler_add_fd(YR_COMPILER *compiler, int fd, const char *namespace_, const char *file_name) {
  return yara.compiler_add_fd(compiler, fd, namespace_, file_name);
}
int cy_compiler_get_rules(YR_COMPILER *compiler, YR_RULES **rules) { return yara.compiler_get_rules(compiler, rules); }
int cy_rules_destroy(YR_RULES *rules) { return yara.rules_destroy(rules); }
int cy_scanner_create(YR_RULES *rules, YR_SCANNER **scanner) { return yara.scanner_create(rules, scanner); }
void cy_scanner_destroy(YR_SCANNER *scanner) { yara.scanner_destroy(scanner); }
void cy_scanner_set_flags(YR_SCANNER *scanner, int flags) { yara.scanner_set_flags(scanner, flags); }
void cy_scanner_set_callback(YR_SCANNER *scanner, YR_CALLBACK_FUNC callback, void *user_data) {
  yara.scanner_set_callback(scanner, callback, user_data);
}
int cy_scanner_scan_mem_blocks(YR_SCANNER *scanner, YR_MEMORY_BLOCK_ITERATOR *iterator) {
  return yara.scanner_scan_mem_blocks(scanner, iterator);
}
