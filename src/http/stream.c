/*
 * GET /v1/stream: the change log as Server-Sent Events (API.md
 * "Outbound"). Each change is sent as `id: <change id>`, `event: <type>`,
 * `data: <the change as /v1/changes renders it>`; a stream starts at the
 * current end, or after Last-Event-ID (else ?after=) when given.
 *
 * DESIGN. An open stream costs a little memory and a socket, nothing else:
 *
 *  - No MHD thread. The response comes from a content reader (reader())
 *    that hands out what the stream's buffer holds; when the buffer is
 *    empty it suspends the connection (MHD_suspend_connection, allowed
 *    from a content reader; MHD_ALLOW_SUSPEND_RESUME in daemon.c), so the
 *    connection leaves MHD's event loop until the pump resumes it.
 *  - No database connection. One pump thread per process, with a
 *    connection of its own outside the pool, opened only while a stream is
 *    open, reads the log's settled end every TICK_MS (one index probe,
 *    ombud_db_changes_settled_end) and, when it moved, reads the new
 *    changes once, in pages, renders each once and appends it to the buffer
 *    of every stream whose types filter admits it and whose position is
 *    below it, then resumes those streams. Writers do nothing (no NOTIFY:
 *    PostgreSQL's notification lock was a bottleneck), and every process's
 *    pump sees every process's changes within a tick of their settling.
 *  - Positions. Each stream has its own position (the last change id it
 *    has been given or passed over); the pump reads after the lowest
 *    position among the streams that are behind, so streams at the same
 *    place share reads. Streams that have reached the end ("caught up")
 *    are served first, every tick, whatever the others need; streams
 *    still reading history (a resume from far back) get at most
 *    CATCHUP_PAGES pages a tick, and only while their buffer is under
 *    half full: they take the log at the pace their client reads it.
 *  - Slow clients. A caught-up stream whose buffer would pass
 *    OMBUD_STREAM_BUFFER_BYTES has fallen too far behind: its buffer is
 *    dropped and its connection shut down. The client resumes with
 *    Last-Event-ID, from the table, which is the truth.
 *  - Writes in this process nudge the pump once they have committed
 *    (daemon.c, after a write's handler: ombud_stream_nudge), so it looks
 *    again MIN_TICK_MS after its last round instead of TICK_MS: changes
 *    made here reach the streams here in milliseconds, and a burst of
 *    writes costs at most one round per MIN_TICK_MS.
 *  - Keep-alive. A stream that has been given nothing for
 *    OMBUD_STREAM_KEEPALIVE_MS gets a `: keep-alive` comment (which also
 *    lets MHD notice a client that went away while suspended).
 *
 * Locking: one mutex (mu) guards the list of streams and every field of
 * every stream; the reader, the pump and the response's free callback
 * take it. MHD_suspend_connection and MHD_resume_connection are called
 * with it held: MHD takes its own cleanup lock inside them but never calls
 * back into us while holding that lock, so the order is always ours, then
 * MHD's. A suspended connection cannot end (MHD notices nothing on it), so
 * a stream marked suspended is alive until whoever clears the mark has
 * resumed it.
 *
 * Shutdown: ombud_stream_close_all() (from ombud_http_stop, after the
 * daemon stopped accepting) marks every stream closing and resumes it;
 * the reader hands out what is buffered and ends the response, so the
 * drain sees the requests finish and no connection is left suspended when
 * MHD_stop_daemon runs (which MHD forbids).
 */
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http/handlers.h"
#include "http/stream.h"
#include "ombud/config.h"
#include "ombud/db/changes.h"
#include "ombud/db/pool.h"
#include "ombud/http.h"
#include "ombud/log.h"
#include "ombud/repr.h"

#define TICK_MS 200
#define MIN_TICK_MS 20
#define PAGE 200
#define CATCHUP_PAGES 16
#define FIRST ": stream open\n\n"
#define KEEPALIVE ": keep-alive\n\n"

