/*
 * Upstream faults (RELIABILITY.md A9 #9) against the simulator over HTTPS,
 * with a CA and a server certificate made here at run time (openssl CLI):
 *  - TLS: a certificate the client was not told to trust, or one for
 *    another host, fails closed: no request reaches the upstream, the sync
 *    error names the certificate problem, watermarks and rows stay, cached
 *    lookups keep answering. RESELLERD_CA_FILE with the test CA works.
 *  - Plain http to a non-loopback host is refused at startup (config) and
 *    when Salesforce names such an instance_url (client).
 *  - A redirect is not followed; an oversized body stops at the 10 MiB cap
 *    without a large RSS; a drip is aborted by the total timeout
 *    (read-through) and by the low-speed limit (sync, run in-process with
 *    shrunk limits: the service has no setting for the sync's limits).
 *  - A transport failure on the first ZOQL page fails the object; only a
 *    4xx refusal makes the client retry the query without SSPChannel.
 */
#include "itest.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "store.h"
#include "sync.h"
#include "upstream.h"
#include "upstream_zuora.h"

#define OPENSSL "/usr/bin/openssl"

/* ===== a test CA and a certificate for 127.0.0.1 ===== */

static char pki[64];
static char ca_key[128], ca_pem[128], key_pem[128], csr[128], ext[128], cert_pem[128];

static void run_ok(const char *const *argv)
{
	char *out = NULL;
	int rc = itest_run(argv, NULL, &out);

	if (rc != 0)
		fprintf(stderr, "%s failed (%d): %s\n", argv[1], rc, out ? out : "");
	assert_int_equal(rc, 0);
	free(out);
}

static void make_pki(void)
{
	const char *ca[] = {OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt",
			    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", ca_key, "-out",
			    ca_pem, "-days", "2", "-subj", "/CN=resellerd test CA", "-addext",
			    "basicConstraints=critical,CA:TRUE", "-addext",
			    "keyUsage=critical,keyCertSign", NULL};
	const char *req[] = {OPENSSL, "req", "-newkey", "ec", "-pkeyopt",
			     "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key_pem, "-out",
			     csr, "-subj", "/CN=127.0.0.1", NULL};
	const char *sign[] = {OPENSSL, "x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey",
			      ca_key, "-set_serial", "2", "-days", "2", "-extfile", ext, "-out",
			      cert_pem, NULL};
	FILE *f;

	snprintf(pki, sizeof(pki), "/tmp/itest-pki.XXXXXX");
	assert_non_null(mkdtemp(pki));
	snprintf(ca_key, sizeof(ca_key), "%s/ca.key", pki);
	snprintf(ca_pem, sizeof(ca_pem), "%s/ca.pem", pki);
	snprintf(key_pem, sizeof(key_pem), "%s/server.key", pki);
	snprintf(csr, sizeof(csr), "%s/server.csr", pki);
	snprintf(ext, sizeof(ext), "%s/server.ext", pki);
	snprintf(cert_pem, sizeof(cert_pem), "%s/server.pem", pki);
	run_ok(ca);
	run_ok(req);
	f = fopen(ext, "w");
	assert_non_null(f);
	fputs("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
	      "extendedKeyUsage=serverAuth\n", f);
	fclose(f);
	run_ok(sign);
}

static void remove_pki(void)
{
	const char *files[] = {ca_key, ca_pem, key_pem, csr, ext, cert_pem};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(files[i]);
	rmdir(pki);
}

/* ===== the simulator over HTTPS, resellerd, resellerctl ===== */

static void sim_start(struct itest_sim *sim, const char *instance_url)
{
	const char *args[] = {"--data", SOURCE_DIR "/tests/simulator/demo.json", "--tls-cert",
			      cert_pem, "--tls-key", key_pem, NULL, NULL, NULL};

	if (instance_url) {
		args[6] = "--sf-instance-url";
		args[7] = instance_url;
	}
	itest_sim_start(sim, args);
	assert_int_equal(strncmp(sim->base, "https://", 8), 0);
}

struct env {
	char v[10][600];
	const char *p[11];
	int n;
};

static void env_add(struct env *e, const char *name, const char *value)
{
	snprintf(e->v[e->n], sizeof(e->v[0]), "%s=%s", name, value);
	e->p[e->n] = e->v[e->n];
	e->n++;
	e->p[e->n] = NULL;
}

/* The upstream settings: Zuora at zurl, Salesforce at surl, the CA file
 * ca (NULL: the system bundle only). */
static void env_upstreams(struct env *e, const char *zurl, const char *surl, const char *ca)
{
	e->n = 0;
	e->p[0] = NULL;
	env_add(e, "ZUORA_BASE_URL", zurl);
	env_add(e, "SALESFORCE_LOGIN_URL", surl);
	env_add(e, "ZUORA_CLIENT_ID", "zuora-client");
	env_add(e, "ZUORA_CLIENT_SECRET", "zuora-secret");
	env_add(e, "SALESFORCE_CLIENT_ID", "sf-client");
	env_add(e, "SALESFORCE_CLIENT_SECRET", "sf-secret");
	if (ca)
		env_add(e, "RESELLERD_CA_FILE", ca);
}

/* One test's world: a fresh database, the HTTPS simulator, resellerd.
 * Static, so that rig_teardown can stop what a failed test left. */
