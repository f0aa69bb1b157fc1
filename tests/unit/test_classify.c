/*
 * Unit tests for classify(): one table row per scenario of DOMAIN.md
 * "Classifying a subscription", each run as its own cmocka test, plus the
 * invariants every decision must keep (evidence bounds, reasons present,
 * conflicts imply low confidence).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "classify.h"

#define SUB_ACCT_ID "2c92a0fd00000000000000000000a001"
#define SUB_ACCT_NO "A00012345"
#define OWNER_ID "2c92a0fd00000000000000000000b002"
#define OWNER_NO "A00098765"
#define FULFILLMENT "2c92a0ff0000000000000000000f0001"
#define SALES_USER "2c92a0ff0000000000000000000e0002"
#define SENT "Sent to Z-Billing"
#define NOTES_FIELD "Required_Approvals_From_VP_of_Channel__c"

enum owner_kind {
	O_SAME = 0,        /* invoice owner id == subscriber id */
	O_OTHER,           /* invoice owner id differs */
	O_NONE,            /* invoice owner unknown */
	O_SAME_BY_NUMBER,  /* ids missing, numbers equal */
	O_OTHER_BY_NUMBER, /* ids missing, numbers differ */
};

/* One scenario: input knobs, then expectations. */
struct ccase {
	const char *name;
	enum owner_kind owner;
	const char *owner_name;    /* default "Channel Co" */
	const char *sub_ssp;
	const char *acct_ssp;
	enum tristate partner_flag; /* invoice owner partnerAccount */
	bool by_fulfillment;
	const char *quote_status;  /* NULL: no quote */
	const char *resale;
	const char *distributor;
	const char *quote_owner;   /* quote's invoice owner id */
	bool reg_present;
	enum partner_type reg;
	const char *reg_name;
	const char *sf_role;
	const char *sf_name;
	const char *ssp_value;     /* configuration; NULL = default */
	bool custom_fields;        /* configured field names (see build) */
	bool sub_missing;          /* subscriber account row not cached */
	bool owner_missing;        /* invoice owner account row not cached */
	const char *notes;         /* quote's VP of Channel notes; the store's
				    * candidates are notes_registry (all of it) */

	enum channel channel;
	enum confidence conf;
	const char *conflict;      /* must be present; NULL: no conflicts */
	const char *partner;       /* expected partner_name when non-NULL */
	const char *distributor_name;
	const char *ev_field;      /* an evidence row with this field ... */
	const char *ev_points;     /* ... pointing here */
	const char *ev_value;      /* ... with this value (when non-NULL) */
	const char *no_ev_field;   /* no evidence row with this field */
	const char *reason_has;
	const char *notes_partner; /* decision.notes_partner's name */
};

