/*
 * Unit tests for evaluate(): one table row per request scenario of
 * DOMAIN.md "Support requests and their workflows" and the reseller
 * policy, each run as its own cmocka test; plus the wire names, the
 * workflow list per decision, and classify() feeding evaluate().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "evaluate.h"

#define WF_IDENTIFY "working_with_reseller_related_requests"
#define WF_ASSOC "associating_purchases"
#define WF_SALES "working_with_sales"
#define WF_UPLOAD "troubleshoot_license_upload_issues"
#define WF_CLOUD "cloud_licensing"
#define WF_CHANGE "reseller_change_or_question"
#define WF_PORTAL "portal_access"
#define WF_NFR "nfr_program"

#define W_LICENSE "Never send a license file to the reseller"
#define W_NO_CC "Never CC the existing Sold-To contact"

#define T TRI_TRUE
#define F TRI_FALSE

/* One scenario: the request, the decision's channel, then expectations. */
struct ecase {
	const char *name;
	enum request_type type;
	enum channel channel;
	struct request_facts f;
	enum portal_policy portal;
	const char *cutoff;      /* NULL: policy default */
	const char *term_start;  /* the subscription's, may be NULL */
	enum partner_type reg;   /* invoice owner's registry type */
	const char *reg_track;
	const char *reg_domains; /* its registry email domains */

	enum action action;
	const char *workflow;
	size_t n_proof;          /* exact */
	const char *reason_has;
	const char *warning_has;
	const char *proof_has;
	const char *lacks;       /* must appear in no reason or warning */
};

