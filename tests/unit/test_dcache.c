/*
 * dcache: hits, precise invalidation in either order of fill and change,
 * the no-invalidation fast path, epochs, eviction and shard spread.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dcache.h"

static bool get(struct dcache *c, const char *key, const char *want)
{
	char *body = NULL, etag[40];
	size_t len = 0;
	bool hit = dcache_get(c, key, &body, &len, etag);

	if (hit) {
		assert_string_equal(body, want);
		assert_int_equal(len, strlen(want));
		assert_string_equal(etag, "\"e1\"");
	}
	free(body);
	return hit;
}

static void put(struct dcache *c, const char *key, const char *body, const char *dep,
		uint64_t begin)
{
	const char *deps[] = {"s:A-S1", dep, NULL};

	dcache_put(c, key, body, strlen(body), "\"e1\"", deps, 3, begin);
}

static void test_hit_and_precise_invalidation(void **state)
{
	struct dcache *c = dcache_new(1 << 20, NULL);

	(void)state;
	put(c, "A-S1", "{\"one\":1}", "a:ACC1", dcache_begin(c));
	put(c, "A-S2", "{\"two\":2}", "a:ACC2", dcache_begin(c));
	assert_true(get(c, "A-S1", "{\"one\":1}"));
	assert_true(get(c, "A-S2", "{\"two\":2}"));
	/* A change to an id nothing depends on takes the slow path, still a hit. */
	dcache_invalidate(c, "a:OTHER");
	assert_true(get(c, "A-S1", "{\"one\":1}"));
	dcache_invalidate(c, "a:ACC1");
	assert_false(get(c, "A-S1", NULL));
	assert_true(get(c, "A-S2", "{\"two\":2}"));
	dcache_free(c);
}

/* A change that lands while the decision is being built makes it stale. */
static void test_change_during_build(void **state)
{
	struct dcache *c = dcache_new(1 << 20, NULL);
	uint64_t begin = dcache_begin(c);

	(void)state;
	dcache_invalidate(c, "a:ACC1"); /* after the read began */
	put(c, "A-S1", "{\"old\":1}", "a:ACC1", begin);
	assert_false(get(c, "A-S1", NULL));
	/* Rebuilt after the change: fresh. */
	put(c, "A-S1", "{\"new\":1}", "a:ACC1", dcache_begin(c));
	assert_true(get(c, "A-S1", "{\"new\":1}"));
	dcache_free(c);
}

static void test_invalidate_all_and_disabled(void **state)
{
	struct dcache *c = dcache_new(1 << 20, NULL);
	struct dcache *off = dcache_new(0, NULL);

	(void)state;
	put(c, "A-S1", "{}", "a:ACC1", dcache_begin(c));
	dcache_invalidate_all(c);
	assert_false(get(c, "A-S1", NULL));
	put(off, "A-S1", "{}", "a:ACC1", dcache_begin(off));
	assert_false(get(off, "A-S1", NULL));
	dcache_free(c);
	dcache_free(off);
}

/* Many keys: every one is found (chains spread over shards and buckets),
 * and a small cache evicts down to its bound. */
static void test_many_keys_and_eviction(void **state)
{
	struct dcache *c = dcache_new(64u << 20, NULL);
	struct dcache *small = dcache_new(16 * 4096, NULL);
	char key[32], body[64];
	size_t entries, bytes;
	int i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "A-S%08d", i);
		snprintf(body, sizeof(body), "{\"n\":%d}", i);
		put(c, key, body, "a:X", dcache_begin(c));
		put(small, key, body, "a:X", dcache_begin(small));
	}
	for (i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "A-S%08d", i);
		snprintf(body, sizeof(body), "{\"n\":%d}", i);
		assert_true(get(c, key, body));
	}
	dcache_stats(c, &entries, &bytes);
	assert_int_equal(entries, 20000);
	dcache_stats(small, &entries, &bytes);
	assert_true(bytes <= 16 * 4096);
	assert_true(entries > 0 && entries < 20000);
	dcache_free(c);
	dcache_free(small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_and_precise_invalidation),
		cmocka_unit_test(test_change_during_build),
		cmocka_unit_test(test_invalidate_all_and_disabled),
		cmocka_unit_test(test_many_keys_and_eviction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
