#ifndef CHECKPOINTCTL_YARA_LOADER_H
#define CHECKPOINTCTL_YARA_LOADER_H
#include <yara.h>

/// Loads libyara (libyara.so.9, the ABI of the headers built against) and initializes it, once. NULL when it is
/// ready, else why it is not (the message stays valid).
const char *cy_load(void);

// libyara's functions, called through the loaded library (cy_load must have returned NULL).
int cy_compiler_create(YR_COMPILER **compiler);
void cy_compiler_destroy(YR_COMPILER *compiler);
void cy_compiler_set_callback(YR_COMPILER *compiler, YR_COMPILER_CALLBACK_FUNC callback, void *user_data);
int cy_compiler_add_fd(YR_COMPILER *compiler, int fd, const char *namespace_, const char *file_name);
int cy_compiler_get_rules(YR_COMPILER *compiler, YR_RULES **rules);
int cy_rules_destroy(YR_RULES *rules);
int cy_scanner_create(YR_RULES *rules, YR_SCANNER **scanner);
void cy_scanner_destroy(YR_SCANNER *scanner);
void cy_scanner_set_flags(YR_SCANNER *scanner, int flags);
void cy_scanner_set_callback(YR_SCANNER *scanner, YR_CALLBACK_FUNC callback, void *user_data);
int cy_scanner_scan_mem_blocks(YR_SCANNER *scanner, YR_MEMORY_BLOCK_ITERATOR *iterator);

#endif
