/*
 * Outbound webhooks (src/outbound): the URL rules checked at create, the
 * secrets, and the sender thread that fans the change log out into
 * deliveries and POSTs them with libcurl. The only module that links
 * libcurl (scripts/check-includes.sh).
 */
#ifndef OMBUD_OUTBOUND_H
#define OMBUD_OUTBOUND_H

#include <stdbool.h>
#include <stdint.h>

#include "ombud/err.h"
#include "ombud/webhook.h"

/* Checks a webhook URL (src/outbound/url.c): absolute, https (or http
 * when allow_http), and a host that is not literally an address a webhook
 * may not reach (ombud/webhook.h). A field error on field when not. The
 * address connected to is checked again on every attempt. */
void ombud_outbound_url_check(const char *url, const char *field, bool allow_http,
                              bool allow_private, struct ombud_err *err);

/* A new secret: "whsec_" + base64 of 24 random bytes. */
OMBUD_MUSTCHECK enum ombud_rc ombud_outbound_secret_new(char out[OMBUD_WEBHOOK_SECRET_BUFLEN],
                                                        struct ombud_err *err);

/* The Standard Webhooks signature "v1,<base64 HMAC-SHA256 of
 * msg_id.timestamp.body>" keyed with the secret's bytes; false when the
 * secret is malformed. */
bool ombud_outbound_sign(const char *secret, const char *msg_id, int64_t timestamp,
                         const char *body, char *out, size_t len);

/* The sender (src/outbound/sender.c): one thread per process with its
 * own database connection. Start it after the signals are blocked, before
 * other threads use libcurl; stop joins it. */
OMBUD_MUSTCHECK enum ombud_rc ombud_webhook_sender_start(const char *db_url, struct ombud_err *err);
void ombud_webhook_sender_stop(void);

struct ombud_webhook_stats {
    int64_t delivered, retried, failed, gone; /* attempts by outcome, this process */
    int64_t refused;                          /* attempts refused on the address */
    int64_t queue_depth, oldest_age_s;        /* the whole queue, as last read */
    int64_t in_flight;
};
void ombud_webhook_sender_stats(struct ombud_webhook_stats *out);

#endif
