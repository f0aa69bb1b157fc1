/*
 * The sync's writes: one dedicated session holding the sync advisory lock
 * (and worker sessions covered by it, see store_sync_open_worker), and per
 * page one transaction that upserts the rows (one prepared statement per
 * table over unnest() of text arrays; in a full run plain INSERTs first,
 * see store_sync_commit_page) and advances the watermark. See
 * store_sync.h for the guarantees.
 */
#include "store_sync.h"
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

/* pg_advisory_lock key: "rslrsync" as a big-endian int64 (the migrator
 * uses "resellrd"). */
#define SYNC_LOCK_KEY "8247054581464919651"
/* The run's worker sessions hold this one shared: "rslrsynw". */
#define SYNC_WORKER_LOCK_KEY "8247054581464919671"

struct store_sync_session {
	PGconn *pg;
	struct store *store;
	bool prepared[SYNC_OBJECT__COUNT][2][2]; /* indexed like page_sql */
	/* A full run's session tries each page as plain INSERTs first
	 * (store_sync_commit_page); after an object's first page that met a
	 * stored row, that object's pages go straight to the upserts. */
	bool insert_first;
	bool upsert_only[SYNC_OBJECT__COUNT];
};

/* ===== rows ===== */

void zuora_account_row_release(struct zuora_account_row *r)
{
	free(r->id);
	free(r->number);
	free(r->name);
	free(r->status);
	free(r->ssp_channel);
	free(r->crm_id);
	free(r->parent_id);
	free(r->sold_to_contact_id);
	free(r->bill_to_contact_id);
	memset(r, 0, sizeof(*r));
}

void zuora_contact_row_release(struct zuora_contact_row *r)
{
	free(r->id);
	free(r->account_id);
	free(r->first_name);
	free(r->last_name);
	free(r->work_email);
	memset(r, 0, sizeof(*r));
}

void zuora_subscription_row_release(struct zuora_subscription_row *r)
{
	free(r->id);
	free(r->number);
	free(r->status);
	free(r->term_start);
	free(r->term_end);
	free(r->account_id);
	free(r->invoice_owner_id);
	free(r->created_by_id);
	free(r->ssp_channel);
	memset(r, 0, sizeof(*r));
}

void sf_quote_row_release(struct sf_quote_row *r)
{
	free(r->id);
	free(r->name);
	free(r->status);
	free(r->subscription_number);
	free(r->zuora_subscription_id);
	free(r->zuora_account_id);
	free(r->resale_partner);
	free(r->distributor);
	free(r->invoice_owner_id);
	free(r->invoice_owner_name);
	free(r->account_id);
	free(r->opportunity_id);
	free(r->vp_channel_notes);
	memset(r, 0, sizeof(*r));
}

void sf_partner_row_release(struct sf_partner_row *r)
{
	free(r->id);
	free(r->opportunity_id);
	free(r->account_to_id);
	free(r->account_to_name);
	free(r->role);
	memset(r, 0, sizeof(*r));
}

static const struct {
	const char *source, *object;
} objects[SYNC_OBJECT__COUNT] = {
	[SYNC_ZUORA_ACCOUNT] = {"zuora", "Account"},
	[SYNC_ZUORA_CONTACT] = {"zuora", "Contact"},
	[SYNC_ZUORA_SUBSCRIPTION] = {"zuora", "Subscription"},
	[SYNC_SF_QUOTE] = {"salesforce", "quote"},
	[SYNC_SF_OPPORTUNITY_PARTNER] = {"salesforce", "opportunity_partner"},
};

const char *sync_object_source(enum sync_object o)
{
	return objects[o].source;
}

const char *sync_object_name(enum sync_object o)
{
	return objects[o].object;
}

/* ===== PostgreSQL array literals ===== */

/* One column of a page as a text[] literal: {"a",NULL,"b\"c"}. */
struct col {
	struct buf b;
	size_t n;
};

#define COL_CAP ((size_t)512 * 1024 * 1024)

static void col_init(struct col *c)
{
	buf_init(&c->b, COL_CAP);
	buf_puts(&c->b, "{");
	c->n = 0;
}

static void col_add(struct col *c, const char *s)
{
	if (c->n++)
		buf_puts(&c->b, ",");
	store_array_elem(&c->b, s);
}

static void col_add_tri(struct col *c, enum tristate t)
{
	col_add(c, t == TRI_NULL ? NULL : t == TRI_TRUE ? "t" : "f");
}

static void col_add_long(struct col *c, long v)
{
	char num[24];

	snprintf(num, sizeof(num), "%ld", v);
	col_add(c, num);
}

/* A row's source timestamp, NULL when it has none (a record read live):
 * see UNKNOWN_TS. */
static const char *ts_or_null(const char *updated)
{
	return updated[0] ? updated : NULL;
}

