/*
 * Logging: JSON lines on stdout, one per event. Each line is written with
 * a single write() so lines from different threads never interleave.
 * Never log API keys or request bodies.
 */
#ifndef OMBUD_LOG_H
#define OMBUD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ombud_log_level {
    OMBUD_LOG_DEBUG = 0,
    OMBUD_LOG_INFO = 1,
    OMBUD_LOG_WARN = 2,
    OMBUD_LOG_ERROR = 3,
};

void ombud_log_set_level(enum ombud_log_level level);
bool ombud_log_enabled(enum ombud_log_level level);
/* Parses "debug|info|warn|error"; returns false on anything else. */
bool ombud_log_parse_level(const char *s, enum ombud_log_level *out);
const char *ombud_log_level_name(enum ombud_log_level level);

/* {"ts":…,"level":…,"event":event,"msg":formatted} */
void ombud_log(enum ombud_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes one prebuilt JSON object line (without newline) if level is enabled. */
void ombud_log_line(enum ombud_log_level level, const char *json);

/* One HTTP request as the access log records it. */
struct ombud_log_request {
    const char *request_id, *method, *path, *route;
    int status; /* 0: no reply was queued */
    int64_t duration_us;
    size_t bytes_in;
    int64_t key_id; /* 0: unauthenticated */
    bool aborted;   /* the connection ended before the reply was sent */
};

/* {"ts":…,"level":…,"event":"request",…} for r, if level is enabled. */
void ombud_log_request(enum ombud_log_level level, const struct ombud_log_request *r);

#endif
