/*
 * The syncer: drives the upstream clients page by page into store_sync,
 * one transaction per page with the advanced watermark. See sync.h.
 *
 * Watermarks and order: a watermark may only advance past rows that are
 * stored, and rows that have not arrived yet must be newer. Salesforce
 * pages come ORDER BY SystemModstamp; ZOQL has no ORDER BY, and Zuora
 * (and the simulator) return rows in UpdatedDate order in practice. The
 * syncer checks that: while every row seen in this run arrived in
 * timestamp order, each page commits watermark = newest row so far; after
 * the first row out of order it stops advancing per page and sets the
 * watermark only when the whole object completed. A crash then costs a
 * longer replay, never a lost row. The overlap (5 min) re-reads rows that
 * share a timestamp across a page boundary.
 */
#include "sync.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>

#include "log.h"
#include "upstream_salesforce.h"
#include "upstream_zuora.h"
#include "util.h"

struct sync {
	const struct config *cfg;
	struct store *store;
	struct metrics *metrics;
	struct sync_tuning tuning;
	void (*on_change)(void *cls, const char *number);
	void *on_change_cls;
	void (*progress)(void *cls, const struct sync_progress *p);
	void *progress_cls;

	/* One OAuth token per source for every run and fetcher (and the
	 * read-through, via sync_zuora_tokens): UPSTREAM.md 1.2. */
	struct upstream_token *zuora_tokens, *sf_tokens;

	atomic_bool cancel;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool running;     /* a run is in progress */
	bool bg_running;  /* the background thread took a trigger and is running */
	bool trigger;     /* the background thread should run (again) as soon as it
			   * can: POSTs while a run is in progress coalesce here */
	bool stop;
	bool started;
	unsigned interval_s;
	pthread_t thread;
};

/* One object's run: the committing side's state. */
struct object_run {
	struct sync *s;
	struct run *run;
	struct store_sync_session *ss;
	struct sync_object_report *rep;
	bool any, ordered;
	int64_t max_ms;
};

/* Defaults, and the upstream bounds an operator sets (config.h). */
static void default_tuning(struct sync_tuning *t, const struct config *cfg)
{
	memset(t, 0, sizeof(*t));
	t->overlap_s = 300;
	t->zuora_batch = 2000;
	t->salesforce_batch = 2000;
	if (cfg && cfg->sync_timeout_ms > 0) {
		t->upstream.timeout_ms = (unsigned)cfg->sync_timeout_ms;
		t->upstream.connect_timeout_ms =
			(unsigned)(cfg->sync_timeout_ms < 5000 ? cfg->sync_timeout_ms : 5000);
	}
	if (cfg && cfg->sync_max_attempts > 0)
		t->upstream.max_attempts = (unsigned)cfg->sync_max_attempts;
}

struct sync *sync_new(const struct config *cfg, struct store *store, struct metrics *m)
{
	struct sync *s = xcalloc(1, sizeof(*s));
	pthread_condattr_t ca;

	s->cfg = cfg;
	s->store = store;
	s->metrics = m;
	default_tuning(&s->tuning, cfg);
	s->zuora_tokens = upstream_token_new();
	s->sf_tokens = upstream_token_new();
	atomic_init(&s->cancel, false);
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	return s;
}

void sync_free(struct sync *s)
{
	if (!s)
		return;
	sync_stop(s);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	upstream_token_free(s->zuora_tokens);
	upstream_token_free(s->sf_tokens);
	free(s);
}

struct upstream_token *sync_zuora_tokens(struct sync *s)
{
	return s->zuora_tokens;
}

void sync_get_tuning(const struct sync *s, struct sync_tuning *out)
{
	*out = s->tuning;
}

void sync_set_tuning(struct sync *s, const struct sync_tuning *t)
{
	s->tuning = *t;
	if (!s->tuning.zuora_batch)
		s->tuning.zuora_batch = 2000;
	if (!s->tuning.salesforce_batch)
		s->tuning.salesforce_batch = 2000;
}

