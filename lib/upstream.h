#pragma once
/*
 * upstream: the HTTP core of the Zuora and Salesforce clients, over
 * libcurl. One client owns one easy handle and must stay on one thread
 * (libcurl: "never share the same handle in multiple threads"). Every call
 * is bounded: connect 5 s, total 30 s, < 100 B/s for 15 s aborts, the
 * response body is capped (10 MiB) while it streams, redirects are never
 * followed, TLS is verified, and plain http is allowed only to a loopback
 * host. Transient failures are retried with jittered exponential backoff,
 * honouring Retry-After; a 401 triggers a re-authentication and one retry
 * (UPSTREAM.md 1.2); a 401 on that retry goes to the caller. (A 401 after
 * other retries in between is a new expiry: at most two per call.)
 *
 * Only lib/upstream*.c include <curl/curl.h>; this header does not.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "metrics.h"
#include "store_sync.h"
#include "util.h"

/* Limits and retry policy. Zero fields take the defaults in brackets;
 * tests shrink the delays. */
struct upstream_tuning {
	unsigned connect_timeout_ms;  /* [5000] */
	unsigned timeout_ms;          /* [30000] total per attempt */
	unsigned low_speed_limit;     /* [100] bytes/s ... */
	unsigned low_speed_time_s;    /* [15] ... for this long aborts */
	size_t max_body;              /* [10 MiB] */
	unsigned max_attempts;        /* [5] including the first */
	unsigned backoff_base_ms;     /* [200] */
	unsigned backoff_cap_ms;      /* [10000] */
	unsigned retry_after_cap_s;   /* [60] */
};

/* Which counters a client feeds (metrics may be NULL). */
struct upstream_counters {
	enum metric_counter calls, errors, retries;
};

struct upstream_options {
	const char *name;              /* "zuora" / "salesforce", for logs */
	const char *ca_file;           /* NULL: system bundle */
	struct upstream_tuning tuning;
	struct metrics *metrics;       /* may be NULL */
	struct upstream_counters counters;
	const atomic_bool *cancel;     /* may be NULL; true aborts calls and waits */
};

struct upstream;

/* What a call's caller says about a complete response. */
enum upstream_verdict {
	UPSTREAM_ACCEPT = 0, /* hand it to the caller */
	UPSTREAM_RETRY,      /* transient (e.g. Zuora success:false code 50/61/70/99) */
	UPSTREAM_REAUTH,     /* the credentials expired: refresh once and retry */
};

/*
 * Hooks a client gives a call. classify may be NULL (then 401 means
 * UPSTREAM_REAUTH when reauth is set). reauth refreshes the credentials
 * and rewrites the request's Authorization through upstream_request.bearer
 * (it owns the storage); it may itself call upstream_call on the same
 * client (the outer call is between attempts then).
 */
struct upstream_request {
	const char *method;            /* "GET" or "POST" */
	const char *url;
	const char *content_type;      /* NULL: no body */
	const char *body;
	size_t body_len;
	const char *bearer;            /* NULL: no Authorization */
	const char *track_id;          /* Zuora-Track-Id; NULL: none */
	const char *const *headers;    /* extra "Name: value", NULL-terminated */
	enum upstream_verdict (*classify)(void *cls, long status, const char *body,
					  size_t len);
	enum err (*reauth)(void *cls, struct upstream_request *req);
	void *cls;
};

struct upstream_response {
	long status;     /* 0: no HTTP response */
	struct buf body; /* NUL-terminated, capped */
	unsigned attempts;
};

/*
 * Once per process, before any thread starts (calls curl_global_init).
 * Returns false when libcurl cannot initialise.
 */
bool upstream_global_init(void);
void upstream_global_cleanup(void);

/* A client with its own easy handle; o is copied (strings borrowed for
 * the client's life). Free with upstream_free. Dies on OOM. */
struct upstream *upstream_new(const struct upstream_options *o);
void upstream_free(struct upstream *u);

