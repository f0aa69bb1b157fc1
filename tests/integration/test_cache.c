/*
 * The decision cache: warm hits, and invalidation on every kind of change
 * a decision depends on (subscription, account, contact, quote, partner
 * registry, policy), also when the change comes from outside the process
 * (another instance, a psql session) through the change feed. And that
 * a hit never waits behind a miss that waits for the database.
 */
#include "itest.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct itest_db db;
static struct itest_server a, b;
static char auth[128];

static int setup(void **state)
{
	char *tok;

	(void)state;
	itest_db_create(&db);
	itest_load_channel_fixtures(&db);
	tok = itest_token(&db, "cache-reader", "read");
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
	free(tok);
	assert_int_equal(itest_server_start(&a, db.url, NULL), 0);
	assert_int_equal(itest_server_start(&b, db.url, NULL), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(itest_server_stop(&a, SIGTERM, 10), 0);
	assert_int_equal(itest_server_stop(&b, SIGTERM, 10), 0);
	itest_db_drop(&db);
	return 0;
}

static json_t *lookup(const struct itest_server *s, const char *sub)
{
	const char *hdrs[] = {auth, NULL};
	struct itest_resp r;
	char url[256];
	json_t *j;

	snprintf(url, sizeof(url), "%s/v1/subscriptions/%s/channel", s->base, sub);
	assert_int_equal(itest_http("GET", url, hdrs, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	j = itest_json(&r);
	itest_resp_free(&r);
	return j;
}

static long metric(const struct itest_server *s, const char *name)
{
	struct itest_resp r;
	char url[256], *p;
	long v = -1;

	snprintf(url, sizeof(url), "%s/metrics", s->base);
	assert_int_equal(itest_http("GET", url, NULL, NULL, &r), 0);
	p = strstr(r.body, name);
	while (p && p > r.body && p[-1] != '\n')
		p = strstr(p + 1, name);
	if (p)
		v = strtol(p + strlen(name) + 1, NULL, 10);
	itest_resp_free(&r);
	return v;
}

/* The JSON string at a dotted path ("invoice_owner.name"). */
static const char *at(json_t *j, const char *path)
{
	char buf[128], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && j; tok = strtok_r(NULL, ".", &save))
		j = json_object_get(j, tok);
	return json_string_value(j);
}

/* Poll both instances until path equals want (the change feed is async;
 * its delay is milliseconds, the bound here is generous). */
static void expect_both(const char *sub, const char *path, const char *want)
{
	const struct itest_server *servers[] = {&a, &b};
	size_t i;

	for (i = 0; i < 2; i++) {
		double t0 = itest_now();
		bool ok = false;

		while (!ok && itest_now() - t0 < 3.0) {
			json_t *j = lookup(servers[i], sub);
			const char *v = at(j, path);

			ok = v && strcmp(v, want) == 0;
			if (!ok && itest_now() - t0 >= 3.0)
				fprintf(stderr, "%s %s: want %s, have %s\n", sub, path, want, v ? v : "null");
			json_decref(j);
			if (!ok)
				itest_sleep_ms(20);
		}
		assert_true(ok);
	}
}

static void warm(const char *sub)
{
	json_decref(lookup(&a, sub));
	json_decref(lookup(&b, sub));
	json_decref(lookup(&a, sub));
	json_decref(lookup(&b, sub));
}

static void test_warm_hits(void **state)
{
	long before, after;

	(void)state;
	warm("A-S00000003");
	before = metric(&a, "resellerd_decision_cache_hits_total");
	json_decref(lookup(&a, "A-S00000003"));
	json_decref(lookup(&a, "A-S00000003"));
	after = metric(&a, "resellerd_decision_cache_hits_total");
	assert_int_equal(after - before, 2);
}

/* One token check per request, whether the pool thread answers it (hit)
 * or hands it to a worker (miss): the token cache counts it once. */
static void test_token_checks_counted_once(void **state)
{
	long h0, m0, h1, m1;

	(void)state;
	warm("A-S00000003");
	itest_sql(&db, "UPDATE zuora_subscriptions SET status = status WHERE number = 'A-S00000005'");
	itest_sleep_ms(200);
	h0 = metric(&a, "resellerd_token_cache_hits_total");
	m0 = metric(&a, "resellerd_token_cache_misses_total");
	json_decref(lookup(&a, "A-S00000003")); /* decision cached */
	json_decref(lookup(&a, "A-S00000005")); /* decision rebuilt on a worker */
	h1 = metric(&a, "resellerd_token_cache_hits_total");
	m1 = metric(&a, "resellerd_token_cache_misses_total");
	assert_int_equal((h1 - h0) + (m1 - m0), 2);
}

static void test_account_change(void **state)
{
	(void)state;
	warm("A-S00000003");
	itest_sql(&db, "UPDATE zuora_accounts SET name = 'Renamed Reseller GmbH' WHERE number = 'A00000010'");
	expect_both("A-S00000003", "invoice_owner.name", "Renamed Reseller GmbH");
}

static void test_contact_change(void **state)
{
	(void)state;
	warm("A-S00000003");
	itest_sql(&db, "UPDATE zuora_contacts SET work_email = 'new@endcustomer.example' WHERE id = 'c0000000000000000000000000000003'");
	expect_both("A-S00000003", "subscriber.sold_to.email", "new@endcustomer.example");
}

static void test_subscription_change(void **state)
{
	(void)state;
	warm("A-S00000007");
	/* the parent company turns out to be the subscriber itself: direct */
	itest_sql(&db, "UPDATE zuora_subscriptions SET invoice_owner_id = account_id, version = version + 1 WHERE number = 'A-S00000007'");
	expect_both("A-S00000007", "channel", "web_direct");
}

static void test_quote_arrives(void **state)
{
	(void)state;
	/* web direct, created by the fulfillment user (high confidence): a
	 * sent quote arriving is a conflict Zuora wins, so the answer stays
	 * web_direct with low confidence (DOMAIN.md). */
	warm("A-S00000001");
	itest_sql(&db, "INSERT INTO sf_quotes (id, status, subscription_number, modstamp) VALUES ('a0Q000000000001', 'Sent to Z-Billing', 'A-S00000001', now())");
	expect_both("A-S00000001", "confidence", "low");
	expect_both("A-S00000001", "channel", "web_direct");
}

static void test_registry_and_policy_change(void **state)
{
	(void)state;
	warm("A-S00000005");
	itest_sql(&db, "UPDATE partners SET type = 'reseller' WHERE name = 'Managed Services BV'");
	expect_both("A-S00000005", "channel", "reseller");
	warm("A-S00000003");
	itest_sql(&db, "UPDATE policy_settings SET value = 'read_only' WHERE key = 'portal_access'");
	expect_both("A-S00000003", "policy.portal_access", "read_only");
	itest_sql(&db, "UPDATE policy_settings SET value = 'none' WHERE key = 'portal_access'");
	expect_both("A-S00000003", "policy.portal_access", "none");
}

static void test_lost_feed_flushes(void **state)
{
	(void)state;
	warm("A-S00000002");
	/* cut the listener sessions, change data while nobody listens */
	itest_sql(&db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'resellerd listener'");
	itest_sql(&db, "UPDATE zuora_accounts SET name = 'Salesco Renamed' WHERE number = 'A00000002'");
	expect_both("A-S00000002", "subscriber.name", "Salesco Renamed");
}

struct cold {
	char sub[16];
	int status;
	atomic_bool done;
};

static void *cold_run(void *arg)
{
	struct cold *c = arg;
	const char *hdrs[] = {auth, NULL};
	struct itest_resp r;
	char url[256];

	snprintf(url, sizeof(url), "%s/v1/subscriptions/%s/channel", a.base, c->sub);
	c->status = itest_http("GET", url, hdrs, NULL, &r) == 0 ? (int)r.status : -1;
	itest_resp_free(&r);
	atomic_store(&c->done, true);
	return NULL;
}

/*
 * The HTTP pool threads (RESELLERD_HTTP_THREADS, 2 by default) answer
 * hits themselves and hand what needs the database to workers. With the
 * subscriptions table locked, more cache misses than there are pool
 * threads wait in the database; a hit and /livez must still be answered
 * while every one of them is still waiting.
 */
static void test_hit_not_behind_blocked_misses(void **state)
{
	static const char *const misses[6] = {"A-S00000001", "A-S00000002", "A-S00000004",
					      "A-S00000005", "A-S00000001", "A-S00000002"};
	struct cold cold[6];
	pthread_t t[6];
	struct itest_resp r;
	PGconn *lock;
	PGresult *res;
	char url[256];
	json_t *j;
	size_t i;

	(void)state;
	warm("A-S00000003");
	/* make sure these miss: cached by earlier tests, maybe */
	itest_sql(&db, "UPDATE zuora_subscriptions SET status = status WHERE number IN ('A-S00000001', 'A-S00000002', 'A-S00000004', 'A-S00000005')");
	itest_sleep_ms(200);
	lock = PQconnectdb(db.url);
	assert_int_equal(PQstatus(lock), CONNECTION_OK);
	res = PQexec(lock, "BEGIN; LOCK TABLE zuora_subscriptions IN ACCESS EXCLUSIVE MODE");
	assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	for (i = 0; i < 6; i++) {
		snprintf(cold[i].sub, sizeof(cold[i].sub), "%s", misses[i]);
		cold[i].status = 0;
		atomic_init(&cold[i].done, false);
		pthread_create(&t[i], NULL, cold_run, &cold[i]);
	}
	itest_sleep_ms(500); /* the misses are now waiting for the lock */
	j = lookup(&a, "A-S00000003");
	assert_string_equal(at(j, "channel"), "reseller");
	json_decref(j);
	snprintf(url, sizeof(url), "%s/livez", a.base);
	assert_int_equal(itest_http("GET", url, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	itest_resp_free(&r);
	for (i = 0; i < 6; i++) {
		if (atomic_load(&cold[i].done))
			fprintf(stderr, "%s answered %d before the lock was released\n", cold[i].sub,
				cold[i].status);
		assert_false(atomic_load(&cold[i].done));
	}
	PQclear(PQexec(lock, "ROLLBACK"));
	PQfinish(lock);
	for (i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(cold[i].status, 200);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_warm_hits),
		cmocka_unit_test(test_token_checks_counted_once),
		cmocka_unit_test(test_account_change),
		cmocka_unit_test(test_contact_change),
		cmocka_unit_test(test_subscription_change),
		cmocka_unit_test(test_quote_arrives),
		cmocka_unit_test(test_registry_and_policy_change),
		cmocka_unit_test(test_lost_feed_flushes),
		cmocka_unit_test(test_hit_not_behind_blocked_misses),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
