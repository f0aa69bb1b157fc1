#pragma once
/*
 * store: the only module that speaks libpq. A pool of connections with a
 * timed checkout (503 instead of an unbounded queue), reconnect after the
 * database restarts, statement timeout and TCP keepalives, and the
 * migrations (store_migrate.c).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errors.h"

struct store;

struct store_options {
	const char *url; /* libpq conninfo or URI */
	unsigned pool_size;
	unsigned checkout_timeout_ms;
	unsigned statement_timeout_ms;
	unsigned connect_timeout_s;
	const char *application_name;
};

struct store_stats {
	unsigned size;
	unsigned in_use;
	unsigned waiting;
	uint64_t checkout_timeouts;
	uint64_t reconnects;
};

/*
 * Create a pool. Connections are opened lazily, so this succeeds while the
 * database is down. Free with store_close (which waits for no one: call it
 * after the last user is gone).
 */
struct store *store_open(const struct store_options *o);
void store_close(struct store *s);
void store_get_stats(struct store *s, struct store_stats *out);

/*
 * Readiness: the database answers and the schema is at the version this
 * binary expects. ERR_UNAVAILABLE when it does not answer (or the pool is
 * exhausted), ERR_CONFLICT when the schema is behind or ahead; a short
 * human reason goes to why.
 */
enum err store_ready(struct store *s, char *why, size_t whylen);

/* Test hook: run pg_sleep(seconds) on a pooled connection. */
enum err store_sleep(struct store *s, double seconds);

/* ---- migrations (store_migrate.c) ---- */

/* The number of the newest migration compiled into this binary. */
int migrations_latest(void);

/*
 * Apply every pending migration, each in its own transaction, recorded in
 * schema_migrations, under an advisory lock (two migrators never run at
 * once). Refuses when an applied migration differs from the compiled one.
 * *applied gets how many ran. Messages go to the log.
 */
enum err store_migrate(const char *url, unsigned connect_timeout_s,
		       int *applied, char *why, size_t whylen);

/* ---- API tokens (store_tokens.c); hashes are 64 lower-case hex ---- */

/* The active token with this SHA-256: its scope ("read"/"admin") and name
 * into caller buffers. ERR_NOT_FOUND when unknown or revoked. Also records
 * last use (at most once a minute). */
enum err store_token_lookup(struct store *s, const char *hash_hex, char *scope,
			    size_t scope_len, char *name, size_t name_len);
/* ERR_CONFLICT when an active token already has this name. */
enum err store_token_create(struct store *s, const char *name, const char *hash_hex,
			    const char *scope);
/* ERR_NOT_FOUND when no active token has this name. */
enum err store_token_revoke(struct store *s, const char *name);

/* ---- decisions, catalog, registry, search (store_decision.c) ---- */
#include "classify.h"

/* Where the data behind a decision came from, and when. */
struct decision_meta {
	const char *subscriber_account_id;
	const char *invoice_owner_account_id;
	const char *origin;            /* "sync", "live" or "webhook" */
	const char *zuora_synced_at;   /* RFC 3339 UTC */
	const char *zuora_updated_at;  /* the record's UpdatedDate */
	const char *quote_synced_at;   /* NULL: no quote */
	const char *salesforce_last_sync; /* NULL: never synced */
	const char *owner_partner_track;
	/* when the invoice owner's registry row was imported; NULL: the
	 * owner is not in the registry */
	const char *registry_imported_at;
};

/* One subscription's cached data; strings live as long as the record. */
struct decision_record {
	struct channel_input in;
	struct decision_meta meta;
	void *priv; /* the query result */
};

/*
 * Everything a decision needs for key (a subscription number or the id of
 * any version), in one round trip. ERR_NOT_FOUND when not cached. in's
 * configuration fields are left NULL for the caller. Free with
 * store_decision_free.
 */
enum err store_decision_get(struct store *s, const char *key,
			    struct decision_record **out);
void store_decision_free(struct decision_record *r);

struct workflow_row {
	char *id, *title, *handbook_path, *applies_when;
	char *steps_json, *warnings_json, *proof_json; /* JSON arrays */
	/* handbook section anchors (without '#'), as a JSON array, most
	 * relevant first; first_section is its first item or "" */
	char *sections_json, *first_section;
	int version;
};

/* Policy and workflow catalog, owned strings; free with store_catalog_release. */
struct store_catalog {
	char *portal_access;          /* "none" | "read_only" */
	char *cloud_licensing_cutoff; /* YYYY-MM-DD */
	long audit_retention_days;
	struct workflow_row *workflows;
	size_t n_workflows;
};

enum err store_catalog_load(struct store *s, struct store_catalog *out);
void store_catalog_release(struct store_catalog *c);

/*
 * Rows as JSON text, for the list endpoints: each callback gets one row's
 * columns (borrowed for the call). Return ERR_* from the query.
 */
typedef void (*store_row_fn)(void *cls, const char *const *cols, int ncols);
enum err store_partners_each(struct store *s, store_row_fn fn, void *cls);
enum err store_search_each(struct store *s, const char *by, const char *value,
			   store_row_fn fn, void *cls);

/* One registry row to import. */
struct partner_row {
	const char *name;
	const char *type;
	const char *track; /* NULL or "" for none */
	const char *const *accounts;
	size_t n_accounts;
	const char *const *domains;
	size_t n_domains;
};

/* Replace the whole registry in one transaction (all or nothing). */
enum err store_partners_replace(struct store *s, const struct partner_row *rows, size_t n,
				char *why, size_t whylen);

struct store_audit_row {
	const char *token_name, *action, *subject, *request_id;
	const char *at; /* Unix time in seconds, e.g. "1764279120.123" */
};

/* Append audit rows in one statement. */
enum err store_audit_write(struct store *s, const struct store_audit_row *rows, size_t n);
/* Delete audit rows older than the audit_retention_days policy setting. */
enum err store_audit_purge(struct store *s);

/* ---- change feed (store_listen.c) ---- */

/* payload: "<kind>:<id>,<id>..." (kinds s, a, c, o) or "*". */
typedef void (*store_listen_fn)(void *cls, const char *payload);
struct store_listener;

/* LISTEN on its own session and thread; fn runs on that thread. The
 * listener reconnects by itself and reports "*" after a gap. */
struct store_listener *store_listen_start(const char *url, unsigned connect_timeout_s,
					  store_listen_fn fn, void *cls);
void store_listen_stop(struct store_listener *l);

/* ---- webhook inbox (store_webhook.c) ---- */

struct inbox_item {
	char notification_id[129];
	char subscription[64]; /* "" when the callout named none */
	char account_id[64];   /* the account's id or number; "" when none */
};

/* Record a notification (before answering Zuora). *duplicate is true
 * when the id was seen before: then nothing changes. */
enum err store_inbox_add(struct store *s, const char *notification_id, const char *subscription,
			 const char *account_id, bool *duplicate);
/* Up to max unprocessed notifications that are due, oldest first: new
 * ones, and failed ones once their backoff (30 s, doubling) has passed. */
enum err store_inbox_pending(struct store *s, struct inbox_item *items, size_t max, size_t *n);
/* Mark one processed (error NULL) or record a failed attempt. */
enum err store_inbox_done(struct store *s, const char *notification_id, const char *error);
