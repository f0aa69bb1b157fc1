/*
 * The route table, the dispatcher (route -> auth -> handler) and the
 * operational endpoints: /livez, /readyz, /healthz, /metrics, /v1/status.
 */
#include "handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "dcache.h"
#include "embedded.h"
#include "log.h"
#include "util.h"

/* The one route table (STYLE.md 15). name is the metrics label; the last
 * field says the handler may run on an HTTP pool thread (it never blocks,
 * or defers by itself when it would). */
static const struct route routes[] = {
	{"GET", "/", h_index, SCOPE_NONE, "/", true},
	{"GET", "/static/{file}", h_static, SCOPE_NONE, "/static/{file}", true},
	{"GET", "/livez", h_livez, SCOPE_NONE, "/livez", true},
	{"GET", "/readyz", h_readyz, SCOPE_NONE, "/readyz", false},
	{"GET", "/healthz", h_readyz, SCOPE_NONE, "/healthz", false},
	{"GET", "/metrics", h_metrics, SCOPE_NONE, "/metrics", false},
	{"GET", "/openapi.yaml", h_openapi, SCOPE_NONE, "/openapi.yaml", true},
	{"GET", "/docs", h_docs, SCOPE_NONE, "/docs", true},
	{"GET", "/v1/status", h_status, SCOPE_READ, "/v1/status", false},
	{"GET", "/v1/subscriptions/{key}/channel", h_channel, SCOPE_READ, "/v1/subscriptions/{key}/channel", true},
	{"POST", "/v1/channel/batch", h_batch, SCOPE_READ, "/v1/channel/batch", false},
	{"POST", "/v1/requests/evaluate", h_evaluate, SCOPE_READ, "/v1/requests/evaluate", false},
	{"GET", "/v1/customers/search", h_search, SCOPE_READ, "/v1/customers/search", false},
	{"GET", "/v1/partners", h_partners, SCOPE_READ, "/v1/partners", false},
	{"GET", "/v1/workflows", h_workflows, SCOPE_READ, "/v1/workflows", false},
	{"GET", "/v1/workflows/{id}", h_workflow, SCOPE_READ, "/v1/workflows/{id}", false},
	{"POST", "/v1/sync", h_sync_start, SCOPE_ADMIN, "/v1/sync", false},
	{"GET", "/v1/sync/status", h_sync_status, SCOPE_READ, "/v1/sync/status", false},
	{"POST", "/v1/webhooks/zuora", h_webhook_zuora, SCOPE_NONE, "/v1/webhooks/zuora", false},
};

_Static_assert(sizeof(((struct http_response *)0)->token_buf) >= AUTH_NAME_MAX,
	       "lib/http.h: token_buf holds a token name (auth.h AUTH_NAME_MAX)");

const struct route *app_routes(size_t *n)
{
	*n = ARRAY_SIZE(routes);
	return routes;
}

void app_dispatch(void *cls, struct http_request *req, struct http_response *res)
{
	struct app *app = cls;
	struct route_match m;
	enum router_result rr;
	enum scope have = SCOPE_NONE;
	bool pool_hit = false;
	enum err e;

	res->route_index = ARRAY_SIZE(routes);
	if (req->uri_too_long) {
		respond_problem(res, req, ERR_URI_TOO_LONG, "the request target is longer than 4096 bytes");
		return;
	}
	if (req->body_too_large) {
		respond_problem(res, req, ERR_TOO_LARGE, "the request body is larger than the limit");
		return;
	}
	rr = router_match(routes, ARRAY_SIZE(routes), req->method, req->path, &m);
	if (rr == ROUTE_NOT_FOUND) {
		respond_problem(res, req, ERR_NOT_FOUND, "no such resource");
		return;
	}
	if (rr == ROUTE_BAD_METHOD) {
		respond_problem(res, req, ERR_METHOD, "this resource does not accept that method");
		http_set_header(res, "Allow", m.allow);
		return;
	}
	res->route_index = m.index;
	res->route_name = m.route->name;
	if (!req->may_block && !m.route->nonblocking) {
		res->defer = true;
		return;
	}
	if (m.route->scope != SCOPE_NONE) {
		const char *authz = http_header(req, "Authorization");

		if (req->may_block) {
			e = auth_check(app->auth, authz, &have, res->token_buf);
		} else if (auth_check_cached(app->auth, authz, &e, &have, res->token_buf)) {
			/* a valid cached token counts as a hit here, unless the
			 * handler defers: the worker's auth_check counts it then
			 * (a rejected one may not have come from the cache) */
			pool_hit = e == ERR_OK;
		} else {
			res->defer = true; /* the token is not cached: ask the database */
			return;
		}
		if (e) {
			if (e == ERR_UNAUTHORIZED)
				metrics_inc(app->metrics, MC_AUTH_FAILURES, 1);
			respond_problem(res, req, e, e == ERR_UNAUTHORIZED
				? "a valid bearer token is required in the Authorization header"
				: "cannot check the token now");
		} else {
			res->token_name = res->token_buf;
			if (scope_allows(have, m.route->scope))
				m.route->fn(app, req, &m, res);
			else
				respond_problem(res, req, ERR_FORBIDDEN,
						"this token lacks the scope this resource needs");
		}
		if (pool_hit && !res->defer)
			metrics_inc(app->metrics, MC_TOKEN_CACHE_HITS, 1);
		return;
	}
	m.route->fn(app, req, &m, res);
}

