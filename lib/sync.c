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

	atomic_bool cancel;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool running;     /* a run is in progress */
	bool trigger;     /* the background thread should run now */
	bool stop;
	bool started;
	unsigned interval_s;
	pthread_t thread;
};

/* One object's run: the page callback's state. */
struct object_run {
	struct sync *s;
	struct store_sync_session *ss;
	struct sync_report *report;
	struct sync_object_report *rep;
	uint64_t run_start_ns;
	bool any, ordered;
	int64_t max_ms;
};

static void default_tuning(struct sync_tuning *t)
{
	memset(t, 0, sizeof(*t));
	t->overlap_s = 300;
	t->zuora_batch = 2000;
	t->salesforce_batch = 2000;
}

struct sync *sync_new(const struct config *cfg, struct store *store, struct metrics *m)
{
	struct sync *s = xcalloc(1, sizeof(*s));
	pthread_condattr_t ca;

	s->cfg = cfg;
	s->store = store;
	s->metrics = m;
	default_tuning(&s->tuning);
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
	free(s);
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

/* ===== one object ===== */

static enum err on_page(void *cls, const struct upstream_page *p)
{
	struct object_run *r = cls;
	struct sync_page sp;
	char wm[40];
	uint64_t t0;
	enum err e;

	if (atomic_load(&r->s->cancel))
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
	r->report->rows += p->n;
	r->report->pages++;
	r->report->rejected += p->skipped;
	if (r->s->metrics)
		metrics_inc(r->s->metrics, p->obj >= SYNC_SF_QUOTE ? MC_SYNC_ROWS_SALESFORCE :
				    MC_SYNC_ROWS_ZUORA, p->n);
	if (r->s->on_change && p->n > 0)
		r->s->on_change(r->s->on_change_cls, NULL);
	if (r->s->progress) {
		struct sync_progress pr = {
			r->rep->source, r->rep->object, r->rep->rows, r->rep->pages,
			r->report->rows, r->report->pages, seconds_since(r->run_start_ns),
		};

		r->s->progress(r->s->progress_cls, &pr);
	}
	return ERR_OK;
}

/* The clients of one run (either may be NULL). */
struct clients {
	struct zuora_client *z;
	struct sf_client *sf;
};

static enum err run_object(struct sync *s, struct store_sync_session *ss,
			   const struct clients *cl, enum sync_object obj, bool full,
			   struct sync_report *report, uint64_t run_start)
{
	struct sync_object_report *rep = &report->objects[obj];
	struct object_run r;
	uint64_t t0 = now_ns();
	bool has_wm = false;
	int64_t wm = 0, since;
	char final_wm[40];
	enum err e;

	e = store_sync_begin(ss, obj, &has_wm, &wm);
	if (e) {
		snprintf(rep->error, sizeof(rep->error), "database: %s", err_slug(e));
		goto out;
	}
	since = wm - (int64_t)s->tuning.overlap_s * 1000;
	memset(&r, 0, sizeof(r));
	r.s = s;
	r.ss = ss;
	r.report = report;
	r.rep = rep;
	r.run_start_ns = run_start;
	r.ordered = true;
	if (obj <= SYNC_ZUORA_SUBSCRIPTION)
		e = zuora_query(cl->z, obj, full || !has_wm ? NULL : &since, on_page, &r);
	else
		e = sf_query(cl->sf, obj, full || !has_wm ? NULL : &since, on_page, &r);
	if (e && !rep->error[0])
		snprintf(rep->error, sizeof(rep->error), "%s",
			 atomic_load(&s->cancel) ? "cancelled" :
			 obj <= SYNC_ZUORA_SUBSCRIPTION ? zuora_last_error(cl->z) :
			 sf_last_error(cl->sf));
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

/* ===== clients from the configuration ===== */

static bool set(const char *s)
{
	return s && *s;
}

static enum err make_clients(struct sync *s, int *mask, struct clients *cl,
			     struct sync_report *out)
{
	const struct config *c = s->cfg;
	bool only_one = *mask != SYNC_SOURCE_ALL;
	char why[256];

