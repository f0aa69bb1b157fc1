/*
 * The Zuora and Salesforce mappers: JSON bodies in the shapes of
 * UPSTREAM.md (inline fixtures) into row structs; missing fields, wrong
 * types and garbage are rejected and counted, never a crash. Also the
 * timestamp parser, the retry classifier and the backoff.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "upstream.h"
#include "upstream_salesforce.h"
#include "upstream_zuora.h"

static const struct sf_fields sf_default = {"zqu__Subscription_Name__c", "Resale_Partner__c",
					    "Distributor__c",
					    "Required_Approvals_From_VP_of_Channel__c"};

static enum err zpage(const char *body, enum sync_object obj, struct upstream_page *p)
{
	char why[200];

	return zuora_map_query_page(body, strlen(body), obj, "SSPChannel__c", p, why,
				    sizeof(why));
}

static void test_time_parse(void **state)
{
	int64_t a, b, c;
	char out[40];

	(void)state;
	assert_true(upstream_parse_time("2024-05-01T10:30:00-08:00", &a));
	assert_true(upstream_parse_time("2024-05-01T18:30:00Z", &b));
	assert_true(upstream_parse_time("2024-05-01T18:30:00.000+0000", &c));
	assert_true(a == b && b == c);
	upstream_format_time(a, out, sizeof(out));
	assert_string_equal(out, "2024-05-01T18:30:00.000Z");
	assert_true(upstream_parse_time("2011-12-16T17:43:01.123+0000", &a));
	upstream_format_time(a, out, sizeof(out));
	assert_string_equal(out, "2011-12-16T17:43:01.123Z");
	assert_true(upstream_parse_time("2024-02-29", &a));
	assert_false(upstream_parse_time("2024-05-01T10:30:00", &a)); /* no zone */
	assert_false(upstream_parse_time("yesterday", &a));
	assert_false(upstream_parse_time("2024-13-01T00:00:00Z", &a));
	assert_false(upstream_parse_time("2024-05-01T10:30:00Zjunk", &a));
	assert_false(upstream_parse_time("", &a));
	assert_false(upstream_parse_time(NULL, &a));
}

static void test_zoql_accounts(void **state)
{
	struct upstream_page p;
	const struct zuora_account_row *r;
	const char *body =
		"{\"size\":3,\"done\":false,\"queryLocator\":\"2c92c0f9602fb240016049ac7e0b47e7-2000\","
		"\"records\":["
		"{\"Id\":\"a1\",\"AccountNumber\":\"A00000001\",\"Name\":\"Acme\",\"Status\":\"Active\","
		" \"PartnerAccount\":true,\"CrmId\":\"001x\",\"SoldToId\":\"c1\",\"BillToId\":\"c2\","
		" \"UpdatedDate\":\"2024-04-01T09:00:00-08:00\",\"SSPChannel__c\":\"Reseller\"},"
		"{\"Id\":\"a2\",\"AccountNumber\":\"A00000002\",\"UpdatedDate\":\"2024-04-02T09:00:00Z\"},"
		"{\"Id\":\"a3\",\"Name\":\"no number\",\"UpdatedDate\":\"2024-04-02T09:00:00Z\"}]}";

	(void)state;
	assert_int_equal(zpage(body, SYNC_ZUORA_ACCOUNT, &p), ERR_OK);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.skipped, 1);
	assert_false(p.done);
	assert_string_equal(p.next, "2c92c0f9602fb240016049ac7e0b47e7-2000");
	r = p.rows;
	assert_string_equal(r[0].id, "a1");
	assert_string_equal(r[0].number, "A00000001");
	assert_string_equal(r[0].ssp_channel, "Reseller");
	assert_int_equal(r[0].partner_account, TRI_TRUE);
	assert_string_equal(r[0].updated, "2024-04-01T17:00:00.000Z");
	/* ZOQL omits nulls: absent means NULL, not "". */
	assert_null(r[1].name);
	assert_null(r[1].ssp_channel);
	assert_int_equal(r[1].partner_account, TRI_NULL);
	assert_true(p.sorted);
	assert_true(p.max_ms > p.min_ms);
	upstream_page_release(&p);
}