void app_complete(void *cls, const struct http_request *req,
		  const struct http_response *res, double seconds)
{
	struct app *app = cls;
	char status[21], ms[26];
	const char *fields[] = {"http.request.method", req->method,
				"http.route", res->route_name ? res->route_name : "unmatched",
				"#http.response.status_code", status,
				"#duration_ms", ms,
				"client.address", req->client_ip,
				"token_name", res->token_name ? res->token_name : "",
				NULL, NULL};

	metrics_observe_request(app->metrics, res->route_index, res->status, seconds);
	if (!log_enabled(LOG_INFO))
		return;
	u64_digits(res->status, 1, status);
	/* milliseconds with three decimals, without printf on every request */
	u64_thousandths(seconds > 0 ? (uint64_t)(seconds * 1e6 + 0.5) : 0, ms);
	if (!res->token_name)
		fields[10] = NULL;
	log_fields_deferred(LOG_INFO, fields, "request");
}

HANDLER(h_livez)
{
	(void)app;
	(void)m;
	respond_json(res, 200, json_pack("{s:s}", "status", "ok"));
	(void)req;
}

HANDLER(h_readyz)
{
	char why[256];
	enum err e;
	bool verbose = http_query(req, "verbose") != NULL;

	(void)m;
	if (atomic_load(&app->draining)) {
		e = ERR_UNAVAILABLE;
		snprintf(why, sizeof(why), "shutting down");
	} else {
		e = store_ready(app->store, why, sizeof(why));
		if (e == ERR_CONFLICT)
			e = ERR_UNAVAILABLE;
	}
	if (verbose) {
		char text[400];
		int n = snprintf(text, sizeof(text), "[%c]database: %s\nreadyz check %s\n",
				 e ? '-' : '+', why, e ? "failed" : "passed");

		respond_text(res, e ? 503 : 200, CT_TEXT, text, (size_t)n);
		if (e)
			http_set_header(res, "Retry-After", "1");
		return;
	}
	if (e) {
		respond_problem(res, req, e, why);
		return;
	}
	respond_json(res, 200, json_pack("{s:s, s:s}", "status", "ready", "detail", why));
}

HANDLER(h_metrics)
{
	struct metrics_gauges g;
	struct store_stats st;
	struct buf out;
	char *body;
	size_t len;

	(void)req;
	(void)m;
	memset(&g, 0, sizeof(g));
	store_get_stats(app->store, &st);
	g.pool_size = st.size;
	g.pool_in_use = st.in_use;
	g.pool_waiting = st.waiting;
	g.pool_checkout_timeouts = st.checkout_timeouts;
	g.pool_reconnects = st.reconnects;
	g.http_inflight = app->http ? http_inflight(app->http) : 0;
	g.start_time = app->start_time;
	sync_freshness(app, g.sync_last_success, g.sync_lag_seconds);
	{
		size_t entries = 0, bytes = 0;

		if (app->dcache)
			dcache_stats(app->dcache, &entries, &bytes);
		g.decision_cache_entries = entries;
	}
	g.version = RESELLERD_VERSION;
	g.revision = RESELLERD_GIT_REV;
	buf_init(&out, 4 << 20);
	metrics_render(app->metrics, &g, &out);
	body = buf_detach(&out, &len);
	http_set_body(res, 200, "text/plain; version=0.0.4; charset=utf-8", body, len);
}

HANDLER(h_status)
{
	double last[2], lag[2];
	char when[2][40];
	int k;

	(void)req;
	(void)m;
	sync_freshness(app, last, lag);
	for (k = 0; k < 2; k++)
		if (last[k] > 0)
			format_rfc3339(last[k], when[k], sizeof(when[k]));
	/* DESIGN.md: "GET /v1/status (version, build, sync freshness per
	 * source)"; build is the source revision the binary was built from. */
	respond_json(res, 200, json_pack(
		"{s:s, s:s, s:s, s:f, s:i, s:{s:{s:o, s:o}, s:{s:o, s:o}}}", "version",
		RESELLERD_VERSION, "build", RESELLERD_GIT_REV, "revision", RESELLERD_GIT_REV,
		"uptime_seconds", now_unix() - app->start_time,
		"schema_version", migrations_latest(), "sync", "zuora", "last_success",
		last[0] > 0 ? json_string(when[0]) : json_null(), "lag_seconds",
		lag[0] >= 0 ? json_real(lag[0]) : json_null(), "salesforce", "last_success",
		last[1] > 0 ? json_string(when[1]) : json_null(), "lag_seconds",
		lag[1] >= 0 ? json_real(lag[1]) : json_null()));
}

HANDLER(h_openapi)
{
	const struct embedded_file *f = embedded_find("api/openapi.yaml");

	(void)app;
	(void)m;
	if (!f) {
		respond_problem(res, req, ERR_NOT_FOUND, "this build has no OpenAPI spec");
		return;
	}
	respond_text(res, 200, "application/yaml", (const char *)f->data, f->len);
}