static const char *col_done(struct col *c)
{
	if (!buf_puts(&c->b, "}"))
		die("sync page over %zu bytes", (size_t)COL_CAP);
	return c->b.ptr;
}

/* ===== the upserts ===== */

/*
 * Each upsert is an INSERT ... SELECT (X_INSERT) plus its ON CONFLICT
 * clause (X_CONFLICT). A full run first tries the INSERT alone: see
 * upsert_page and store_sync_commit_page.
 */
/* A row read live (GET /v1/subscriptions|accounts/{key}, whose answers
 * carry no updatedDate: UPSTREAM.md 1.4/1.5) has no source timestamp: its
 * upd is NULL, stored as the epoch, which stands for "unknown". */
#define UNKNOWN_TS "'epoch'::timestamptz"
#define ACCOUNT_INSERT \
	"INSERT INTO zuora_accounts AS t (id, number, name, status, partner_account," \
	" ssp_channel, crm_id, parent_id, sold_to_contact_id, bill_to_contact_id," \
	" source_updated_at, synced_at)" \
	" SELECT DISTINCT ON (id) id, number, coalesce(name, ''), status, pa, ssp, crm, parent," \
	"  sold, bill, coalesce(upd, " UNKNOWN_TS "), now()" \
	" FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[]," \
	"  $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::timestamptz[])" \
	"  AS r(id, number, name, status, pa, ssp, crm, parent, sold, bill, upd)" \
	" ORDER BY id, upd DESC"
#define ACCOUNT_SET \
	" ON CONFLICT (id) DO UPDATE SET number = excluded.number, name = excluded.name," \
	"  status = excluded.status, partner_account = excluded.partner_account," \
	"  ssp_channel = excluded.ssp_channel, crm_id = excluded.crm_id," \
	"  parent_id = excluded.parent_id, sold_to_contact_id = excluded.sold_to_contact_id," \
	"  bill_to_contact_id = excluded.bill_to_contact_id, synced_at = excluded.synced_at,"
#define ACCOUNT_CONFLICT ACCOUNT_SET SYNC_TAIL
#define ACCOUNT_LIVE_CONFLICT ACCOUNT_SET LIVE_TAIL

/* The sync: the row's UpdatedDate, if not older than the stored one. */
#define SYNC_TAIL \
	"  source_updated_at = excluded.source_updated_at" \
	" WHERE excluded.source_updated_at >= t.source_updated_at"
/*
 * A live read (read-through, webhook refresh) without a source timestamp
 * overwrites the fields but keeps the stored source_updated_at, so that
 * the next sync page carrying the record's real UpdatedDate (>= the
 * stored one) still applies. Trade-off: a sync page fetched before the
 * GET but written after it can overwrite the fresher GET data until the
 * next incremental run re-reads the record. Stamping the GET with the
 * wall clock instead made every later sync page older than our clock
 * (clock skew, back-dated test data) lose for good: permanent staleness.
 */
#define LIVE_TAIL \
	"  source_updated_at = GREATEST(t.source_updated_at, excluded.source_updated_at)" \
	" WHERE excluded.source_updated_at >= t.source_updated_at" \
	"  OR excluded.source_updated_at = " UNKNOWN_TS

#define CONTACT_INSERT \
	"INSERT INTO zuora_contacts AS t (id, account_id, first_name, last_name, work_email," \
	" source_updated_at, synced_at)" \
	" SELECT DISTINCT ON (id) id, acct, fn, ln, mail, coalesce(upd, " UNKNOWN_TS "), now()" \
	" FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]," \
	"  $6::timestamptz[]) AS r(id, acct, fn, ln, mail, upd)" \
	" ORDER BY id, upd DESC"
#define CONTACT_SET \
	" ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id," \
	"  first_name = excluded.first_name, last_name = excluded.last_name," \
	"  work_email = excluded.work_email, synced_at = excluded.synced_at,"
#define CONTACT_CONFLICT CONTACT_SET SYNC_TAIL
#define CONTACT_LIVE_CONFLICT CONTACT_SET LIVE_TAIL

/* Every version id goes to zuora_subscription_ids (its own statement over
 * the first two columns: cheaper than one statement with a CTE read twice;
 * DO NOTHING tolerates an id twice in a page, which sends an insert-first
 * page to the upserts); only latest versions reach
 * zuora_subscriptions, where a higher version (or the same version with a
 * newer-or-equal UpdatedDate) wins. A live read never replaces a higher
 * version either; at the same version it wins when it has no timestamp
 * (LIVE_TAIL). */
#define SUBSCRIPTION_IDS_INSERT \
	"INSERT INTO zuora_subscription_ids (id, number)" \
	" SELECT * FROM unnest($1::text[], $2::text[])"
