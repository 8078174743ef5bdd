/*
 * Token-bucket arithmetic for per-key rate limits. Pure C, no clock and
 * no locking: the caller passes the time (monotonic microseconds) and
 * keeps the bucket where it likes (src/http/ratelimit.c, a sharded table
 * under per-shard mutexes).
 *
 * A bucket holds at most `burst` tokens and gains `rate` tokens a second;
 * a request takes one. Levels are kept in micro-tokens (1 token =
 * 1,000,000) so refills between requests microseconds apart are not lost
 * to rounding.
 */
#ifndef OMBUD_RATE_H
#define OMBUD_RATE_H

#include <stdbool.h>
#include <stdint.h>

#define OMBUD_RATE_MAX 1000000u  /* largest rate (tokens a second) and burst */
#define OMBUD_RATE_TOKEN 1000000 /* micro-tokens in a token */

struct ombud_rate_bucket {
    int64_t level; /* micro-tokens held at `at_us` */
    int64_t at_us; /* when level was last brought up to date */
};

/* What one request's take decided, in the terms the RateLimit headers
 * and Retry-After speak. */
struct ombud_rate_verdict {
    bool allowed;
    unsigned remaining;   /* whole tokens left after this request */
    unsigned reset_s;     /* whole seconds until the bucket is full again (0: full) */
    unsigned retry_after; /* denied: whole seconds until a token is there, at least 1 */
};

/* A full bucket as of now_us. */
void ombud_rate_bucket_init(struct ombud_rate_bucket *b, unsigned burst, int64_t now_us);

/* Refills b up to now_us (time never runs backwards here: an earlier
 * now_us refills nothing) and takes one token if there is one.
 * rate and burst are 1..OMBUD_RATE_MAX. */
struct ombud_rate_verdict ombud_rate_take(struct ombud_rate_bucket *b, unsigned rate,
                                          unsigned burst, int64_t now_us);

/* The policy's window in whole seconds for RateLimit-Policy's w:
 * how long an empty bucket takes to fill, ceil(burst / rate), at least 1. */
unsigned ombud_rate_window_s(unsigned rate, unsigned burst);

#endif
