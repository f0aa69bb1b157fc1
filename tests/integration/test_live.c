/*
 * resellerd with the upstream simulator: read-through on a cache miss,
 * Zuora unreachable, webhooks (auth, dedupe, refresh), POST /v1/sync and
 * GET /v1/sync/status, and every demo channel after a real sync.
 */
#include "itest.h"

#include <openssl/hmac.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct itest_db db;
static struct itest_sim sim;
static struct itest_server srv;
static char auth_read[128], auth_admin[128];

static int setup(void **state)
{
	char zurl[128], surl[128], *tok;
	const char *env[] = {zurl, surl, "ZUORA_CLIENT_ID=zuora-client", "ZUORA_CLIENT_SECRET=zuora-secret",
			     "SALESFORCE_CLIENT_ID=sf-client", "SALESFORCE_CLIENT_SECRET=sf-secret",
			     "RESELLERD_WEBHOOK_SECRET=s3cret", "RESELLERD_READTHROUGH_TIMEOUT_MS=1500", NULL};
	const char *sim_args[] = {"--data", SOURCE_DIR "/tests/simulator/demo.json", NULL};

	(void)state;
	itest_db_create(&db);
	itest_sim_start(&sim, sim_args);
	itest_partners_import(&db, SOURCE_DIR "/tests/simulator/demo-partners.csv");
	tok = itest_token(&db, "live-reader", "read");
	snprintf(auth_read, sizeof(auth_read), "Authorization: Bearer %s", tok);
	free(tok);
	tok = itest_token(&db, "live-admin", "admin");
	snprintf(auth_admin, sizeof(auth_admin), "Authorization: Bearer %s", tok);
	free(tok);
	snprintf(zurl, sizeof(zurl), "ZUORA_BASE_URL=%s", sim.base);
	snprintf(surl, sizeof(surl), "SALESFORCE_LOGIN_URL=%s", sim.base);
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

static json_t *get_channel(const char *sub, long want)
{
	const char *hdrs[] = {auth_read, NULL};
	struct itest_resp r;
	char url[256];
	json_t *j = NULL;

	snprintf(url, sizeof(url), "%s/v1/subscriptions/%s/channel", srv.base, sub);
	assert_int_equal(itest_http("GET", url, hdrs, NULL, &r), 0);
	if (r.status != want)
		fprintf(stderr, "%s: want %ld got %ld %s\n", sub, want, r.status, r.body);
	assert_int_equal(r.status, want);
	if (r.len)
		j = itest_json(&r);
	itest_resp_free(&r);
	return j;
}

static void test_read_through(void **state)
{
	json_t *d;
	double t0;

	(void)state;
	/* empty cache: read through from Zuora, stored, classified */
	d = get_channel("A-S00000003", 200);
	assert_string_equal(json_string_value(json_object_get(d, "channel")), "reseller");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(d, "freshness"), "zuora"), "origin")), "live");
	/* Zuora's GET answer has no updatedDate: none is invented */
	assert_true(json_is_null(json_object_get(json_object_get(json_object_get(d, "freshness"), "zuora"), "updated_at")));
	json_decref(d);
	/* by an older version's id, too */
	d = get_channel("8a8aa0b00000000000000000000000f2", 200);
	assert_string_equal(json_string_value(json_object_get(d, "subscription")), "A-S00000002");
	json_decref(d);
	/* Zuora does not know it: 404, fast */
	t0 = itest_now();
	json_decref(get_channel("A-S09999999", 404));
	assert_true(itest_now() - t0 < 2.0);
	/* Zuora answers HTTP 404 (any body), or a 4xx with reason 50000040
	 * in either failure shape: not found, not a 503 */
	itest_sim_post(&sim, "/_sim/fault", "{\"path_prefix\":\"/v1/subscriptions/A-S00000004\",\"kind\":\"status\",\"status\":404}");
	json_decref(get_channel("A-S00000004", 404));
	itest_sim_post(&sim, "/_sim/fault", "{\"path_prefix\":\"/v1/subscriptions/A-S00000004\",\"kind\":\"zuora_success_false\",\"status\":400,\"code\":50000040}");
	json_decref(get_channel("A-S00000004", 404));
	itest_sim_post(&sim, "/_sim/fault", "{\"path_prefix\":\"/v1/subscriptions/A-S00000004\",\"kind\":\"zuora_success_false\",\"shape\":\"gu\",\"code\":50000040}");
	json_decref(get_channel("A-S00000004", 404));
	itest_sim_post(&sim, "/_sim/reset", "{}");
	/* Zuora stalls: a bounded 503, never a hang */
	itest_sim_post(&sim, "/_sim/fault", "{\"path_prefix\":\"/v1/subscriptions\",\"kind\":\"stall\",\"seconds\":10,\"count\":5}");
	t0 = itest_now();
	json_decref(get_channel("A-S00000004", 503));
	assert_true(itest_now() - t0 < 4.0);
	itest_sim_post(&sim, "/_sim/reset", "{}");
	/* cached answers keep answering while Zuora is down */
	itest_sim_post(&sim, "/_sim/fault", "{\"path_prefix\":\"/v1\",\"kind\":\"status\",\"status\":503,\"count\":-1}");
	d = get_channel("A-S00000003", 200);
	json_decref(d);
	itest_sim_post(&sim, "/_sim/reset", "{}");
}