#define SUBSCRIPTION_IDS_CONFLICT " ON CONFLICT (id) DO NOTHING"

#define SUBSCRIPTION_INSERT \
	"INSERT INTO zuora_subscriptions AS t (number, id, version, status, term_start," \
	"  term_end, account_id, invoice_owner_id, created_by_id, ssp_channel," \
	"  source_updated_at, synced_at, origin)" \
	" SELECT DISTINCT ON (number) number, id, version, status, ts, te, acct, owner, cby," \
	"  ssp, coalesce(upd, " UNKNOWN_TS "), now(), 'sync'" \
	" FROM unnest($1::text[], $2::text[], $3::int[], $4::boolean[]," \
	"  $5::text[], $6::date[], $7::date[], $8::text[], $9::text[], $10::text[]," \
	"  $11::text[], $12::timestamptz[])" \
	"  AS r(id, number, version, latest, status, ts, te, acct, owner, cby, ssp, upd)" \
	" WHERE latest" \
	" ORDER BY number, version DESC, upd DESC"
#define SUBSCRIPTION_SET \
	" ON CONFLICT (number) DO UPDATE SET id = excluded.id, version = excluded.version," \
	"  status = excluded.status, term_start = excluded.term_start," \
	"  term_end = excluded.term_end, account_id = excluded.account_id," \
	"  invoice_owner_id = excluded.invoice_owner_id," \
	"  created_by_id = excluded.created_by_id, ssp_channel = excluded.ssp_channel," \
	"  synced_at = excluded.synced_at, origin = excluded.origin,"
#define SUBSCRIPTION_CONFLICT SUBSCRIPTION_SET \
	"  source_updated_at = excluded.source_updated_at" \
	" WHERE excluded.version > t.version OR (excluded.version = t.version" \
	"  AND excluded.source_updated_at >= t.source_updated_at)"
#define SUBSCRIPTION_LIVE_CONFLICT SUBSCRIPTION_SET \
	"  source_updated_at = GREATEST(t.source_updated_at, excluded.source_updated_at)" \
	" WHERE excluded.version > t.version OR (excluded.version = t.version" \
	"  AND (excluded.source_updated_at >= t.source_updated_at" \
	"   OR excluded.source_updated_at = " UNKNOWN_TS "))"

#define QUOTE_INSERT \
	"INSERT INTO sf_quotes AS t (id, name, status, subscription_number," \
	" zuora_subscription_id, zuora_account_id, resale_partner, distributor," \
	" invoice_owner_id, invoice_owner_name, account_id, opportunity_id, is_deleted," \
	" modstamp, vp_channel_notes, synced_at)" \
	" SELECT DISTINCT ON (id) id, name, status, sub, zsub, zacct, rp, dist, oid, oname," \
	"  acct, opp, del, ms, vpn, now()" \
	" FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]," \
	"  $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[]," \
	"  $13::boolean[], $14::timestamptz[], $15::text[])" \
	"  AS r(id, name, status, sub, zsub, zacct, rp, dist, oid, oname, acct, opp, del, ms, vpn)" \
	" ORDER BY id, ms DESC"
#define QUOTE_CONFLICT \
	" ON CONFLICT (id) DO UPDATE SET name = excluded.name, status = excluded.status," \
	"  subscription_number = excluded.subscription_number," \
	"  zuora_subscription_id = excluded.zuora_subscription_id," \
	"  zuora_account_id = excluded.zuora_account_id," \
	"  resale_partner = excluded.resale_partner, distributor = excluded.distributor," \
	"  invoice_owner_id = excluded.invoice_owner_id," \
	"  invoice_owner_name = excluded.invoice_owner_name," \
	"  account_id = excluded.account_id, opportunity_id = excluded.opportunity_id," \
	"  is_deleted = excluded.is_deleted, modstamp = excluded.modstamp," \
	"  vp_channel_notes = excluded.vp_channel_notes," \
	"  synced_at = excluded.synced_at" \
	" WHERE excluded.modstamp >= t.modstamp"

#define PARTNER_INSERT \
	"INSERT INTO sf_opportunity_partners AS t (id, opportunity_id, account_to_id," \
	" account_to_name, role, is_primary, modstamp, synced_at)" \
	" SELECT DISTINCT ON (id) id, opp, acct, aname, role, prim, ms, now()" \
	" FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]," \
	"  $6::boolean[], $7::timestamptz[]) AS r(id, opp, acct, aname, role, prim, ms)" \
	" ORDER BY id, ms DESC"
#define PARTNER_CONFLICT \
	" ON CONFLICT (id) DO UPDATE SET opportunity_id = excluded.opportunity_id," \
	"  account_to_id = excluded.account_to_id," \
	"  account_to_name = excluded.account_to_name, role = excluded.role," \
	"  is_primary = excluded.is_primary, modstamp = excluded.modstamp," \
	"  synced_at = excluded.synced_at" \
	" WHERE excluded.modstamp >= t.modstamp"

