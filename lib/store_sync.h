#pragma once
/*
 * store_sync: the sync's side of the store. Rows mapped from Zuora and
 * Salesforce (plain structs, owned strings), the page upserts that commit
 * rows and the advanced watermark in one transaction, the advisory lock
 * that keeps one syncer across instances, and the status reader for
 * GET /v1/sync/status.
 *
 * Upserts never let older source data overwrite newer:
 *   ON CONFLICT (id) DO UPDATE ... WHERE excluded.source_updated_at >=
 *   t.source_updated_at
 * and subscriptions (one row per number) move only to a higher version, or
 * the same version with a newer-or-equal UpdatedDate. Re-running a window
 * therefore changes nothing but synced_at. Records read live (GET answers
 * without updatedDate: updated "") overwrite the fields but keep the
 * stored source timestamp (the epoch for a new row), so the next sync
 * page still applies; a live subscription never replaces a higher version.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* ---- rows (strings are owned: NULL means absent / SQL NULL) ---- */

/* enum tristate comes from classify.h (through store.h); the upstream may
 * not say, which is TRI_UNKNOWN. */
#define TRI_NULL TRI_UNKNOWN

/* updated_ms is the source timestamp; updated the same instant rendered
 * as "YYYY-MM-DDTHH:MM:SS.mmmZ" (what goes to SQL). */
struct zuora_account_row {
	char *id, *number, *name, *status, *ssp_channel, *crm_id, *parent_id;
	char *sold_to_contact_id, *bill_to_contact_id;
	enum tristate partner_account;
	int64_t updated_ms;
	char updated[32];
};

struct zuora_contact_row {
	char *id, *account_id, *first_name, *last_name, *work_email;
	int64_t updated_ms;
	char updated[32];
};

struct zuora_subscription_row {
	char *id, *number, *status, *term_start, *term_end;
	char *account_id, *invoice_owner_id, *created_by_id, *ssp_channel;
	long version;
	bool is_latest; /* absent counts as latest */
	int64_t updated_ms;
	char updated[32];
};

struct sf_quote_row {
	char *id, *name, *status, *subscription_number, *zuora_subscription_id;
	char *zuora_account_id, *resale_partner, *distributor, *invoice_owner_id;
	char *invoice_owner_name, *account_id, *opportunity_id;
	char *vp_channel_notes; /* Required Approvals From VP of Channel */
	bool is_deleted;
	int64_t modstamp_ms;
	char modstamp[32];
};

struct sf_partner_row {
	char *id, *opportunity_id, *account_to_id, *account_to_name, *role;
	enum tristate is_primary;
	int64_t modstamp_ms;
	char modstamp[32];
};

/* Free the strings of one row (the row itself is the caller's). */
void zuora_account_row_release(struct zuora_account_row *r);
void zuora_contact_row_release(struct zuora_contact_row *r);
void zuora_subscription_row_release(struct zuora_subscription_row *r);
void sf_quote_row_release(struct sf_quote_row *r);
void sf_partner_row_release(struct sf_partner_row *r);

/* ---- the synced objects ---- */

enum sync_object {
	SYNC_ZUORA_ACCOUNT = 0,
	SYNC_ZUORA_CONTACT,
	SYNC_ZUORA_SUBSCRIPTION,
	SYNC_SF_QUOTE,
	SYNC_SF_OPPORTUNITY_PARTNER,
	SYNC_OBJECT__COUNT
};

/* sync_state's (source, object) for o: static strings. */
const char *sync_object_source(enum sync_object o);
const char *sync_object_name(enum sync_object o);

/* One page to commit: rows of the type that matches obj (borrowed). */
struct sync_page {
	enum sync_object obj;
	const void *rows; /* array of the row struct for obj */
	size_t n;
	/* New watermark ("...Z" text; NULL: leave it). Stored as
	 * GREATEST(old, this): it never moves back. */
	const char *watermark;
};

/* ---- the sync session: a dedicated connection holding the lock ---- */

struct store_sync_session;

