/*
 * resellerctl sync: run one sync on this thread against the configured
 * Zuora and Salesforce, with a progress line for humans and a summary for
 * humans or machines.
 */
#include "ctl_sync.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sync.h"
#include "util.h"

static const char usage_text[] =
	"usage: resellerctl sync [--full] [--source zuora|salesforce] [--batch-size N]\n"
	"  Fetch changes from Zuora and Salesforce into the cache (--full: everything).\n";

struct progress_line {
	bool tty;
	bool printed;
};

static void on_progress(void *cls, const struct sync_progress *p)
{
	struct progress_line *pl = cls;
	double rate = p->seconds > 0 ? (double)p->rows / p->seconds : 0.0;

	if (!pl->tty)
		return;
	fprintf(stderr, "\r\033[Ksync %s.%s: %llu rows, %llu pages; total %llu rows, %.0f rows/s",
		p->source, p->object, (unsigned long long)p->object_rows,
		(unsigned long long)p->object_pages, (unsigned long long)p->rows, rate);
	fflush(stderr);
	pl->printed = true;
}

static void print_json(const struct sync_report *r, enum err e)
{
	struct buf b;
	int i;

	buf_init(&b, 1 << 20);
	buf_printf(&b, "{\"result\":\"%s\",\"busy\":%s,\"error\":", e ? "failed" : "ok",
		   r->busy ? "true" : "false");
	if (r->error[0])
		json_quote(&b, r->error);
	else
		buf_puts(&b, "null");
	buf_printf(&b, ",\"rows\":%llu,\"pages\":%llu,\"rejected\":%llu,\"seconds\":%.3f,"
		   "\"rows_per_second\":%.0f,\"objects\":[",
		   (unsigned long long)r->rows, (unsigned long long)r->pages,
		   (unsigned long long)r->rejected, r->seconds,
		   r->seconds > 0 ? (double)r->rows / r->seconds : 0.0);
	for (i = 0; i < SYNC_OBJECT__COUNT; i++) {
		const struct sync_object_report *o = &r->objects[i];

		buf_printf(&b, "%s{\"source\":\"%s\",\"object\":\"%s\",\"state\":\"%s\","
			   "\"rows\":%llu,\"pages\":%llu,\"rejected\":%llu,\"seconds\":%.3f,"
			   "\"db_seconds\":%.3f,\"error\":",
			   i ? "," : "", o->source, o->object, sync_state_name(o->state),
			   (unsigned long long)o->rows, (unsigned long long)o->pages,
			   (unsigned long long)o->rejected, o->seconds, o->db_seconds);
		if (o->error[0])
			json_quote(&b, o->error);
		else
			buf_puts(&b, "null");
		buf_puts(&b, "}");
	}
	buf_puts(&b, "]}\n");
	fputs(b.ptr, stdout);
	buf_release(&b);
}

static void print_text(const struct sync_report *r)
{
	int i;

	for (i = 0; i < SYNC_OBJECT__COUNT; i++) {
		const struct sync_object_report *o = &r->objects[i];

		if (o->state == SYNC_NOT_RUN)
			continue;
		printf("%-10s %-20s %-7s %9llu rows %6llu pages %6.1f s (db %.1f s)%s%s%s\n",
		       o->source, o->object, sync_state_name(o->state), (unsigned long long)o->rows,
		       (unsigned long long)o->pages, o->seconds, o->db_seconds,
		       o->rejected ? " (rejected records, see log)" : "",
		       o->error[0] ? ": " : "", o->error);
	}
	printf("total: %llu rows, %llu pages in %.1f s (%.0f rows/s)\n",
	       (unsigned long long)r->rows, (unsigned long long)r->pages, r->seconds,
	       r->seconds > 0 ? (double)r->rows / r->seconds : 0.0);
}

static int parse_args(int argc, char **argv, bool *full, int *mask, long *batch)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--full") == 0) {
			*full = true;
		} else if (strcmp(argv[i], "--source") == 0 && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "zuora") == 0)
				*mask = SYNC_SOURCE_ZUORA;
			else if (strcmp(argv[i], "salesforce") == 0)
				*mask = SYNC_SOURCE_SALESFORCE;
			else
				return -1;
		} else if (strcmp(argv[i], "--batch-size") == 0 && i + 1 < argc) {
			if (!parse_long(argv[++i], 1, 2000, batch))
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

int ctl_cmd_sync(struct ctl *ctl, int argc, char **argv)
{
	struct progress_line pl = {isatty(2) == 1, false};
	struct sync_tuning t;
	struct sync_report rep;
	struct sync *s;
	bool full = false;
	int mask = SYNC_SOURCE_ALL;
	long batch = 0;
	enum err e;

	if (parse_args(argc, argv, &full, &mask, &batch) != 0) {
		fputs(usage_text, stderr);
		return 2;
	}
	s = sync_new(&ctl->cfg, ctl_store(ctl), NULL);
	sync_get_tuning(s, &t); /* keeps RESELLERD_SYNC_TIMEOUT_MS & co. */
	t.zuora_batch = (unsigned)batch;
	t.salesforce_batch = (unsigned)batch;
	sync_set_tuning(s, &t);
	sync_set_progress(s, on_progress, &pl);
	e = sync_run(s, full, mask, &rep);
	sync_free(s);
	if (pl.printed)
		fputs("\n", stderr);
	if (ctl->json)
		print_json(&rep, e);
	else if (!rep.busy && e != ERR_INVALID)
		print_text(&rep);
	if (e) {
		fprintf(stderr, "resellerctl sync: %s\n", rep.error[0] ? rep.error : err_title(e));
		return 1;
	}
	return 0;
}
