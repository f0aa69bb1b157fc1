/*
 * Unit tests for mention: the whole-word rule the quote's Required
 * Approvals From VP of Channel notes are matched with (DOMAIN.md: "The
 * Resale Partner may also appear in the Required Approvals From VP of
 * Channel notes"), and which registry row the notes name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "mention.h"

static void test_find(void **state)
{
	static const struct {
		const char *text, *name;
		long at;
		size_t len;
	} t[] = {
		{"Approved for Acme Corp.", "Acme Corp", 13, 9},
		{"acme", "ACME", 0, 4},
		{"AcmeCorp", "Acme", -1, 0},
		{"SuperAcme", "Acme", -1, 0},
		{"Acme2", "Acme", -1, 0},
		{"Acmes Acme", "Acme", 6, 4},
		{"(Acme)", "Acme", 1, 4},
		/* punctuation at an end of the name needs no boundary there */
		{"x Example Ltd.Foo", "Example Ltd.", 2, 12},
		/* whitespace runs match whitespace runs */
		{"Example\n\tReseller  GmbH!", "Example Reseller GmbH", 0, 23},
		{"ExampleReseller GmbH", "Example Reseller GmbH", -1, 0},
		{"Acme,", " Acme ", 0, 4},
		/* bytes of non-ASCII characters are word characters, compared
		 * exactly (no case folding beyond ASCII) */
		{"\xc3\xa9 Acme", "Acme", 3, 4},
		{"\xc3\xa9" "Acme", "Acme", -1, 0},
		{"M\xc3\xbcller GmbH", "m\xc3\xbcller gmbh", 0, 12},
		{"M\xc3\x9cller GmbH", "M\xc3\xbcller GmbH", -1, 0},
		{"", "Acme", -1, 0},
		{"Acme", "", -1, 0},
		{"Acme", " \t ", -1, 0},
		{NULL, "Acme", -1, 0},
		{"Acme", NULL, -1, 0},
		{"Acm", "Acme", -1, 0},
	};
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		long at;

		len = 0;
		at = mention_find(t[i].text, t[i].name, &len);
		if (at != t[i].at)
			print_error("case %zu: '%s' in '%s': %ld, want %ld\n", i,
				    t[i].name ? t[i].name : "(null)",
				    t[i].text ? t[i].text : "(null)", at, t[i].at);
		assert_int_equal(at, t[i].at);
		if (at >= 0)
			assert_int_equal(len, t[i].len);
	}
	assert_int_equal(mention_find("x Acme", "Acme", NULL), 2);
}

static const struct partner_in registry[] = {
	{true, "Acme", PARTNER_RESELLER, "Open", NULL},
	{true, "Acme Corp", PARTNER_RESELLER, "Select", NULL},
	{true, "Big Distri", PARTNER_DISTRIBUTOR, "Select", NULL},
	{true, "AWS Marketplace", PARTNER_MARKETPLACE, "Technology", NULL},
	{true, "Managed Ops", PARTNER_MSP, "Open", NULL},
	{false, "Ghost Reseller", PARTNER_RESELLER, NULL, NULL},
	{true, "Untyped Co", PARTNER_NONE, NULL, NULL},
};

#define N_REG (sizeof registry / sizeof registry[0])

static void test_pick(void **state)
{
	static const struct {
		const char *notes;
		const char *want; /* NULL: none */
		size_t others;
	} t[] = {
		/* the longest name at the same place */
		{"Approved: Acme Corp, 10%", "Acme Corp", 0},
		{"Approved: acme, 10%", "Acme", 0},
		/* the first one named; the others are counted */
		{"Managed Ops runs it, Acme Corp resells", "Managed Ops", 1},
		{"Acme and Acme Corp and Managed Ops", "Acme", 2},
		/* a first mention inside a longer one is that mention */
		{"Acme Corp and Acme and Managed Ops", "Acme Corp", 1},
		/* distributors and marketplaces are not resale partners */
		{"Big Distri distributes, Acme resells", "Acme", 0},
		{"Big Distri via AWS Marketplace", NULL, 0},
		/* rows not present, untyped rows, partial words */
		{"Ghost Reseller and Untyped Co", NULL, 0},
		{"Acmeco and AcmeCorp", NULL, 0},
		{"", NULL, 0},
		{NULL, NULL, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		size_t others = 99;
		const struct partner_in *p = mention_pick(t[i].notes, registry, N_REG, &others);

		if (t[i].want == NULL) {
			assert_null(p);
			assert_int_equal(others, 0);
			continue;
		}
		assert_non_null(p);
		assert_true(p >= registry && p < registry + N_REG);
		assert_string_equal(p->name, t[i].want);
		assert_int_equal(others, t[i].others);
	}
	{
		size_t others = 99;

		assert_null(mention_pick("Acme", registry, 0, &others));
		assert_int_equal(others, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_pick),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