static const struct ecase cases[] = {
	/* ---- identify ---- */
	{.name = "identify_reseller", .type = REQ_IDENTIFY,
	 .channel = CHANNEL_RESELLER, .action = ACTION_PROCEED,
	 .workflow = WF_IDENTIFY, .reason_has = "Channel: reseller",
	 .warning_has = W_LICENSE},
	{.name = "identify_two_tier_names_both", .type = REQ_IDENTIFY,
	 .channel = CHANNEL_TWO_TIER, .action = ACTION_PROCEED,
	 .workflow = WF_IDENTIFY, .reason_has = "distributor Big Distri",
	 .warning_has = W_LICENSE},
	{.name = "identify_web_direct_no_reseller_warning",
	 .type = REQ_IDENTIFY, .channel = CHANNEL_WEB_DIRECT,
	 .action = ACTION_PROCEED, .workflow = WF_IDENTIFY,
	 .reason_has = "web_direct", .lacks = W_LICENSE},
	{.name = "identify_undetermined", .type = REQ_IDENTIFY,
	 .channel = CHANNEL_UNDETERMINED, .action = ACTION_PROCEED,
	 .workflow = WF_IDENTIFY, .reason_has = "undetermined"},

	/* ---- contact update / ownership change ---- */
	{.name = "contact_proof_a_sold_to_flag", .type = REQ_CONTACT_UPDATE,
	 .channel = CHANNEL_RESELLER, .f = {.requester_is_sold_to = T},
	 .action = ACTION_PROCEED, .workflow = WF_ASSOC,
	 .reason_has = "Proof A", .warning_has = W_NO_CC},
	{.name = "contact_proof_a_sold_to_email_case_insensitive",
	 .type = REQ_CONTACT_UPDATE, .channel = CHANNEL_RESELLER,
	 .f = {.requester_email = "JANE@Acme.Example"},
	 .action = ACTION_PROCEED, .workflow = WF_ASSOC,
	 .reason_has = "Proof A", .warning_has = W_LICENSE},
	{.name = "contact_sold_to_false_overrides_email",
	 .type = REQ_CONTACT_UPDATE, .channel = CHANNEL_RESELLER,
	 .f = {.requester_email = "jane@acme.example",
	       .requester_is_sold_to = F},
	 .action = ACTION_REQUEST_PROOF, .workflow = WF_ASSOC, .n_proof = 3},
	{.name = "contact_proof_b_invoice_attached", .type = REQ_CONTACT_UPDATE,
	 .channel = CHANNEL_RESELLER,
	 .f = {.requester_email = "ops@channel.example",
	       .invoice_attached = T},
	 .action = ACTION_PROCEED, .workflow = WF_ASSOC,
	 .reason_has = "Proof B"},
	{.name = "contact_proof_c_vouch_invoice_owner_domain",
	 .type = REQ_CONTACT_UPDATE, .channel = CHANNEL_RESELLER,
	 .f = {.requester_email = "new.admin@Channel.example",
	       .license_activated = F, .reseller_vouches = T},
	 .action = ACTION_PROCEED, .workflow = WF_ASSOC,
	 .reason_has = "Proof C"},
	/* DOMAIN.md option C: a request from the invoice owner's Sold-To
	 * domain on a reseller purchase is itself the reseller's vouch. */
	{.name = "contact_proof_c_request_from_invoice_owner_domain",
	 .type = REQ_CONTACT_UPDATE, .channel = CHANNEL_RESELLER,
	 .f = {.requester_email = "new.admin@channel.example",
	       .license_activated = F},
	 .action = ACTION_PROCEED, .workflow = WF_ASSOC,
	 .reason_has = "Proof C"},
	{.name = "contact_vouch_withheld_is_not_c",
	 .type = REQ_CONTACT_UPDATE, .channel = CHANNEL_RESELLER,
	 .f = {.requester_email = "new.admin@channel.example",
	       .license_activated = F, .reseller_vouches = F},
	 .action = ACTION_REQUEST_PROOF, .workflow = WF_ASSOC, .n_proof = 3,
	 .reason_has = "does not vouch"},
	{.name = "contact_staff_from_owner_domain_is_not_c",
	 .type = REQ_CONTACT_UPDATE, .channel = CHANNEL_RESELLER,
	 .f = {.requester_email = "am@channel.example",
	       .requester_is_staff = T, .license_activated = F},
	 .action = ACTION_REQUEST_PROOF, .workflow = WF_ASSOC, .n_proof = 3,
	 .reason_has = "GitLab staff"},
	{.name = "contact_vouch_subscriber_domain_is_not_c",
	 .type = REQ_CONTACT_UPDATE, .channel = CHANNEL_RESELLER,
	 .f = {.requester_email = "new.admin@acme.example",
	       .license_activated = F, .reseller_vouches = T},
	 .action = ACTION_REQUEST_PROOF, .workflow = WF_ASSOC, .n_proof = 3,
	 .reason_has = "does not match"},
	{.name = "contact_vouch_after_activation_is_not_c",
	 .type = REQ_CONTACT_UPDATE, .channel = CHANNEL_RESELLER,
	 .f = {.requester_email = "new.admin@channel.example",
	       .license_activated = T, .reseller_vouches = T},
	 .action = ACTION_REQUEST_PROOF, .workflow = WF_ASSOC, .n_proof = 2,
	 .reason_has = "already activated"},
	{.name = "contact_vouch_activation_unknown_lists_c",
	 .type = REQ_CONTACT_UPDATE, .channel = CHANNEL_RESELLER,
	 .f = {.requester_email = "new.admin@channel.example",
	       .reseller_vouches = T},
	 .action = ACTION_REQUEST_PROOF, .workflow = WF_ASSOC, .n_proof = 3,
	 .reason_has = "not yet activated",
	 .proof_has = "if the license is not yet activated"},
	{.name = "contact_staff_vouch_is_not_proof", .type = REQ_CONTACT_UPDATE,
	 .channel = CHANNEL_RESELLER,
	 .f = {.requester_email = "am@gitlab.com", .requester_is_staff = T},
	 .action = ACTION_REQUEST_PROOF, .workflow = WF_ASSOC, .n_proof = 3,
	 .reason_has = "GitLab staff"},
	{.name = "contact_no_gitlab_invoice_option", .type = REQ_CONTACT_UPDATE,
	 .channel = CHANNEL_RESELLER,
	 .f = {.requester_email = "someone@else.example"},
	 .action = ACTION_REQUEST_PROOF, .workflow = WF_ASSOC, .n_proof = 3,
	 .reason_has = "last 12 months", .proof_has = "subscription invoice",
	 .warning_has = W_NO_CC},
	{.name = "ownership_change_proof_b", .type = REQ_OWNERSHIP_CHANGE,
	 .channel = CHANNEL_RESELLER, .f = {.invoice_attached = T},
	 .action = ACTION_PROCEED, .workflow = WF_ASSOC,
	 .warning_has = W_NO_CC},
	{.name = "ownership_change_no_proof", .type = REQ_OWNERSHIP_CHANGE,
	 .channel = CHANNEL_MSP, .f = {.license_activated = T},
	 .action = ACTION_REQUEST_PROOF, .workflow = WF_ASSOC, .n_proof = 2,
	 .warning_has = W_LICENSE},
	{.name = "two_tier_distributor_invoice_is_proof",
	 .type = REQ_CONTACT_UPDATE, .channel = CHANNEL_TWO_TIER,
	 .f = {.invoice_attached = T}, .action = ACTION_PROCEED,
	 .workflow = WF_ASSOC, .reason_has = "Big Distri"},
	/* DOMAIN.md: in two-tier deals only the invoice-holding partner
	 * (the distributor) may attach the invoice as proof. */
	{.name = "two_tier_invoice_from_other_domain_is_not_proof",
	 .type = REQ_CONTACT_UPDATE, .channel = CHANNEL_TWO_TIER,
	 .reg = PARTNER_DISTRIBUTOR, .reg_domains = "bigdistri.example",
	 .f = {.requester_email = "sales@smallreseller.example",
	       .invoice_attached = T},
	 .action = ACTION_REQUEST_PROOF, .workflow = WF_ASSOC, .n_proof = 2,
	 .reason_has = "only the distributor holding the invoice"},
	{.name = "two_tier_invoice_from_distributor_sold_to_domain",
	 .type = REQ_CONTACT_UPDATE, .channel = CHANNEL_TWO_TIER,
	 .f = {.requester_email = "billing@Channel.example",
	       .invoice_attached = T},
	 .action = ACTION_PROCEED, .workflow = WF_ASSOC,
	 .reason_has = "Proof B"},
	{.name = "two_tier_invoice_from_distributor_registry_domain",
	 .type = REQ_CONTACT_UPDATE, .channel = CHANNEL_TWO_TIER,
	 .reg = PARTNER_DISTRIBUTOR,
	 .reg_domains = "bigdistri.example; Distri.example",
	 .f = {.requester_email = "ops@distri.EXAMPLE",
	       .invoice_attached = T},
	 .action = ACTION_PROCEED, .workflow = WF_ASSOC,
	 .reason_has = "Proof B"},
	{.name = "two_tier_invoice_registry_domain_suffix_is_not_a_match",
	 .type = REQ_CONTACT_UPDATE, .channel = CHANNEL_TWO_TIER,
	 .reg = PARTNER_DISTRIBUTOR, .reg_domains = "distri.example",
	 .f = {.requester_email = "ops@bigdistri.example",
	       .invoice_attached = T},
	 .action = ACTION_REQUEST_PROOF, .workflow = WF_ASSOC, .n_proof = 2},
	{.name = "two_tier_no_proof_asks_distributor",
	 .type = REQ_CONTACT_UPDATE, .channel = CHANNEL_TWO_TIER,
	 .action = ACTION_REQUEST_PROOF, .workflow = WF_ASSOC, .n_proof = 2,
	 .proof_has = "distributor Big Distri"},
	/* DOMAIN.md: in two-tier deals only the invoice-holding partner
	 * (invoice attached) or the Sold-To contact may change the contact:
	 * a vouch from the invoice owner's domain is not proof C there. */
	{.name = "two_tier_vouch_is_not_proof",
	 .type = REQ_CONTACT_UPDATE, .channel = CHANNEL_TWO_TIER,
	 .f = {.requester_email = "new.admin@channel.example",
	       .license_activated = F, .reseller_vouches = T},
	 .action = ACTION_REQUEST_PROOF, .workflow = WF_ASSOC, .n_proof = 2,
	 .reason_has = "Two-tier deal: a vouch is not proof"},
	{.name = "contact_web_direct_standard_verification",
	 .type = REQ_CONTACT_UPDATE, .channel = CHANNEL_WEB_DIRECT,
	 .action = ACTION_PROCEED, .workflow = WF_ASSOC,
	 .reason_has = "standard ownership verification",
	 .warning_has = W_NO_CC, .lacks = W_LICENSE},
	{.name = "contact_marketplace_standard_verification",
	 .type = REQ_OWNERSHIP_CHANGE, .channel = CHANNEL_MARKETPLACE,
	 .action = ACTION_PROCEED, .workflow = WF_ASSOC,
	 .reason_has = "marketplace", .lacks = W_LICENSE},
	{.name = "contact_undetermined_confirm_channel",
	 .type = REQ_CONTACT_UPDATE, .channel = CHANNEL_UNDETERMINED,
	 .f = {.invoice_attached = T}, .action = ACTION_REQUEST_PROOF,
	 .workflow = WF_ASSOC, .n_proof = 1, .proof_has = "Zuora"},

	/* ---- direct renewal ---- */
	{.name = "renewal_reseller_mentions_reseller",
	 .type = REQ_DIRECT_RENEWAL, .channel = CHANNEL_RESELLER,
	 .action = ACTION_PASS_TO_SALES, .workflow = WF_SALES,
	 .reason_has = "first bought through a reseller: Channel Co",
	 .warning_has = W_LICENSE},
	{.name = "renewal_two_tier_names_distributor",
	 .type = REQ_DIRECT_RENEWAL, .channel = CHANNEL_TWO_TIER,
	 .action = ACTION_PASS_TO_SALES, .workflow = WF_SALES,
	 .reason_has = "distributor Big Distri"},
	{.name = "renewal_sales_assisted_no_reseller_mention",
	 .type = REQ_DIRECT_RENEWAL, .channel = CHANNEL_SALES_ASSISTED,
	 .action = ACTION_PASS_TO_SALES, .workflow = WF_SALES,
	 .reason_has = "Sales", .lacks = "reseller"},
	{.name = "renewal_undetermined_confirm_channel",
	 .type = REQ_DIRECT_RENEWAL, .channel = CHANNEL_UNDETERMINED,
	 .action = ACTION_REQUEST_PROOF, .workflow = WF_SALES, .n_proof = 1},

	/* ---- new purchase on another account ---- */
	{.name = "new_purchase_reseller", .type = REQ_NEW_PURCHASE_OTHER_ACCOUNT,
	 .channel = CHANNEL_RESELLER, .action = ACTION_PROCEED,
	 .workflow = WF_UPLOAD, .warning_has = "previous users, true-up",
	 .reason_has = "Channel Co"},
	{.name = "new_purchase_web_direct",
	 .type = REQ_NEW_PURCHASE_OTHER_ACCOUNT, .channel = CHANNEL_WEB_DIRECT,
	 .action = ACTION_PROCEED, .workflow = WF_UPLOAD,
	 .warning_has = "not a renewal"},
	{.name = "new_purchase_undetermined_still_proceeds",
	 .type = REQ_NEW_PURCHASE_OTHER_ACCOUNT,
	 .channel = CHANNEL_UNDETERMINED, .action = ACTION_PROCEED,
	 .workflow = WF_UPLOAD, .reason_has = "undetermined"},

	/* ---- legacy license / cloud licensing ---- */
	{.name = "legacy_reseller_before_cutoff", .type = REQ_LEGACY_LICENSE,
	 .channel = CHANNEL_RESELLER, .f = {.purchase_date = "2022-07-06"},
	 .action = ACTION_PROCEED, .workflow = WF_CLOUD,
	 .reason_has = "before the cloud licensing cutoff 2022-07-07",
	 .warning_has = "on request alone"},
	{.name = "legacy_reseller_on_cutoff_needs_exemption",
	 .type = REQ_LEGACY_LICENSE, .channel = CHANNEL_RESELLER,
	 .f = {.purchase_date = "2022-07-07"}, .action = ACTION_PASS_TO_SALES,
	 .workflow = WF_CLOUD, .reason_has = "VP-approved exemption"},
	{.name = "legacy_term_start_fallback", .type = REQ_LEGACY_LICENSE,
	 .channel = CHANNEL_SALES_ASSISTED, .term_start = "2021-05-01",
	 .action = ACTION_PROCEED, .workflow = WF_CLOUD,
	 .reason_has = "2021-05-01"},
	{.name = "legacy_purchase_date_wins_over_term_start",
	 .type = REQ_LEGACY_LICENSE, .channel = CHANNEL_SALES_ASSISTED,
	 .term_start = "2021-05-01", .f = {.purchase_date = "2023-05-01"},
	 .action = ACTION_PASS_TO_SALES, .workflow = WF_CLOUD},
	{.name = "legacy_web_direct_after_cutoff", .type = REQ_LEGACY_LICENSE,
	 .channel = CHANNEL_WEB_DIRECT, .f = {.purchase_date = "2023-03-01"},
	 .action = ACTION_PROCEED, .workflow = WF_CLOUD,
	 .reason_has = "web direct"},
	{.name = "legacy_always_web_direct_undetermined",
	 .type = REQ_LEGACY_LICENSE, .channel = CHANNEL_UNDETERMINED,
	 .f = {.purchase_date = "2023-03-01", .always_web_direct = T},
	 .action = ACTION_PROCEED, .workflow = WF_CLOUD},
	{.name = "legacy_always_web_direct_but_zuora_reseller",
	 .type = REQ_LEGACY_LICENSE, .channel = CHANNEL_RESELLER,
	 .f = {.purchase_date = "2023-03-01", .always_web_direct = T},
	 .action = ACTION_PASS_TO_SALES, .workflow = WF_CLOUD,
	 .reason_has = "Zuora wins"},
	{.name = "legacy_sales_assisted_after_cutoff",
	 .type = REQ_LEGACY_LICENSE, .channel = CHANNEL_SALES_ASSISTED,
	 .term_start = "2024-02-01", .action = ACTION_PASS_TO_SALES,
	 .workflow = WF_CLOUD, .lacks = "Partner purchases"},
	{.name = "legacy_two_tier_counts_as_sales_assisted",
	 .type = REQ_LEGACY_LICENSE, .channel = CHANNEL_TWO_TIER,
	 .term_start = "2024-02-01", .action = ACTION_PASS_TO_SALES,
	 .workflow = WF_CLOUD, .reason_has = "count as sales-assisted"},
	{.name = "legacy_marketplace_after_cutoff", .type = REQ_LEGACY_LICENSE,
	 .channel = CHANNEL_MARKETPLACE, .term_start = "2024-02-01",
	 .action = ACTION_PASS_TO_SALES, .workflow = WF_CLOUD},
	{.name = "legacy_no_date_asks_for_it", .type = REQ_LEGACY_LICENSE,
	 .channel = CHANNEL_SALES_ASSISTED, .action = ACTION_REQUEST_PROOF,
	 .workflow = WF_CLOUD, .n_proof = 1, .proof_has = "YYYY-MM-DD"},
	{.name = "legacy_malformed_date_ignored", .type = REQ_LEGACY_LICENSE,
	 .channel = CHANNEL_RESELLER, .f = {.purchase_date = "07/01/2021"},
	 .action = ACTION_REQUEST_PROOF, .workflow = WF_CLOUD, .n_proof = 1,
	 .reason_has = "not YYYY-MM-DD"},
	{.name = "legacy_impossible_month_ignored", .type = REQ_LEGACY_LICENSE,
	 .channel = CHANNEL_RESELLER, .f = {.purchase_date = "2021-13-01"},
	 .term_start = "2023-01-01", .action = ACTION_PASS_TO_SALES,
	 .workflow = WF_CLOUD},
	{.name = "legacy_custom_cutoff_policy", .type = REQ_LEGACY_LICENSE,
	 .channel = CHANNEL_RESELLER, .cutoff = "2024-01-01",
	 .f = {.purchase_date = "2023-06-01"}, .action = ACTION_PROCEED,
	 .workflow = WF_CLOUD, .reason_has = "2024-01-01"},
	{.name = "legacy_invalid_cutoff_uses_default",
	 .type = REQ_LEGACY_LICENSE, .channel = CHANNEL_RESELLER,
	 .cutoff = "soon", .f = {.purchase_date = "2022-07-08"},
	 .action = ACTION_PASS_TO_SALES, .workflow = WF_CLOUD,
	 .reason_has = "2022-07-07"},
	/* DOMAIN.md workflow 5: not known to be always web direct, so the
	 * "otherwise" branch: pass to Sales, saying the channel is unconfirmed. */
	{.name = "legacy_undetermined_after_cutoff", .type = REQ_LEGACY_LICENSE,
	 .channel = CHANNEL_UNDETERMINED, .term_start = "2023-01-01",
	 .action = ACTION_PASS_TO_SALES, .workflow = WF_CLOUD,
	 .reason_has = "channel is unconfirmed"},
	/* always_web_direct=false beats a web-direct last purchase */
	{.name = "legacy_web_direct_but_not_always", .type = REQ_LEGACY_LICENSE,
	 .channel = CHANNEL_WEB_DIRECT,
	 .f = {.purchase_date = "2023-03-01", .always_web_direct = F},
	 .action = ACTION_PASS_TO_SALES, .workflow = WF_CLOUD,
	 .reason_has = "not every purchase was"},
	{.name = "legacy_not_always_web_direct_before_cutoff",
	 .type = REQ_LEGACY_LICENSE, .channel = CHANNEL_WEB_DIRECT,
	 .f = {.purchase_date = "2022-01-03", .always_web_direct = F},
	 .action = ACTION_PROCEED, .workflow = WF_CLOUD},
	{.name = "legacy_undetermined_before_cutoff",
	 .type = REQ_LEGACY_LICENSE, .channel = CHANNEL_UNDETERMINED,
	 .term_start = "2020-01-01", .action = ACTION_PROCEED,
	 .workflow = WF_CLOUD},

	/* ---- subscription change / question ---- */
	{.name = "change_reseller_pass_to_sales", .type = REQ_SUBSCRIPTION_CHANGE,
	 .channel = CHANNEL_RESELLER, .action = ACTION_PASS_TO_SALES,
	 .workflow = WF_CHANGE, .reason_has = "24 business hours",
	 .warning_has = "buy again"},
	{.name = "change_reseller_goes_through_reseller",
	 .type = REQ_SUBSCRIPTION_CHANGE, .channel = CHANNEL_TWO_TIER,
	 .action = ACTION_PASS_TO_SALES, .workflow = WF_CHANGE,
	 .reason_has = "both parties", .warning_has = "explicitly allows"},
	{.name = "question_msp_pass_to_sales", .type = REQ_QUESTION,
	 .channel = CHANNEL_MSP, .action = ACTION_PASS_TO_SALES,
	 .workflow = WF_CHANGE, .reason_has = "2 business days, then escalate"},
	{.name = "change_web_direct_proceeds", .type = REQ_SUBSCRIPTION_CHANGE,
	 .channel = CHANNEL_WEB_DIRECT, .action = ACTION_PROCEED,
	 .workflow = WF_SALES, .lacks = "buy again"},
	{.name = "question_sales_assisted_proceeds", .type = REQ_QUESTION,
	 .channel = CHANNEL_SALES_ASSISTED, .action = ACTION_PROCEED,
	 .workflow = WF_IDENTIFY},
	{.name = "change_marketplace_pass_to_sales",
	 .type = REQ_SUBSCRIPTION_CHANGE, .channel = CHANNEL_MARKETPLACE,
	 .action = ACTION_PASS_TO_SALES, .workflow = WF_SALES,
	 .reason_has = "not a reseller", .lacks = W_LICENSE},
	{.name = "change_undetermined_confirm_channel",
	 .type = REQ_SUBSCRIPTION_CHANGE, .channel = CHANNEL_UNDETERMINED,
	 .action = ACTION_REQUEST_PROOF, .workflow = WF_SALES, .n_proof = 1},

	/* ---- portal access ---- */
	{.name = "portal_reseller_seed_no_access", .type = REQ_PORTAL_ACCESS,
	 .channel = CHANNEL_RESELLER, .portal = PORTAL_NONE,
	 .action = ACTION_DECLINE, .workflow = WF_PORTAL,
	 .reason_has = "account held in the reseller's name",
	 .warning_has = "no Customers Portal account of their own"},
	{.name = "portal_reseller_read_only", .type = REQ_PORTAL_ACCESS,
	 .channel = CHANNEL_RESELLER, .portal = PORTAL_READ_ONLY,
	 .action = ACTION_PROCEED, .workflow = WF_PORTAL,
	 .reason_has = "download the license"},
	{.name = "portal_read_only_changes_via_reseller",
	 .type = REQ_PORTAL_ACCESS, .channel = CHANNEL_MSP,
	 .portal = PORTAL_READ_ONLY, .action = ACTION_PROCEED,
	 .workflow = WF_PORTAL, .reason_has = "seats and invoices"},
	{.name = "portal_marketplace_like_reseller", .type = REQ_PORTAL_ACCESS,
	 .channel = CHANNEL_MARKETPLACE, .action = ACTION_DECLINE,
	 .workflow = WF_PORTAL, .reason_has = "no access"},
	{.name = "portal_direct_proceeds", .type = REQ_PORTAL_ACCESS,
	 .channel = CHANNEL_SALES_ASSISTED, .action = ACTION_PROCEED,
	 .workflow = WF_PORTAL, .lacks = "no access"},
	{.name = "portal_undetermined_confirm_channel",
	 .type = REQ_PORTAL_ACCESS, .channel = CHANNEL_UNDETERMINED,
	 .action = ACTION_REQUEST_PROOF, .workflow = WF_PORTAL, .n_proof = 1},

	/* ---- NFR licenses ---- */
	{.name = "nfr_select_25_users", .type = REQ_NFR_LICENSE,
	 .channel = CHANNEL_RESELLER,
	 .f = {.partner_good_standing = T, .partner_track = "Select"},
	 .action = ACTION_PROCEED, .workflow = WF_NFR,
	 .reason_has = "Ultimate, 25 users, 12 months",
	 .warning_has = "never in customer environments", .lacks = W_LICENSE},
	{.name = "nfr_open_10_users", .type = REQ_NFR_LICENSE,
	 .channel = CHANNEL_RESELLER,
	 .f = {.partner_good_standing = T, .partner_track = "open"},
	 .action = ACTION_PROCEED, .workflow = WF_NFR,
	 .reason_has = "10 users"},
	{.name = "nfr_technology_track_from_registry", .type = REQ_NFR_LICENSE,
	 .channel = CHANNEL_RESELLER, .reg = PARTNER_RESELLER,
	 .reg_track = "Technology", .f = {.partner_good_standing = T},
	 .action = ACTION_PROCEED, .workflow = WF_NFR,
	 .reason_has = "10 users", .lacks = "alliance"},
	{.name = "nfr_channel_team_request", .type = REQ_NFR_LICENSE,
	 .channel = CHANNEL_MSP,
	 .f = {.partner_good_standing = T, .partner_track = "Select"},
	 .action = ACTION_PROCEED, .workflow = WF_NFR,
	 .reason_has = "internal request from the channel team"},
	{.name = "nfr_not_in_good_standing_declined", .type = REQ_NFR_LICENSE,
	 .channel = CHANNEL_RESELLER,
	 .f = {.partner_good_standing = F, .partner_track = "Select"},
	 .action = ACTION_DECLINE, .workflow = WF_NFR,
	 .reason_has = "good standing"},
	{.name = "nfr_unknown_track_asks_channel_team", .type = REQ_NFR_LICENSE,
	 .channel = CHANNEL_RESELLER, .f = {.partner_good_standing = T},
	 .action = ACTION_REQUEST_PROOF, .workflow = WF_NFR, .n_proof = 1,
	 .proof_has = "channel team"},
	{.name = "nfr_unknown_standing_asks_channel_team",
	 .type = REQ_NFR_LICENSE, .channel = CHANNEL_RESELLER,
	 .f = {.partner_track = "Select"}, .action = ACTION_REQUEST_PROOF,
	 .workflow = WF_NFR, .n_proof = 1},
	{.name = "nfr_alliance_partner_gets_no_support",
	 .type = REQ_NFR_LICENSE, .channel = CHANNEL_MARKETPLACE,
	 .reg = PARTNER_MARKETPLACE,
	 .f = {.partner_good_standing = T, .partner_track = "Select"},
	 .action = ACTION_PROCEED, .workflow = WF_NFR,
	 .warning_has = "alliance partners gets no support"},
};

