/*
 * The admission gate for work that may block on the database, private to
 * src/http (gate.c has the design).
 */
#ifndef OMBUD_HTTP_GATE_H
#define OMBUD_HTTP_GATE_H

#include <stdbool.h>
#include <stdint.h>

#include "http/request.h"
#include "ombud/err.h"
#include "ombud/http.h"

/* Where a request stands with the gate (req->gate). */
enum ombud_gate_state {
    OMBUD_GATE_NONE = 0, /* holds no permit and waits for none */
    OMBUD_GATE_QUEUED,   /* suspended, waiting for a permit */
    OMBUD_GATE_HELD,     /* holds a permit: may block on the database */
    OMBUD_GATE_EXPIRED,  /* its deadline passed while it waited (answer 503) */
};

/* Sets up permits permits (one per MHD thread) and starts the deadline
 * thread, which watches for a stall after STALL_MS or timeout_ms (the
 * request deadline), whichever is smaller. */
OMBUD_MUSTCHECK enum ombud_rc ombud_gate_start(unsigned permits, unsigned timeout_ms,
                                               struct ombud_err *err);
/* Resumes every waiter as expired and ends the deadline thread. */
void ombud_gate_stop(void);

/* Asks for a permit for req, whose req->gate_deadline_us (monotonic) is
 * set: true with req->gate HELD when one was free; false when req's
 * connection was suspended in the queue (req->gate QUEUED), to be
 * resumed with req->gate HELD once a permit is handed to it or EXPIRED
 * at its deadline; MHD then calls the access handler again. Call from
 * the access handler only. */
bool ombud_gate_enter(struct ombud_req *req);
/* The calling thread begins a step under the permit it holds, at now_us
 * (monotonic), with its database deadline set: what the stall watch
 * looks at, and whose deadline it brings forward. */
void ombud_gate_begin(int64_t now_us);
/* Gives req's permit back (req->gate HELD -> NONE), handing it to the
 * oldest waiter if there is one; step_us is how long the step took (-1:
 * unknown), which ends a stall when shorter than the stall time. */
void ombud_gate_leave(struct ombud_req *req, int64_t step_us);

/* The stall rule, pure: with free_permits free (none reserved yet) and
 * the most recent step under a permit begun at youngest_since_us (0:
 * none in a step), is the database stalled at now_us? */
bool ombud_gate_stall_due(int free_permits, int64_t youngest_since_us, int64_t now_us,
                          int64_t stall_after_us);

#endif
