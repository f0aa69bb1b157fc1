/*
 * Reads for decisions and the catalog, and the registry import. The
 * decision read is one prepared statement (STMT_DECISION_INPUT) so a cold
 * lookup costs one round trip; its result stays alive inside the record
 * and the channel_input points into it (no copies).
 */
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

static const char *col(const PGresult *r, int c)
{
	return PQgetisnull(r, 0, c) ? NULL : PQgetvalue(r, 0, c);
}

static enum tristate tri(const char *v)
{
	if (!v)
		return TRI_UNKNOWN;
	return v[0] == 't' ? TRI_TRUE : TRI_FALSE;
}

static void contact(const PGresult *r, int c, struct contact_in *out)
{
	out->id = col(r, c);
	out->name = col(r, c + 1);
	out->email = col(r, c + 2);
	out->domain = col(r, c + 3);
}

static void account(const PGresult *r, int c, int contacts, struct account_in *out)
{
	out->present = col(r, c) != NULL;
	out->id = col(r, c);
	out->number = col(r, c + 1);
	out->name = col(r, c + 2);
	out->partner_account = tri(col(r, c + 3));
	out->ssp_channel = col(r, c + 4);
	out->crm_id = col(r, c + 5);
	contact(r, contacts, &out->sold_to);
	contact(r, contacts + 4, &out->bill_to);
}

static void partner(const PGresult *r, int c, struct partner_in *out)
{
	out->present = col(r, c) != NULL;
	out->name = col(r, c);
	out->type = partner_type_parse(col(r, c + 1));
	out->track = col(r, c + 2);
}

/* STMT_DECISION_INPUT selects this many notes partners (NOTES_PARTNER). */
_Static_assert(CLASSIFY_MAX_NOTES_PARTNERS == 8,
	       "lib/store_sql.c: decision_input selects 8 VP of Channel notes partners");

enum err store_decision_get(struct store *s, const char *key, struct decision_record **out)
{
	const char *params[1] = {key};
	struct decision_record *d;
	struct pconn *c;
	PGresult *r;
	enum err e;
	int i;

	e = store_checkout(s, &c);
	if (e)
		return e;
	e = store_exec(s, c, STMT_DECISION_INPUT, params, 1, true, &r);
	store_checkin(s, c);
	if (e)
		return e;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return ERR_NOT_FOUND;
	}
	d = xcalloc(1, sizeof(*d));
	d->priv = r;
	d->in.sub.id = col(r, 0);
	d->in.sub.number = col(r, 1);
	d->in.sub.version = (int)strtol(PQgetvalue(r, 0, 2), NULL, 10);
	d->in.sub.status = col(r, 3);
	d->in.sub.term_start = col(r, 4);
	d->in.sub.term_end = col(r, 5);
	d->in.sub.created_by_id = col(r, 6);
	d->in.sub.ssp_channel = col(r, 7);
	d->meta.subscriber_account_id = col(r, 8);
	d->meta.invoice_owner_account_id = col(r, 9);
	d->meta.origin = col(r, 10);
	d->meta.zuora_synced_at = col(r, 11);
	d->meta.zuora_updated_at = col(r, 12);
	account(r, 13, 19, &d->in.subscriber);
	account(r, 27, 33, &d->in.invoice_owner);
	/* The subscription names both accounts even when their rows are not
	 * cached yet: the classifier can still compare them. */
	if (!d->in.subscriber.id)
		d->in.subscriber.id = d->meta.subscriber_account_id;
	if (!d->in.invoice_owner.id)
		d->in.invoice_owner.id = d->meta.invoice_owner_account_id;
	d->in.quote.present = col(r, 41) != NULL;
	d->in.quote.id = col(r, 41);
	d->in.quote.status = col(r, 42);
	d->in.quote.resale_partner = col(r, 43);
	d->in.quote.distributor = col(r, 44);
	d->in.quote.invoice_owner_id = col(r, 45);
	d->in.quote.invoice_owner_name = col(r, 46);
	d->in.quote.account_id = col(r, 47);
	d->in.quote.opportunity_id = col(r, 48);
	d->meta.quote_synced_at = col(r, 49);
	partner(r, 50, &d->in.owner_partner);
	d->in.owner_partner.email_domains = col(r, 84);
	partner(r, 53, &d->in.resale_partner);
	d->in.sf_partner_role = col(r, 56);
	d->in.sf_partner_name = col(r, 57);
	d->meta.salesforce_last_sync = col(r, 58);
	d->meta.owner_partner_track = col(r, 52);
	d->meta.registry_imported_at = col(r, 85);
	d->in.quote.vp_channel_notes = col(r, 59);
	for (i = 0; i < CLASSIFY_MAX_NOTES_PARTNERS; i++)
		partner(r, 60 + 3 * i, &d->in.notes_partners[i]);
	*out = d;
	return ERR_OK;
}