struct stream {
    struct stream *prev, *next;
    struct MHD_Connection *conn;
    struct ombud_change_filter filter;
    int64_t pos; /* last change id given or passed over */
    char *buf;   /* bytes [off, len) wait for the client */
    size_t off, len, cap;
    int64_t last_us; /* when something was last appended (monotonic) */
    bool suspended;  /* by reader(); only the pump resumes it */
    bool caught_up;  /* has reached the end of the log once */
    bool closing;    /* end the response once the buffer is sent */
    bool failed;     /* fell behind: end it at once */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;
static struct stream *streams; /* guarded by mu, as is everything below */
static bool stopping, closing_all, started;
static pthread_t pump;
static char *db_url;
static atomic_long nopen;
static atomic_bool nudged;

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- a stream's buffer (mu held) ---- */

static bool append(struct stream *s, const char *data, size_t n)
{
    if (s->off && s->len + n > s->cap) {
        memmove(s->buf, s->buf + s->off, s->len - s->off);
        s->len -= s->off;
        s->off = 0;
    }
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 1024;
        while (cap < s->len + n)
            cap *= 2;
        char *nb = realloc(s->buf, cap);
        if (!nb)
            return false;
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    s->last_us = mono_us();
    return true;
}

static size_t pending(const struct stream *s)
{
    return s->len - s->off;
}

/* Lets MHD send what the buffer holds (or end the response). */
static void wake(struct stream *s)
{
    if (s->suspended) {
        s->suspended = false;
        MHD_resume_connection(s->conn);
    }
}

/* Fallen too far behind: drop what is buffered and end the connection
 * (shutting the socket down, so that MHD notices even while the client
 * reads nothing). The socket stays open until after our free callback. */
static void fail(struct stream *s)
{
    s->failed = true;
    free(s->buf);
    s->buf = NULL;
    s->off = s->len = s->cap = 0;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(s->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci)
        shutdown(ci->connect_fd, SHUT_RDWR);
    wake(s);
}

/* ---- MHD's side ---- */

static ssize_t reader(void *cls, uint64_t at, char *out, size_t max)
{
    struct stream *s = cls;
    ssize_t n;
    (void)at;
    pthread_mutex_lock(&mu);
    if (s->failed) {
        n = MHD_CONTENT_READER_END_WITH_ERROR;
    } else if (pending(s)) {
        size_t k = pending(s) < max ? pending(s) : max;
        memcpy(out, s->buf + s->off, k);
        s->off += k;
        if (s->off == s->len)
            s->off = s->len = 0;
        n = (ssize_t)k;
    } else if (s->closing) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        /* Nothing to send: out of MHD's loop until the pump has some. */
        s->suspended = true;
        MHD_suspend_connection(s->conn);
        n = 0;
    }
    pthread_mutex_unlock(&mu);
    return n;
}

/* The response is done with (the connection ended): forget the stream. */
static void stream_free(void *cls)
{
    struct stream *s = cls;
    pthread_mutex_lock(&mu);
    if (s->prev)
        s->prev->next = s->next;
    else
        streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    pthread_mutex_unlock(&mu);
    atomic_fetch_sub(&nopen, 1);
    free(s->buf);
    free(s);
}

/* ---- the pump ---- */

/* One page of changes, each rendered once as its event. */
struct page {
    struct ombud_change *items;
    char **frames;
    size_t *lens;
    size_t n;
};

static void page_free(struct page *p)
{
    for (size_t i = 0; p->frames && i < p->n; i++)
        free(p->frames[i]);
    free(p->frames);
    free(p->lens);
    ombud_changes_free(p->items, p->n);
    memset(p, 0, sizeof *p);
}

static bool page_alloc(struct page *p)
{
    p->frames = calloc(p->n ? p->n : 1, sizeof *p->frames);
    p->lens = calloc(p->n ? p->n : 1, sizeof *p->lens);
    return p->frames && p->lens;
}

