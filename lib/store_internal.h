#pragma once
/*
 * Private to store*.c: the pooled connection and the helpers the query
 * files share. Nothing outside lib/store*.c includes this file.
 */
#include <libpq-fe.h>
#include <pthread.h>

#include "store.h"
#include "util.h"

struct pconn {
	PGconn *pg;
	bool in_use;
	uint64_t prepared; /* bit i: store_stmts[i] prepared on this session */
};

struct store {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pconn *conns;
	unsigned n;
	unsigned in_use;
	unsigned waiting;
	uint64_t checkout_timeouts;
	uint64_t reconnects;
	char *url;
	unsigned checkout_timeout_ms;
	unsigned statement_timeout_ms;
	unsigned connect_timeout_s;
	char *application_name;
};

/*
 * Append s to b as one element of a PostgreSQL array literal: in double
 * quotes, with '"' and '\\' escaped; NULL (the pointer) becomes NULL.
 * Runs of plain bytes are copied at once. Returns false past b's cap.
 */
bool store_array_elem(struct buf *b, const char *s);

/* Connect with our defaults (placed before the user's conninfo, which may
 * override them). Returns a PGconn to check with PQstatus; never NULL. */
PGconn *store_connect(const char *url, unsigned connect_timeout_s,
		      unsigned statement_timeout_ms, const char *app_name);

/* Take a live connection or fail: ERR_UNAVAILABLE after the checkout
 * timeout (pool exhausted) or when the database cannot be reached. */
enum err store_checkout(struct store *s, struct pconn **out);
void store_checkin(struct store *s, struct pconn *c);

/*
 * Run a prepared statement (prepared on first use per session)
 * with text parameters. On a lost connection, reconnect once and retry
 * when retry is true (reads). On success *res is a PGRES_TUPLES_OK or
 * PGRES_COMMAND_OK result the caller PQclears. Errors map to
 * ERR_UNAVAILABLE (connection, timeouts) or ERR_INTERNAL.
 */
enum err store_exec(struct store *s, struct pconn *c, int stmt,
		    const char *const *params, int nparams, bool retry,
		    PGresult **res);

/* Plain SQL without parameters on c (transaction control and such). */
enum err store_simple(PGconn *pg, const char *sql);

/* Map a failed result or connection to an err, logging the reason. */
enum err store_error(PGconn *pg, const PGresult *res, const char *what);

/* Prepared statements, indexes into store_stmts (store_sql.c). */
enum store_stmt_id {
	STMT_SCHEMA_VERSION = 0,
	STMT_SLEEP,
	STMT_TOKEN_LOOKUP,
	STMT_TOKEN_CREATE,
	STMT_TOKEN_REVOKE,
	STMT_TOKEN_TOUCH,
	STMT_DECISION_INPUT,
	STMT_POLICY,
	STMT_WORKFLOWS,
	STMT_PARTNERS,
	STMT_SEARCH_EMAIL,
	STMT_SEARCH_ACCOUNT,
	STMT_SEARCH_NAME,
	STMT_AUDIT,
	STMT_AUDIT_PURGE,
	STMT__COUNT
};

/* The prepared statement table (store_sql.c). */
struct store_stmt {
	const char *name;
	const char *sql;
};
extern const struct store_stmt store_stmts[];
extern const int store_stmt_count;
