/*
 * Per-API-key rate limits, private to src/http: one token bucket per key
 * (ombud/rate.h) in a per-process table. auth.c takes a token once the
 * key is known; reply.c writes the RateLimit headers from what the take
 * decided.
 */
#ifndef OMBUD_HTTP_RATELIMIT_H
#define OMBUD_HTTP_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "ombud/err.h"
#include "ombud/rate.h"

/* Sets the limits (rate 0: off) and empties the table. Call before the
 * HTTP threads start. */
OMBUD_MUSTCHECK enum ombud_rc ombud_ratelimit_init(unsigned rate, unsigned burst,
                                                   struct ombud_err *err);

/* Frees the table (after the HTTP threads have stopped). */
void ombud_ratelimit_free(void);

/* Whether limits are on. */
bool ombud_ratelimit_enabled(void);

/* Takes one token from key_id's bucket (created full on first use).
 * Thread-safe; holds one shard's mutex for a few arithmetic steps. */
struct ombud_rate_verdict ombud_ratelimit_take(int64_t key_id);

/* The two header values for a verdict: RateLimit-Policy and RateLimit
 * (draft-ietf-httpapi-ratelimit-headers, 2024 form). */
#define OMBUD_RATELIMIT_HBUF 64
void ombud_ratelimit_headers(const struct ombud_rate_verdict *v, char policy[OMBUD_RATELIMIT_HBUF],
                             char limit[OMBUD_RATELIMIT_HBUF]);

#endif
