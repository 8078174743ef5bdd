/*
 * JSON-lines logger. Lines are built with jansson (correct escaping of
 * any text), the access log's with repr's JSON writer (the same text,
 * without a heap object per field), and written with one write(2) each,
 * so concurrent threads never interleave within a line.
 */
#include "ombud/log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ombud/repr.h"
#include "ombud/timefmt.h"

static atomic_int current_level = OMBUD_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void ombud_log_set_level(enum ombud_log_level level)
{
    atomic_store(&current_level, (int)level);
}

bool ombud_log_enabled(enum ombud_log_level level)
{
    return (int)level >= atomic_load(&current_level);
}

bool ombud_log_parse_level(const char *s, enum ombud_log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (s && strcmp(s, level_names[i]) == 0) {
            *out = (enum ombud_log_level)i;
            return true;
        }
    }
    return false;
}

const char *ombud_log_level_name(enum ombud_log_level level)
{
    return (unsigned)level < 4 ? level_names[level] : "info";
}

static void write_all(const char *s, size_t len)
{
    while (len > 0) {
        ssize_t w = write(STDOUT_FILENO, s, len);
        if (w <= 0)
            return;
        s += w;
        len -= (size_t)w;
    }
}

void ombud_log_line(enum ombud_log_level level, const char *json)
{
    size_t len;
    char *buf;

    if (!ombud_log_enabled(level))
        return;
    len = strlen(json);
    buf = malloc(len + 2);
    if (!buf)
        return;
    memcpy(buf, json, len);
    buf[len] = '\n';
    write_all(buf, len + 1);
    free(buf);
}

void ombud_log(enum ombud_log_level level, const char *event, const char *fmt, ...)
{
    char msg[1024], ts[OMBUD_TIME_BUFLEN];
    va_list ap;
    json_t *o;
    char *line;

    if (!ombud_log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ombud_time_format(ombud_time_now(), ts);
    o = json_pack("{s:s, s:s, s:s, s:s?}", "ts", ts, "level", ombud_log_level_name(level), "event",
                  event, "msg", msg[0] ? msg : NULL);
    if (!o)
        return;
    line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(o);
    if (line) {
        ombud_log_line(level, line);
        free(line);
    }
}

void ombud_log_request(enum ombud_log_level level, const struct ombud_log_request *r)
{
    char buf[1024];
    struct ombud_jw w;

    if (!ombud_log_enabled(level))
        return;
    /* Written with repr's JSON writer into a stack buffer: one line per
     * request must not cost a tree of heap objects (jansson's, with
     * JSON_ENSURE_ASCII and JSON_REAL_PRECISION(6), wrote the same). */
    ombud_jw_init(&w, buf, sizeof buf, true);
    ombud_jw_begin(&w, '{');
    ombud_jw_key(&w, "ts");
    ombud_jw_time(&w, ombud_time_now());
    ombud_jw_key(&w, "level");
    ombud_jw_str(&w, ombud_log_level_name(level));
    ombud_jw_key(&w, "event");
    ombud_jw_str(&w, "request");
    /* The fields json_pack took with "s": a NULL one dropped the line. */
    const char *const texts[][2] = {{"request_id", r->request_id},
                                    {"method", r->method},
                                    {"path", r->path},
                                    {"route", r->route}};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        ombud_jw_key(&w, texts[i][0]);
        if (!texts[i][1])
            w.failed = true;
        ombud_jw_str(&w, texts[i][1]);
    }
    ombud_jw_key(&w, "status");
    ombud_jw_int(&w, r->status);
    ombud_jw_key(&w, "duration_ms");
    ombud_jw_ms(&w, r->duration_us);
    ombud_jw_key(&w, "bytes_in");
    ombud_jw_int(&w, (int64_t)r->bytes_in);
    if (r->key_id) {
        ombud_jw_key(&w, "key_id");
        ombud_jw_int(&w, r->key_id);
    }
    if (r->aborted) {
        ombud_jw_key(&w, "aborted");
        ombud_jw_bool(&w, true);
    }
    ombud_jw_end(&w, '}');
    ombud_jw_raw(&w, "\n", 1);
    size_t len;
    const char *line = ombud_jw_text(&w, &len);
    if (line)
        write_all(line, len);
    ombud_jw_free(&w);
}