void sync_set_on_change(struct sync *s,
			void (*fn)(void *cls, const char *subscription_number_or_null),
			void *cls)
{
	s->on_change = fn;
	s->on_change_cls = cls;
}

void sync_set_progress(struct sync *s, void (*fn)(void *cls, const struct sync_progress *p),
		       void *cls)
{
	s->progress = fn;
	s->progress_cls = cls;
}

const char *sync_state_name(enum sync_object_state st)
{
	switch (st) {
	case SYNC_OK:
		return "ok";
	case SYNC_FAILED:
		return "failed";
	case SYNC_SKIPPED:
		return "skipped";
	case SYNC_NOT_RUN:
		break;
	}
	return "not_run";
}

static double seconds_since(uint64_t start_ns)
{
	return (double)(now_ns() - start_ns) / 1e9;
}

/* ===== a run: shared state of its workers ===== */

/* The order objects are handed to workers: the longest first, so the run
 * ends about when its largest object does. */
static const enum sync_object run_order[SYNC_OBJECT__COUNT] = {
	SYNC_ZUORA_SUBSCRIPTION, SYNC_ZUORA_ACCOUNT, SYNC_ZUORA_CONTACT, SYNC_SF_QUOTE,
	SYNC_SF_OPPORTUNITY_PARTNER,
};

struct run {
	struct sync *s;
	bool full;
	struct sync_report *out;
	uint64_t start_ns;
	struct store_sync_session *main; /* holds the sync lock */

	pthread_mutex_t mu;   /* guards what follows and the out totals */
	int mask;             /* sources still to run */
	size_t next;          /* index into run_order */
	pthread_mutex_t cb_mu; /* one on_change/progress call at a time */
};

static int source_of(enum sync_object obj)
{
	return obj <= SYNC_ZUORA_SUBSCRIPTION ? SYNC_SOURCE_ZUORA : SYNC_SOURCE_SALESFORCE;
}

/* ===== committing one page ===== */

static enum err commit_page(struct object_run *r, const struct upstream_page *p)
{
	struct run *run = r->run;
	struct sync *s = r->s;
	struct sync_page sp;
	char wm[40];
	uint64_t t0;
	enum err e;

	if (atomic_load(&s->cancel))
		return ERR_UNAVAILABLE;
	if (p->n > 0) {
		if (r->ordered && (!p->sorted || (r->any && p->min_ms < r->max_ms))) {
			r->ordered = false;
			log_warn("sync %s.%s: rows arrive out of UpdatedDate order; the "
				 "watermark advances only when the object completes",
				 r->rep->source, r->rep->object);
		}
		if (!r->any || p->max_ms > r->max_ms)
			r->max_ms = p->max_ms;
		r->any = true;
	}
	memset(&sp, 0, sizeof(sp));
	sp.obj = p->obj;
	sp.rows = p->rows;
	sp.n = p->n;
	if (r->any && r->ordered) {
		upstream_format_time(r->max_ms, wm, sizeof(wm));
		sp.watermark = wm;
	}
	t0 = now_ns();
	e = store_sync_commit_page(r->ss, &sp);
	r->rep->db_seconds += seconds_since(t0);
	if (e) {
		snprintf(r->rep->error, sizeof(r->rep->error),
			 "storing a page failed (%s)", err_slug(e));
		return e;
	}
	r->rep->rows += p->n;
	r->rep->pages++;
	r->rep->rejected += p->skipped;
	pthread_mutex_lock(&run->mu);
	run->out->rows += p->n;
	run->out->pages++;
	run->out->rejected += p->skipped;
	pthread_mutex_unlock(&run->mu);
	if (s->metrics)
		metrics_inc(s->metrics, p->obj >= SYNC_SF_QUOTE ? MC_SYNC_ROWS_SALESFORCE :
				    MC_SYNC_ROWS_ZUORA, p->n);
	if ((s->on_change && p->n > 0) || s->progress) {
		pthread_mutex_lock(&run->cb_mu);
		if (s->on_change && p->n > 0)
			s->on_change(s->on_change_cls, NULL);
		if (s->progress) {
			struct sync_progress pr;

			memset(&pr, 0, sizeof(pr));
			pr.source = r->rep->source;
			pr.object = r->rep->object;
			pr.object_rows = r->rep->rows;
			pr.object_pages = r->rep->pages;
			pthread_mutex_lock(&run->mu);
			pr.rows = run->out->rows;
			pr.pages = run->out->pages;
			pthread_mutex_unlock(&run->mu);
			pr.seconds = seconds_since(run->start_ns);
			s->progress(s->progress_cls, &pr);
		}
		pthread_mutex_unlock(&run->cb_mu);
	}
	return ERR_OK;
}

