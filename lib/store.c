/*
 * The connection pool. Checkout waits on a condition variable with a
 * deadline and gives up with ERR_UNAVAILABLE (503 + Retry-After) rather
 * than queueing without bound. A connection found broken at checkout, or
 * lost during a statement, is reset and its statements re-prepared; reads
 * retry once on the fresh session, so a database restart costs callers at
 * most one failed request per pooled connection.
 */
#include "store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"

bool store_array_elem(struct buf *b, const char *s)
{
	const char *p, *run;
	bool ok = true;

	if (!s)
		return buf_puts(b, "NULL");
	ok = buf_puts(b, "\"");
	for (p = run = s; *p && ok; p++) {
		if (*p == '"' || *p == '\\') {
			ok = buf_append(b, run, (size_t)(p - run)) && buf_append(b, "\\", 1);
			run = p;
		}
	}
	return ok && buf_append(b, run, (size_t)(p - run)) && buf_puts(b, "\"");
}

PGconn *store_connect(const char *url, unsigned connect_timeout_s,
		      unsigned statement_timeout_ms, const char *app_name)
{
	char ct[16], opts[200];
	/* Our statements are point lookups by key: the generic plan of a
	 * prepared statement is the right one, and planning the decision
	 * join afresh on every execution (custom plans) cost ~10 ms each,
	 * measured with tests/bench. Our defaults come before dbname: the user's conninfo, expanded
	 * from dbname, overrides them (libpq: later keywords win). */
	const char *keys[] = {"connect_timeout", "keepalives",
			      "keepalives_idle", "keepalives_interval",
			      "keepalives_count", "tcp_user_timeout",
			      "application_name", "options", "dbname", NULL};
	const char *vals[10];

	snprintf(ct, sizeof(ct), "%u", connect_timeout_s);
	snprintf(opts, sizeof(opts),
		 "-c statement_timeout=%u -c idle_in_transaction_session_timeout=%u"
		 " -c plan_cache_mode=force_generic_plan",
		 statement_timeout_ms, statement_timeout_ms * 2);
	vals[0] = ct;
	vals[1] = "1";
	vals[2] = "5";
	vals[3] = "2";
	vals[4] = "3";
	vals[5] = "10000";
	vals[6] = app_name ? app_name : "resellerd";
	vals[7] = opts;
	vals[8] = url;
	vals[9] = NULL;
	return PQconnectdbParams(keys, vals, 1);
}

struct store *store_open(const struct store_options *o)
{
	struct store *s = xcalloc(1, sizeof(*s));
	pthread_condattr_t ca;

	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	s->n = o->pool_size ? o->pool_size : 1;
	s->conns = xcalloc(s->n, sizeof(*s->conns));
	s->url = xstrdup(o->url);
	s->checkout_timeout_ms = o->checkout_timeout_ms;
	s->statement_timeout_ms = o->statement_timeout_ms;
	s->connect_timeout_s = o->connect_timeout_s;
	s->application_name = xstrdup(o->application_name ? o->application_name : "resellerd");
	return s;
}

