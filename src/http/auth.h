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
/* The same from what needs no database: true when decided (req->who
 * filled from the key cache, or answered 401/403); false when the key
 * must be looked up (call ombud_auth_check, which may block). */
bool ombud_auth_check_cached(struct ombud_req *req);

#endif