/* ===== fetching ahead: a fetcher thread hands pages to the committer ===== */

/* Pages fetched but not yet committed: while the committer writes page k,
 * the fetcher reads page k+1 (and parses it). Each object has its own
 * fetcher with its own upstream client (curl handle), created, used and
 * freed on that thread. */
#define AHEAD 2

struct fetch {
	struct sync *s;
	enum sync_object obj;
	bool has_since;
	int64_t since;
	pthread_t thread;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct upstream_page q[AHEAD];
	size_t head, count;
	bool done;       /* the fetcher returned */
	bool stop;       /* the committer gave up: stop fetching */
	enum err result; /* the query's result (valid when done) */
	char error[256]; /* its reason */
};

/* upstream_page_fn on the fetcher thread: queue the page (taking its rows). */
static enum err enqueue(void *cls, struct upstream_page *p)
{
	struct fetch *f = cls;
	struct upstream_page *slot;

	pthread_mutex_lock(&f->mu);
	while (f->count == AHEAD && !f->stop)
		pthread_cond_wait(&f->cv, &f->mu);
	if (f->stop) {
		pthread_mutex_unlock(&f->mu);
		return ERR_UNAVAILABLE;
	}
	slot = &f->q[(f->head + f->count) % AHEAD];
	*slot = *p;
	slot->next = NULL; /* stays with p: the query reads it */
	p->rows = NULL;
	p->n = 0;
	f->count++;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	return ERR_OK;
}

static bool set(const char *s)
{
	return s && *s;
}

static struct zuora_client *new_zuora(struct sync *s, char *why, size_t whylen)
{
	const struct config *c = s->cfg;
	struct zuora_options zo;

	memset(&zo, 0, sizeof(zo));
	zo.base_url = c->zuora_base_url;
	zo.client_id = c->zuora_client_id;
	zo.client_secret = c->zuora_client_secret;
	zo.ssp_field = c->zuora_sspchannel_field;
	zo.ca_file = c->ca_file;
	zo.batch_size = s->tuning.zuora_batch;
	zo.tuning = s->tuning.upstream;
	zo.metrics = s->metrics;
	zo.cancel = &s->cancel;
	zo.tokens = s->zuora_tokens;
	return zuora_new(&zo, why, whylen);
}

static struct sf_client *new_sf(struct sync *s, char *why, size_t whylen)
{
	const struct config *c = s->cfg;
	struct sf_options so;

	memset(&so, 0, sizeof(so));
	so.login_url = c->salesforce_login_url;
	so.client_id = c->salesforce_client_id;
	so.client_secret = c->salesforce_client_secret;
	so.api_version = c->salesforce_api_version;
	so.fields.subscription = c->salesforce_subscription_field;
	so.fields.resale_partner = c->salesforce_resale_partner_field;
	so.fields.distributor = c->salesforce_distributor_field;
	so.fields.vp_channel_notes = c->salesforce_vp_channel_notes_field;
	so.ca_file = c->ca_file;
	so.batch_size = s->tuning.salesforce_batch;
	so.tuning = s->tuning.upstream;
	so.metrics = s->metrics;
	so.cancel = &s->cancel;
	so.tokens = s->sf_tokens;
	return sf_new(&so, why, whylen);
}

