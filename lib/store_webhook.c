/* The webhook inbox: a Zuora notification is durable before we answer. */
#include "store_internal.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

enum err store_inbox_add(struct store *s, const char *notification_id, const char *subscription,
			 const char *account_id, bool *duplicate)
{
	const char *params[3] = {notification_id, subscription, account_id};
	struct pconn *c;
	PGresult *r;
	enum err e;

	*duplicate = false;
	e = store_checkout(s, &c);
	if (e)
		return e;
	r = PQexecParams(c->pg,
			 "INSERT INTO webhook_inbox (notification_id, subscription_number, account_id)"
			 " VALUES ($1, $2, $3) ON CONFLICT (notification_id) DO NOTHING",
			 3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		e = store_error(c->pg, r, "webhook inbox");
	else
		*duplicate = strcmp(PQcmdTuples(r), "0") == 0;
	PQclear(r);
	store_checkin(s, c);
	return e;
}

enum err store_inbox_pending(struct store *s, struct inbox_item *items, size_t max, size_t *n)
{
	char lim[16];
	const char *params[1] = {lim};
	struct pconn *c;
	PGresult *r;
	enum err e;
	int i;

	*n = 0;
	snprintf(lim, sizeof(lim), "%zu", max);
	e = store_checkout(s, &c);
	if (e)
		return e;
	/* Attempt k + 1 waits until 30 s * (2^k - 1) after arrival (the
	 * last one about 4 h after it), however often the worker is woken:
	 * an outage must not use up the attempts of older notifications at
	 * each new one, nor make each wake-up wait on all of them. */
	r = PQexecParams(c->pg,
			 "SELECT notification_id, subscription_number, account_id FROM webhook_inbox"
			 " WHERE processed_at IS NULL AND attempts < 10"
			 " AND received_at + make_interval(secs => 30 * (2 ^ attempts - 1)) <= now()"
			 " ORDER BY received_at LIMIT $1::int",
			 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		e = store_error(c->pg, r, "webhook inbox");
	} else {
		for (i = 0; i < PQntuples(r) && (size_t)i < max; i++) {
			strlcpy_(items[i].notification_id, PQgetvalue(r, i, 0), sizeof(items[i].notification_id));
			strlcpy_(items[i].subscription, PQgetvalue(r, i, 1), sizeof(items[i].subscription));
			strlcpy_(items[i].account_id, PQgetvalue(r, i, 2), sizeof(items[i].account_id));
		}
		*n = (size_t)i;
	}
	PQclear(r);
	store_checkin(s, c);
	return e;
}

enum err store_inbox_done(struct store *s, const char *notification_id, const char *error)
{
	const char *params[2] = {notification_id, error};
	struct pconn *c;
	PGresult *r;
	enum err e;

	e = store_checkout(s, &c);
	if (e)
		return e;
	r = PQexecParams(c->pg,
			 "UPDATE webhook_inbox SET attempts = attempts + 1, last_error = $2,"
			 " processed_at = CASE WHEN $2::text IS NULL THEN now() END"
			 " WHERE notification_id = $1",
			 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		e = store_error(c->pg, r, "webhook inbox");
	PQclear(r);
	store_checkin(s, c);
	return e;
}
