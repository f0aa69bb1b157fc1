#pragma once
/*
 * audit: who looked up which subscription (OWASP API1). Lookups append to
 * a bounded in-memory queue (no database round trip on the request path);
 * a thread writes the queue to audit_log every 20 ms in one statement
 * (small batches: lib/audit.c says why), once a second while the
 * database fails, and deletes rows older than the audit_retention_days policy setting
 * once an hour. The queue is two rings of half the capacity each: one
 * fills while the other is written, so a lookup never waits for a
 * write (lib/audit.c says why). A batch whose write failed is kept and
 * retried first; if the database is away long enough for the filling
 * ring to fill, its oldest entries are dropped and counted
 * (resellerd_audit_dropped_total): the lookup never waits for the audit.
 */
#include "app.h"

struct audit;

/* A queue for capacity entries in all (both rings); never NULL (dies
 * when out of memory). Free with audit_free. */
struct audit *audit_new(struct app *app, size_t capacity);
void audit_start(struct audit *a);
/* Record one access: action must be a string literal (kept by pointer);
 * the others are copied, truncated to 64 bytes each. */
void audit_record(struct audit *a, const char *token_name, const char *action,
		  const char *subject, const char *request_id);
/* Write what is queued now (tests, shutdown). */
void audit_flush(struct audit *a);
void audit_stop(struct audit *a);
void audit_free(struct audit *a);