/* How a page is written: the sync's upserts, its plain INSERTs (see
 * store_sync_commit_page), or the upserts of records read live (see
 * LIVE_TAIL). */
enum page_mode { PAGE_UPSERT, PAGE_INSERT_ONLY, PAGE_LIVE };

/* A page's statements: [object][page_mode][statement] (the subscription
 * page has two: every version id, then the latest versions). Salesforce
 * records are never read live. */
static const char *const page_sql[SYNC_OBJECT__COUNT][3][2] = {
	[SYNC_ZUORA_ACCOUNT] = {{ACCOUNT_INSERT ACCOUNT_CONFLICT}, {ACCOUNT_INSERT},
				{ACCOUNT_INSERT ACCOUNT_LIVE_CONFLICT}},
	[SYNC_ZUORA_CONTACT] = {{CONTACT_INSERT CONTACT_CONFLICT}, {CONTACT_INSERT},
				{CONTACT_INSERT CONTACT_LIVE_CONFLICT}},
	[SYNC_ZUORA_SUBSCRIPTION] = {
		{SUBSCRIPTION_IDS_INSERT SUBSCRIPTION_IDS_CONFLICT,
		 SUBSCRIPTION_INSERT SUBSCRIPTION_CONFLICT},
		{SUBSCRIPTION_IDS_INSERT, SUBSCRIPTION_INSERT},
		{SUBSCRIPTION_IDS_INSERT SUBSCRIPTION_IDS_CONFLICT,
		 SUBSCRIPTION_INSERT SUBSCRIPTION_LIVE_CONFLICT}},
	[SYNC_SF_QUOTE] = {{QUOTE_INSERT QUOTE_CONFLICT}, {QUOTE_INSERT},
			   {QUOTE_INSERT QUOTE_CONFLICT}},
	[SYNC_SF_OPPORTUNITY_PARTNER] = {{PARTNER_INSERT PARTNER_CONFLICT}, {PARTNER_INSERT},
					 {PARTNER_INSERT PARTNER_CONFLICT}},
};

#define MAX_COLS 15

/* Fill cols[0..ncols) from the page. */
static void build_columns(const struct sync_page *p, struct col *cols, int *ncols)
{
	size_t i;
	int k;

#define INIT(n) \
	do { \
		*ncols = (n); \
		for (k = 0; k < (n); k++) \
			col_init(&cols[k]); \
	} while (0)
	switch (p->obj) {
	case SYNC_ZUORA_ACCOUNT:
		INIT(11);
		for (i = 0; i < p->n; i++) {
			const struct zuora_account_row *r = (const struct zuora_account_row *)p->rows + i;

			col_add(&cols[0], r->id);
			col_add(&cols[1], r->number);
			col_add(&cols[2], r->name);
			col_add(&cols[3], r->status);
			col_add_tri(&cols[4], r->partner_account);
			col_add(&cols[5], r->ssp_channel);
			col_add(&cols[6], r->crm_id);
			col_add(&cols[7], r->parent_id);
			col_add(&cols[8], r->sold_to_contact_id);
			col_add(&cols[9], r->bill_to_contact_id);
			col_add(&cols[10], ts_or_null(r->updated));
		}
		return;
	case SYNC_ZUORA_CONTACT:
		INIT(6);
		for (i = 0; i < p->n; i++) {
			const struct zuora_contact_row *r = (const struct zuora_contact_row *)p->rows + i;

			col_add(&cols[0], r->id);
			col_add(&cols[1], r->account_id);
			col_add(&cols[2], r->first_name);
			col_add(&cols[3], r->last_name);
			col_add(&cols[4], r->work_email);
			col_add(&cols[5], ts_or_null(r->updated));
		}
		return;
	case SYNC_ZUORA_SUBSCRIPTION:
		INIT(12);
		for (i = 0; i < p->n; i++) {
			const struct zuora_subscription_row *r =
				(const struct zuora_subscription_row *)p->rows + i;

			col_add(&cols[0], r->id);
			col_add(&cols[1], r->number);
			col_add_long(&cols[2], r->version);
			col_add_tri(&cols[3], r->is_latest ? TRI_TRUE : TRI_FALSE);
			col_add(&cols[4], r->status);
			col_add(&cols[5], r->term_start);
			col_add(&cols[6], r->term_end);
			col_add(&cols[7], r->account_id);
			col_add(&cols[8], r->invoice_owner_id);
			col_add(&cols[9], r->created_by_id);
			col_add(&cols[10], r->ssp_channel);
			col_add(&cols[11], ts_or_null(r->updated));
		}
		return;
	case SYNC_SF_QUOTE:
		INIT(15);
		for (i = 0; i < p->n; i++) {
			const struct sf_quote_row *r = (const struct sf_quote_row *)p->rows + i;

			col_add(&cols[0], r->id);
			col_add(&cols[1], r->name);
			col_add(&cols[2], r->status);
			col_add(&cols[3], r->subscription_number);
			col_add(&cols[4], r->zuora_subscription_id);
			col_add(&cols[5], r->zuora_account_id);
			col_add(&cols[6], r->resale_partner);
			col_add(&cols[7], r->distributor);
			col_add(&cols[8], r->invoice_owner_id);
			col_add(&cols[9], r->invoice_owner_name);
			col_add(&cols[10], r->account_id);
			col_add(&cols[11], r->opportunity_id);
			col_add_tri(&cols[12], r->is_deleted ? TRI_TRUE : TRI_FALSE);
			col_add(&cols[13], r->modstamp);
			col_add(&cols[14], r->vp_channel_notes);
		}
		return;
	case SYNC_SF_OPPORTUNITY_PARTNER:
		INIT(7);
		for (i = 0; i < p->n; i++) {
			const struct sf_partner_row *r = (const struct sf_partner_row *)p->rows + i;

			col_add(&cols[0], r->id);
			col_add(&cols[1], r->opportunity_id);
			col_add(&cols[2], r->account_to_id);
			col_add(&cols[3], r->account_to_name);
			col_add(&cols[4], r->role);
			col_add_tri(&cols[5], r->is_primary);
			col_add(&cols[6], r->modstamp);
		}
		return;
	case SYNC_OBJECT__COUNT:
		break;
	}
#undef INIT
	*ncols = 0;
}

