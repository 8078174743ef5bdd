/*
 * The webhook sender. DESIGN: one thread per process, with a database
 * connection of its own (outside the pool) and one libcurl multi handle,
 * so that all transfers run side by side and one slow endpoint holds up
 * no other. Every round (ROUND_MS, or sooner when a transfer ends):
 *
 *  1. Fan-out, one transaction: lock the active endpoints no other
 *     process is fanning out (FOR UPDATE SKIP LOCKED), read the settled
 *     changes after each one's cursor (the log's order without gaps:
 *     migrations/0015), queue a delivery for each change its types admit
 *     (unique per endpoint and change) and move the cursor past all it
 *     read. Commit makes deliveries and cursor move together, so every
 *     change becomes exactly one delivery per endpoint across processes
 *     and restarts.
 *  2. Claim: due pending deliveries up to the free transfer slots, leased
 *     for LEASE_S (longer than an attempt's 10 s limit) in the claiming
 *     statement (FOR UPDATE SKIP LOCKED), so each (endpoint, change) is
 *     attempted by one process at a time; a process that dies leaves a
 *     lease that runs out, and then another process tries again.
 *  3. Transfers: POST the stored body with the Standard Webhooks headers
 *     (webhook-id the same on every retry, webhook-timestamp of this
 *     attempt, webhook-signature over both and the body). Before a socket
 *     is opened, the address curl is about to connect to is checked
 *     (CURLOPT_OPENSOCKETFUNCTION): so a name that resolves to a private
 *     address (DNS rebinding included) is refused on the address itself,
 *     and the refusal is that attempt's error. No proxy from the
 *     environment is used and redirects are not followed.
 *  4. Each finished transfer is recorded (attempt row, the delivery's new
 *     state and next attempt, 410 disabling the endpoint) in one
 *     statement.
 *
 * Stopping abandons transfers in flight: their leases run out and the
 * deliveries are tried again (delivery is at least once). Signals stay
 * blocked in this thread (main blocks them before starting it).
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ombud/config.h"
#include "ombud/db/changes.h"
#include "ombud/db/pool.h"
#include "ombud/db/webhooks.h"
#include "ombud/log.h"
#include "ombud/outbound.h"
#include "ombud/repr.h"
#include "ombud/text.h"
#include "ombud/timefmt.h"

#define ROUND_MS 200
#define MAX_IN_FLIGHT 64
#define LEASE_S 60
#define ATTEMPT_TIMEOUT_MS 10000
#define FANOUT_ENDPOINTS 100
#define FANOUT_CHANGES 200
#define STATS_EVERY_US 2000000

static pthread_t thread;
static bool started;
static char *db_url;
static atomic_bool stopping;
static CURLM *multi;
/* Transfers in flight (the thread's own; freed at stop). */
static struct xfer *slots[MAX_IN_FLIGHT];
static atomic_llong st_delivered, st_retried, st_failed, st_gone, st_refused, st_depth, st_oldest,
    st_in_flight;

struct xfer {
    CURL *h;
    struct ombud_webhook_job job;
    struct curl_slist *headers;
    char excerpt[OMBUD_WEBHOOK_EXCERPT_MAX + 1];
    size_t excerpt_len;
    char refused[160]; /* why the address was refused, when it was */
    char errbuf[CURL_ERROR_SIZE];
    int64_t started_us;
};

/* Durations: the monotonic clock, in microseconds. */
static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void nap(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- 1. fan-out ---- */

struct fanout {
    size_t queued;
    bool more;
};

static enum ombud_rc fanout_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct fanout *fo = arg;
    struct ombud_webhook_cursor *ws = NULL;
    size_t nw = 0;
    enum ombud_rc rc;
    fo->queued = 0;
    fo->more = false;
    if ((rc = ombud_db_webhook_fanout_lock(c, FANOUT_ENDPOINTS, &ws, &nw, err)) != OMBUD_OK)
        return rc;
    for (size_t i = 0; i < nw && rc == OMBUD_OK; i++) {
        struct ombud_change_filter f;
        struct ombud_change *chs = NULL;
        size_t nch = 0;
        char bad[64];
        if (!ombud_change_filter_parse(ws[i].types, &f, bad, sizeof bad))
            memset(&f, 0, sizeof f); /* checked at create: cannot happen */
        rc = ombud_db_changes_read(c, ws[i].cursor, FANOUT_CHANGES, NULL, &chs, &nch, err);
        for (size_t k = 0; k < nch && rc == OMBUD_OK; k++) {
            if (!ombud_change_filter_admits(&f, chs[k].type))
                continue;
            char *payload = ombud_repr_webhook_payload(&chs[k]);
            if (!payload) {
                rc = ombud_err_internal(err, "out of memory");
                break;
            }
            rc = ombud_db_webhook_enqueue(c, ws[i].id, chs[k].id, chs[k].type, payload, err);
            free(payload);
            fo->queued++;
        }
        if (rc == OMBUD_OK && nch)
            rc = ombud_db_webhook_cursor_set(c, ws[i].id, chs[nch - 1].id, err);
        fo->more |= nch == FANOUT_CHANGES;
        ombud_changes_free(chs, nch);
    }
    free(ws);
    return rc;
}

