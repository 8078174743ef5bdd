/* UTF-8 checks for text that reaches JSON from outside (paths, headers). Pure C. */
#ifndef OMBUD_TEXT_H
#define OMBUD_TEXT_H

#include <stdbool.h>

/* Whether s is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool ombud_utf8_valid(const char *s);
/* A heap copy of s with every byte that is not part of a well-formed
 * sequence replaced by '?'. NULL on ENOMEM. */
char *ombud_utf8_sanitize_dup(const char *s);

/* Whether s looks like an e-mail address: one '@' with text on both sides
 * and no whitespace. Deliverability is not ours to judge. */
bool ombud_email_valid(const char *s);

#endif