struct rig {
	struct itest_db db;
	struct itest_sim sim;
	struct itest_server srv;
};
static struct rig the_rig;

static char auth[160]; /* an admin token of the rig's database */

/* A database (and auth) and a simulator with demo.json; instance_url:
 * --sf-instance-url or NULL. Servers are started per test. */
static void rig_open(struct rig *g, const char *instance_url)
{
	char *tok;

	memset(g, 0, sizeof(*g));
	itest_db_create(&g->db);
	tok = itest_token(&g->db, "faults-admin", "admin");
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
	free(tok);
	sim_start(&g->sim, instance_url);
}

/* resellerd on the rig's database with upstreams at url (NULL: the
 * simulator); ca: RESELLERD_CA_FILE or NULL; extra: "NAME=value" or NULL. */
static void rig_server(struct rig *g, const char *url, const char *ca, const char *extra)
{
	struct env e;

	env_upstreams(&e, url ? url : g->sim.base, url ? url : g->sim.base, ca);
	if (extra) {
		e.p[e.n++] = extra;
		e.p[e.n] = NULL;
	}
	assert_int_equal(itest_server_start(&g->srv, g->db.url, e.p), 0);
}

static void rig_stop_server(struct rig *g)
{
	if (g->srv.pid)
		assert_int_equal(itest_server_stop(&g->srv, SIGTERM, 15), 0);
}

static void rig_close(struct rig *g)
{
	rig_stop_server(g);
	itest_sim_stop(&g->sim);
	itest_db_drop(&g->db);
	memset(g, 0, sizeof(*g));
}

/* After every test, also one that failed half-way: nothing stays running. */
static int rig_teardown(void **state)
{
	(void)state;
	if (the_rig.srv.pid)
		itest_server_stop(&the_rig.srv, SIGKILL, 5);
	itest_sim_stop(&the_rig.sim);
	if (the_rig.db.name[0])
		itest_db_drop(&the_rig.db);
	memset(&the_rig, 0, sizeof(the_rig));
	return 0;
}

/* `resellerctl sync` over HTTPS with the test CA: fills the cache. */
static void ctl_sync(const struct rig *g)
{
	const char *argv[] = {RESELLERCTL_BIN, "--json", "sync", NULL};
	struct env e;
	char *out = NULL;
	int rc;

	env_upstreams(&e, g->sim.base, g->sim.base, ca_pem);
	env_add(&e, "DATABASE_URL", g->db.url);
	env_add(&e, "RESELLERD_LOG_LEVEL", "warn");
	rc = itest_run(argv, e.p, &out);
	if (rc != 0)
		fprintf(stderr, "resellerctl sync: %s\n", out);
	assert_int_equal(rc, 0);
	free(out);
}

static long sql_long(const struct itest_db *db, const char *sql)
{
	char *v = itest_sql_value(db, sql);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

/* POST /v1/sync, wait (up to 30 s) until all five objects finished that
 * run, and return GET /v1/sync/status; *seconds is how long it took. */
static json_t *sync_now(const struct rig *g, double *seconds)
{
	const char *hdrs[] = {auth, NULL};
	char url[256], sql[512], *t0 = itest_sql_value(&g->db, "SELECT now()::text");
	double start = itest_now();
	struct itest_resp r;
	json_t *j = NULL;

	snprintf(url, sizeof(url), "%s/v1/sync", g->srv.base);
	assert_int_equal(itest_http("POST", url, hdrs, NULL, &r), 0);
	assert_int_equal(r.status, 202);
	itest_resp_free(&r);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM sync_state WHERE last_started_at >= '%s'"
		 " AND greatest(last_success_at, last_error_at) >= last_started_at", t0);
	free(t0);
	snprintf(url, sizeof(url), "%s/v1/sync/status", g->srv.base);
	while (itest_now() - start < 30) {
		bool done = sql_long(&g->db, sql) == 5;

		assert_int_equal(itest_http("GET", url, hdrs, NULL, &r), 0);
		assert_int_equal(r.status, 200);
		j = itest_json(&r);
		itest_resp_free(&r);
		if (done && json_is_false(json_object_get(j, "running")))
			break;
		json_decref(j);
		j = NULL;
		itest_sleep_ms(50);
	}
	assert_non_null(j);
	*seconds = itest_now() - start;
	return j;
}

/* One object's entry of a /v1/sync/status answer (borrowed). */
static json_t *object(json_t *status, const char *name)
{
	size_t i;
	json_t *o;

	json_array_foreach(json_object_get(status, "objects"), i, o) {
		if (strcmp(json_string_value(json_object_get(o, "object")), name) == 0)
			return o;
	}
	fail_msg("no sync status for %s", name);
	return NULL;
}

static const char *last_error(json_t *status, const char *name)
{
	const char *e = json_string_value(json_object_get(object(status, name), "last_error"));

	return e ? e : "";
}

static void assert_error_mentions(json_t *status, const char *name, const char *needle)
{
	const char *e = last_error(status, name);

	if (!strstr(e, needle))
		fail_msg("%s: last_error \"%s\" does not mention \"%s\"", name, e, needle);
}

/* Did the object's last run succeed? (last_error stays after a later
 * success; the timestamps tell.) Same-format UTC times compare as text. */
static bool last_run_ok(json_t *status, const char *name)
{
	json_t *o = object(status, name);
	const char *ok = json_string_value(json_object_get(o, "last_success_at"));
	const char *started = json_string_value(json_object_get(o, "last_started_at"));

	return ok && started && strcmp(ok, started) >= 0;
}

