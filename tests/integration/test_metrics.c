/*
 * /metrics as Prometheus would read it: every sample belongs to a family
 * with # HELP and # TYPE before it, names carry the resellerd_ prefix,
 * counters end in _total, histograms have cumulative _bucket series
 * ending in +Inf with _sum and _count, and no label value is a
 * subscription id or number (no high cardinality).
 */
#include "itest.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

struct family {
	char name[128];
	char type[16];
	bool help;
};

/* The family a sample name belongs to (strip histogram suffixes). */
static const struct family *family_of(const struct family *f, size_t n, const char *sample)
{
	size_t i;

	for (i = 0; i < n; i++) {
		size_t len = strlen(f[i].name);

		if (strncmp(sample, f[i].name, len) != 0)
			continue;
		if (sample[len] == '\0')
			return &f[i];
		if (strcmp(f[i].type, "histogram") == 0 &&
		    (strcmp(sample + len, "_bucket") == 0 || strcmp(sample + len, "_sum") == 0 ||
		     strcmp(sample + len, "_count") == 0))
			return &f[i];
	}
	return NULL;
}

static void test_exposition_format(void **state)
{
	struct itest_server s;
	struct itest_resp r;
	struct family fams[128];
	size_t nf = 0, samples = 0;
	char url[128], *line, *save = NULL, *ct, *tok;
	const char *hdr[2] = {NULL, NULL};
	char auth[128];
	double last_bucket = -1;
	bool saw_inf = false;

	(void)state;
	assert_int_equal(itest_server_start(&s, db.url, NULL), 0);
	tok = itest_token(&db, "metrics-test", "read");
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
	hdr[0] = auth;
	/* traffic with ids in the path, which must not become labels */
	snprintf(url, sizeof(url), "%s/v1/subscriptions/A-S00000042/channel", s.base);
	assert_int_equal(itest_http("GET", url, hdr, NULL, &r), 0);
	itest_resp_free(&r);
	snprintf(url, sizeof(url), "%s/metrics", s.base);
	assert_int_equal(itest_http("GET", url, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	ct = itest_header(&r, "Content-Type");
	assert_non_null(strstr(ct, "text/plain; version=0.0.4"));
	free(ct);
	assert_null(strstr(r.body, "A-S00000042"));
	for (line = strtok_r(r.body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128];
		const struct family *f;

		if (strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0) {
			char kind[8] = "", fname[128] = "", type[16] = "";
			size_t i;

			assert_int_equal(sscanf(line, "# %7s %127s %15s", kind, fname, type) >= 2, 1);
			for (i = 0; i < nf && strcmp(fams[i].name, fname) != 0; i++)
				;
			if (i == nf) {
				assert_true(nf < 128);
				memset(&fams[nf], 0, sizeof(fams[nf]));
				snprintf(fams[nf].name, sizeof(fams[nf].name), "%s", fname);
				nf++;
			}
			if (strcmp(kind, "HELP") == 0)
				fams[i].help = true;
			else
				snprintf(fams[i].type, sizeof(fams[i].type), "%s", type);
			continue;
		}
		assert_true(line[0] != '#');
		assert_int_equal(sscanf(line, "%127[a-z_]", name), 1);
		f = family_of(fams, nf, name);
		if (!f) {
			fprintf(stderr, "sample without HELP/TYPE: %s\n", line);
			fail();
			continue;
		}
		assert_true(f->help);
		assert_true(strncmp(name, "resellerd_", 10) == 0);
		if (strcmp(f->type, "counter") == 0)
			assert_non_null(strstr(f->name, "_total"));
		else
			assert_true(strcmp(f->type, "gauge") == 0 || strcmp(f->type, "histogram") == 0);
		if (strstr(name, "_bucket")) {
			double v = strtod(strrchr(line, ' ') + 1, NULL);

			if (strstr(line, "le=\"0.0001\""))
				last_bucket = -1;
			assert_true(v >= last_bucket); /* cumulative */
			last_bucket = v;
			if (strstr(line, "le=\"+Inf\""))
				saw_inf = true;
		}
		samples++;
	}
	assert_true(saw_inf);
	assert_true(samples > 20);
	itest_resp_free(&r);
	assert_int_equal(itest_server_stop(&s, SIGTERM, 10), 0);
	free(tok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exposition_format),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
