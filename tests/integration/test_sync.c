/*
 * Sync against the upstream simulator and a real PostgreSQL, through the
 * real `resellerctl sync`: a full load, idempotent re-runs, small pages,
 * token expiry, 429 + Retry-After, 5xx, garbage and truncated JSON (the
 * run fails, the watermark stays at stored data), kill -9 mid-run then a
 * clean run (same checksums as an uninterrupted run), late older updates
 * that must not regress rows, the cross-instance lock, configuration
 * errors.
 */
#include "itest.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ===== resellerctl sync ===== */

static const char *ctl_bin(void)
{
	const char *b = getenv("RESELLERD_TEST_CTL"); /* a locally built variant */

	return b && *b ? b : RESELLERCTL_BIN;
}

struct env {
	char v[9][600];
	const char *p[10];
};

/* extra: one more "NAME=value" or NULL. */
static void make_env_extra(struct env *e, const struct itest_db *db, const struct itest_sim *s,
			   bool zuora, bool salesforce, const char *extra)
{
	int n = 0;

	snprintf(e->v[n++], sizeof(e->v[0]), "DATABASE_URL=%s", db->url);
	snprintf(e->v[n++], sizeof(e->v[0]), "ZUORA_BASE_URL=%s", zuora ? s->base : "");
	snprintf(e->v[n++], sizeof(e->v[0]), "SALESFORCE_LOGIN_URL=%s", salesforce ? s->base : "");
	snprintf(e->v[n++], sizeof(e->v[0]), "ZUORA_CLIENT_ID=zuora-client");
	snprintf(e->v[n++], sizeof(e->v[0]), "ZUORA_CLIENT_SECRET=zuora-secret");
	snprintf(e->v[n++], sizeof(e->v[0]), "SALESFORCE_CLIENT_ID=sf-client");
	snprintf(e->v[n++], sizeof(e->v[0]), "SALESFORCE_CLIENT_SECRET=sf-secret");
	snprintf(e->v[n++], sizeof(e->v[0]), "RESELLERD_LOG_LEVEL=warn");
	if (extra)
		snprintf(e->v[n++], sizeof(e->v[0]), "%s", extra);
	for (int i = 0; i < n; i++)
		e->p[i] = e->v[i];
	e->p[n] = NULL;
}

static void make_env(struct env *e, const struct itest_db *db, const struct itest_sim *s,
		     bool zuora, bool salesforce)
{
	make_env_extra(e, db, s, zuora, salesforce, NULL);
}

/* Run `resellerctl --json sync ARGS`; returns the exit code, output in *out. */
static int run_sync(const struct itest_db *db, const struct itest_sim *s, const char *const *args,
		    char **out)
{
	const char *argv[12];
	struct env e;
	size_t n = 0;
	int rc;

	argv[n++] = ctl_bin();
	argv[n++] = "--json";
	argv[n++] = "sync";
	while (args && *args && n < 11)
		argv[n++] = *args++;
	argv[n] = NULL;
	make_env(&e, db, s, true, true);
	rc = itest_run(argv, e.p, out);
	return rc;
}

static void sync_ok(const struct itest_db *db, const struct itest_sim *s, const char *const *args)
{
	char *out = NULL;
	int rc = run_sync(db, s, args, &out);

	if (rc != 0)
		fprintf(stderr, "resellerctl sync failed (%d):\n%s\n", rc, out ? out : "");
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "\"result\":\"ok\""));
	free(out);
}

/* ===== checks ===== */

/* Every cached column except synced_at, hashed in a stable order. */
static char *checksum(const struct itest_db *db)
{
	return itest_sql_value(db,
		"SELECT md5(concat_ws('|',"
		" (SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM (SELECT id, number, name,"
		"  status, partner_account, ssp_channel, crm_id, parent_id, sold_to_contact_id,"
		"  bill_to_contact_id, source_updated_at FROM zuora_accounts) t),"
		" (SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM (SELECT id, account_id,"
		"  first_name, last_name, work_email, source_updated_at FROM zuora_contacts) t),"
		" (SELECT md5(string_agg(t::text, ',' ORDER BY number)) FROM (SELECT number, id,"
		"  version, status, term_start, term_end, account_id, invoice_owner_id,"
		"  created_by_id, ssp_channel, source_updated_at, origin FROM zuora_subscriptions) t),"
		" (SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM zuora_subscription_ids t),"
		" (SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM (SELECT id, name, status,"
		"  subscription_number, zuora_subscription_id, zuora_account_id, resale_partner,"
		"  distributor, invoice_owner_id, invoice_owner_name, account_id, opportunity_id,"
		"  is_deleted, modstamp, vp_channel_notes FROM sf_quotes) t),"
		" (SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM (SELECT id, opportunity_id,"
		"  account_to_id, account_to_name, role, is_primary, modstamp"
		"  FROM sf_opportunity_partners) t)))");
}