static void assert_ok(json_t *status, const char *name)
{
	if (!last_run_ok(status, name))
		fail_msg("%s failed: %s", name, last_error(status, name));
}

#define NOBJ 5
static const char *const all_objects[NOBJ] = {"Account", "Contact", "Subscription", "quote",
					      "opportunity_partner"};
#define NZUORA 3 /* the first three */

/* What a committed page of an object changes: its watermark, rows and
 * last success. */
static char *object_state(const struct itest_db *db, const char *name)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT coalesce(watermark::text, '-') || ' ' || rows_total"
		 " || ' ' || coalesce(last_success_at::text, '-') FROM sync_state"
		 " WHERE object = '%s'", name);
	return itest_sql_value(db, sql);
}

static void states(const struct itest_db *db, char *out[NOBJ])
{
	for (size_t i = 0; i < NOBJ; i++)
		out[i] = object_state(db, all_objects[i]);
}

static void states_free(char *s[NOBJ])
{
	for (size_t i = 0; i < NOBJ; i++)
		free(s[i]);
}

/* Every cached row, synced_at included: any upsert changes it. */
static char *data_sum(const struct itest_db *db)
{
	return itest_sql_value(db, "SELECT md5(concat_ws('|',"
		" (SELECT string_agg(t::text, ',' ORDER BY id) FROM zuora_accounts t),"
		" (SELECT string_agg(t::text, ',' ORDER BY id) FROM zuora_contacts t),"
		" (SELECT string_agg(t::text, ',' ORDER BY number) FROM zuora_subscriptions t),"
		" (SELECT string_agg(t::text, ',' ORDER BY id) FROM sf_quotes t),"
		" (SELECT string_agg(t::text, ',' ORDER BY id) FROM sf_opportunity_partners t)))");
}

/* Newer upstream data, one row per object: a sync that succeeds stores it. */
static const char newer[] =
	"{\"zuora\":{\"subscriptions\":[{\"Id\":\"8a8aa0b0000000000000000000000003\","
	"\"Status\":\"Cancelled\",\"UpdatedDate\":\"2030-01-01T00:00:00Z\"}],"
	"\"accounts\":[{\"Id\":\"8a8aa0a0000000000000000000000003\",\"Name\":\"Renamed SAS\","
	"\"UpdatedDate\":\"2030-01-01T00:00:00Z\"}],"
	"\"contacts\":[{\"Id\":\"8a8aa0c0000000000000000000000003\",\"LastName\":\"Renamed\","
	"\"UpdatedDate\":\"2030-01-01T00:00:00Z\"}]},"
	"\"salesforce\":{\"quotes\":[{\"Id\":\"a0xDn0000000002AAA\",\"Resale_Partner__c\":\"New P\","
	"\"SystemModstamp\":\"2030-01-01T00:00:00.000+0000\"}],"
	"\"opportunity_partners\":[{\"Id\":\"00IDn0000000001AAA\",\"Role\":\"Renamed\","
	"\"SystemModstamp\":\"2030-01-01T00:00:00.000+0000\"}]}}";

/* Is the object's row of `newer` stored? */
static bool has_newer(const struct itest_db *db, const char *name)
{
	static const char *const checks[NOBJ] = {
		"SELECT count(*) FROM zuora_accounts WHERE name = 'Renamed SAS'",
		"SELECT count(*) FROM zuora_contacts WHERE last_name = 'Renamed'",
		"SELECT count(*) FROM zuora_subscriptions WHERE status = 'Cancelled'"
		" AND number = 'A-S00000003'",
		"SELECT count(*) FROM sf_quotes WHERE resale_partner = 'New P'",
		"SELECT count(*) FROM sf_opportunity_partners WHERE role = 'Renamed'",
	};

	for (size_t i = 0; i < NOBJ; i++)
		if (strcmp(all_objects[i], name) == 0)
			return sql_long(db, checks[i]) == 1;
	fail_msg("no check for %s", name);
	return false;
}

/* Nothing of the object was committed since before was taken. */
static void assert_unchanged(const struct itest_db *db, const char *name, const char *before)
{
	char *now = object_state(db, name);

	if (strcmp(now, before) != 0)
		fail_msg("%s moved: %s -> %s", name, before, now);
	free(now);
	assert_false(has_newer(db, name));
}

static long get_channel(const struct rig *g, const char *sub, json_t **body)
{
	const char *hdrs[] = {auth, NULL};
	struct itest_resp r;
	char url[256];
	long status;

	snprintf(url, sizeof(url), "%s/v1/subscriptions/%s/channel", g->srv.base, sub);
	assert_int_equal(itest_http("GET", url, hdrs, NULL, &r), 0);
	status = r.status;
	if (body)
		*body = status == 200 ? itest_json(&r) : NULL;
	itest_resp_free(&r);
	return status;
}

/* A cache miss that cannot be read through: a bounded 503, and one line
 * of the server's log names the key and says why (": why"). */