void store_close(struct store *s)
{
	unsigned i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		if (s->conns[i].pg)
			PQfinish(s->conns[i].pg);
	free(s->conns);
	free(s->url);
	free(s->application_name);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

void store_get_stats(struct store *s, struct store_stats *out)
{
	pthread_mutex_lock(&s->mu);
	out->size = s->n;
	out->in_use = s->in_use;
	out->waiting = s->waiting;
	out->checkout_timeouts = s->checkout_timeouts;
	out->reconnects = s->reconnects;
	pthread_mutex_unlock(&s->mu);
}

/* Make c usable: connect or reset it. Runs without the pool lock. */
static enum err revive(struct store *s, struct pconn *c)
{
	if (c->pg && PQstatus(c->pg) == CONNECTION_OK)
		return ERR_OK;
	if (c->pg)
		PQfinish(c->pg);
	c->pg = store_connect(s->url, s->connect_timeout_s,
			      s->statement_timeout_ms, s->application_name);
	c->prepared = 0;
	pthread_mutex_lock(&s->mu);
	s->reconnects++;
	pthread_mutex_unlock(&s->mu);
	if (PQstatus(c->pg) != CONNECTION_OK) {
		char msg[256];

		strlcpy_(msg, PQerrorMessage(c->pg), sizeof(msg));
		msg[strcspn(msg, "\n")] = '\0';
		log_warn("database connection failed: %s", msg);
		PQfinish(c->pg);
		c->pg = NULL;
		return ERR_UNAVAILABLE;
	}
	return ERR_OK;
}

/* Prepare one statement on first use in this session (lazily, so a
 * statement over a table that a later migration adds cannot break the
 * readiness probe of a database that is behind). */
static enum err prepare(struct pconn *c, int stmt)
{
	uint64_t bit = (uint64_t)1 << stmt;
	PGresult *r;
	enum err e = ERR_OK;

	if (c->prepared & bit)
		return ERR_OK;
	r = PQprepare(c->pg, store_stmts[stmt].name, store_stmts[stmt].sql, 0, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		e = store_error(c->pg, r, store_stmts[stmt].name);
		if (!PQresultErrorField(r, PG_DIAG_SQLSTATE)) {
			/* lost mid-write: drop it so the retry reconnects */
			PQfinish(c->pg);
			c->pg = NULL;
		}
	} else {
		c->prepared |= bit;
	}
	PQclear(r);
	return e;
}

enum err store_checkout(struct store *s, struct pconn **out)
{
	struct timespec deadline;
	struct pconn *c = NULL;
	unsigned i;
	enum err e;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += s->checkout_timeout_ms / 1000;
	deadline.tv_nsec += (long)(s->checkout_timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->mu);
	while (s->in_use == s->n) {
		int rc;

		s->waiting++;
		rc = pthread_cond_timedwait(&s->cv, &s->mu, &deadline);
		s->waiting--;
		if (rc == ETIMEDOUT && s->in_use == s->n) {
			s->checkout_timeouts++;
			pthread_mutex_unlock(&s->mu);
			log_warn("database pool exhausted: no connection within %u ms",
				 s->checkout_timeout_ms);
			return ERR_UNAVAILABLE;
		}
	}
	/* Prefer a connection that is already open. */
	for (i = 0; i < s->n; i++) {
		if (!s->conns[i].in_use && (!c || (s->conns[i].pg && !c->pg)))
			c = &s->conns[i];
	}
	if (!c) /* cannot happen: in_use < n means a free slot exists */
		die("connection pool accounting is broken");
	c->in_use = true;
	s->in_use++;
	pthread_mutex_unlock(&s->mu);

	e = revive(s, c);
	if (e) {
		store_checkin(s, c);
		return e;
	}
	*out = c;
	return ERR_OK;
}

void store_checkin(struct store *s, struct pconn *c)
{
	/* A session left inside a transaction (a bug or a lost COMMIT) must
	 * not leak into the next user: drop it. */
	if (c->pg && PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
		PQfinish(c->pg);
		c->pg = NULL;
	}
	pthread_mutex_lock(&s->mu);
	c->in_use = false;
	s->in_use--;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

enum err store_error(PGconn *pg, const PGresult *res, const char *what)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char msg[256];

	strlcpy_(msg, res ? PQresultErrorMessage(res) : PQerrorMessage(pg), sizeof(msg));
	if (!msg[0])
		strlcpy_(msg, PQerrorMessage(pg), sizeof(msg));
	msg[strcspn(msg, "\n")] = '\0';
	log_warn("database error in %s: %s (sqlstate %s)", what, msg,
		 state ? state : "none");
	/* No SQLSTATE means libpq itself failed: the connection is gone
	 * even if PQstatus has not noticed yet. */
	if (PQstatus(pg) != CONNECTION_OK || !state)
		return ERR_UNAVAILABLE;
	/* 57014 query_canceled (statement timeout), 55P03 lock_not_available,
	 * class 08 connection exceptions, 57P0x shutdown/crash: transient. */
	if (state && (strcmp(state, "57014") == 0 || strcmp(state, "55P03") == 0 ||
		      strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
		      strcmp(state, "53300") == 0))
		return ERR_UNAVAILABLE;
	if (state && strcmp(state, "23505") == 0)
		return ERR_CONFLICT;
	/* class 22 (data exception, e.g. invalid UTF-8 from a client) */
	if (state && strncmp(state, "22", 2) == 0)
		return ERR_INVALID;
	return ERR_INTERNAL;
}

enum err store_exec(struct store *s, struct pconn *c, int stmt,
		    const char *const *params, int nparams, bool retry,
		    PGresult **res)
{
	int attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		PGresult *r;
		ExecStatusType st;
		enum err e;
		bool lost;

		e = attempt || !c->pg ? revive(s, c) : ERR_OK;
		if (!e)
			e = prepare(c, stmt);
		if (e) {
			if (!retry || attempt || (c->pg && PQstatus(c->pg) == CONNECTION_OK))
				return e;
			continue;
		}
		r = PQexecPrepared(c->pg, store_stmts[stmt].name, nparams,
				   params, NULL, NULL, 0);
		st = PQresultStatus(r);
		if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
			*res = r;
			return ERR_OK;
		}
		lost = PQresultErrorField(r, PG_DIAG_SQLSTATE) == NULL ||
		       PQstatus(c->pg) != CONNECTION_OK;
		e = store_error(c->pg, r, store_stmts[stmt].name);
		PQclear(r);
		if (lost) {
			/* Drop the session so revive() opens a fresh one. */
			PQfinish(c->pg);
			c->pg = NULL;
		}
		if (!lost || !retry)
			return e;
		/* The session died (restart, pg_terminate_backend): retry. */
	}
	return ERR_UNAVAILABLE;
}

enum err store_simple(PGconn *pg, const char *sql)
{
	PGresult *r = PQexec(pg, sql);
	enum err e = ERR_OK;

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		e = store_error(pg, r, sql);
	PQclear(r);
	return e;
}

enum err store_ready(struct store *s, char *why, size_t whylen)
{
	struct pconn *c;
	PGresult *r;
	enum err e;
	long have = 0;
	int want = migrations_latest();

	e = store_checkout(s, &c);
	if (e) {
		snprintf(why, whylen, "database unavailable");
		return e;
	}
	e = store_exec(s, c, STMT_SCHEMA_VERSION, NULL, 0, true, &r);
	store_checkin(s, c);
	if (e) {
		snprintf(why, whylen, "database unavailable or not migrated");
		return ERR_UNAVAILABLE;
	}
	parse_long(PQgetvalue(r, 0, 0), 0, 1000000, &have);
	PQclear(r);
	if (have != want) {
		snprintf(why, whylen, "schema at migration %ld, this build expects %d%s",
			 have, want, have < want ? ": run resellerctl migrate" : "");
		return ERR_CONFLICT;
	}
	snprintf(why, whylen, "database reachable, schema at migration %ld", have);
	return ERR_OK;
}

enum err store_sleep(struct store *s, double seconds)
{
	struct pconn *c;
	PGresult *r;
	char arg[32];
	const char *params[1] = {arg};
	enum err e;

	snprintf(arg, sizeof(arg), "%.3f", seconds);
	e = store_checkout(s, &c);
	if (e)
		return e;
	e = store_exec(s, c, STMT_SLEEP, params, 1, false, &r);
	store_checkin(s, c);
	if (!e)
		PQclear(r);
	return e;
}
