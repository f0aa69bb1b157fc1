/*
 * Every SQL statement the pool runs, prepared once per session. Parameters
 * only: SQL is never built from strings (STYLE.md 17).
 */
#include "store_internal.h"

const struct store_stmt store_stmts[STMT__COUNT] = {
	[STMT_SCHEMA_VERSION] = {"schema_version",
		"SELECT coalesce(max(version), 0) FROM schema_migrations"},
	[STMT_SLEEP] = {"sleep", "SELECT pg_sleep($1::float8)"},
	[STMT_TOKEN_LOOKUP] = {"token_lookup",
		"SELECT scope, name FROM api_tokens"
		" WHERE hash = decode($1, 'hex') AND revoked_at IS NULL"},
	[STMT_TOKEN_CREATE] = {"token_create",
		"INSERT INTO api_tokens (name, hash, scope)"
		" VALUES ($1, decode($2, 'hex'), $3)"},
	[STMT_TOKEN_REVOKE] = {"token_revoke",
		"UPDATE api_tokens SET revoked_at = now()"
		" WHERE name = $1 AND revoked_at IS NULL"},
	[STMT_TOKEN_TOUCH] = {"token_touch",
		"UPDATE api_tokens SET last_used_at = now()"
		" WHERE hash = decode($1, 'hex')"
		" AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')"},
};
const int store_stmt_count = STMT__COUNT;