/* The channel of sub read through Zuora (origin "live"). */
static void assert_live(const char *sub)
{
	json_t *d = get_channel(sub, 200);

	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
		d, "freshness"), "zuora"), "origin")), "live");
	json_decref(d);
}

/*
 * A read-through retries a transient Zuora answer (up to 3 attempts)
 * within RESELLERD_READTHROUGH_TIMEOUT_MS (1.5 s here): a 429 whose
 * Retry-After fits, a retryable success:false category; a persistent 503
 * is a 503 within the bound; a Retry-After that does not fit fails at
 * once.
 */
static void test_read_through_retries(void **state)
{
	double t0;

	(void)state;
	itest_sim_post(&sim, "/_sim/reset", "{}");
	itest_sim_post(&sim, "/_sim/fault", "{\"path_prefix\":\"/v1/subscriptions/A-S00000005\","
		       "\"kind\":\"retry_after\",\"retry_after\":1}");
	t0 = itest_now();
	assert_live("A-S00000005");
	assert_true(itest_now() - t0 >= 0.9); /* Retry-After honoured */
	assert_int_equal(itest_sim_stat(&sim, "statuses.429"), 1);

	itest_sim_post(&sim, "/_sim/reset", "{}");
	itest_sim_post(&sim, "/_sim/fault", "{\"path_prefix\":\"/v1/subscriptions/A-S00000006\","
		       "\"kind\":\"zuora_success_false\",\"code\":50000061}");
	assert_live("A-S00000006");
	assert_int_equal(itest_sim_stat(&sim, "routes.GET /v1/subscriptions/*"), 2);

	itest_sim_post(&sim, "/_sim/reset", "{}");
	itest_sim_post(&sim, "/_sim/fault", "{\"path_prefix\":\"/v1/subscriptions/A-S00000008\","
		       "\"kind\":\"status\",\"status\":503,\"count\":-1}");
	t0 = itest_now();
	json_decref(get_channel("A-S00000008", 503));
	assert_true(itest_now() - t0 < 2.5);
	assert_int_equal(itest_sim_stat(&sim, "routes.GET /v1/subscriptions/*"), 3);

	/* Retry-After: 5 does not fit in 1.5 s: 503 at once, one request. */
	itest_sim_post(&sim, "/_sim/reset", "{}");
	itest_sim_post(&sim, "/_sim/fault", "{\"path_prefix\":\"/v1/subscriptions/A-S00000001\","
		       "\"kind\":\"retry_after\",\"retry_after\":5}");
	t0 = itest_now();
	json_decref(get_channel("A-S00000001", 503));
	assert_true(itest_now() - t0 < 1.0);
	assert_int_equal(itest_sim_stat(&sim, "routes.GET /v1/subscriptions/*"), 1);
	itest_sim_post(&sim, "/_sim/reset", "{}");
}