static void assert_read_through_fails(const struct rig *g, const char *sub, const char *why)
{
	double t0 = itest_now();
	char line[8192], reason[256];
	bool found = false;
	FILE *f;

	assert_int_equal(get_channel(g, sub, NULL), 503);
	assert_true(itest_now() - t0 < 5);
	snprintf(reason, sizeof(reason), "failed: %s", why);
	f = fopen(g->srv.log, "r");
	assert_non_null(f);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, sub) && strstr(line, reason);
	fclose(f);
	if (!found)
		fail_msg("no line with %s and \"%s\" in %s", sub, reason, g->srv.log);
}

/* How much the peak RSS of resellerd may grow while it reads a 50 MiB
 * body capped at 10 MiB. ASan keeps freed blocks (the buffer's smaller
 * sizes) resident in its quarantine: about 50 MiB there, 10 without. A
 * body held whole costs over 50 MiB, over 100 with ASan. */
#ifdef __SANITIZE_ADDRESS__
#define RSS_GROWTH_MAX_KIB (80 * 1024)
#else
#define RSS_GROWTH_MAX_KIB (40 * 1024)
#endif

/* Peak resident set of a process in KiB (VmHWM). */
static long peak_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmHWM:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	fclose(f);
	assert_true(kib > 0);
	return kib;
}

/* A rig whose cache was synced once over HTTPS (resellerd started with
 * the CA and extra); the simulator then holds `newer`, with fresh stats.
 * before[] is each object's state. */
static void rig_synced(struct rig *g, const char *extra, char *before[NOBJ])
{
	json_t *st;
	double secs;

	rig_open(g, NULL);
	rig_server(g, NULL, ca_pem, extra);
	st = sync_now(g, &secs);
	for (size_t i = 0; i < NOBJ; i++)
		assert_ok(st, all_objects[i]);
	json_decref(st);
	states(&g->db, before);
	itest_sim_post(&g->sim, "/_sim/data", newer);
	itest_sim_post(&g->sim, "/_sim/reset", "{}");
}

/* ===== TLS ===== */

/* A sync that cannot verify the upstream left everything as it was. */
static void assert_failed_closed(struct rig *g, const char *needle, char *before[NOBJ],
				 const char *sum)
{
	double secs;
	json_t *st = sync_now(g, &secs);
	char *sum2;

	fprintf(stderr, "  failed closed: %s\n", last_error(st, "Account"));
	assert_true(secs < 10);
	for (size_t i = 0; i < NOBJ; i++) {
		assert_error_mentions(st, all_objects[i], needle);
		assert_unchanged(&g->db, all_objects[i], before[i]);
	}
	json_decref(st);
	sum2 = data_sum(&g->db);
	assert_string_equal(sum2, sum); /* nothing stored, not even re-upserted */
	free(sum2);
	/* No request got through the handshake: no credentials were sent. */
	assert_int_equal(itest_sim_stat(&g->sim, "total"), 0);
}

static void test_untrusted_certificate_fails_closed(void **state)
{
	struct rig *g = &the_rig;
	char *before[NOBJ], *sum, wrong_host[64];
	json_t *d;

	(void)state;
	rig_open(g, NULL);
	ctl_sync(g); /* the cache, filled over HTTPS with the CA */
	itest_sim_post(&g->sim, "/_sim/data", newer);
	itest_sim_post(&g->sim, "/_sim/reset", "{}");
	states(&g->db, before);
	sum = data_sum(&g->db);

	/* No RESELLERD_CA_FILE: the system bundle does not know the test CA. */
	rig_server(g, NULL, NULL, NULL);
	assert_failed_closed(g, "SSL certificate problem", before, sum);
	/* Cached lookups keep answering; a miss cannot be read through. */
	assert_int_equal(get_channel(g, "A-S00000003", &d), 200);
	assert_string_equal(json_string_value(json_object_get(d, "channel")), "reseller");
	json_decref(d);
	assert_read_through_fails(g, "A-S00000042", "token: SSL certificate problem");
	assert_int_equal(itest_sim_stat(&g->sim, "total"), 0);
	rig_stop_server(g);

	/* The CA is trusted now, but the certificate is for 127.0.0.1. */
	snprintf(wrong_host, sizeof(wrong_host), "https://localhost:%u", g->sim.port);
	rig_server(g, wrong_host, ca_pem, NULL);
	assert_failed_closed(g, "subject name matches target host name 'localhost'", before, sum);
	free(sum);
	states_free(before);
	rig_close(g);
}

static void test_test_ca_reads_through_and_syncs(void **state)
{
	struct rig *g = &the_rig;
	json_t *st, *d;
	double secs;

	(void)state;
	rig_open(g, NULL);
	rig_server(g, NULL, ca_pem, NULL);
	/* A cache miss is read through from Zuora over HTTPS. */
	assert_int_equal(get_channel(g, "A-S00000003", &d), 200);
	assert_string_equal(json_string_value(json_object_get(d, "channel")), "reseller");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
		d, "freshness"), "zuora"), "origin")), "live");
	json_decref(d);
	st = sync_now(g, &secs);
	for (size_t i = 0; i < NOBJ; i++) {
		assert_ok(st, all_objects[i]);
		assert_true(json_is_string(json_object_get(object(st, all_objects[i]), "watermark")));
	}
	json_decref(st);
	assert_int_equal(sql_long(&g->db, "SELECT count(*) FROM zuora_accounts"), 13);
	assert_int_equal(sql_long(&g->db, "SELECT count(*) FROM zuora_subscriptions"), 8);
	assert_int_equal(sql_long(&g->db, "SELECT count(*) FROM sf_quotes"), 5);
	assert_int_equal(sql_long(&g->db, "SELECT count(*) FROM sf_opportunity_partners"), 4);
	/* Both clients authenticated against the HTTPS-only simulator. */
	assert_true(itest_sim_stat(&g->sim, "tokens_issued.zuora") >= 1);
	assert_true(itest_sim_stat(&g->sim, "tokens_issued.salesforce") >= 1);
	rig_close(g);
}