/*
 * Open a dedicated connection (outside the pool, so a sync never takes
 * a request's connection) and take the cluster-wide sync advisory lock on
 * it. ERR_CONFLICT when another session holds the lock ("another sync is
 * running"), ERR_UNAVAILABLE when the database cannot be reached. Close
 * with store_sync_close (which releases the lock).
 */
enum err store_sync_open(struct store *s, struct store_sync_session **out);
void store_sync_close(struct store_sync_session *ss);

/*
 * A worker session for a run whose lock main holds (from store_sync_open):
 * another dedicated connection that writes pages of its own objects
 * concurrently with other workers. It takes the shared "sync worker"
 * advisory lock and then checks that main's backend still holds the sync
 * lock, so the lock covers every session of the run: a syncer that gets
 * the sync lock after main's session died still finds this session's
 * shared lock and backs off (store_sync_open answers ERR_CONFLICT until
 * every worker of the old run is gone). ERR_CONFLICT when main lost its
 * lock, ERR_UNAVAILABLE when the database cannot be reached.
 *
 * full_run: the session sets resellerd.change_feed = 'coarse' (migration
 * 0004): its statements notify "*" instead of id lists. Only for full
 * syncs, which rewrite every row and so flush the decision caches anyway;
 * incremental runs keep the precise per-id notifications. A full run's
 * session also writes pages insert-first (store_sync_commit_page).
 *
 * Thread-safe against other sessions; one session is used by one thread
 * at a time. Close with store_sync_close.
 */
enum err store_sync_open_worker(struct store_sync_session *main, bool full_run,
				struct store_sync_session **out);

/* Has the session lost its connection (and so its locks)? */
bool store_sync_broken(const struct store_sync_session *ss);

/*
 * Mark obj started (last_started_at = now, committed at once) and read
 * its watermark: *has_wm false when there is none, else *wm_ms.
 */
enum err store_sync_begin(struct store_sync_session *ss, enum sync_object obj,
			  bool *has_wm, int64_t *wm_ms);

/*
 * Upsert one page and advance obj's watermark and rows_total in one
 * transaction. Either all of it commits or none. Errors: ERR_UNAVAILABLE
 * (connection, timeouts), ERR_INTERNAL.
 *
 * Insert-first (sessions of a full run): the page is first written with
 * plain INSERTs, cheaper than upserts when none of its rows is stored
 * yet. If one is (a unique violation), that transaction is rolled back
 * and the page is written again with the upserts in a new one, and the
 * object's later pages in this session go straight to the upserts. The
 * stored result, the watermark and the change feed are the upserts'
 * either way.
 */
enum err store_sync_commit_page(struct store_sync_session *ss, const struct sync_page *p);

/*
 * Record the end of obj's run: success (error NULL: last_success_at =
 * now, and watermark GREATEST(old, final_wm) when final_wm is not NULL)
 * or failure (last_error, last_error_at; the watermark stays).
 */
enum err store_sync_finish(struct store_sync_session *ss, enum sync_object obj,
			   const char *error, const char *final_wm);

/* ---- status (pooled connection) ---- */

struct sync_status_row {
	char source[16];
	char object[32];
	char watermark[40];       /* RFC 3339 UTC, "" = none */
	char last_started_at[40];
	char last_success_at[40];
	char last_error_at[40];
	char last_error[256];
	int64_t rows_total;
};

/*
 * Every sync_state row (ordered by source, object) into rows[0..max);
 * *n gets how many. Errors: ERR_UNAVAILABLE.
 */
enum err store_sync_status(struct store *s, struct sync_status_row *rows, size_t max,
			   size_t *n);

/*
 * Upsert the rows of several pages (a subscription read live with its
 * accounts and contacts) in one transaction on a pooled connection, under
 * the same never-older rules as the sync, without touching watermarks;
 * a row with updated "" (no source timestamp) overwrites the stored
 * fields of the same or a lower version and keeps the stored
 * source_updated_at (see LIVE_TAIL in store_sync.c).
 * origin ("live", "webhook") marks the subscriptions written.
 */
enum err store_upsert_records(struct store *s, const struct sync_page *pages, size_t n,
			      const char *origin);
