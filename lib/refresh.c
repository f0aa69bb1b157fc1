#include "refresh.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store_sync.h"
#include "sync.h"
#include "upstream_zuora.h"
#include "util.h"

#define INBOX_BATCH 32
#define MAX_CLIENTS 65 /* read-through concurrency (<= 64) + the inbox worker */
#define READ_ATTEMPTS 3 /* per Zuora request, the first included */

struct refresh {
	struct app *app;
	bool configured;
	atomic_int in_flight;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool kicked, stop;
	/* Zuora clients, each used by one thread at a time (libcurl handles
	 * are never shared) and kept for reuse (connections stay open). */
	struct zuora_client *clients[MAX_CLIENTS];
	bool busy[MAX_CLIENTS];
	/* The one Zuora token of the process: the syncer's when there is
	 * one (service.c frees refresh first), else ours. */
	struct upstream_token *tokens;
	bool own_tokens;
};

struct refresh *refresh_new(struct app *app)
{
	struct refresh *r = xcalloc(1, sizeof(*r));

	r->app = app;
	r->configured = !str_empty(app->cfg.zuora_base_url);
	atomic_init(&r->in_flight, 0);
	if (app->sync) {
		r->tokens = sync_zuora_tokens(app->sync);
	} else {
		r->tokens = upstream_token_new();
		r->own_tokens = true;
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	return r;
}

static struct zuora_client *client_take(struct refresh *r, size_t *slot, char *why, size_t whylen)
{
	struct zuora_options o;
	const struct config *cfg = &r->app->cfg;
	size_t i;

	pthread_mutex_lock(&r->mu);
	for (i = 0; i < MAX_CLIENTS && r->busy[i]; i++)
		;
	if (i < MAX_CLIENTS)
		r->busy[i] = true;
	pthread_mutex_unlock(&r->mu);
	if (i == MAX_CLIENTS) {
		snprintf(why, whylen, "no free Zuora client");
		return NULL;
	}
	*slot = i;
	if (r->clients[i])
		return r->clients[i];
	memset(&o, 0, sizeof(o));
	o.base_url = cfg->zuora_base_url;
	o.client_id = cfg->zuora_client_id;
	o.client_secret = cfg->zuora_client_secret;
	o.ssp_field = cfg->zuora_sspchannel_field;
	o.ca_file = cfg->ca_file;
	o.metrics = r->app->metrics;
	o.tokens = r->tokens;
	/* Up to three attempts per call (a 429, a 5xx, a retryable Zuora
	 * category), but a read-through as a whole stays within
	 * RESELLERD_READTHROUGH_TIMEOUT_MS (zuora_set_deadline): a wait
	 * that does not fit answers at once. */
	o.tuning.timeout_ms = (unsigned)cfg->readthrough_timeout_ms;
	o.tuning.connect_timeout_ms = (unsigned)(cfg->readthrough_timeout_ms < 5000 ? cfg->readthrough_timeout_ms : 5000);
	o.tuning.max_attempts = READ_ATTEMPTS;
	r->clients[i] = zuora_new(&o, why, whylen);
	if (!r->clients[i]) {
		pthread_mutex_lock(&r->mu);
		r->busy[i] = false;
		pthread_mutex_unlock(&r->mu);
	}
	return r->clients[i];
}

static void client_give(struct refresh *r, size_t slot)
{
	pthread_mutex_lock(&r->mu);
	r->busy[slot] = false;
	pthread_mutex_unlock(&r->mu);
}

/*
 * What one refresh read from Zuora: the subscription (when one was named),
 * the accounts (its subscriber and invoice owner, and an account named on
 * its own) and their contacts. Owned strings; fetched_release frees them.
 */
struct fetched {
	struct zuora_subscription_row sub;
	bool have_sub;
	struct zuora_account_row acct[3];
	struct zuora_contact_row contacts[6];
	size_t nacct, ncont;
};

static void fetched_release(struct fetched *f)
{
	size_t i;

	zuora_subscription_row_release(&f->sub);
	for (i = 0; i < f->nacct; i++)
		zuora_account_row_release(&f->acct[i]);
	for (i = 0; i < f->ncont; i++)
		zuora_contact_row_release(&f->contacts[i]);
	memset(f, 0, sizeof(*f));
}

/* Read one account (id or number) and its contacts into f, unless f holds
 * it already. ERR_NOT_FOUND: Zuora does not know it (f unchanged). */
static enum err fetch_account(struct zuora_client *z, const char *key, struct fetched *f)
{
	size_t i, n = 0;
	enum err e;