/* ===== the session ===== */

static enum err exec_params(PGconn *pg, const char *sql, int n, const char *const *params,
			    const char *what, PGresult **out)
{
	PGresult *r = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (out)
			*out = r;
		else
			PQclear(r);
		return ERR_OK;
	}
	{
		enum err e = store_error(pg, r, what);

		PQclear(r);
		return e;
	}
}

/* One statement of a page. */
struct page_stmt {
	const char *sql;
	int nparams;
};

/* The statements of a page, in order (the subscription page has two: its
 * first over the first two columns). */
static size_t page_statements(enum sync_object obj, enum page_mode mode, int ncols,
			      struct page_stmt out[2])
{
	const char *const *sql = page_sql[obj][mode];

	if (obj == SYNC_ZUORA_SUBSCRIPTION) {
		out[0] = (struct page_stmt){sql[0], 2};
		out[1] = (struct page_stmt){sql[1], ncols};
		return 2;
	}
	out[0] = (struct page_stmt){sql[0], ncols};
	return 1;
}

/* Statement names of a sync session's prepared statements, indexed like
 * page_sql. */
static const char *const prepared_names[SYNC_OBJECT__COUNT][2][2] = {
	[SYNC_ZUORA_ACCOUNT] = {{"rs_account"}, {"rs_account_ins"}},
	[SYNC_ZUORA_CONTACT] = {{"rs_contact"}, {"rs_contact_ins"}},
	[SYNC_ZUORA_SUBSCRIPTION] = {{"rs_subscription_ids", "rs_subscription"},
				     {"rs_subscription_ids_ins", "rs_subscription_ins"}},
	[SYNC_SF_QUOTE] = {{"rs_quote"}, {"rs_quote_ins"}},
	[SYNC_SF_OPPORTUNITY_PARTNER] = {{"rs_partner"}, {"rs_partner_ins"}},
};

static enum err check_result(PGconn *pg, PGresult *r, const char *what)
{
	ExecStatusType st = PQresultStatus(r);
	enum err e = ERR_OK;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		e = store_error(pg, r, what);
	PQclear(r);
	return e;
}

/* Is r a unique violation (SQLSTATE 23505)? */
static bool is_unique_violation(const PGresult *r)
{
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

	return PQresultStatus(r) == PGRES_FATAL_ERROR && state && strcmp(state, "23505") == 0;
}

/* Run statement i of page p's statements st in sync session ss, preparing
 * it first if this session has not. An insert_only statement's unique
 * violation is expected (a row is already stored): ERR_CONFLICT, not
 * logged; any other failure is logged (store_error). */
static enum err exec_prepared(struct store_sync_session *ss, const struct sync_page *p,
			      bool insert_only, size_t i, const struct page_stmt *st,
			      const char *const *params)
{
	const char *name = prepared_names[p->obj][insert_only ? 1 : 0][i];
	bool *prepared = &ss->prepared[p->obj][insert_only ? 1 : 0][i];
	PGresult *r;
	enum err e;

	if (!*prepared) {
		e = check_result(ss->pg, PQprepare(ss->pg, name, st->sql, st->nparams, NULL),
				 objects[p->obj].object);
		if (e)
			return e;
		*prepared = true;
	}
	r = PQexecPrepared(ss->pg, name, st->nparams, params, NULL, NULL, 0);
	if (insert_only && is_unique_violation(r)) {
		PQclear(r);
		return ERR_CONFLICT;
	}
	return check_result(ss->pg, r, objects[p->obj].object);
}

