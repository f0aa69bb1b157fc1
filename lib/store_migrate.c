/*
 * Migrations: migrations/NNNN_name.sql compiled into the binary, applied
 * in order, each in one transaction together with its schema_migrations
 * row, under a session advisory lock so two migrators never interleave
 * (the second waits, then finds nothing to do). An applied migration
 * whose checksum differs from the compiled file stops everything: a
 * released migration is never edited.
 */
#include "store_internal.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "log.h"
#include "util.h"

/* pg_advisory_lock key: "resellrd" as a big-endian int64. */
#define MIGRATE_LOCK_KEY "8243116844386022500"

static int migration_number(const char *name)
{
	const char *base = name + strlen("migrations/");
	long n = 0;
	char digits[5];

	if (strncmp(name, "migrations/", 11) != 0 || strlen(base) < 6 || base[4] != '_')
		return -1;
	memcpy(digits, base, 4);
	digits[4] = '\0';
	if (!parse_long(digits, 1, 9999, &n))
		return -1;
	return (int)n;
}

int migrations_latest(void)
{
	const struct embedded_file *f;
	int latest = 0;

	for (f = embedded_files; f->name; f++) {
		int n = migration_number(f->name);

		if (n > latest)
			latest = n;
	}
	return latest;
}

static void sha256_hex(const unsigned char *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	hex_encode(md, 32, out);
}

static enum err apply_one(PGconn *pg, const struct embedded_file *f, int n,
			  bool *ran, char *why, size_t whylen)
{
	char num[16], sum[65];
	const char *params[3];
	PGresult *r;
	enum err e;

	snprintf(num, sizeof(num), "%d", n);
	sha256_hex(f->data, f->len, sum);
	params[0] = num;
	params[1] = f->name + 11;
	params[2] = sum;

	r = PQexecParams(pg, "SELECT checksum FROM schema_migrations WHERE version = $1::int",
			 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		e = store_error(pg, r, "schema_migrations");
		PQclear(r);
		return e;
	}
	if (PQntuples(r) == 1) {
		bool same = strcmp(PQgetvalue(r, 0, 0), sum) == 0;

		PQclear(r);
		if (same)
			return ERR_OK;
		snprintf(why, whylen, "migration %s was edited after it was applied "
			 "(checksum differs); add a new migration instead", f->name);
		return ERR_CONFLICT;
	}
	PQclear(r);
	*ran = true;

	e = store_simple(pg, "BEGIN");
	if (e)
		return e;
	/* PQexec runs the whole file, several statements, in this transaction. */
	r = PQexec(pg, (const char *)f->data);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		e = store_error(pg, r, f->name);
		snprintf(why, whylen, "migration %s failed: %s", f->name,
			 PQresultErrorMessage(r));
		why[strcspn(why, "\n")] = '\0';
		PQclear(r);
		store_simple(pg, "ROLLBACK");
		return e ? e : ERR_INTERNAL;
	}
	PQclear(r);
	r = PQexecParams(pg, "INSERT INTO schema_migrations (version, name, checksum) "
			 "VALUES ($1::int, $2, $3)", 3, NULL, params, NULL, NULL, 0);
	e = PQresultStatus(r) == PGRES_COMMAND_OK ? ERR_OK : store_error(pg, r, "record migration");
	PQclear(r);
	if (!e)
		e = store_simple(pg, "COMMIT");
	if (e) {
		store_simple(pg, "ROLLBACK");
		snprintf(why, whylen, "migration %s could not be recorded", f->name);
		return e;
	}
	log_info("applied migration %s", f->name);
	return ERR_OK;
}

enum err store_migrate(const char *url, unsigned connect_timeout_s,
		       int *applied, char *why, size_t whylen)
{
	PGconn *pg = store_connect(url, connect_timeout_s, 600000, "resellerctl migrate");
	int latest = migrations_latest();
	int n, count = 0;
	enum err e;

	*applied = 0;
	if (PQstatus(pg) != CONNECTION_OK) {
		snprintf(why, whylen, "cannot connect to the database: %s", PQerrorMessage(pg));
		why[strcspn(why, "\n")] = '\0';
		PQfinish(pg);
		return ERR_UNAVAILABLE;
	}
	e = store_simple(pg, "SET client_min_messages = warning");
	if (!e)
		e = store_simple(pg, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")");
	if (!e)
		e = store_simple(pg, "CREATE TABLE IF NOT EXISTS schema_migrations ("
				 "version integer PRIMARY KEY, name text NOT NULL, "
				 "checksum text NOT NULL, "
				 "applied_at timestamptz NOT NULL DEFAULT now())");
	for (n = 1; !e && n <= latest; n++) {
		const struct embedded_file *f;

		for (f = embedded_files; f->name; f++) {
			bool ran = false;

			if (migration_number(f->name) != n)
				continue;
			e = apply_one(pg, f, n, &ran, why, whylen);
			if (!e && ran)
				count++;
			break;
		}
	}
	if (e && !why[0])
		snprintf(why, whylen, "migration failed: %s", PQerrorMessage(pg));
	store_simple(pg, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")");
	PQfinish(pg);
	*applied = count;
	return e;
}
