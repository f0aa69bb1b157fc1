/*
 * Zuora callouts (POST /v1/webhooks/zuora) against the simulator:
 *  - replay: one Zuora-Notification-Id delivered three times (a new
 *    Zuora-Request-Id and another proof each time) is one inbox row and
 *    one refresh, and every delivery gets 200 {"success":true};
 *  - reordering: two owner transfers whose notifications arrive late and
 *    in the wrong order; stored row and channel answer follow Zuora's
 *    current data, and the decision cache never serves an older one;
 *  - eight concurrent deliveries of one id: one row, all 200;
 *  - bad proofs: 401 problem+json with a Basic challenge, nothing kept;
 *  - bad bodies and headers: 400 problem+json, nothing kept;
 *  - account notifications (AccountId, AccountNumber): the account and
 *    its contacts are re-read and the decisions that use them change;
 *  - Zuora down: failed reads are retried with a backoff, not at every
 *    new notification.
 * A refresh is counted as a GET of the record on the simulator.
 */
#include "itest.h"

#include <curl/curl.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECRET "wh-s3cret"
#define WAIT_S 10.0

static struct itest_db db;
static struct itest_sim sim;
static struct itest_server srv;
static char auth[128];

static int setup(void **state)
{
	char zurl[128], *tok;
	const char *env[] = {zurl, "ZUORA_CLIENT_ID=zuora-client", "ZUORA_CLIENT_SECRET=zuora-secret",
			     "RESELLERD_WEBHOOK_SECRET=" SECRET, "RESELLERD_READTHROUGH_TIMEOUT_MS=3000",
			     NULL};
	const char *sim_args[] = {"--data", SOURCE_DIR "/tests/simulator/demo.json", NULL};

	(void)state;
	itest_db_create(&db);
	itest_sim_start(&sim, sim_args);
	itest_partners_import(&db, SOURCE_DIR "/tests/simulator/demo-partners.csv");
	tok = itest_token(&db, "webhook-reader", "read");
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
	free(tok);
	snprintf(zurl, sizeof(zurl), "ZUORA_BASE_URL=%s", sim.base);
	assert_int_equal(itest_server_start(&srv, db.url, env), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(itest_server_stop(&srv, SIGTERM, 15), 0);
	itest_sim_stop(&sim);
	itest_db_drop(&db);
	return 0;
}

/* ===== helpers ===== */

/* "X-Zuora-Signature: sha256=<hex HMAC-SHA256 of body>" into header. */
static void sign(const char *body, char *header, size_t n)
{
	unsigned char md[32];
	unsigned int len = 0;
	char hex[65];
	size_t i;

	HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)body, strlen(body),
	     md, &len);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	snprintf(header, n, "X-Zuora-Signature: sha256=%s", hex);
}

/* POST body as Zuora would (nid and proof are whole header lines, either
 * may be NULL); the response in r. */
static void deliver(const char *nid, const char *proof, const char *body, struct itest_resp *r)
{
	static unsigned request_seq;
	char url[256], nid_h[300], rid_h[80];
	const char *hdrs[] = {"Content-Type: application/json", rid_h, proof ? proof : "X-No-Proof: 1",
			      nid ? nid_h : NULL, NULL};

	/* Zuora-Request-Id is new on every attempt, retries included */
	snprintf(rid_h, sizeof(rid_h), "Zuora-Request-Id: %08x-4a1b-4c2d-8e3f-%012u",
		 (unsigned)getpid(), __atomic_add_fetch(&request_seq, 1, __ATOMIC_SEQ_CST));
	snprintf(nid_h, sizeof(nid_h), "Zuora-Notification-Id: %s", nid ? nid : "");
	snprintf(url, sizeof(url), "%s/v1/webhooks/zuora", srv.base);
	assert_int_equal(itest_http("POST", url, hdrs, body, r), 0);
}

/* A signed delivery that must be accepted: 200 {"success":true}. */
static void deliver_ok(const char *nid, const char *body)
{
	struct itest_resp r;
	char sig[128];
	char *ct;
	json_t *j;

	sign(body, sig, sizeof(sig));
	deliver(nid, sig, body, &r);
	if (r.status != 200)
		fprintf(stderr, "webhook %s: %ld %s\n", nid, r.status, r.body);
	assert_int_equal(r.status, 200);
	ct = itest_header(&r, "Content-Type");
	assert_non_null(ct);
	assert_non_null(strstr(ct, "application/json"));
	free(ct);
	j = itest_json(&r);
	assert_true(json_is_true(json_object_get(j, "success")));
	json_decref(j);
	itest_resp_free(&r);
}