static void test_zoql_subscriptions(void **state)
{
	struct upstream_page p;
	const struct zuora_subscription_row *r;
	const char *body =
		"{\"size\":4,\"done\":true,\"records\":["
		"{\"Id\":\"s1v1\",\"Name\":\"A-S00000002\",\"AccountId\":\"a2\",\"InvoiceOwnerId\":\"a2\","
		" \"Status\":\"Expired\",\"Version\":1,\"IsLatestVersion\":false,"
		" \"TermStartDate\":\"2023-05-01\",\"TermEndDate\":\"2024-05-01\","
		" \"UpdatedDate\":\"2024-05-01T02:00:00-08:00\"},"
		"{\"Id\":\"s1v2\",\"Name\":\"A-S00000002\",\"AccountId\":\"a2\",\"InvoiceOwnerId\":\"a9\","
		" \"Status\":\"Active\",\"Version\":\"2\",\"TermStartDate\":\"garbage\","
		" \"CreatedById\":\"u1\",\"UpdatedDate\":\"2024-05-02T10:00:00Z\",\"SSPChannel__c\":\"Reseller\"},"
		"{\"Id\":\"s3\",\"Name\":\"A-S3\",\"AccountId\":\"a\",\"InvoiceOwnerId\":\"a\","
		" \"Version\":\"two\",\"UpdatedDate\":\"2024-05-02T10:00:00Z\"},"
		"{\"Id\":42,\"Name\":\"A-S4\"},"
		/* ZOQL omits nulls: defaults, not a dropped row */
		"{\"Id\":\"s5\",\"Name\":\"A-S5\",\"AccountId\":\"a5\",\"Status\":\"Active\"},"
		"{\"Id\":\"s6\",\"Version\":null,\"AccountId\":\"a6\"}]}"; /* no Name */

	(void)state;
	assert_int_equal(zpage(body, SYNC_ZUORA_SUBSCRIPTION, &p), ERR_OK);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.skipped, 3);
	assert_true(p.done);
	assert_null(p.next);
	r = p.rows;
	assert_false(r[0].is_latest);
	assert_int_equal(r[0].version, 1);
	assert_string_equal(r[0].term_start, "2023-05-01");
	assert_true(r[1].is_latest); /* absent counts as latest */
	assert_int_equal(r[1].version, 2);
	assert_null(r[1].term_start);
	assert_string_equal(r[1].invoice_owner_id, "a9");
	assert_string_equal(r[1].created_by_id, "u1");
	assert_string_equal(r[1].ssp_channel, "Reseller");
	assert_string_equal(r[2].id, "s5");
	assert_int_equal(r[2].version, 1);                  /* no Version: the first */
	assert_string_equal(r[2].invoice_owner_id, "a5");   /* the subscriber pays */
	assert_string_equal(r[2].updated, "1970-01-01T00:00:00.000Z"); /* the epoch */
	assert_int_equal(r[2].updated_ms, 0);
	upstream_page_release(&p);
}

static void test_zoql_contacts_and_order(void **state)
{
	struct upstream_page p;
	const struct zuora_contact_row *r;
	const char *body =
		"{\"done\":true,\"records\":["
		"{\"Id\":\"c2\",\"AccountId\":\"a1\",\"WorkEmail\":\"x@y.example\","
		" \"UpdatedDate\":\"2024-04-02T00:00:00Z\"},"
		"{\"Id\":\"c1\",\"FirstName\":[1,2],\"LastName\":{\"a\":1},"
		" \"UpdatedDate\":\"2024-04-01T00:00:00Z\"},"
		"{\"Id\":\"c3\"},"
		"\"a string\", 17, null]}";

	(void)state;
	assert_int_equal(zpage(body, SYNC_ZUORA_CONTACT, &p), ERR_OK);
	assert_int_equal(p.n, 3); /* c3 has no UpdatedDate: kept, dated the epoch */
	assert_int_equal(p.skipped, 3);
	r = p.rows;
	assert_string_equal(r[0].work_email, "x@y.example");
	assert_null(r[1].first_name); /* wrong types become NULL */
	assert_null(r[1].last_name);
	assert_string_equal(r[2].updated, "1970-01-01T00:00:00.000Z");
	assert_false(p.sorted); /* the second row is older than the first */
	upstream_page_release(&p);
}

static void test_zoql_garbage(void **state)
{
	static const char *const bodies[] = {
		"", "not json", "{\"records\":[", "[]", "{\"records\":[]}",
		"{\"done\":\"yes\",\"records\":[]}", "{\"done\":false,\"records\":[]}",
		"{\"done\":true,\"records\":{}}", "null", "{\"done\":false,\"queryLocator\":7}",
	};
	struct upstream_page p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		assert_int_equal(zpage(bodies[i], SYNC_ZUORA_ACCOUNT, &p), ERR_UPSTREAM);
		upstream_page_release(&p);
	}
	/* An empty result is fine. */
	assert_int_equal(zpage("{\"size\":0,\"done\":true}", SYNC_ZUORA_ACCOUNT, &p), ERR_OK);
	assert_int_equal(p.n, 0);
	upstream_page_release(&p);
}

