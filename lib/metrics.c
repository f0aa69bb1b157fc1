#include "metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Status codes we count separately; anything else counts as "other". */
static const unsigned statuses[] = {200, 201, 202, 204, 304, 400, 401, 403, 404,
				    405, 406, 409, 413, 414, 415, 422, 429, 431,
				    500, 502, 503, 504};
#define N_STATUS (ARRAY_SIZE(statuses) + 1)

static const double buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
				 0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
				 1.0,    2.5,     5.0,    10.0};
#define N_BUCKETS (ARRAY_SIZE(buckets))

struct route_stats {
	atomic_uint_fast64_t by_status[N_STATUS];
	atomic_uint_fast64_t bucket[N_BUCKETS + 1]; /* last: +Inf */
	atomic_uint_fast64_t sum_ns;
};

struct metrics {
	const char **names; /* owned array; the strings are borrowed */
	size_t n;
	struct route_stats routes[METRICS_MAX_ROUTES + 1];
	atomic_uint_fast64_t counters[MC__COUNT];
};

static const struct {
	const char *name;
	const char *labels;
	const char *help;
} counter_info[MC__COUNT] = {
	[MC_DECISION_CACHE_HITS] = {"resellerd_decision_cache_hits_total", "", "Channel decisions answered from the in-process cache."},
	[MC_DECISION_CACHE_MISSES] = {"resellerd_decision_cache_misses_total", "", "Channel decisions built from the database."},
	[MC_DECISION_CACHE_EVICTIONS] = {"resellerd_decision_cache_evictions_total", "", "Decisions evicted to keep the cache within its size."},
	[MC_TOKEN_CACHE_HITS] = {"resellerd_token_cache_hits_total", "", "Token checks answered from memory."},
	[MC_TOKEN_CACHE_MISSES] = {"resellerd_token_cache_misses_total", "", "Token checks that read the database."},
	[MC_AUTH_FAILURES] = {"resellerd_auth_failures_total", "", "Requests refused with 401."},
	[MC_UPSTREAM_ZUORA_CALLS] = {"resellerd_upstream_requests_total", "source=\"zuora\"", "HTTP requests sent to an upstream."},
	[MC_UPSTREAM_ZUORA_ERRORS] = {"resellerd_upstream_errors_total", "source=\"zuora\"", "Upstream requests that failed after retries."},
	[MC_UPSTREAM_ZUORA_RETRIES] = {"resellerd_upstream_retries_total", "source=\"zuora\"", "Upstream requests retried."},
	[MC_UPSTREAM_SALESFORCE_CALLS] = {"resellerd_upstream_requests_total", "source=\"salesforce\"", NULL},
	[MC_UPSTREAM_SALESFORCE_ERRORS] = {"resellerd_upstream_errors_total", "source=\"salesforce\"", NULL},
	[MC_UPSTREAM_SALESFORCE_RETRIES] = {"resellerd_upstream_retries_total", "source=\"salesforce\"", NULL},
	[MC_SYNC_ROWS_ZUORA] = {"resellerd_sync_rows_total", "source=\"zuora\"", "Rows upserted by sync."},
	[MC_SYNC_ROWS_SALESFORCE] = {"resellerd_sync_rows_total", "source=\"salesforce\"", NULL},
	[MC_SYNC_RUNS_OK] = {"resellerd_sync_runs_total", "result=\"ok\"", "Sync runs by result."},
	[MC_SYNC_RUNS_FAILED] = {"resellerd_sync_runs_total", "result=\"failed\"", NULL},
	[MC_WEBHOOK_ACCEPTED] = {"resellerd_webhook_deliveries_total", "result=\"accepted\"", "Zuora callout deliveries by result."},
	[MC_WEBHOOK_DUPLICATE] = {"resellerd_webhook_deliveries_total", "result=\"duplicate\"", NULL},
	[MC_WEBHOOK_REJECTED] = {"resellerd_webhook_deliveries_total", "result=\"rejected\"", NULL},
	[MC_READTHROUGH_OK] = {"resellerd_readthrough_total", "result=\"ok\"", "Cache misses read through from Zuora, by result."},
	[MC_READTHROUGH_FAILED] = {"resellerd_readthrough_total", "result=\"failed\"", NULL},
	[MC_AUDIT_DROPPED] = {"resellerd_audit_dropped_total", "", "Audit entries dropped because the database was away too long."},
};

struct metrics *metrics_new(const char *const *route_names, size_t n)
{
	struct metrics *m = xcalloc(1, sizeof(*m));

	m->n = n < METRICS_MAX_ROUTES ? n : METRICS_MAX_ROUTES;
	m->names = xcalloc(m->n ? m->n : 1, sizeof(*m->names));
	memcpy(m->names, route_names, m->n * sizeof(*m->names));
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	free(m->names);
	free(m);
}

void metrics_observe_request(struct metrics *m, size_t route, unsigned status,
			     double seconds)
{
	struct route_stats *r = &m->routes[route < m->n ? route : m->n];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(statuses) && statuses[i] != status; i++)
		;
	atomic_fetch_add_explicit(&r->by_status[i], 1, memory_order_relaxed);
	for (i = 0; i < N_BUCKETS && seconds > buckets[i]; i++)
		;
	atomic_fetch_add_explicit(&r->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->sum_ns, (uint_fast64_t)(seconds * 1e9),
				  memory_order_relaxed);
}

void metrics_inc(struct metrics *m, enum metric_counter c, uint64_t n)
{
	atomic_fetch_add_explicit(&m->counters[c], n, memory_order_relaxed);
}