static const struct ccase cases[] = {
	/* ---- direct: invoice owner is the subscriber ---- */
	{.name = "web_direct_fulfillment_and_non_reseller", .owner = O_SAME,
	 .sub_ssp = "Non-Reseller", .by_fulfillment = true,
	 .channel = CHANNEL_WEB_DIRECT, .conf = CONFIDENCE_HIGH,
	 .ev_field = "CreatedById", .ev_points = "web_direct",
	 .reason_has = "fulfillment"},
	{.name = "web_direct_fulfillment_only_is_high", .owner = O_SAME,
	 .by_fulfillment = true, .channel = CHANNEL_WEB_DIRECT,
	 .conf = CONFIDENCE_HIGH, .ev_field = "InvoiceOwnerId",
	 .ev_points = "direct"},
	{.name = "web_direct_no_quote_one_signal_medium", .owner = O_SAME,
	 .channel = CHANNEL_WEB_DIRECT, .conf = CONFIDENCE_MEDIUM,
	 .reason_has = "No quote reached Sent to Z-Billing"},
	{.name = "web_direct_quote_not_sent", .owner = O_SAME,
	 .quote_status = "Draft", .channel = CHANNEL_WEB_DIRECT,
	 .conf = CONFIDENCE_MEDIUM},
	{.name = "sales_assisted_sent_quote", .owner = O_SAME,
	 .quote_status = SENT, .channel = CHANNEL_SALES_ASSISTED,
	 .conf = CONFIDENCE_HIGH, .ev_field = "zqu__Status__c",
	 .ev_points = "sales_assisted", .reason_has = "sales-assisted"},
	{.name = "sales_assisted_status_case_insensitive", .owner = O_SAME,
	 .quote_status = "sent to z-billing", .channel = CHANNEL_SALES_ASSISTED,
	 .conf = CONFIDENCE_HIGH},
	/* DOMAIN.md: "web_direct if created by the fulfillment user" and
	 * Salesforce disagreeing with Zuora is a conflict that Zuora wins. */
	{.name = "conflict_web_direct_with_sales_quote", .owner = O_SAME,
	 .by_fulfillment = true, .quote_status = SENT,
	 .channel = CHANNEL_WEB_DIRECT, .conf = CONFIDENCE_LOW,
	 .conflict = "web_direct_with_sales_quote",
	 .reason_has = "fulfillment API user"},
	{.name = "conflict_ssp_reseller_on_subscription_but_direct",
	 .owner = O_SAME, .sub_ssp = "Reseller", .by_fulfillment = true,
	 .channel = CHANNEL_WEB_DIRECT, .conf = CONFIDENCE_LOW,
	 .conflict = "ssp_channel_reseller_but_direct",
	 .ev_field = "SSPChannel__c", .ev_points = "reseller"},
	{.name = "conflict_ssp_reseller_on_account_but_direct", .owner = O_SAME,
	 .acct_ssp = "Reseller", .channel = CHANNEL_WEB_DIRECT,
	 .conf = CONFIDENCE_LOW, .conflict = "ssp_channel_reseller_but_direct"},
	{.name = "conflict_quote_resale_partner_but_direct", .owner = O_SAME,
	 .quote_status = SENT, .resale = "Partner X",
	 .channel = CHANNEL_SALES_ASSISTED, .conf = CONFIDENCE_LOW,
	 .conflict = "quote_resale_partner_but_direct",
	 .ev_field = "Resale_Partner__c", .ev_points = "reseller"},
	{.name = "conflict_salesforce_partner_but_direct", .owner = O_SAME,
	 .sf_role = "Reseller", .sf_name = "SF Reseller",
	 .channel = CHANNEL_WEB_DIRECT, .conf = CONFIDENCE_LOW,
	 .conflict = "salesforce_partner_but_direct",
	 .ev_field = "Role", .ev_points = "reseller"},
	{.name = "direct_compared_by_account_number", .owner = O_SAME_BY_NUMBER,
	 .channel = CHANNEL_WEB_DIRECT, .conf = CONFIDENCE_MEDIUM,
	 .ev_field = "InvoiceOwnerNumber", .ev_points = "direct"},
	/* DOMAIN.md: read SSPChannel from either source; the account's
	 * Reseller on a direct purchase is a conflict even when the
	 * subscription says Non-Reseller. */
	{.name = "account_ssp_reseller_on_direct_is_conflict", .owner = O_SAME,
	 .sub_ssp = "Non-Reseller", .acct_ssp = "Reseller",
	 .channel = CHANNEL_WEB_DIRECT, .conf = CONFIDENCE_LOW,
	 .conflict = "ssp_channel_reseller_but_direct",
	 .ev_field = "SSPChannel__c", .ev_points = "reseller",
	 .ev_value = "Reseller"},
	{.name = "ssp_sources_disagree_on_direct", .owner = O_SAME,
	 .sub_ssp = "Reseller", .acct_ssp = "Non-Reseller",
	 .by_fulfillment = true, .channel = CHANNEL_WEB_DIRECT,
	 .conf = CONFIDENCE_LOW, .conflict = "ssp_channel_sources_disagree"},
	{.name = "ssp_sources_disagree_on_partner", .owner = O_OTHER,
	 .reg_present = true, .reg = PARTNER_RESELLER,
	 .sub_ssp = "Reseller", .acct_ssp = "Non-Reseller",
	 .channel = CHANNEL_RESELLER, .conf = CONFIDENCE_LOW,
	 .conflict = "ssp_channel_sources_disagree",
	 .ev_field = "SSPChannel__c", .ev_points = "direct"},
	{.name = "ssp_sources_agree_ignoring_case", .owner = O_OTHER,
	 .sub_ssp = "RESELLER", .acct_ssp = "reseller",
	 .channel = CHANNEL_RESELLER, .conf = CONFIDENCE_HIGH},
	{.name = "direct_subscriber_in_registry_is_noted", .owner = O_SAME,
	 .reg_present = true, .reg = PARTNER_MSP, .reg_name = "Acme MSP",
	 .by_fulfillment = true, .channel = CHANNEL_WEB_DIRECT,
	 .conf = CONFIDENCE_HIGH, .reason_has = "own use"},

	/* ---- missing data ---- */
	{.name = "invoice_owner_unknown_is_undetermined", .owner = O_NONE,
	 .channel = CHANNEL_UNDETERMINED, .conf = CONFIDENCE_LOW,
	 .reason_has = "not known"},
	{.name = "invoice_owner_unknown_even_with_ssp_reseller",
	 .owner = O_NONE, .sub_ssp = "Reseller",
	 .channel = CHANNEL_UNDETERMINED, .conf = CONFIDENCE_LOW,
	 .reason_has = "needs Zuora"},
	/* DOMAIN.md: "low with a conflict or missing data". An account record
	 * the subscription names but the cache lacks is missing data: the
	 * channel stands (Zuora's ids decide it), the confidence is low. */
	{.name = "missing_subscriber_record_web_direct_is_low",
	 .owner = O_SAME, .by_fulfillment = true, .sub_missing = true,
	 .channel = CHANNEL_WEB_DIRECT, .conf = CONFIDENCE_LOW,
	 .ev_field = "InvoiceOwnerId", .ev_points = "direct",
	 .reason_has = "Subscriber account " SUB_ACCT_ID " is not in the cache"},
	{.name = "missing_subscriber_record_sales_assisted_is_low",
	 .owner = O_SAME, .quote_status = SENT, .sub_missing = true,
	 .channel = CHANNEL_SALES_ASSISTED, .conf = CONFIDENCE_LOW,
	 .reason_has = "not in the cache"},
	{.name = "missing_subscriber_record_registry_reseller_is_low",
	 .owner = O_OTHER, .reg_present = true, .reg = PARTNER_RESELLER,
	 .reg_name = "Channel Co", .sub_ssp = "Reseller",
	 .sub_missing = true, .channel = CHANNEL_RESELLER,
	 .conf = CONFIDENCE_LOW, .partner = "Channel Co",
	 .reason_has = "Subscriber account"},
	{.name = "missing_owner_record_registry_reseller_is_low",
	 .owner = O_OTHER, .reg_present = true, .reg = PARTNER_RESELLER,
	 .reg_name = "Channel Co", .owner_missing = true,
	 .channel = CHANNEL_RESELLER, .conf = CONFIDENCE_LOW,
	 .partner = "Channel Co",
	 .reason_has = "Invoice owner account " OWNER_ID " is not in the cache"},
	{.name = "missing_owner_record_corroborated_reseller_is_low",
	 .owner = O_OTHER, .sub_ssp = "Reseller", .owner_missing = true,
	 .channel = CHANNEL_RESELLER, .conf = CONFIDENCE_LOW,
	 .reason_has = "partnerAccount flag and name could not be checked"},
	{.name = "missing_owner_record_uncorroborated_is_undetermined",
	 .owner = O_OTHER, .owner_missing = true,
	 .channel = CHANNEL_UNDETERMINED, .conf = CONFIDENCE_LOW,
	 .reason_has = "not in the cache"},
	/* Not missing data: no quote is itself web-direct evidence (DOMAIN.md
	 * "or no sales quote exists"), and an unset partnerAccount on a
	 * cached account is not a missing record. */
	{.name = "no_quote_is_not_missing_data", .owner = O_SAME,
	 .sub_ssp = "Non-Reseller", .channel = CHANNEL_WEB_DIRECT,
	 .conf = CONFIDENCE_HIGH},
	{.name = "unset_partner_flag_is_not_missing_data", .owner = O_OTHER,
	 .reg_present = true, .reg = PARTNER_MSP, .reg_name = "Managed Ops",
	 .partner_flag = TRI_UNKNOWN, .channel = CHANNEL_MSP,
	 .conf = CONFIDENCE_HIGH},

	/* ---- partner registry says what the invoice owner is ---- */
	{.name = "registry_reseller", .owner = O_OTHER, .reg_present = true,
	 .reg = PARTNER_RESELLER, .reg_name = "Channel Co Registry",
	 .channel = CHANNEL_RESELLER, .conf = CONFIDENCE_HIGH,
	 .partner = "Channel Co Registry", .ev_field = "type",
	 .ev_points = "reseller", .reason_has = "partner registry"},
	{.name = "registry_reseller_without_name_uses_owner_name",
	 .owner = O_OTHER, .reg_present = true, .reg = PARTNER_RESELLER,
	 .channel = CHANNEL_RESELLER, .conf = CONFIDENCE_HIGH,
	 .partner = "Channel Co"},
	{.name = "registry_reseller_all_signals", .owner = O_OTHER,
	 .reg_present = true, .reg = PARTNER_RESELLER, .reg_name = "Channel Co",
	 .sub_ssp = "Reseller", .acct_ssp = "Reseller",
	 .partner_flag = TRI_TRUE, .quote_status = SENT, .resale = "Channel Co",
	 .quote_owner = OWNER_ID, .sf_role = "Reseller", .sf_name = "Channel Co",
	 .channel = CHANNEL_RESELLER, .conf = CONFIDENCE_HIGH,
	 .partner = "Channel Co", .ev_field = "partnerAccount",
	 .ev_points = "partner"},
	{.name = "registry_reseller_partner_flag_false_not_conflict",
	 .owner = O_OTHER, .reg_present = true, .reg = PARTNER_RESELLER,
	 .partner_flag = TRI_FALSE, .channel = CHANNEL_RESELLER,
	 .conf = CONFIDENCE_HIGH, .ev_field = "partnerAccount",
	 .ev_points = "direct"},
	{.name = "registry_distributor_is_two_tier", .owner = O_OTHER,
	 .reg_present = true, .reg = PARTNER_DISTRIBUTOR,
	 .reg_name = "Big Distri", .quote_status = SENT,
	 .resale = "Small Reseller", .distributor = "Big Distri",
	 .channel = CHANNEL_TWO_TIER, .conf = CONFIDENCE_HIGH,
	 .partner = "Small Reseller", .distributor_name = "Big Distri",
	 .ev_field = "Distributor__c", .ev_points = "two_tier",
	 .reason_has = "Two-tier"},
	{.name = "two_tier_reseller_name_from_salesforce", .owner = O_OTHER,
	 .reg_present = true, .reg = PARTNER_DISTRIBUTOR,
	 .reg_name = "Big Distri", .sf_role = "Reseller",
	 .sf_name = "SF Reseller", .channel = CHANNEL_TWO_TIER,
	 .conf = CONFIDENCE_HIGH, .partner = "SF Reseller",
	 .distributor_name = "Big Distri"},
	{.name = "registry_msp", .owner = O_OTHER, .reg_present = true,
	 .reg = PARTNER_MSP, .reg_name = "Managed Ops", .channel = CHANNEL_MSP,
	 .conf = CONFIDENCE_HIGH, .partner = "Managed Ops",
	 .ev_points = "msp", .ev_field = "type", .reason_has = "MSP"},
	{.name = "registry_marketplace_is_not_reseller", .owner = O_OTHER,
	 .owner_name = "Amazon Web Services, Inc.", .reg_present = true,
	 .reg = PARTNER_MARKETPLACE, .reg_name = "AWS Marketplace",
	 .channel = CHANNEL_MARKETPLACE, .conf = CONFIDENCE_HIGH,
	 .partner = "AWS Marketplace", .ev_field = "type",
	 .ev_points = "marketplace", .reason_has = "alliance"},
	{.name = "conflict_marketplace_with_ssp_reseller", .owner = O_OTHER,
	 .reg_present = true, .reg = PARTNER_MARKETPLACE,
	 .reg_name = "Google Cloud Marketplace", .sub_ssp = "Reseller",
	 .channel = CHANNEL_MARKETPLACE, .conf = CONFIDENCE_LOW,
	 .conflict = "ssp_channel_reseller_but_marketplace"},
	{.name = "registry_row_without_type_is_not_registered",
	 .owner = O_OTHER, .reg_present = true, .reg = PARTNER_NONE,
	 .reg_name = "Someone", .channel = CHANNEL_UNDETERMINED,
	 .conf = CONFIDENCE_LOW},
	{.name = "partner_compared_by_account_number",
	 .owner = O_OTHER_BY_NUMBER, .reg_present = true,
	 .reg = PARTNER_RESELLER, .reg_name = "Channel Co",
	 .channel = CHANNEL_RESELLER, .conf = CONFIDENCE_HIGH,
	 .ev_field = "InvoiceOwnerNumber", .ev_points = "partner"},

	/* ---- not in the registry: corroboration needed ---- */
	{.name = "unregistered_ssp_reseller_corroborates", .owner = O_OTHER,
	 .sub_ssp = "Reseller", .channel = CHANNEL_RESELLER,
	 .conf = CONFIDENCE_HIGH, .partner = "Channel Co",
	 .reason_has = "SSPChannel is Reseller"},
	{.name = "unregistered_partner_flag_corroborates", .owner = O_OTHER,
	 .partner_flag = TRI_TRUE, .channel = CHANNEL_RESELLER,
	 .conf = CONFIDENCE_HIGH, .reason_has = "flagged as a partner"},
	{.name = "unregistered_quote_resale_partner_corroborates",
	 .owner = O_OTHER, .quote_status = SENT, .resale = "Channel Co",
	 .channel = CHANNEL_RESELLER, .conf = CONFIDENCE_HIGH,
	 .reason_has = "names a resale partner"},
	/* DOMAIN.md: "Not in the registry: reseller when any of
	 * SSPChannel=Reseller, partnerAccount=true or a quote resale partner
	 * corroborates it; otherwise undetermined": two-tier needs the
	 * registry to type the invoice owner as a distributor. */
	{.name = "unregistered_quote_distributor_is_reseller",
	 .owner = O_OTHER, .quote_status = SENT, .resale = "Small Reseller",
	 .distributor = "Channel Co", .channel = CHANNEL_RESELLER,
	 .conf = CONFIDENCE_HIGH, .partner = "Channel Co",
	 .reason_has = "names a resale partner"},
	{.name = "unregistered_quote_distributor_alone_is_undetermined",
	 .owner = O_OTHER, .quote_status = SENT, .distributor = "Channel Co",
	 .channel = CHANNEL_UNDETERMINED, .conf = CONFIDENCE_LOW,
	 .reason_has = "parent company"},
	{.name = "unregistered_nothing_is_undetermined", .owner = O_OTHER,
	 .channel = CHANNEL_UNDETERMINED, .conf = CONFIDENCE_LOW,
	 .reason_has = "parent company"},
	{.name = "unregistered_flag_false_names_what_is_missing",
	 .owner = O_OTHER, .partner_flag = TRI_FALSE,
	 .sub_ssp = "Non-Reseller", .channel = CHANNEL_UNDETERMINED,
	 .conf = CONFIDENCE_LOW, .reason_has = "not flagged as a partner"},
	{.name = "unregistered_salesforce_role_alone_is_undetermined",
	 .owner = O_OTHER, .sf_role = "Reseller", .sf_name = "SF Reseller",
	 .channel = CHANNEL_UNDETERMINED, .conf = CONFIDENCE_LOW,
	 .reason_has = "Zuora does not confirm"},
	{.name = "marketplace_never_inferred_without_registry",
	 .owner = O_OTHER, .owner_name = "Amazon Web Services, Inc.",
	 .sub_ssp = "Reseller", .channel = CHANNEL_RESELLER,
	 .conf = CONFIDENCE_HIGH, .partner = "Amazon Web Services, Inc."},
	{.name = "marketplace_name_alone_is_undetermined", .owner = O_OTHER,
	 .owner_name = "Google Cloud Marketplace",
	 .channel = CHANNEL_UNDETERMINED, .conf = CONFIDENCE_LOW},

	/* ---- SSPChannel configuration ---- */
	{.name = "ssp_value_case_insensitive", .owner = O_OTHER,
	 .sub_ssp = "RESELLER", .channel = CHANNEL_RESELLER,
	 .conf = CONFIDENCE_HIGH},
	{.name = "ssp_custom_reseller_value", .owner = O_OTHER,
	 .ssp_value = "Channel", .acct_ssp = "channel",
	 .channel = CHANNEL_RESELLER, .conf = CONFIDENCE_HIGH},
	/* DOMAIN.md: the field names are configuration; evidence names the
	 * field that was actually read. */
	{.name = "evidence_names_configured_ssp_field", .owner = O_OTHER,
	 .custom_fields = true, .acct_ssp = "Reseller",
	 .channel = CHANNEL_RESELLER, .conf = CONFIDENCE_HIGH,
	 .ev_field = "Channel__c", .ev_points = "reseller"},
	{.name = "evidence_names_configured_resale_partner_field",
	 .owner = O_OTHER, .custom_fields = true, .quote_status = SENT,
	 .resale = "Channel Co", .channel = CHANNEL_RESELLER,
	 .conf = CONFIDENCE_HIGH, .ev_field = "Reseller_Account__c",
	 .ev_points = "reseller"},
	{.name = "evidence_names_configured_distributor_field",
	 .owner = O_OTHER, .custom_fields = true, .reg_present = true,
	 .reg = PARTNER_DISTRIBUTOR, .quote_status = SENT,
	 .distributor = "Channel Co", .channel = CHANNEL_TWO_TIER,
	 .conf = CONFIDENCE_HIGH, .ev_field = "Distributor_Account__c",
	 .ev_points = "two_tier"},
	{.name = "ssp_default_value_not_used_when_configured",
	 .owner = O_OTHER, .ssp_value = "Channel", .sub_ssp = "Reseller",
	 .channel = CHANNEL_UNDETERMINED, .conf = CONFIDENCE_LOW},

	/* ---- the Resale Partner in the VP of Channel notes ---- */
	/* DOMAIN.md: "The Resale Partner may also appear in the Required
	 * Approvals From VP of Channel notes." Read only when the quote's
	 * resale partner field is empty; a registry reseller or MSP named as
	 * a whole word counts as the quote's resale partner. */
	{.name = "notes_partner_corroborates_unregistered_owner",
	 .owner = O_OTHER, .owner_name = "Holding Payer AG",
	 .quote_status = SENT,
	 .notes = "Approved by VP of Channel: 10% discount for Channel Co.",
	 .channel = CHANNEL_RESELLER, .conf = CONFIDENCE_HIGH,
	 .partner = "Holding Payer AG", .notes_partner = "Channel Co",
	 .ev_field = NOTES_FIELD, .ev_points = "reseller",
	 .ev_value = "Channel Co",
	 .reason_has = "notes name Channel Co, a reseller in the partner registry"},
	{.name = "notes_partner_is_two_tier_reseller", .owner = O_OTHER,
	 .reg_present = true, .reg = PARTNER_DISTRIBUTOR,
	 .reg_name = "Big Distri", .quote_status = SENT,
	 .distributor = "Big Distri",
	 .notes = "Two-tier through Big Distri; reseller: Channel Co Europe",
	 .channel = CHANNEL_TWO_TIER, .conf = CONFIDENCE_HIGH,
	 .partner = "Channel Co Europe", .distributor_name = "Big Distri",
	 .notes_partner = "Channel Co Europe", .ev_field = NOTES_FIELD,
	 .ev_value = "Channel Co Europe", .reason_has = "Two-tier"},
	{.name = "notes_msp_counts", .owner = O_OTHER, .quote_status = SENT,
	 .notes = "managed ops runs it", .channel = CHANNEL_RESELLER,
	 .conf = CONFIDENCE_HIGH, .notes_partner = "Managed Ops",
	 .ev_field = "name", .ev_points = "msp"},
	{.name = "notes_ignored_when_resale_field_set", .owner = O_OTHER,
	 .reg_present = true, .reg = PARTNER_DISTRIBUTOR,
	 .reg_name = "Big Distri", .quote_status = SENT,
	 .resale = "Small Reseller", .distributor = "Big Distri",
	 .notes = "Channel Co", .channel = CHANNEL_TWO_TIER,
	 .conf = CONFIDENCE_HIGH, .partner = "Small Reseller",
	 .no_ev_field = NOTES_FIELD},
	{.name = "notes_case_and_whitespace_insensitive", .owner = O_OTHER,
	 .quote_status = SENT, .notes = "ok for CHANNEL\n\t co, per VP",
	 .channel = CHANNEL_RESELLER, .conf = CONFIDENCE_HIGH,
	 .notes_partner = "Channel Co", .ev_field = NOTES_FIELD},
	{.name = "notes_whole_words_only", .owner = O_OTHER,
	 .quote_status = SENT,
	 .notes = "Channel Company and SuperChannel Co approved",
	 .channel = CHANNEL_UNDETERMINED, .conf = CONFIDENCE_LOW,
	 .no_ev_field = NOTES_FIELD, .reason_has = "no quote names"},
	{.name = "notes_distributor_or_marketplace_is_not_resale_partner",
	 .owner = O_OTHER, .quote_status = SENT,
	 .notes = "Big Distri and AWS Marketplace approved",
	 .channel = CHANNEL_UNDETERMINED, .conf = CONFIDENCE_LOW,
	 .no_ev_field = NOTES_FIELD},
	{.name = "notes_without_registry_partner_count_nothing",
	 .owner = O_OTHER, .quote_status = SENT,
	 .notes = "Approved for Unknown Reseller Ltd",
	 .channel = CHANNEL_UNDETERMINED, .conf = CONFIDENCE_LOW,
	 .no_ev_field = NOTES_FIELD},
	{.name = "notes_partner_but_direct_is_conflict", .owner = O_SAME,
	 .quote_status = SENT, .notes = "Channel Co resells this",
	 .channel = CHANNEL_SALES_ASSISTED, .conf = CONFIDENCE_LOW,
	 .conflict = "quote_resale_partner_but_direct",
	 .ev_field = NOTES_FIELD, .ev_points = "reseller",
	 .notes_partner = "Channel Co"},
	{.name = "notes_first_named_wins_others_mentioned", .owner = O_OTHER,
	 .quote_status = SENT,
	 .notes = "Managed Ops asked; Channel Co buys, Channel Co Europe sells",
	 .channel = CHANNEL_RESELLER, .conf = CONFIDENCE_HIGH,
	 .notes_partner = "Managed Ops",
	 .reason_has = "2 other registry partners"},
	{.name = "notes_evidence_names_configured_field", .owner = O_OTHER,
	 .custom_fields = true, .quote_status = SENT, .notes = "Channel Co",
	 .channel = CHANNEL_RESELLER, .conf = CONFIDENCE_HIGH,
	 .ev_field = "VP_Approvals__c", .ev_points = "reseller",
	 .ev_value = "Channel Co", .no_ev_field = NOTES_FIELD},

	/* ---- partner conflicts (Zuora wins) ---- */
	{.name = "conflict_ssp_non_reseller_but_registry_reseller",
	 .owner = O_OTHER, .reg_present = true, .reg = PARTNER_RESELLER,
	 .sub_ssp = "Non-Reseller", .channel = CHANNEL_RESELLER,
	 .conf = CONFIDENCE_LOW,
	 .conflict = "ssp_channel_non_reseller_but_partner"},
	{.name = "conflict_ssp_non_reseller_but_msp", .owner = O_OTHER,
	 .reg_present = true, .reg = PARTNER_MSP,
	 .acct_ssp = "non-reseller", .channel = CHANNEL_MSP,
	 .conf = CONFIDENCE_LOW,
	 .conflict = "ssp_channel_non_reseller_but_partner"},
	{.name = "conflict_quote_invoice_owner_mismatch", .owner = O_OTHER,
	 .reg_present = true, .reg = PARTNER_RESELLER, .quote_status = SENT,
	 .quote_owner = "2c92a0fd00000000000000000000c003",
	 .channel = CHANNEL_RESELLER, .conf = CONFIDENCE_LOW,
	 .conflict = "quote_invoice_owner_mismatch",
	 .ev_field = "zqu__InvoiceOwnerId__c", .ev_points = "partner"},
	{.name = "quote_invoice_owner_match_no_conflict", .owner = O_OTHER,
	 .reg_present = true, .reg = PARTNER_RESELLER, .quote_status = SENT,
	 .quote_owner = OWNER_ID, .channel = CHANNEL_RESELLER,
	 .conf = CONFIDENCE_HIGH},
	{.name = "conflict_quote_owner_is_partner_but_zuora_direct",
	 .owner = O_SAME, .quote_status = SENT, .quote_owner = OWNER_ID,
	 .channel = CHANNEL_SALES_ASSISTED, .conf = CONFIDENCE_LOW,
	 .conflict = "quote_invoice_owner_mismatch"},
	{.name = "conflict_quote_distributor_but_registry_reseller",
	 .owner = O_OTHER, .reg_present = true, .reg = PARTNER_RESELLER,
	 .reg_name = "Channel Co", .quote_status = SENT,
	 .distributor = "Big Distri", .resale = "Channel Co",
	 .channel = CHANNEL_RESELLER, .conf = CONFIDENCE_LOW,
	 .conflict = "quote_distributor_but_registry_reseller"},
};