static long sql_long(const struct itest_db *db, const char *sql)
{
	char *v = itest_sql_value(db, sql);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

/* No watermark may be ahead of the newest stored row of its object. A
 * Subscription page may end with an older version's row, which is stored
 * only as an id (zuora_subscription_ids has no timestamp): allow the
 * generator's row step (20 s) there. */
static void assert_watermarks_within_data(const struct itest_db *db)
{
	long bad = sql_long(db,
		"SELECT count(*) FROM sync_state s WHERE watermark > CASE"
		" WHEN object = 'Account' THEN (SELECT max(source_updated_at) FROM zuora_accounts)"
		" WHEN object = 'Contact' THEN (SELECT max(source_updated_at) FROM zuora_contacts)"
		" WHEN object = 'Subscription' THEN (SELECT max(source_updated_at) FROM"
		"  zuora_subscriptions) + CASE WHEN (SELECT count(*) FROM zuora_subscription_ids)"
		"  > (SELECT count(*) FROM zuora_subscriptions) THEN interval '20 s' ELSE '0' END"
		" WHEN object = 'quote' THEN (SELECT max(modstamp) FROM sf_quotes)"
		" ELSE (SELECT max(modstamp) FROM sf_opportunity_partners) END"
		" OR (watermark IS NOT NULL AND CASE"
		" WHEN object = 'Account' THEN (SELECT max(source_updated_at) FROM zuora_accounts)"
		" WHEN object = 'Contact' THEN (SELECT max(source_updated_at) FROM zuora_contacts)"
		" WHEN object = 'Subscription' THEN (SELECT max(source_updated_at) FROM"
		"  zuora_subscriptions)"
		" WHEN object = 'quote' THEN (SELECT max(modstamp) FROM sf_quotes)"
		" ELSE (SELECT max(modstamp) FROM sf_opportunity_partners) END IS NULL)");

	assert_int_equal(bad, 0);
}

/* ===== fixtures ===== */

#define GEN_SUBS "3000"

static struct itest_sim demo, gen;
static struct itest_db reference; /* gen synced cleanly once: the expected state */
static char *reference_sum;
static bool have_sync;

static int setup(void **state)
{
	const char *demo_args[] = {"--data", SOURCE_DIR "/tests/simulator/demo.json", NULL};
	const char *gen_args[] = {"--generate", GEN_SUBS, "--seed", "7", "--sf-min-batch", "2",
				  NULL};
	const char *probe[] = {ctl_bin(), "sync", "--help", NULL};
	char *out = NULL;

	(void)state;
	have_sync = itest_run(probe, NULL, &out) == 0;
	free(out);
	if (!have_sync)
		return 0;
	itest_sim_start(&demo, demo_args);
	itest_sim_start(&gen, gen_args);
	itest_db_create(&reference);
	{
		const char *args[] = {"--full", "--batch-size", "500", NULL};

		sync_ok(&reference, &gen, args);
	}
	reference_sum = checksum(&reference);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (!have_sync)
		return 0;
	itest_sim_stop(&demo);
	itest_sim_stop(&gen);
	itest_db_drop(&reference);
	free(reference_sum);
	return 0;
}

#define NEED_SYNC() \
	do { \
		if (!have_sync) { \
			fprintf(stderr, "resellerctl has no sync command yet: skipped\n"); \
			skip(); \
		} \
	} while (0)

/* ===== tests ===== */

static void test_full_sync_then_reruns_change_nothing(void **state)
{
	struct itest_db db;
	const char *full[] = {"--full", NULL};
	char *a, *b, *c, *v;

	(void)state;
	NEED_SYNC();
	itest_db_create(&db);
	sync_ok(&db, &demo, full);
	assert_int_equal(sql_long(&db, "SELECT count(*) FROM zuora_accounts"), 13);
	assert_int_equal(sql_long(&db, "SELECT count(*) FROM zuora_contacts"), 13);
	assert_int_equal(sql_long(&db, "SELECT count(*) FROM zuora_subscriptions"), 8);
	assert_int_equal(sql_long(&db, "SELECT count(*) FROM zuora_subscription_ids"), 9);
	assert_int_equal(sql_long(&db, "SELECT count(*) FROM sf_quotes"), 5);
	assert_int_equal(sql_long(&db, "SELECT count(*) FROM sf_opportunity_partners"), 4);
	/* The older version's id finds the number; the latest version wins. */
	v = itest_sql_value(&db, "SELECT s.version || ':' || coalesce(s.ssp_channel, '-')"
				 " FROM zuora_subscription_ids i JOIN zuora_subscriptions s"
				 " USING (number) WHERE s.number = 'A-S00000002' LIMIT 1");
	assert_string_equal(v, "2:-");
	free(v);
	v = itest_sql_value(&db, "SELECT ssp_channel FROM zuora_accounts WHERE number = 'A00000003'");
	assert_string_equal(v, "Reseller");
	free(v);
	assert_int_equal(sql_long(&db, "SELECT count(*) FROM sync_state WHERE last_success_at"
				       " IS NOT NULL AND watermark IS NOT NULL"), 5);
	assert_watermarks_within_data(&db);
	a = checksum(&db);
	sync_ok(&db, &demo, NULL); /* incremental: re-reads the overlap */
	b = checksum(&db);
	sync_ok(&db, &demo, full);
	c = checksum(&db);
	assert_string_equal(a, b);
	assert_string_equal(a, c);
	free(a);
	free(b);
	free(c);
	itest_db_drop(&db);
}

static void test_small_pages_token_expiry_429_and_5xx(void **state)
{
	struct itest_db db;
	const char *args[] = {"--full", "--batch-size", "97", NULL};
	double t0;
	char *sum;

	(void)state;
	NEED_SYNC();
	itest_db_create(&db);
	itest_sim_post(&gen, "/_sim/reset", "{}");
	/* Tokens die mid-run; a 429 with Retry-After: 1; 5xx twice on each side. */
	itest_sim_post(&gen, "/_sim/fault", "{\"path_prefix\":\"/v1/action/queryMore\",\"kind\":\"expire_tokens\"}");
	itest_sim_post(&gen, "/_sim/fault", "{\"path_prefix\":\"/v1/action/queryMore\",\"kind\":\"retry_after\","
				      "\"retry_after\":1}");
	itest_sim_post(&gen, "/_sim/fault", "{\"path_prefix\":\"/v1/action/query\",\"kind\":\"status\","
				      "\"status\":503,\"count\":2}");
	itest_sim_post(&gen, "/_sim/fault", "{\"path_prefix\":\"/services/data\",\"kind\":\"status\","
				      "\"status\":502,\"count\":2}");
	itest_sim_post(&gen, "/_sim/fault", "{\"path_prefix\":\"/services/data\",\"kind\":\"expire_tokens\"}");
	itest_sim_post(&gen, "/_sim/fault", "{\"path_prefix\":\"/v1/action/queryMore\",\"kind\":"
				      "\"zuora_success_false\",\"code\":50000061}");
	/* Retryable categories with a 4xx, in both failure shapes (UPSTREAM.md 1.7). */
	itest_sim_post(&gen, "/_sim/fault", "{\"path_prefix\":\"/v1/action/queryMore\",\"kind\":"
				      "\"zuora_success_false\",\"code\":50000070,\"status\":409}");
	itest_sim_post(&gen, "/_sim/fault", "{\"path_prefix\":\"/v1/action/query\",\"kind\":"
				      "\"zuora_success_false\",\"code\":50000050,\"status\":400,"
				      "\"shape\":\"gu\"}");
	t0 = itest_now();
	sync_ok(&db, &gen, args);
	assert_true(itest_now() - t0 >= 1.0); /* the Retry-After wait */
	assert_true(itest_sim_stat(&gen, "statuses.401") >= 2);
	assert_true(itest_sim_stat(&gen, "statuses.429") >= 1);
	assert_true(itest_sim_stat(&gen, "statuses.503") >= 2);
	assert_true(itest_sim_stat(&gen, "statuses.502") >= 2);
	assert_true(itest_sim_stat(&gen, "statuses.409") >= 1);
	assert_true(itest_sim_stat(&gen, "statuses.400") >= 1);
	/* Many pages per object. */
	assert_true(sql_long(&db, "SELECT rows_total FROM sync_state WHERE object = 'Subscription'")
		    >= 3300);
	sum = checksum(&db);
	assert_string_equal(sum, reference_sum);
	free(sum);
	itest_sim_post(&gen, "/_sim/reset", "{}");
	itest_db_drop(&db);
}

static void bad_page_then_recover(const char *kind)
{
	struct itest_db db;
	const char *args[] = {"--full", "--batch-size", "200", NULL};
	char fault[256], *out = NULL, *err, *sum;
	int rc;

	itest_db_create(&db);
	itest_sim_post(&gen, "/_sim/reset", "{}");
	/* The second ZOQL page of one Zuora object is bad: the first
	 * queryMore of the run (the Zuora objects run concurrently, so which
	 * one gets it varies). */
	snprintf(fault, sizeof(fault), "{\"path_prefix\":\"/v1/action/queryMore\",\"kind\":\"%s\"}",
		 kind);
	itest_sim_post(&gen, "/_sim/fault", fault);
	rc = run_sync(&db, &gen, args, &out);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "\"result\":\"failed\""));
	free(out);
	/* Exactly that object failed, with only its first page stored; its
	 * watermark is that page's newest row, not beyond; the failure is
	 * recorded. The other objects completed. */
	assert_int_equal(sql_long(&db, "SELECT count(*) FROM sync_state WHERE last_error IS NOT NULL"
				       " AND last_error_at IS NOT NULL AND last_success_at IS NULL"
				       " AND source = 'zuora' AND rows_total = 200"), 1);
	assert_int_equal(sql_long(&db, "SELECT count(*) FROM sync_state WHERE last_success_at"
				       " IS NOT NULL AND last_error IS NULL"), 4);
	assert_watermarks_within_data(&db);
	err = itest_sql_value(&db, "SELECT CASE object WHEN 'Account' THEN (SELECT count(*) = 200"
				   " FROM zuora_accounts) WHEN 'Contact' THEN (SELECT count(*) = 200"
				   " FROM zuora_contacts) ELSE (SELECT count(*) = 200 FROM"
				   " zuora_subscription_ids) END FROM sync_state WHERE last_error"
				   " IS NOT NULL");
	assert_string_equal(err, "t");
	free(err);
	/* The next (incremental) run completes the data. */
	sync_ok(&db, &gen, NULL);
	sum = checksum(&db);
	assert_string_equal(sum, reference_sum);
	free(sum);
	itest_sim_post(&gen, "/_sim/reset", "{}");
	itest_db_drop(&db);
}