static uint64_t load(atomic_uint_fast64_t *v)
{
	return (uint64_t)atomic_load_explicit(v, memory_order_relaxed);
}

static void render_requests(struct metrics *m, struct buf *out)
{
	size_t r, i;

	buf_puts(out, "# HELP resellerd_http_requests_total HTTP requests by route pattern and status code.\n"
		      "# TYPE resellerd_http_requests_total counter\n");
	for (r = 0; r <= m->n; r++) {
		const char *name = r < m->n ? m->names[r] : "unmatched";

		for (i = 0; i < N_STATUS; i++) {
			uint64_t v = load(&m->routes[r].by_status[i]);
			char code[8];

			if (!v)
				continue;
			if (i < ARRAY_SIZE(statuses))
				snprintf(code, sizeof(code), "%u", statuses[i]);
			else
				snprintf(code, sizeof(code), "other");
			buf_printf(out, "resellerd_http_requests_total{route=\"%s\",code=\"%s\"} %llu\n",
				   name, code, (unsigned long long)v);
		}
	}
	buf_puts(out, "# HELP resellerd_http_request_duration_seconds Time from the first byte of a request to its queued response.\n"
		      "# TYPE resellerd_http_request_duration_seconds histogram\n");
	for (r = 0; r <= m->n; r++) {
		const char *name = r < m->n ? m->names[r] : "unmatched";
		uint64_t cum = 0;

		for (i = 0; i <= N_BUCKETS; i++)
			cum += load(&m->routes[r].bucket[i]);
		if (!cum)
			continue;
		cum = 0;
		for (i = 0; i < N_BUCKETS; i++) {
			cum += load(&m->routes[r].bucket[i]);
			buf_printf(out, "resellerd_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
				   name, buckets[i], (unsigned long long)cum);
		}
		cum += load(&m->routes[r].bucket[N_BUCKETS]);
		buf_printf(out, "resellerd_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
			   "resellerd_http_request_duration_seconds_sum{route=\"%s\"} %.9f\n"
			   "resellerd_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
			   name, (unsigned long long)cum, name,
			   (double)load(&m->routes[r].sum_ns) / 1e9, name,
			   (unsigned long long)cum);
	}
}

static void gauge(struct buf *out, const char *name, const char *help, double v)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %.17g\n", name, help, name, name, v);
}

void metrics_render(struct metrics *m, const struct metrics_gauges *g, struct buf *out)
{
	static const char *const sources[2] = {"zuora", "salesforce"};
	size_t i;

	render_requests(m, out);
	for (i = 0; i < MC__COUNT; i++) {
		if (counter_info[i].help)
			buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", counter_info[i].name,
				   counter_info[i].help, counter_info[i].name);
		if (counter_info[i].labels[0])
			buf_printf(out, "%s{%s} %llu\n", counter_info[i].name, counter_info[i].labels,
				   (unsigned long long)load(&m->counters[i]));
		else
			buf_printf(out, "%s %llu\n", counter_info[i].name,
				   (unsigned long long)load(&m->counters[i]));
	}
	gauge(out, "resellerd_db_pool_connections", "Connections the pool may hold.", g->pool_size);
	gauge(out, "resellerd_db_pool_in_use", "Connections checked out now.", g->pool_in_use);
	gauge(out, "resellerd_db_pool_waiting", "Requests waiting for a connection now.", g->pool_waiting);
	buf_printf(out, "# HELP resellerd_db_pool_checkout_timeouts_total Checkouts that gave up (answered 503).\n"
		   "# TYPE resellerd_db_pool_checkout_timeouts_total counter\n"
		   "resellerd_db_pool_checkout_timeouts_total %llu\n"
		   "# HELP resellerd_db_reconnects_total Database sessions (re)opened.\n"
		   "# TYPE resellerd_db_reconnects_total counter\n"
		   "resellerd_db_reconnects_total %llu\n",
		   (unsigned long long)g->pool_checkout_timeouts,
		   (unsigned long long)g->pool_reconnects);
	gauge(out, "resellerd_http_requests_in_flight", "Requests being served now.", g->http_inflight);
	gauge(out, "resellerd_decision_cache_entries", "Decisions held in the cache.",
	      (double)g->decision_cache_entries);
	buf_puts(out, "# HELP resellerd_sync_last_success_timestamp_seconds Unix time of the last successful sync per source (0: never).\n"
		      "# TYPE resellerd_sync_last_success_timestamp_seconds gauge\n");
	for (i = 0; i < 2; i++)
		buf_printf(out, "resellerd_sync_last_success_timestamp_seconds{source=\"%s\"} %.3f\n",
			   sources[i], g->sync_last_success[i]);
	buf_puts(out, "# HELP resellerd_sync_lag_seconds Age of the newest synced data per source (-1: never synced).\n"
		      "# TYPE resellerd_sync_lag_seconds gauge\n");
	for (i = 0; i < 2; i++)
		buf_printf(out, "resellerd_sync_lag_seconds{source=\"%s\"} %.3f\n", sources[i],
			   g->sync_lag_seconds[i]);
	gauge(out, "resellerd_start_time_seconds", "Unix time the process started.", g->start_time);
	buf_printf(out, "# HELP resellerd_build_info Build version and git revision.\n"
		   "# TYPE resellerd_build_info gauge\n"
		   "resellerd_build_info{version=\"%s\",revision=\"%s\"} 1\n",
		   g->version, g->revision);
}