#define N_CASES (sizeof cases / sizeof cases[0])

/* The registry rows a case with notes hands the classifier: more than the
 * store's prefilter would, so the classifier's own rules are tested. */
static const struct partner_in notes_registry[] = {
	{true, "Channel Co", PARTNER_RESELLER, "Select", NULL},
	{true, "Channel Co Europe", PARTNER_RESELLER, "Open", NULL},
	{true, "Big Distri", PARTNER_DISTRIBUTOR, "Select", NULL},
	{true, "AWS Marketplace", PARTNER_MARKETPLACE, "Technology", NULL},
	{true, "Managed Ops", PARTNER_MSP, "Open", NULL},
	{false, "Not Present Reseller", PARTNER_RESELLER, NULL, NULL},
};

/* Build a channel_input from a scenario; strings are static. */
static void build(const struct ccase *k, struct channel_input *in)
{
	struct account_in *s = &in->subscriber;
	struct account_in *o = &in->invoice_owner;

	memset(in, 0, sizeof *in);
	in->sub.id = "8a8aa0d6000000000000000000000001";
	in->sub.number = "A-S00012345";
	in->sub.version = 2;
	in->sub.status = "Active";
	in->sub.term_start = "2023-01-01";
	in->sub.term_end = "2024-01-01";
	in->sub.created_by_id = k->by_fulfillment ? FULFILLMENT : SALES_USER;
	in->sub.ssp_channel = k->sub_ssp;
	s->present = true;
	s->id = SUB_ACCT_ID;
	s->number = SUB_ACCT_NO;
	s->name = "Acme Corp";
	s->ssp_channel = k->acct_ssp;
	s->sold_to.email = "jane@acme.example";
	s->sold_to.domain = "acme.example";
	switch (k->owner) {
	case O_SAME:
		*o = *s;
		break;
	case O_SAME_BY_NUMBER:
		s->id = NULL;
		*o = *s;
		break;
	case O_OTHER_BY_NUMBER:
	case O_OTHER:
		o->present = true;
		o->id = k->owner == O_OTHER ? OWNER_ID : NULL;
		o->number = OWNER_NO;
		o->name = k->owner_name ? k->owner_name : "Channel Co";
		o->partner_account = k->partner_flag;
		o->sold_to.email = "ops@channel.example";
		break;
	case O_NONE:
		break;
	}
	if (k->sub_missing) {
		/* Only the id the subscription names is known (as the store
		 * fills it when the row is not cached). */
		memset(s, 0, sizeof *s);
		s->id = SUB_ACCT_ID;
		if (k->owner == O_SAME)
			*o = *s;
	}
	if (k->owner_missing) {
		const char *id = o->id;

		memset(o, 0, sizeof *o);
		o->id = id;
	}
	if (k->quote_status != NULL) {
		in->quote.present = true;
		in->quote.id = "a0Q000000000001";
		in->quote.status = k->quote_status;
		in->quote.resale_partner = k->resale;
		in->quote.distributor = k->distributor;
		in->quote.invoice_owner_id = k->quote_owner;
		in->quote.vp_channel_notes = k->notes;
	}
	if (k->notes != NULL)
		memcpy(in->notes_partners, notes_registry, sizeof notes_registry);
	in->owner_partner.present = k->reg_present;
	in->owner_partner.type = k->reg;
	in->owner_partner.name = k->reg_name;
	in->sf_partner_role = k->sf_role;
	in->sf_partner_name = k->sf_name;
	in->fulfillment_user_id = FULFILLMENT;
	in->ssp_reseller_value = k->ssp_value;
	if (k->custom_fields) {
		in->ssp_field = "Channel__c";
		in->resale_partner_field = "Reseller_Account__c";
		in->distributor_field = "Distributor_Account__c";
		in->vp_channel_notes_field = "VP_Approvals__c";
	}
}