static void *fetcher(void *arg)
{
	struct fetch *f = arg;
	const int64_t *since = f->has_since ? &f->since : NULL;
	char why[256];
	enum err e;

	why[0] = '\0';
	if (f->obj <= SYNC_ZUORA_SUBSCRIPTION) {
		struct zuora_client *z = new_zuora(f->s, why, sizeof(why));

		if (!z) {
			e = ERR_INVALID;
		} else {
			e = zuora_query(z, f->obj, since, enqueue, f);
			if (e)
				snprintf(why, sizeof(why), "%s", zuora_last_error(z));
			zuora_free(z);
		}
	} else {
		struct sf_client *c = new_sf(f->s, why, sizeof(why));

		if (!c) {
			e = ERR_INVALID;
		} else {
			e = sf_query(c, f->obj, since, enqueue, f);
			if (e)
				snprintf(why, sizeof(why), "%s", sf_last_error(c));
			sf_free(c);
		}
	}
	pthread_mutex_lock(&f->mu);
	f->done = true;
	f->result = e;
	snprintf(f->error, sizeof(f->error), "%s", why);
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* The next page into *p (owned by the caller): true, or false when the
 * fetcher is done and nothing is queued. */
static bool dequeue(struct fetch *f, struct upstream_page *p)
{
	bool got = false;

	pthread_mutex_lock(&f->mu);
	while (f->count == 0 && !f->done)
		pthread_cond_wait(&f->cv, &f->mu);
	if (f->count > 0) {
		*p = f->q[f->head];
		f->head = (f->head + 1) % AHEAD;
		f->count--;
		got = true;
		pthread_cond_broadcast(&f->cv);
	}
	pthread_mutex_unlock(&f->mu);
	return got;
}

/* Stop the fetcher, join it and drop what it queued. */
static void fetch_end(struct fetch *f)
{
	pthread_mutex_lock(&f->mu);
	f->stop = true;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->thread, NULL);
	while (f->count > 0) {
		upstream_page_release(&f->q[f->head]);
		f->head = (f->head + 1) % AHEAD;
		f->count--;
	}
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
}

/* ===== one object ===== */

static enum err run_object(struct run *run, struct store_sync_session *ss,
			   enum sync_object obj)
{
	struct sync *s = run->s;
	struct sync_object_report *rep = &run->out->objects[obj];
	struct object_run r;
	struct fetch f;
	struct upstream_page page;
	uint64_t t0 = now_ns();
	bool has_wm = false;
	int64_t wm = 0;
	char final_wm[40];
	enum err e, fe;

