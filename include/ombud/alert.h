/* An alert as stored: raised by the worker (db/sla_clocks.c) or an
 * escalation rule's notify (db/rules.c), read
 * and acknowledged through db/alerts.c, rendered by repr/alert.c. Pure C. */
#ifndef OMBUD_ALERT_H
#define OMBUD_ALERT_H

#include <stdint.h>

struct ombud_alert {
    int64_t id;
    char kind[16];
    int level;
    int64_t complaint_id;
    char target[16];
    int cycle;
    int64_t scheduled_at, created_at, acknowledged_at; /* usec; 0 none */
    int64_t acknowledged_by;                           /* API key id; 0 none */
    int64_t rule_id; /* kind escalation: the rule that raised it; else 0 */
};

#endif
