#pragma once
/*
 * classify: the channel decision of DOMAIN.md as a pure function.
 *
 * Input is a set of plain structs whose strings are borrowed (the caller
 * owns them and keeps them alive while the decision is used: the decision
 * points into them). NULL or "" means "unknown / not present". No I/O, no
 * logging, no globals, no allocation.
 */
#include <stdbool.h>
#include <stddef.h>

enum channel {
	CHANNEL_UNDETERMINED = 0,
	CHANNEL_WEB_DIRECT,
	CHANNEL_SALES_ASSISTED,
	CHANNEL_RESELLER,
	CHANNEL_TWO_TIER,
	CHANNEL_MSP,
	CHANNEL_MARKETPLACE,
};

enum confidence {
	CONFIDENCE_LOW = 0,
	CONFIDENCE_MEDIUM,
	CONFIDENCE_HIGH,
};

/* A boolean that upstream may not have told us. */
enum tristate {
	TRI_UNKNOWN = 0,
	TRI_FALSE,
	TRI_TRUE,
};

enum partner_type {
	PARTNER_NONE = 0, /* not in the registry */
	PARTNER_RESELLER,
	PARTNER_DISTRIBUTOR,
	PARTNER_MSP,
	PARTNER_MARKETPLACE,
};

enum evidence_source {
	SOURCE_ZUORA = 0,
	SOURCE_SALESFORCE,
	SOURCE_REGISTRY,
};

struct contact_in {
	const char *id;
	const char *name;
	const char *email;
	const char *domain; /* lower-cased part after '@' */
};

struct account_in {
	bool present; /* false: the account row is not in the cache */
	const char *id;
	const char *number;
	const char *name;
	enum tristate partner_account; /* basicInfo.partnerAccount */
	const char *ssp_channel;       /* SSPChannel__c on the account */
	const char *crm_id;
	struct contact_in sold_to;
	struct contact_in bill_to;
};

struct subscription_in {
	const char *id;     /* 32 hex */
	const char *number; /* A-S00012345 */
	int version;
	const char *status;
	const char *term_start; /* YYYY-MM-DD */
	const char *term_end;
	const char *created_by_id;
	const char *ssp_channel; /* SSPChannel__c on the subscription */
};

/* The newest Salesforce zqu__Quote__c for the subscription, if any. */
struct quote_in {
	bool present;
	const char *id;
	const char *status; /* "Sent to Z-Billing" means sales-assisted */
	const char *resale_partner;
	const char *distributor;
	const char *invoice_owner_id;
	const char *invoice_owner_name;
	const char *account_id;
	const char *opportunity_id;
	/* Required Approvals From VP of Channel: free text that may name the
	 * resale partner; read only when resale_partner is empty */
	const char *vp_channel_notes;
};

/* A partner registry row (present == false: no row matched). */
struct partner_in {
	bool present;
	const char *name;
	enum partner_type type;
	const char *track; /* Select, Open, Technology */
	/* the partner's registry email domains, ';'-separated; filled for
	 * owner_partner only (NULL elsewhere) */
	const char *email_domains;
};

/* Registry rows a decision may match against the VP of Channel notes. */
#define CLASSIFY_MAX_NOTES_PARTNERS 8

struct channel_input {
	struct subscription_in sub;
	struct account_in subscriber;
	struct account_in invoice_owner;
	struct quote_in quote;
	/* registry row whose zuora_account_numbers hold the invoice owner's
	 * account number or id */
	struct partner_in owner_partner;
	/* registry row whose name equals the quote's resale partner */
	struct partner_in resale_partner;
	/* Registry rows the quote's vp_channel_notes may name, in any order
	 * (unused slots: present == false). The store passes the reseller
	 * and MSP rows whose name occurs in the notes ignoring case (a run of
	 * whitespace in the notes read as one space), a superset of what
	 * classify accepts (whole words, see mention.h), and only
	 * when the quote's resale partner is empty. */
	struct partner_in notes_partners[CLASSIFY_MAX_NOTES_PARTNERS];
	/* Salesforce OpportunityPartner/AccountPartner role, e.g. "Reseller",
	 * and the partner account name; NULL when none */
	const char *sf_partner_role;
	const char *sf_partner_name;
	/* configuration */
	const char *fulfillment_user_id; /* CreatedById of web-direct subs */
	const char *ssp_reseller_value;  /* default "Reseller" */
	/* the configured field names, as evidence names them; NULL or "":
	 * SSPChannel__c, Resale_Partner__c, Distributor__c,
	 * Required_Approvals_From_VP_of_Channel__c */
	const char *ssp_field;
	const char *resale_partner_field;
	const char *distributor_field;
	const char *vp_channel_notes_field;
};

#define CLASSIFY_MAX_EVIDENCE 16
#define CLASSIFY_MAX_CONFLICTS 8
#define CLASSIFY_MAX_REASONS 8
#define CLASSIFY_TEXT_MAX 256

/* One fact the decision rests on. Strings borrowed from the input or
 * static. points_to is one of: "direct", "web_direct", "sales_assisted",
 * "reseller", "two_tier", "msp", "marketplace", "partner", "undetermined". */
struct evidence {
	enum evidence_source source;
	const char *object; /* "Subscription", "Account", "zqu__Quote__c", ... */
	const char *field;  /* "InvoiceOwnerId", "SSPChannel__c", ... */
	const char *value;
	const char *points_to;
};

/* Two sources disagree; Zuora wins. code is a stable snake_case id. */
struct conflict {
	const char *code;
	char message[CLASSIFY_TEXT_MAX];
};

struct channel_decision {
	enum channel channel;
	bool is_reseller;
	enum confidence confidence;
	/* the reseller (or MSP / marketplace) name and the distributor name,
	 * borrowed from the input; NULL when none */
	const char *partner_name;
	const char *distributor_name;
	/* The registry partner (reseller or MSP) the quote's VP of Channel
	 * notes name, which stands in for the quote's resale partner because
	 * that field is empty; NULL otherwise. Points into the input. */
	const struct partner_in *notes_partner;
	/* The SSPChannel value the decision used, borrowed from the input:
	 * the reseller value when either source (subscription or subscriber
	 * account) has it, else the subscription's, else the account's;
	 * NULL when neither is set. */
	const char *ssp_channel;
	size_t n_evidence;
	struct evidence evidence[CLASSIFY_MAX_EVIDENCE];
	size_t n_conflicts;
	struct conflict conflicts[CLASSIFY_MAX_CONFLICTS];
	/* human sentences: why this channel, what is missing */
	size_t n_reasons;
	char reasons[CLASSIFY_MAX_REASONS][CLASSIFY_TEXT_MAX];
};

/*
 * Classify one subscription. Fills *out completely (it is cleared first).
 * Never fails: missing data gives CHANNEL_UNDETERMINED (the invoice owner
 * is unknown) or low confidence (an account record the subscription names
 * is not present), with a reason. out borrows strings from in.
 */
void classify(const struct channel_input *in, struct channel_decision *out);

/* Stable wire names ("web_direct", "high", "reseller", "zuora", ...).
 * Return static strings. */
const char *channel_name(enum channel c);
const char *confidence_name(enum confidence c);
const char *partner_type_name(enum partner_type t);
const char *evidence_source_name(enum evidence_source s);

/* Parse a registry type ("reseller", ...); PARTNER_NONE when unknown. */
enum partner_type partner_type_parse(const char *s);

/* true for reseller, two_tier and msp. */
bool channel_is_reseller(enum channel c);
