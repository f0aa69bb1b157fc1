/*
 * upstream_token: one token per source per process. Many threads asking
 * at once cause one fetch; a 401 on a token already replaced causes none;
 * a token due for refresh is fetched again; a failed fetch is every
 * waiter's answer; a waiter's deadline bounds its wait.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "upstream_token.h"
#include "util.h"

#define NTHREADS 8

struct fake {
	atomic_int calls;
	unsigned delay_ms;
	enum err result;
	enum err first_result; /* the first call's answer, when result is OK */
	uint64_t refresh_in_ns;
};

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static enum err fake_fetch(void *cls, char **token, char **extra, uint64_t *refresh_in_ns,
			   char *why, size_t whylen)
{
	struct fake *f = cls;
	int n = atomic_fetch_add(&f->calls, 1) + 1;
	char buf[32];

	sleep_ms(f->delay_ms);
	if (f->result || (n == 1 && f->first_result)) {
		snprintf(why, whylen, "token: refused %d", n);
		return f->result ? f->result : f->first_result;
	}
	snprintf(buf, sizeof(buf), "tok-%d", n);
	*token = xstrdup(buf);
	*extra = xstrdup("https://instance.example");
	*refresh_in_ns = f->refresh_in_ns;
	return ERR_OK;
}

struct caller {
	struct upstream_token *t;
	struct fake *f;
	uint64_t deadline_ns;
	uint64_t invalidate_gen; /* 0: none */
	enum err e;
	struct upstream_token_value v;
	char why[256];
};

static void *call(void *arg)
{
	struct caller *c = arg;

	if (c->invalidate_gen)
		upstream_token_invalidate(c->t, c->invalidate_gen);
	c->e = upstream_token_get(c->t, c->deadline_ns, fake_fetch, c->f, &c->v, c->why,
				  sizeof(c->why));
	return NULL;
}

/* NTHREADS callers at once; returns how many fetches happened. */
static int race(struct upstream_token *t, struct fake *f, uint64_t invalidate_gen,
		struct caller cs[NTHREADS])
{
	pthread_t th[NTHREADS];
	int before = atomic_load(&f->calls), i;