/* A refused delivery: status want with a problem+json body saying so. */
static void expect_problem(const struct itest_resp *r, long want, const char *what)
{
	char *ct = itest_header(r, "Content-Type");
	json_t *j;

	if (r->status != want)
		fprintf(stderr, "%s: want %ld, got %ld %s\n", what, want, r->status, r->body);
	assert_int_equal(r->status, want);
	assert_non_null(ct);
	assert_non_null(strstr(ct, "application/problem+json"));
	free(ct);
	j = itest_json(r);
	assert_int_equal(json_integer_value(json_object_get(j, "status")), want);
	assert_non_null(json_string_value(json_object_get(j, "request_id")));
	json_decref(j);
}

/* How many inbox rows match the SQL condition where. */
static long inbox_count(const char *where)
{
	char sql[512], *v;
	long n;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM webhook_inbox WHERE %s", where);
	v = itest_sql_value(&db, sql);
	n = v ? strtol(v, NULL, 10) : -1;
	free(v);
	return n;
}

/* Wait until notification nid is processed (bounded). */
static void wait_processed(const char *nid)
{
	char where[256];
	double t0 = itest_now();

	snprintf(where, sizeof(where), "notification_id = '%s' AND processed_at IS NOT NULL", nid);
	while (inbox_count(where) != 1) {
		if (itest_now() - t0 > WAIT_S) {
			fprintf(stderr, "notification %s not processed within %.0f s\n", nid, WAIT_S);
			fail();
		}
		itest_sleep_ms(20);
	}
}

/* How often the simulator served path (GET of one record) since the last
 * /_sim/reset. */