static long post_webhook(const char *nid, const char *body, const char *sig_header)
{
	const char *hdrs[] = {"Content-Type: application/json", nid, sig_header, NULL};
	struct itest_resp r;
	char url[256];
	long status;

	snprintf(url, sizeof(url), "%s/v1/webhooks/zuora", srv.base);
	assert_int_equal(itest_http("POST", url, hdrs, body, &r), 0);
	status = r.status;
	if (status == 200)
		assert_non_null(strstr(r.body, "\"success\":true"));
	itest_resp_free(&r);
	return status;
}

static void sign(const char *body, char *header, size_t n)
{
	unsigned char md[32];
	unsigned int len = 0;
	char hex[65];
	size_t i;

	HMAC(EVP_sha256(), "s3cret", 6, (const unsigned char *)body, strlen(body), md, &len);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	snprintf(header, n, "X-Zuora-Signature: sha256=%s", hex);
}

static void test_webhook(void **state)
{
	const char *body = "{\"SubscriptionNumber\":\"A-S00000007\"}";
	char sig[128], *count;
	json_t *d;
	double t0;
	bool ok = false;

	(void)state;
	sign(body, sig, sizeof(sig));
	assert_int_equal(post_webhook("Zuora-Notification-Id: n-1", body, NULL), 401);
	assert_int_equal(post_webhook("Zuora-Notification-Id: n-1", body, "X-Zuora-Signature: sha256=00"), 401);
	assert_int_equal(post_webhook("X-Nothing: 1", body, sig), 400);
	assert_int_equal(post_webhook("Zuora-Notification-Id: n-1", body, sig), 200);
	/* Zuora retries with the same notification id: a no-op */
	assert_int_equal(post_webhook("Zuora-Notification-Id: n-1", body, sig), 200);
	assert_int_equal(post_webhook("Zuora-Notification-Id: n-1", body, "X-Webhook-Secret: s3cret"), 200);
	count = itest_sql_value(&db, "SELECT count(*) FROM webhook_inbox");
	assert_string_equal(count, "1");
	free(count);
	/* the named record was refreshed from Zuora */
	t0 = itest_now();
	while (!ok && itest_now() - t0 < 5) {
		char *origin = itest_sql_value(&db, "SELECT origin FROM zuora_subscriptions WHERE number = 'A-S00000007'");

		ok = origin && strcmp(origin, "webhook") == 0;
		free(origin);
		if (!ok)
			itest_sleep_ms(50);
	}
	assert_true(ok);
	d = get_channel("A-S00000007", 200);
	assert_string_equal(json_string_value(json_object_get(d, "channel")), "undetermined");
	json_decref(d);
	count = itest_sql_value(&db, "SELECT count(*) FROM webhook_inbox WHERE processed_at IS NOT NULL");
	assert_string_equal(count, "1");
	free(count);
	/* the database is down: 503, so Zuora retries */
	itest_pg("kill");
	assert_int_equal(post_webhook("Zuora-Notification-Id: n-2", body, sig), 503);
	itest_pg("start");
}

static void test_sync_endpoints_and_channels(void **state)
{
	static const char *const want[][2] = {
		{"A-S00000001", "web_direct"}, {"A-S00000002", "sales_assisted"},
		{"A-S00000003", "reseller"}, {"A-S00000004", "two_tier"}, {"A-S00000005", "msp"},
		{"A-S00000006", "marketplace"}, {"A-S00000007", "undetermined"},
		{"A-S00000008", "web_direct"},
	};
	const char *read_hdrs[] = {auth_read, NULL};
	const char *admin_hdrs[] = {auth_admin, NULL};
	struct itest_resp r;
	char url[256];
	double t0;
	bool done = false;
	size_t i;

	(void)state;
	snprintf(url, sizeof(url), "%s/v1/sync", srv.base);
	assert_int_equal(itest_http("POST", url, read_hdrs, NULL, &r), 0);
	assert_int_equal(r.status, 403);
	itest_resp_free(&r);
	assert_int_equal(itest_http("POST", url, admin_hdrs, NULL, &r), 0);
	assert_int_equal(r.status, 202);
	itest_resp_free(&r);
	snprintf(url, sizeof(url), "%s/v1/sync/status", srv.base);
	t0 = itest_now();
	while (!done && itest_now() - t0 < 20) {
		json_t *j;

		itest_sleep_ms(200);
		assert_int_equal(itest_http("GET", url, read_hdrs, NULL, &r), 0);
		assert_int_equal(r.status, 200);
		j = itest_json(&r);
		done = json_is_false(json_object_get(j, "running")) &&
		       json_is_number(json_object_get(json_object_get(json_object_get(j, "sources"), "zuora"), "last_success")) &&
		       json_is_number(json_object_get(json_object_get(json_object_get(j, "sources"), "salesforce"), "last_success"));
		json_decref(j);
		itest_resp_free(&r);
	}
	assert_true(done);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		json_t *d = get_channel(want[i][0], 200);

		if (strcmp(json_string_value(json_object_get(d, "channel")), want[i][1]) != 0)
			fprintf(stderr, "%s: %s\n", want[i][0], json_string_value(json_object_get(d, "channel")));
		assert_string_equal(json_string_value(json_object_get(d, "channel")), want[i][1]);
		json_decref(d);
	}
}