static bool valid_points_to(const char *p)
{
	static const char *const ok[] = {
		"direct", "web_direct", "sales_assisted", "reseller", "two_tier",
		"msp", "marketplace", "partner", "undetermined",
	};
	size_t i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (p != NULL && strcmp(p, ok[i]) == 0)
			return true;
	return false;
}

static bool snake_case(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
			return false;
	return true;
}

/* What every decision must satisfy, whatever the input. */
static void check_invariants(const struct channel_decision *d)
{
	size_t i;

	assert_true(d->n_evidence <= CLASSIFY_MAX_EVIDENCE);
	assert_true(d->n_conflicts <= CLASSIFY_MAX_CONFLICTS);
	assert_true(d->n_reasons >= 1 && d->n_reasons <= CLASSIFY_MAX_REASONS);
	for (i = 0; i < d->n_evidence; i++) {
		assert_non_null(d->evidence[i].object);
		assert_non_null(d->evidence[i].field);
		assert_non_null(d->evidence[i].value);
		assert_true(valid_points_to(d->evidence[i].points_to));
	}
	for (i = 0; i < d->n_conflicts; i++) {
		assert_true(snake_case(d->conflicts[i].code));
		assert_true(strlen(d->conflicts[i].message) > 0);
	}
	for (i = 0; i < d->n_reasons; i++)
		assert_true(strlen(d->reasons[i]) > 0);
	assert_int_equal(d->is_reseller, channel_is_reseller(d->channel));
	if (d->n_conflicts > 0 || d->channel == CHANNEL_UNDETERMINED)
		assert_int_equal(d->confidence, CONFIDENCE_LOW);
}