/* Change i as its event, rendered the first time a stream takes it. */
static const char *frame(struct page *p, size_t i)
{
    if (p->frames[i])
        return p->frames[i];
    json_t *j = ombud_repr_change(&p->items[i]);
    char *data = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!data)
        return NULL;
    /* Compact JSON has no line breaks: one data line. */
    size_t len = strlen(data) + strlen(p->items[i].type) + 64;
    if ((p->frames[i] = malloc(len)))
        p->lens[i] = (size_t)snprintf(p->frames[i], len, "id: %lld\nevent: %s\ndata: %s\n\n",
                                      (long long)p->items[i].id, p->items[i].type, data);
    free(data);
    return p->frames[i];
}

static bool eligible(const struct stream *s, bool live, int64_t end)
{
    if (s->closing || s->failed || s->pos >= end)
        return false;
    return live ? s->caught_up : !s->caught_up && pending(s) < ombud_cf.stream_buffer_bytes / 2;
}

/* Gives s the page's changes after its position, up to covered (mu held). */
static void deliver(struct stream *s, struct page *p, int64_t covered, int64_t end)
{
    bool appended = false;
    for (size_t i = 0; i < p->n; i++) {
        const struct ombud_change *ch = &p->items[i];
        if (ch->id <= s->pos)
            continue;
        if (ombud_change_filter_admits(&s->filter, ch->type)) {
            const char *f = frame(p, i);
            if (!f) {
                fail(s);
                return;
            }
            if (pending(s) + p->lens[i] > ombud_cf.stream_buffer_bytes) {
                if (s->caught_up) {
                    ombud_log(OMBUD_LOG_INFO, "stream_behind",
                              "a stream fell %zu bytes behind at change %lld: closed", pending(s),
                              (long long)ch->id);
                    fail(s);
                    return;
                }
                goto out; /* still reading history: more once it drained */
            }
            if (!append(s, f, p->lens[i])) {
                fail(s);
                return;
            }
            appended = true;
        }
        s->pos = ch->id;
    }
    if (covered > s->pos)
        s->pos = covered;
out:
    if (s->pos >= end)
        s->caught_up = true;
    if (appended)
        wake(s);
}

/* Reads and hands out pages for the live (caught-up) streams, or for those
 * still reading history (at most CATCHUP_PAGES): false on a database
 * error. */
static bool serve(struct ombud_db_conn *c, int64_t end, bool live)
{
    for (int pages = 0; live || pages < CATCHUP_PAGES; pages++) {
        int64_t from = INT64_MAX;
        pthread_mutex_lock(&mu);
        for (struct stream *s = streams; s; s = s->next)
            if (eligible(s, live, end) && s->pos < from)
                from = s->pos;
        pthread_mutex_unlock(&mu);
        if (from == INT64_MAX)
            return true;

        struct page p = {0};
        struct ombud_err err;
        ombud_err_clear(&err);
        if (ombud_db_changes_read(c, from, PAGE, NULL, &p.items, &p.n, &err) != OMBUD_OK) {
            ombud_log(OMBUD_LOG_WARN, "stream_pump", "reading changes failed: %s", err.detail);
            return false;
        }
        if (!page_alloc(&p)) {
            ombud_log(OMBUD_LOG_ERROR, "stream_pump", "%s", "out of memory");
            page_free(&p);
            return false;
        }
        /* Every change settled after `from` when the page was read came in
         * it, up to its last; a short page came after end was probed, so it
         * covers end too. */
        int64_t covered = p.n ? p.items[p.n - 1].id : from;
        if (p.n < PAGE && covered < end)
            covered = end;
        pthread_mutex_lock(&mu);
        for (struct stream *s = streams; s; s = s->next)
            if (eligible(s, live, end) && s->pos >= from && s->pos < covered)
                deliver(s, &p, covered, end);
        pthread_mutex_unlock(&mu);
        page_free(&p);
    }
    return true;
}