/* ===== plain http ===== */

static void test_plain_http_to_a_remote_host_is_refused(void **state)
{
	const char *z[] = {"ZUORA_BASE_URL=http://192.0.2.10:8080", NULL};
	const char *s[] = {"SALESFORCE_LOGIN_URL=http://login.example.com", NULL};
	const char *tls[] = {"ZUORA_BASE_URL=https://192.0.2.10:8443", NULL};
	struct rig *g = &the_rig;
	json_t *st;
	double secs;

	(void)state;
	/* The Salesforce token answer (upstream data) will name a plain http
	 * instance_url on a remote host. */
	rig_open(g, "http://192.0.2.10:8080");
	/* Configuration: refused at startup, naming the setting. */
	assert_int_equal(itest_server_start(&g->srv, g->db.url, z), -1);
	assert_true(itest_log_contains(&g->srv, "ZUORA_BASE_URL plain http is allowed only to"
						 " a loopback host"));
	assert_int_equal(itest_server_start(&g->srv, g->db.url, s), -1);
	assert_true(itest_log_contains(&g->srv, "SALESFORCE_LOGIN_URL plain http is allowed"
						 " only to a loopback host"));
	/* https to the same host is fine (nothing connects before a sync) */
	assert_int_equal(itest_server_start(&g->srv, g->db.url, tls), 0);
	rig_stop_server(g);
	/* Client: nothing connects to that instance_url. TEST-NET would hang
	 * until the connect timeout, on every retry. */
	rig_server(g, NULL, ca_pem, NULL);
	st = sync_now(g, &secs);
	fprintf(stderr, "  instance_url: %s\n", last_error(st, "quote"));
	assert_true(secs < 10);
	assert_error_mentions(st, "quote", "instance_url refused: plain http is allowed only to"
			      " a loopback host");
	assert_error_mentions(st, "opportunity_partner", "instance_url refused");
	for (size_t i = 0; i < NZUORA; i++)
		assert_ok(st, all_objects[i]);
	assert_int_equal(sql_long(&g->db, "SELECT count(*) FROM sf_quotes"), 0);
	json_decref(st);
	rig_close(g);
}

/* ===== redirect, oversized, drip ===== */

static void test_redirect_is_not_followed(void **state)
{
	struct rig *g = &the_rig;
	char *before[NOBJ];
	json_t *st;
	double secs;
	size_t i;

	(void)state;
	rig_synced(g, NULL, before);
	itest_sim_post(&g->sim, "/_sim/fault", "{\"path_prefix\":\"/v1/action/query\","
			      "\"kind\":\"redirect\",\"count\":-1}");
	itest_sim_post(&g->sim, "/_sim/fault", "{\"path_prefix\":\"/services/data\","
			      "\"kind\":\"redirect\",\"count\":-1}");
	st = sync_now(g, &secs);
	fprintf(stderr, "  redirect: %s\n", last_error(st, "Subscription"));
	assert_true(secs < 10);
	for (i = 0; i < NOBJ; i++) {
		assert_error_mentions(st, all_objects[i], "redirect");
		assert_error_mentions(st, all_objects[i], "302");
		assert_unchanged(&g->db, all_objects[i], before[i]);
	}
	json_decref(st);
	/* One 302 per object: not followed, not retried, and no second ZOQL
	 * query without the SSPChannel field. */
	assert_int_equal(itest_sim_stat(&g->sim, "statuses.302"), NOBJ);
	/* The next run, without the fault, stores the newer data. */
	itest_sim_post(&g->sim, "/_sim/reset", "{}");
	st = sync_now(g, &secs);
	for (i = 0; i < NOBJ; i++) {
		assert_ok(st, all_objects[i]);
		assert_true(has_newer(&g->db, all_objects[i]));
		assert_int_equal(strncmp(json_string_value(json_object_get(object(
			st, all_objects[i]), "watermark")), "2030-01-01", 10), 0);
	}
	json_decref(st);
	states_free(before);
	rig_close(g);
}

static void test_oversized_body_stops_at_the_cap(void **state)
{
	struct rig *g = &the_rig;
	char *before[NOBJ];
	json_t *st;
	double secs;
	long rss0, rss1;
	size_t i, failed = 0;

	(void)state;
	rig_synced(g, NULL, before);
	rss0 = peak_rss_kib(g->srv.pid);
	/* 50 MiB of valid JSON, chunked (no Content-Length), for the first
	 * ZOQL query of whichever Zuora object asks first. */
	itest_sim_post(&g->sim, "/_sim/fault", "{\"path_prefix\":\"/v1/action/query\","
			      "\"kind\":\"oversized\",\"bytes\":52428800}");
	st = sync_now(g, &secs);
	rss1 = peak_rss_kib(g->srv.pid);
	fprintf(stderr, "  oversized: sync %.1f s, peak RSS %ld -> %ld KiB\n", secs, rss0, rss1);
	assert_true(secs < 15);
	for (i = 0; i < NOBJ; i++) {
		const char *name = all_objects[i];

		if (last_run_ok(st, name)) {
			assert_true(has_newer(&g->db, name));
			continue;
		}
		failed++;
		assert_true(i < NZUORA);
		assert_error_mentions(st, name, "10485760-byte cap");
		assert_unchanged(&g->db, name, before[i]);
	}
	assert_int_equal(failed, 1); /* a cap hit is final: no retry */
	assert_int_equal(itest_sim_stat(&g->sim, "faults_injected"), 1);
	json_decref(st);
	/* The body was dropped at 10 MiB, never held whole: 50 MiB would
	 * show. */
	assert_true(rss1 - rss0 < RSS_GROWTH_MAX_KIB);
	states_free(before);
	rig_close(g);
}