static bool has_conflict(const struct channel_decision *d, const char *code)
{
	size_t i;

	for (i = 0; i < d->n_conflicts; i++)
		if (strcmp(d->conflicts[i].code, code) == 0)
			return true;
	return false;
}

static bool has_evidence_value(const struct channel_decision *d,
			       const char *field, const char *points_to,
			       const char *value)
{
	size_t i;

	for (i = 0; i < d->n_evidence; i++)
		if (strcmp(d->evidence[i].field, field) == 0 &&
		    (points_to == NULL ||
		     strcmp(d->evidence[i].points_to, points_to) == 0) &&
		    (value == NULL || strcmp(d->evidence[i].value, value) == 0))
			return true;
	return false;
}

static bool has_evidence(const struct channel_decision *d, const char *field,
			 const char *points_to)
{
	return has_evidence_value(d, field, points_to, NULL);
}

static bool has_reason(const struct channel_decision *d, const char *text)
{
	size_t i;

	for (i = 0; i < d->n_reasons; i++)
		if (strstr(d->reasons[i], text) != NULL)
			return true;
	return false;
}

static void test_case(void **state)
{
	const struct ccase *k = *state;
	struct channel_input in;
	struct channel_decision d;

	build(k, &in);
	classify(&in, &d);
	check_invariants(&d);
	assert_string_equal(channel_name(d.channel), channel_name(k->channel));
	assert_string_equal(confidence_name(d.confidence),
			    confidence_name(k->conf));
	if (k->conflict != NULL)
		assert_true(has_conflict(&d, k->conflict));
	else
		assert_int_equal(d.n_conflicts, 0);
	if (k->partner != NULL) {
		assert_non_null(d.partner_name);
		assert_string_equal(d.partner_name, k->partner);
	}
	if (k->distributor_name != NULL) {
		assert_non_null(d.distributor_name);
		assert_string_equal(d.distributor_name, k->distributor_name);
	}
	if (k->ev_field != NULL)
		assert_true(has_evidence_value(&d, k->ev_field, k->ev_points,
					       k->ev_value));
	if (k->no_ev_field != NULL)
		assert_false(has_evidence(&d, k->no_ev_field, NULL));
	if (k->reason_has != NULL)
		assert_true(has_reason(&d, k->reason_has));
	if (k->notes_partner != NULL) {
		assert_non_null(d.notes_partner);
		assert_string_equal(d.notes_partner->name, k->notes_partner);
	} else if (k->notes != NULL && k->channel == CHANNEL_UNDETERMINED) {
		assert_null(d.notes_partner);
	}
}