/* ---- 3. transfers ---- */

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    size_t len = size * n, room = OMBUD_WEBHOOK_EXCERPT_MAX - x->excerpt_len;
    size_t take = len < room ? len : room;
    memcpy(x->excerpt + x->excerpt_len, data, take);
    x->excerpt_len += take;
    x->excerpt[x->excerpt_len] = '\0';
    return len; /* the rest is read and dropped */
}

/* The address curl is about to connect to: refused unless allowed. */
static curl_socket_t on_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct xfer *x = arg;
    unsigned char raw[16];
    size_t len = 0;
    char text[INET6_ADDRSTRLEN] = "?";
    (void)purpose;
    if (a->family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)(const void *)&a->addr;
        memcpy(raw, &s->sin_addr, 4);
        len = 4;
        inet_ntop(AF_INET, &s->sin_addr, text, sizeof text);
    } else if (a->family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)(const void *)&a->addr;
        memcpy(raw, &s->sin6_addr, 16);
        len = 16;
        inet_ntop(AF_INET6, &s->sin6_addr, text, sizeof text);
    }
    enum ombud_addr_class c = len ? ombud_webhook_addr_class(raw, len) : OMBUD_ADDR_UNSPECIFIED;
    if (!len || !ombud_webhook_addr_allowed(c, ombud_cf.webhook_allow_private)) {
        snprintf(x->refused, sizeof x->refused, "refused: %s is %s%s", text,
                 ombud_addr_class_name(c),
                 c == OMBUD_ADDR_METADATA || !len ? "" : " (OMBUD_WEBHOOK_ALLOW_PRIVATE is off)");
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

static void xfer_free(struct xfer *x)
{
    if (!x)
        return;
    if (x->h)
        curl_easy_cleanup(x->h);
    curl_slist_free_all(x->headers);
    free(x->job.payload);
    free(x);
}

/* Starts the transfer of job (taken over: its payload is the xfer's now). */
static void start(struct ombud_webhook_job *job)
{
    struct xfer *x = calloc(1, sizeof *x);
    char sig[160], line[256];
    /* The real wall clock (receivers compare it with theirs), never a
     * test clock's. */
    int64_t ts = (int64_t)time(NULL);
    if (!x) {
        free(job->payload);
        return; /* the lease runs out and the delivery is tried again */
    }
    x->job = *job;
    job->payload = NULL;
    x->started_us = mono_us();
    if (!(x->h = curl_easy_init()) ||
        !ombud_outbound_sign(x->job.secret, x->job.msg_id, ts, x->job.payload, sig, sizeof sig)) {
        ombud_log(OMBUD_LOG_ERROR, "webhook", "delivery %lld: cannot prepare the request",
                  (long long)x->job.delivery_id);
        xfer_free(x);
        return;
    }
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    snprintf(line, sizeof line, "webhook-id: %s", x->job.msg_id);
    h = h ? curl_slist_append(h, line) : NULL;
    snprintf(line, sizeof line, "webhook-timestamp: %lld", (long long)ts);
    h = h ? curl_slist_append(h, line) : NULL;
    snprintf(line, sizeof line, "webhook-signature: %s", sig);
    h = h ? curl_slist_append(h, line) : NULL;
    h = h ? curl_slist_append(h, "Expect:") : NULL;
    if (!h) {
        xfer_free(x);
        return;
    }
    x->headers = h;
    CURL *e = x->h;
    curl_easy_setopt(e, CURLOPT_URL, x->job.url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR,
                     ombud_cf.webhook_allow_http ? "http,https" : "https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)ATTEMPT_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->job.payload);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(x->job.payload));
    curl_easy_setopt(e, CURLOPT_USERAGENT, "ombud/" OMBUD_VERSION);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    size_t slot = 0;
    while (slot < MAX_IN_FLIGHT && slots[slot])
        slot++;
    if (slot == MAX_IN_FLIGHT || curl_multi_add_handle(multi, e) != CURLM_OK) {
        xfer_free(x);
        return;
    }
    slots[slot] = x;
    atomic_fetch_add(&st_in_flight, 1);
}

static uint32_t rnd32(void)
{
    uint32_t r = 0;
    if (RAND_bytes((unsigned char *)&r, sizeof r) != 1)
        r = (uint32_t)ombud_time_now();
    return r;
}

/* ---- 4. recording ---- */

static void finish(struct ombud_db_conn *c, struct xfer *x, CURLcode res)
{
    long status = 0;
    char error[256] = "", state[12] = "";
    struct ombud_err err;
    int duration_ms = (int)((mono_us() - x->started_us) / 1000);
    curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
    if (x->refused[0])
        snprintf(error, sizeof error, "%s", x->refused);
    else if (res != CURLE_OK)
        snprintf(error, sizeof error, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
    enum ombud_webhook_outcome oc = res == CURLE_OK && status >= 200 && status < 300
                                        ? OMBUD_WEBHOOK_OK
                                    : res == CURLE_OK && status == 410 ? OMBUD_WEBHOOK_GONE
                                                                       : OMBUD_WEBHOOK_RETRY;
    if (res != CURLE_OK)
        status = 0;
    /* Stored as text and shown in JSON: valid UTF-8 only (a NUL ends it). */
    char *excerpt = status ? ombud_utf8_sanitize_dup(x->excerpt) : NULL;
    char *error_text = error[0] ? ombud_utf8_sanitize_dup(error) : NULL;
    unsigned scale = ombud_cf.webhook_retry_scale ? ombud_cf.webhook_retry_scale : 1;
    int64_t retry_ms = ombud_webhook_retry_delay_ms(x->job.attempts, rnd32()) / scale;
    ombud_err_clear(&err);
    enum ombud_rc rc = ombud_db_webhook_attempt_record(
        c, x->job.delivery_id, (int)status, duration_ms, error_text, excerpt, oc, retry_ms,
        OMBUD_WEBHOOK_RETRY_WINDOW_MS / scale, state, &err);
    free(excerpt);
    free(error_text);
    if (rc != OMBUD_OK) {
        /* The lease runs out and the delivery is tried again. */
        ombud_log(OMBUD_LOG_WARN, "webhook", "delivery %lld: recording the attempt failed: %s",
                  (long long)x->job.delivery_id, err.detail);
        return;
    }
    if (x->refused[0])
        atomic_fetch_add(&st_refused, 1);
    if (oc == OMBUD_WEBHOOK_OK)
        atomic_fetch_add(&st_delivered, 1);
    else if (oc == OMBUD_WEBHOOK_GONE)
        atomic_fetch_add(&st_gone, 1);
    else if (strcmp(state, "pending") == 0)
        atomic_fetch_add(&st_retried, 1);
    else
        atomic_fetch_add(&st_failed, 1);
    ombud_log(oc == OMBUD_WEBHOOK_OK ? OMBUD_LOG_DEBUG : OMBUD_LOG_INFO, "webhook",
              "delivery %lld to endpoint %lld: status %ld in %d ms%s%s, now %s",
              (long long)x->job.delivery_id, (long long)x->job.webhook_id, status, duration_ms,
              error[0] ? ", " : "", error, state);
    if (oc == OMBUD_WEBHOOK_GONE)
        ombud_log(OMBUD_LOG_WARN, "webhook", "endpoint %lld answered 410 Gone: disabled",
                  (long long)x->job.webhook_id);
}

static void reap(struct ombud_db_conn *c)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct xfer *x = NULL;
        CURL *e = m->easy_handle;
        CURLcode res = m->data.result;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(multi, e);
        for (size_t i = 0; i < MAX_IN_FLIGHT; i++)
            if (slots[i] == x)
                slots[i] = NULL;
        atomic_fetch_sub(&st_in_flight, 1);
        if (c && ombud_db_conn_ok(c))
            finish(c, x, res);
        xfer_free(x);
    }
}

static void *run(void *arg)
{
    struct ombud_db_conn *c = NULL;
    struct ombud_err err;
    int backoff = 100;
    int64_t last_round = 0, last_stats = 0;
    char app[64];
    (void)arg;
    snprintf(app, sizeof app, "ombud webhook sender %ld", (long)getpid());
    while (!atomic_load(&stopping)) {
        if (!c || !ombud_db_conn_ok(c)) {
            ombud_db_conn_close(c);
            ombud_err_clear(&err);
            if (!(c = ombud_db_conn_open(db_url, app, &err))) {
                nap(backoff);
                backoff = backoff < 2000 ? backoff * 2 : 2000;
                continue;
            }
            backoff = 100;
        }
        int64_t now = mono_us();
        if (now - last_round >= ROUND_MS * 1000LL) {
            last_round = now;
            struct fanout fo;
            ombud_err_clear(&err);
            if (ombud_tx_run_on(c, fanout_tx, &fo, &err) != OMBUD_OK)
                ombud_log(OMBUD_LOG_WARN, "webhook", "fan-out failed: %s", err.detail);
            else if (fo.more)
                last_round = 0; /* more changes wait: another round at once */
            long free_slots = MAX_IN_FLIGHT - (long)atomic_load(&st_in_flight);
            struct ombud_webhook_job *jobs = NULL;
            size_t nj = 0;
            ombud_err_clear(&err);
            if (free_slots > 0 && ombud_db_conn_ok(c) &&
                ombud_db_webhook_claim(c, (int)free_slots, LEASE_S, &jobs, &nj, &err) != OMBUD_OK)
                ombud_log(OMBUD_LOG_WARN, "webhook", "claiming deliveries failed: %s", err.detail);
            for (size_t i = 0; i < nj; i++)
                start(&jobs[i]);
            ombud_webhook_jobs_free(jobs, nj);
            if (now - last_stats >= STATS_EVERY_US && ombud_db_conn_ok(c)) {
                int64_t depth = 0, oldest = 0;
                ombud_err_clear(&err);
                if (ombud_db_webhook_queue(c, &depth, &oldest, &err) == OMBUD_OK) {
                    atomic_store(&st_depth, depth);
                    atomic_store(&st_oldest, oldest);
                    last_stats = now;
                }
            }
        }
        int running = 0;
        curl_multi_perform(multi, &running);
        reap(c);
        int64_t wait_ms = ROUND_MS - (mono_us() - last_round) / 1000;
        if (wait_ms > 0)
            curl_multi_poll(multi, NULL, 0, (int)(wait_ms > ROUND_MS ? ROUND_MS : wait_ms), NULL);
    }
    /* Abandon what is in flight: the leases run out. */
    for (size_t i = 0; i < MAX_IN_FLIGHT; i++) {
        if (!slots[i])
            continue;
        curl_multi_remove_handle(multi, slots[i]->h);
        xfer_free(slots[i]);
        slots[i] = NULL;
    }
    atomic_store(&st_in_flight, 0);
    ombud_db_conn_close(c);
    return NULL;
}

enum ombud_rc ombud_webhook_sender_start(const char *url, struct ombud_err *err)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return ombud_err_internal(err, "cannot initialise libcurl");
    if (!(db_url = strdup(url)) || !(multi = curl_multi_init())) {
        free(db_url);
        db_url = NULL;
        curl_global_cleanup();
        return ombud_err_internal(err, "cannot start the webhook sender");
    }
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 8L);
    atomic_store(&stopping, false);
    if (pthread_create(&thread, NULL, run, NULL) != 0) {
        curl_multi_cleanup(multi);
        multi = NULL;
        free(db_url);
        db_url = NULL;
        curl_global_cleanup();
        return ombud_err_internal(err, "cannot start the webhook sender thread");
    }
    started = true;
    return OMBUD_OK;
}

void ombud_webhook_sender_stop(void)
{
    if (!started)
        return;
    atomic_store(&stopping, true);
    curl_multi_wakeup(multi);
    pthread_join(thread, NULL);
    curl_multi_cleanup(multi);
    multi = NULL;
    curl_global_cleanup();
    free(db_url);
    db_url = NULL;
    started = false;
}

void ombud_webhook_sender_stats(struct ombud_webhook_stats *out)
{
    out->delivered = atomic_load(&st_delivered);
    out->retried = atomic_load(&st_retried);
    out->failed = atomic_load(&st_failed);
    out->gone = atomic_load(&st_gone);
    out->refused = atomic_load(&st_refused);
    out->queue_depth = atomic_load(&st_depth);
    out->oldest_age_s = atomic_load(&st_oldest);
    out->in_flight = atomic_load(&st_in_flight);
}
