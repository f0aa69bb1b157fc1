#include "audit.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"

#define FIELD 65

struct entry {
	char token[FIELD], subject[FIELD], request_id[FIELD];
	const char *action; /* static storage */
	double at;          /* formatted at flush time, off the request path */
};

struct audit {
	struct app *app;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct entry *ring;
	size_t cap, head, n;
	uint64_t dropped; /* total, to pop exactly what was written */
	pthread_t thread;
	bool started, stop;
	uint64_t last_purge_ns;
};

struct audit *audit_new(struct app *app, size_t capacity)
{
	struct audit *a = xcalloc(1, sizeof(*a));

	a->app = app;
	a->cap = capacity ? capacity : 1;
	a->ring = xcalloc(a->cap, sizeof(*a->ring));
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	return a;
}

void audit_record(struct audit *a, const char *token_name, const char *action,
		  const char *subject, const char *request_id)
{
	struct entry *e;

	if (!a)
		return;
	pthread_mutex_lock(&a->mu);
	if (a->n == a->cap) { /* full: drop the oldest */
		a->head = (a->head + 1) % a->cap;
		a->n--;
		a->dropped++;
		metrics_inc(a->app->metrics, MC_AUDIT_DROPPED, 1);
	}
	e = &a->ring[(a->head + a->n) % a->cap];
	strlcpy_(e->token, token_name ? token_name : "", FIELD);
	e->action = action;
	strlcpy_(e->subject, subject, FIELD);
	strlcpy_(e->request_id, request_id ? request_id : "", FIELD);
	e->at = now_unix();
	a->n++;
	if (a->n == a->cap / 4) /* busy: write now, not at the next second */
		pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

void audit_flush(struct audit *a)
{
	struct store_audit_row *rows;
	char (*at)[40];
	size_t n, i;
	uint64_t dropped;

	if (!a)
		return;
	pthread_mutex_lock(&a->mu);
	n = a->n;
	dropped = a->dropped;
	rows = xcalloc(n ? n : 1, sizeof(*rows));
	at = xcalloc(n ? n : 1, sizeof(*at));
	for (i = 0; i < n; i++) {
		struct entry *e = &a->ring[(a->head + i) % a->cap];

		rows[i].token_name = e->token;
		rows[i].action = e->action;
		rows[i].subject = e->subject;
		rows[i].request_id = e->request_id;
		/* Unix seconds with milliseconds; to_timestamp() in SQL */
		u64_thousandths(e->at > 0 ? (uint64_t)(e->at * 1000.0) : 0, at[i]);
		rows[i].at = at[i];
	}
	pthread_mutex_unlock(&a->mu);
	/* The entries stay in the ring (and may be overwritten only by new
	 * records past capacity) until written: pop them after success. */
	if (n && store_audit_write(a->app->store, rows, n) == ERR_OK) {
		pthread_mutex_lock(&a->mu);
		/* entries dropped meanwhile were the oldest, i.e. ours */
		i = n - (size_t)(a->dropped - dropped < n ? a->dropped - dropped : n);
		i = i < a->n ? i : a->n;
		a->head = (a->head + i) % a->cap;
		a->n -= i;
		pthread_mutex_unlock(&a->mu);
	}
	free(rows);
	free(at);
}

static void *worker(void *arg)
{
	struct audit *a = arg;

	pthread_mutex_lock(&a->mu);
	while (!a->stop) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		if (a->n < a->cap / 4)
			pthread_cond_timedwait(&a->cv, &a->mu, &ts);
		pthread_mutex_unlock(&a->mu);
		audit_flush(a);
		if (now_ns() - a->last_purge_ns > 3600ull * 1000000000ull) {
			store_audit_purge(a->app->store);
			a->last_purge_ns = now_ns();
		}
		pthread_mutex_lock(&a->mu);
	}
	pthread_mutex_unlock(&a->mu);
	audit_flush(a);
	return NULL;
}

void audit_start(struct audit *a)
{
	if (pthread_create(&a->thread, NULL, worker, a) != 0)
		die("cannot start the audit thread");
	a->started = true;
}

void audit_stop(struct audit *a)
{
	if (!a || !a->started)
		return;
	pthread_mutex_lock(&a->mu);
	a->stop = true;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->thread, NULL);
	a->started = false;
}

void audit_free(struct audit *a)
{
	if (!a)
		return;
	audit_stop(a);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	free(a->ring);
	free(a);
}
