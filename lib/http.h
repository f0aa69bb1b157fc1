#pragma once
/*
 * http: the libmicrohttpd adapter, and the only file that includes
 * microhttpd.h. It turns MHD's callbacks into one http_request (headers,
 * a capped body, a request id) and sends back one http_response. Routing,
 * auth and rendering live above it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reqid.h"

struct http_request {
	const char *method;
	const char *path;
	const char *body; /* NUL-terminated; NULL when empty */
	size_t body_len;
	bool body_too_large; /* over the cap: answer 413 */
	bool uri_too_long;   /* over the cap: answer 414 */
	char request_id[REQID_MAX + 1];
	char client_ip[64];
	uint64_t start_ns;
	void *conn; /* opaque: the MHD connection, for lookups */
	/*
	 * false on an HTTP pool thread: the handler must not block (no
	 * database, no upstream). One that would sets res->defer and returns;
	 * the adapter then runs the request again on a worker thread with
	 * may_block and deferred set. Always true in thread-per-connection
	 * mode.
	 */
	bool may_block;
	bool deferred; /* this is the second, worker-thread dispatch */
};

#define HTTP_MAX_HEADERS 10

struct http_response {
	unsigned status;
	const char *content_type; /* static string */
	char *body;               /* owned: freed after sending, by body_release */
	size_t body_len;
	/* NULL: body is malloc'd and free()d; else body_release(body_cls)
	 * gives it back (http_set_body_shared) */
	void (*body_release)(void *cls);
	void *body_cls;
	size_t n_headers;
	struct {
		const char *name; /* static string */
		char *value;      /* owned */
	} headers[HTTP_MAX_HEADERS];
	bool defer; /* set by a handler that must block: see may_block */
	/* filled by the dispatcher for logs and metrics */
	const char *route_name;
	size_t route_index;
	const char *token_name; /* NULL, or token_buf */
	char token_buf[64];
};

/* A request header (case-insensitive name) or NULL. Borrowed. */
const char *http_header(const struct http_request *r, const char *name);
/* A query parameter or NULL ("?x" with no value gives ""). Borrowed. */
const char *http_query(const struct http_request *r, const char *name);
/* Call fn for each query parameter; stops early when fn returns false. */
void http_query_each(const struct http_request *r,
		     bool (*fn)(void *cls, const char *key, const char *value),
		     void *cls);

/* Add a response header (value copied). Drops it past HTTP_MAX_HEADERS. */
void http_set_header(struct http_response *res, const char *name, const char *value);
/* Take ownership of body (malloc'd) as the response body. */
void http_set_body(struct http_response *res, unsigned status,
		   const char *content_type, char *body, size_t len);
/*
 * Send body (not copied) as the response body; release(cls) is called
 * exactly once when it is no longer needed: after it was sent, or when
 * the response is released unsent. For shared read-only buffers (the
 * decision cache's entries), so a hit costs no copy.
 */
void http_set_body_shared(struct http_response *res, unsigned status,
			  const char *content_type, const char *body, size_t len,
			  void (*release)(void *cls), void *cls);
/* Free what res owns; idempotent. */
void http_response_release(struct http_response *res);

typedef void (*http_dispatch_fn)(void *cls, struct http_request *req,
				 struct http_response *res);
typedef void (*http_complete_fn)(void *cls, const struct http_request *req,
				 const struct http_response *res, double seconds);

struct http_options {
	const char *host;
	unsigned port; /* 0: ephemeral */
	unsigned threads; /* 0: thread per connection; N: pool of N (poll, turbo) */
	unsigned workers; /* pool mode: threads for requests that block (>= 1) */
	unsigned max_connections;
	unsigned per_ip_connections;
	unsigned timeout_s;
	size_t max_body;
	const char *tls_cert_pem; /* both set: HTTPS (PEM text, borrowed) */
	const char *tls_key_pem;
	http_dispatch_fn dispatch;
	http_complete_fn complete; /* after the response is queued */
	void *cls;
};

struct http_server;

/* Start serving. NULL on failure with the reason in err. Stop with
 * http_stop, which frees the server. */
struct http_server *http_start(const struct http_options *o, char *err, size_t errlen);
/* The bound port (useful with port 0). */
unsigned http_port(const struct http_server *s);
/* Requests between their first callback and completion. */
unsigned http_inflight(const struct http_server *s);
/* Stop accepting new connections; in-flight requests continue. */
void http_quiesce(struct http_server *s);
/* Finish the requests queued for workers, close every connection and
 * free s. */
void http_stop(struct http_server *s);