/* Salesforce's last successful sync as /v1/sync/status reports it (0: none). */
static double salesforce_last_success(void)
{
	const char *hdrs[] = {auth_read, NULL};
	struct itest_resp r;
	char url[256];
	double v;
	json_t *j;

	snprintf(url, sizeof(url), "%s/v1/sync/status", srv.base);
	assert_int_equal(itest_http("GET", url, hdrs, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	j = itest_json(&r);
	v = json_number_value(json_object_get(json_object_get(json_object_get(j, "sources"),
							      "salesforce"), "last_success"));
	json_decref(j);
	itest_resp_free(&r);
	return v;
}

/* POST /v1/sync and wait until Salesforce has synced again. */
static void sync_now(void)
{
	const char *admin_hdrs[] = {auth_admin, NULL};
	double before = salesforce_last_success(), t0;
	struct itest_resp r;
	char url[256];

	itest_sleep_ms(1100); /* a later second than the previous run */
	snprintf(url, sizeof(url), "%s/v1/sync", srv.base);
	assert_int_equal(itest_http("POST", url, admin_hdrs, NULL, &r), 0);
	assert_int_equal(r.status, 202);
	itest_resp_free(&r);
	t0 = itest_now();
	while (salesforce_last_success() <= before && itest_now() - t0 < 20)
		itest_sleep_ms(200);
	assert_true(salesforce_last_success() > before);
}

/* Poll the decision for sub until its channel is want (5 s at most). */
static json_t *wait_channel(const char *sub, const char *want)
{
	double t0 = itest_now();
	json_t *d = NULL;

	do {
		json_decref(d);
		d = get_channel(sub, 200);
		if (!strcmp(json_string_value(json_object_get(d, "channel")), want))
			break;
		itest_sleep_ms(100);
	} while (itest_now() - t0 < 5);
	return d;
}

/*
 * GET /v1/subscriptions|accounts/{key} answers carry no updatedDate
 * (UPSTREAM.md 1.4/1.5). Records stored by a webhook refresh
 * (A-S00000007, its account A00000007: test_webhook) or a read-through
 * (A-S00000003: test_read_through) must not get our wall clock as their
 * source timestamp: a later change whose UpdatedDate is in the past
 * (2025 here; clocks skew) must still be applied by the sync, and the
 * decision follow it.
 */
static void test_live_records_take_later_sync_pages(void **state)
{
	json_t *d;
	char *v;

	(void)state;
	itest_sim_post(&sim, "/_sim/data",
		"{\"zuora\":{\"accounts\":["
		"{\"Id\":\"8a8aa0a0000000000000000000000007\",\"Name\":\"Subsidiary Customer GmbH & Co\","
		"\"UpdatedDate\":\"2025-01-15T00:00:00Z\"}],"
		"\"subscriptions\":["
		"{\"Id\":\"8a8aa0b0000000000000000000000007\","
		"\"InvoiceOwnerId\":\"8a8aa0a0000000000000000000000009\",\"SSPChannel__c\":\"Reseller\","
		"\"UpdatedDate\":\"2025-01-15T00:00:00Z\"},"
		"{\"Id\":\"8a8aa0b0000000000000000000000003\",\"Status\":\"Cancelled\","
		"\"UpdatedDate\":\"2025-01-16T00:00:00Z\"}]}}");
	sync_now();
	d = wait_channel("A-S00000007", "reseller");
	assert_string_equal(json_string_value(json_object_get(d, "channel")), "reseller");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(d, "freshness"), "zuora"), "updated_at")),
			    "2025-01-15T00:00:00Z");
	json_decref(d);
	v = itest_sql_value(&db, "SELECT name FROM zuora_accounts WHERE number = 'A00000007'");
	assert_string_equal(v, "Subsidiary Customer GmbH & Co");
	free(v);
	v = itest_sql_value(&db, "SELECT status FROM zuora_subscriptions WHERE number = 'A-S00000003'");
	assert_string_equal(v, "Cancelled");
	free(v);
}