static void keepalives(void)
{
    int64_t now = mono_us(), idle = (int64_t)ombud_cf.stream_keepalive_ms * 1000;
    pthread_mutex_lock(&mu);
    for (struct stream *s = streams; s; s = s->next)
        if (!s->closing && !s->failed && !pending(s) && now - s->last_us >= idle) {
            if (append(s, KEEPALIVE, sizeof KEEPALIVE - 1))
                wake(s);
        }
    pthread_mutex_unlock(&mu);
}

/* One round while streams are open: the database part, then keep-alives
 * (sent even while the database is away). */
static void tick(struct ombud_db_conn **c, int64_t *retry_at, int *backoff)
{
    int64_t now = mono_us();
    if ((!*c || !ombud_db_conn_ok(*c)) && now >= *retry_at) {
        char app[64];
        struct ombud_err err;
        ombud_db_conn_close(*c);
        snprintf(app, sizeof app, "ombud stream pump %ld", (long)getpid());
        ombud_err_clear(&err);
        *c = ombud_db_conn_open(db_url, app, &err);
        if (!*c) {
            ombud_log(OMBUD_LOG_WARN, "stream_pump", "cannot connect: %s", err.detail);
            *retry_at = now + (int64_t)*backoff * 1000;
            *backoff = *backoff < 5000 ? *backoff * 2 : 5000;
        } else {
            *backoff = TICK_MS;
        }
    }
    if (*c && ombud_db_conn_ok(*c)) {
        int64_t end = 0;
        struct ombud_err err;
        ombud_err_clear(&err);
        if (ombud_db_changes_settled_end(*c, &end, &err) != OMBUD_OK) {
            ombud_log(OMBUD_LOG_WARN, "stream_pump", "reading the end failed: %s", err.detail);
        } else {
            pthread_mutex_lock(&mu);
            for (struct stream *s = streams; s; s = s->next)
                if (s->pos >= end)
                    s->caught_up = true;
            pthread_mutex_unlock(&mu);
            if (serve(*c, end, true))
                (void)serve(*c, end, false);
        }
    }
    keepalives();
}

static void *pump_run(void *arg)
{
    struct ombud_db_conn *c = NULL;
    int64_t retry_at = 0;
    int backoff = TICK_MS;
    int64_t last = 0; /* when the last round began */
    (void)arg;
    pthread_mutex_lock(&mu);
    while (!stopping) {
        if (!streams) {
            /* Nothing to stream: hold no connection, wait for a stream. */
            if (c) {
                pthread_mutex_unlock(&mu);
                ombud_db_conn_close(c);
                c = NULL;
                pthread_mutex_lock(&mu);
                continue;
            }
            pthread_cond_wait(&cv, &mu);
            continue;
        }
        /* The next round: TICK_MS after the last, or MIN_TICK_MS after it
         * once a write in this process has nudged. */
        int64_t now = mono_us(),
                next = last + (atomic_load(&nudged) ? MIN_TICK_MS : TICK_MS) * 1000LL;
        if (now < next) {
            struct timespec ts = {(time_t)(next / 1000000), (long)(next % 1000000) * 1000};
            pthread_cond_timedwait(&cv, &mu, &ts);
            continue;
        }
        atomic_store(&nudged, false);
        last = now;
        pthread_mutex_unlock(&mu);
        tick(&c, &retry_at, &backoff);
        pthread_mutex_lock(&mu);
    }
    pthread_mutex_unlock(&mu);
    ombud_db_conn_close(c);
    return NULL;
}

enum ombud_rc ombud_stream_start(const char *url, struct ombud_err *err)
{
    pthread_condattr_t ca;
    if (!(db_url = strdup(url)))
        return ombud_err_internal(err, "out of memory");
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cv, &ca);
    pthread_condattr_destroy(&ca);
    stopping = closing_all = false;
    if (pthread_create(&pump, NULL, pump_run, NULL) != 0) {
        pthread_cond_destroy(&cv);
        free(db_url);
        db_url = NULL;
        return ombud_err_internal(err, "cannot start the stream pump thread");
    }
    started = true;
    return OMBUD_OK;
}