static void test_garbage_and_truncated_json_keep_the_watermark(void **state)
{
	(void)state;
	NEED_SYNC();
	bad_page_then_recover("garbage");
	bad_page_then_recover("truncated");
}

static void test_kill9_mid_run_then_clean_run(void **state)
{
	struct itest_db db;
	struct env e;
	/* Incremental runs: each continues from the last committed page, so
	 * the kills land in different objects. */
	const char *argv[] = {ctl_bin(), "sync", "--batch-size", "20", NULL};
	unsigned delays[] = {120, 250, 400, 550, 700};
	size_t i, killed = 0;
	char *sum;

	(void)state;
	NEED_SYNC();
	itest_db_create(&db);
	make_env(&e, &db, &gen, true, true);
	for (i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
		pid_t pid = fork();
		int status;

		if (pid == 0) {
			int devnull = open("/dev/null", O_WRONLY);
			const char *const *p;

			dup2(devnull, 1);
			dup2(devnull, 2);
			for (p = e.p; *p; p++)
				putenv((char *)(uintptr_t)*p);
			execv(argv[0], (char *const *)(uintptr_t)argv);
			_exit(127);
		}
		itest_sleep_ms(delays[i]);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		if (WIFSIGNALED(status))
			killed++; /* killed mid-run (a fast machine may finish first) */
		{
			char *at = itest_sql_value(&db, "SELECT string_agg(object || '=' || rows_total,"
							" ' ' ORDER BY object) FROM sync_state");

			fprintf(stderr, "  killed after %u ms: %s\n", delays[i], at ? at : "nothing");
			free(at);
		}
		assert_watermarks_within_data(&db);
	}
	assert_true(killed >= 2);
	assert_true(sql_long(&db, "SELECT count(*) FROM zuora_accounts") > 0);
	sync_ok(&db, &gen, NULL);
	sum = checksum(&db);
	assert_string_equal(sum, reference_sum);
	free(sum);
	assert_watermarks_within_data(&db);
	itest_db_drop(&db);
}

