/*
 * Opaque list cursors: up to four int64 values (e.g. created_at usec and
 * id of the last row), encoded as base64url text. Decoding checks the
 * shape strictly so a forged cursor is a 422, never undefined behaviour.
 */
#ifndef OMBUD_CURSOR_H
#define OMBUD_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OMBUD_CURSOR_MAX 4
#define OMBUD_CURSOR_BUFLEN 160

/* Encodes n values (1..4) into out (>= OMBUD_CURSOR_BUFLEN). */
void ombud_cursor_encode(const int64_t *v, size_t n, char *out);
/* base64url without padding of len bytes of plain into out (>= 4 * len / 3 + 4):
 * the cursors' text encoding, also for tests that forge malformed cursors. */
void ombud_cursor_b64url(const char *plain, size_t len, char *out);
/* Decodes exactly n values; false when text is not such a cursor, and
 * then v is left as it was. */
bool ombud_cursor_decode(const char *text, int64_t *v, size_t n);

#endif
