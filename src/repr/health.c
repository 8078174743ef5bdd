/*
 * The health endpoints' bodies. Readiness names the database and the SLA
 * worker; when not ready it is a problem (RFC 9457) carrying the same
 * members as extensions, so a probe reads one shape either way.
 */
#include "ombud/repr.h"

#include "ombud/sla.h"

json_t *ombud_repr_health_live(void)
{
    return json_pack("{s:s}", "status", "ok");
}

static json_t *worker(const struct ombud_sla_worker_status *w)
{
    return json_pack("{s:s, s:b, s:o, s:I, s:I, s:I}", "status",
                     !w->running    ? "stopped"
                     : w->connected ? "running"
                                    : "reconnecting",
                     "connected", w->connected, "last_pass_at", ombud_repr_time(w->last_tick_us),
                     "alerts_raised", (json_int_t)w->alerts_raised, "lag_last_ms",
                     (json_int_t)w->lag_last_ms, "lag_max_ms", (json_int_t)w->lag_max_ms);
}

json_t *ombud_repr_health_ready(const struct ombud_sla_worker_status *w)
{
    return json_pack("{s:s, s:s, s:o}", "status", "ok", "database", "up", "sla_worker", worker(w));
}

json_t *ombud_repr_health_unready(const struct ombud_err *err, int status, const char *title,
                                  const struct ombud_sla_worker_status *w)
{
    /* A probe has no resource instance and no use for the request id here. */
    json_t *o = ombud_repr_problem(err, status, title, NULL, NULL);
    if (!o)
        return NULL;
    json_object_set_new(o, "database", json_string("down"));
    json_object_set_new(o, "sla_worker", worker(w));
    return o;
}