/* A full run into a database that already holds some of the rows: its
 * pages are tried as plain INSERTs first, and the first page that meets a
 * stored row falls back to the upserts (lib/store_sync.c). Here the early
 * pages (older UpdatedDate) are new and the last ones meet stored rows:
 * one stored account is newer than upstream (it must stay), the stored
 * contacts are older (they must be replaced). The result must equal a
 * clean load, and a re-run must change nothing. */
static void test_full_sync_over_some_stored_rows(void **state)
{
	struct itest_db db;
	const char *args[] = {"--full", "--batch-size", "97", NULL};
	char *id, *name, *upd, *sum, *v;
	char sql[512];

	(void)state;
	NEED_SYNC();
	itest_db_create(&db);
	sync_ok(&db, &gen, args);
	itest_sql(&db, "DELETE FROM zuora_accounts WHERE id NOT IN (SELECT id FROM zuora_accounts"
		  " ORDER BY source_updated_at DESC, id LIMIT 40)");
	itest_sql(&db, "DELETE FROM zuora_contacts WHERE id NOT IN (SELECT id FROM zuora_contacts"
		  " ORDER BY source_updated_at DESC, id LIMIT 40)");
	itest_sql(&db, "DELETE FROM zuora_subscriptions WHERE number NOT IN (SELECT number"
		  " FROM zuora_subscriptions ORDER BY source_updated_at DESC, number LIMIT 40)");
	itest_sql(&db, "DELETE FROM zuora_subscription_ids WHERE number NOT IN (SELECT number"
		  " FROM zuora_subscriptions)");
	itest_sql(&db, "DELETE FROM sf_quotes WHERE id NOT IN (SELECT id FROM sf_quotes"
		  " ORDER BY modstamp DESC, id LIMIT 40)");
	itest_sql(&db, "UPDATE zuora_contacts SET last_name = 'Stale',"
		  " source_updated_at = '2000-01-01Z'");
	id = itest_sql_value(&db, "SELECT id FROM zuora_accounts"
			     " ORDER BY source_updated_at DESC, id LIMIT 1");
	snprintf(sql, sizeof(sql), "SELECT name FROM zuora_accounts WHERE id = '%s'", id);
	name = itest_sql_value(&db, sql);
	snprintf(sql, sizeof(sql), "SELECT source_updated_at FROM zuora_accounts WHERE id = '%s'", id);
	upd = itest_sql_value(&db, sql);
	snprintf(sql, sizeof(sql), "UPDATE zuora_accounts SET name = 'Kept newer',"
		 " source_updated_at = '2031-01-01Z' WHERE id = '%s'", id);
	itest_sql(&db, sql);

	sync_ok(&db, &gen, args);
	snprintf(sql, sizeof(sql), "SELECT name FROM zuora_accounts WHERE id = '%s'", id);
	v = itest_sql_value(&db, sql);
	assert_string_equal(v, "Kept newer");
	free(v);
	assert_int_equal(sql_long(&db, "SELECT count(*) FROM zuora_contacts"
				       " WHERE last_name = 'Stale'"), 0);
	/* Put the one newer row back as upstream has it: then everything
	 * equals the clean load. */
	snprintf(sql, sizeof(sql), "UPDATE zuora_accounts SET name = $n$%s$n$,"
		 " source_updated_at = '%s' WHERE id = '%s'", name, upd, id);
	itest_sql(&db, sql);
	sum = checksum(&db);
	assert_string_equal(sum, reference_sum);
	free(sum);
	sync_ok(&db, &gen, args);
	sum = checksum(&db);
	assert_string_equal(sum, reference_sum);
	free(sum);
	free(id);
	free(name);
	free(upd);
	itest_db_drop(&db);
}