	e = store_sync_begin(ss, obj, &has_wm, &wm);
	if (e) {
		snprintf(rep->error, sizeof(rep->error), "database: %s", err_slug(e));
		goto out;
	}
	memset(&r, 0, sizeof(r));
	r.s = s;
	r.run = run;
	r.ss = ss;
	r.rep = rep;
	r.ordered = true;
	memset(&f, 0, sizeof(f));
	f.s = s;
	f.obj = obj;
	f.has_since = !run->full && has_wm;
	f.since = wm - (int64_t)s->tuning.overlap_s * 1000;
	pthread_mutex_init(&f.mu, NULL);
	pthread_cond_init(&f.cv, NULL);
	if (pthread_create(&f.thread, NULL, fetcher, &f) != 0)
		die("cannot start a sync fetcher thread");
	while (!e && dequeue(&f, &page)) {
		e = commit_page(&r, &page);
		upstream_page_release(&page);
	}
	fetch_end(&f);
	fe = f.result;
	if (!e && fe) {
		e = fe;
		snprintf(rep->error, sizeof(rep->error), "%s",
			 atomic_load(&s->cancel) ? "cancelled" : f.error[0] ? f.error :
			 err_slug(fe));
	} else if (e && !rep->error[0]) {
		snprintf(rep->error, sizeof(rep->error), "%s",
			 atomic_load(&s->cancel) ? "cancelled" : err_slug(e));
	}
	if (e == ERR_UNPROCESSABLE && obj == SYNC_SF_OPPORTUNITY_PARTNER) {
		/* Optional: an org without OpportunityPartner access. */
		log_warn("sync salesforce.opportunity_partner skipped: %s", rep->error);
		rep->state = SYNC_SKIPPED;
		store_sync_finish(ss, obj, rep->error, NULL);
		e = ERR_OK;
		goto done;
	}
	if (!e) {
		if (r.any)
			upstream_format_time(r.max_ms, final_wm, sizeof(final_wm));
		e = store_sync_finish(ss, obj, NULL, r.any ? final_wm : NULL);
		if (e)
			snprintf(rep->error, sizeof(rep->error), "database: %s", err_slug(e));
	} else {
		store_sync_finish(ss, obj, rep->error, NULL);
	}
out:
	rep->state = e ? SYNC_FAILED : SYNC_OK;
done:
	rep->result = e;
	rep->seconds = seconds_since(t0);
	if (e)
		log_warn("sync %s.%s failed after %llu rows: %s", rep->source, rep->object,
			 (unsigned long long)rep->rows, rep->error);
	else
		log_info("sync %s.%s: %llu rows in %llu pages (%.1f s, %.1f s in the database)",
			 rep->source, rep->object, (unsigned long long)rep->rows,
			 (unsigned long long)rep->pages, rep->seconds, rep->db_seconds);
	return e;
}

/* ===== workers: each with its own database session, taking objects ===== */

/* The next object to run, or false when none is left. */
static bool take_object(struct run *run, enum sync_object *obj)
{
	bool got = false;

	pthread_mutex_lock(&run->mu);
	while (run->next < SYNC_OBJECT__COUNT && !atomic_load(&run->s->cancel)) {
		enum sync_object o = run_order[run->next++];

		if (run->mask & source_of(o)) {
			*obj = o;
			got = true;
			break;
		}
	}
	pthread_mutex_unlock(&run->mu);
	return got;
}

static void *worker(void *arg)
{
	struct run *run = arg;
	struct store_sync_session *ss = NULL;
	enum sync_object obj;
	enum err e;

	e = store_sync_open_worker(run->main, run->full, &ss);
	if (e) {
		log_warn("sync: a worker session could not start (%s)", err_slug(e));
		return NULL; /* the other workers take the objects */
	}
	while (take_object(run, &obj)) {
		e = run_object(run, ss, obj);
		/* Refused credentials fail every object of the source alike. */
		if (e == ERR_UNAUTHORIZED || e == ERR_INVALID) {
			pthread_mutex_lock(&run->mu);
			run->mask &= ~source_of(obj);
			pthread_mutex_unlock(&run->mu);
		}
		if (e == ERR_UNAVAILABLE && store_sync_broken(ss))
			break; /* this session is gone: leave the rest to the others */
	}
	store_sync_close(ss);
	return NULL;
}

/* ===== a run ===== */

/* Check the configuration of the asked sources (clients are made per
 * fetcher thread; these are only built to validate, then freed). */
static enum err check_sources(struct sync *s, int *mask, struct sync_report *out)
{
	const struct config *c = s->cfg;
	bool only_one = *mask != SYNC_SOURCE_ALL;
	char why[256];

	if ((*mask & SYNC_SOURCE_ZUORA) && !set(c->zuora_base_url) && !only_one)
		*mask &= ~SYNC_SOURCE_ZUORA;
	if ((*mask & SYNC_SOURCE_SALESFORCE) && !set(c->salesforce_login_url) && !only_one)
		*mask &= ~SYNC_SOURCE_SALESFORCE;
	if (*mask == 0) {
		snprintf(out->error, sizeof(out->error),
			 "ZUORA_BASE_URL and SALESFORCE_LOGIN_URL are not set: nothing to sync");
		return ERR_INVALID;
	}
	if (*mask & SYNC_SOURCE_ZUORA) {
		struct zuora_client *z = new_zuora(s, why, sizeof(why));

		if (!z) {
			snprintf(out->error, sizeof(out->error), "%s", why);
			return ERR_INVALID;
		}
		zuora_free(z);
	}
	if (*mask & SYNC_SOURCE_SALESFORCE) {
		struct sf_client *c2 = new_sf(s, why, sizeof(why));

		if (!c2) {
			snprintf(out->error, sizeof(out->error), "%s", why);
			return ERR_INVALID;
		}
		sf_free(c2);
	}
	return ERR_OK;
}