	for (i = 0; i < f->nacct; i++)
		if (str_eq(f->acct[i].id, key) || str_eq(f->acct[i].number, key))
			return ERR_OK;
	if (f->nacct == ARRAY_SIZE(f->acct))
		return ERR_INTERNAL;
	e = zuora_get_account(z, key, &f->acct[f->nacct], f->contacts + f->ncont, &n);
	if (e)
		return e;
	f->nacct++;
	f->ncont += n;
	return ERR_OK;
}

/* Read a subscription and both its accounts (with contacts) into f. */
static enum err fetch_subscription(struct zuora_client *z, const char *key, struct fetched *f)
{
	const char *ids[2];
	enum err e;
	size_t i;

	e = zuora_get_subscription(z, key, &f->sub);
	if (e)
		return e;
	f->have_sub = true;
	ids[0] = f->sub.account_id;
	ids[1] = f->sub.invoice_owner_id;
	for (i = 0; i < 2; i++) {
		e = fetch_account(z, ids[i], f);
		if (e && e != ERR_NOT_FOUND) /* a missing account: the decision says so */
			return e;
	}
	return ERR_OK;
}

/* Upsert everything f holds in one transaction. sub_key: the key the
 * subscription was asked by (NULL when none was). */
static enum err store_fetched(struct refresh *r, struct fetched *f, const char *sub_key,
			      const char *origin)
{
	struct zuora_subscription_row subs[2];
	struct sync_page pages[3];
	size_t nsubs = 0;

	if (f->have_sub) {
		f->sub.is_latest = true;
		subs[nsubs++] = f->sub;
		/* Asked by an older version's id: Zuora answered with the
		 * latest version; remember the old id too, as a non-latest
		 * row. */
		if (strlen(sub_key) == 32 && !str_eq(sub_key, f->sub.id)) {
			subs[nsubs] = f->sub;
			subs[nsubs].id = (char *)(uintptr_t)sub_key;
			subs[nsubs++].is_latest = false;
		}
	}
	pages[0] = (struct sync_page){SYNC_ZUORA_ACCOUNT, f->acct, f->nacct, NULL};
	pages[1] = (struct sync_page){SYNC_ZUORA_CONTACT, f->contacts, f->ncont, NULL};
	pages[2] = (struct sync_page){SYNC_ZUORA_SUBSCRIPTION, subs, nsubs, NULL};
	return store_upsert_records(r->app->store, pages, 3, origin);
}

/*
 * Read what a lookup or a notification names from Zuora and store it: the
 * subscription sub_key (with both its accounts) and/or the account
 * acct_key (id or number, with its contacts), either may be NULL. The
 * upsert fires the change feed, so every cached decision built from these
 * records goes stale. ERR_NOT_FOUND: Zuora knows none of them. The Zuora
 * reads end by deadline_ns (now_ns() clock; 0: only per attempt bounds).
 */
static enum err fetch_and_store(struct refresh *r, const char *sub_key, const char *acct_key,
				const char *origin, uint64_t deadline_ns)
{
	struct zuora_client *z;
	struct fetched f;
	char why[256] = "";
	size_t slot = 0;
	enum err e = ERR_OK;

	memset(&f, 0, sizeof(f));
	z = client_take(r, &slot, why, sizeof(why));
	if (!z) {
		log_warn("read-through: %s", why);
		return ERR_UNAVAILABLE;
	}
	zuora_set_deadline(z, deadline_ns);
	if (sub_key)
		e = fetch_subscription(z, sub_key, &f);
	if (!e && acct_key) {
		e = fetch_account(z, acct_key, &f);
		if (e == ERR_NOT_FOUND && f.have_sub)
			e = ERR_OK; /* the subscription is still worth storing */
	}
	if (!e)
		e = store_fetched(r, &f, sub_key, origin);
	if (e && e != ERR_NOT_FOUND)
		log_warn("read of %s%s%s from Zuora failed: %s", sub_key ? sub_key : "",
			 sub_key && acct_key ? " and " : "", acct_key ? acct_key : "",
			 zuora_last_error(z));
	client_give(r, slot);
	fetched_release(&f);
	return e;
}

/* A read's bound as a whole: RESELLERD_READTHROUGH_TIMEOUT_MS from now
 * (a webhook refresh too: a long Retry-After must not hold the inbox
 * worker or its shutdown; the inbox retries later). */
static uint64_t read_deadline(const struct refresh *r)
{
	return now_ns() + (uint64_t)r->app->cfg.readthrough_timeout_ms * 1000000u;
}

enum err refresh_read_through(struct refresh *r, const char *key, const char *origin)
{
	enum err e;