static void test_late_older_update_does_not_regress(void **state)
{
	struct itest_db db;
	const char *full[] = {"--full", NULL};
	char *v;

	(void)state;
	NEED_SYNC();
	itest_db_create(&db);
	sync_ok(&db, &demo, full);
	/* A newer change arrives through an incremental run. */
	itest_sim_post(&demo, "/_sim/data",
		 "{\"zuora\":{\"subscriptions\":[{\"Id\":\"8a8aa0b0000000000000000000000003\","
		 "\"Status\":\"Cancelled\",\"UpdatedDate\":\"2030-01-01T00:00:00Z\"}],"
		 "\"accounts\":[{\"Id\":\"8a8aa0a0000000000000000000000003\",\"Name\":\"Renamed SAS\","
		 "\"UpdatedDate\":\"2030-01-01T00:00:00Z\"}]},"
		 "\"salesforce\":{\"quotes\":[{\"Id\":\"a0xDn0000000002AAA\",\"Resale_Partner__c\":\"New P\","
		 "\"SystemModstamp\":\"2030-01-01T00:00:00.000+0000\"}]}}");
	sync_ok(&db, &demo, NULL);
	v = itest_sql_value(&db, "SELECT status FROM zuora_subscriptions WHERE number = 'A-S00000003'");
	assert_string_equal(v, "Cancelled");
	free(v);
	v = itest_sql_value(&db, "SELECT resale_partner FROM sf_quotes WHERE id = 'a0xDn0000000002AAA'");
	assert_string_equal(v, "New P");
	free(v);
	/* An older state of the same rows shows up late (a full re-read
	 * serves it): nothing regresses. */
	itest_sim_post(&demo, "/_sim/data",
		 "{\"zuora\":{\"subscriptions\":[{\"Id\":\"8a8aa0b0000000000000000000000003\","
		 "\"Status\":\"Active\",\"UpdatedDate\":\"2029-01-01T00:00:00Z\"}],"
		 "\"accounts\":[{\"Id\":\"8a8aa0a0000000000000000000000003\",\"Name\":\"Old SAS\","
		 "\"UpdatedDate\":\"2029-01-01T00:00:00Z\"}]},"
		 "\"salesforce\":{\"quotes\":[{\"Id\":\"a0xDn0000000002AAA\",\"Resale_Partner__c\":\"Old P\","
		 "\"SystemModstamp\":\"2029-01-01T00:00:00.000+0000\"}]}}");
	sync_ok(&db, &demo, full);
	v = itest_sql_value(&db, "SELECT status || '/' || (SELECT name FROM zuora_accounts WHERE"
				 " number = 'A00000003') || '/' || (SELECT resale_partner FROM sf_quotes"
				 " WHERE id = 'a0xDn0000000002AAA') FROM zuora_subscriptions"
				 " WHERE number = 'A-S00000003'");
	assert_string_equal(v, "Cancelled/Renamed SAS/New P");
	free(v);
	/* A new version replaces the row; the old version's id still maps. */
	itest_sim_post(&demo, "/_sim/data",
		 "{\"zuora\":{\"subscriptions\":[{\"Id\":\"8a8aa0b0000000000000000000000003\","
		 "\"IsLatestVersion\":false},{\"Id\":\"8a8aa0b00000000000000000000000f3\","
		 "\"Name\":\"A-S00000003\",\"AccountId\":\"8a8aa0a0000000000000000000000003\","
		 "\"InvoiceOwnerId\":\"8a8aa0a0000000000000000000000009\",\"Status\":\"Active\","
		 "\"Version\":2,\"IsLatestVersion\":true,\"UpdatedDate\":\"2030-02-01T00:00:00Z\"}]}}");
	sync_ok(&db, &demo, NULL);
	v = itest_sql_value(&db, "SELECT version || ':' || id FROM zuora_subscriptions"
				 " WHERE number = (SELECT number FROM zuora_subscription_ids"
				 " WHERE id = '8a8aa0b0000000000000000000000003')");
	assert_string_equal(v, "2:8a8aa0b00000000000000000000000f3");
	free(v);
	itest_db_drop(&db);
}

