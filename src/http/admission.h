/*
 * Connection admission, private to src/http: the per-address limit, the
 * deadlines for a request's head and body, and the cap that answers.
 * daemon.c passes ombud_admission_options() to MHD_start_daemon and calls
 * the ombud_admission_request_* hooks from its access and completion
 * callbacks; everything else happens here.
 */
#ifndef OMBUD_HTTP_ADMISSION_H
#define OMBUD_HTTP_ADMISSION_H

#include <microhttpd.h>
#include <stdbool.h>

#include "ombud/err.h"

/* Starts the reaper thread; the options must then be given to MHD. */
OMBUD_MUSTCHECK enum ombud_rc ombud_admission_start(struct ombud_err *err);

/* Stops the reaper (after MHD_stop_daemon: it closes every connection,
 * and each close is reported here). */
void ombud_admission_stop(void);

/* MHD options (an MHD_OPTION_ARRAY list, ended by MHD_OPTION_END): the
 * connection limit, the per-address limit and the callbacks that track
 * each connection. Valid until ombud_admission_stop. */
const struct MHD_OptionItem *ombud_admission_options(void);

/* The first access call of a request (its head is whole). True when the
 * connection came in over the cap: answer it 503 with Connection: close. */
bool ombud_admission_request_head(struct MHD_Connection *conn);

/* The request's body is whole (or it was answered before its body). */
void ombud_admission_request_body_done(struct MHD_Connection *conn);

/* The request is over; the connection may carry another. */
void ombud_admission_request_end(struct MHD_Connection *conn);

#endif