/* ---- tests outside the table ---- */

static const struct ccase *find_case(const char *name)
{
	size_t i;

	for (i = 0; i < N_CASES; i++)
		if (strcmp(cases[i].name, name) == 0)
			return &cases[i];
	return NULL;
}

static void test_null_input(void **state)
{
	struct channel_decision d;

	(void)state;
	classify(NULL, &d);
	check_invariants(&d);
	assert_int_equal(d.channel, CHANNEL_UNDETERMINED);
}

/* Direct and undetermined decisions name no partner. */
static void test_no_partner_name_when_not_partner(void **state)
{
	struct ccase k = {.owner = O_SAME};
	struct channel_input in;
	struct channel_decision d;

	(void)state;
	build(&k, &in);
	classify(&in, &d);
	assert_null(d.partner_name);
	assert_null(d.distributor_name);
	k.owner = O_OTHER;
	build(&k, &in);
	classify(&in, &d);
	assert_int_equal(d.channel, CHANNEL_UNDETERMINED);
	assert_null(d.partner_name);
}

/* Evidence sources match the system each fact came from. */
static void test_evidence_sources(void **state)
{
	const struct ccase *k = find_case("registry_reseller_all_signals");
	struct channel_input in;
	struct channel_decision d;
	size_t i;

	(void)state;
	assert_non_null(k);
	build(k, &in);
	classify(&in, &d);
	for (i = 0; i < d.n_evidence; i++) {
		const struct evidence *e = &d.evidence[i];

		if (strcmp(e->field, "SSPChannel__c") == 0 ||
		    strcmp(e->field, "InvoiceOwnerId") == 0 ||
		    strcmp(e->field, "partnerAccount") == 0)
			assert_int_equal(e->source, SOURCE_ZUORA);
		else if (strcmp(e->object, "partner_registry") == 0)
			assert_int_equal(e->source, SOURCE_REGISTRY);
		else
			assert_int_equal(e->source, SOURCE_SALESFORCE);
	}
	/* both SSPChannel values are recorded */
	assert_true(has_evidence(&d, "SSPChannel__c", "reseller"));
	assert_true(d.n_evidence >= 8);
}

