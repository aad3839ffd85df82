#ifndef CHECKPOINTCTL_CYARA_SHIM_H
#define CHECKPOINTCTL_CYARA_SHIM_H
#include <yara.h>

// libyara's types, and its iteration macros and the fields behind its arena references as functions Swift can
// call. The library itself is not linked: CYaraLoader loads it when rules are first compiled, so that no other
// command pays for loading it (and its libcrypto, libmagic and libjansson) at start.

static inline const char *cy_rule_identifier(const YR_RULE *rule) { return rule->identifier; }

/// The rule's tags, each NUL-terminated, an empty one last (or NULL).
static inline const char *cy_rule_tags(const YR_RULE *rule) { return rule->tags; }

static inline int cy_rule_is_private(const YR_RULE *rule) { return RULE_IS_PRIVATE(rule) != 0; }

static inline const YR_STRING *cy_rule_strings(const YR_RULE *rule) { return rule->strings; }

static inline const YR_STRING *cy_next_string(const YR_STRING *string) {
  return STRING_IS_LAST_IN_RULE(string) ? NULL : string + 1;
}

static inline const char *cy_string_identifier(const YR_STRING *string) { return string->identifier; }

static inline int cy_string_is_private(const YR_STRING *string) { return STRING_IS_PRIVATE(string) != 0; }

static inline const YR_MATCH *cy_first_match(YR_SCAN_CONTEXT *context, const YR_STRING *string) {
  return context->matches[string->idx].head;
}

static inline uint32_t cy_match_count(YR_SCAN_CONTEXT *context, const YR_STRING *string) {
  return context->matches[string->idx].count;
}

#endif
