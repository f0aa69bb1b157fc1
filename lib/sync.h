#pragma once
/*
 * sync: fill the PostgreSQL cache from Zuora (Account, Contact,
 * Subscription) and Salesforce (quotes, OpportunityPartner). Per object:
 * read the watermark, query from the watermark minus an overlap (full:
 * everything), and commit each page together with the advanced watermark
 * in one transaction, so a crash replays at most one page and a re-run
 * changes nothing. One syncer across instances (advisory lock). Runs in
 * its own thread or as a one-shot call (resellerctl sync), never on a
 * request thread.
 *
 * Inside a run, objects are synced concurrently: tuning.workers threads,
 * each with its own database session, take objects (largest first); per
 * object a fetcher thread with its own upstream client (sharing the
 * syncer's one token per source) reads and parses
 * page k+1 while the worker commits page k. The session that took the
 * advisory lock holds it until every worker is done, and the workers hold
 * a shared lock that a later syncer also checks (store_sync.h). A full run
 * (--full) sets the coarse change feed on its sessions: one "*" per
 * statement instead of id lists (migration 0004).
 *
 * Neither libcurl nor libpq appears here: sync -> upstream -> store.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "errors.h"
#include "metrics.h"
#include "store.h"
#include "store_sync.h"
#include "upstream.h"
#include "upstream_token.h"

enum sync_source_flags {
	SYNC_SOURCE_ZUORA = 1 << 0,
	SYNC_SOURCE_SALESFORCE = 1 << 1,
	SYNC_SOURCE_ALL = SYNC_SOURCE_ZUORA | SYNC_SOURCE_SALESFORCE,
};

enum sync_object_state {
	SYNC_NOT_RUN = 0,  /* source not asked for, or stopped before */
	SYNC_OK,
	SYNC_FAILED,
	SYNC_SKIPPED,      /* source not configured, or optional object absent */
};

struct sync_object_report {
	const char *source, *object; /* static strings */
	enum sync_object_state state;
	enum err result;
	uint64_t rows;      /* rows upserted (committed) */
	uint64_t pages;     /* pages committed */
	uint64_t rejected;  /* records the mappers refused (logged) */
	double seconds;
	double db_seconds;  /* of seconds, spent committing pages */
	char error[256];    /* why it failed or was skipped */
};

struct sync_report {
	struct sync_object_report objects[SYNC_OBJECT__COUNT];
	uint64_t rows, pages, rejected;
	double seconds;
	bool busy;          /* another sync was running: nothing was done */
	char error[256];    /* the first failure, "" when none */
};

/* Progress after each committed page (on a syncing thread). */
struct sync_progress {
	const char *source, *object;
	uint64_t object_rows, object_pages; /* this object so far */
	uint64_t rows, pages;               /* this run so far */
	double seconds;                     /* since the run started */
};

/* Knobs with defaults in brackets; tests shrink them. */
struct sync_tuning {
	unsigned overlap_s;            /* [300] re-read window behind the watermark */
	unsigned zuora_batch;          /* [2000] ZOQL batchSize */
	unsigned salesforce_batch;     /* [2000] Sforce-Query-Options batchSize */
	unsigned workers;              /* [3] objects synced at once, each on its own
					* database session (and fetching ahead) */
	struct upstream_tuning upstream; /* timeouts, caps, retries (zeros: defaults) */
};

struct sync;

/*
 * A syncer over cfg's upstream settings (cfg and store are borrowed and
 * must outlive it; metrics may be NULL). Nothing connects until a run.
 * Free with sync_free (after sync_stop).
 */
struct sync *sync_new(const struct config *cfg, struct store *store, struct metrics *m);
void sync_free(struct sync *s);

/* The Zuora token cache every client of this syncer uses (borrowed: lives
 * until sync_free). Other Zuora clients of the process (read-through,
 * webhooks) pass it as zuora_options.tokens, so the process holds one
 * token per source (UPSTREAM.md 1.2: reuse tokens until they expire). */
struct upstream_token *sync_zuora_tokens(struct sync *s);

/* Replace the tuning (before runs start; t is copied). */
void sync_set_tuning(struct sync *s, const struct sync_tuning *t);
/* The tuning in effect (the defaults and the configuration's upstream
 * bounds, until sync_set_tuning), copied into *out: start from it to
 * change one knob. */
void sync_get_tuning(const struct sync *s, struct sync_tuning *out);

/* Called after each committed page with NULL ("anything may have
 * changed"): invalidate caches. fn runs on one of the run's threads, one
 * call at a time (the same for the progress callback). */
void sync_set_on_change(struct sync *s,
			void (*fn)(void *cls, const char *subscription_number_or_null),
			void *cls);

/* Optional progress callback (on a syncing thread, one call at a time). */
void sync_set_progress(struct sync *s, void (*fn)(void *cls, const struct sync_progress *p),
		       void *cls);

/*
 * Run one sync of the sources in source_mask (SYNC_SOURCE_*) now, on the
 * calling thread, and fill out. full ignores the watermarks. With
 * SYNC_SOURCE_ALL a source whose URL is not set is skipped; asking for it
 * alone is an error. Returns ERR_OK when every object that ran succeeded;
 * ERR_CONFLICT with out->busy when another sync (this process or another
 * instance) is running; ERR_INVALID for configuration problems (message
 * in out->error, e.g. "ZUORA_BASE_URL is not set"); otherwise the first
 * object's error (ERR_UPSTREAM, ERR_UNAVAILABLE, ...). Watermarks stay at
 * the last committed page of a failed object.
 */
enum err sync_run(struct sync *s, bool full, int source_mask, struct sync_report *out);

/*
 * Start the background thread: an incremental run of all configured
 * sources at once and then every interval_s seconds (0: only when
 * triggered). Sleeps interruptibly. A run that finds another syncer busy
 * is logged at info level and is not a failure.
 */
void sync_start_background(struct sync *s, unsigned interval_s);

enum sync_trigger_result {
	SYNC_TRIGGER_STARTED = 0, /* the background thread starts a run now */
	SYNC_TRIGGER_QUEUED,      /* a run is in progress: one more starts as
				   * soon as it ends (coalesced: however many
				   * triggers come meanwhile, one run) */
	SYNC_TRIGGER_UNAVAILABLE, /* the background thread is not started */
};

/* Ask the background thread for a run (DESIGN.md: POST /v1/sync starts
 * one), also while one is in progress, e.g. the startup run. */
enum sync_trigger_result sync_trigger(struct sync *s);

/* Is a run in progress (any thread)? */
bool sync_running(struct sync *s);

/* Stop the background thread: cancels a run in flight (the transaction of
 * the page being written either commits or rolls back) and joins. Safe to
 * call when not started and more than once. */
void sync_stop(struct sync *s);

/* "ok", "failed", "skipped", "not_run". */
const char *sync_state_name(enum sync_object_state st);