/*
 * Perform req with retries. ERR_OK means an HTTP response arrived and the
 * caller reads res->status (any status; a 4xx is the caller's to map).
 * Errors: ERR_INVALID (URL not allowed), ERR_TIMEOUT (timeouts, also
 * after retries), ERR_UNAVAILABLE (cannot connect, cancelled, retries
 * exhausted on a transport error), ERR_TOO_LARGE (body over the cap),
 * ERR_UPSTREAM (TLS failure, redirect, protocol error), or what reauth
 * returned. res is initialised here; release it with
 * upstream_response_release in every case.
 */
enum err upstream_call(struct upstream *u, struct upstream_request *req,
		       struct upstream_response *res);
void upstream_response_release(struct upstream_response *res);

/*
 * Bound every following upstream_call on u (all attempts and waits) by
 * deadline_ns on the now_ns() clock; 0 removes the bound. An attempt's
 * timeouts shrink to the time left; a retry whose wait (backoff or
 * Retry-After) would reach the deadline is not made: the call returns
 * what the last attempt got at once. With no time left a call returns
 * ERR_TIMEOUT.
 */
void upstream_set_deadline(struct upstream *u, uint64_t deadline_ns);

/*
 * Why the last attempt of the last upstream_call on u failed below HTTP,
 * in words for logs and the sync status: libcurl's detail ("SSL
 * certificate problem: ...", "Operation too slow. ..."), the size cap,
 * the refused redirect and its target, a refused URL, "cancelled". ""
 * when that attempt got an HTTP answer (also when reauth failed on one:
 * the client knows why then). Borrowed from u: valid until its next call.
 */
const char *upstream_last_error(const struct upstream *u);

/* Sleep ms in slices, returning false early when cancel becomes true. */
bool upstream_sleep_ms(const atomic_bool *cancel, unsigned ms);

/* The backoff before retry number n (1-based): min(cap, base*2^(n-1))
 * with equal jitter (half fixed, half random). Exposed for tests. */
unsigned upstream_backoff_ms(const struct upstream_tuning *t, unsigned n);

/* Percent-encode s for a URL query or form value into b. */
bool upstream_urlencode(struct buf *b, const char *s);

/* A Zuora-Track-Id from id: keeps [A-Za-z0-9._-], at most 64 characters;
 * a random 32-hex id when nothing is left. out needs 65 bytes. */
void upstream_track_id(const char *id, char *out, size_t n);

/*
 * ISO 8601 / RFC 3339 timestamps as Zuora and Salesforce send them
 * ("2024-05-01T02:30:00-08:00", "...T17:43:01.000+0000", "...Z") to
 * milliseconds since the epoch. A date alone is midnight UTC. false on
 * anything else.
 */
bool upstream_parse_time(const char *s, int64_t *ms);
/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC) into out (>= 32 bytes). */
void upstream_format_time(int64_t ms, char *out, size_t n);
/* "YYYY-MM-DD" check. */
bool upstream_is_date(const char *s);

/* ---- pages of mapped rows (Zuora and Salesforce clients) ---- */

struct upstream_page {
	enum sync_object obj;
	void *rows;      /* n rows of obj's row struct (store_sync.h); owned */
	size_t n;
	size_t skipped;  /* records the mapper rejected (logged) */
	int64_t max_ms;  /* the newest row timestamp (valid when n > 0) */
	bool sorted;     /* row timestamps never decrease within the page */
	int64_t min_ms;  /* the oldest row timestamp (valid when n > 0) */
	bool done;       /* the last page */
	char *next;      /* Zuora queryLocator / Salesforce nextRecordsUrl */
};

/* Free the rows and strings of p and zero it. */
void upstream_page_release(struct upstream_page *p);

/* Called once per page, in order; a non-OK return stops the iteration and
 * is returned by the query function. p is borrowed for the call, but fn
 * may take its rows: move rows and n out and set p->rows = NULL and
 * p->n = 0 (the query function still reads done and next afterwards, so
 * those stay). */
typedef enum err (*upstream_page_fn)(void *cls, struct upstream_page *p);

/* true when s is a SOQL/ZOQL identifier: [A-Za-z0-9_]+, with single dots
 * between parts when dots is true; at most 80 characters. */
bool upstream_identifier_ok(const char *s, bool dots);
