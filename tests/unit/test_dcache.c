/*
 * The decision cache's invalidation order (lib/dcache.h): a fill that
 * began after a change is fresh, one that began before it is stale,
 * whichever of dcache_invalidate and dcache_invalidate_all made it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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
	char *body = NULL, etag[40];
	size_t len = 0;
	bool ok = dcache_get(c, "A-S00000001", &body, &len, etag);

	free(body);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill_after_change_is_fresh),
		cmocka_unit_test(test_fill_racing_change_is_stale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