static void test_one_syncer_at_a_time(void **state)
{
	struct itest_db db;
	char url[600], *out = NULL;
	PGconn *pg;
	PGresult *r;
	int rc;

	(void)state;
	NEED_SYNC();
	itest_db_create(&db);
	snprintf(url, sizeof(url), "%s", db.url);
	pg = PQconnectdb(url);
	assert_int_equal(PQstatus(pg), CONNECTION_OK);
	r = PQexec(pg, "SELECT pg_advisory_lock(8247054581464919651)");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	PQclear(r);
	rc = run_sync(&db, &demo, NULL, &out);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "another sync is running"));
	free(out);
	PQfinish(pg);
	/* A worker session of a run whose main session is gone (it holds the
	 * worker lock shared) also keeps a new syncer out. */
	pg = PQconnectdb(url);
	assert_int_equal(PQstatus(pg), CONNECTION_OK);
	r = PQexec(pg, "SELECT pg_advisory_lock_shared(8247054581464919671)");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	PQclear(r);
	rc = run_sync(&db, &demo, NULL, &out);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "another sync is running"));
	free(out);
	PQfinish(pg);
	sync_ok(&db, &demo, NULL);
	itest_db_drop(&db);
}

/* RESELLERD_SYNC_TIMEOUT_MS and RESELLERD_SYNC_MAX_ATTEMPTS bound a
 * sync's upstream calls: against a Zuora that stalls for 20 s the run
 * fails after about the configured second, with the error recorded. */
static void test_sync_timeout_settings(void **state)
{
	struct itest_db db;
	struct env e;
	const char *argv[] = {ctl_bin(), "--json", "sync", "--source", "zuora", NULL};
	const char *envp[12];
	char *out = NULL;
	double t0, took;
	int rc, n = 0;

	(void)state;
	NEED_SYNC();
	itest_db_create(&db);
	itest_sim_post(&gen, "/_sim/reset", "{}");
	itest_sim_post(&gen, "/_sim/fault", "{\"path_prefix\":\"/v1/action/query\",\"kind\":\"stall\","
				      "\"seconds\":20,\"count\":-1}");
	make_env(&e, &db, &gen, true, false);
	while (e.p[n]) {
		envp[n] = e.p[n];
		n++;
	}
	envp[n++] = "RESELLERD_SYNC_TIMEOUT_MS=1000";
	envp[n++] = "RESELLERD_SYNC_MAX_ATTEMPTS=1";
	envp[n] = NULL;
	t0 = itest_now();
	rc = itest_run(argv, envp, &out);
	took = itest_now() - t0;
	if (rc != 1 || took >= 8)
		fprintf(stderr, "sync: rc %d after %.1f s:\n%s\n", rc, took, out ? out : "");
	assert_int_equal(rc, 1);
	assert_true(took < 8); /* three objects at once, one attempt of ~1 s each */
	assert_non_null(strstr(out, "\"result\":\"failed\""));
	free(out);
	assert_int_equal(sql_long(&db, "SELECT count(*) FROM sync_state WHERE source = 'zuora'"
				       " AND last_error IS NOT NULL"), 3);
	itest_sim_post(&gen, "/_sim/reset", "{}");
	itest_db_drop(&db);
}

/* `resellerctl sync` with one more environment entry; must succeed. */
static void sync_ok_env(const struct itest_db *db, const struct itest_sim *s, const char *extra,
			const char *const *args)
{
	const char *argv[8] = {ctl_bin(), "--json", "sync"};
	struct env e;
	char *out = NULL;
	size_t n = 3;
	int rc;

	while (args && *args && n < 7)
		argv[n++] = *args++;
	argv[n] = NULL;
	make_env_extra(&e, db, s, true, true, extra);
	rc = itest_run(argv, e.p, &out);
	if (rc != 0)
		fprintf(stderr, "resellerctl sync failed (%d):\n%s\n", rc, out ? out : "");
	assert_int_equal(rc, 0);
	free(out);
}

/*
 * DOMAIN.md: "The Resale Partner may also appear in the Required Approvals
 * From VP of Channel notes." The notes field is synced into
 * sf_quotes.vp_channel_notes under its configured name
 * (SALESFORCE_VP_CHANNEL_NOTES_FIELD): a quote without it, or with null,
 * stores NULL, as Salesforce returns null for an empty field.
 */