static void test_drip_hits_the_read_through_timeout(void **state)
{
	struct rig *g = &the_rig;

	(void)state;
	rig_open(g, NULL);
	rig_server(g, NULL, ca_pem, "RESELLERD_READTHROUGH_TIMEOUT_MS=1000");
	/* 1 byte per second, well under the 100 B/s low-speed limit, but the
	 * read-through's total timeout (1 s here) ends it first. */
	itest_sim_post(&g->sim, "/_sim/fault", "{\"path_prefix\":\"/v1/subscriptions\","
			      "\"kind\":\"drip\",\"count\":-1}");
	assert_read_through_fails(g, "A-S00000003",
				  "/v1/subscriptions/A-S00000003: Operation timed out");
	assert_int_equal(sql_long(&g->db, "SELECT count(*) FROM zuora_subscriptions"), 0);
	rig_close(g);
}

/* ===== in-process: lib/'s clients with shrunk limits ===== */

/* config_load's environment for the in-process sync; NULLs are set per test. */
static const char *in_env[][2] = {
	{"DATABASE_URL", NULL}, {"ZUORA_BASE_URL", NULL}, {"SALESFORCE_LOGIN_URL", NULL},
	{"RESELLERD_CA_FILE", NULL}, {"ZUORA_CLIENT_ID", "zuora-client"},
	{"ZUORA_CLIENT_SECRET", "zuora-secret"}, {"SALESFORCE_CLIENT_ID", "sf-client"},
	{"SALESFORCE_CLIENT_SECRET", "sf-secret"},
};

static const char *in_getenv(const char *name)
{
	for (size_t i = 0; i < sizeof(in_env) / sizeof(in_env[0]); i++)
		if (strcmp(in_env[i][0], name) == 0)
			return in_env[i][1];
	return NULL;
}

/* Open the rig and a syncer that runs in this process against it. */
static struct sync *local_syncer(struct rig *g, struct config *cfg, struct store **store)
{
	struct store_options so;
	char err[512];

	rig_open(g, NULL);
	in_env[0][1] = g->db.url;
	in_env[1][1] = g->sim.base;
	in_env[2][1] = g->sim.base;
	in_env[3][1] = ca_pem;
	if (!config_load(cfg, in_getenv, err, sizeof(err)))
		fail_msg("%s", err);
	memset(&so, 0, sizeof(so));
	so.url = g->db.url;
	so.pool_size = 4;
	so.checkout_timeout_ms = 5000;
	so.statement_timeout_ms = 10000;
	so.connect_timeout_s = 5;
	so.application_name = "itest-faults";
	*store = store_open(&so);
	return sync_new(cfg, *store, NULL);
}

static void test_drip_hits_the_low_speed_limit_in_a_sync(void **state)
{
	struct rig *g = &the_rig; /* no server: the syncer runs here */
	struct sync_tuning t;
	struct sync_report rep;
	struct config cfg;
	struct store *store;
	struct sync *s;
	char *before[NOBJ];
	double t0, secs;
	enum err e;
	size_t i;

	(void)state;
	s = local_syncer(g, &cfg, &store);
	/* < 100 B/s for 2 s aborts (the service: 15 s), one attempt (the
	 * service retries a timeout). The 30 s total timeout stays, so only
	 * the low-speed limit can end a drip this early. */
	memset(&t, 0, sizeof(t));
	t.overlap_s = 300;
	t.upstream.low_speed_limit = 100;
	t.upstream.low_speed_time_s = 2;
	t.upstream.max_attempts = 1;
	sync_set_tuning(s, &t);
	assert_int_equal(sync_run(s, false, SYNC_SOURCE_ALL, &rep), ERR_OK);
	states(&g->db, before);
	itest_sim_post(&g->sim, "/_sim/data", newer);
	itest_sim_post(&g->sim, "/_sim/fault", "{\"path_prefix\":\"/v1/action/query\","
			      "\"kind\":\"drip\",\"count\":-1}");
	t0 = itest_now();
	e = sync_run(s, false, SYNC_SOURCE_ALL, &rep);
	secs = itest_now() - t0;
	fprintf(stderr, "  drip: sync failed in %.1f s: %s\n", secs, rep.error);
	assert_int_equal(e, ERR_TIMEOUT);
	assert_true(secs < 15);
	/* all_objects[] is in enum sync_object order */
	for (i = 0; i < NZUORA; i++) {
		const char *why = rep.objects[i].error;

		assert_int_equal(rep.objects[i].state, SYNC_FAILED);
		if (!strstr(why, "too slow"))
			fail_msg("%s: \"%s\" does not say too slow", all_objects[i], why);
		assert_unchanged(&g->db, all_objects[i], before[i]);
	}
	for (; i < NOBJ; i++) {
		assert_int_equal(rep.objects[i].state, SYNC_OK);
		assert_true(has_newer(&g->db, all_objects[i]));
	}
	states_free(before);
	sync_free(s);
	store_close(store);
	config_release(&cfg);
	rig_close(g);
}

