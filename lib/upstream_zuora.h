#pragma once
/*
 * upstream_zuora: the Zuora v1 REST client. OAuth client credentials
 * (POST /oauth/token; the token lives in a cache shared by every client
 * of the process, reused until 60 s before expires_in, fetched anew once
 * on a 401), ZOQL paging (POST /v1/action/query + queryMore) over
 * Account, Contact and Subscription, and single-record reads
 * (GET /v1/subscriptions/{key}, GET /v1/accounts/{key}) for read-through.
 * Transient answers (429, 5xx, HTTP 200 success:false with reason category
 * 50, 61, 70 or 99) are retried by the upstream core.
 *
 * A client is not thread-safe: one per thread (it owns a curl handle).
 * The mappers at the end are pure and unit-tested.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "metrics.h"
#include "store_sync.h"
#include "upstream.h"
#include "upstream_token.h"

struct zuora_options {
	const char *base_url;       /* https://rest.zuora.com (no trailing path) */
	const char *client_id;
	const char *client_secret;
	const char *ssp_field;      /* SSPChannel__c: custom field name */
	const char *ca_file;        /* NULL: system bundle */
	unsigned batch_size;        /* ZOQL page size 1..2000 [2000] */
	struct upstream_tuning tuning;
	struct metrics *metrics;    /* may be NULL */
	const atomic_bool *cancel;  /* may be NULL */
	/* The process's Zuora token cache (borrowed, must outlive the
	 * client); NULL: the client keeps its own. */
	struct upstream_token *tokens;
};

struct zuora_client;

/*
 * A client; the option strings are copied. NULL with a reason in why when
 * an option is unusable (missing base URL or credentials, a field name
 * that is not an identifier). Free with zuora_free.
 */
struct zuora_client *zuora_new(const struct zuora_options *o, char *why, size_t whylen);
void zuora_free(struct zuora_client *z);

/* Bound the following calls on z, each as a whole (token wait and
 * request, retries and their waits), by deadline_ns on the now_ns()
 * clock; 0 removes the bound (upstream_set_deadline). */
void zuora_set_deadline(struct zuora_client *z, uint64_t deadline_ns);

/* The reason for the last failed call (static storage in z). */
const char *zuora_last_error(const struct zuora_client *z);

/*
 * Page through obj (SYNC_ZUORA_ACCOUNT, _CONTACT or _SUBSCRIPTION) with
 * ZOQL, every record when since_ms is NULL, else those with
 * UpdatedDate >= *since_ms (floored to the second). fn gets each mapped
 * page in order; its error stops the run and is returned. When Zuora
 * refuses the first query with a 4xx while the SSPChannel field is
 * selected (an object without that field), it runs once more without it;
 * any other failure of that query fails the run. Errors:
 * ERR_UNAUTHORIZED (credentials refused), ERR_UPSTREAM (bad answer, ZOQL
 * error, garbage, TLS failure, redirect), ERR_RATE_LIMITED,
 * ERR_UNAVAILABLE, ERR_TIMEOUT, ERR_TOO_LARGE; the reason is in
 * zuora_last_error.
 */
enum err zuora_query(struct zuora_client *z, enum sync_object obj, const int64_t *since_ms,
		     upstream_page_fn fn, void *cls);

/*
 * Read one subscription (number or id of any version; the latest version
 * comes back) into out (owned strings; release with
 * zuora_subscription_row_release). updated is now, as the REST body has no
 * UpdatedDate. ERR_NOT_FOUND for an unknown key (code 50000040), ERR_INVALID
 * for a key that is not [A-Za-z0-9_-]{1,64}, else as zuora_query.
 */
enum err zuora_get_subscription(struct zuora_client *z, const char *key,
				struct zuora_subscription_row *out);

/*
 * Read one account (number or id) and its bill-to and sold-to contacts
 * (contacts[0..*ncontacts), at most 2, owned). As zuora_get_subscription.
 */
enum err zuora_get_account(struct zuora_client *z, const char *key,
			   struct zuora_account_row *out,
			   struct zuora_contact_row contacts[2], size_t *ncontacts);

/* ---- pure mappers (exposed for tests and fuzzing) ---- */

/*
 * A ZOQL query/queryMore response body into out: rows of obj, records
 * missing a required field (Id; AccountNumber on accounts; Name and
 * AccountId on subscriptions) or with an unparseable UpdatedDate or
 * Version skipped, counted (out->skipped) and logged, done and
 * queryLocator. ZOQL omits null fields, so other missing fields get
 * defaults: UpdatedDate the epoch, Version 1, InvoiceOwnerId the
 * AccountId. ERR_UPSTREAM with a reason for a body
 * that is not a query result. Release out with upstream_page_release
 * (also after an error).
 */
enum err zuora_map_query_page(const char *body, size_t len, enum sync_object obj,
			      const char *ssp_field, struct upstream_page *out, char *why,
			      size_t whylen);

/*
 * A GET /v1/subscriptions/{key} body. ERR_NOT_FOUND for success:false with
 * reason 50000040, ERR_UPSTREAM for other failures or missing fields.
 * The body has no updatedDate (UPSTREAM.md 1.4), so out->updated is ""
 * (updated_ms 0) unless it has one: a live read invents no source
 * timestamp, and store_upsert_records keeps the stored one.
 */
enum err zuora_map_rest_subscription(const char *body, size_t len, const char *ssp_field,
				     struct zuora_subscription_row *out, char *why,
				     size_t whylen);

/* A GET /v1/accounts/{key} body (custom fields inside basicInfo); as
 * above, the account and its contacts get updated "" when it has no
 * basicInfo.updatedDate. */
enum err zuora_map_rest_account(const char *body, size_t len, const char *ssp_field,
				struct zuora_account_row *out,
				struct zuora_contact_row contacts[2], size_t *ncontacts,
				char *why, size_t whylen);

/*
 * Is this body (of an HTTP 200 or 4xx answer: UPSTREAM.md 1.7) a
 * transient Zuora failure: {"success":false,"reasons":[{"code":N}]} or
 * GU's {"Success":false,"Errors":[{"Code":"N"}]} with a reason code whose
 * last two digits are 50, 61, 70 or 99?
 */
bool zuora_body_transient(const char *body, size_t len);
