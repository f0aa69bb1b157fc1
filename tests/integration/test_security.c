/*
 * Authentication and verbs over every documented route (RELIABILITY.md A9
 * #12). The route list comes from api/openapi.yaml at run time (the
 * contract: a new path is covered without touching this file), read with
 * a small line scanner of its `paths:` block. Asserted:
 *  - every /v1 operation except POST /v1/webhooks/zuora is documented as
 *    needing the bearer token, and answers 401 + WWW-Authenticate: Bearer
 *    + problem+json without one, and with each of a list of bad tokens
 *    (garbage, wrong scheme, wrong length, unknown, revoked, in the query);
 *  - with a read token: 403 (insufficient_scope) for admin operations
 *    (those documenting a 403), and neither 401/403 nor 5xx for the rest;
 *  - undocumented verbs (PATCH, PUT, DELETE, FOO, ...) answer 405 with an
 *    Allow header listing exactly the documented methods;
 *  - no token ever appears in a response or in the server log.
 */
#include "itest.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_OPS 64

struct op {
	char method[8];  /* upper case */
	char path[128];  /* template, e.g. /v1/subscriptions/{key}/channel */
	bool is_public;  /* security: [] */
	bool admin;      /* documents a 403 */
};

static struct op ops[MAX_OPS];
static size_t n_ops;
static struct itest_db db;
static struct itest_server srv;
static char tok_read[128], tok_admin[128], tok_revoked[128], workflow_id[64];

static size_t indent(const char *line)
{
	return strspn(line, " ");
}

/*
 * paths:
 *   /v1/x:            <- indent 2, starts with '/'
 *     get:            <- indent 4, an HTTP method
 *       security: []  <- indent 6: a public operation
 *       responses:
 *         '403': ...  <- indent 8: a documented 403
 */
static void load_spec(void)
{
	static const char *const methods[] = {"get", "put", "post", "delete", "patch",
					      "head", "options", "trace", NULL};
	FILE *f = fopen(SOURCE_DIR "/api/openapi.yaml", "r");
	char line[1024], path[128] = "";
	bool in_paths = false, in_responses = false;
	struct op *cur = NULL;

	assert_non_null(f);
	n_ops = 0;
	while (fgets(line, sizeof(line), f)) {
		size_t ind = indent(line);
		char *s = line + ind;

		s[strcspn(s, "\r\n")] = '\0';
		if (!*s || *s == '#')
			continue;
		if (ind == 0) {
			in_paths = strcmp(s, "paths:") == 0;
			cur = NULL;
			continue;
		}
		if (!in_paths)
			continue;
		if (ind == 2 && *s == '/' && s[strlen(s) - 1] == ':') {
			snprintf(path, sizeof(path), "%.*s", (int)(strlen(s) - 1), s);
			cur = NULL;
		} else if (ind == 4) {
			const char *const *m;

			cur = NULL;
			in_responses = false;
			for (m = methods; *m; m++) {
				size_t ml = strlen(*m);

				if (strncmp(s, *m, ml) == 0 && s[ml] == ':') {
					size_t k;

					assert_true(n_ops < MAX_OPS);
					cur = &ops[n_ops++];
					memset(cur, 0, sizeof(*cur));
					for (k = 0; k < ml; k++)
						cur->method[k] = (char)((*m)[k] - 'a' + 'A');
					snprintf(cur->path, sizeof(cur->path), "%s", path);
				}
			}
		} else if (ind == 6 && cur) {
			in_responses = strncmp(s, "responses:", 10) == 0;
			if (strncmp(s, "security:", 9) == 0 && strstr(s, "[]"))
				cur->is_public = true;
		} else if (ind == 8 && cur && in_responses) {
			if (strncmp(s, "'403'", 5) == 0 || strncmp(s, "\"403\"", 5) == 0 ||
			    strncmp(s, "403:", 4) == 0)
				cur->admin = true;
		}
	}
	fclose(f);
}

