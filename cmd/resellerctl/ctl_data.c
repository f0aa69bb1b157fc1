/* resellerctl partners import FILE, resellerctl lookup KEY */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "ctl.h"
#include "decide.h"
#include "partners_csv.h"
#include "util.h"

#define CSV_MAX (16 * 1024 * 1024)

static char *read_file(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char chunk[65536];
	struct buf b;
	size_t n;

	if (!f)
		return NULL;
	buf_init(&b, CSV_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (!buf_append(&b, chunk, n)) {
			buf_release(&b);
			b.ptr = NULL;
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	if (!b.ptr)
		return NULL;
	return buf_detach(&b, len);
}

int ctl_cmd_partners(struct ctl *ctl, int argc, char **argv)
{
	struct partners_csv csv;
	struct buf errors;
	char why[512] = "";
	size_t len = 0, bad;
	char *text;
	enum err e;

	if (argc != 3 || strcmp(argv[1], "import") != 0)
		return ctl_usage(ctl, "partners");
	text = read_file(argv[2], &len);
	if (!text) {
		fprintf(stderr, "resellerctl partners import: cannot read %s (missing, unreadable or over 16 MiB)\n",
			argv[2]);
		return 1;
	}
	buf_init(&errors, 1 << 20);
	bad = partners_csv_parse(text, len, &csv, &errors);
	if (bad) {
		fprintf(stderr, "resellerctl partners import: %s rejected, nothing imported (%zu error%s):\n%s",
			argv[2], bad, bad == 1 ? "" : "s", errors.ptr ? errors.ptr : "");
		e = ERR_INVALID;
	} else {
		e = store_partners_replace(ctl_store(ctl), csv.rows, csv.n, why, sizeof(why));
		if (e)
			fprintf(stderr, "resellerctl partners import: nothing imported: %s\n",
				why[0] ? why : "database unavailable");
		else if (ctl->json)
			printf("{\"imported\":%zu}\n", csv.n);
		else
			printf("partner registry replaced: %zu partners\n", csv.n);
	}
	partners_csv_release(&csv);
	buf_release(&errors);
	free(text);
	return e ? 1 : 0;
}

int ctl_cmd_lookup(struct ctl *ctl, int argc, char **argv)
{
	char key[SUBSCRIPTION_KEY_MAX], etag[40];
	struct decided x;
	struct app app;
	size_t len;
	char *body;
	enum err e;

	if (argc != 2)
		return ctl_usage(ctl, "lookup");
	if (!subscription_key_parse(argv[1], strlen(argv[1]), key, sizeof(key))) {
		fprintf(stderr, "resellerctl lookup: '%s' is not a subscription number (A-S00012345) "
			"or a 32-character Zuora id\n", argv[1]);
		return 2;
	}
	memset(&app, 0, sizeof(app));
	app.cfg = ctl->cfg;
	app.store = ctl_store(ctl);
	app.catalog = catalog_new(app.store, 60);
	e = decide(&app, key, &x);
	if (e == ERR_NOT_FOUND)
		fprintf(stderr, "resellerctl lookup: %s is not in the cache; run resellerctl sync\n", key);
	else if (e)
		fprintf(stderr, "resellerctl lookup: cannot read %s (is the database up and migrated?)\n", key);
	if (!e) {
		body = decided_render(&app, &x, &len, etag);
		printf("%s\n", body);
		free(body);
	}
	decided_release(&app, &x);
	catalog_free(app.catalog);
	return e ? 1 : 0;
}