#define N_CASES (sizeof cases / sizeof cases[0])

/* The decision a case starts from: names as classify() would set them. */
static void build(const struct ecase *k, struct channel_input *in,
		  struct channel_decision *d, struct policy *p)
{
	memset(in, 0, sizeof *in);
	memset(d, 0, sizeof *d);
	in->sub.number = "A-S00012345";
	in->sub.term_start = k->term_start;
	in->subscriber.present = true;
	in->subscriber.id = "2c92a0fd00000000000000000000a001";
	in->subscriber.name = "Acme Corp";
	in->subscriber.sold_to.email = "jane@acme.example";
	in->subscriber.sold_to.domain = "acme.example";
	in->invoice_owner.present = true;
	in->invoice_owner.id = "2c92a0fd00000000000000000000b002";
	in->invoice_owner.name = "Channel Co";
	/* no stored domain: derived from the email */
	in->invoice_owner.sold_to.email = "ops@channel.example";
	in->owner_partner.present = k->reg != PARTNER_NONE;
	in->owner_partner.type = k->reg;
	in->owner_partner.track = k->reg_track;
	in->owner_partner.email_domains = k->reg_domains;

	d->channel = k->channel;
	d->is_reseller = channel_is_reseller(k->channel);
	d->confidence = CONFIDENCE_HIGH;
	if (k->channel == CHANNEL_TWO_TIER) {
		d->partner_name = "Small Reseller";
		d->distributor_name = "Big Distri";
	} else if (d->is_reseller || k->channel == CHANNEL_MARKETPLACE) {
		d->partner_name = "Channel Co";
	}
	d->n_reasons = 1;
	memcpy(d->reasons[0], "test decision", sizeof "test decision");

