/*
 * The service skeleton against a real PostgreSQL and real HTTP:
 * migrations, health endpoints, routing errors, request ids, size caps,
 * pool exhaustion, database loss and recovery, graceful shutdown.
 */
#include "itest.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct itest_db db;

static int setup(void **state)
{
	(void)state;
	itest_db_create(&db);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	itest_db_drop(&db);
	return 0;
}

static void get(const struct itest_server *s, const char *path, struct itest_resp *r)
{
	char url[8192 + 128];

	snprintf(url, sizeof(url), "%s%s", s->base, path);
	assert_int_equal(itest_http("GET", url, NULL, NULL, r), 0);
}

static void test_migrate_idempotent_and_concurrent(void **state)
{
	struct itest_db fresh;
	char env0[600];
	const char *env[] = {env0, NULL};
	const char *argv[] = {RESELLERCTL_BIN, "--json", "migrate", NULL};
	char *out = NULL, *count;
	pid_t a, b;
	int sa, sb;

	(void)state;
	/* Already migrated by itest_db_create: a second run applies nothing. */
	snprintf(env0, sizeof(env0), "DATABASE_URL=%s", db.url);
	assert_int_equal(itest_run(argv, env, &out), 0);
	assert_non_null(strstr(out, "\"applied\":0"));
	free(out);

	/* Two migrators at once on an empty database: both succeed, each
	 * migration is applied exactly once. */
	itest_db_create(&fresh);
	itest_sql(&fresh, "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
	snprintf(env0, sizeof(env0), "DATABASE_URL=%s", fresh.url);
	a = fork();
	if (a == 0)
		_exit(itest_run(argv, env, NULL));
	b = fork();
	if (b == 0)
		_exit(itest_run(argv, env, NULL));
	waitpid(a, &sa, 0);
	waitpid(b, &sb, 0);
	assert_true(WIFEXITED(sa) && WEXITSTATUS(sa) == 0);
	assert_true(WIFEXITED(sb) && WEXITSTATUS(sb) == 0);
	count = itest_sql_value(&fresh, "SELECT count(*) = max(version) FROM schema_migrations");
	assert_string_equal(count, "t");
	free(count);
	itest_db_drop(&fresh);
}

static void test_refuses_to_start_when_schema_behind(void **state)
{
	struct itest_db fresh;
	struct itest_server s;

	(void)state;
	itest_db_create(&fresh);
	itest_sql(&fresh, "DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)");
	assert_int_equal(itest_server_start(&s, fresh.url, NULL), -1);
	itest_db_drop(&fresh);
}

static void test_health_and_routing(void **state)
{
	struct itest_server s;
	struct itest_resp r;
	char url[256];
	const char *hdr[] = {"X-Request-Id: trace-abc.123", NULL};
	const char *badhdr[] = {"X-Request-Id: bad id with spaces", NULL};
	json_t *j;
	char *v;

	(void)state;
	assert_int_equal(itest_server_start(&s, db.url, NULL), 0);

	get(&s, "/livez", &r);
	assert_int_equal(r.status, 200);
	itest_resp_free(&r);

	get(&s, "/readyz", &r);
	assert_int_equal(r.status, 200);
	j = itest_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "ready");
	json_decref(j);
	itest_resp_free(&r);

	get(&s, "/healthz", &r);
	assert_int_equal(r.status, 200);
	itest_resp_free(&r);

	get(&s, "/readyz?verbose", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "readyz check passed"));
	itest_resp_free(&r);

	/* unknown path: 404 problem+json with request_id */
	get(&s, "/nope", &r);
	assert_int_equal(r.status, 404);
	v = itest_header(&r, "Content-Type");
	assert_string_equal(v, "application/problem+json");
	free(v);
	j = itest_json(&r);
	assert_int_equal(json_integer_value(json_object_get(j, "status")), 404);
	assert_non_null(json_string_value(json_object_get(j, "request_id")));
	assert_non_null(json_string_value(json_object_get(j, "type")));
	assert_non_null(json_string_value(json_object_get(j, "title")));
	json_decref(j);
	itest_resp_free(&r);

	/* wrong method: 405 with Allow */
	snprintf(url, sizeof(url), "%s/livez", s.base);
	assert_int_equal(itest_http("DELETE", url, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 405);
	v = itest_header(&r, "Allow");
	assert_non_null(v);
	assert_non_null(strstr(v, "GET"));
	free(v);
	itest_resp_free(&r);

	/* request ids: a good one is echoed, a bad one replaced */
	assert_int_equal(itest_http("GET", url, hdr, NULL, &r), 0);
	v = itest_header(&r, "X-Request-Id");
	assert_string_equal(v, "trace-abc.123");
	free(v);
	itest_resp_free(&r);
	assert_int_equal(itest_http("GET", url, badhdr, NULL, &r), 0);
	v = itest_header(&r, "X-Request-Id");
	assert_non_null(v);
	assert_int_equal(strlen(v), 36);
	free(v);
	itest_resp_free(&r);
	assert_true(itest_log_contains(&s, "\"request_id\":\"trace-abc.123\""));

	/* /v1 needs a token */
	get(&s, "/v1/status", &r);
	assert_int_equal(r.status, 401);
	v = itest_header(&r, "WWW-Authenticate");
	assert_non_null(v);
	assert_true(strncmp(v, "Bearer", 6) == 0);
	free(v);
	itest_resp_free(&r);

	/* the contract and its HTML reference are served */
	get(&s, "/openapi.yaml", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "openapi: 3.1.0"));
	itest_resp_free(&r);
	get(&s, "/docs", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "/v1/subscriptions/{key}/channel"));
	v = itest_header(&r, "Content-Security-Policy");
	assert_non_null(v);
	assert_null(strstr(v, "script-src"));
	free(v);
	itest_resp_free(&r);

	/* metrics: Prometheus text with our request counter */
	get(&s, "/metrics", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "# TYPE resellerd_http_requests_total counter"));
	assert_non_null(strstr(r.body, "resellerd_http_requests_total{route=\"/livez\",code=\"200\"}"));
	assert_non_null(strstr(r.body, "resellerd_http_request_duration_seconds_bucket"));
	assert_non_null(strstr(r.body, "resellerd_db_pool_connections"));
	itest_resp_free(&r);

	assert_int_equal(itest_server_stop(&s, SIGTERM, 10), 0);
}