static long sim_hits(const char *path)
{
	struct itest_resp r;
	char url[256];
	json_t *j;
	long n;

	snprintf(url, sizeof(url), "%s/_sim/stats", sim.base);
	assert_int_equal(itest_http("GET", url, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	j = itest_json(&r);
	n = (long)json_integer_value(json_object_get(json_object_get(j, "paths"), path));
	json_decref(j);
	itest_resp_free(&r);
	return n;
}

/* GET /v1/subscriptions/{sub}/channel: 200 and its JSON. */
static json_t *channel(const char *sub)
{
	const char *hdrs[] = {auth, NULL};
	struct itest_resp r;
	char url[256];
	json_t *j;

	snprintf(url, sizeof(url), "%s/v1/subscriptions/%s/channel", srv.base, sub);
	assert_int_equal(itest_http("GET", url, hdrs, NULL, &r), 0);
	if (r.status != 200)
		fprintf(stderr, "%s: %ld %s\n", sub, r.status, r.body);
	assert_int_equal(r.status, 200);
	j = itest_json(&r);
	itest_resp_free(&r);
	return j;
}

/* The string at a dotted path of the decision ("channel",
 * "invoice_owner.sold_to.email") into out; "" when absent. */
static const char *field(json_t *d, const char *path, char *out, size_t n)
{
	const char *v;

	while (strchr(path, '.')) {
		char key[64];
		size_t len = (size_t)(strchr(path, '.') - path);

		snprintf(key, sizeof(key), "%.*s", (int)len, path);
		d = json_object_get(d, key);
		path += len + 1;
	}
	v = json_string_value(json_object_get(d, path));
	snprintf(out, n, "%s", v ? v : "");
	return out;
}

/* The channel answer's value at path, now. */
static void answer(const char *sub, const char *path, char *out, size_t n)
{
	json_t *d = channel(sub);

	field(d, path, out, n);
	json_decref(d);
}

/* Poll until the answer at path is want (the change feed that drops
 * cached decisions is asynchronous), then check it stays so. */
static void expect_answer(const char *sub, const char *path, const char *want)
{
	double t0 = itest_now();
	char have[128];
	int i;

	for (answer(sub, path, have, sizeof(have)); strcmp(have, want) != 0;
	     answer(sub, path, have, sizeof(have))) {
		if (itest_now() - t0 > WAIT_S) {
			fprintf(stderr, "%s %s: want %s, still %s after %.0f s\n", sub, path, want,
				have, WAIT_S);
			fail();
		}
		itest_sleep_ms(20);
	}
	for (i = 0; i < 3; i++) {
		answer(sub, path, have, sizeof(have));
		assert_string_equal(have, want);
	}
}

static long metric(const char *name)
{
	struct itest_resp r;
	char url[256];
	const char *p;
	long v = -1;

	snprintf(url, sizeof(url), "%s/metrics", srv.base);
	assert_int_equal(itest_http("GET", url, NULL, NULL, &r), 0);
	for (p = strstr(r.body, name); p && p > r.body && p[-1] != '\n'; p = strstr(p + 1, name))
		;
	if (p)
		v = strtol(p + strlen(name) + 1, NULL, 10);
	itest_resp_free(&r);
	return v;
}

/* Look sub up until the answer comes from the decision cache, so that a
 * later change is a test of its invalidation (a read-through's own change
 * notice may retire the first entry). */
static void warm(const char *sub)
{
	double t0 = itest_now();
	long before;

	json_decref(channel(sub));
	do {
		assert_true(itest_now() - t0 < WAIT_S);
		before = metric("resellerd_decision_cache_hits_total");
		json_decref(channel(sub));
	} while (metric("resellerd_decision_cache_hits_total") == before);
}

/* Change one simulator row (upsert merges by Id). */
static void sim_set(const char *table, const char *id, const char *fields)
{
	char body[512];

	snprintf(body, sizeof(body), "{\"zuora\":{\"%s\":[{\"Id\":\"%s\",%s}]}}", table, id, fields);
	itest_sim_post(&sim, "/_sim/data", body);
}

/* The first value sql returns is want. */
static void expect_sql(const char *sql, const char *want)
{
	char *v = itest_sql_value(&db, sql);

	if (!v || strcmp(v, want) != 0)
		fprintf(stderr, "%s: want %s, have %s\n", sql, want, v ? v : "NULL");
	assert_non_null(v);
	assert_string_equal(v, want);
	free(v);
}

/* Deliver a hint naming sub; once it is processed, the stored invoice
 * owner and the channel answer are Zuora's current ones. */
static void hint_then_expect(const char *nid, const char *sub, const char *owner_number,
			     const char *channel_now)
{
	char body[128], sql[256];

	snprintf(body, sizeof(body), "{\"SubscriptionNumber\":\"%s\"}", sub);
	deliver_ok(nid, body);
	wait_processed(nid);
	snprintf(sql, sizeof(sql),
		 "SELECT a.number FROM zuora_subscriptions s JOIN zuora_accounts a"
		 " ON a.id = s.invoice_owner_id WHERE s.number = '%s'", sub);
	expect_sql(sql, owner_number);
	expect_answer(sub, "channel", channel_now);
	expect_answer(sub, "invoice_owner.number", owner_number);
}

/* ===== replay ===== */

static void test_replay_is_one_effect(void **state)
{
	const char *body = "{\"SubscriptionNumber\":\"A-S00000003\"}";
	char sig[128];
	struct itest_resp r;
	json_t *j;
	int i;

	(void)state;
	warm("A-S00000003"); /* read through once: the record is stored */
	itest_sim_post(&sim, "/_sim/reset", "{}");
	sign(body, sig, sizeof(sig));
	/* Zuora's retries: same notification id, new request id, and (for
	 * the test) each of the three ways to prove the secret */
	for (i = 0; i < 3; i++) {
		static const char *const proofs[] = {
			NULL, "X-Webhook-Secret: " SECRET,
			"Authorization: Basic enVvcmE6d2gtczNjcmV0", /* zuora:wh-s3cret */
		};

		deliver("replay-1", proofs[i] ? proofs[i] : sig, body, &r);
		assert_int_equal(r.status, 200);
		j = itest_json(&r);
		assert_true(json_is_true(json_object_get(j, "success")));
		json_decref(j);
		itest_resp_free(&r);
		assert_int_equal(inbox_count("notification_id = 'replay-1'"), 1);
	}
	wait_processed("replay-1");
	/* A later notification is processed after any work the replays could
	 * have queued: the count below is final. */
	deliver_ok("replay-sentinel", "{\"SubscriptionNumber\":\"A-S00000002\"}");
	wait_processed("replay-sentinel");
	assert_int_equal(sim_hits("/v1/subscriptions/A-S00000003"), 1);
	expect_sql("SELECT attempts FROM webhook_inbox WHERE notification_id = 'replay-1'", "1");
	expect_sql("SELECT origin FROM zuora_subscriptions WHERE number = 'A-S00000003'", "webhook");
	/* a replay long after processing is still a no-op */
	deliver_ok("replay-1", body);
	assert_int_equal(inbox_count("notification_id = 'replay-1' AND attempts = 1"), 1);
}

/* ===== reordering ===== */

static void test_out_of_order_follows_current_data(void **state)
{
	const char *sub = "A-S00000001", *sub_id = "8a8aa0b0000000000000000000000001";

	(void)state;
	/* web direct: the customer pays its own invoices */
	warm(sub);
	expect_answer(sub, "channel", "web_direct");
	/* two owner transfers in Zuora: A00000001 -> the reseller A00000009
	 * (event 1) -> the AWS marketplace A00000012 (event 2) */
	sim_set("subscriptions", sub_id, "\"InvoiceOwnerId\":\"8a8aa0a0000000000000000000000009\"");
	sim_set("subscriptions", sub_id, "\"InvoiceOwnerId\":\"8a8aa0a000000000000000000000000c\"");
	/* until a hint arrives, the cached decision stands */
	expect_answer(sub, "channel", "web_direct");
	/* event 2 arrives first: the current owner */
	hint_then_expect("order-2", sub, "A00000012", "marketplace");
	/* event 1 arrives late, under its own id: the record is read again,
	 * and Zuora still says marketplace, never the reseller in between */
	hint_then_expect("order-1", sub, "A00000012", "marketplace");
	/* another change, then a late hint of an old event: the answer is
	 * what Zuora has now (a cancelled direct subscription) */
	warm(sub);
	sim_set("subscriptions", sub_id,
		"\"InvoiceOwnerId\":\"8a8aa0a0000000000000000000000001\",\"Status\":\"Cancelled\"");
	hint_then_expect("order-1-late-copy", sub, "A00000001", "web_direct");
	expect_answer(sub, "subscription_details.status", "Cancelled");
}

/* ===== concurrent duplicates ===== */

#define RACERS 8

struct racer {
	pthread_barrier_t *go;
	const char *body;
	const char *sig;
	long status;
	char text[256];
};

static void *race(void *arg)
{
	struct racer *x = arg;
	struct itest_resp r;

	pthread_barrier_wait(x->go);
	deliver("race-1", x->sig, x->body, &r);
	x->status = r.status;
	snprintf(x->text, sizeof(x->text), "%s", r.body);
	itest_resp_free(&r);
	return NULL;
}

static void test_concurrent_duplicates(void **state)
{
	const char *body = "{\"SubscriptionNumber\":\"A-S00000004\"}";
	struct racer racers[RACERS];
	pthread_t threads[RACERS];
	pthread_barrier_t go;
	char sig[128];
	int i;

	(void)state;
	warm("A-S00000004");
	itest_sim_post(&sim, "/_sim/reset", "{}");
	sign(body, sig, sizeof(sig));
	pthread_barrier_init(&go, NULL, RACERS);
	for (i = 0; i < RACERS; i++) {
		racers[i] = (struct racer){&go, body, sig, 0, ""};
		assert_int_equal(pthread_create(&threads[i], NULL, race, &racers[i]), 0);
	}
	for (i = 0; i < RACERS; i++)
		pthread_join(threads[i], NULL);
	pthread_barrier_destroy(&go);
	for (i = 0; i < RACERS; i++) {
		if (racers[i].status != 200)
			fprintf(stderr, "racer %d: %ld %s\n", i, racers[i].status, racers[i].text);
		assert_int_equal(racers[i].status, 200);
		assert_non_null(strstr(racers[i].text, "\"success\":true"));
	}
	assert_int_equal(inbox_count("notification_id = 'race-1'"), 1);
	wait_processed("race-1");
	deliver_ok("race-sentinel", "{\"SubscriptionNumber\":\"A-S00000002\"}");
	wait_processed("race-sentinel");
	assert_int_equal(sim_hits("/v1/subscriptions/A-S00000004"), 1);
}

/* ===== refused deliveries ===== */

static void test_bad_proof_is_401_and_not_recorded(void **state)
{
	const char *body = "{\"SubscriptionNumber\":\"A-S00000005\"}";
	char sig_other[128], proofs[6][160];
	struct itest_resp r;
	char *challenge;
	size_t i;

	(void)state;
	sign("{\"SubscriptionNumber\":\"A-S00000006\"}", sig_other, sizeof(sig_other));
	snprintf(proofs[0], sizeof(proofs[0]), "X-Zuora-Signature: sha256=%064d", 0);
	snprintf(proofs[1], sizeof(proofs[1]), "%s", sig_other); /* another body's HMAC */
	snprintf(proofs[2], sizeof(proofs[2]), "X-Webhook-Secret: wrong");
	snprintf(proofs[3], sizeof(proofs[3]), "Authorization: Basic enVvcmE6d3Jvbmc="); /* zuora:wrong */
	snprintf(proofs[4], sizeof(proofs[4]), "X-Webhook-Secret: %s", SECRET "x");
	snprintf(proofs[5], sizeof(proofs[5]), "X-No-Proof: 1");
	for (i = 0; i < 6; i++) {
		deliver("unsigned-1", proofs[i], body, &r);
		expect_problem(&r, 401, proofs[i]);
		/* Zuora's Basic auth sends credentials only when asked to */
		challenge = itest_header(&r, "WWW-Authenticate");
		assert_non_null(challenge);
		assert_true(strncmp(challenge, "Basic ", 6) == 0);
		free(challenge);
		itest_resp_free(&r);
	}
	assert_int_equal(inbox_count("notification_id = 'unsigned-1'"), 0);
	/* nothing was kept: the first genuine delivery is new, not a repeat */
	deliver_ok("unsigned-1", body);
	assert_int_equal(inbox_count("notification_id = 'unsigned-1'"), 1);
	wait_processed("unsigned-1");
}

static void test_bad_body_is_400_and_not_recorded(void **state)
{
	static const char *const bodies[] = {
		"", "not json", "{\"SubscriptionNumber\":", "[]", "\"A-S00000001\"", "{}",
		"{\"Foo\":\"A-S00000001\"}", "{\"SubscriptionNumber\":\"\"}",
		"{\"SubscriptionNumber\":42}", "{\"SubscriptionNumber\":\"bogus\"}",
		"{\"SubscriptionNumber\":\"A-S0000000000000000000000000000000000000000000000000000000000000000001\"}",
		"{\"AccountId\":\"../../v1/x\"}", "{\"AccountNumber\":\"A 1\"}",
		"{\"AccountId\":\"8a8aa0a000000000000000000000000d8a8aa0a000000000000000000000000d8\"}",
	};
	struct itest_resp r;
	char sig[128], what[200];
	long before = inbox_count("true");
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		sign(bodies[i], sig, sizeof(sig));
		deliver("bad-body-1", sig, bodies[i], &r);
		snprintf(what, sizeof(what), "body %.150s", bodies[i]);
		expect_problem(&r, 400, what);
		itest_resp_free(&r);
	}
	/* a good body without its notification id, or with a bad one */
	sign("{\"SubscriptionNumber\":\"A-S00000001\"}", sig, sizeof(sig));
	deliver(NULL, sig, "{\"SubscriptionNumber\":\"A-S00000001\"}", &r);
	expect_problem(&r, 400, "no Zuora-Notification-Id");
	itest_resp_free(&r);
	deliver("has space", sig, "{\"SubscriptionNumber\":\"A-S00000001\"}", &r);
	expect_problem(&r, 400, "Zuora-Notification-Id with a space");
	itest_resp_free(&r);
	assert_int_equal(inbox_count("true"), before);
}

/* ===== account notifications ===== */

static void test_account_notification_refreshes_account(void **state)
{
	/* A-S00000007: the parent company (A00000013, not a partner, not in
	 * the registry) pays for its subsidiary: undetermined */
	const char *sub = "A-S00000007", *owner_id = "8a8aa0a000000000000000000000000d";
	char body[128];

	(void)state;
	warm(sub);
	expect_answer(sub, "channel", "undetermined");
	itest_sim_post(&sim, "/_sim/reset", "{}");
	/* Zuora: the invoice owner becomes a partner account, with a new
	 * sold-to e-mail; an AccountId notification names it */
	sim_set("accounts", owner_id, "\"PartnerAccount\":true");
	sim_set("contacts", "8a8aa0c000000000000000000000000d",
		"\"WorkEmail\":\"billing@parent-now-partner.example\"");
	snprintf(body, sizeof(body), "{\"AccountId\":\"%s\"}", owner_id);
	deliver_ok("account-1", body);
	wait_processed("account-1");
	expect_answer(sub, "channel", "reseller");
	expect_answer(sub, "invoice_owner.sold_to.email", "billing@parent-now-partner.example");
	/* the account was read; the subscription was not */
	assert_int_equal(sim_hits("/v1/accounts/8a8aa0a000000000000000000000000d"), 1);
	assert_int_equal(sim_hits("/v1/subscriptions/A-S00000007"), 0);
	/* and back, named by its number this time */
	warm(sub);
	sim_set("accounts", owner_id, "\"PartnerAccount\":false");
	deliver_ok("account-2", "{\"AccountNumber\":\"A00000013\"}");
	wait_processed("account-2");
	expect_answer(sub, "channel", "undetermined");
	/* an account Zuora does not know: done, not retried */
	deliver_ok("account-3", "{\"AccountNumber\":\"A09999999\"}");
	wait_processed("account-3");
	assert_int_equal(inbox_count("notification_id = 'account-3' AND last_error IS NULL"), 1);
}

/* ===== Zuora down ===== */

/* Wait until notification nid has had n attempts (bounded). */
static void wait_attempts(const char *nid, int n)
{
	char where[256];
	double t0 = itest_now();

	snprintf(where, sizeof(where), "notification_id = '%s' AND attempts >= %d", nid, n);
	while (inbox_count(where) != 1) {
		assert_true(itest_now() - t0 < WAIT_S);
		itest_sleep_ms(20);
	}
}

static void test_zuora_down_backs_off(void **state)
{
	static const char *const nids[] = {"outage-1", "outage-2", "outage-3"};
	size_t i;

	(void)state;
	itest_sim_post(&sim, "/_sim/fault",
		       "{\"path_prefix\":\"/v1/subscriptions\",\"kind\":\"status\",\"status\":503,\"count\":-1}");
	/* each delivery is recorded and answered, each read fails once; a
	 * newer notification does not spend an older one's attempts */
	for (i = 0; i < 3; i++) {
		deliver_ok(nids[i], "{\"SubscriptionNumber\":\"A-S00000008\"}");
		wait_attempts(nids[i], 1);
	}
	assert_int_equal(inbox_count("notification_id LIKE 'outage-%' AND attempts = 1"
				     " AND processed_at IS NULL AND last_error IS NOT NULL"), 3);
	/* Zuora is back and the first one's backoff has passed: retried */
	itest_sim_post(&sim, "/_sim/reset", "{}");
	itest_sql(&db, "UPDATE webhook_inbox SET received_at = received_at - interval '31 seconds'"
		       " WHERE notification_id = 'outage-1'");
	deliver_ok("outage-kick", "{\"SubscriptionNumber\":\"A-S00000006\"}");
	wait_processed("outage-kick");
	wait_processed("outage-1");
	assert_int_equal(inbox_count("notification_id = 'outage-1' AND attempts = 2"), 1);
	assert_int_equal(inbox_count("notification_id IN ('outage-2', 'outage-3') AND attempts = 1"
				     " AND processed_at IS NULL"), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_is_one_effect),
		cmocka_unit_test(test_out_of_order_follows_current_data),
		cmocka_unit_test(test_concurrent_duplicates),
		cmocka_unit_test(test_bad_proof_is_401_and_not_recorded),
		cmocka_unit_test(test_bad_body_is_400_and_not_recorded),
		cmocka_unit_test(test_account_notification_refreshes_account),
		cmocka_unit_test(test_zuora_down_backs_off),
	};

	/* before any thread: libcurl's global init is not thread-safe */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, setup, teardown);
}
