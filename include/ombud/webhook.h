/*
 * Webhooks (API.md "Outbound"): endpoints, their deliveries and attempts,
 * and the pure rules the sender follows: when to try again, and which
 * addresses a webhook may never reach. Pure C (src/domain/webhook.c).
 */
#ifndef OMBUD_WEBHOOK_H
#define OMBUD_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OMBUD_WEBHOOK_URL_MAX 2048        /* bytes */
#define OMBUD_WEBHOOK_DESCRIPTION_MAX 500 /* characters */
#define OMBUD_WEBHOOK_EXCERPT_MAX 1024    /* bytes of a response kept */
/* whsec_ + base64 of 24 bytes */
#define OMBUD_WEBHOOK_SECRET_BYTES 24
#define OMBUD_WEBHOOK_SECRET_BUFLEN 64

struct ombud_webhook {
    int64_t id;
    char url[OMBUD_WEBHOOK_URL_MAX + 1];
    char types[1024]; /* comma list of change types and families; "" for all */
    bool active;
    char description[OMBUD_WEBHOOK_DESCRIPTION_MAX * 4 + 1];
    char secret[OMBUD_WEBHOOK_SECRET_BUFLEN]; /* filled only where signing needs it */
    int64_t created_at, updated_at;           /* usec */
};

struct ombud_webhook_attempt {
    int64_t id, delivery_id;
    int64_t at; /* usec */
    int status; /* HTTP status; 0 when none came */
    int duration_ms;
    char error[256];                             /* "" when none */
    char excerpt[OMBUD_WEBHOOK_EXCERPT_MAX + 1]; /* first bytes of the response body */
    bool has_excerpt;
};

struct ombud_webhook_delivery {
    int64_t id, webhook_id, change_id; /* change_id 0 for a ping */
    char type[40];
    char msg_id[40];         /* webhook-id */
    char state[12];          /* pending, delivered, failed */
    int64_t next_attempt_at; /* usec; 0 when none is planned */
    size_t nattempts;
    struct ombud_webhook_attempt *attempts; /* owned */
};

void ombud_webhook_deliveries_free(struct ombud_webhook_delivery *list, size_t n);

/* Retries: the delay in milliseconds before the attempt after the
 * attempts-th (1-based) failed one, with jitter from rnd: 3-10 s, then
 * about 30 s, 2 min, 10 min, 30 min, 1 h, then every 3 h (each +-20%). */
int64_t ombud_webhook_retry_delay_ms(int attempts, uint32_t rnd);
/* How long a delivery is retried before it is given up: 24 h. */
#define OMBUD_WEBHOOK_RETRY_WINDOW_MS (24LL * 3600 * 1000)

/* What kind of address a webhook connects to. Everything but PUBLIC is
 * refused unless private addresses are allowed; METADATA always is. */
enum ombud_addr_class {
    OMBUD_ADDR_PUBLIC,
    OMBUD_ADDR_METADATA,     /* 169.254.169.254, fd00:ec2::254 */
    OMBUD_ADDR_LOOPBACK,     /* 127/8, ::1 */
    OMBUD_ADDR_PRIVATE,      /* 10/8, 172.16/12, 192.168/16, 100.64/10 */
    OMBUD_ADDR_LINK_LOCAL,   /* 169.254/16, fe80::/10 */
    OMBUD_ADDR_UNIQUE_LOCAL, /* fc00::/7 */
    OMBUD_ADDR_UNSPECIFIED,  /* 0/8, ::, multicast and reserved ranges */
};
/* The class of a raw address: 4 bytes (IPv4) or 16 (IPv6, an IPv4-mapped
 * or -compatible one classed as its IPv4 address), network order. */
enum ombud_addr_class ombud_webhook_addr_class(const unsigned char *addr, size_t len);
const char *ombud_addr_class_name(enum ombud_addr_class c);
/* Whether a webhook may connect to an address of class c. */
bool ombud_webhook_addr_allowed(enum ombud_addr_class c, bool allow_private);

#endif