/* Every conflict at once still fits the fixed arrays. */
static void test_many_conflicts_bounded(void **state)
{
	struct ccase k = {
		.owner = O_SAME, .sub_ssp = "Reseller", .by_fulfillment = true,
		.quote_status = SENT, .resale = "P", .distributor = "D",
		.quote_owner = OWNER_ID, .sf_role = "Reseller",
		.reg_present = true, .reg = PARTNER_RESELLER,
	};
	struct channel_input in;
	struct channel_decision d;

	(void)state;
	build(&k, &in);
	classify(&in, &d);
	check_invariants(&d);
	assert_true(d.n_conflicts >= 5);
}

static void test_wire_names(void **state)
{
	(void)state;
	assert_string_equal(channel_name(CHANNEL_WEB_DIRECT), "web_direct");
	assert_string_equal(channel_name(CHANNEL_SALES_ASSISTED),
			    "sales_assisted");
	assert_string_equal(channel_name(CHANNEL_RESELLER), "reseller");
	assert_string_equal(channel_name(CHANNEL_TWO_TIER), "two_tier");
	assert_string_equal(channel_name(CHANNEL_MSP), "msp");
	assert_string_equal(channel_name(CHANNEL_MARKETPLACE), "marketplace");
	assert_string_equal(channel_name(CHANNEL_UNDETERMINED), "undetermined");
	assert_string_equal(confidence_name(CONFIDENCE_LOW), "low");
	assert_string_equal(confidence_name(CONFIDENCE_MEDIUM), "medium");
	assert_string_equal(confidence_name(CONFIDENCE_HIGH), "high");
	assert_string_equal(evidence_source_name(SOURCE_ZUORA), "zuora");
	assert_string_equal(evidence_source_name(SOURCE_SALESFORCE),
			    "salesforce");
	assert_string_equal(evidence_source_name(SOURCE_REGISTRY), "registry");
	assert_string_equal(partner_type_name(PARTNER_DISTRIBUTOR),
			    "distributor");
}