/* Fill a path template with values that exist in the fixtures. */
static void concrete(const char *tmpl, char *out, size_t n)
{
	size_t o = 0;
	const char *p = tmpl;

	while (*p && o + 1 < n) {
		if (*p == '{') {
			const char *end = strchr(p, '}');
			size_t len = end ? (size_t)(end - p - 1) : 0;
			const char *v = "x";

			if (len == 3 && strncmp(p + 1, "key", 3) == 0)
				v = "A-S00000003";
			else if (len == 2 && strncmp(p + 1, "id", 2) == 0)
				v = workflow_id;
			else if (len == 4 && strncmp(p + 1, "file", 4) == 0)
				v = "app.js";
			else
				fprintf(stderr, "note: no value known for {%.*s} in %s; using x\n",
					(int)len, p + 1, tmpl);
			o += (size_t)snprintf(out + o, n - o, "%s", v);
			p = end ? end + 1 : p + strlen(p);
		} else {
			out[o++] = *p++;
		}
	}
	out[o < n ? o : n - 1] = '\0';
}

static int setup(void **state)
{
	char env0[600], auth[200], url[256];
	const char *env[] = {env0, NULL};
	const char *revoke[] = {RESELLERCTL_BIN, "token", "revoke", "sec-revoked", NULL};
	const char *senv[] = {"RESELLERD_TOKEN_CACHE_TTL=1", "RESELLERD_WEBHOOK_SECRET=sec-hook",
			      NULL};
	const char *hdr[] = {auth, NULL};
	struct itest_resp r;
	json_t *j;
	char *t;

	(void)state;
	load_spec();
	itest_db_create(&db);
	itest_load_channel_fixtures(&db);
	snprintf(env0, sizeof(env0), "DATABASE_URL=%s", db.url);
	t = itest_token(&db, "sec-reader", "read");
	snprintf(tok_read, sizeof(tok_read), "%s", t);
	free(t);
	t = itest_token(&db, "sec-admin", "admin");
	snprintf(tok_admin, sizeof(tok_admin), "%s", t);
	free(t);
	t = itest_token(&db, "sec-revoked", "admin");
	snprintf(tok_revoked, sizeof(tok_revoked), "%s", t);
	free(t);
	assert_int_equal(itest_server_start(&srv, db.url, senv), 0);

	/* the revoked token worked, then is revoked; after the 1 s token
	 * cache it must be refused */
	snprintf(url, sizeof(url), "%s/v1/status", srv.base);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok_revoked);
	assert_int_equal(itest_http("GET", url, hdr, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	itest_resp_free(&r);
	assert_int_equal(itest_run(revoke, env, NULL), 0);
	itest_sleep_ms(1200);

	/* a workflow id for /v1/workflows/{id} */
	snprintf(url, sizeof(url), "%s/v1/workflows", srv.base);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok_read);
	assert_int_equal(itest_http("GET", url, hdr, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	j = itest_json(&r);
	snprintf(workflow_id, sizeof(workflow_id), "%s",
		 json_string_value(json_object_get(json_array_get(json_object_get(j, "workflows"), 0),
						   "id")));
	json_decref(j);
	itest_resp_free(&r);
	assert_true(workflow_id[0] != '\0');
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (srv.pid)
		assert_int_equal(itest_server_stop(&srv, SIGTERM, 10), 0);
	itest_db_drop(&db);
	return 0;
}

static bool leaks_token(const struct itest_resp *r)
{
	const char *toks[] = {tok_read, tok_admin, tok_revoked, NULL};
	size_t i;

	for (i = 0; toks[i]; i++)
		if (strstr(r->body, toks[i] + 4) || strstr(r->headers, toks[i] + 4))
			return true;
	return false;
}

/* One request; auth_header is a full "Authorization: ..." line or NULL. */
static void request(const struct op *o, const char *auth_header, const char *query,
		    struct itest_resp *r)
{
	char path[256], url[512];
	const char *hdrs[] = {"Content-Type: application/json", auth_header, NULL};
	bool has_body = strcmp(o->method, "POST") == 0 || strcmp(o->method, "PUT") == 0;

	concrete(o->path, path, sizeof(path));
	snprintf(url, sizeof(url), "%s%s%s", srv.base, path, query ? query : "");
	assert_int_equal(itest_http(o->method, url, hdrs, has_body ? "{}" : NULL, r), 0);
	if (leaks_token(r)) {
		fprintf(stderr, "%s %s: a token appears in the response\n", o->method, path);
		fail();
	}
}

static void assert_problem(const struct itest_resp *r, long status, const char *what)
{
	char *ct = itest_header(r, "Content-Type");
	json_t *j;

	if (r->status != status || !ct || strcmp(ct, "application/problem+json") != 0) {
		fprintf(stderr, "%s: got %ld (%s), want %ld problem+json: %.300s\n", what, r->status,
			ct ? ct : "no Content-Type", status, r->body);
		fail();
	}
	free(ct);
	j = itest_json(r);
	assert_int_equal(json_integer_value(json_object_get(j, "status")), status);
	assert_non_null(json_string_value(json_object_get(j, "request_id")));
	json_decref(j);
}

static void assert_bearer_challenge(const struct itest_resp *r, const char *error, const char *what)
{
	char *w = itest_header(r, "WWW-Authenticate");

	if (!w || strncmp(w, "Bearer", 6) != 0 || !strstr(w, error)) {
		fprintf(stderr, "%s: WWW-Authenticate is '%s', want Bearer ... %s\n", what,
			w ? w : "(none)", error);
		fail();
	}
	free(w);
}

static void test_spec_lists_routes(void **state)
{
	size_t i, v1 = 0, v1_public = 0;

	(void)state;
	fprintf(stderr, "  %zu operations in api/openapi.yaml:\n", n_ops);
	for (i = 0; i < n_ops; i++) {
		bool is_v1 = strncmp(ops[i].path, "/v1/", 4) == 0;

		fprintf(stderr, "    %-6s %-36s%s%s\n", ops[i].method, ops[i].path,
			ops[i].is_public ? " public" : "", ops[i].admin ? " admin" : "");
		if (!is_v1)
			continue;
		v1++;
		if (ops[i].is_public) {
			v1_public++;
			/* the only documented /v1 operation without the token */
			assert_string_equal(ops[i].method, "POST");
			assert_string_equal(ops[i].path, "/v1/webhooks/zuora");
		}
	}
	/* the scanner found the table (a broken scanner would pass vacuously) */
	assert_true(v1 >= 10);
	assert_int_equal(v1_public, 1);
}

static void test_no_token_is_401_everywhere(void **state)
{
	static const char *const bad[] = {
		NULL, /* no Authorization header at all */
		"Authorization: Bearer",
		"Authorization: Bearer ",
		"Authorization: Bearer garbage",
		"Authorization: Bearer rsd_",
		"Authorization: Bearer rsd_0123",
		"Authorization: Bearer rsd_0000000000000000000000000000000000000000000000000000000000000000",
		"Authorization: Bearer rsd_ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ",
		"Authorization: Bearer rsd_0000000000000000000000000000000000000000000000000000000000000000x",
		"Authorization: Basic dXNlcjpwYXNz",
		"Authorization: Token rsd_0000000000000000000000000000000000000000000000000000000000000000",
		"Authorization: ",
		"Authorization: Bearer \x7f\x01",
		NULL,
	};
	char revoked[200], read_wrong_scheme[200], read_upper[200], query[300];
	const char *dyn[] = {revoked, read_wrong_scheme, read_upper};
	size_t i, k, checked = 0;
	char upper[128];

	(void)state;
	snprintf(revoked, sizeof(revoked), "Authorization: Bearer %s", tok_revoked);
	snprintf(read_wrong_scheme, sizeof(read_wrong_scheme), "Authorization: Basic %s", tok_read);
	snprintf(upper, sizeof(upper), "%s", tok_read);
	for (k = 4; upper[k]; k++)
		if (upper[k] >= 'a' && upper[k] <= 'f')
			upper[k] = (char)(upper[k] - 'a' + 'A');
	snprintf(read_upper, sizeof(read_upper), "Authorization: Bearer %s", upper);
	snprintf(query, sizeof(query), "?access_token=%s&token=%s", tok_read, tok_read);

	for (i = 0; i < n_ops; i++) {
		const struct op *o = &ops[i];
		char what[300];
		struct itest_resp r;

		if (strncmp(o->path, "/v1/", 4) != 0 || o->is_public)
			continue;
		/* static list (index 0 = no header) */
		for (k = 0; k == 0 || bad[k]; k++) {
			snprintf(what, sizeof(what), "%.8s %.128s with [%.100s]", o->method, o->path,
				 bad[k] ? bad[k] : "no Authorization");
			request(o, bad[k], NULL, &r);
			assert_problem(&r, 401, what);
			assert_bearer_challenge(&r, "invalid_token", what);
			itest_resp_free(&r);
			checked++;
		}
		for (k = 0; k < sizeof(dyn) / sizeof(dyn[0]); k++) {
			snprintf(what, sizeof(what), "%.8s %.128s with case %zu (revoked/Basic/upper-case)",
				 o->method, o->path, k);
			request(o, dyn[k], NULL, &r);
			assert_problem(&r, 401, what);
			assert_bearer_challenge(&r, "invalid_token", what);
			itest_resp_free(&r);
			checked++;
		}
		/* a token in the query string is not a credential */
		snprintf(what, sizeof(what), "%.8s %.128s with the token in the query", o->method, o->path);
		request(o, NULL, query, &r);
		assert_problem(&r, 401, what);
		itest_resp_free(&r);
		/* HEAD of a GET route too */
		if (strcmp(o->method, "GET") == 0) {
			struct op h = *o;

			snprintf(h.method, sizeof(h.method), "HEAD");
			request(&h, NULL, NULL, &r);
			if (r.status != 401) {
				fprintf(stderr, "HEAD %s: %ld, want 401\n", o->path, r.status);
				fail();
			}
			itest_resp_free(&r);
		}
		checked++;
	}
	fprintf(stderr, "  %zu unauthenticated requests answered 401 + Bearer challenge\n", checked);
	assert_true(checked > 100);
}

static void test_webhook_is_the_exception(void **state)
{
	struct op o = {"POST", "/v1/webhooks/zuora", true, false};
	struct itest_resp r;
	char auth[200];

	(void)state;
	/* its own credential (the webhook secret), not the bearer token */
	request(&o, NULL, NULL, &r);
	assert_problem(&r, 401, "webhook without the secret");
	itest_resp_free(&r);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok_admin);
	request(&o, auth, NULL, &r);
	assert_problem(&r, 401, "webhook with a bearer token instead of the secret");
	itest_resp_free(&r);
}

static void test_scopes(void **state)
{
	char read_auth[200], admin_auth[200];
	size_t i, admin_ops = 0;

	(void)state;
	snprintf(read_auth, sizeof(read_auth), "Authorization: Bearer %s", tok_read);
	snprintf(admin_auth, sizeof(admin_auth), "Authorization: Bearer %s", tok_admin);
	for (i = 0; i < n_ops; i++) {
		const struct op *o = &ops[i];
		struct itest_resp r;
		char what[300];

		if (strncmp(o->path, "/v1/", 4) != 0 || o->is_public)
			continue;
		snprintf(what, sizeof(what), "%.8s %.128s with a read token", o->method, o->path);
		request(o, read_auth, NULL, &r);
		fprintf(stderr, "  read  %-6s %-36s -> %ld\n", o->method, o->path, r.status);
		if (o->admin) {
			assert_problem(&r, 403, what);
			assert_bearer_challenge(&r, "insufficient_scope", what);
			admin_ops++;
		} else if (r.status == 401 || r.status == 403 || r.status >= 500) {
			fprintf(stderr, "%s: %ld: %.300s\n", what, r.status, r.body);
			fail();
		}
		itest_resp_free(&r);
		if (o->admin)
			continue; /* POST /v1/sync with admin would start a sync: not here */
		request(o, admin_auth, NULL, &r);
		if (r.status == 401 || r.status == 403 || r.status >= 500) {
			fprintf(stderr, "%s %s with an admin token: %ld\n", o->method, o->path, r.status);
			fail();
		}
		itest_resp_free(&r);
	}
	assert_true(admin_ops >= 1); /* POST /v1/sync */
}

static void test_unknown_verbs_405_with_allow(void **state)
{
	static const char *const verbs[] = {"PATCH", "PUT", "DELETE", "POST", "GET", "OPTIONS",
					    "TRACE", "FOO", "get", NULL};
	char paths[MAX_OPS][128];
	size_t n_paths = 0, i, k, checked = 0;

	(void)state;
	for (i = 0; i < n_ops; i++) {
		bool seen = false;

		for (k = 0; k < n_paths; k++)
			seen = seen || strcmp(paths[k], ops[i].path) == 0;
		if (!seen)
			snprintf(paths[n_paths++], sizeof(paths[0]), "%s", ops[i].path);
	}
	for (k = 0; k < n_paths; k++) {
		char allow_want[64] = "";
		bool has_get = false;

		for (i = 0; i < n_ops; i++)
			if (strcmp(ops[i].path, paths[k]) == 0) {
				has_get = has_get || strcmp(ops[i].method, "GET") == 0;
			}
		for (i = 0; verbs[i]; i++) {
			struct op o;
			struct itest_resp r;
			char what[300], *allow;
			size_t j;
			bool documented = false;

			for (j = 0; j < n_ops; j++)
				documented = documented || (strcmp(ops[j].path, paths[k]) == 0 &&
							    strcmp(ops[j].method, verbs[i]) == 0);
			if (documented)
				continue;
			memset(&o, 0, sizeof(o));
			snprintf(o.method, sizeof(o.method), "%s", verbs[i]);
			snprintf(o.path, sizeof(o.path), "%s", paths[k]);
			snprintf(what, sizeof(what), "%.8s %.128s", verbs[i], paths[k]);
			request(&o, NULL, NULL, &r);
			assert_problem(&r, 405, what);
			allow = itest_header(&r, "Allow");
			assert_non_null(allow);
			/* every documented method of the path, and nothing else */
			for (j = 0; j < n_ops; j++)
				if (strcmp(ops[j].path, paths[k]) == 0 && !strstr(allow, ops[j].method)) {
					fprintf(stderr, "%s: Allow '%s' lacks %s\n", what, allow,
						ops[j].method);
					fail();
				}
			{
				char copy[128], *tok, *save = NULL;

				snprintf(copy, sizeof(copy), "%s", allow);
				for (tok = strtok_r(copy, ", ", &save); tok;
				     tok = strtok_r(NULL, ", ", &save)) {
					bool ok = has_get && strcmp(tok, "HEAD") == 0;

					for (j = 0; j < n_ops; j++)
						ok = ok || (strcmp(ops[j].path, paths[k]) == 0 &&
							    strcmp(ops[j].method, tok) == 0);
					if (!ok) {
						fprintf(stderr, "%s: Allow '%s' names undocumented %s\n",
							what, allow, tok);
						fail();
					}
				}
			}
			snprintf(allow_want, sizeof(allow_want), "%s", allow);
			free(allow);
			itest_resp_free(&r);
			checked++;
		}
		fprintf(stderr, "  %-36s Allow: %s\n", paths[k], allow_want);
	}
	assert_true(checked > 50);
}

static void test_tokens_never_logged(void **state)
{
	const char *toks[] = {tok_read, tok_admin, tok_revoked, NULL};
	size_t i;

	(void)state;
	for (i = 0; toks[i]; i++) {
		/* the whole token, and its secret part alone */
		assert_false(itest_log_contains(&srv, toks[i]));
		assert_false(itest_log_contains(&srv, toks[i] + 4));
		assert_false(itest_log_contains(&srv, toks[i] + 36)); /* last 32 hex */
	}
	assert_false(itest_log_contains(&srv, "access_token"));
	/* but the names are there: the log is not simply empty */
	assert_true(itest_log_contains(&srv, "sec-reader"));
	assert_true(itest_log_contains(&srv, "sec-admin"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_lists_routes),
		cmocka_unit_test(test_no_token_is_401_everywhere),
		cmocka_unit_test(test_webhook_is_the_exception),
		cmocka_unit_test(test_scopes),
		cmocka_unit_test(test_unknown_verbs_405_with_allow),
		cmocka_unit_test(test_tokens_never_logged),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