/*
 * Write the rows of page p on pg. With a sync session (ss not NULL) the
 * statements are prepared once per session (no parse and plan per page);
 * otherwise (a pooled connection: records read live, PAGE_LIVE) they
 * are sent with their text.
 * insert_only (sync sessions only): plain INSERTs, which fail with
 * ERR_CONFLICT (not logged) if any row of the page is already stored;
 * otherwise upserts where the newer row wins.
 */
static enum err upsert_page(PGconn *pg, struct store_sync_session *ss,
			    const struct sync_page *p, bool insert_only)
{
	struct col cols[MAX_COLS];
	const char *params[MAX_COLS];
	struct page_stmt st[2];
	size_t nst, i;
	int ncols = 0, k;
	enum err e = ERR_OK;

	if (p->n == 0)
		return ERR_OK;
	build_columns(p, cols, &ncols);
	for (k = 0; k < ncols; k++)
		params[k] = col_done(&cols[k]);
	nst = page_statements(p->obj, !ss ? PAGE_LIVE : insert_only ? PAGE_INSERT_ONLY : PAGE_UPSERT,
			      ncols, st);
	for (i = 0; !e && i < nst; i++) {
		if (ss)
			e = exec_prepared(ss, p, insert_only, i, &st[i], params);
		else
			e = exec_params(pg, st[i].sql, st[i].nparams, params,
					objects[p->obj].object, NULL);
	}
	for (k = 0; k < ncols; k++)
		buf_release(&cols[k].b);
	return e;
}

static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* A dedicated connection with the sync's session settings. */
static enum err session_connect(struct store *s, const char *app_name,
				struct store_sync_session **out)
{
	struct store_sync_session *ss;
	unsigned stmt_ms = s->statement_timeout_ms > 120000 ? s->statement_timeout_ms : 120000;
	enum err e;

	*out = NULL;
	ss = xcalloc(1, sizeof(*ss));
	ss->store = s;
	ss->pg = store_connect(s->url, s->connect_timeout_s, stmt_ms, app_name);
	if (PQstatus(ss->pg) != CONNECTION_OK) {
		char msg[256];

		strlcpy_(msg, PQerrorMessage(ss->pg), sizeof(msg));
		msg[strcspn(msg, "\n")] = '\0';
		log_warn("sync: database connection failed: %s", msg);
		store_sync_close(ss);
		return ERR_UNAVAILABLE;
	}
	PQsetNoticeProcessor(ss->pg, quiet, NULL);
	/* A page's rows and its watermark commit together, so losing the
	 * last commits in a database crash loses both alike: the next run
	 * re-reads them. No need to wait for the WAL flush per page. */
	e = store_simple(ss->pg, "SET synchronous_commit = off");
	if (e) {
		store_sync_close(ss);
		return e;
	}
	*out = ss;
	return ERR_OK;
}

/* Run a query answering one boolean; *yes gets it. */
static enum err query_bool(PGconn *pg, const char *sql, int n, const char *const *params,
			   const char *what, bool *yes)
{
	PGresult *r = NULL;
	enum err e = exec_params(pg, sql, n, params, what, &r);

	if (e)
		return e;
	*yes = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return ERR_OK;
}

enum err store_sync_open(struct store *s, struct store_sync_session **out)
{
	struct store_sync_session *ss;
	bool got = false;
	enum err e;

	*out = NULL;
	e = session_connect(s, "resellerd-sync", &ss);
	if (e)
		return e;
	e = query_bool(ss->pg, "SELECT pg_try_advisory_lock(" SYNC_LOCK_KEY ")", 0, NULL,
		       "sync lock", &got);
	if (!e && !got)
		e = ERR_CONFLICT;
	/* Workers of an earlier run whose main session is gone may still be
	 * writing: they hold the worker lock shared. */
	if (!e)
		e = query_bool(ss->pg, "SELECT pg_try_advisory_lock(" SYNC_WORKER_LOCK_KEY ")"
			       " AND pg_advisory_unlock(" SYNC_WORKER_LOCK_KEY ")", 0, NULL,
			       "sync worker lock", &got);
	if (!e && !got) {
		log_warn("sync: sessions of an earlier sync are still writing");
		e = ERR_CONFLICT;
	}
	if (e) {
		store_sync_close(ss);
		return e;
	}
	*out = ss;
	return ERR_OK;
}