	p->portal = k->portal;
	p->cloud_licensing_cutoff = k->cutoff;
}

static bool in_lines(char lines[][CLASSIFY_TEXT_MAX], size_t n,
		     const char *text)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strstr(lines[i], text) != NULL)
			return true;
	return false;
}

/* What every evaluation must satisfy. */
static void check_invariants(const struct evaluation *e)
{
	assert_non_null(e->workflow_id);
	assert_true(e->n_reasons >= 1 && e->n_reasons <= EVAL_MAX_ITEMS);
	assert_true(e->n_proof <= EVAL_MAX_ITEMS);
	assert_true(e->n_warnings <= EVAL_MAX_ITEMS);
	if (e->action == ACTION_REQUEST_PROOF)
		assert_true(e->n_proof >= 1);
	else
		assert_int_equal(e->n_proof, 0);
}

static void test_case(void **state)
{
	const struct ecase *k = *state;
	struct channel_input in;
	struct channel_decision d;
	struct policy p;
	struct evaluation e;

	build(k, &in, &d, &p);
	evaluate(k->type, &in, &d, &k->f, &p, &e);
	check_invariants(&e);
	assert_string_equal(action_name(e.action), action_name(k->action));
	assert_string_equal(e.workflow_id, k->workflow);
	assert_int_equal(e.n_proof, k->n_proof);
	if (k->reason_has != NULL)
		assert_true(in_lines(e.reasons, e.n_reasons, k->reason_has));
	if (k->warning_has != NULL)
		assert_true(in_lines(e.warnings, e.n_warnings, k->warning_has));
	if (k->proof_has != NULL)
		assert_true(in_lines(e.proof, e.n_proof, k->proof_has));
	if (k->lacks != NULL) {
		assert_false(in_lines(e.reasons, e.n_reasons, k->lacks));
		assert_false(in_lines(e.warnings, e.n_warnings, k->lacks));
	}
}

