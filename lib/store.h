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