static void test_partner_type_parse(void **state)
{
	(void)state;
	assert_int_equal(partner_type_parse("reseller"), PARTNER_RESELLER);
	assert_int_equal(partner_type_parse("Distributor"), PARTNER_DISTRIBUTOR);
	assert_int_equal(partner_type_parse("msp"), PARTNER_MSP);
	assert_int_equal(partner_type_parse("marketplace"), PARTNER_MARKETPLACE);
	assert_int_equal(partner_type_parse("alliance"), PARTNER_NONE);
	assert_int_equal(partner_type_parse(""), PARTNER_NONE);
	assert_int_equal(partner_type_parse(NULL), PARTNER_NONE);
}

static void test_channel_is_reseller(void **state)
{
	(void)state;
	assert_true(channel_is_reseller(CHANNEL_RESELLER));
	assert_true(channel_is_reseller(CHANNEL_TWO_TIER));
	assert_true(channel_is_reseller(CHANNEL_MSP));
	assert_false(channel_is_reseller(CHANNEL_MARKETPLACE));
	assert_false(channel_is_reseller(CHANNEL_WEB_DIRECT));
	assert_false(channel_is_reseller(CHANNEL_SALES_ASSISTED));
	assert_false(channel_is_reseller(CHANNEL_UNDETERMINED));
}

int main(void)
{
	struct CMUnitTest tests[N_CASES + 7];
	size_t i;

	for (i = 0; i < N_CASES; i++) {
		struct CMUnitTest t = cmocka_unit_test_prestate(
			test_case, (void *)(uintptr_t)&cases[i]);

		t.name = cases[i].name;
		tests[i] = t;
	}
	tests[i++] = (struct CMUnitTest)cmocka_unit_test(test_null_input);
	tests[i++] = (struct CMUnitTest)cmocka_unit_test(
		test_no_partner_name_when_not_partner);
	tests[i++] = (struct CMUnitTest)cmocka_unit_test(test_evidence_sources);
	tests[i++] =
		(struct CMUnitTest)cmocka_unit_test(test_many_conflicts_bounded);
	tests[i++] = (struct CMUnitTest)cmocka_unit_test(test_wire_names);
	tests[i++] = (struct CMUnitTest)cmocka_unit_test(test_partner_type_parse);
	tests[i++] = (struct CMUnitTest)cmocka_unit_test(test_channel_is_reseller);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