/* Does the backend pid hold the sync lock (exclusive, in this database)? */
static const char main_holds_sql[] =
	"SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
	" AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
	" AND pid = $1::int AND mode = 'ExclusiveLock' AND granted AND objsubid = 1"
	" AND ((classid::bigint << 32) | objid::bigint) = " SYNC_LOCK_KEY ")";

enum err store_sync_open_worker(struct store_sync_session *main, bool full_run,
				struct store_sync_session **out)
{
	struct store_sync_session *ss;
	char pid[24];
	const char *params[1] = {pid};
	bool ok = false;
	enum err e;

	*out = NULL;
	e = session_connect(main->store, "resellerd-sync-worker", &ss);
	if (e)
		return e;
	if (full_run) {
		e = store_simple(ss->pg, "SET resellerd.change_feed = 'coarse'");
		ss->insert_first = true;
	}
	/* First the shared lock, then the check: a syncer that takes the sync
	 * lock after the check sees this session's shared lock. */
	if (!e)
		e = query_bool(ss->pg, "SELECT pg_try_advisory_lock_shared("
			       SYNC_WORKER_LOCK_KEY ")", 0, NULL, "sync worker lock", &ok);
	if (!e && !ok)
		e = ERR_CONFLICT; /* a new syncer is checking for old workers */
	snprintf(pid, sizeof(pid), "%d", PQbackendPID(main->pg));
	if (!e)
		e = query_bool(ss->pg, main_holds_sql, 1, params, "sync lock check", &ok);
	if (!e && !ok) {
		log_warn("sync: the session holding the sync lock is gone");
		e = ERR_CONFLICT;
	}
	if (e) {
		store_sync_close(ss);
		return e;
	}
	*out = ss;
	return ERR_OK;
}

bool store_sync_broken(const struct store_sync_session *ss)
{
	return PQstatus(ss->pg) != CONNECTION_OK;
}

void store_sync_close(struct store_sync_session *ss)
{
	if (!ss)
		return;
	/* Closing the session releases the lock. */
	if (ss->pg)
		PQfinish(ss->pg);
	free(ss);
}

static const char begin_sql[] =
	"INSERT INTO sync_state AS t (source, object, last_started_at) VALUES ($1, $2, now())"
	" ON CONFLICT (source, object) DO UPDATE SET last_started_at = now()"
	" RETURNING t.watermark IS NOT NULL,"
	"  coalesce(floor(extract(epoch FROM t.watermark) * 1000)::bigint, 0)";

enum err store_sync_begin(struct store_sync_session *ss, enum sync_object obj,
			  bool *has_wm, int64_t *wm_ms)
{
	const char *params[2] = {objects[obj].source, objects[obj].object};
	PGresult *r = NULL;
	long long v;
	enum err e;

	e = exec_params(ss->pg, begin_sql, 2, params, "sync begin", &r);
	if (e)
		return e;
	*has_wm = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	v = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	*wm_ms = (int64_t)v;
	PQclear(r);
	return ERR_OK;
}

static const char advance_sql[] =
	"UPDATE sync_state SET rows_total = rows_total + $3::bigint,"
	" watermark = CASE WHEN $4::timestamptz IS NULL THEN watermark"
	"  ELSE GREATEST(watermark, $4::timestamptz) END"
	" WHERE source = $1 AND object = $2";

/* One transaction: page p's rows (insert_only: see upsert_page) and its
 * watermark. On failure the transaction is rolled back. */
static enum err page_transaction(struct store_sync_session *ss, const struct sync_page *p,
				 bool insert_only)
{
	char nrows[24];
	const char *adv[4];
	enum err e;

	e = store_simple(ss->pg, "BEGIN");
	if (e)
		return e;
	e = upsert_page(ss->pg, ss, p, insert_only);
	if (e)
		goto out;
	snprintf(nrows, sizeof(nrows), "%zu", p->n);
	adv[0] = objects[p->obj].source;
	adv[1] = objects[p->obj].object;
	adv[2] = nrows;
	adv[3] = p->watermark;
	e = exec_params(ss->pg, advance_sql, 4, adv, "sync watermark", NULL);
	if (e)
		goto out;
	e = store_simple(ss->pg, "COMMIT");
out:
	if (e && PQstatus(ss->pg) == CONNECTION_OK &&
	    PQtransactionStatus(ss->pg) != PQTRANS_IDLE)
		store_simple(ss->pg, "ROLLBACK");
	if (e && PQstatus(ss->pg) != CONNECTION_OK)
		e = ERR_UNAVAILABLE; /* the session (and the lock) is gone */
	return e;
}