/* ---- tests outside the table ---- */

/* DOMAIN.md: every reseller-type answer warns about the license. */
static void test_license_warning_on_every_reseller_request(void **state)
{
	static const enum channel partners[] = {
		CHANNEL_RESELLER, CHANNEL_TWO_TIER, CHANNEL_MSP,
	};
	struct ecase k = {.name = "all"};
	struct channel_input in;
	struct channel_decision d;
	struct policy p;
	struct evaluation e;
	size_t i;
	int t;

	(void)state;
	for (i = 0; i < sizeof partners / sizeof partners[0]; i++) {
		for (t = 0; t < (int)REQ__COUNT; t++) {
			if (t == REQ_NFR_LICENSE)
				continue;
			k.channel = partners[i];
			build(&k, &in, &d, &p);
			evaluate((enum request_type)t, &in, &d, &k.f, &p, &e);
			check_invariants(&e);
			assert_true(in_lines(e.warnings, e.n_warnings, W_LICENSE));
		}
	}
}

static void test_null_inputs(void **state)
{
	struct evaluation e;

	(void)state;
	evaluate(REQ_LEGACY_LICENSE, NULL, NULL, NULL, NULL, &e);
	check_invariants(&e);
	assert_int_equal(e.action, ACTION_REQUEST_PROOF);
	evaluate(REQ_PORTAL_ACCESS, NULL, NULL, NULL, NULL, &e);
	check_invariants(&e);
	evaluate((enum request_type)99, NULL, NULL, NULL, NULL, &e);
	check_invariants(&e);
	assert_string_equal(e.workflow_id, WF_IDENTIFY);
}