static void test_vp_channel_notes_synced(void **state)
{
	struct itest_db db;
	const char *full[] = {"--full", "--source", "salesforce", NULL};
	char *v;

	(void)state;
	NEED_SYNC();
	itest_db_create(&db);
	itest_sim_post(&demo, "/_sim/data",
		 "{\"salesforce\":{\"quotes\":[{\"Id\":\"a0xDn0000000001AAA\","
		 "\"Required_Approvals_From_VP_of_Channel__c\":\"Approved 20% for \\\"Example Reseller GmbH\\\","
		 "\\nper VP of Channel\",\"Custom_VP_Notes__c\":\"custom: Example Reseller GmbH\","
		 "\"SystemModstamp\":\"2031-01-01T00:00:00.000+0000\"}]}}");
	sync_ok(&db, &demo, full);
	v = itest_sql_value(&db, "SELECT vp_channel_notes FROM sf_quotes WHERE id = 'a0xDn0000000001AAA'");
	assert_non_null(v);
	assert_string_equal(v, "Approved 20% for \"Example Reseller GmbH\",\nper VP of Channel");
	free(v);
	/* the other quotes do not have the field: NULL, not "" */
	assert_int_equal(sql_long(&db, "SELECT count(*) FROM sf_quotes WHERE vp_channel_notes IS NULL"), 4);
	/* an org-specific field name is read instead of the default one */
	sync_ok_env(&db, &demo, "SALESFORCE_VP_CHANNEL_NOTES_FIELD=Custom_VP_Notes__c", full);
	v = itest_sql_value(&db, "SELECT vp_channel_notes FROM sf_quotes WHERE id = 'a0xDn0000000001AAA'");
	assert_non_null(v);
	assert_string_equal(v, "custom: Example Reseller GmbH");
	free(v);
	/* an org without the field (INVALID_FIELD naming it) still syncs
	 * every quote, without the notes */
	sync_ok_env(&db, &demo, "SALESFORCE_VP_CHANNEL_NOTES_FIELD=VP_Notes_Not_Here", full);
	assert_int_equal(sql_long(&db, "SELECT count(*) FROM sf_quotes"), 5);
	assert_int_equal(sql_long(&db, "SELECT count(*) FROM sf_quotes WHERE vp_channel_notes IS NULL"), 5);
	assert_true(itest_sim_stat(&demo, "statuses.400") >= 1);
	/* a field name that is not a SOQL identifier is refused before any query */
	{
		const char *argv[] = {ctl_bin(), "sync", "--source", "salesforce", NULL};
		struct env e;
		char *out = NULL;

		make_env_extra(&e, &db, &demo, true, true,
			       "SALESFORCE_VP_CHANNEL_NOTES_FIELD=Notes__c FROM User");
		assert_int_equal(itest_run(argv, e.p, &out), 1);
		assert_non_null(strstr(out, "SALESFORCE_VP_CHANNEL_NOTES_FIELD"));
		free(out);
	}
	itest_db_drop(&db);
}

/*
 * ZOQL omits null fields (UPSTREAM.md 1.6C). A record without
 * UpdatedDate, Version or InvoiceOwnerId is stored with defaults (the
 * epoch, version 1, the subscriber as invoice owner), not dropped; only a
 * record without its Name (or Id) is skipped, and counted.
 */
static void test_zoql_omitted_fields_get_defaults(void **state)
{
	struct itest_db db;
	const char *full[] = {"--full", "--source", "zuora", NULL};
	char *out = NULL, *v;

	(void)state;
	NEED_SYNC();
	itest_db_create(&db);
	itest_sim_post(&demo, "/_sim/data",
		 "{\"zuora\":{\"accounts\":[{\"Id\":\"8a8aa0a0000000000000000000000041\","
		 "\"AccountNumber\":\"A00000041\",\"Name\":\"Sparse Customer\"}],"
		 "\"contacts\":[{\"Id\":\"8a8aa0c0000000000000000000000041\","
		 "\"AccountId\":\"8a8aa0a0000000000000000000000041\",\"WorkEmail\":\"a@sparse.example\"}],"
		 "\"subscriptions\":[{\"Id\":\"8a8aa0b0000000000000000000000041\",\"Name\":\"A-S00000041\","
		 "\"AccountId\":\"8a8aa0a0000000000000000000000041\",\"Status\":\"Active\","
		 "\"IsLatestVersion\":true},"
		 "{\"Id\":\"8a8aa0b0000000000000000000000042\","
		 "\"AccountId\":\"8a8aa0a0000000000000000000000041\",\"Status\":\"Active\"}]}}");
	assert_int_equal(run_sync(&db, &demo, full, &out), 0);
	assert_non_null(strstr(out, "\"result\":\"ok\""));
	assert_non_null(strstr(out, "\"rejected\":1,")); /* the one without a Name */
	free(out);
	v = itest_sql_value(&db, "SELECT version || '/' || invoice_owner_id || '/' ||"
				 " (source_updated_at = 'epoch') FROM zuora_subscriptions"
				 " WHERE number = 'A-S00000041'");
	assert_non_null(v);
	assert_string_equal(v, "1/8a8aa0a0000000000000000000000041/true");
	free(v);
	assert_int_equal(sql_long(&db, "SELECT count(*) FROM zuora_accounts WHERE number = 'A00000041'"
				       " AND source_updated_at = 'epoch'"), 1);
	assert_int_equal(sql_long(&db, "SELECT count(*) FROM zuora_contacts"
				       " WHERE id = '8a8aa0c0000000000000000000000041'"), 1);
	/* a later real UpdatedDate wins over the epoch */
	itest_sim_post(&demo, "/_sim/data",
		 "{\"zuora\":{\"subscriptions\":[{\"Id\":\"8a8aa0b0000000000000000000000041\","
		 "\"Status\":\"Cancelled\",\"Version\":1,\"UpdatedDate\":\"2025-02-01T00:00:00Z\"}]}}");
	sync_ok(&db, &demo, full);
	v = itest_sql_value(&db, "SELECT status FROM zuora_subscriptions WHERE number = 'A-S00000041'");
	assert_string_equal(v, "Cancelled");
	free(v);
	itest_db_drop(&db);
}