/* The evidence row with this field, or NULL. */
static json_t *evidence_with_field(json_t *d, const char *field)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(d, "evidence"), i, e)
		if (strcmp(json_string_value(json_object_get(e, "field")), field) == 0)
			return e;
	return NULL;
}

/*
 * DOMAIN.md: "The Resale Partner may also appear in the Required Approvals
 * From VP of Channel notes." End to end: the simulator serves the notes
 * field of two quotes whose resale partner field is empty, a real sync
 * stores it, and the decisions name the partner the notes name:
 *  - A-S00000021: the invoice owner is another account of Example Reseller
 *    GmbH, not in the registry, and nothing else corroborates it:
 *    undetermined without the notes, reseller with them;
 *  - A-S00000022: the invoice owner is the registered distributor: a
 *    two-tier deal whose reseller only the notes name.
 */
static void test_vp_channel_notes_end_to_end(void **state)
{
	json_t *d, *e;

	(void)state;
	itest_sim_post(&sim, "/_sim/data",
		"{\"zuora\":{\"accounts\":["
		"{\"Id\":\"8a8aa0a0000000000000000000000021\",\"AccountNumber\":\"A00000021\","
		"\"Name\":\"Notes Customer AB\",\"Status\":\"Active\",\"PartnerAccount\":false,"
		"\"UpdatedDate\":\"2030-03-01T00:00:00Z\"},"
		"{\"Id\":\"8a8aa0a0000000000000000000000022\",\"AccountNumber\":\"A00000022\","
		"\"Name\":\"Example Reseller GmbH (Nordics)\",\"Status\":\"Active\","
		"\"PartnerAccount\":false,\"UpdatedDate\":\"2030-03-01T00:00:00Z\"}],"
		"\"subscriptions\":["
		"{\"Id\":\"8a8aa0b0000000000000000000000021\",\"Name\":\"A-S00000021\","
		"\"AccountId\":\"8a8aa0a0000000000000000000000021\","
		"\"InvoiceOwnerId\":\"8a8aa0a0000000000000000000000022\",\"Status\":\"Active\","
		"\"Version\":1,\"IsLatestVersion\":true,\"TermStartDate\":\"2030-03-01\","
		"\"TermEndDate\":\"2031-03-01\",\"CreatedById\":\"2c92a0fe6b4b0a7c016b5a3f1e2d0a11\","
		"\"UpdatedDate\":\"2030-03-01T00:00:00Z\"},"
		"{\"Id\":\"8a8aa0b0000000000000000000000022\",\"Name\":\"A-S00000022\","
		"\"AccountId\":\"8a8aa0a0000000000000000000000021\","
		"\"InvoiceOwnerId\":\"8a8aa0a000000000000000000000000a\",\"Status\":\"Active\","
		"\"Version\":1,\"IsLatestVersion\":true,\"TermStartDate\":\"2030-03-01\","
		"\"TermEndDate\":\"2031-03-01\",\"CreatedById\":\"2c92a0fe6b4b0a7c016b5a3f1e2d0a11\","
		"\"UpdatedDate\":\"2030-03-01T00:00:00Z\"}]},"
		"\"salesforce\":{\"quotes\":["
		"{\"Id\":\"a0xDn0000000021AAA\",\"Name\":\"Q-00000021\","
		"\"zqu__Status__c\":\"Sent to Z-Billing\",\"zqu__Subscription_Name__c\":\"A-S00000021\","
		"\"zqu__Opportunity__c\":\"006Dn0000000021AAA\",\"Resale_Partner__c\":null,"
		"\"Required_Approvals_From_VP_of_Channel__c\":\"Approved 12% for example reseller GmbH"
		" (Nordics entity).\",\"SystemModstamp\":\"2030-03-01T00:00:00.000+0000\"},"
		"{\"Id\":\"a0xDn0000000022AAA\",\"Name\":\"Q-00000022\","
		"\"zqu__Status__c\":\"Sent to Z-Billing\",\"zqu__Subscription_Name__c\":\"A-S00000022\","
		"\"zqu__Opportunity__c\":\"006Dn0000000022AAA\","
		"\"Distributor__c\":\"Example Distribution Inc.\","
		"\"Required_Approvals_From_VP_of_Channel__c\":\"Two-tier: Example Distribution Inc."
		" distributes,\\nExample Reseller GmbH resells.\","
		"\"SystemModstamp\":\"2030-03-01T00:00:00.000+0000\"}]}}");
	sync_now();
	{
		char *v = itest_sql_value(&db, "SELECT vp_channel_notes FROM sf_quotes"
					       " WHERE id = 'a0xDn0000000021AAA'");

		assert_non_null(v);
		assert_string_equal(v, "Approved 12% for example reseller GmbH (Nordics entity).");
		free(v);
	}
	d = get_channel("A-S00000021", 200);
	assert_string_equal(json_string_value(json_object_get(d, "channel")), "reseller");
	assert_true(json_is_true(json_object_get(d, "is_reseller")));
	assert_string_equal(json_string_value(json_object_get(d, "confidence")), "high");
	e = evidence_with_field(d, "Required_Approvals_From_VP_of_Channel__c");
	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(e, "source")), "salesforce");
	assert_string_equal(json_string_value(json_object_get(e, "object")), "zqu__Quote__c");
	assert_string_equal(json_string_value(json_object_get(e, "value")), "Example Reseller GmbH");
	assert_string_equal(json_string_value(json_object_get(e, "points_to")), "reseller");
	json_decref(d);
	d = get_channel("A-S00000022", 200);
	assert_string_equal(json_string_value(json_object_get(d, "channel")), "two_tier");
	assert_string_equal(json_string_value(json_object_get(d, "resale_partner")), "Example Reseller GmbH");
	assert_string_equal(json_string_value(json_object_get(d, "distributor")), "Example Distribution Inc.");
	assert_string_equal(json_string_value(json_object_get(d, "confidence")), "high");
	assert_non_null(evidence_with_field(d, "Required_Approvals_From_VP_of_Channel__c"));
	json_decref(d);
	/* The notes change (no partner named any more): the next sync drops
	 * the corroboration and the decision with it. */
	itest_sim_post(&sim, "/_sim/data",
		"{\"salesforce\":{\"quotes\":[{\"Id\":\"a0xDn0000000021AAA\","
		"\"Required_Approvals_From_VP_of_Channel__c\":null,"
		"\"SystemModstamp\":\"2030-03-02T00:00:00.000+0000\"}]}}");
	sync_now();
	{
		double t0 = itest_now();

		d = NULL;
		do {
			json_decref(d);
			d = get_channel("A-S00000021", 200);
			if (!strcmp(json_string_value(json_object_get(d, "channel")), "undetermined"))
				break;
			itest_sleep_ms(100);
		} while (itest_now() - t0 < 5);
	}
	assert_string_equal(json_string_value(json_object_get(d, "channel")), "undetermined");
	assert_null(evidence_with_field(d, "Required_Approvals_From_VP_of_Channel__c"));
	json_decref(d);
}