static void test_request_type_names(void **state)
{
	static const char *const names[] = {
		"identify", "contact_update", "ownership_change",
		"direct_renewal", "new_purchase_other_account", "legacy_license",
		"subscription_change", "portal_access", "nfr_license", "question",
	};
	int i;

	(void)state;
	assert_int_equal(sizeof names / sizeof names[0], REQ__COUNT);
	for (i = 0; i < (int)REQ__COUNT; i++) {
		assert_string_equal(request_type_name((enum request_type)i),
				    names[i]);
		assert_int_equal(request_type_parse(names[i]), i);
	}
	assert_int_equal(request_type_parse("renewal"), -1);
	assert_int_equal(request_type_parse("Identify"), -1);
	assert_int_equal(request_type_parse(""), -1);
	assert_int_equal(request_type_parse(NULL), -1);
}

static void test_action_names(void **state)
{
	(void)state;
	assert_string_equal(action_name(ACTION_PROCEED), "proceed");
	assert_string_equal(action_name(ACTION_REQUEST_PROOF), "request_proof");
	assert_string_equal(action_name(ACTION_PASS_TO_SALES), "pass_to_sales");
	assert_string_equal(action_name(ACTION_DECLINE), "decline");
}

static void test_workflows_for_decision(void **state)
{
	struct channel_decision d;
	const char *ids[10];
	size_t n;

	(void)state;
	memset(&d, 0, sizeof d);
	n = workflows_for_decision(&d, ids, 10);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], WF_IDENTIFY);

	d.channel = CHANNEL_RESELLER;
	n = workflows_for_decision(&d, ids, 10);
	assert_int_equal(n, 7);
	assert_string_equal(ids[0], WF_IDENTIFY);
	assert_string_equal(ids[1], WF_ASSOC);
	assert_string_equal(ids[5], WF_CHANGE);
	assert_string_equal(ids[6], WF_PORTAL);

	d.channel = CHANNEL_MARKETPLACE;
	n = workflows_for_decision(&d, ids, 10);
	assert_int_equal(n, 3);
	assert_string_equal(ids[1], WF_PORTAL);

	d.channel = CHANNEL_SALES_ASSISTED;
	n = workflows_for_decision(&d, ids, 10);
	assert_int_equal(n, 3);
	assert_string_equal(ids[1], WF_SALES);

	d.channel = CHANNEL_WEB_DIRECT;
	n = workflows_for_decision(&d, ids, 10);
	assert_int_equal(n, 2);
	assert_string_equal(ids[1], WF_CLOUD);

	d.channel = CHANNEL_TWO_TIER;
	assert_int_equal(workflows_for_decision(&d, ids, 2), 2);
	assert_int_equal(workflows_for_decision(&d, ids, 0), 0);
	assert_int_equal(workflows_for_decision(&d, NULL, 5), 0);
	assert_int_equal(workflows_for_decision(NULL, ids, 5), 1);
}