	for (i = 0; i < NTHREADS; i++) {
		memset(&cs[i], 0, sizeof(cs[i]));
		cs[i].t = t;
		cs[i].f = f;
		cs[i].invalidate_gen = invalidate_gen;
		assert_int_equal(pthread_create(&th[i], NULL, call, &cs[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	return atomic_load(&f->calls) - before;
}

static void release_all(struct caller cs[NTHREADS])
{
	for (int i = 0; i < NTHREADS; i++)
		upstream_token_value_release(&cs[i].v);
}

static void test_one_fetch_for_many_threads(void **state)
{
	struct upstream_token *t = upstream_token_new();
	struct fake f = {.delay_ms = 50};
	struct caller cs[NTHREADS];
	uint64_t gen;
	int i;

	(void)state;
	assert_int_equal(race(t, &f, 0, cs), 1);
	gen = cs[0].v.gen;
	for (i = 0; i < NTHREADS; i++) {
		assert_int_equal(cs[i].e, ERR_OK);
		assert_string_equal(cs[i].v.token, "tok-1");
		assert_string_equal(cs[i].v.extra, "https://instance.example");
		assert_true(cs[i].v.gen == gen);
	}
	release_all(cs);
	/* Reused: no more fetches. */
	assert_int_equal(race(t, &f, 0, cs), 0);
	release_all(cs);
	/* Every thread saw a 401 on the same token: one new token. */
	assert_int_equal(race(t, &f, gen, cs), 1);
	for (i = 0; i < NTHREADS; i++)
		assert_string_equal(cs[i].v.token, "tok-2");
	release_all(cs);
	/* A late 401 on the replaced token: nothing is fetched. */
	assert_int_equal(race(t, &f, gen, cs), 0);
	assert_string_equal(cs[0].v.token, "tok-2");
	release_all(cs);
	assert_true(upstream_token_fetches(t) == 2);
	upstream_token_free(t);
}

static void test_refreshed_before_expiry(void **state)
{
	struct upstream_token *t = upstream_token_new();
	struct fake f = {.refresh_in_ns = 30 * 1000000u};
	struct upstream_token_value v;
	char why[256];

	(void)state;
	assert_int_equal(upstream_token_get(t, 0, fake_fetch, &f, &v, why, sizeof(why)), ERR_OK);
	assert_string_equal(v.token, "tok-1");
	upstream_token_value_release(&v);
	assert_int_equal(upstream_token_get(t, 0, fake_fetch, &f, &v, why, sizeof(why)), ERR_OK);
	assert_string_equal(v.token, "tok-1");
	upstream_token_value_release(&v);
	sleep_ms(40);
	assert_int_equal(upstream_token_get(t, 0, fake_fetch, &f, &v, why, sizeof(why)), ERR_OK);
	assert_string_equal(v.token, "tok-2");
	upstream_token_value_release(&v);
	upstream_token_free(t);
}

static void test_failed_fetch_is_every_waiters_answer(void **state)
{
	struct upstream_token *t = upstream_token_new();
	struct fake f = {.delay_ms = 50, .result = ERR_UNAUTHORIZED};
	struct caller cs[NTHREADS];
	int i, fetches;

	(void)state;
	fetches = race(t, &f, 0, cs);
	/* Threads that arrived while the fetch ran share its answer; one
	 * that came after it ended may try once more itself. */
	assert_true(fetches >= 1 && fetches < NTHREADS);
	for (i = 0; i < NTHREADS; i++) {
		assert_int_equal(cs[i].e, ERR_UNAUTHORIZED);
		assert_null(cs[i].v.token);
		assert_non_null(strstr(cs[i].why, "token: refused"));
	}
	/* Then it works again. */
	f.result = ERR_OK;
	f.delay_ms = 0;
	assert_int_equal(race(t, &f, 0, cs), 1);
	release_all(cs);
	upstream_token_free(t);
}

/* A fetch that timed out (perhaps on a read-through's short bound) is
 * not the answer of threads that may wait longer: one of them fetches. */
static void test_timeout_is_not_shared(void **state)
{
	struct upstream_token *t = upstream_token_new();
	struct fake f = {.delay_ms = 50, .first_result = ERR_TIMEOUT};
	struct caller cs[NTHREADS];
	int i, timeouts = 0;

	(void)state;
	assert_int_equal(race(t, &f, 0, cs), 2);
	for (i = 0; i < NTHREADS; i++) {
		if (cs[i].e == ERR_TIMEOUT) {
			timeouts++;
			continue;
		}
		assert_int_equal(cs[i].e, ERR_OK);
		assert_string_equal(cs[i].v.token, "tok-2");
	}
	assert_int_equal(timeouts, 1);
	release_all(cs);
	upstream_token_free(t);
}

static void test_waiter_deadline(void **state)
{
	struct upstream_token *t = upstream_token_new();
	struct fake f = {.delay_ms = 300};
	struct caller slow, hurried;
	pthread_t th;
	uint64_t t0;

	(void)state;
	memset(&slow, 0, sizeof(slow));
	slow.t = t;
	slow.f = &f;
	assert_int_equal(pthread_create(&th, NULL, call, &slow), 0);
	sleep_ms(50); /* the slow fetch is under way */
	memset(&hurried, 0, sizeof(hurried));
	hurried.t = t;
	hurried.f = &f;
	t0 = now_ns();
	hurried.deadline_ns = t0 + 50 * 1000000u;
	call(&hurried);
	assert_int_equal(hurried.e, ERR_TIMEOUT);
	assert_true(now_ns() - t0 < 200 * 1000000u);
	pthread_join(th, NULL);
	assert_int_equal(slow.e, ERR_OK);
	assert_int_equal(atomic_load(&f.calls), 1);
	upstream_token_value_release(&slow.v);
	upstream_token_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_fetch_for_many_threads),
		cmocka_unit_test(test_refreshed_before_expiry),
		cmocka_unit_test(test_failed_fetch_is_every_waiters_answer),
		cmocka_unit_test(test_timeout_is_not_shared),
		cmocka_unit_test(test_waiter_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