/* POST /v1/sync as admin: the 202 body (caller frees). */
static json_t *post_sync(void)
{
	const char *hdrs[] = {auth_admin, NULL};
	struct itest_resp r;
	char url[256];
	json_t *j;

	snprintf(url, sizeof(url), "%s/v1/sync", srv.base);
	assert_int_equal(itest_http("POST", url, hdrs, NULL, &r), 0);
	assert_int_equal(r.status, 202);
	j = itest_json(&r);
	itest_resp_free(&r);
	return j;
}

/*
 * DESIGN.md: "POST /v1/sync (admin scope) starts one". While a run is in
 * progress the request is queued (202, queued: true), not refused; the
 * queued run follows the current one, once for all requests meanwhile.
 */
static void test_sync_post_during_a_run_is_queued(void **state)
{
	const char *hdrs[] = {auth_read, NULL};
	struct itest_resp r;
	char url[256];
	json_t *j;
	double t0;
	bool running = true;

	(void)state;
	itest_sim_post(&sim, "/_sim/reset", "{}");
	itest_sim_post(&sim, "/_sim/fault", "{\"path_prefix\":\"/v1/action/query\","
		       "\"kind\":\"stall\",\"seconds\":2}");
	j = post_sync();
	assert_string_equal(json_string_value(json_object_get(j, "status")), "started");
	assert_true(json_is_false(json_object_get(j, "queued")));
	json_decref(j);
	itest_sleep_ms(300); /* the run is on its stalled query */
	for (int i = 0; i < 2; i++) {
		j = post_sync();
		assert_string_equal(json_string_value(json_object_get(j, "status")), "queued");
		assert_true(json_is_true(json_object_get(j, "queued")));
		assert_non_null(json_string_value(json_object_get(j, "detail")));
		json_decref(j);
	}
	/* Two runs of three ZOQL queries each, then idle. */
	snprintf(url, sizeof(url), "%s/v1/sync/status", srv.base);
	t0 = itest_now();
	while (itest_now() - t0 < 30) {
		assert_int_equal(itest_http("GET", url, hdrs, NULL, &r), 0);
		j = itest_json(&r);
		running = json_is_true(json_object_get(j, "running"));
		json_decref(j);
		itest_resp_free(&r);
		if (!running && itest_sim_stat(&sim, "routes.POST /v1/action/query") >= 6)
			break;
		itest_sleep_ms(100);
	}
	assert_false(running);
	itest_sleep_ms(500);
	assert_int_equal(itest_sim_stat(&sim, "routes.POST /v1/action/query"), 6);
	itest_sim_post(&sim, "/_sim/reset", "{}");
}

