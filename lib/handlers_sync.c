/*
 * POST /v1/sync (admin) starts a sync in the background thread, or queues
 * one behind the run in progress (at most one waits); GET
 * /v1/sync/status reports, per source and object, the watermark, the last
 * success and error, rows and lag. The same figures feed /metrics.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "handlers.h"
#include "store_sync.h"
#include "sync.h"
#include "util.h"

#define STATUS_ROWS 16

/* RFC 3339 UTC "YYYY-MM-DDTHH:MM:SS..." to Unix seconds; 0 when empty. */
static double parse_utc(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, sec;

	if (str_empty(s) || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) != 6)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return (double)timegm(&tm);
}

void sync_freshness(struct app *app, double last_success[2], double lag[2])
{
	struct sync_status_row rows[STATUS_ROWS];
	size_t n = 0, i;
	int k;

	for (k = 0; k < 2; k++) {
		last_success[k] = 0;
		lag[k] = -1;
	}
	if (store_sync_status(app->store, rows, STATUS_ROWS, &n))
		return;
	for (i = 0; i < n; i++) {
		double ok = parse_utc(rows[i].last_success_at);
		double wm = parse_utc(rows[i].watermark);

		k = strcmp(rows[i].source, "zuora") == 0 ? 0 : 1;
		/* a source is as fresh as its stalest object */
		if (ok > 0 && (last_success[k] == 0 || ok < last_success[k]))
			last_success[k] = ok;
		if (wm > 0 && now_unix() - wm > lag[k])
			lag[k] = now_unix() - wm;
	}
}

static json_t *str_or_null(const char *s)
{
	return str_empty(s) ? json_null() : json_string(s);
}

HANDLER(h_sync_status)
{
	struct sync_status_row rows[STATUS_ROWS];
	double last[2], lag[2];
	json_t *objects;
	size_t n = 0, i;
	enum err e;

	(void)m;
	e = store_sync_status(app->store, rows, STATUS_ROWS, &n);
	if (e) {
		respond_problem(res, req, e, "cannot read the sync state now; retry later");
		return;
	}
	objects = json_array();
	for (i = 0; i < n; i++) {
		double wm = parse_utc(rows[i].watermark);

		json_array_append_new(objects, json_pack(
			"{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:I, s:o}", "source", rows[i].source,
			"object", rows[i].object, "watermark", str_or_null(rows[i].watermark),
			"last_started_at", str_or_null(rows[i].last_started_at), "last_success_at",
			str_or_null(rows[i].last_success_at), "last_error", str_or_null(rows[i].last_error),
			"last_error_at", str_or_null(rows[i].last_error_at), "rows_total",
			(json_int_t)rows[i].rows_total, "lag_seconds",
			wm > 0 ? json_real(now_unix() - wm) : json_null()));
	}
	sync_freshness(app, last, lag);
	respond_json(res, 200, json_pack(
		"{s:b, s:{s:{s:o, s:o}, s:{s:o, s:o}}, s:o}", "running",
		app->sync && sync_running(app->sync), "sources", "zuora", "last_success",
		last[0] > 0 ? json_real(last[0]) : json_null(), "lag_seconds",
		lag[0] >= 0 ? json_real(lag[0]) : json_null(), "salesforce", "last_success",
		last[1] > 0 ? json_real(last[1]) : json_null(), "lag_seconds",
		lag[1] >= 0 ? json_real(lag[1]) : json_null(), "objects", objects));
}

HANDLER(h_sync_start)
{
	(void)m;
	if (!app->sync) {
		respond_problem(res, req, ERR_UNAVAILABLE, "sync is not running in this process");
		return;
	}
	switch (sync_trigger(app->sync)) {
	case SYNC_TRIGGER_STARTED:
		respond_json(res, 202, json_pack("{s:s, s:b}", "status", "started", "queued", 0));
		return;
	case SYNC_TRIGGER_QUEUED:
		respond_json(res, 202, json_pack(
			"{s:s, s:b, s:s}", "status", "queued", "queued", 1, "detail",
			"a sync is running; another one starts as soon as it ends "
			"(requests meanwhile share it); see GET /v1/sync/status"));
		return;
	case SYNC_TRIGGER_UNAVAILABLE:
	default:
		respond_problem(res, req, ERR_UNAVAILABLE, "sync is not running in this process");
		return;
	}
}
