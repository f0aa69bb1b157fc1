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
#include "upstream_zuora.h"
#include "util.h"

#define INBOX_BATCH 32
#define MAX_CLIENTS 65 /* read-through concurrency (<= 64) + the inbox worker */

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
	 * are never shared) and kept, with their OAuth tokens, for reuse. */
	struct zuora_client *clients[MAX_CLIENTS];
	bool busy[MAX_CLIENTS];
};

struct refresh *refresh_new(struct app *app)
{
	struct refresh *r = xcalloc(1, sizeof(*r));

	r->app = app;
	r->configured = !str_empty(app->cfg.zuora_base_url);
	atomic_init(&r->in_flight, 0);
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
	/* One bounded attempt per call: the caller is waiting. */
	o.tuning.timeout_ms = (unsigned)cfg->readthrough_timeout_ms;
	o.tuning.connect_timeout_ms = (unsigned)(cfg->readthrough_timeout_ms < 5000 ? cfg->readthrough_timeout_ms : 5000);
	o.tuning.max_attempts = 1;
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

/* Read the subscription, both accounts and their contacts; store all. */
static enum err fetch_and_store(struct refresh *r, const char *key, const char *origin)
{
	struct zuora_subscription_row sub, alias;
	struct zuora_account_row acct[2];
	struct zuora_subscription_row subs[2];
	struct zuora_contact_row contacts[4];
	struct sync_page pages[3];
	size_t nacct = 0, ncont = 0, n, i;
	struct zuora_client *z;
	char why[256] = "";
	size_t slot = 0;
	enum err e;

	memset(&sub, 0, sizeof(sub));
	memset(acct, 0, sizeof(acct));
	memset(contacts, 0, sizeof(contacts));
	z = client_take(r, &slot, why, sizeof(why));
	if (!z) {
		log_warn("read-through: %s", why);
		return ERR_UNAVAILABLE;
	}
	e = zuora_get_subscription(z, key, &sub);
	if (e)
		goto out;
	for (i = 0; i < 2 && !e; i++) {
		const char *id = i == 0 ? sub.account_id : sub.invoice_owner_id;

		if (i == 1 && str_eq(sub.invoice_owner_id, sub.account_id))
			break;
		e = zuora_get_account(z, id, &acct[nacct], contacts + ncont, &n);
		if (e == ERR_NOT_FOUND) {
			e = ERR_OK; /* the decision reports the missing account */
			continue;
		}
		if (!e) {
			nacct++;
			ncont += n;
		}
	}
	if (e)
		goto out;
	sub.is_latest = true;
	subs[0] = sub;
	/* Asked by an older version's id: Zuora answered with the latest
	 * version; remember the old id too, as a non-latest row. */
	alias = sub;
	alias.id = (char *)(uintptr_t)key;
	alias.is_latest = false;
	subs[1] = alias;
	pages[0] = (struct sync_page){SYNC_ZUORA_ACCOUNT, acct, nacct, NULL};
	pages[1] = (struct sync_page){SYNC_ZUORA_CONTACT, contacts, ncont, NULL};
	pages[2] = (struct sync_page){SYNC_ZUORA_SUBSCRIPTION, subs,
				      strlen(key) == 32 && !str_eq(key, sub.id) ? 2 : 1, NULL};
	e = store_upsert_records(r->app->store, pages, 3, origin);
out:
	if (e && e != ERR_NOT_FOUND)
		log_warn("read-through of %s failed: %s", key, zuora_last_error(z));
	client_give(r, slot);
	zuora_subscription_row_release(&sub);
	for (i = 0; i < nacct; i++)
		zuora_account_row_release(&acct[i]);
	for (i = 0; i < ncont; i++)
		zuora_contact_row_release(&contacts[i]);
	return e;
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
	e = fetch_and_store(r, key, origin);
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
		const char *key = items[i].subscription;
		enum err e = ERR_OK;

		if (key[0] && r->configured)
			e = fetch_and_store(r, key, "webhook");
		/* A notification for an account alone: the next sync carries
		 * it; there is no single-record path for every subscription
		 * of an account. Unknown subscriptions are done too. */
		store_inbox_done(r->app->store, items[i].notification_id,
				 e && e != ERR_NOT_FOUND ? "zuora read failed" : NULL);
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
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
}