/* classify() feeding evaluate(): a registry reseller, contact update by a
 * vouched requester from the invoice owner's domain. */
static void test_classify_then_evaluate(void **state)
{
	struct channel_input in;
	struct channel_decision d;
	struct request_facts f;
	struct evaluation e;

	(void)state;
	memset(&in, 0, sizeof in);
	memset(&f, 0, sizeof f);
	in.subscriber.present = true;
	in.subscriber.id = "S1";
	in.subscriber.sold_to.email = "jane@acme.example";
	in.invoice_owner.present = true;
	in.invoice_owner.id = "O1";
	in.invoice_owner.name = "Channel Co";
	in.invoice_owner.sold_to.domain = "channel.example";
	in.owner_partner.present = true;
	in.owner_partner.type = PARTNER_RESELLER;
	in.owner_partner.name = "Channel Co";
	classify(&in, &d);
	assert_int_equal(d.channel, CHANNEL_RESELLER);
	f.requester_email = "it@channel.example";
	f.license_activated = TRI_FALSE;
	f.reseller_vouches = TRI_TRUE;
	evaluate(REQ_CONTACT_UPDATE, &in, &d, &f, NULL, &e);
	check_invariants(&e);
	assert_int_equal(e.action, ACTION_PROCEED);
	assert_true(in_lines(e.reasons, e.n_reasons, "Proof C"));
	/* a chain: the end reseller's domain does not count */
	f.requester_email = "it@small-reseller.example";
	evaluate(REQ_CONTACT_UPDATE, &in, &d, &f, NULL, &e);
	assert_int_equal(e.action, ACTION_REQUEST_PROOF);
}