static void test_status_with_token(void **state)
{
	struct itest_server s;
	struct itest_resp r;
	char url[256], auth[200];
	char *token = itest_token(&db, "status-reader", "read");
	const char *hdr[] = {auth, NULL};
	json_t *j;

	(void)state;
	assert_int_equal(itest_server_start(&s, db.url, NULL), 0);
	snprintf(url, sizeof(url), "%s/v1/status", s.base);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	assert_int_equal(itest_http("GET", url, hdr, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	j = itest_json(&r);
	assert_non_null(json_string_value(json_object_get(j, "version")));
	assert_non_null(json_string_value(json_object_get(j, "revision")));
	/* DESIGN.md: version, build, sync freshness per source */
	assert_non_null(json_string_value(json_object_get(j, "build")));
	assert_true(json_is_object(json_object_get(json_object_get(j, "sync"), "zuora")));
	assert_true(json_is_object(json_object_get(json_object_get(j, "sync"), "salesforce")));
	assert_true(json_is_number(json_object_get(j, "uptime_seconds")));
	json_decref(j);
	itest_resp_free(&r);
	/* the token never reaches the log; its name does */
	assert_false(itest_log_contains(&s, token));
	assert_true(itest_log_contains(&s, "status-reader"));
	assert_int_equal(itest_server_stop(&s, SIGTERM, 10), 0);
	free(token);
}

static void test_size_caps(void **state)
{
	struct itest_server s;
	struct itest_resp r;
	char *path = malloc(40000), *hdrbuf = malloc(120000), *body = malloc(100000);
	const char *hdrs[] = {hdrbuf, NULL};
	char url[41000];

	(void)state;
	assert_int_equal(itest_server_start(&s, db.url, NULL), 0);
	/* a long URI we route ourselves: 414 problem */
	memset(path, 'a', 8000);
	path[0] = '/';
	path[8000] = '\0';
	get(&s, path, &r);
	assert_int_equal(r.status, 414);
	itest_resp_free(&r);
	/* longer than the connection memory: MHD answers 414 itself */
	memset(path, 'a', 39000);
	path[0] = '/';
	path[39000] = '\0';
	snprintf(url, sizeof(url), "%s%s", s.base, path);
	assert_int_equal(itest_http("GET", url, NULL, NULL, &r), 0);
	assert_true(r.status == 414 || r.status == 431);
	itest_resp_free(&r);
	/* 100 KiB of header: 431 */
	memcpy(hdrbuf, "X-Big: ", 7);
	memset(hdrbuf + 7, 'b', 100000);
	hdrbuf[100007] = '\0';
	snprintf(url, sizeof(url), "%s/livez", s.base);
	assert_int_equal(itest_http("GET", url, hdrs, NULL, &r), 0);
	assert_int_equal(r.status, 431);
	itest_resp_free(&r);
	/* a body over RESELLERD_MAX_BODY: 413 */
	memset(body, 'x', 99999);
	body[99999] = '\0';
	assert_int_equal(itest_http("POST", url, NULL, body, &r), 0);
	assert_int_equal(r.status, 413);
	itest_resp_free(&r);
	/* and the server is still fine */
	get(&s, "/livez", &r);
	assert_int_equal(r.status, 200);
	itest_resp_free(&r);
	assert_int_equal(itest_server_stop(&s, SIGTERM, 10), 0);
	free(path);
	free(hdrbuf);
	free(body);
}

struct bg_get {
	const struct itest_server *s;
	const char *path;
	struct itest_resp r;
};

static void *bg_get_run(void *arg)
{
	struct bg_get *g = arg;
	char url[256];

	snprintf(url, sizeof(url), "%s%s", g->s->base, g->path);
	itest_http("GET", url, NULL, NULL, &g->r);
	return NULL;
}

/* Hold an ACCESS EXCLUSIVE lock on schema_migrations, so every /readyz
 * query blocks: a slow query that the test controls. */
static PGconn *lock_schema(void)
{
	char url[512];
	PGconn *pg;
	PGresult *r;

	snprintf(url, sizeof(url), "%s", db.url);
	pg = PQconnectdb(url);
	assert_int_equal(PQstatus(pg), CONNECTION_OK);
	r = PQexec(pg, "BEGIN; LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE");
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	return pg;
}

static void unlock_schema(PGconn *pg)
{
	PQclear(PQexec(pg, "ROLLBACK"));
	PQfinish(pg);
}

static void test_pool_exhaustion_answers_503(void **state)
{
	const char *env[] = {"RESELLERD_DB_POOL_SIZE=1", "RESELLERD_DB_CHECKOUT_TIMEOUT_MS=500",
			     "RESELLERD_DB_STATEMENT_TIMEOUT_MS=10000", NULL};
	struct itest_server s;
	struct bg_get slow;
	struct itest_resp r;
	pthread_t t;
	PGconn *lock;
	char *retry;

	(void)state;
	assert_int_equal(itest_server_start(&s, db.url, env), 0);
	lock = lock_schema();
	slow.s = &s;
	slow.path = "/readyz";
	pthread_create(&t, NULL, bg_get_run, &slow);
	itest_sleep_ms(300); /* the slow request now holds the only connection */
	get(&s, "/readyz", &r);
	assert_int_equal(r.status, 503);
	assert_true(r.seconds >= 0.4 && r.seconds < 2.0);
	retry = itest_header(&r, "Retry-After");
	assert_non_null(retry);
	free(retry);
	itest_resp_free(&r);
	/* /livez never needs the pool */
	get(&s, "/livez", &r);
	assert_int_equal(r.status, 200);
	itest_resp_free(&r);
	unlock_schema(lock);
	pthread_join(t, NULL);
	assert_int_equal(slow.r.status, 200);
	itest_resp_free(&slow.r);
	assert_int_equal(itest_server_stop(&s, SIGTERM, 10), 0);
}

static void test_sigterm_drains_in_flight(void **state)
{
	struct itest_server s;
	struct bg_get slow[3];
	pthread_t t[3];
	PGconn *lock;
	int i, rc;

	(void)state;
	assert_int_equal(itest_server_start(&s, db.url, NULL), 0);
	lock = lock_schema();
	for (i = 0; i < 3; i++) {
		slow[i].s = &s;
		slow[i].path = "/readyz";
		pthread_create(&t[i], NULL, bg_get_run, &slow[i]);
	}
	itest_sleep_ms(300);
	kill(s.pid, SIGTERM);
	itest_sleep_ms(700);
	unlock_schema(lock);
	for (i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(slow[i].r.status, 200);
		itest_resp_free(&slow[i].r);
	}
	rc = itest_server_stop(&s, SIGTERM, 10);
	assert_int_equal(rc, 0);
}

static void test_database_restart_recovers(void **state)
{
	struct itest_server s;
	struct itest_resp r;
	double t0;
	int ok = 0;

	(void)state;
	assert_int_equal(itest_server_start(&s, db.url, NULL), 0);
	get(&s, "/readyz", &r);
	assert_int_equal(r.status, 200);
	itest_resp_free(&r);

	itest_pg("kill");
	t0 = itest_now();
	get(&s, "/readyz", &r);
	assert_int_equal(r.status, 503);
	assert_true(itest_now() - t0 < 3.0);
	assert_non_null(strstr(r.body, "\"status\":503"));
	itest_resp_free(&r);
	get(&s, "/livez", &r);
	assert_int_equal(r.status, 200);
	itest_resp_free(&r);

	itest_pg("start");
	t0 = itest_now();
	while (itest_now() - t0 < 5.0 && !ok) {
		get(&s, "/readyz", &r);
		ok = r.status == 200;
		itest_resp_free(&r);
		if (!ok)
			itest_sleep_ms(100);
	}
	assert_true(ok);
	assert_int_equal(itest_server_stop(&s, SIGTERM, 10), 0);
}

static void test_tls_listener(void **state)
{
	const char *gen[] = {"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
			     "-keyout", "/tmp/itest-tls.key", "-out", "/tmp/itest-tls.crt", "-days", "1",
			     "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1", NULL};
	const char *env[] = {"RESELLERD_TLS_CERT=/tmp/itest-tls.crt",
			     "RESELLERD_TLS_KEY=/tmp/itest-tls.key", NULL};
	const char *half[] = {"RESELLERD_TLS_CERT=/tmp/itest-tls.crt", NULL};
	struct itest_server s;
	struct itest_resp r;
	char url[128];

	(void)state;
	assert_int_equal(itest_run(gen, NULL, NULL), 0);
	/* a certificate without its key is a configuration error */
	assert_int_equal(itest_server_start(&s, db.url, half), -1);
	assert_int_equal(itest_server_start(&s, db.url, env), 0);
	setenv("ITEST_CAINFO", "/tmp/itest-tls.crt", 1);
	snprintf(url, sizeof(url), "https://127.0.0.1:%u/readyz", s.port);
	assert_int_equal(itest_http("GET", url, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	itest_resp_free(&r);
	unsetenv("ITEST_CAINFO");
	/* plain HTTP to the TLS port gets nothing useful */
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/readyz", s.port);
	itest_http("GET", url, NULL, NULL, &r);
	assert_true(r.status != 200);
	itest_resp_free(&r);
	assert_int_equal(itest_server_stop(&s, SIGTERM, 10), 0);
	unlink("/tmp/itest-tls.crt");
	unlink("/tmp/itest-tls.key");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrate_idempotent_and_concurrent),
		cmocka_unit_test(test_refuses_to_start_when_schema_behind),
		cmocka_unit_test(test_health_and_routing),
		cmocka_unit_test(test_status_with_token),
		cmocka_unit_test(test_size_caps),
		cmocka_unit_test(test_pool_exhaustion_answers_503),
		cmocka_unit_test(test_sigterm_drains_in_flight),
		cmocka_unit_test(test_database_restart_recovers),
		cmocka_unit_test(test_tls_listener),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
