/*
 * Token-bucket arithmetic; see ombud/rate.h. DESIGN: every quantity is
 * an integer. The bucket refills `rate` micro-tokens per microsecond
 * (rate tokens a second), so the elapsed time is capped before the
 * multiplication at the time a fill takes, which keeps the product below
 * OMBUD_RATE_MAX * OMBUD_RATE_TOKEN (10^12) and far from overflow.
 * Seconds reported to clients are rounded up: a client that waits the
 * seconds it was told always finds the token there.
 */
#include "ombud/rate.h"

static int64_t capacity(unsigned burst)
{
    return (int64_t)burst * OMBUD_RATE_TOKEN;
}

/* Whole seconds, rounded up, to gain `deficit` micro-tokens at `rate`. */
static unsigned seconds_for(int64_t deficit, unsigned rate)
{
    if (deficit <= 0)
        return 0;
    int64_t per_s = (int64_t)rate * OMBUD_RATE_TOKEN;
    return (unsigned)((deficit + per_s - 1) / per_s);
}

void ombud_rate_bucket_init(struct ombud_rate_bucket *b, unsigned burst, int64_t now_us)
{
    b->level = capacity(burst);
    b->at_us = now_us;
}

struct ombud_rate_verdict ombud_rate_take(struct ombud_rate_bucket *b, unsigned rate,
                                          unsigned burst, int64_t now_us)
{
    struct ombud_rate_verdict v = {0};
    int64_t cap = capacity(burst);

    if (now_us > b->at_us) {
        int64_t missing = cap - b->level;
        int64_t elapsed = now_us - b->at_us;
        if (missing <= 0 || elapsed >= (missing + rate - 1) / rate)
            b->level = cap;
        else
            b->level += elapsed * (int64_t)rate;
        b->at_us = now_us;
    }
    if (b->level > cap) /* the burst was lowered under a full bucket */
        b->level = cap;
    if (b->level >= OMBUD_RATE_TOKEN) {
        b->level -= OMBUD_RATE_TOKEN;
        v.allowed = true;
    } else {
        unsigned s = seconds_for(OMBUD_RATE_TOKEN - b->level, rate);
        v.retry_after = s < 1 ? 1 : s;
    }
    v.remaining = (unsigned)(b->level / OMBUD_RATE_TOKEN);
    v.reset_s = seconds_for(cap - b->level, rate);
    return v;
}

unsigned ombud_rate_window_s(unsigned rate, unsigned burst)
{
    unsigned w = rate ? (burst + rate - 1) / rate : 0;
    return w < 1 ? 1 : w;
}
