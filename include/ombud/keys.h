/*
 * API key secrets: generated from the system CSPRNG, stored only as the
 * hex SHA-256 of the secret.
 */
#ifndef OMBUD_KEYS_H
#define OMBUD_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "ombud/err.h"

#define OMBUD_KEY_BUFLEN 64  /* "omb_" + 43 base64url chars + NUL fits */
#define OMBUD_HASH_BUFLEN 65 /* 64 hex + NUL */

/* Writes a new random key ("omb_" + 32 random bytes, base64url). */
OMBUD_MUSTCHECK enum ombud_rc ombud_key_generate(char *out, struct ombud_err *err);
/* Writes the lowercase hex SHA-256 of key (len bytes) into out. */
OMBUD_MUSTCHECK enum ombud_rc ombud_key_hash(const char *key, size_t len, char *out);
/* Writes n random bytes as 2n lowercase hex chars + NUL into out. */
void ombud_random_hex(char *out, size_t nbytes);

#endif