static void test_rest_subscription(void **state)
{
	struct zuora_subscription_row r;
	char why[200];
	const char *ok =
		"{\"success\":true,\"id\":\"8a80\",\"subscriptionNumber\":\"A-S00007412\","
		"\"version\":3,\"status\":\"Active\",\"accountId\":\"acc\",\"accountNumber\":\"A1\","
		"\"invoiceOwnerAccountId\":\"own\",\"termStartDate\":\"2017-01-01\","
		"\"termEndDate\":\"2018-01-01\",\"billToContact\":null,\"SSPChannel__c\":\"Reseller\"}";
	const char *nf =
		"{\"success\":false,\"processId\":\"747E0D5A53240416\",\"reasons\":[{\"code\":50000040,"
		"\"message\":\"Cannot find entity by key: '1234567'.\"}],\"requestId\":\"x\"}";
	const char *other = "{\"success\":false,\"reasons\":[{\"code\":53100320,\"message\":\"x\"}]}";

	(void)state;
	assert_int_equal(zuora_map_rest_subscription(ok, strlen(ok), "SSPChannel__c", &r, why,
						     sizeof(why)), ERR_OK);
	assert_string_equal(r.number, "A-S00007412");
	assert_int_equal(r.version, 3);
	assert_true(r.is_latest);
	assert_string_equal(r.invoice_owner_id, "own");
	assert_string_equal(r.ssp_channel, "Reseller");
	/* no updatedDate: no invented source timestamp (the store keeps its own) */
	assert_string_equal(r.updated, "");
	assert_int_equal(r.updated_ms, 0);
	zuora_subscription_row_release(&r);
	assert_int_equal(zuora_map_rest_subscription(nf, strlen(nf), "SSPChannel__c", &r, why,
						     sizeof(why)), ERR_NOT_FOUND);
	{
		const char *gu = "{\"Success\":false,\"Errors\":[{\"Code\":\"50000040\",\"Message\":\"x\"}]}";

		assert_int_equal(zuora_map_rest_subscription(gu, strlen(gu), NULL, &r, why,
							     sizeof(why)), ERR_NOT_FOUND);
	}
	assert_int_equal(zuora_map_rest_subscription(other, strlen(other), NULL, &r, why,
						     sizeof(why)), ERR_UPSTREAM);
	assert_int_equal(zuora_map_rest_subscription("{\"success\":true}", 16, NULL, &r, why,
						     sizeof(why)), ERR_UPSTREAM);
	assert_int_equal(zuora_map_rest_subscription("<html>", 6, NULL, &r, why, sizeof(why)),
			 ERR_UPSTREAM);
}

static void test_rest_account(void **state)
{
	struct zuora_account_row a;
	struct zuora_contact_row c[2];
	size_t n;
	char why[200];
	const char *ok =
		"{\"basicInfo\":{\"accountNumber\":\"A00000001\",\"id\":\"402892c7\",\"name\":\"Test\","
		"\"status\":\"Active\",\"crmId\":\"\",\"partnerAccount\":false,\"batch\":\"Batch1\","
		"\"SSPChannel__c\":\"Reseller\"},"
		"\"billToContact\":{\"id\":\"c1\",\"firstName\":\"Ada\",\"workEmail\":\"ada@x.example\"},"
		"\"soldToContact\":{\"id\":\"c1\"},\"success\":true}";

	(void)state;
	assert_int_equal(zuora_map_rest_account(ok, strlen(ok), "SSPChannel__c", &a, c, &n,
						why, sizeof(why)), ERR_OK);
	assert_string_equal(a.number, "A00000001");
	assert_string_equal(a.ssp_channel, "Reseller"); /* inside basicInfo */
	assert_int_equal(a.partner_account, TRI_FALSE);
	assert_null(a.crm_id); /* "" is no value */
	assert_int_equal(n, 1);  /* bill-to and sold-to are the same contact */
	assert_string_equal(c[0].account_id, "402892c7");
	assert_string_equal(c[0].work_email, "ada@x.example");
	assert_string_equal(a.updated, "");
	assert_string_equal(c[0].updated, "");
	zuora_account_row_release(&a);
	zuora_contact_row_release(&c[0]);
	assert_int_equal(zuora_map_rest_account("{\"success\":true,\"basicInfo\":7}", 31, NULL,
						&a, c, &n, why, sizeof(why)), ERR_UPSTREAM);
}

