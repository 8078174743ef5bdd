/* Operations endpoints: liveness, readiness, metrics, the OpenAPI document. */
#include <stdlib.h>

#include "ombud/db.h"
#include "http/handlers.h"
#include "ombud/metrics.h"
#include "ombud/repr.h"
#include "ombud/sla_worker.h"
#include "ombud/timefmt.h"

extern const char *const ombud_openapi_yaml;
extern const size_t ombud_openapi_yaml_len;

void ombud_h_health_live(struct ombud_req *req)
{
    ombud_reply_json_steal(req, 200, json_pack("{s:s}", "status", "ok"));
}

static json_t *worker_json(void)
{
    struct ombud_sla_worker_status w;
    ombud_sla_worker_status(&w);
    return json_pack("{s:s, s:b, s:o, s:I, s:I, s:I}", "status",
                     !w.running ? "stopped" : w.connected ? "running" : "reconnecting",
                     "connected", w.connected, "last_pass_at", ombud_repr_time(w.last_tick_us),
                     "alerts_raised", (json_int_t)w.alerts_raised, "lag_last_ms",
                     (json_int_t)w.lag_last_ms, "lag_max_ms", (json_int_t)w.lag_max_ms);
}

void ombud_h_health_ready(struct ombud_req *req)
{
    struct ombud_err err;
    ombud_err_clear(&err);
    if (ombud_db_ping(req->pool, &err) != OMBUD_OK) {
        ombud_reply_json_h_steal(req, 503,
                           json_pack("{s:s, s:s, s:i, s:s, s:s, s:o}", "type",
                                     "/problems/unavailable", "title", "Service unavailable",
                                     "status", 503, "detail", err.detail, "database", "down",
                                     "sla_worker", worker_json()),
                           "Content-Type", "application/problem+json", "Retry-After", "1", NULL);
        return;
    }
    ombud_reply_json_steal(req, 200, json_pack("{s:s, s:s, s:o}", "status", "ok", "database", "up",
                                         "sla_worker", worker_json()));
}

void ombud_h_metrics(struct ombud_req *req)
{
    size_t len = 0;
    char *text = ombud_metrics_render(req->pool, &len);
    if (!text) {
        struct ombud_err err;
        ombud_err_clear(&err);
        ombud_err_internal(&err, "out of memory");
        ombud_reply_problem(req, &err);
        return;
    }
    ombud_reply_raw(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

void ombud_h_openapi(struct ombud_req *req)
{
    ombud_reply_raw(req, 200, "application/yaml", ombud_openapi_yaml, ombud_openapi_yaml_len);
}