static void report_init(struct sync_report *out)
{
	int i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < SYNC_OBJECT__COUNT; i++) {
		out->objects[i].source = sync_object_source((enum sync_object)i);
		out->objects[i].object = sync_object_name((enum sync_object)i);
	}
}

static enum err run_sources(struct sync *s, bool full, int mask, struct sync_report *out,
			    uint64_t t0)
{
	pthread_t threads[SYNC_OBJECT__COUNT];
	struct store_sync_session *main = NULL;
	struct run run;
	enum err e;
	int i, asked = mask, nobj = 0;
	unsigned nw, started = 0, k;

	e = check_sources(s, &mask, out);
	if (e)
		return e;
	for (i = 0; i < SYNC_OBJECT__COUNT; i++) {
		int src = source_of((enum sync_object)i);

		if ((asked & src) && !(mask & src)) {
			out->objects[i].state = SYNC_SKIPPED;
			snprintf(out->objects[i].error, sizeof(out->objects[i].error),
				 "%s is not set", src == SYNC_SOURCE_ZUORA ? "ZUORA_BASE_URL" :
				 "SALESFORCE_LOGIN_URL");
		}
		if (mask & src)
			nobj++;
	}
	e = store_sync_open(s->store, &main);
	if (e == ERR_CONFLICT) {
		out->busy = true;
		snprintf(out->error, sizeof(out->error), "another sync is running");
		return e;
	}
	if (e) {
		snprintf(out->error, sizeof(out->error), "database unavailable");
		return e;
	}
	memset(&run, 0, sizeof(run));
	run.s = s;
	run.full = full;
	run.out = out;
	run.start_ns = t0;
	run.main = main;
	run.mask = mask;
	pthread_mutex_init(&run.mu, NULL);
	pthread_mutex_init(&run.cb_mu, NULL);
	nw = s->tuning.workers ? s->tuning.workers : 3;
	if (nw > (unsigned)nobj)
		nw = (unsigned)nobj;
	for (k = 0; k < nw; k++) {
		if (pthread_create(&threads[started], NULL, worker, &run) != 0)
			break;
		started++;
	}
	if (!started)
		die("cannot start the sync worker threads");
	for (k = 0; k < started; k++)
		pthread_join(threads[k], NULL);
	pthread_mutex_destroy(&run.cb_mu);
	pthread_mutex_destroy(&run.mu);
	store_sync_close(main);

	/* The first failed object (in object order) names the run's error. */
	e = ERR_OK;
	for (i = 0; i < SYNC_OBJECT__COUNT; i++) {
		struct sync_object_report *o = &out->objects[i];

		if (o->state == SYNC_FAILED) {
			e = o->result;
			snprintf(out->error, sizeof(out->error), "%s.%s: %s", o->source,
				 o->object, o->error);
			break;
		}
	}
	if (!e && atomic_load(&s->cancel)) {
		e = ERR_UNAVAILABLE;
		snprintf(out->error, sizeof(out->error), "cancelled");
	}
	if (!e) {
		/* An object a worker never ran (every session failed). */
		for (i = 0; i < SYNC_OBJECT__COUNT; i++) {
			if ((run.mask & source_of((enum sync_object)i)) &&
			    out->objects[i].state == SYNC_NOT_RUN) {
				e = ERR_UNAVAILABLE;
				snprintf(out->error, sizeof(out->error), "database unavailable");
				break;
			}
		}
	}
	return e;
}

