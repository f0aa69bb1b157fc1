/* router, errors and request ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "errors.h"
#include "reqid.h"
#include "router.h"

static const struct route table[] = {
	{"GET", "/livez", NULL, SCOPE_NONE, "/livez", false},
	{"GET", "/v1/subscriptions/{key}/channel", NULL, SCOPE_READ, "channel", false},
	{"POST", "/v1/channel/batch", NULL, SCOPE_READ, "batch", false},
	{"GET", "/v1/workflows/{id}", NULL, SCOPE_READ, "workflow", false},
	{"POST", "/v1/sync", NULL, SCOPE_ADMIN, "sync", false},
	{"GET", "/v1/sync/status", NULL, SCOPE_READ, "sync_status", false},
};
#define N (sizeof(table) / sizeof(table[0]))

static void test_match_and_params(void **state)
{
	struct route_match m;

	(void)state;
	assert_int_equal(router_match(table, N, "GET", "/livez", &m), ROUTE_FOUND);
	assert_int_equal(m.index, 0);
	assert_int_equal(router_match(table, N, "GET", "/v1/subscriptions/A-S00012345/channel", &m),
			 ROUTE_FOUND);
	assert_int_equal(m.n_params, 1);
	assert_int_equal(m.param_len[0], 11);
	assert_memory_equal(m.param[0], "A-S00012345", 11);
	assert_int_equal(router_match(table, N, "HEAD", "/livez", &m), ROUTE_FOUND);
}

static void test_not_found(void **state)
{
	static const char *const paths[] = {
		"/", "/livez/", "/livezz", "/v1/subscriptions//channel",
		"/v1/subscriptions/A/channel/x", "/v1/subscriptions/A", "//livez",
		"/v1/workflows/", "", "livez",
	};
	struct route_match m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		assert_int_equal(router_match(table, N, "GET", paths[i], &m), ROUTE_NOT_FOUND);
}

static void test_method_not_allowed(void **state)
{
	struct route_match m;

	(void)state;
	assert_int_equal(router_match(table, N, "DELETE", "/livez", &m), ROUTE_BAD_METHOD);
	assert_string_equal(m.allow, "GET, HEAD");
	assert_int_equal(router_match(table, N, "GET", "/v1/sync", &m), ROUTE_BAD_METHOD);
	assert_string_equal(m.allow, "POST");
	assert_int_equal(router_match(table, N, "GET", "/v1/channel/batch", &m), ROUTE_BAD_METHOD);
}

static void test_scopes(void **state)
{
	(void)state;
	assert_true(scope_allows(SCOPE_ADMIN, SCOPE_READ));
	assert_true(scope_allows(SCOPE_READ, SCOPE_READ));
	assert_false(scope_allows(SCOPE_READ, SCOPE_ADMIN));
	assert_false(scope_allows(SCOPE_NONE, SCOPE_READ));
	assert_int_equal(scope_parse("read"), SCOPE_READ);
	assert_int_equal(scope_parse("admin"), SCOPE_ADMIN);
	assert_int_equal(scope_parse("root"), -1);
	assert_int_equal(scope_parse(NULL), -1);
}

static void test_error_table(void **state)
{
	static const struct {
		enum err e;
		unsigned status;
	} cases[] = {
		{ERR_OK, 200}, {ERR_INVALID, 400}, {ERR_UNAUTHORIZED, 401},
		{ERR_FORBIDDEN, 403}, {ERR_NOT_FOUND, 404}, {ERR_METHOD, 405},
		{ERR_NOT_ACCEPTABLE, 406}, {ERR_CONFLICT, 409}, {ERR_TOO_LARGE, 413},
		{ERR_URI_TOO_LONG, 414}, {ERR_MEDIA_TYPE, 415}, {ERR_UNPROCESSABLE, 422},
		{ERR_RATE_LIMITED, 429}, {ERR_HEADERS_TOO_LARGE, 431}, {ERR_INTERNAL, 500},
		{ERR_UPSTREAM, 502}, {ERR_UNAVAILABLE, 503}, {ERR_TIMEOUT, 504},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(err_http_status(cases[i].e), cases[i].status);
		assert_non_null(err_slug(cases[i].e));
		assert_non_null(err_title(cases[i].e));
	}
	assert_int_equal(err_http_status((enum err)999), 500);
}

static void test_request_ids(void **state)
{
	char out[REQID_MAX + 1];
	char long_id[100];

	(void)state;
	assert_true(reqid_valid("abc-123_x.y:z"));
	assert_false(reqid_valid(""));
	assert_false(reqid_valid(NULL));
	assert_false(reqid_valid("has space"));
	assert_false(reqid_valid("new\nline"));
	assert_false(reqid_valid("quote\""));
	memset(long_id, 'a', 65);
	long_id[65] = '\0';
	assert_false(reqid_valid(long_id));
	long_id[64] = '\0';
	assert_true(reqid_valid(long_id));
	reqid_choose("client-id-1", out, sizeof(out));
	assert_string_equal(out, "client-id-1");
	reqid_choose("bad id", out, sizeof(out));
	assert_int_equal(strlen(out), 36);
	assert_int_equal(out[14], '4');
	assert_true(reqid_valid(out));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_and_params),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_method_not_allowed),
		cmocka_unit_test(test_scopes),
		cmocka_unit_test(test_error_table),
		cmocka_unit_test(test_request_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
