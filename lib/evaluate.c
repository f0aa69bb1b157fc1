/*
 * evaluate: what support does with one request, given the channel decision
 * (DOMAIN.md "Support requests and their workflows" and "What follows from
 * a reseller purchase"). Pure: no I/O, no allocation, no globals except the
 * static const tables below.
 *
 * Undetermined channel (documented choice): when the answer depends on the
 * channel (contact update, ownership change, direct renewal, subscription
 * change, question, portal access) the action is request_proof with one
 * proof item: confirm the channel in Zuora first, because Zuora is the
 * single source of truth. Requests whose answer does not depend on the
 * channel (identify, new purchase on another account, NFR, legacy license
 * bought before the cutoff) proceed as usual. A legacy license bought after
 * the cutoff on an unconfirmed channel is not "always web direct", so
 * DOMAIN.md workflow 5's "otherwise" applies: pass to Sales.
 */
#include "evaluate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* The workflow catalog ids (DOMAIN.md "Support requests"). */
#define WF_IDENTIFY "working_with_reseller_related_requests"
#define WF_ASSOCIATING "associating_purchases"
#define WF_SALES "working_with_sales"
#define WF_LICENSE_UPLOAD "troubleshoot_license_upload_issues"
#define WF_CLOUD_LICENSING "cloud_licensing"
#define WF_RESELLER_CHANGE "reseller_change_or_question"
#define WF_PORTAL "portal_access"
#define WF_NFR "nfr_program"

#define CUTOFF_DEFAULT "2022-07-07"

#define WARN_LICENSE_TO_SOLD_TO \
	"Never send a license file to the reseller; the license goes to " \
	"the Sold-To contact."
#define WARN_NO_CC "Never CC the existing Sold-To contact on the ticket."
#define WARN_NEW_PURCHASE \
	"This is a new purchase, not a renewal: the license will not " \
	"include the previous subscription's counts (users, previous " \
	"users, true-up)."
#define WARN_LEGACY "Never hand out a legacy license file on request alone."
#define WARN_NO_REBUY \
	"Never ask a reseller customer to buy again before Sales is involved."
#define WARN_VIA_RESELLER \
	"Changes go through the reseller unless the reseller explicitly " \
	"allows otherwise."
#define WARN_NO_PARTNER_PORTAL \
	"Resellers get no Customers Portal account of their own."
#define WARN_NFR_USE \
	"NFR licenses are for demos, training and integration tests only, " \
	"never in customer environments."
#define WARN_NFR_ALLIANCE "NFR software issued to alliance partners gets no support."

/* Everything a handler reads and writes. */
struct ctx {
	const struct channel_input *in;
	const struct channel_decision *d;
	const struct request_facts *f;
	const struct policy *p;
	struct evaluation *out;
	bool partner; /* reseller, two_tier or msp */
};

/* ===== Small helpers ===== */

