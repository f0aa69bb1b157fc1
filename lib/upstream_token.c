/*
 * The shared OAuth token cache (see upstream_token.h): a mutex, a
 * condition variable for the threads waiting on a fetch, and a generation
 * number per token so that a late 401 cannot throw away its successor.
 */
#include "upstream_token.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

struct upstream_token {
	pthread_mutex_t mu;
	pthread_cond_t cv;      /* a fetch ended */
	char *token, *extra;    /* NULL: none (never fetched, or invalidated) */
	uint64_t gen;           /* of token; bumped by every successful fetch */
	uint64_t refresh_ns;    /* now_ns() after which to fetch anew; 0: never */
	bool fetching;          /* one thread is fetching, without the lock */
	uint64_t fetches_done;  /* fetches ended, either way */
	uint64_t fetches_ok;
	enum err last_err;      /* of the last fetch that ended */
	char last_why[256];
};

struct upstream_token *upstream_token_new(void)
{
	struct upstream_token *t = xcalloc(1, sizeof(*t));
	pthread_condattr_t ca;

	pthread_mutex_init(&t->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cv, &ca);
	pthread_condattr_destroy(&ca);
	return t;
}

void upstream_token_free(struct upstream_token *t)
{
	if (!t)
		return;
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
	free(t->token);
	free(t->extra);
	free(t);
}

void upstream_token_value_release(struct upstream_token_value *v)
{
	free(v->token);
	free(v->extra);
	memset(v, 0, sizeof(*v));
}

/* Under t->mu. */
static bool usable(const struct upstream_token *t)
{
	return t->token && (t->refresh_ns == 0 || now_ns() < t->refresh_ns);
}

/* Under t->mu. */
static void copy_out(const struct upstream_token *t, struct upstream_token_value *out)
{
	out->token = xstrdup(t->token);
	out->extra = t->extra ? xstrdup(t->extra) : NULL;
	out->gen = t->gen;
}

/* Wait on t->cv until deadline_ns (0: no deadline); false at the deadline. */
static bool wait_until(struct upstream_token *t, uint64_t deadline_ns)
{
	struct timespec ts;
	uint64_t now, left;

	if (!deadline_ns) {
		pthread_cond_wait(&t->cv, &t->mu);
		return true;
	}
	now = now_ns();
	if (now >= deadline_ns)
		return false;
	left = deadline_ns - now;
	/* now_ns() is CLOCK_MONOTONIC, as is t->cv. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(left / 1000000000u);
	ts.tv_nsec += (long)(left % 1000000000u);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&t->cv, &t->mu, &ts);
	return true;
}

enum err upstream_token_get(struct upstream_token *t, uint64_t deadline_ns,
			    upstream_token_fetch_fn fetch, void *cls,
			    struct upstream_token_value *out, char *why, size_t whylen)
{
	char *tok = NULL, *extra = NULL;
	uint64_t refresh_in = 0;
	char fwhy[256];
	enum err e;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&t->mu);
	for (;;) {
		uint64_t seen;

		if (usable(t)) {
			copy_out(t, out);
			pthread_mutex_unlock(&t->mu);
			return ERR_OK;
		}
		if (!t->fetching)
			break;
		/* Another thread is fetching: wait for its answer. */
		seen = t->fetches_done;
		while (t->fetching && t->fetches_done == seen) {
			if (!wait_until(t, deadline_ns)) {
				pthread_mutex_unlock(&t->mu);
				snprintf(why, whylen, "token: timed out waiting for another "
					 "thread's token request");
				return ERR_TIMEOUT;
			}
		}
		/* Its error is ours too (one token request when Zuora refuses
		 * the credentials or is down), except a timeout: that may be
		 * the fetching thread's own bound (a read-through's), shorter
		 * than ours; then the loop lets us fetch ourselves. */
		if (t->fetches_done != seen && t->last_err && t->last_err != ERR_TIMEOUT) {
			e = t->last_err;
			snprintf(why, whylen, "%s", t->last_why);
			pthread_mutex_unlock(&t->mu);
			return e;
		}
	}
	t->fetching = true;
	pthread_mutex_unlock(&t->mu);

	fwhy[0] = '\0';
	e = fetch(cls, &tok, &extra, &refresh_in, fwhy, sizeof(fwhy));

	pthread_mutex_lock(&t->mu);
	t->fetching = false;
	t->fetches_done++;
	t->last_err = e;
	snprintf(t->last_why, sizeof(t->last_why), "%s", fwhy);
	if (!e) {
		free(t->token);
		free(t->extra);
		t->token = tok;
		t->extra = extra;
		tok = extra = NULL;
		t->gen++;
		t->fetches_ok++;
		t->refresh_ns = refresh_in ? now_ns() + refresh_in : 0;
		copy_out(t, out);
	} else {
		snprintf(why, whylen, "%s", fwhy);
	}
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
	free(tok);
	free(extra);
	return e;
}

void upstream_token_invalidate(struct upstream_token *t, uint64_t gen)
{
	pthread_mutex_lock(&t->mu);
	if (t->token && t->gen == gen) {
		free(t->token);
		free(t->extra);
		t->token = NULL;
		t->extra = NULL;
	}
	pthread_mutex_unlock(&t->mu);
}

uint64_t upstream_token_fetches(struct upstream_token *t)
{
	uint64_t n;

	pthread_mutex_lock(&t->mu);
	n = t->fetches_ok;
	pthread_mutex_unlock(&t->mu);
	return n;
}