/*
 * The ZOQL incremental filter uses the timestamp literal form UPSTREAM.md
 * 1.6C shows ('2025-01-01T00:00:00Z'), keeping >= for the overlap;
 * queryMore sends only {"queryLocator":"..."}.
 */
static void test_zoql_request_shapes(void **state)
{
	struct itest_db db;
	const char *full[] = {"--full", "--source", "zuora", "--batch-size", "2", NULL};
	const char *incr[] = {"--source", "zuora", NULL};
	char *v;

	(void)state;
	NEED_SYNC();
	itest_db_create(&db);
	itest_sim_post(&demo, "/_sim/reset", "{}");
	sync_ok(&db, &demo, full);
	v = itest_sim_last_body(&demo, "POST /v1/action/queryMore");
	assert_non_null(v);
	{
		json_t *j = json_loads(v, 0, NULL);

		assert_non_null(j);
		assert_int_equal(json_object_size(j), 1);
		assert_true(json_is_string(json_object_get(j, "queryLocator")));
		json_decref(j);
	}
	free(v);
	itest_sim_post(&demo, "/_sim/reset", "{}");
	sync_ok(&db, &demo, incr);
	v = itest_sim_last_body(&demo, "POST /v1/action/query");
	assert_non_null(v);
	assert_non_null(strstr(v, " where UpdatedDate >= '20"));
	assert_non_null(strstr(v, "Z'"));
	assert_null(strstr(v, "+00:00"));
	free(v);
	itest_db_drop(&db);
}

/*
 * UPSTREAM.md 2.2 documents GET .../query?q=; we read quotes through
 * /queryAll (deleted ones too). An endpoint that serves only /query (404
 * NOT_FOUND on /queryAll) still gets every quote synced, through /query.
 */
static void test_salesforce_without_query_all(void **state)
{
	struct itest_sim sim;
	struct itest_db db;
	const char *sim_args[] = {"--data", SOURCE_DIR "/tests/simulator/demo.json",
				  "--sf-no-query-all", "--sf-min-batch", "2", NULL};
	const char *full[] = {"--full", "--source", "salesforce", "--batch-size", "2", NULL};

	(void)state;
	NEED_SYNC();
	itest_sim_start(&sim, sim_args);
	itest_db_create(&db);
	sync_ok(&db, &sim, full);
	assert_int_equal(sql_long(&db, "SELECT count(*) FROM sf_quotes"), 5);
	assert_true(sql_long(&db, "SELECT count(*) FROM sf_opportunity_partners") >= 1);
	/* one refused /queryAll, then /query and its nextRecordsUrl pages */
	assert_int_equal(itest_sim_stat(&sim, "routes.GET /services/data/*/queryAll"), 1);
	assert_int_equal(itest_sim_stat(&sim, "statuses.404"), 1);
	assert_true(itest_sim_stat(&sim, "routes.GET /services/data/*/query/*") >= 2);
	itest_db_drop(&db);
	itest_sim_stop(&sim);
}

static void test_configuration_errors(void **state)
{
	struct itest_db db;
	struct env e;
	const char *argv[] = {ctl_bin(), "sync", "--source", "zuora", NULL};
	const char *bad[] = {ctl_bin(), "sync", "--source", "nowhere", NULL};
	char *out = NULL;

	(void)state;
	NEED_SYNC();
	itest_db_create(&db);
	make_env(&e, &db, &demo, false, true);
	assert_int_equal(itest_run(argv, e.p, &out), 1);
	assert_non_null(strstr(out, "ZUORA_BASE_URL is not set"));
	free(out);
	assert_int_equal(itest_run(bad, e.p, &out), 2);
	free(out);
	/* All sources asked, one configured: the other is skipped. */
	{
		const char *all[] = {ctl_bin(), "--json", "sync", NULL};

		assert_int_equal(itest_run(all, e.p, &out), 0);
		assert_non_null(strstr(out, "\"state\":\"skipped\""));
		free(out);
	}
	itest_db_drop(&db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_sync_then_reruns_change_nothing),
		cmocka_unit_test(test_small_pages_token_expiry_429_and_5xx),
		cmocka_unit_test(test_garbage_and_truncated_json_keep_the_watermark),
		cmocka_unit_test(test_kill9_mid_run_then_clean_run),
		cmocka_unit_test(test_full_sync_over_some_stored_rows),
		cmocka_unit_test(test_late_older_update_does_not_regress),
		cmocka_unit_test(test_one_syncer_at_a_time),
		cmocka_unit_test(test_sync_timeout_settings),
		cmocka_unit_test(test_vp_channel_notes_synced),
		cmocka_unit_test(test_configuration_errors),
		cmocka_unit_test(test_zoql_omitted_fields_get_defaults),
		cmocka_unit_test(test_zoql_request_shapes),
		cmocka_unit_test(test_salesforce_without_query_all),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