	memset(cl, 0, sizeof(*cl));
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
		cl->z = zuora_new(&zo, why, sizeof(why));
		if (!cl->z) {
			snprintf(out->error, sizeof(out->error), "%s", why);
			return ERR_INVALID;
		}
	}
	if (*mask & SYNC_SOURCE_SALESFORCE) {
		struct sf_options so;

		memset(&so, 0, sizeof(so));
		so.login_url = c->salesforce_login_url;
		so.client_id = c->salesforce_client_id;
		so.client_secret = c->salesforce_client_secret;
		so.api_version = c->salesforce_api_version;
		so.fields.subscription = c->salesforce_subscription_field;
		so.fields.resale_partner = c->salesforce_resale_partner_field;
		so.fields.distributor = c->salesforce_distributor_field;
		so.ca_file = c->ca_file;
		so.batch_size = s->tuning.salesforce_batch;
		so.tuning = s->tuning.upstream;
		so.metrics = s->metrics;
		so.cancel = &s->cancel;
		cl->sf = sf_new(&so, why, sizeof(why));
		if (!cl->sf) {
			snprintf(out->error, sizeof(out->error), "%s", why);
			return ERR_INVALID;
		}
	}
	return ERR_OK;
}

/* ===== a run ===== */

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
	struct store_sync_session *ss = NULL;
	struct clients cl;
	enum err first = ERR_OK, e;
	int i, asked = mask;

	e = make_clients(s, &mask, &cl, out);
	if (e)
		goto out;
	for (i = 0; i < SYNC_OBJECT__COUNT; i++) {
		int src = i <= SYNC_ZUORA_SUBSCRIPTION ? SYNC_SOURCE_ZUORA : SYNC_SOURCE_SALESFORCE;

		if ((asked & src) && !(mask & src)) {
			out->objects[i].state = SYNC_SKIPPED;
			snprintf(out->objects[i].error, sizeof(out->objects[i].error),
				 "%s is not set", src == SYNC_SOURCE_ZUORA ? "ZUORA_BASE_URL" :
				 "SALESFORCE_LOGIN_URL");
		}
	}
	e = store_sync_open(s->store, &ss);
	if (e == ERR_CONFLICT) {
		out->busy = true;
		snprintf(out->error, sizeof(out->error), "another sync is running");
		goto out;
	}
	if (e) {
		snprintf(out->error, sizeof(out->error), "database unavailable");
		goto out;
	}
	for (i = 0; i < SYNC_OBJECT__COUNT; i++) {
		enum sync_object obj = (enum sync_object)i;
		int src = obj <= SYNC_ZUORA_SUBSCRIPTION ? SYNC_SOURCE_ZUORA : SYNC_SOURCE_SALESFORCE;

		if (!(mask & src) || atomic_load(&s->cancel))
			continue;
		e = run_object(s, ss, &cl, obj, full, out, t0);
		if (e && !first) {
			first = e;
			snprintf(out->error, sizeof(out->error), "%s.%s: %s",
				 out->objects[i].source, out->objects[i].object,
				 out->objects[i].error);
		}
		/* Refused credentials fail every object of the source alike. */
		if (e == ERR_UNAUTHORIZED || e == ERR_INVALID)
			mask &= ~src;
	}
	e = first;
	if (!e && atomic_load(&s->cancel)) {
		e = ERR_UNAVAILABLE;
		snprintf(out->error, sizeof(out->error), "cancelled");
	}
out:
	store_sync_close(ss);
	zuora_free(cl.z);
	sf_free(cl.sf);
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
		deadline_in(&next, s->interval_s);
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

bool sync_trigger(struct sync *s)
{
	bool ok;

	pthread_mutex_lock(&s->mu);
	ok = s->started && !s->stop && !s->running;
	if (ok) {
		s->trigger = true;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return ok;
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
