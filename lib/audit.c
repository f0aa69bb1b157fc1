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

/* A bounded FIFO: n entries from e[head], wrapping at cap. */
struct ring {
	struct entry *e;
	size_t head, n;
};

/*
 * Two rings of the same size. Requests append to `cur` under `mu`; a
 * flush swaps `cur` with the empty `out` under `mu` (a few pointer
 * moves) and writes `out` with no lock held. The request path therefore
 * never waits for more than another request's append: formatting and
 * writing 8k rows under the one mutex that every lookup takes stalled
 * every lookup whenever the flusher was descheduled while holding it
 * (with 32 connection threads on two cores, a time slice of several ms:
 * the warm benchmark's p99). A batch whose write fails stays in `out`
 * and is retried first, so rows keep their order; meanwhile `cur` fills,
 * and past its capacity its oldest entries are dropped and counted.
 */
struct audit {
	struct app *app;
	pthread_mutex_t mu; /* cur, stop */
	pthread_cond_t cv;
	struct ring cur;
	pthread_mutex_t flush_mu; /* out: one flusher at a time */
	struct ring out;
	size_t cap; /* of each ring */
	pthread_t thread;
	bool started, stop;
	bool idle; /* the flusher waits for a first row (under mu) */
	uint64_t last_purge_ns;
};

struct audit *audit_new(struct app *app, size_t capacity)
{
	struct audit *a = xcalloc(1, sizeof(*a));

	a->app = app;
	/* capacity is the total: half in each ring */
	a->cap = capacity > 2 ? capacity / 2 : 1;
	a->cur.e = xcalloc(a->cap, sizeof(struct entry));
	a->out.e = xcalloc(a->cap, sizeof(struct entry));
	pthread_mutex_init(&a->mu, NULL);
	pthread_mutex_init(&a->flush_mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	return a;
}

/*
 * Write every 20 ms. Fewer, larger batches cost PostgreSQL the same per
 * row (~4 us) but arrive as bursts: half a ring, 16k rows, kept its
 * backend busy for ~70 ms every 0.4 s at 40k lookups/s, and on two cores
 * the HTTP threads waited behind it. Measured alternately (tests/bench,
 * warm, 32 connections): open-loop p99.9 7.5-8.7 ms against 13.5-19.3 ms
 * and max 11-14 ms against 23-40 ms, throughput unchanged. With nothing
 * to write the flusher sleeps until the first row arrives (audit_record
 * signals it only then) or a minute passes, so an idle service does not
 * wake 50 times a second.
 */
#define FLUSH_EVERY_NS (20 * 1000 * 1000)

/* Worth writing now rather than at the next tick: half a ring. */
static bool busy(const struct audit *a)
{
	return a->cur.n >= (a->cap + 1) / 2;
}

void audit_record(struct audit *a, const char *token_name, const char *action,
		  const char *subject, const char *request_id)
{
	struct ring *r;
	struct entry *e;

	if (!a)
		return;
	pthread_mutex_lock(&a->mu);
	r = &a->cur;
	if (r->n == a->cap) { /* full: drop the oldest */
		r->head = (r->head + 1) % a->cap;
		r->n--;
		metrics_inc(a->app->metrics, MC_AUDIT_DROPPED, 1);
	}
	e = &r->e[(r->head + r->n) % a->cap];
	strlcpy_(e->token, token_name ? token_name : "", FIELD);
	e->action = action;
	strlcpy_(e->subject, subject, FIELD);
	strlcpy_(e->request_id, request_id ? request_id : "", FIELD);
	e->at = now_unix();
	r->n++;
	if (r->n == (a->cap + 1) / 2 || a->idle)
		pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

/* Write a->out; true when it is empty afterwards. Caller holds flush_mu. */
static bool write_out(struct audit *a)
{
	struct ring *r = &a->out;
	struct store_audit_row *rows;
	char (*at)[40];
	size_t i;
	bool ok;

	if (r->n == 0)
		return true;
	rows = xcalloc(r->n, sizeof(*rows));
	at = xcalloc(r->n, sizeof(*at));
	for (i = 0; i < r->n; i++) {
		const struct entry *e = &r->e[(r->head + i) % a->cap];

		rows[i].token_name = e->token;
		rows[i].action = e->action;
		rows[i].subject = e->subject;
		rows[i].request_id = e->request_id;
		/* Unix seconds with milliseconds; to_timestamp() in SQL */
		u64_thousandths(e->at > 0 ? (uint64_t)(e->at * 1000.0) : 0, at[i]);
		rows[i].at = at[i];
	}
	ok = store_audit_write(a->app->store, rows, r->n) == ERR_OK;
	if (ok)
		r->head = r->n = 0;
	free(rows);
	free(at);
	return ok;
}

/* Write what is queued; false when a write failed (the rows are kept). */
static bool flush(struct audit *a)
{
	bool ok;

	pthread_mutex_lock(&a->flush_mu);
	/* A batch that failed before goes first; then what is queued now. */
	ok = write_out(a);
	if (ok) {
		struct ring t;

		pthread_mutex_lock(&a->mu);
		t = a->out;
		a->out = a->cur;
		a->cur = t;
		pthread_mutex_unlock(&a->mu);
		ok = write_out(a);
	}
	pthread_mutex_unlock(&a->flush_mu);
	return ok;
}

void audit_flush(struct audit *a)
{
	if (a)
		flush(a);
}

/* Old rows are purged at start and then hourly. */
static bool purge_due(const struct audit *a)
{
	return now_ns() - a->last_purge_ns > 3600ull * 1000000000ull;
}

static void *worker(void *arg)
{
	struct audit *a = arg;
	bool ok = true;

	pthread_mutex_lock(&a->mu);
	while (!a->stop) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		if (ok && a->cur.n == 0 && !purge_due(a)) {
			/* nothing to write: sleep until a row (or a minute) */
			ts.tv_sec += 60;
			a->idle = true;
			pthread_cond_timedwait(&a->cv, &a->mu, &ts);
			a->idle = false;
			if (a->stop)
				break;
			clock_gettime(CLOCK_REALTIME, &ts);
		}
		/* after a failed write, once a second even when busy */
		if (!ok) {
			ts.tv_sec += 1;
		} else {
			ts.tv_nsec += FLUSH_EVERY_NS;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
		}
		if (!ok || !busy(a))
			pthread_cond_timedwait(&a->cv, &a->mu, &ts);
		pthread_mutex_unlock(&a->mu);
		ok = flush(a);
		if (purge_due(a)) {
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
	pthread_mutex_destroy(&a->flush_mu);
	pthread_cond_destroy(&a->cv);
	free(a->cur.e);
	free(a->out.e);
	free(a);
}
