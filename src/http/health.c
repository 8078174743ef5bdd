/* Operations endpoints: liveness, readiness, metrics, the OpenAPI document. */
#include <stdlib.h>

#include "ombud/db/pool.h"
#include "http/handlers.h"
#include "ombud/metrics.h"
#include "ombud/repr.h"
#include "ombud/sla_worker.h"

extern const char *const ombud_openapi_yaml;
extern const size_t ombud_openapi_yaml_len;

void ombud_h_health_live(struct ombud_req *req)
{
    ombud_reply_json_steal(req, 200, ombud_repr_health_live());
}

void ombud_h_health_ready(struct ombud_req *req)
{
    struct ombud_sla_worker_status worker;
    struct ombud_err err, down;
    ombud_err_clear(&err);
    bool up = ombud_db_ping(req->pool, &err) == OMBUD_OK;
    ombud_sla_worker_status(&worker);
    if (up) {
        ombud_reply_json_steal(req, 200, ombud_repr_health_ready(&worker));
        return;
    }
    /* Not ready means unavailable, whatever the ping failed on. */
    ombud_err_clear(&down);
    ombud_err_set(&down, OMBUD_E_UNAVAILABLE, NULL, "%s", err.detail);
    int status = ombud_problem_status(down.kind);
    ombud_reply_problem_steal(
        req, status,
        ombud_repr_health_unready(&down, status, ombud_problem_title(down.kind), &worker));
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
