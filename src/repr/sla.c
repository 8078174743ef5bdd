/* The operators' SLA views as JSON: the summary dashboard. */
#include "ombud/repr.h"

/* The window db/alerts.c counts met clocks over. */
#define SUMMARY_WINDOW_DAYS 30

/* part of whole in percent with two decimals, truncated; null for no whole. */
static json_t *percent(int64_t part, int64_t whole)
{
    return whole ? json_real((double)(part * 10000 / whole) / 100.0) : json_null();
}

json_t *ombud_repr_sla_summary(const struct ombud_sla_summary *s)
{
    return json_pack("{s:{s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:o}, s:{s:I, s:I, s:o}, s:i}", "open",
                     "on_track", (json_int_t)s->by_state[OMBUD_SUMMARY_ON_TRACK], "at_risk",
                     (json_int_t)s->by_state[OMBUD_SUMMARY_AT_RISK], "breached",
                     (json_int_t)s->by_state[OMBUD_SUMMARY_BREACHED], "paused",
                     (json_int_t)s->by_state[OMBUD_SUMMARY_PAUSED], "first_response", "total",
                     (json_int_t)s->fr_total, "met_in_time", (json_int_t)s->fr_met_in_time,
                     "compliance_percent", percent(s->fr_met_in_time, s->fr_total), "resolution",
                     "total", (json_int_t)s->res_total, "met_in_time",
                     (json_int_t)s->res_met_in_time, "compliance_percent",
                     percent(s->res_met_in_time, s->res_total), "window_days", SUMMARY_WINDOW_DAYS);
}