/* ZOQL queries the simulator saw since its last reset. */
static long zoql_queries(const struct rig *g)
{
	return itest_sim_stat(&g->sim, "routes.POST /v1/action/query");
}

/*
 * DESIGN.md: "POST /v1/sync starts one". A trigger while a run is in
 * progress (here the startup run of RESELLERD_SYNC_INTERVAL > 0, held by
 * a stalled query) is queued, not refused: one more run starts when it
 * ends, however many triggers came meanwhile.
 */
static void test_trigger_during_a_run_is_queued(void **state)
{
	struct rig *g = &the_rig; /* no server: the syncer runs here */
	struct config cfg;
	struct store *store;
	struct sync *s;
	double t0;

	(void)state;
	s = local_syncer(g, &cfg, &store);
	itest_sim_post(&g->sim, "/_sim/reset", "{}");
	itest_sim_post(&g->sim, "/_sim/fault", "{\"path_prefix\":\"/v1/action/query\","
			      "\"kind\":\"stall\",\"seconds\":2}");
	sync_start_background(s, 300); /* the startup run begins at once */
	t0 = itest_now();
	while (!sync_running(s) && itest_now() - t0 < 10)
		itest_sleep_ms(10);
	assert_true(sync_running(s));
	assert_int_equal(sync_trigger(s), SYNC_TRIGGER_QUEUED);
	assert_int_equal(sync_trigger(s), SYNC_TRIGGER_QUEUED);
	assert_int_equal(sync_trigger(s), SYNC_TRIGGER_QUEUED);
	/* The startup run (3 ZOQL queries) and one more, not three more. */
	t0 = itest_now();
	while ((zoql_queries(g) < 6 || sync_running(s)) && itest_now() - t0 < 30)
		itest_sleep_ms(50);
	assert_int_equal(zoql_queries(g), 6);
	itest_sleep_ms(1000);
	assert_false(sync_running(s));
	assert_int_equal(zoql_queries(g), 6);
	/* Idle again: a trigger starts a run. */
	assert_int_equal(sync_trigger(s), SYNC_TRIGGER_STARTED);
	sync_stop(s);
	assert_int_equal(sync_trigger(s), SYNC_TRIGGER_UNAVAILABLE);
	sync_free(s);
	store_close(store);
	config_release(&cfg);
	rig_close(g);
}

struct rows {
	size_t n, with_ssp;
};

static enum err count_rows(void *cls, struct upstream_page *p)
{
	struct rows *r = cls;
	const struct zuora_subscription_row *row = p->rows;

	for (size_t i = 0; i < p->n; i++)
		r->with_ssp += row[i].ssp_channel != NULL;
	r->n += p->n;
	return ERR_OK;
}

/* Query Zuora subscriptions with one fault on the first ZOQL page. */
static enum err query_with_fault(struct zuora_client *z, const struct itest_sim *sim,
				 const char *kind, struct rows *rows, long *queries)
{
	char fault[256];
	enum err e;

	itest_sim_post(sim, "/_sim/reset", "{}");
	if (kind) {
		snprintf(fault, sizeof(fault), "{\"path_prefix\":\"/v1/action/query\","
			 "\"kind\":\"%s\",\"status\":400}", kind);
		itest_sim_post(sim, "/_sim/fault", fault);
	}
	memset(rows, 0, sizeof(*rows));
	e = zuora_query(z, SYNC_ZUORA_SUBSCRIPTION, NULL, count_rows, rows);
	*queries = itest_sim_stat(sim, "routes.POST /v1/action/query");
	return e;
}

static void test_zoql_transport_failure_is_not_a_missing_field(void **state)
{
	struct rig *g = &the_rig; /* no server: the client runs here */
	struct zuora_options o;
	struct zuora_client *z;
	struct rows rows;
	char why[256];
	long queries;

	(void)state;
	rig_open(g, NULL);
	memset(&o, 0, sizeof(o));
	o.base_url = g->sim.base;
	o.client_id = "zuora-client";
	o.client_secret = "zuora-secret";
	o.ssp_field = "SSPChannel__c";
	o.ca_file = ca_pem;
	o.tuning.max_attempts = 2;
	o.tuning.backoff_base_ms = 50;
	z = zuora_new(&o, why, sizeof(why));
	assert_non_null(z);
	/* Normally the field is selected and some subscriptions carry it. */
	assert_int_equal(query_with_fault(z, &g->sim, NULL, &rows, &queries), ERR_OK);
	assert_int_equal(rows.n, 9);
	assert_true(rows.with_ssp > 0);
	assert_int_equal(queries, 1);
	/* A redirect or a garbled page is no reason to drop the field: the
	 * object fails, after one query. */
	assert_int_equal(query_with_fault(z, &g->sim, "redirect", &rows, &queries), ERR_UPSTREAM);
	assert_non_null(strstr(zuora_last_error(z), "redirect"));
	assert_int_equal(rows.n, 0);
	assert_int_equal(queries, 1);
	assert_int_equal(query_with_fault(z, &g->sim, "garbage", &rows, &queries), ERR_UPSTREAM);
	assert_int_equal(rows.n, 0);
	assert_int_equal(queries, 1);
	/* Zuora refusing the query (4xx, as for a field the object lacks) is:
	 * the query runs again without it. */
	assert_int_equal(query_with_fault(z, &g->sim, "status", &rows, &queries), ERR_OK);
	assert_int_equal(rows.n, 9);
	assert_int_equal(rows.with_ssp, 0);
	assert_int_equal(queries, 2);
	zuora_free(z);
	rig_close(g);
}

