#pragma once
/*
 * metrics: counters and histograms in memory (relaxed atomics, no locks on
 * the request path), rendered as Prometheus text exposition 0.0.4 with
 * HELP/TYPE, base units and _total counters. Labels are route patterns and
 * status codes, never ids. Hand-written: Debian ships no C client library.
 */
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define METRICS_MAX_ROUTES 48

struct metrics;

/* route_names[0..n) label the routes; index n is "unmatched". The array is
 * copied; the strings are borrowed for the life of the metrics (static
 * route table names). Free with metrics_free. */
struct metrics *metrics_new(const char *const *route_names, size_t n);
void metrics_free(struct metrics *m);

/* One finished request. route may be n (unmatched). */
void metrics_observe_request(struct metrics *m, size_t route, unsigned status,
			     double seconds);

/* Named counters for the rest of the service (cache, upstream, sync,
 * webhooks). Add to an enum entry; labels come from the enum table. */
enum metric_counter {
	MC_DECISION_CACHE_HITS = 0,
	MC_DECISION_CACHE_MISSES,
	MC_DECISION_CACHE_EVICTIONS,
	MC_TOKEN_CACHE_HITS,
	MC_TOKEN_CACHE_MISSES,
	MC_AUTH_FAILURES,
	MC_UPSTREAM_ZUORA_CALLS,
	MC_UPSTREAM_ZUORA_ERRORS,
	MC_UPSTREAM_ZUORA_RETRIES,
	MC_UPSTREAM_SALESFORCE_CALLS,
	MC_UPSTREAM_SALESFORCE_ERRORS,
	MC_UPSTREAM_SALESFORCE_RETRIES,
	MC_SYNC_ROWS_ZUORA,
	MC_SYNC_ROWS_SALESFORCE,
	MC_SYNC_RUNS_OK,
	MC_SYNC_RUNS_FAILED,
	MC_WEBHOOK_ACCEPTED,
	MC_WEBHOOK_DUPLICATE,
	MC_WEBHOOK_REJECTED,
	MC_READTHROUGH_OK,
	MC_READTHROUGH_FAILED,
	MC_AUDIT_DROPPED,
	MC__COUNT
};

void metrics_inc(struct metrics *m, enum metric_counter c, uint64_t n);

/* Gauges provided at render time by the caller. */
struct metrics_gauges {
	unsigned pool_size, pool_in_use, pool_waiting;
	uint64_t pool_checkout_timeouts, pool_reconnects;
	unsigned http_inflight;
	size_t decision_cache_entries;
	double start_time;
	/* per source: 0 zuora, 1 salesforce; 0 = never */
	double sync_last_success[2];
	double sync_lag_seconds[2];
	const char *version, *revision;
};

/* Append the exposition text to out. */
void metrics_render(struct metrics *m, const struct metrics_gauges *g, struct buf *out);
