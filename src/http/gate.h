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

/* Sets up permits permits and starts the deadline thread. */
OMBUD_MUSTCHECK enum ombud_rc ombud_gate_start(unsigned permits, struct ombud_err *err);
/* Resumes every waiter as expired and ends the deadline thread. */
void ombud_gate_stop(void);

/* Asks for a permit for req, whose req->gate_deadline_us (monotonic) is
 * set: true with req->gate HELD when one was free; false when req's
 * connection was suspended in the queue (req->gate QUEUED), to be
 * resumed with req->gate HELD once a permit is handed to it or EXPIRED
 * at its deadline; MHD then calls the access handler again. Call from
 * the access handler only. */
bool ombud_gate_enter(struct ombud_req *req);
/* Gives req's permit back (req->gate HELD -> NONE), handing it to the
 * oldest waiter if there is one. */
void ombud_gate_leave(struct ombud_req *req);

#endif