static bool transient(const char *body)
{
	return zuora_body_transient(body, strlen(body));
}

static void test_transient_codes(void **state)
{
	(void)state;
	assert_true(transient("{\"success\":false,\"reasons\":[{\"code\":50000061,\"message\":\"x\"}]}"));
	assert_true(transient("{\"success\":false,\"reasons\":[{\"code\":50000070}]}"));
	assert_true(transient("{\"success\":false,\"reasons\":[{\"code\":53100350}]}"));
	assert_true(transient("{\"success\":false,\"reasons\":[{\"code\":50000099}]}"));
	assert_false(transient("{\"success\":false,\"reasons\":[{\"code\":50000040}]}"));
	assert_false(transient("{\"success\":false,\"reasons\":[{\"code\":\"junk\"}]}"));
	/* GU's shape, codes as strings (UPSTREAM.md 1.7) */
	assert_true(transient("{\"Success\":false,\"Errors\":[{\"Code\":\"50000070\",\"Message\":\"\"}]}"));
	assert_true(transient("{\"Success\":false,\"Errors\":[{\"Code\":\"X\"},{\"Code\":50000061}]}"));
	assert_false(transient("{\"Success\":false,\"Errors\":[{\"Code\":\"INVALID_VALUE\"}]}"));
	assert_false(transient("{\"Success\":true,\"Errors\":[{\"Code\":\"50000070\"}]}"));
	assert_false(transient("{\"success\":true}"));
	assert_false(transient("{\"done\":true,\"records\":[]}"));
	assert_false(transient("\"success\" garbage"));
}

static void test_sf_quotes(void **state)
{
	struct upstream_page p;
	const struct sf_quote_row *r;
	char why[200];
	const char *body =
		"{\"totalSize\":3,\"done\":false,"
		"\"nextRecordsUrl\":\"/services/data/v59.0/query/01gD0000002HU6KIAW-2000\",\"records\":["
		"{\"attributes\":{\"type\":\"zqu__Quote__c\",\"url\":\"/x\"},\"Id\":\"q1\",\"Name\":\"Q-1\","
		" \"zqu__Status__c\":\"Sent to Z-Billing\",\"zqu__Subscription_Name__c\":\"A-S1\","
		" \"Resale_Partner__c\":\"Example Reseller GmbH\",\"Distributor__c\":null,"
		" \"Required_Approvals_From_VP_of_Channel__c\":\"Discount 30%: \\\"Example\\\"\\nok\","
		" \"zqu__Opportunity__c\":\"006x\",\"IsDeleted\":false,"
		" \"SystemModstamp\":\"2024-05-02T09:30:00.000+0000\"},"
		"{\"Id\":\"q2\",\"IsDeleted\":true,\"Required_Approvals_From_VP_of_Channel__c\":null,"
		" \"SystemModstamp\":\"2024-05-03T09:30:00.000+0000\"},"
		"{\"Id\":\"q3\",\"SystemModstamp\":null}]}";

	(void)state;
	assert_int_equal(sf_map_query_page(body, strlen(body), SYNC_SF_QUOTE, &sf_default, &p, why,
					   sizeof(why)), ERR_OK);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.skipped, 1);
	assert_false(p.done);
	assert_string_equal(p.next, "/services/data/v59.0/query/01gD0000002HU6KIAW-2000");
	r = p.rows;
	assert_string_equal(r[0].subscription_number, "A-S1");
	assert_string_equal(r[0].resale_partner, "Example Reseller GmbH");
	assert_null(r[0].distributor);
	/* the notes as sent (quotes, newline), null and absent alike NULL */
	assert_string_equal(r[0].vp_channel_notes, "Discount 30%: \"Example\"\nok");
	assert_null(r[1].vp_channel_notes);
	assert_false(r[0].is_deleted);
	assert_string_equal(r[0].modstamp, "2024-05-02T09:30:00.000Z");
	assert_true(r[1].is_deleted);
	upstream_page_release(&p);
}

