#pragma once
/*
 * evaluate: what support does with one request about a subscription,
 * given its channel decision, the request's facts and the policy.
 * Pure: no I/O, no allocation; strings are static or borrowed from the
 * inputs, or written into the fixed buffers of the result.
 */
#include "classify.h"

enum request_type {
	REQ_IDENTIFY = 0,
	REQ_CONTACT_UPDATE,
	REQ_OWNERSHIP_CHANGE,
	REQ_DIRECT_RENEWAL,
	REQ_NEW_PURCHASE_OTHER_ACCOUNT,
	REQ_LEGACY_LICENSE,
	REQ_SUBSCRIPTION_CHANGE,
	REQ_PORTAL_ACCESS,
	REQ_NFR_LICENSE,
	REQ_QUESTION,
	REQ__COUNT
};

enum action {
	ACTION_PROCEED = 0,
	ACTION_REQUEST_PROOF,
	ACTION_PASS_TO_SALES,
	ACTION_DECLINE,
};

enum portal_policy {
	PORTAL_NONE = 0,  /* the seed: no Customers Portal access */
	PORTAL_READ_ONLY, /* handbook from 2023-06-28 */
};

/* Policy settings (data, loaded from the policy table). */
struct policy {
	enum portal_policy portal;
	const char *cloud_licensing_cutoff; /* "2022-07-07" */
};

/* Facts about the request; TRI_UNKNOWN / NULL when not given. */
struct request_facts {
	const char *requester_email;
	enum tristate requester_is_staff;    /* GitLab staff, account owners too */
	enum tristate requester_is_sold_to;  /* derived from email if unknown */
	enum tristate license_activated;
	enum tristate invoice_attached;      /* copy of the subscription invoice */
	enum tristate reseller_vouches;      /* the reseller vouches for requester */
	enum tristate partner_good_standing; /* NFR: partner in good standing */
	const char *purchase_date;           /* YYYY-MM-DD, last purchase/renewal */
	const char *partner_track;           /* NFR: Select, Open, Technology */
	enum tristate always_web_direct;     /* every purchase was web direct */
};

#define EVAL_MAX_ITEMS 8

struct evaluation {
	enum action action;
	const char *workflow_id; /* static id from the workflow catalog */
	size_t n_reasons;
	char reasons[EVAL_MAX_ITEMS][CLASSIFY_TEXT_MAX];
	size_t n_proof; /* proof still needed (any one of them suffices) */
	char proof[EVAL_MAX_ITEMS][CLASSIFY_TEXT_MAX];
	size_t n_warnings;
	char warnings[EVAL_MAX_ITEMS][CLASSIFY_TEXT_MAX];
};

/*
 * Evaluate one request. in is the same input the decision was made from
 * (for contacts and domains). Fills *out completely. Never fails.
 */
void evaluate(enum request_type type, const struct channel_input *in,
	      const struct channel_decision *d, const struct request_facts *f,
	      const struct policy *p, struct evaluation *out);

/* Wire names and parsing. Parsers return -1 for an unknown name. */
const char *request_type_name(enum request_type t);
int request_type_parse(const char *s);
const char *action_name(enum action a);

/*
 * The workflow ids that apply to a decision (the "workflows" of the channel
 * answer), in order; returns how many were written (at most max).
 */
size_t workflows_for_decision(const struct channel_decision *d,
			      const char **ids, size_t max);
