/*
 * The request body, private to src/http: early refusal from the headers,
 * accumulation under the size limit, and JSON parsing at the end.
 */
#ifndef OMBUD_HTTP_BODY_H
#define OMBUD_HTTP_BODY_H

#include <stdbool.h>
#include <stddef.h>

#include "http/request.h"

/* From the headers alone: 413 when Content-Length exceeds the limit, 415
 * when a body is sent or expected but is not JSON. Replies on failure. */
void ombud_body_check_headers(struct ombud_req *req);

/* Takes one chunk of the body (data lives for the call only). Returns
 * false when the client streams so far past the limit that the
 * connection should be dropped. */
bool ombud_body_chunk(struct ombud_req *req, const char *data, size_t len);

/* The JSON text of a body as the server reads it (duplicate keys
 * refused); NULL with jerr filled when it is not JSON. Caller decrefs. */
json_t *ombud_body_parse(const char *text, size_t len, json_error_t *jerr);

/* For a text JSON refused because of a number out of range (jansson:
 * json_error_numeric_overflow; an integer past int64, or a number such as
 * 1e999 past a double): the path of the first such number inside a
 * top-level object, as field errors name fields ("team_id",
 * "hours[0].weekday"), into field. False when there is none. */
bool ombud_body_number_out_of_range(const char *text, size_t len, char *field, size_t fieldlen);

/* After the last chunk: 413 when the body was too large, else parses it
 * into req->json for routes that take one (400 when it is not a JSON
 * object; 422 naming the field when it holds a number out of range). Replies on failure; returns
 * true when the handler may run. */
bool ombud_body_finish(struct ombud_req *req);

/* Frees the body and its JSON (the completion callback calls this). */
void ombud_body_free(struct ombud_req *req);

#endif