/* A two-tier deal whose reseller only the quote's VP of Channel notes
 * name: an NFR request takes that reseller's registry track. */
static void test_nfr_track_of_notes_partner(void **state)
{
	struct channel_input in;
	struct channel_decision d;
	struct request_facts f;
	struct evaluation e;

	(void)state;
	memset(&in, 0, sizeof in);
	memset(&f, 0, sizeof f);
	in.subscriber.present = true;
	in.subscriber.id = "S1";
	in.invoice_owner.present = true;
	in.invoice_owner.id = "O1";
	in.invoice_owner.name = "Big Distri";
	in.owner_partner.present = true;
	in.owner_partner.type = PARTNER_DISTRIBUTOR;
	in.owner_partner.name = "Big Distri";
	in.quote.present = true;
	in.quote.status = "Sent to Z-Billing";
	in.quote.vp_channel_notes = "reseller: Channel Co, via Big Distri";
	in.notes_partners[0] = (struct partner_in){true, "Channel Co", PARTNER_RESELLER, "Select", NULL};
	classify(&in, &d);
	assert_int_equal(d.channel, CHANNEL_TWO_TIER);
	assert_non_null(d.notes_partner);
	assert_string_equal(d.partner_name, "Channel Co");
	f.partner_good_standing = TRI_TRUE;
	evaluate(REQ_NFR_LICENSE, &in, &d, &f, NULL, &e);
	check_invariants(&e);
	assert_int_equal(e.action, ACTION_PROCEED);
	assert_true(in_lines(e.reasons, e.n_reasons, "25 users"));
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
	tests[i++] = (struct CMUnitTest)cmocka_unit_test(
		test_license_warning_on_every_reseller_request);
	tests[i++] = (struct CMUnitTest)cmocka_unit_test(test_null_inputs);
	tests[i++] = (struct CMUnitTest)cmocka_unit_test(test_request_type_names);
	tests[i++] = (struct CMUnitTest)cmocka_unit_test(test_action_names);
	tests[i++] =
		(struct CMUnitTest)cmocka_unit_test(test_workflows_for_decision);
	tests[i++] =
		(struct CMUnitTest)cmocka_unit_test(test_classify_then_evaluate);
	tests[i++] =
		(struct CMUnitTest)cmocka_unit_test(test_nfr_track_of_notes_partner);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