enum err sync_run(struct sync *s, bool full, int source_mask, struct sync_report *out)
{
	uint64_t t0 = now_ns();
	enum err e;

	report_init(out);
	pthread_mutex_lock(&s->mu);
	if (s->running) {
		pthread_mutex_unlock(&s->mu);
		out->busy = true;
		snprintf(out->error, sizeof(out->error), "another sync is running");
		return ERR_CONFLICT;
	}
	s->running = true;
	pthread_mutex_unlock(&s->mu);

	e = run_sources(s, full, source_mask & SYNC_SOURCE_ALL, out, t0);
	out->seconds = seconds_since(t0);

	pthread_mutex_lock(&s->mu);
	s->running = false;
	pthread_mutex_unlock(&s->mu);
	if (out->busy)
		return ERR_CONFLICT;
	if (s->metrics)
		metrics_inc(s->metrics, e ? MC_SYNC_RUNS_FAILED : MC_SYNC_RUNS_OK, 1);
	return e;
}

bool sync_running(struct sync *s)
{
	bool r;

	pthread_mutex_lock(&s->mu);
	r = s->running;
	pthread_mutex_unlock(&s->mu);
	return r;
}

/* ===== the background thread ===== */

static void deadline_in(struct timespec *ts, unsigned seconds)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)seconds;
}

static bool due(const struct timespec *at)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > at->tv_sec ||
	       (now.tv_sec == at->tv_sec && now.tv_nsec >= at->tv_nsec);
}

static void *background(void *arg)
{
	struct sync *s = arg;
	struct timespec next;

	deadline_in(&next, 0); /* the first run at once */
	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		struct sync_report rep;
		enum err e;

		if (!s->trigger && !(s->interval_s && due(&next))) {
			if (s->interval_s)
				pthread_cond_timedwait(&s->cv, &s->mu, &next);
			else
				pthread_cond_wait(&s->cv, &s->mu);
			continue;
		}
		s->trigger = false;
		s->bg_running = true;
		pthread_mutex_unlock(&s->mu);
		e = sync_run(s, false, SYNC_SOURCE_ALL, &rep);
		if (rep.busy)
			log_info("sync: another sync is running; will try again later");
		else if (e)
			log_warn("sync failed after %.1f s: %s", rep.seconds, rep.error);
		else
			log_info("sync done: %llu rows in %llu pages (%.1f s)",
				 (unsigned long long)rep.rows, (unsigned long long)rep.pages,
				 rep.seconds);
		pthread_mutex_lock(&s->mu);
		s->bg_running = false;
		deadline_in(&next, s->interval_s);
		/* A trigger that came during the run starts the next one now
		 * (the loop sees s->trigger). */
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

void sync_start_background(struct sync *s, unsigned interval_s)
{
	pthread_mutex_lock(&s->mu);
	if (s->started) {
		pthread_mutex_unlock(&s->mu);
		return;
	}
	s->interval_s = interval_s;
	s->stop = false;
	atomic_store(&s->cancel, false);
	if (pthread_create(&s->thread, NULL, background, s) != 0)
		die("cannot start the sync thread");
	s->started = true;
	pthread_mutex_unlock(&s->mu);
}

enum sync_trigger_result sync_trigger(struct sync *s)
{
	enum sync_trigger_result r;

	pthread_mutex_lock(&s->mu);
	if (!s->started || s->stop) {
		r = SYNC_TRIGGER_UNAVAILABLE;
	} else {
		/* In progress: at most one run waits behind it (s->trigger is
		 * a flag, so requests coalesce). */
		r = s->running || s->bg_running ? SYNC_TRIGGER_QUEUED : SYNC_TRIGGER_STARTED;
		s->trigger = true;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

void sync_stop(struct sync *s)
{
	bool join;

	pthread_mutex_lock(&s->mu);
	join = s->started;
	s->stop = true;
	s->started = false;
	atomic_store(&s->cancel, true);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (join)
		pthread_join(s->thread, NULL);
}
