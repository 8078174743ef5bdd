/*
 * API-key authentication and the route's role check, private to
 * src/http.
 */
#ifndef OMBUD_HTTP_AUTH_H
#define OMBUD_HTTP_AUTH_H

#include "http/request.h"

/* Fills req->who from the Authorization: Bearer key, or replies 401
 * (no, malformed, unknown or revoked key), 403 (the key's role is below
 * the route's) or the lookup's error (503 when the database is down). */
void ombud_auth_check(struct ombud_req *req);

#endif