/* Query subscriptions with z after clearing the simulator's stats and
 * queueing fault (NULL: none). */
static enum err query_after(struct zuora_client *z, const struct itest_sim *sim,
			    const char *fault)
{
	struct rows rows;

	itest_sim_post(sim, "/_sim/reset", "{}");
	if (fault)
		itest_sim_post(sim, "/_sim/fault", fault);
	memset(&rows, 0, sizeof(rows));
	return zuora_query(z, SYNC_ZUORA_SUBSCRIPTION, NULL, count_rows, &rows);
}

/*
 * UPSTREAM.md 1.2: "Reuse tokens until they expire" and "On a 401, get a
 * new token and retry once". Two clients sharing the process's token
 * cache ask for one token between them; a 401 gets one new token and one
 * retry, and a 401 on that retry is the answer, with no further token.
 */
static void test_tokens_reused_and_401_retried_once(void **state)
{
	struct rig *g = &the_rig; /* no server: the clients run here */
	struct upstream_token *tokens = upstream_token_new();
	struct zuora_client *z1, *z2;
	struct zuora_options o;
	char why[256];

	(void)state;
	rig_open(g, NULL);
	memset(&o, 0, sizeof(o));
	o.base_url = g->sim.base;
	o.client_id = "zuora-client";
	o.client_secret = "zuora-secret";
	o.ca_file = ca_pem;
	o.tuning.max_attempts = 3;
	o.tuning.backoff_base_ms = 20;
	o.tokens = tokens;
	z1 = zuora_new(&o, why, sizeof(why));
	z2 = zuora_new(&o, why, sizeof(why));
	assert_non_null(z1);
	assert_non_null(z2);
	itest_sim_post(&g->sim, "/_sim/reset", "{}");
	assert_int_equal(query_after(z1, &g->sim, NULL), ERR_OK);
	assert_int_equal(query_after(z2, &g->sim, NULL), ERR_OK);
	assert_int_equal(query_after(z1, &g->sim, NULL), ERR_OK);
	assert_int_equal(upstream_token_fetches(tokens), 1);
	/* The token dies: one new token (for both clients), one retry. */
	assert_int_equal(query_after(z2, &g->sim, "{\"path_prefix\":\"/v1/action/query\","
				     "\"kind\":\"expire_tokens\"}"), ERR_OK);
	assert_int_equal(itest_sim_stat(&g->sim, "tokens_issued.zuora"), 1);
	assert_int_equal(itest_sim_stat(&g->sim, "statuses.401"), 1);
	assert_int_equal(query_after(z1, &g->sim, NULL), ERR_OK);
	assert_int_equal(itest_sim_stat(&g->sim, "tokens_issued.zuora"), 0);
	/* The new token is refused too: that 401 is the answer. */
	assert_int_equal(query_after(z1, &g->sim, "{\"path_prefix\":\"/v1/action/query\","
				     "\"kind\":\"expire_tokens\",\"count\":2}"), ERR_UNAUTHORIZED);
	assert_int_equal(itest_sim_stat(&g->sim, "tokens_issued.zuora"), 1);
	assert_int_equal(itest_sim_stat(&g->sim, "statuses.401"), 2);
	assert_int_equal(itest_sim_stat(&g->sim, "routes.POST /v1/action/query"), 2);
	zuora_free(z1);
	zuora_free(z2);
	upstream_token_free(tokens);
	rig_close(g);
}

static int setup(void **state)
{
	(void)state;
	make_pki();
	/* itest_http (simulator control, stats) trusts the test CA. */
	setenv("ITEST_CAINFO", ca_pem, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unsetenv("ITEST_CAINFO");
	remove_pki();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_untrusted_certificate_fails_closed, rig_teardown),
		cmocka_unit_test_teardown(test_test_ca_reads_through_and_syncs, rig_teardown),
		cmocka_unit_test_teardown(test_plain_http_to_a_remote_host_is_refused, rig_teardown),
		cmocka_unit_test_teardown(test_redirect_is_not_followed, rig_teardown),
		cmocka_unit_test_teardown(test_oversized_body_stops_at_the_cap, rig_teardown),
		cmocka_unit_test_teardown(test_drip_hits_the_read_through_timeout, rig_teardown),
		cmocka_unit_test_teardown(test_drip_hits_the_low_speed_limit_in_a_sync, rig_teardown),
		cmocka_unit_test_teardown(test_zoql_transport_failure_is_not_a_missing_field, rig_teardown),
		cmocka_unit_test_teardown(test_tokens_reused_and_401_retried_once, rig_teardown),
		cmocka_unit_test_teardown(test_trigger_during_a_run_is_queued, rig_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	if (!upstream_global_init())
		return 1;
	log_set_level(LOG_WARN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
