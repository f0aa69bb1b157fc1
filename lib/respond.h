#pragma once
/*
 * respond: the one way handlers build responses: JSON bodies from jansson
 * values, and RFC 9457 problem+json bodies from an err.
 */
#include <jansson.h>

#include "errors.h"
#include "http.h"

#define CT_JSON "application/json"
#define CT_PROBLEM "application/problem+json"
#define CT_TEXT "text/plain; charset=utf-8"

/* Serialize v (stolen: decref'd here) as the body with status. */
void respond_json(struct http_response *res, unsigned status, json_t *v);

/*
 * A problem+json body for e: type, title, status, detail, instance (the
 * request path) and request_id. 503 and 429 add Retry-After; 401 adds
 * WWW-Authenticate. detail may be NULL.
 */
void respond_problem(struct http_response *res, const struct http_request *req,
		     enum err e, const char *detail);

/*
 * A 401 problem+json body with the WWW-Authenticate challenge given (a
 * copy is kept), for callers whose credential is not the bearer token
 * respond_problem announces. detail may be NULL.
 */
void respond_challenge(struct http_response *res, const struct http_request *req,
		       const char *challenge, const char *detail);

/* The problem object alone (new reference), for batch results. */
json_t *problem_object(const struct http_request *req, enum err e, const char *detail);

/* Plain text body (copied). */
void respond_text(struct http_response *res, unsigned status, const char *ctype,
		  const char *text, size_t len);
