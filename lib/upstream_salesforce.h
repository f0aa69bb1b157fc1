#pragma once
/*
 * upstream_salesforce: the Salesforce REST client. OAuth 2.0 client
 * credentials (POST {login}/services/oauth2/token; no expires_in, so the
 * token and its instance_url, in a cache shared by every client of the
 * process, are reused until a 401 INVALID_SESSION_ID; then authenticate
 * again, once), then SOQL through
 * {instance_url}/services/data/{version}/query following nextRecordsUrl.
 * Objects: zqu__Quote__c (queryAll, so deleted quotes arrive with
 * IsDeleted) and OpportunityPartner (optional: an org without it answers
 * INVALID_TYPE/INVALID_FIELD, reported as ERR_UNPROCESSABLE).
 *
 * Configured field names are checked as SOQL identifiers before they go
 * into a query; the only value in a query is a datetime formatted here.
 * One client per thread.
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

/* Configurable quote field names (relationship paths like X__r.Name ok). */
struct sf_fields {
	const char *subscription;   /* zqu__Subscription_Name__c */
	const char *resale_partner; /* Resale_Partner__c */
	const char *distributor;    /* Distributor__c */
	/* Required_Approvals_From_VP_of_Channel__c: free-text approval notes
	 * that may name the resale partner */
	const char *vp_channel_notes;
};

struct sf_options {
	const char *login_url;      /* https://MyDomain.my.salesforce.com */
	const char *client_id;
	const char *client_secret;
	const char *api_version;    /* v59.0 */
	struct sf_fields fields;
	const char *ca_file;
	unsigned batch_size;        /* Sforce-Query-Options batchSize [2000] */
	struct upstream_tuning tuning;
	struct metrics *metrics;    /* may be NULL */
	const atomic_bool *cancel;  /* may be NULL */
	/* The process's Salesforce token cache (borrowed, must outlive the
	 * client); NULL: the client keeps its own. */
	struct upstream_token *tokens;
};

struct sf_client;

/* A client (options copied) or NULL with a reason (unset URL or
 * credentials, a field name that is not an identifier, a bad version). */
struct sf_client *sf_new(const struct sf_options *o, char *why, size_t whylen);
void sf_free(struct sf_client *c);
/* The reason for the last failure (storage in c). */
const char *sf_last_error(const struct sf_client *c);

/*
 * Page through obj (SYNC_SF_QUOTE or SYNC_SF_OPPORTUNITY_PARTNER), all
 * rows or those with SystemModstamp >= *since_ms (floored to the second),
 * in SystemModstamp order. fn gets each page; its error stops the run.
 * Errors as zuora_query, plus ERR_UNPROCESSABLE when the org lacks the
 * object or a field (INVALID_TYPE / INVALID_FIELD).
 */
enum err sf_query(struct sf_client *c, enum sync_object obj, const int64_t *since_ms,
		  upstream_page_fn fn, void *cls);

/* ---- pure mapper (exposed for tests and fuzzing) ---- */

/*
 * A query response body into out: rows of obj (records without Id or a
 * valid SystemModstamp skipped and counted), done and nextRecordsUrl
 * (checked to be a /services/data/ path). ERR_UPSTREAM with a reason for
 * anything else. Release out with upstream_page_release.
 */
enum err sf_map_query_page(const char *body, size_t len, enum sync_object obj,
			   const struct sf_fields *f, struct upstream_page *out, char *why,
			   size_t whylen);