void ombud_stream_nudge(void)
{
    /* Without the lock: a write never waits on the streams. A signal lost
     * between the pump's look at the flag and its wait costs one TICK_MS. */
    if (atomic_load(&nopen) > 0 && !atomic_exchange(&nudged, true))
        pthread_cond_signal(&cv);
}

void ombud_stream_close_all(void)
{
    pthread_mutex_lock(&mu);
    closing_all = true;
    for (struct stream *s = streams; s; s = s->next) {
        s->closing = true;
        wake(s);
    }
    pthread_mutex_unlock(&mu);
}

void ombud_stream_stop(void)
{
    if (!started)
        return;
    pthread_mutex_lock(&mu);
    stopping = true;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(pump, NULL);
    pthread_cond_destroy(&cv);
    free(db_url);
    db_url = NULL;
    started = false;
}

size_t ombud_http_open_streams(void)
{
    long n = atomic_load(&nopen);
    return n > 0 ? (size_t)n : 0;
}

/* ---- the handler ---- */

static enum ombud_rc end_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    return ombud_db_changes_end(c, arg, err);
}

void ombud_h_stream(struct ombud_req *req)
{
    struct ombud_err err;
    struct ombud_change_filter filter;
    int64_t after = 0;
    bool now = false;
    ombud_err_clear(&err);
    ombud_changes_query(req, &after, &now, NULL, &filter, &err);
    bool resume = ombud_req_query(req, "after") && !now;
    /* A reconnecting client sends the URL it first used and the id it
     * saw last: the header wins. */
    const char *last = ombud_req_header(req, "Last-Event-ID");
    if (last && *last) { /* an empty one is no position (WHATWG) */
        char *endp = NULL;
        long long v = -1;
        errno = 0;
        if (last[0] >= '0' && last[0] <= '9')
            v = strtoll(last, &endp, 10);
        if (v < 0 || errno || !endp || *endp)
            ombud_err_field(&err, "Last-Event-ID", "must be a change id (digits)");
        else {
            after = v;
            resume = true;
        }
    }
    if (ombud_err_finish_validation(&err) != OMBUD_OK) {
        ombud_reply_problem(req, &err);
        return;
    }
    if (!resume && ombud_db_run(req->pool, end_q, &after, &err) != OMBUD_OK) {
        ombud_reply_problem(req, &err);
        return;
    }

    struct stream *s = calloc(1, sizeof *s);
    if (!s || !append(s, FIRST, sizeof FIRST - 1)) {
        if (s)
            free(s->buf);
        free(s);
        ombud_reply_error(req, OMBUD_E_INTERNAL, "out of memory");
        return;
    }
    s->conn = req->conn;
    s->filter = filter;
    s->pos = after;
    /* Started at the settled end, it is caught up: changes that settle
     * before the pump's next round are live ones, and a client that does
     * not read them is too far behind, not a resume reading history. */
    s->caught_up = !resume;
    pthread_mutex_lock(&mu);
    if (closing_all) {
        pthread_mutex_unlock(&mu);
        free(s->buf);
        free(s);
        ombud_reply_error(req, OMBUD_E_UNAVAILABLE, "the server is stopping");
        return;
    }
    s->next = streams;
    if (streams)
        streams->prev = s;
    streams = s;
    atomic_fetch_add(&nopen, 1);
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    /* From here the stream is the response's: stream_free forgets it. */
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, s, stream_free);
    if (!resp) {
        stream_free(s);
        ombud_reply_error(req, OMBUD_E_INTERNAL, "cannot create the stream");
        return;
    }
    MHD_add_response_header(resp, "Content-Type", "text/event-stream; charset=utf-8");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    MHD_add_response_header(resp, "Connection", "close");
    ombud_reply_response(req, 200, resp);
}