void store_decision_free(struct decision_record *r)
{
	if (!r)
		return;
	PQclear(r->priv);
	free(r);
}

static enum err query_all(struct store *s, int stmt, const char *const *params, int n,
			  PGresult **out)
{
	struct pconn *c;
	enum err e;

	e = store_checkout(s, &c);
	if (e)
		return e;
	e = store_exec(s, c, stmt, params, n, true, out);
	store_checkin(s, c);
	return e;
}

enum err store_catalog_load(struct store *s, struct store_catalog *out)
{
	PGresult *r;
	enum err e;
	int i;

	memset(out, 0, sizeof(*out));
	out->audit_retention_days = 90;
	e = query_all(s, STMT_POLICY, NULL, 0, &r);
	if (e)
		return e;
	for (i = 0; i < PQntuples(r); i++) {
		const char *k = PQgetvalue(r, i, 0), *v = PQgetvalue(r, i, 1);

		if (strcmp(k, "portal_access") == 0)
			out->portal_access = xstrdup(v);
		else if (strcmp(k, "cloud_licensing_cutoff") == 0)
			out->cloud_licensing_cutoff = xstrdup(v);
		else if (strcmp(k, "audit_retention_days") == 0)
			parse_long(v, 1, 36500, &out->audit_retention_days);
	}
	PQclear(r);
	if (!out->portal_access)
		out->portal_access = xstrdup("none");
	if (!out->cloud_licensing_cutoff)
		out->cloud_licensing_cutoff = xstrdup("2022-07-07");
	e = query_all(s, STMT_WORKFLOWS, NULL, 0, &r);
	if (e)
		return e;
	out->n_workflows = (size_t)PQntuples(r);
	out->workflows = xcalloc(out->n_workflows, sizeof(*out->workflows));
	for (i = 0; i < PQntuples(r); i++) {
		struct workflow_row *w = &out->workflows[i];

		w->id = xstrdup(PQgetvalue(r, i, 0));
		w->version = (int)strtol(PQgetvalue(r, i, 1), NULL, 10);
		w->title = xstrdup(PQgetvalue(r, i, 2));
		w->handbook_path = xstrdup(PQgetvalue(r, i, 3));
		w->applies_when = xstrdup(PQgetvalue(r, i, 4));
		w->steps_json = xstrdup(PQgetvalue(r, i, 5));
		w->warnings_json = xstrdup(PQgetvalue(r, i, 6));
		w->proof_json = xstrdup(PQgetvalue(r, i, 7));
		w->sections_json = xstrdup(PQgetvalue(r, i, 8));
		w->first_section = xstrdup(PQgetvalue(r, i, 9));
	}
	PQclear(r);
	return ERR_OK;
}

void store_catalog_release(struct store_catalog *c)
{
	size_t i;

	for (i = 0; i < c->n_workflows; i++) {
		struct workflow_row *w = &c->workflows[i];

		free(w->id);
		free(w->title);
		free(w->handbook_path);
		free(w->applies_when);
		free(w->steps_json);
		free(w->warnings_json);
		free(w->proof_json);
		free(w->sections_json);
		free(w->first_section);
	}
	free(c->workflows);
	free(c->portal_access);
	free(c->cloud_licensing_cutoff);
	memset(c, 0, sizeof(*c));
}

static enum err each_row(struct store *s, int stmt, const char *const *params, int n,
			 store_row_fn fn, void *cls)
{
	const char *cols[16];
	PGresult *r;
	enum err e;
	int i, j, nc;

	e = query_all(s, stmt, params, n, &r);
	if (e)
		return e;
	nc = PQnfields(r) < 16 ? PQnfields(r) : 16;
	for (i = 0; i < PQntuples(r); i++) {
		for (j = 0; j < nc; j++)
			cols[j] = PQgetisnull(r, i, j) ? NULL : PQgetvalue(r, i, j);
		fn(cls, cols, nc);
	}
	PQclear(r);
	return ERR_OK;
}

enum err store_partners_each(struct store *s, store_row_fn fn, void *cls)
{
	return each_row(s, STMT_PARTNERS, NULL, 0, fn, cls);
}