/*
 * A full run loads mostly rows that are not stored yet. A plain INSERT
 * then does less than an upsert: no separate conflict probe of each
 * unique index before the insert, no speculative insertion (measured on
 * the subscription page: ~15% less backend CPU). A page that meets a
 * stored row (a re-run, a webhook's write, an id twice in a page) fails
 * with a unique violation as a whole; its transaction is rolled back and
 * the page is written again with the upserts, so latest-wins and
 * idempotency are the upserts' as before. The object's later pages then
 * go straight to the upserts.
 */
enum err store_sync_commit_page(struct store_sync_session *ss, const struct sync_page *p)
{
	enum err e;

	if (ss->insert_first && !ss->upsert_only[p->obj] && p->n > 0) {
		e = page_transaction(ss, p, true);
		if (e != ERR_CONFLICT)
			return e;
		ss->upsert_only[p->obj] = true;
	}
	return page_transaction(ss, p, false);
}

static const char finish_ok_sql[] =
	"UPDATE sync_state SET last_success_at = now(),"
	" watermark = CASE WHEN $3::timestamptz IS NULL THEN watermark"
	"  ELSE GREATEST(watermark, $3::timestamptz) END"
	" WHERE source = $1 AND object = $2";
static const char finish_err_sql[] =
	"UPDATE sync_state SET last_error = left($3, 1000), last_error_at = now()"
	" WHERE source = $1 AND object = $2";

enum err store_sync_finish(struct store_sync_session *ss, enum sync_object obj,
			   const char *error, const char *final_wm)
{
	const char *params[3] = {objects[obj].source, objects[obj].object,
				 error ? error : final_wm};

	return exec_params(ss->pg, error ? finish_err_sql : finish_ok_sql, 3, params,
			   "sync finish", NULL);
}

/* ===== status ===== */

#define TS(col) \
	"coalesce(to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), '')"

static const char status_sql[] =
	"SELECT source, object, " TS("watermark") ", " TS("last_started_at") ", "
	TS("last_success_at") ", " TS("last_error_at") ", coalesce(last_error, ''), rows_total"
	" FROM sync_state ORDER BY source DESC, object";

enum err store_sync_status(struct store *s, struct sync_status_row *rows, size_t max,
			   size_t *n)
{
	struct pconn *c;
	PGresult *r = NULL;
	enum err e;
	int i;

	*n = 0;
	e = store_checkout(s, &c);
	if (e)
		return e;
	e = exec_params(c->pg, status_sql, 0, NULL, "sync status", &r);
	store_checkin(s, c);
	if (e)
		return e;
	for (i = 0; i < PQntuples(r) && *n < max; i++) {
		struct sync_status_row *o = &rows[*n];

		memset(o, 0, sizeof(*o));
		strlcpy_(o->source, PQgetvalue(r, i, 0), sizeof(o->source));
		strlcpy_(o->object, PQgetvalue(r, i, 1), sizeof(o->object));
		strlcpy_(o->watermark, PQgetvalue(r, i, 2), sizeof(o->watermark));
		strlcpy_(o->last_started_at, PQgetvalue(r, i, 3), sizeof(o->last_started_at));
		strlcpy_(o->last_success_at, PQgetvalue(r, i, 4), sizeof(o->last_success_at));
		strlcpy_(o->last_error_at, PQgetvalue(r, i, 5), sizeof(o->last_error_at));
		strlcpy_(o->last_error, PQgetvalue(r, i, 6), sizeof(o->last_error));
		o->rows_total = (int64_t)strtoll(PQgetvalue(r, i, 7), NULL, 10);
		(*n)++;
	}
	PQclear(r);
	return ERR_OK;
}

/* ===== records read live (read-through, webhooks) ===== */

enum err store_upsert_records(struct store *s, const struct sync_page *pages, size_t n,
			      const char *origin)
{
	struct pconn *c;
	enum err e;
	size_t i;

	e = store_checkout(s, &c);
	if (e)
		return e;
	e = store_simple(c->pg, "BEGIN");
	for (i = 0; !e && i < n; i++)
		e = upsert_page(c->pg, NULL, &pages[i], false);
	/* The sync writes origin 'sync'; say where these rows came from. */
	if (!e && origin) {
		for (i = 0; !e && i < n; i++) {
			const struct zuora_subscription_row *r = pages[i].rows;
			size_t j;

			if (pages[i].obj != SYNC_ZUORA_SUBSCRIPTION)
				continue;
			for (j = 0; !e && j < pages[i].n; j++) {
				const char *p[2] = {origin, r[j].number};

				e = exec_params(c->pg, "UPDATE zuora_subscriptions SET origin = $1"
						" WHERE number = $2 AND origin <> $1", 2, p, "origin", NULL);
			}
		}
	}
	if (!e)
		e = store_simple(c->pg, "COMMIT");
	else if (PQstatus(c->pg) == CONNECTION_OK)
		store_simple(c->pg, "ROLLBACK");
	store_checkin(s, c);
	return e;
}