static void test_sf_relationship_fields(void **state)
{
	struct upstream_page p;
	const struct sf_partner_row *o;
	const struct sf_quote_row *q;
	const struct sf_fields rel = {"zqu__Subscription_Name__c", "Resale_Partner__r.Name",
				      "Distributor__c", "VP_Channel_Approval_Notes__c"};
	char why[200];
	const char *partners =
		"{\"totalSize\":1,\"done\":true,\"records\":[{\"Id\":\"00I1\",\"OpportunityId\":\"006\","
		"\"AccountToId\":\"001\",\"AccountTo\":{\"attributes\":{},\"Name\":\"Example Reseller GmbH\"},"
		"\"Role\":\"Reseller\",\"IsPrimary\":true,\"SystemModstamp\":\"2024-05-03T09:40:00.000+0000\"},"
		"{\"Id\":\"00I2\",\"AccountTo\":null,\"SystemModstamp\":\"2024-05-03T09:40:00.000+0000\"}]}";
	const char *quotes =
		"{\"done\":true,\"records\":[{\"Id\":\"q1\",\"Resale_Partner__r\":{\"Name\":\"P\"},"
		"\"Required_Approvals_From_VP_of_Channel__c\":\"default name, not configured\","
		"\"VP_Channel_Approval_Notes__c\":\"Approved for P\","
		"\"SystemModstamp\":\"2024-05-03T09:40:00Z\"}]}";

	(void)state;
	assert_int_equal(sf_map_query_page(partners, strlen(partners), SYNC_SF_OPPORTUNITY_PARTNER,
					   &sf_default, &p, why, sizeof(why)), ERR_OK);
	assert_int_equal(p.n, 2);
	o = p.rows;
	assert_string_equal(o[0].account_to_name, "Example Reseller GmbH");
	assert_int_equal(o[0].is_primary, TRI_TRUE);
	assert_null(o[1].account_to_name);
	assert_int_equal(o[1].is_primary, TRI_NULL);
	upstream_page_release(&p);
	assert_int_equal(sf_map_query_page(quotes, strlen(quotes), SYNC_SF_QUOTE, &rel, &p, why,
					   sizeof(why)), ERR_OK);
	q = p.rows;
	assert_string_equal(q[0].resale_partner, "P");
	/* the configured notes field is read, not the default name */
	assert_string_equal(q[0].vp_channel_notes, "Approved for P");
	upstream_page_release(&p);
}

static void test_sf_garbage(void **state)
{
	static const char *const bodies[] = {
		"[{\"message\":\"Session expired or invalid\",\"errorCode\":\"INVALID_SESSION_ID\"}]",
		"{\"done\":true}", "{\"done\":false,\"records\":[]}",
		"{\"done\":false,\"records\":[],\"nextRecordsUrl\":\"http://evil.example/x\"}",
		"{\"done\":false,\"records\":[],\"nextRecordsUrl\":\"/services/data/../../x\"}",
		"{\"done\":true,\"records\":[", "\x01\x02",
	};
	struct upstream_page p;
	char why[200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		assert_int_equal(sf_map_query_page(bodies[i], strlen(bodies[i]), SYNC_SF_QUOTE,
						   &sf_default, &p, why, sizeof(why)),
				 ERR_UPSTREAM);
		upstream_page_release(&p);
	}
}

static void test_identifiers_and_helpers(void **state)
{
	struct upstream_tuning t = {0};
	char track[65];
	unsigned i, d;

	(void)state;
	assert_true(upstream_identifier_ok("SSPChannel__c", false));
	assert_true(upstream_identifier_ok("Resale_Partner__r.Name", true));
	assert_false(upstream_identifier_ok("Resale_Partner__r.Name", false));
	assert_false(upstream_identifier_ok("Name, (SELECT Id FROM X)", true));
	assert_false(upstream_identifier_ok("a..b", true));
	assert_false(upstream_identifier_ok(".a", true));
	assert_false(upstream_identifier_ok("", true));
	assert_false(upstream_identifier_ok("x'--", true));
	upstream_track_id("req-1:2;\"3'", track, sizeof(track));
	assert_string_equal(track, "req-123");
	upstream_track_id("::", track, sizeof(track));
	assert_int_equal(strlen(track), 32);
	t.backoff_base_ms = 200;
	t.backoff_cap_ms = 10000;
	for (i = 1; i <= 10; i++) {
		unsigned full = 200u << (i - 1);

		if (full > 10000)
			full = 10000;
		d = upstream_backoff_ms(&t, i);
		assert_true(d >= full / 2 && d <= full);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_zoql_accounts),
		cmocka_unit_test(test_zoql_subscriptions),
		cmocka_unit_test(test_zoql_contacts_and_order),
		cmocka_unit_test(test_zoql_garbage),
		cmocka_unit_test(test_rest_subscription),
		cmocka_unit_test(test_rest_account),
		cmocka_unit_test(test_transient_codes),
		cmocka_unit_test(test_sf_quotes),
		cmocka_unit_test(test_sf_relationship_fields),
		cmocka_unit_test(test_sf_garbage),
		cmocka_unit_test(test_identifiers_and_helpers),
	};

	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