enum err store_search_each(struct store *s, const char *by, const char *value,
			   store_row_fn fn, void *cls)
{
	const char *params[1] = {value};
	int stmt;

	if (strcmp(by, "email") == 0)
		stmt = STMT_SEARCH_EMAIL;
	else if (strcmp(by, "account") == 0)
		stmt = STMT_SEARCH_ACCOUNT;
	else if (strcmp(by, "name") == 0)
		stmt = STMT_SEARCH_NAME;
	else
		return ERR_INVALID;
	return each_row(s, stmt, params, 1, fn, cls);
}

/* Postgres array literal from strings: {"a","b"} with quotes escaped. */
static void pg_array(struct buf *b, const char *const *v, size_t n)
{
	size_t i;

	buf_reset(b);
	buf_puts(b, "{");
	for (i = 0; i < n; i++) {
		if (i)
			buf_puts(b, ",");
		store_array_elem(b, v[i] ? v[i] : "");
	}
	buf_puts(b, "}");
}

enum err store_partners_replace(struct store *s, const struct partner_row *rows, size_t n,
				char *why, size_t whylen)
{
	struct pconn *c;
	struct buf doms, accts;
	enum err e;
	size_t i;

	e = store_checkout(s, &c);
	if (e) {
		snprintf(why, whylen, "database unavailable");
		return e;
	}
	buf_init(&doms, 1 << 20);
	buf_init(&accts, 1 << 20);
	e = store_simple(c->pg, "BEGIN");
	if (!e)
		e = store_simple(c->pg, "DELETE FROM partners");
	for (i = 0; !e && i < n; i++) {
		const char *params[5];
		PGresult *r;

		pg_array(&doms, rows[i].domains, rows[i].n_domains);
		pg_array(&accts, rows[i].accounts, rows[i].n_accounts);
		params[0] = rows[i].name;
		params[1] = rows[i].type;
		params[2] = str_empty(rows[i].track) ? NULL : rows[i].track;
		params[3] = doms.ptr;
		params[4] = accts.ptr;
		r = PQexecParams(c->pg,
			"WITH p AS (INSERT INTO partners (name, type, track, email_domains)"
			" VALUES ($1, $2, $3, $4::text[]) RETURNING id)"
			" INSERT INTO partner_accounts (account_key, partner_id)"
			" SELECT unnest($5::text[]), id FROM p",
			5, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			e = store_error(c->pg, r, "partners import");
			snprintf(why, whylen, "row %zu (%s): %s", i + 1, rows[i].name,
				 PQresultErrorMessage(r));
			why[strcspn(why, "\n")] = '\0';
			if (!e)
				e = ERR_INVALID;
		}
		PQclear(r);
	}
	if (!e)
		e = store_simple(c->pg, "COMMIT");
	else
		store_simple(c->pg, "ROLLBACK");
	buf_release(&doms);
	buf_release(&accts);
	store_checkin(s, c);
	return e;
}

enum err store_audit_write(struct store *s, const struct store_audit_row *rows, size_t n)
{
	struct buf cols[5];
	const char *params[5];
	struct pconn *c;
	PGresult *r;
	enum err e;
	size_t i;
	int k;

	for (k = 0; k < 5; k++) {
		buf_init(&cols[k], 64u << 20);
		buf_puts(&cols[k], "{");
	}
	for (i = 0; i < n; i++) {
		const char *v[5] = {rows[i].token_name, rows[i].action, rows[i].subject,
				    rows[i].request_id, rows[i].at};

		for (k = 0; k < 5; k++) {
			if (i)
				buf_puts(&cols[k], ",");
			store_array_elem(&cols[k], v[k] ? v[k] : "");
		}
	}
	for (k = 0; k < 5; k++) {
		buf_puts(&cols[k], "}");
		params[k] = cols[k].ptr;
	}
	e = store_checkout(s, &c);
	if (!e) {
		e = store_exec(s, c, STMT_AUDIT, params, 5, false, &r);
		if (!e)
			PQclear(r);
		store_checkin(s, c);
	}
	for (k = 0; k < 5; k++)
		buf_release(&cols[k]);
	return e;
}

enum err store_audit_purge(struct store *s)
{
	struct pconn *c;
	PGresult *r;
	enum err e;

	e = store_checkout(s, &c);
	if (e)
		return e;
	e = store_exec(s, c, STMT_AUDIT_PURGE, NULL, 0, false, &r);
	if (!e)
		PQclear(r);
	store_checkin(s, c);
	return e;
}