	if (!r || !r->configured || r->app->cfg.readthrough_concurrency == 0)
		return ERR_NOT_FOUND;
	if (atomic_fetch_add(&r->in_flight, 1) >= r->app->cfg.readthrough_concurrency) {
		atomic_fetch_sub(&r->in_flight, 1);
		return ERR_UNAVAILABLE;
	}
	e = fetch_and_store(r, key, NULL, origin, read_deadline(r));
	atomic_fetch_sub(&r->in_flight, 1);
	metrics_inc(r->app->metrics, e == ERR_OK ? MC_READTHROUGH_OK : MC_READTHROUGH_FAILED, 1);
	if (e && e != ERR_NOT_FOUND)
		e = ERR_UNAVAILABLE;
	return e;
}

/* ===== the inbox worker ===== */

static void drain_inbox(struct refresh *r)
{
	struct inbox_item items[INBOX_BATCH];
	size_t n = 0, i;

	if (store_inbox_pending(r->app->store, items, INBOX_BATCH, &n))
		return;
	for (i = 0; i < n; i++) {
		const char *sub = items[i].subscription, *acct = items[i].account_id;
		enum err e = ERR_OK;

		if (r->configured && (sub[0] || acct[0]))
			e = fetch_and_store(r, sub[0] ? sub : NULL, acct[0] ? acct : NULL, "webhook",
					    read_deadline(r));
		/* Done unless Zuora failed: a record Zuora does not know, or
		 * a key it cannot be asked about, is done too. */
		store_inbox_done(r->app->store, items[i].notification_id,
				 e && e != ERR_NOT_FOUND && e != ERR_INVALID ? "zuora read failed" : NULL);
	}
}

static void *worker(void *arg)
{
	struct refresh *r = arg;

	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		struct timespec ts;

		pthread_mutex_unlock(&r->mu);
		drain_inbox(r);
		pthread_mutex_lock(&r->mu);
		if (r->kicked) {
			r->kicked = false;
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 30; /* retry failed notifications now and then */
		while (!r->kicked && !r->stop && pthread_cond_timedwait(&r->cv, &r->mu, &ts) == 0)
			;
		r->kicked = false;
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

void refresh_start(struct refresh *r)
{
	if (pthread_create(&r->thread, NULL, worker, r) != 0)
		die("cannot start the webhook worker");
	r->started = true;
}

void refresh_kick(struct refresh *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->kicked = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

void refresh_stop(struct refresh *r)
{
	if (!r || !r->started)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	r->started = false;
}

void refresh_free(struct refresh *r)
{
	if (!r)
		return;
	refresh_stop(r);
	for (size_t i = 0; i < MAX_CLIENTS; i++)
		zuora_free(r->clients[i]);
	if (r->own_tokens)
		upstream_token_free(r->tokens);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
}
