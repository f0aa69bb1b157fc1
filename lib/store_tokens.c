/* API tokens: only SHA-256 hashes are stored; the token is shown once. */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

enum err store_token_lookup(struct store *s, const char *hash_hex, char *scope,
			    size_t scope_len, char *name, size_t name_len)
{
	const char *params[1] = {hash_hex};
	struct pconn *c;
	PGresult *r;
	enum err e;

	e = store_checkout(s, &c);
	if (e)
		return e;
	e = store_exec(s, c, STMT_TOKEN_LOOKUP, params, 1, true, &r);
	if (e)
		goto out;
	if (PQntuples(r) != 1) {
		e = ERR_NOT_FOUND;
	} else {
		strlcpy_(scope, PQgetvalue(r, 0, 0), scope_len);
		strlcpy_(name, PQgetvalue(r, 0, 1), name_len);
	}
	PQclear(r);
	if (!e && store_exec(s, c, STMT_TOKEN_TOUCH, params, 1, false, &r) == ERR_OK)
		PQclear(r);
out:
	store_checkin(s, c);
	return e;
}

enum err store_token_create(struct store *s, const char *name, const char *hash_hex,
			    const char *scope)
{
	const char *params[3] = {name, hash_hex, scope};
	struct pconn *c;
	PGresult *r;
	enum err e;

	e = store_checkout(s, &c);
	if (e)
		return e;
	e = store_exec(s, c, STMT_TOKEN_CREATE, params, 3, false, &r);
	if (!e)
		PQclear(r);
	store_checkin(s, c);
	return e;
}

enum err store_token_revoke(struct store *s, const char *name)
{
	const char *params[1] = {name};
	struct pconn *c;
	PGresult *r;
	enum err e;

	e = store_checkout(s, &c);
	if (e)
		return e;
	e = store_exec(s, c, STMT_TOKEN_REVOKE, params, 1, false, &r);
	if (!e) {
		if (strcmp(PQcmdTuples(r), "0") == 0)
			e = ERR_NOT_FOUND;
		PQclear(r);
	}
	store_checkin(s, c);
	return e;
}
