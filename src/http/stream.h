/*
 * The live stream's machinery (stream.c), private to src/http: the pump
 * thread that feeds every open GET /v1/stream, started and stopped with
 * the daemon (daemon.c).
 */
#ifndef OMBUD_HTTP_STREAM_H
#define OMBUD_HTTP_STREAM_H

#include "ombud/err.h"

/* Starts the pump (its database connection is opened only while a stream
 * is open). Signals must already be blocked in the caller. */
OMBUD_MUSTCHECK enum ombud_rc ombud_stream_start(const char *url, struct ombud_err *err);
/* A write's transaction in this process has committed: the pump looks
 * again soon (at most every 20 ms) rather than at its next 200 ms round.
 * Never blocks; nothing when no stream is open. */
void ombud_stream_nudge(void);
/* Ends every open stream once its buffer is sent and refuses new ones
 * (503): before the drain, so that no connection stays suspended. */
void ombud_stream_close_all(void);
/* Stops the pump: after the daemon stopped. */
void ombud_stream_stop(void);

#endif
