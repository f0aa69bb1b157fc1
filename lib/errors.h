#pragma once
/*
 * errors: the one error enum that functions return (results travel
 * through out-parameters), and the one table that maps it to an HTTP
 * status and an RFC 9457 problem type and title.
 */

enum err {
	ERR_OK = 0,
	ERR_INVALID,          /* 400: malformed input */
	ERR_UNAUTHORIZED,     /* 401: missing or wrong credentials */
	ERR_FORBIDDEN,        /* 403: credentials lack the scope */
	ERR_NOT_FOUND,        /* 404 */
	ERR_METHOD,           /* 405 */
	ERR_NOT_ACCEPTABLE,   /* 406 */
	ERR_CONFLICT,         /* 409 */
	ERR_TOO_LARGE,        /* 413 */
	ERR_URI_TOO_LONG,     /* 414 */
	ERR_MEDIA_TYPE,       /* 415 */
	ERR_UNPROCESSABLE,    /* 422: well-formed but semantically wrong */
	ERR_RATE_LIMITED,     /* 429 */
	ERR_HEADERS_TOO_LARGE, /* 431 */
	ERR_INTERNAL,         /* 500: a bug; never for bad input */
	ERR_UPSTREAM,         /* 502: Zuora or Salesforce answered badly */
	ERR_UNAVAILABLE,      /* 503: database or upstream unavailable */
	ERR_TIMEOUT,          /* 504: an upstream took too long */
	ERR__COUNT
};

/* HTTP status for e (200 for ERR_OK). */
unsigned err_http_status(enum err e);
/* Short stable slug ("not-found"), used in the problem type URI. */
const char *err_slug(enum err e);
/* Human title ("Not Found"). Static strings. */
const char *err_title(enum err e);
