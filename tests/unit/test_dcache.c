/*
 * The decision cache's invalidation order (lib/dcache.h): a fill that
 * began after a change is fresh, one that began before it is stale,
 * whichever of dcache_invalidate and dcache_invalidate_all made it; hits,
 * precise invalidation, eviction to the bound, many keys found, and a
 * hit's shared body outliving its entry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "dcache.h"

static const char *const deps[] = {"s:A-S00000001", "a:acct1"};

/* Fill key as a lookup would: begin, (read), put. */
static void fill_after(struct dcache *c, uint64_t begin)
{
	dcache_put(c, "A-S00000001", "{}", 2, "\"e\"", deps, 2, begin);
}

static bool hit(struct dcache *c)
{
	struct dcache_hit h;
	bool ok = dcache_get(c, "A-S00000001", &h);

	if (ok)
		dcache_release(h.ref);
	return ok;
}

static void test_fill_after_change_is_fresh(void **state)
{
	struct dcache *c = dcache_new(1 << 20, NULL);

	(void)state;
	fill_after(c, dcache_begin(c));
	assert_true(hit(c));
	/* the account changed, then a lookup read it again: cacheable */
	dcache_invalidate(c, "a:acct1");
	assert_false(hit(c));
	fill_after(c, dcache_begin(c));
	assert_true(hit(c));
	/* the same after everything was flushed */
	dcache_invalidate_all(c);
	assert_false(hit(c));
	fill_after(c, dcache_begin(c));
	assert_true(hit(c));
	dcache_free(c);
}

static void test_fill_racing_change_is_stale(void **state)
{
	struct dcache *c = dcache_new(1 << 20, NULL);
	uint64_t begin;

	(void)state;
	/* the lookup read the data, then a flush landed, then it stored */
	begin = dcache_begin(c);
	dcache_invalidate_all(c);
	fill_after(c, begin);
	assert_false(hit(c));
	/* the same with a change of one of its records */
	begin = dcache_begin(c);
	dcache_invalidate(c, "s:A-S00000001");
	fill_after(c, begin);
	assert_false(hit(c));
	/* a change to something else does not matter */
	begin = dcache_begin(c);
	dcache_invalidate(c, "a:other");
	fill_after(c, begin);
	assert_true(hit(c));
	dcache_free(c);
}

static bool get(struct dcache *c, const char *key, const char *want)
{
	struct dcache_hit h;
	bool hit = dcache_get(c, key, &h);

	if (hit) {
		assert_string_equal(h.body, want);
		assert_int_equal(h.len, strlen(want));
		assert_string_equal(h.etag, "\"e1\"");
		dcache_release(h.ref);
	}
	return hit;
}

static void put(struct dcache *c, const char *key, const char *body, const char *dep,
		uint64_t begin)
{
	const char *ids[] = {"s:A-S1", dep, NULL};

	dcache_put(c, key, body, strlen(body), "\"e1\"", ids, 3, begin);
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

/* A hit is shared, not copied: it stays readable while the entry is
 * replaced, invalidated, evicted and the cache itself freed (ASan would
 * see a use after free), and is freed by the last release (LSan). */
static void test_hit_outlives_its_entry(void **state)
{
	struct dcache *c = dcache_new(16 * 4096, NULL);
	struct dcache_hit a, b;
	char key[32];
	int i;

	(void)state;
	put(c, "A-S1", "{\"v\":1}", "a:ACC1", dcache_begin(c));
	assert_true(dcache_get(c, "A-S1", &a));
	assert_true(dcache_get(c, "A-S1", &b));
	assert_ptr_equal(a.body, b.body); /* one body, two holders */
	put(c, "A-S1", "{\"v\":2}", "a:ACC1", dcache_begin(c)); /* replaced */
	assert_true(get(c, "A-S1", "{\"v\":2}"));
	assert_string_equal(a.body, "{\"v\":1}");
	dcache_release(a.ref);
	dcache_invalidate(c, "a:ACC1");
	for (i = 0; i < 2000; i++) { /* evicts everything put before */
		snprintf(key, sizeof(key), "A-S%08d", i);
		put(c, key, "{\"filler\":true}", "a:X", dcache_begin(c));
	}
	dcache_free(c);
	assert_string_equal(b.body, "{\"v\":1}");
	assert_int_equal(b.len, 7);
	dcache_release(b.ref);
	dcache_release(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill_after_change_is_fresh),
		cmocka_unit_test(test_fill_racing_change_is_stale),
		cmocka_unit_test(test_hit_and_precise_invalidation),
		cmocka_unit_test(test_invalidate_all_and_disabled),
		cmocka_unit_test(test_many_keys_and_eviction),
		cmocka_unit_test(test_hit_outlives_its_entry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