static bool has(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static const char *show(const char *s)
{
	return has(s) ? s : "unknown";
}

static int ascii_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* ASCII case-insensitive equality; unknown strings never match. */
static bool same_ci(const char *a, const char *b)
{
	if (!has(a) || !has(b))
		return false;
	while (*a != '\0' && *b != '\0') {
		if (ascii_lower((unsigned char)*a) != ascii_lower((unsigned char)*b))
			return false;
		a++;
		b++;
	}
	return *a == *b;
}

/* The part of an email address after its last '@'; NULL when none. */
static const char *email_domain(const char *email)
{
	const char *at;

	if (!has(email))
		return NULL;
	at = strrchr(email, '@');
	return (at != NULL && at[1] != '\0') ? at + 1 : NULL;
}

/* A contact's email domain: the stored one, else derived from the email. */
static const char *contact_domain(const struct contact_in *c)
{
	return has(c->domain) ? c->domain : email_domain(c->email);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* YYYY-MM-DD with a plausible month and day: then string order is date
 * order, so dates compare with strcmp. */
static bool valid_date(const char *s)
{
	int month;
	int day;
	size_t i;

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !is_digit(s[i]))
			return false;
	month = (s[5] - '0') * 10 + (s[6] - '0');
	day = (s[8] - '0') * 10 + (s[9] - '0');
	return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

PRINTF_LIKE(3, 0)
static void add_line(char lines[][CLASSIFY_TEXT_MAX], size_t *n,
		     const char *fmt, va_list ap)
{
	if (*n >= EVAL_MAX_ITEMS)
		return;
	vsnprintf(lines[*n], CLASSIFY_TEXT_MAX, fmt, ap);
	(*n)++;
}

PRINTF_LIKE(2, 3)
static void reason(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_line(c->out->reasons, &c->out->n_reasons, fmt, ap);
	va_end(ap);
}

PRINTF_LIKE(2, 3)
static void proof(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_line(c->out->proof, &c->out->n_proof, fmt, ap);
	va_end(ap);
}

PRINTF_LIKE(2, 3)
static void warn(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_line(c->out->warnings, &c->out->n_warnings, fmt, ap);
	va_end(ap);
}

static void set(struct ctx *c, enum action a, const char *workflow)
{
	c->out->action = a;
	c->out->workflow_id = workflow;
}

/* The reseller's name for sentences. */
static const char *partner(const struct ctx *c)
{
	return has(c->d->partner_name) ? c->d->partner_name : "(unnamed partner)";
}

/* The documented choice for an undetermined channel (see the top). */
static void confirm_channel_first(struct ctx *c, const char *workflow)
{
	set(c, ACTION_REQUEST_PROOF, workflow);
	reason(c, "The purchase channel is undetermined: confirm in Zuora "
		  "(Invoice Owner, SSPChannel) whether it was bought through "
		  "a reseller before acting.");
	proof(c, "Confirmation of the purchase channel from Zuora: the "
		 "subscription's Invoice Owner and SSPChannel.");
}

/* ===== identify ===== */

static void eval_identify(struct ctx *c)
{
	set(c, ACTION_PROCEED, WF_IDENTIFY);
	reason(c, "Channel: %s (%s confidence).", channel_name(c->d->channel),
	       confidence_name(c->d->confidence));
	if (c->d->channel == CHANNEL_TWO_TIER)
		reason(c, "Reseller %s, distributor %s.", show(c->d->partner_name),
		       show(c->d->distributor_name));
	else if (has(c->d->partner_name))
		reason(c, "Partner: %s.", c->d->partner_name);
	if (c->d->n_reasons > 0)
		reason(c, "%s", c->d->reasons[0]);
}

/* ===== contact update / ownership change ===== */

/* Option A: the current Sold-To contact (the subscriber account's) files
 * the request; an unknown flag is derived from the requester's email. */
static bool proof_sold_to(const struct ctx *c)
{
	if (c->f->requester_is_sold_to == TRI_TRUE)
		return true;
	if (c->f->requester_is_sold_to == TRI_FALSE)
		return false;
	return same_ci(c->f->requester_email, c->in->subscriber.sold_to.email);
}

/* The requester writes from the email domain of the INVOICE OWNER's
 * Sold-To contact (in a chain of resellers only the invoice owner counts). */
static bool from_invoice_owner(const struct ctx *c)
{
	return same_ci(email_domain(c->f->requester_email),
		       contact_domain(&c->in->invoice_owner.sold_to));
}

/* domain is one of the ';'-separated domains in list (case ignored,
 * blanks around each item ignored). */
static bool domain_in_list(const char *domain, const char *list)
{
	size_t n;

	if (!has(domain) || !has(list))
		return false;
	n = strlen(domain);
	while (*list != '\0') {
		size_t len;
		size_t i;

		while (*list == ' ' || *list == ';')
			list++;
		len = strcspn(list, ";");
		while (len > 0 && list[len - 1] == ' ')
			len--;
		for (i = 0; i < len && i < n; i++)
			if (ascii_lower((unsigned char)list[i]) !=
			    ascii_lower((unsigned char)domain[i]))
				break;
		if (len == n && i == n)
			return true;
		list += strcspn(list, ";");
	}
	return false;
}

/* Two-tier deals: only the distributor holding the invoice may attach it.
 * false when the requester's email is given and its domain is neither the
 * invoice owner's (the distributor's) Sold-To domain nor one of the
 * distributor's registry email domains. */
static bool two_tier_invoice_holder(const struct ctx *c)
{
	const char *domain = email_domain(c->f->requester_email);

	if (!has(c->f->requester_email))
		return true;
	return from_invoice_owner(c) ||
	       (c->in->owner_partner.present &&
		domain_in_list(domain, c->in->owner_partner.email_domains));
}

/* Proof B: a copy of the subscription invoice is attached; in two-tier
 * deals only by the distributor holding it (see above). */
static bool proof_invoice(struct ctx *c)
{
	if (c->f->invoice_attached != TRI_TRUE)
		return false;
	if (c->d->channel != CHANNEL_TWO_TIER || two_tier_invoice_holder(c))
		return true;
	reason(c, "Two-tier deal: the invoice was attached by %s, whose email "
		  "domain is neither the distributor's (%s) nor its Sold-To "
		  "contact's (%s): only the distributor holding the invoice may "
		  "attach it as proof.",
	       c->f->requester_email, show(c->d->distributor_name),
	       show(contact_domain(&c->in->invoice_owner.sold_to)));
	return false;
}

/* Option C: on a confirmed reseller purchase whose license is not yet
 * activated, a request from the invoice owner's Sold-To domain is the
 * reseller vouching; it counts unless reseller_vouches is explicitly false
 * or the requester is GitLab staff (a staff vouch is never proof). Not in
 * two-tier deals: there only the distributor holding the invoice (with the
 * invoice attached) or the quote's Sold-To contact may change the contact. */
static bool proof_vouch(const struct ctx *c)
{
	return c->d->channel != CHANNEL_TWO_TIER &&
	       c->f->license_activated == TRI_FALSE &&
	       c->f->reseller_vouches != TRI_FALSE &&
	       c->f->requester_is_staff != TRI_TRUE && from_invoice_owner(c);
}

/* Why option C did not hold, when a vouch was claimed or the request
 * came from the invoice owner's domain. */
static void explain_vouch(struct ctx *c)
{
	bool owner = from_invoice_owner(c);

	if (c->f->reseller_vouches == TRI_FALSE) {
		if (owner)
			reason(c, "The reseller does not vouch for the requester: "
				  "option C does not apply.");
		return;
	}
	if ((c->f->reseller_vouches != TRI_TRUE && !owner) ||
	    c->f->requester_is_staff == TRI_TRUE)
		return;
	if (c->d->channel == CHANNEL_TWO_TIER)
		reason(c, "Two-tier deal: a vouch is not proof; only the "
			  "distributor holding the invoice (with the invoice "
			  "attached) or the Sold-To contact may change the "
			  "end-user contact.");
	else if (c->f->license_activated == TRI_TRUE)
		reason(c, "The license is already activated, so a reseller "
			  "vouch is not enough.");
	else if (c->f->license_activated == TRI_UNKNOWN)
		reason(c, "A reseller vouch counts only if the license is not "
			  "yet activated: confirm that first.");
	else
		reason(c, "The requester's email domain (%s) does not match the "
			  "domain of the invoice owner's Sold-To contact (%s).",
		       show(email_domain(c->f->requester_email)),
		       show(contact_domain(&c->in->invoice_owner.sold_to)));
}

static void list_ownership_proofs(struct ctx *c)
{
	const char *domain = contact_domain(&c->in->invoice_owner.sold_to);

	proof(c, "A: the current Sold-To contact files the request (add "
		 "subscription management contact workflow).");
	if (c->d->channel == CHANNEL_TWO_TIER) {
		/* DOMAIN.md: in two-tier deals only these two may. */
		proof(c, "B: the distributor %s, which holds the invoice, "
			 "attaches a copy of the subscription invoice.",
		      show(c->d->distributor_name));
		return;
	}
	proof(c, "B: the reseller %s attaches a copy of the "
		 "subscription invoice.", partner(c));
	if (c->f->license_activated != TRI_TRUE)
		proof(c, "C: if the license is not yet activated, the invoice "
			 "owner vouches: the request comes from the email "
			 "domain of its Sold-To contact (%s).",
		      show(domain));
}

/*
 * DOMAIN.md workflow 2: exactly one valid proof (A, B or C) is needed.
 * Staff vouches and the "GitLab invoice from the last 12 months" option
 * are not proof for reseller customers.
 */
static void eval_partner_ownership(struct ctx *c)
{
	if (c->f->requester_is_staff == TRI_TRUE)
		reason(c, "A vouch from GitLab staff (account owners included) "
			  "is not proof of ownership.");
	if (proof_sold_to(c)) {
		set(c, ACTION_PROCEED, WF_ASSOCIATING);
		reason(c, "Proof A: the requester is the current Sold-To "
			  "contact.");
		return;
	}
	if (proof_invoice(c)) {
		set(c, ACTION_PROCEED, WF_ASSOCIATING);
		reason(c, "Proof B: %s attached a copy of the subscription "
			  "invoice.",
		       c->d->channel == CHANNEL_TWO_TIER
			       ? show(c->d->distributor_name) : partner(c));
		return;
	}
	if (proof_vouch(c)) {
		set(c, ACTION_PROCEED, WF_ASSOCIATING);
		reason(c, "Proof C: the license is not activated and the request "
			  "comes from the email domain of the invoice owner's "
			  "Sold-To contact (%s): the reseller vouches.",
		       show(contact_domain(&c->in->invoice_owner.sold_to)));
		return;
	}
	set(c, ACTION_REQUEST_PROOF, WF_ASSOCIATING);
	reason(c, "Bought through %s: a change of the end-user contact needs "
		  "one valid proof of ownership.", partner(c));
	explain_vouch(c);
	reason(c, "Reseller customers have no GitLab invoice: the 'GitLab "
		  "invoice from the last 12 months' option does not apply.");
	list_ownership_proofs(c);
}

static void eval_ownership(struct ctx *c)
{
	warn(c, WARN_NO_CC);
	if (c->d->channel == CHANNEL_UNDETERMINED) {
		confirm_channel_first(c, WF_ASSOCIATING);
		return;
	}
	if (c->partner) {
		eval_partner_ownership(c);
		return;
	}
	set(c, ACTION_PROCEED, WF_ASSOCIATING);
	reason(c, "Not a reseller purchase (%s): the standard ownership "
		  "verification of the associating purchases workflow applies.",
	       channel_name(c->d->channel));
}

/* ===== direct renewal ===== */

static void eval_direct_renewal(struct ctx *c)
{
	if (c->d->channel == CHANNEL_UNDETERMINED) {
		confirm_channel_first(c, WF_SALES);
		return;
	}
	set(c, ACTION_PASS_TO_SALES, WF_SALES);
	if (!c->partner) {
		reason(c, "Renewals with GitLab are handled by Sales: follow "
			  "the working with Sales workflow.");
		return;
	}
	if (c->d->channel == CHANNEL_TWO_TIER)
		reason(c, "The customer first bought through a reseller: %s "
			  "(distributor %s). Mention this when passing to Sales.",
		       partner(c), show(c->d->distributor_name));
	else
		reason(c, "The customer first bought through a reseller: %s. "
			  "Mention this when passing to Sales.", partner(c));
}

/* ===== new purchase on another account ===== */

static void eval_new_purchase(struct ctx *c)
{
	set(c, ACTION_PROCEED, WF_LICENSE_UPLOAD);
	warn(c, WARN_NEW_PURCHASE);
	if (c->partner)
		reason(c, "The previous subscription was bought through %s; "
			  "the purchase on a different account is new.",
		       partner(c));
	else
		reason(c, "A purchase on a different account is new: follow "
			  "the license upload troubleshooting workflow.");
	if (c->d->channel == CHANNEL_UNDETERMINED)
		reason(c, "The previous channel is undetermined; that does "
			  "not change this answer.");
}

/* ===== legacy license (cloud licensing exemption) ===== */

/* The purchase date: the request's, else the current term start. */
static const char *purchase_date(struct ctx *c)
{
	if (has(c->f->purchase_date)) {
		if (valid_date(c->f->purchase_date))
			return c->f->purchase_date;
		reason(c, "The purchase date '%s' is not YYYY-MM-DD; ignored.",
		       c->f->purchase_date);
	}
	return valid_date(c->in->sub.term_start) ? c->in->sub.term_start : NULL;
}

/* Sales-assisted and every partner channel (reseller purchases count as
 * sales-assisted) need a VP-approved exemption after the cutoff. */
static void legacy_after_cutoff(struct ctx *c, const char *date,
				const char *cutoff)
{
	set(c, ACTION_PASS_TO_SALES, WF_CLOUD_LICENSING);
	if (c->d->channel == CHANNEL_UNDETERMINED) {
		reason(c, "Bought or renewed on %s, after the cloud licensing "
			  "cutoff %s, and the purchase channel is unconfirmed "
			  "(undetermined in Zuora), so it is not known to be "
			  "always web direct: pass to Sales for a VP-approved "
			  "exemption.", date, cutoff);
		return;
	}
	reason(c, "Bought or renewed on %s, after the cloud licensing cutoff "
		  "%s, through channel %s: pass to Sales for a VP-approved "
		  "exemption.", date, cutoff, channel_name(c->d->channel));
	if (c->partner || c->d->channel == CHANNEL_MARKETPLACE)
		reason(c, "Partner purchases count as sales-assisted.");
}

/*
 * DOMAIN.md workflow 5. always_web_direct=true is honoured unless Zuora
 * says the subscription went through Sales or a partner (Zuora wins);
 * always_web_direct=false (an earlier purchase was not web direct) wins
 * over a current web-direct channel, which only shows the last purchase.
 */
static void eval_legacy(struct ctx *c)
{
	const char *cutoff = valid_date(c->p->cloud_licensing_cutoff)
				     ? c->p->cloud_licensing_cutoff
				     : CUTOFF_DEFAULT;
	const char *date = purchase_date(c);
	bool web = c->f->always_web_direct != TRI_FALSE &&
		   (c->d->channel == CHANNEL_WEB_DIRECT ||
		    (c->f->always_web_direct == TRI_TRUE &&
		     c->d->channel == CHANNEL_UNDETERMINED));

	warn(c, WARN_LEGACY);
	if (date != NULL && strcmp(date, cutoff) < 0) {
		set(c, ACTION_PROCEED, WF_CLOUD_LICENSING);
		reason(c, "Bought or renewed on %s, before the cloud licensing "
			  "cutoff %s: a legacy license is allowed.", date, cutoff);
		return;
	}
	if (web) {
		set(c, ACTION_PROCEED, WF_CLOUD_LICENSING);
		reason(c, "%s: a legacy license is allowed.",
		       c->d->channel == CHANNEL_WEB_DIRECT
			       ? "Bought web direct"
			       : "The customer always bought web direct");
		return;
	}
	if (c->f->always_web_direct == TRI_TRUE)
		reason(c, "The request says it was always web direct, but Zuora "
			  "says %s; Zuora wins.", channel_name(c->d->channel));
	else if (c->f->always_web_direct == TRI_FALSE &&
		 c->d->channel == CHANNEL_WEB_DIRECT)
		reason(c, "The last purchase was web direct, but not every "
			  "purchase was: a legacy license needs an exemption.");
	if (date == NULL) {
		set(c, ACTION_REQUEST_PROOF, WF_CLOUD_LICENSING);
		reason(c, "The date of the last purchase or renewal is unknown; "
			  "it decides whether a legacy license is allowed.");
		proof(c, "The date of the last purchase or renewal "
			 "(YYYY-MM-DD).");
		return;
	}
	legacy_after_cutoff(c, date, cutoff);
}

/* ===== subscription change / question ===== */

/* DOMAIN.md workflow 6: the pass-to-Sales steps, in order. */
static void reseller_change_steps(struct ctx *c)
{
	reason(c, "Bought through %s: changes and questions go to Sales.",
	       partner(c));
	reason(c, "1. Identify the end user (%s) and the reseller (%s) from "
		  "Zuora.", show(c->in->subscriber.name), partner(c));
	reason(c, "2. Message the account owner with both parties' details "
		  "and answer with the pass-to-Sales reply.");
	reason(c, "3. Sales answers within 24 business hours.");
	reason(c, "4. Follow up after 2 business days, then escalate.");
	warn(c, WARN_NO_REBUY);
	warn(c, WARN_VIA_RESELLER);
}

static void eval_change_or_question(struct ctx *c, bool is_change)
{
	const char *wf = is_change ? WF_SALES : WF_IDENTIFY;

	if (c->d->channel == CHANNEL_UNDETERMINED) {
		confirm_channel_first(c, wf);
		return;
	}
	if (c->partner) {
		set(c, ACTION_PASS_TO_SALES, WF_RESELLER_CHANGE);
		reseller_change_steps(c);
		return;
	}
	if (c->d->channel == CHANNEL_MARKETPLACE && is_change) {
		/* The marketplace holds the invoice: the customer cannot
		 * change it with us directly, Sales coordinates. */
		set(c, ACTION_PASS_TO_SALES, WF_SALES);
		reason(c, "Bought through the marketplace %s (an alliance "
			  "partner, not a reseller): pass the change to Sales.",
		       partner(c));
		return;
	}
	set(c, ACTION_PROCEED, wf);
	reason(c, "Not a reseller purchase (%s): handle it as usual.",
	       channel_name(c->d->channel));
}

static void eval_change(struct ctx *c)
{
	eval_change_or_question(c, true);
}

static void eval_question(struct ctx *c)
{
	eval_change_or_question(c, false);
}

/* ===== portal access ===== */

/* DOMAIN.md "What follows": reseller and marketplace customers get no
 * access (the seed) or read-only access (handbook from 2023-06-28). */
static void eval_portal(struct ctx *c)
{
	if (c->d->channel == CHANNEL_UNDETERMINED) {
		confirm_channel_first(c, WF_PORTAL);
		return;
	}
	if (!c->partner && c->d->channel != CHANNEL_MARKETPLACE) {
		set(c, ACTION_PROCEED, WF_PORTAL);
		reason(c, "Direct purchase (%s): the customer uses the "
			  "Customers Portal as usual.",
		       channel_name(c->d->channel));
		return;
	}
	warn(c, WARN_NO_PARTNER_PORTAL);
	if (c->p->portal == PORTAL_NONE) {
		set(c, ACTION_DECLINE, WF_PORTAL);
		reason(c, "Customers Portal: account held in the reseller's "
			  "name (%s), no access.", partner(c));
		return;
	}
	set(c, ACTION_PROCEED, WF_PORTAL);
	reason(c, "Read-only Customers Portal access: view the subscription, "
		  "link a group, download the license, manage contacts.");
	reason(c, "Changes, seats and invoices still go through %s.",
	       partner(c));
}

/* ===== NFR licenses ===== */

static const char *nfr_track(const struct ctx *c)
{
	if (has(c->f->partner_track))
		return c->f->partner_track;
	if (c->in->owner_partner.present && has(c->in->owner_partner.track))
		return c->in->owner_partner.track;
	if (c->in->resale_partner.present && has(c->in->resale_partner.track))
		return c->in->resale_partner.track;
	/* the resale partner named only in the VP of Channel notes */
	if (c->d->notes_partner != NULL && has(c->d->notes_partner->track))
		return c->d->notes_partner->track;
	return NULL;
}

/*
 * DOMAIN.md workflow 7: Ultimate for 12 months, Select 25 users, Open and
 * Technology 10, partners in good standing, on an internal request from
 * the channel team.
 */
static void eval_nfr(struct ctx *c)
{
	const char *track = nfr_track(c);
	int users = 0;

	warn(c, WARN_NFR_USE);
	if (c->d->channel == CHANNEL_MARKETPLACE ||
	    (c->in->owner_partner.present &&
	     c->in->owner_partner.type == PARTNER_MARKETPLACE))
		warn(c, WARN_NFR_ALLIANCE);
	if (c->f->partner_good_standing == TRI_FALSE) {
		set(c, ACTION_DECLINE, WF_NFR);
		reason(c, "NFR licenses are only for partners in good standing.");
		return;
	}
	if (same_ci(track, "Select"))
		users = 25;
	else if (same_ci(track, "Open") || same_ci(track, "Technology"))
		users = 10;
	if (users == 0 || c->f->partner_good_standing == TRI_UNKNOWN) {
		set(c, ACTION_REQUEST_PROOF, WF_NFR);
		reason(c, "NFR licenses need a partner in good standing and its "
			  "track (Select 25 users, Open and Technology 10).");
		proof(c, "An internal request from the channel team confirming "
			 "the partner is in good standing and its track "
			 "(Select, Open or Technology).");
		return;
	}
	set(c, ACTION_PROCEED, WF_NFR);
	reason(c, "NFR license: Ultimate, %d users, 12 months (%s partner).",
	       users, track);
	reason(c, "Partners request NFR licenses through the partner portal; "
		  "support generates them on an internal request from the "
		  "channel team.");
}

/* ===== Dispatch ===== */

struct request_def {
	const char *name;
	void (*fn)(struct ctx *c);
};

/* Indexed by enum request_type; names are the wire names. */
static const struct request_def requests[REQ__COUNT] = {
	[REQ_IDENTIFY] = {"identify", eval_identify},
	[REQ_CONTACT_UPDATE] = {"contact_update", eval_ownership},
	[REQ_OWNERSHIP_CHANGE] = {"ownership_change", eval_ownership},
	[REQ_DIRECT_RENEWAL] = {"direct_renewal", eval_direct_renewal},
	[REQ_NEW_PURCHASE_OTHER_ACCOUNT] = {"new_purchase_other_account",
					    eval_new_purchase},
	[REQ_LEGACY_LICENSE] = {"legacy_license", eval_legacy},
	[REQ_SUBSCRIPTION_CHANGE] = {"subscription_change", eval_change},
	[REQ_PORTAL_ACCESS] = {"portal_access", eval_portal},
	[REQ_NFR_LICENSE] = {"nfr_license", eval_nfr},
	[REQ_QUESTION] = {"question", eval_question},
};

/*
 * Evaluate one request (see evaluate.h). out is cleared and filled
 * completely; its strings are static or written into its own buffers.
 * NULL in/f/p mean "nothing known" and the default policy; NULL d is an
 * undetermined channel. An out-of-range type is answered as identify.
 */
void evaluate(enum request_type type, const struct channel_input *in,
	      const struct channel_decision *d, const struct request_facts *f,
	      const struct policy *p, struct evaluation *out)
{
	static const struct channel_input no_input;
	static const struct channel_decision no_decision;
	static const struct request_facts no_facts;
	static const struct policy default_policy = {PORTAL_NONE,
						     CUTOFF_DEFAULT};
	struct ctx c;

	memset(out, 0, sizeof *out);
	c.in = in != NULL ? in : &no_input;
	c.d = d != NULL ? d : &no_decision;
	c.f = f != NULL ? f : &no_facts;
	c.p = p != NULL ? p : &default_policy;
	c.out = out;
	c.partner = channel_is_reseller(c.d->channel);
	if ((int)type < 0 || type >= REQ__COUNT)
		type = REQ_IDENTIFY;
	/* The NFR license is meant for the partner itself, so the "never
	 * send a license to the reseller" warning does not apply there. */
	if (c.partner && type != REQ_NFR_LICENSE)
		warn(&c, WARN_LICENSE_TO_SOLD_TO);
	requests[type].fn(&c);
}

/* Wire name of a request type; a static string, "identify" if unknown. */
const char *request_type_name(enum request_type t)
{
	if ((int)t < 0 || t >= REQ__COUNT)
		return requests[REQ_IDENTIFY].name;
	return requests[t].name;
}

/* Parse a wire name (exact, lower case); -1 for NULL or unknown names. */
int request_type_parse(const char *s)
{
	int i;

	if (s == NULL)
		return -1;
	for (i = 0; i < (int)REQ__COUNT; i++)
		if (strcmp(s, requests[i].name) == 0)
			return i;
	return -1;
}

/* Wire name of an action; a static string, "proceed" if out of range. */
const char *action_name(enum action a)
{
	switch (a) {
	case ACTION_REQUEST_PROOF:
		return "request_proof";
	case ACTION_PASS_TO_SALES:
		return "pass_to_sales";
	case ACTION_DECLINE:
		return "decline";
	case ACTION_PROCEED:
		break;
	}
	return "proceed";
}

/*
 * The workflows that can apply to a decision, identify first, then by
 * channel (DOMAIN.md "Support requests"):
 *   reseller, two_tier, msp: every reseller workflow;
 *   marketplace: portal access and cloud licensing (treated like reseller
 *     customers in the portal; counts as sales-assisted for licensing);
 *   sales_assisted: working with Sales and cloud licensing;
 *   web_direct: cloud licensing (legacy license allowed);
 *   undetermined: identify only.
 * nfr_program is reached only through evaluate(). ids receive static
 * strings; returns how many were written (at most max).
 */
size_t workflows_for_decision(const struct channel_decision *d,
			      const char **ids, size_t max)
{
	static const char *const partner_wfs[] = {
		WF_IDENTIFY, WF_ASSOCIATING, WF_SALES, WF_LICENSE_UPLOAD,
		WF_CLOUD_LICENSING, WF_RESELLER_CHANGE, WF_PORTAL,
	};
	static const char *const marketplace_wfs[] = {
		WF_IDENTIFY, WF_PORTAL, WF_CLOUD_LICENSING,
	};
	static const char *const sales_wfs[] = {
		WF_IDENTIFY, WF_SALES, WF_CLOUD_LICENSING,
	};
	static const char *const web_wfs[] = {WF_IDENTIFY, WF_CLOUD_LICENSING};
	static const char *const undetermined_wfs[] = {WF_IDENTIFY};
	const char *const *list = undetermined_wfs;
	size_t n = 1;
	size_t i;

	if (ids == NULL)
		return 0;
	if (d != NULL && channel_is_reseller(d->channel)) {
		list = partner_wfs;
		n = sizeof partner_wfs / sizeof partner_wfs[0];
	} else if (d != NULL && d->channel == CHANNEL_MARKETPLACE) {
		list = marketplace_wfs;
		n = sizeof marketplace_wfs / sizeof marketplace_wfs[0];
	} else if (d != NULL && d->channel == CHANNEL_SALES_ASSISTED) {
		list = sales_wfs;
		n = sizeof sales_wfs / sizeof sales_wfs[0];
	} else if (d != NULL && d->channel == CHANNEL_WEB_DIRECT) {
		list = web_wfs;
		n = sizeof web_wfs / sizeof web_wfs[0];
	}
	for (i = 0; i < n && i < max; i++)
		ids[i] = list[i];
	return i;
}
