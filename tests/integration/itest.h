#pragma once
/*
 * itest: helpers for integration tests that talk to real things: a fresh
 * PostgreSQL database per test (in the cluster scripts/check started), the
 * real resellerd binary over real HTTP, resellerctl, the simulator.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/types.h>

#include <cmocka.h>
#include <jansson.h>

struct itest_db {
	char name[64];
	char url[512];
};

/* Create a fresh database and migrate it with resellerctl. Fails the
 * test when the cluster is missing (run through scripts/check). */
void itest_db_create(struct itest_db *db);
void itest_db_drop(struct itest_db *db);
/* resellerctl partners import csv into db; fails the test if it fails. */
void itest_partners_import(const struct itest_db *db, const char *csv);
/* Load tests/fixtures/channels.sql (one subscription per channel) and
 * import tests/fixtures/partners.csv with resellerctl. */
void itest_load_channel_fixtures(const struct itest_db *db);
/* A file's contents (malloc'd, NUL-terminated); fails the test if unreadable. */
char *itest_slurp(const char *path);
/* Run SQL on db (several statements allowed); fails the test on error. */
void itest_sql(const struct itest_db *db, const char *sql);
/* The first column of the first row as a malloc'd string (NULL if none). */
char *itest_sql_value(const struct itest_db *db, const char *sql);

struct itest_server {
	pid_t pid;
	unsigned port;
	char base[64];    /* http://127.0.0.1:PORT */
	char log[256];    /* its stdout+stderr */
};

/* Start build/resellerd on an ephemeral port against db_url, with extra
 * "NAME=value" environment entries (NULL-terminated, may be NULL). Waits
 * for its "listening" log line. Returns 0, or -1 if it exited. */
int itest_server_start(struct itest_server *s, const char *db_url,
		       const char *const *env);
/* Send sig (SIGTERM) and wait up to timeout_s; returns the exit status
 * (or -1 if it had to be killed). */
int itest_server_stop(struct itest_server *s, int sig, int timeout_s);
/* Does the server's log contain needle? */
bool itest_log_contains(const struct itest_server *s, const char *needle);

struct itest_resp {
	long status;
	char *body;
	size_t len;
	char *headers; /* raw header block */
	double seconds;
};

/* One HTTP request with libcurl. headers: NULL-terminated "Name: value"
 * list or NULL. Returns 0 or -1 on a transport error (r->status 0). */
int itest_http(const char *method, const char *url, const char *const *headers,
	       const char *body, struct itest_resp *r);
void itest_resp_free(struct itest_resp *r);
/* A response header's value (malloc'd) or NULL. */
char *itest_header(const struct itest_resp *r, const char *name);
/* Parse the body as JSON (fails the test if it is not). */
json_t *itest_json(const struct itest_resp *r);

/* Run a command with extra env, capture stdout (malloc'd) and exit code. */
int itest_run(const char *const *argv, const char *const *env, char **out);
/* Create a token with resellerctl for db; returns malloc'd token. */
char *itest_token(const struct itest_db *db, const char *name, const char *scope);

/* The PostgreSQL test cluster directory (RESELLERD_TEST_PGDIR). */
const char *itest_pgdir(void);
/* scripts/pg start|stop|kill on the test cluster. */
void itest_pg(const char *what);
/* Sleep for ms milliseconds. */
void itest_sleep_ms(unsigned ms);
double itest_now(void);

/* The Zuora + Salesforce simulator (tests/simulator) on an ephemeral port,
 * with extra command-line arguments (NULL-terminated, may be NULL). With
 * --tls-cert it serves HTTPS: base is https://, and itest_http trusts
 * the CA named by the ITEST_CAINFO environment variable. */
struct itest_sim {
	pid_t pid;
	unsigned port;
	char base[64]; /* http://127.0.0.1:PORT or https://... */
};
void itest_sim_start(struct itest_sim *s, const char *const *extra);
void itest_sim_stop(struct itest_sim *s);
/* POST JSON to a simulator path (/_sim/fault, /_sim/data, ...); 200 expected. */
void itest_sim_post(const struct itest_sim *s, const char *path, const char *json);
/* A count from GET /_sim/stats since the last /_sim/reset: "total", or
 * one level down after the first dot ("statuses.302", "tokens_issued.zuora",
 * "routes.POST /v1/action/query"); 0 when absent. */
long itest_sim_stat(const struct itest_sim *s, const char *key);
/* The last request body the simulator received on a route key ("POST
 * /v1/action/query"), since the last /_sim/reset (malloc'd; NULL: none). */
char *itest_sim_last_body(const struct itest_sim *s, const char *route);