/*
 * UPSTREAM.md 1.2: "Reuse tokens until they expire"; "On a 401, get a new
 * token and retry once". Every token dies; then two sync runs (three
 * Zuora and two Salesforce objects each, fetched concurrently) and
 * read-throughs all share one new token per source: the first 401 fetches
 * it, the other 401s on the dead token take it instead of fetching again.
 */
static void test_one_token_per_source(void **state)
{
	static const char *const keys[] = {"A-S09999991", "A-S09999992", "A-S09999993"};
	size_t i;

	(void)state;
	itest_sim_post(&sim, "/_sim/reset", "{}");
	itest_sim_post(&sim, "/_sim/expire_tokens", "{\"which\":\"all\"}");
	sync_now();
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		json_decref(get_channel(keys[i], 404)); /* each one asks Zuora */
	sync_now();
	json_decref(get_channel("A-S00000003", 200));
	assert_true(itest_sim_stat(&sim, "routes.GET /v1/subscriptions/*") >= 3);
	assert_true(itest_sim_stat(&sim, "routes.POST /v1/action/query") >= 6);
	assert_int_equal(itest_sim_stat(&sim, "tokens_issued.zuora"), 1);
	assert_int_equal(itest_sim_stat(&sim, "tokens_issued.salesforce"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_through),
		cmocka_unit_test(test_read_through_retries),
		cmocka_unit_test(test_webhook),
		cmocka_unit_test(test_sync_endpoints_and_channels),
		cmocka_unit_test(test_live_records_take_later_sync_pages),
		cmocka_unit_test(test_vp_channel_notes_end_to_end),
		cmocka_unit_test(test_sync_post_during_a_run_is_queued),
		cmocka_unit_test(test_one_token_per_source),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
