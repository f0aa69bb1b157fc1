/*
 * classify: the channel decision of DOMAIN.md ("Classifying a subscription")
 * as a pure function. Zuora is the single source of truth; Salesforce and
 * the partner registry corroborate, and every disagreement with Zuora is
 * reported as a conflict (Zuora wins) that lowers the confidence.
 *
 * Confidence counting (DOMAIN.md: high = two independent signals agree and
 * none conflicts, medium = one signal, low = conflict or missing data):
 *
 *   Partner channels (invoice owner differs from the subscriber):
 *     1 for the invoice owner difference itself (Zuora's structural fact),
 *     +1 partner registry row for the invoice owner,
 *     +1 SSPChannel = Reseller,
 *     +1 invoice owner partnerAccount = true,
 *     +1 the quote names a resale partner or a distributor (the resale
 *        partner field, or when it is empty a registry reseller or MSP
 *        that the quote's VP of Channel approval notes name),
 *     +1 a Salesforce partner role on the end user's account.
 *     A marketplace counts only the first, the registry and partnerAccount:
 *     the reseller signals do not point to an alliance purchase.
 *     partnerAccount = false is not counted either way: the flag is often
 *     left unset on real partner accounts.
 *
 *   Direct channels (invoice owner is the subscriber):
 *     1 for the invoice owner being the subscriber,
 *     +1 SSPChannel = Non-Reseller,
 *     +1 (web_direct) created by the fulfillment user,
 *     +1 (sales_assisted) a Sent to Z-Billing quote naming no partner.
 *
 *   Any conflict, a missing account record (see missing_records) or an
 *   undetermined channel gives low.
 */
#include "classify.h"
#include "mention.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

#define SENT_TO_ZBILLING "Sent to Z-Billing"
#define SSP_VALUE_RESELLER "Reseller"
#define SSP_VALUE_NON_RESELLER "Non-Reseller"
#define SSP_FIELD_DEFAULT "SSPChannel__c"
#define RESALE_FIELD_DEFAULT "Resale_Partner__c"
#define DISTRIBUTOR_FIELD_DEFAULT "Distributor__c"
#define NOTES_FIELD_DEFAULT "Required_Approvals_From_VP_of_Channel__c"

enum ssp_state {
	SSP_ABSENT = 0,
	SSP_RESELLER,
	SSP_NON_RESELLER,
	SSP_OTHER,
};

enum owner_rel {
	OWNER_UNKNOWN = 0,
	OWNER_SAME,
	OWNER_OTHER,
};

/* The facts of one classification, read once from the input. */
struct facts {
	enum ssp_state ssp;
	const char *ssp_value;    /* the SSPChannel value that was used */
	bool quote_sent;          /* a quote reached Sent to Z-Billing */
	bool quote_partner;       /* the quote names a resale partner/distributor */
	/* The quote's resale partner: its field, or when that is empty the
	 * registry partner its VP of Channel notes name (notes_partner). */
	const char *resale;
	const struct partner_in *notes_partner;
	size_t notes_others;      /* other partners the notes name as well */
	bool by_fulfillment;      /* CreatedById is the fulfillment API user */
	int signals;              /* see the counting at the top of the file */
};

/* ===== Small string helpers ===== */

static bool has(const char *s)
{
	return s != NULL && s[0] != '\0';
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

/* Exact equality of ids and numbers; unknown strings never match. */
static bool same(const char *a, const char *b)
{
	return has(a) && has(b) && strcmp(a, b) == 0;
}

static const char *show(const char *s)
{
	return has(s) ? s : "unknown";
}

/* A configured field name, or its default when not configured. */
static const char *field_or(const char *configured, const char *def)
{
	return has(configured) ? configured : def;
}

/* ===== Output builders: never overflow the fixed arrays ===== */

static void add_evidence(struct channel_decision *out,
			 enum evidence_source source, const char *object,
			 const char *field, const char *value,
			 const char *points_to)
{
	struct evidence *e;

	if (out->n_evidence >= CLASSIFY_MAX_EVIDENCE)
		return;
	e = &out->evidence[out->n_evidence++];
	e->source = source;
	e->object = object;
	e->field = field;
	e->value = value;
	e->points_to = points_to;
}

PRINTF_LIKE(3, 4)
static void add_conflict(struct channel_decision *out, const char *code,
			 const char *fmt, ...)
{
	struct conflict *c;
	va_list ap;

	if (out->n_conflicts >= CLASSIFY_MAX_CONFLICTS)
		return;
	c = &out->conflicts[out->n_conflicts++];
	c->code = code;
	va_start(ap, fmt);
	vsnprintf(c->message, sizeof c->message, fmt, ap);
	va_end(ap);
}

PRINTF_LIKE(2, 3)
static void add_reason(struct channel_decision *out, const char *fmt, ...)
{
	va_list ap;

	if (out->n_reasons >= CLASSIFY_MAX_REASONS)
		return;
	va_start(ap, fmt);
	vsnprintf(out->reasons[out->n_reasons++], CLASSIFY_TEXT_MAX, fmt, ap);
	va_end(ap);
}

/* Append s to the NUL-terminated buf of size bytes, truncating safely. */
static void append(char *buf, size_t size, const char *s)
{
	size_t used = strlen(buf);
	size_t n = strlen(s);

	if (used + 1 >= size)
		return;
	if (n > size - used - 1)
		n = size - used - 1;
	memcpy(buf + used, s, n);
	buf[used + n] = '\0';
}

/* Append one item of a "; "-separated list. */
static void add_item(char *buf, size_t size, const char *item)
{
	if (buf[0] != '\0')
		append(buf, size, "; ");
	append(buf, size, item);
}

/* ===== Reading the facts ===== */

static enum ssp_state ssp_parse(const char *v, const char *reseller_value)
{
	if (!has(v))
		return SSP_ABSENT;
	if (same_ci(v, reseller_value))
		return SSP_RESELLER;
	if (same_ci(v, SSP_VALUE_NON_RESELLER))
		return SSP_NON_RESELLER;
	return SSP_OTHER;
}

static const char *ssp_points_to(enum ssp_state s)
{
	switch (s) {
	case SSP_RESELLER:
		return "reseller";
	case SSP_NON_RESELLER:
		return "direct";
	case SSP_ABSENT:
	case SSP_OTHER:
		break;
	}
	return "undetermined";
}

/*
 * SSPChannel may sit on the subscription (the seed) or on the subscriber
 * account (other handbook pages); DOMAIN.md says to read it from either.
 * Both are recorded as evidence. When either says the reseller value, the
 * decision reads SSPChannel as Reseller (so on a direct purchase that is a
 * conflict); otherwise the subscription's value wins. When both are set
 * and say different things, that is a conflict of its own.
 */
static void read_ssp(const struct channel_input *in, struct facts *fx,
		     struct channel_decision *out)
{
	const char *rv = has(in->ssp_reseller_value) ? in->ssp_reseller_value
						     : SSP_VALUE_RESELLER;
	enum ssp_state on_sub = ssp_parse(in->sub.ssp_channel, rv);
	enum ssp_state on_acct = ssp_parse(in->subscriber.ssp_channel, rv);
	const char *field = field_or(in->ssp_field, SSP_FIELD_DEFAULT);

	if (on_sub != SSP_ABSENT)
		add_evidence(out, SOURCE_ZUORA, "Subscription", field,
			     in->sub.ssp_channel, ssp_points_to(on_sub));
	if (on_acct != SSP_ABSENT)
		add_evidence(out, SOURCE_ZUORA, "Account", field,
			     in->subscriber.ssp_channel, ssp_points_to(on_acct));
	if (on_acct == SSP_RESELLER && on_sub != SSP_RESELLER) {
		fx->ssp = on_acct;
		fx->ssp_value = in->subscriber.ssp_channel;
	} else {
		fx->ssp = on_sub != SSP_ABSENT ? on_sub : on_acct;
		fx->ssp_value = on_sub != SSP_ABSENT ? in->sub.ssp_channel
						     : in->subscriber.ssp_channel;
	}
	out->ssp_channel = has(fx->ssp_value) ? fx->ssp_value : NULL;
	if (on_sub != SSP_ABSENT && on_acct != SSP_ABSENT &&
	    (on_sub != on_acct ||
	     !same_ci(in->sub.ssp_channel, in->subscriber.ssp_channel)))
		add_conflict(out, "ssp_channel_sources_disagree",
			     "SSPChannel is '%s' on subscription %s but '%s' on "
			     "subscriber account %s.",
			     in->sub.ssp_channel, show(in->sub.number),
			     in->subscriber.ssp_channel,
			     show(in->subscriber.number));
}

/*
 * DOMAIN.md: "The Resale Partner may also appear in the Required
 * Approvals From VP of Channel notes." Read only when the quote's resale
 * partner field is empty; which registry row the notes name is
 * mention_pick's rule (a reseller or MSP named as a whole word, the first
 * one named).
 */
static const struct partner_in *read_notes_partner(const struct channel_input *in,
						   size_t *others)
{
	const struct quote_in *q = &in->quote;

	*others = 0;
	if (!q->present || has(q->resale_partner))
		return NULL;
	return mention_pick(q->vp_channel_notes, in->notes_partners,
			    CLASSIFY_MAX_NOTES_PARTNERS, others);
}

static void read_facts(const struct channel_input *in, struct facts *fx)
{
	const struct quote_in *q = &in->quote;

	memset(fx, 0, sizeof *fx);
	fx->quote_sent = q->present && same_ci(q->status, SENT_TO_ZBILLING);
	fx->notes_partner = read_notes_partner(in, &fx->notes_others);
	fx->resale = !q->present              ? NULL
		     : has(q->resale_partner) ? q->resale_partner
		     : fx->notes_partner      ? fx->notes_partner->name
					      : NULL;
	fx->quote_partner = q->present && (has(fx->resale) || has(q->distributor));
	fx->by_fulfillment = same(in->sub.created_by_id, in->fulfillment_user_id);
}

/*
 * Compare the invoice owner with the subscriber: ids first, account numbers
 * when ids are missing. The invoice owner's account row need not be cached
 * (present == false) for the ids to be known from the subscription.
 */
static enum owner_rel owner_relation(const struct channel_input *in,
				     const char **field, const char **value)
{
	const struct account_in *o = &in->invoice_owner;
	const struct account_in *s = &in->subscriber;

	if (has(o->id) && has(s->id)) {
		*field = "InvoiceOwnerId";
		*value = o->id;
		return same(o->id, s->id) ? OWNER_SAME : OWNER_OTHER;
	}
	if (has(o->number) && has(s->number)) {
		*field = "InvoiceOwnerNumber";
		*value = o->number;
		return same(o->number, s->number) ? OWNER_SAME : OWNER_OTHER;
	}
	return OWNER_UNKNOWN;
}

static const char *partner_points_to(enum partner_type t)
{
	switch (t) {
	case PARTNER_RESELLER:
		return "reseller";
	case PARTNER_DISTRIBUTOR:
		return "two_tier";
	case PARTNER_MSP:
		return "msp";
	case PARTNER_MARKETPLACE:
		return "marketplace";
	case PARTNER_NONE:
		break;
	}
	return "partner";
}

/* Evidence from Salesforce: the quote and the end user's partner rows. */
static void add_salesforce_evidence(const struct channel_input *in,
				    const struct facts *fx,
				    struct channel_decision *out)
{
	const struct quote_in *q = &in->quote;

	if (fx->quote_sent)
		add_evidence(out, SOURCE_SALESFORCE, "zqu__Quote__c",
			     "zqu__Status__c", q->status, "sales_assisted");
	if (q->present && has(q->resale_partner))
		add_evidence(out, SOURCE_SALESFORCE, "zqu__Quote__c",
			     field_or(in->resale_partner_field,
				      RESALE_FIELD_DEFAULT),
			     q->resale_partner, "reseller");
	/* The notes stand in for an empty resale partner field: the evidence
	 * names the notes field and the registry partner they name. */
	if (fx->notes_partner != NULL) {
		add_evidence(out, SOURCE_SALESFORCE, "zqu__Quote__c",
			     field_or(in->vp_channel_notes_field,
				      NOTES_FIELD_DEFAULT),
			     fx->notes_partner->name, "reseller");
		add_evidence(out, SOURCE_REGISTRY, "partner_registry", "name",
			     fx->notes_partner->name,
			     partner_points_to(fx->notes_partner->type));
	}
	if (q->present && has(q->distributor))
		add_evidence(out, SOURCE_SALESFORCE, "zqu__Quote__c",
			     field_or(in->distributor_field,
				      DISTRIBUTOR_FIELD_DEFAULT),
			     q->distributor, "two_tier");
	if (in->resale_partner.present && has(in->resale_partner.name))
		add_evidence(out, SOURCE_REGISTRY, "partner_registry", "name",
			     in->resale_partner.name,
			     partner_points_to(in->resale_partner.type));
	if (has(in->sf_partner_role))
		add_evidence(out, SOURCE_SALESFORCE, "OpportunityPartner", "Role",
			     in->sf_partner_role,
			     same_ci(in->sf_partner_role, "Reseller") ? "reseller"
								     : "partner");
}

/*
 * The quote mirrors Zuora's invoice owner; when it names another account,
 * Zuora wins (DOMAIN.md "Where the truth lives" 1 and 3).
 */
static void check_quote_owner(const struct channel_input *in,
			      struct channel_decision *out)
{
	const struct quote_in *q = &in->quote;
	const struct account_in *o = &in->invoice_owner;

	if (!q->present || !has(q->invoice_owner_id))
		return;
	add_evidence(out, SOURCE_SALESFORCE, "zqu__Quote__c",
		     "zqu__InvoiceOwnerId__c", q->invoice_owner_id,
		     same(q->invoice_owner_id, in->subscriber.id) ? "direct"
								   : "partner");
	if (has(o->id) && !same(q->invoice_owner_id, o->id))
		add_conflict(out, "quote_invoice_owner_mismatch",
			     "Quote %s names invoice owner %s (%s) but Zuora's "
			     "invoice owner is %s (%s); Zuora wins.",
			     show(q->id), q->invoice_owner_id,
			     show(q->invoice_owner_name), o->id, show(o->name));
}

/* ===== Direct: the invoice owner is the subscriber ===== */

static void direct_conflicts(const struct channel_input *in,
			     const struct facts *fx,
			     struct channel_decision *out)
{
	const struct quote_in *q = &in->quote;

	if (fx->quote_sent && fx->by_fulfillment)
		add_conflict(out, "web_direct_with_sales_quote",
			     "Subscription %s was created by the fulfillment user "
			     "but quote %s reached Sent to Z-Billing; Zuora wins: "
			     "classified as web direct.",
			     show(in->sub.number), show(q->id));
	if (fx->ssp == SSP_RESELLER)
		add_conflict(out, "ssp_channel_reseller_but_direct",
			     "SSPChannel is '%s' but the invoice owner is the "
			     "subscriber account %s itself; Zuora's invoice owner "
			     "wins.",
			     fx->ssp_value, show(in->subscriber.number));
	if (fx->quote_partner)
		add_conflict(out, "quote_resale_partner_but_direct",
			     "Quote %s names resale partner %s%s (distributor %s) "
			     "but the invoice owner is the subscriber; Zuora wins.",
			     show(q->id), show(fx->resale),
			     fx->notes_partner != NULL
				     ? " in its VP of Channel approval notes"
				     : "",
			     show(q->distributor));
	if (same_ci(in->sf_partner_role, "Reseller"))
		add_conflict(out, "salesforce_partner_but_direct",
			     "Salesforce lists %s as a Reseller partner of the "
			     "account but the invoice owner is the subscriber; "
			     "Zuora wins.",
			     show(in->sf_partner_name));
}

static void classify_direct(const struct channel_input *in, struct facts *fx,
			    struct channel_decision *out)
{
	const struct account_in *s = &in->subscriber;
	const struct quote_in *q = &in->quote;

	/* DOMAIN.md: web_direct when created by the fulfillment user (a
	 * Zuora signal) or no sales quote exists; otherwise a Sent to
	 * Z-Billing quote means sales_assisted. When the fulfillment user
	 * and a sent quote disagree, Zuora wins and it is a conflict. */
	out->channel = fx->quote_sent && !fx->by_fulfillment
			       ? CHANNEL_SALES_ASSISTED
			       : CHANNEL_WEB_DIRECT;
	if (has(in->sub.created_by_id) && has(in->fulfillment_user_id))
		add_evidence(out, SOURCE_ZUORA, "Subscription", "CreatedById",
			     in->sub.created_by_id,
			     fx->by_fulfillment ? "web_direct" : "sales_assisted");
	add_salesforce_evidence(in, fx, out);

	fx->signals = 1;
	if (fx->ssp == SSP_NON_RESELLER)
		fx->signals++;
	if (out->channel == CHANNEL_WEB_DIRECT && fx->by_fulfillment)
		fx->signals++;
	if (out->channel == CHANNEL_SALES_ASSISTED && !fx->quote_partner)
		fx->signals++;
	direct_conflicts(in, fx, out);

	add_reason(out, "Invoice owner %s (%s) is the subscriber account "
			"itself: a direct purchase, not through a reseller.",
		   show(has(s->number) ? s->number : s->id), show(s->name));
	if (out->channel == CHANNEL_SALES_ASSISTED)
		add_reason(out, "Quote %s reached Sent to Z-Billing: bought "
				"through GitLab Sales (sales-assisted).",
			   show(q->id));
	else if (fx->by_fulfillment)
		add_reason(out, "Created by the fulfillment API user: bought "
				"online (web direct).");
	else
		add_reason(out, "No quote reached Sent to Z-Billing: treated "
				"as bought online (web direct).");
	if (in->owner_partner.present && in->owner_partner.type != PARTNER_NONE) {
		add_evidence(out, SOURCE_REGISTRY, "partner_registry", "type",
			     partner_type_name(in->owner_partner.type),
			     partner_points_to(in->owner_partner.type));
		add_reason(out, "The subscriber itself is listed in the partner "
				"registry as %s (%s): it bought for its own use.",
			   partner_type_name(in->owner_partner.type),
			   show(in->owner_partner.name));
	}
}

/* ===== Partner: the invoice owner differs from the subscriber ===== */

static enum channel channel_of_type(enum partner_type t)
{
	switch (t) {
	case PARTNER_RESELLER:
		return CHANNEL_RESELLER;
	case PARTNER_DISTRIBUTOR:
		return CHANNEL_TWO_TIER;
	case PARTNER_MSP:
		return CHANNEL_MSP;
	case PARTNER_MARKETPLACE:
		return CHANNEL_MARKETPLACE;
	case PARTNER_NONE:
		break;
	}
	return CHANNEL_UNDETERMINED;
}

/*
 * Not in the registry: a reseller only when something corroborates it
 * (DOMAIN.md: SSPChannel = Reseller, partnerAccount = true or a quote
 * resale partner, from its field or its VP of Channel notes), otherwise
 * undetermined. Two-tier and marketplace come from the registry type of
 * the invoice owner only: a quote's Distributor field neither corroborates
 * nor makes an unregistered owner two-tier.
 */
static enum channel unregistered_channel(const struct channel_input *in,
					 const struct facts *fx)
{
	if (fx->ssp == SSP_RESELLER ||
	    in->invoice_owner.partner_account == TRI_TRUE || has(fx->resale))
		return CHANNEL_RESELLER;
	return CHANNEL_UNDETERMINED;
}

static void count_partner_signals(const struct channel_input *in,
				  struct facts *fx, enum channel ch)
{
	const struct partner_in *reg = &in->owner_partner;

	fx->signals = 1; /* the invoice owner differs */
	if (reg->present && reg->type != PARTNER_NONE)
		fx->signals++;
	if (in->invoice_owner.partner_account == TRI_TRUE)
		fx->signals++;
	if (ch == CHANNEL_MARKETPLACE)
		return;
	if (fx->ssp == SSP_RESELLER)
		fx->signals++;
	if (fx->quote_partner)
		fx->signals++;
	if (has(in->sf_partner_role))
		fx->signals++;
}

static void partner_conflicts(const struct channel_input *in,
			      const struct facts *fx,
			      struct channel_decision *out)
{
	const struct account_in *o = &in->invoice_owner;
	const struct quote_in *q = &in->quote;

	if (out->channel == CHANNEL_MARKETPLACE && fx->ssp == SSP_RESELLER)
		add_conflict(out, "ssp_channel_reseller_but_marketplace",
			     "SSPChannel is '%s' but invoice owner %s (%s) is a "
			     "marketplace in the partner registry: an alliance "
			     "purchase, not a reseller.",
			     fx->ssp_value, show(o->number), show(o->name));
	if (channel_is_reseller(out->channel) && fx->ssp == SSP_NON_RESELLER)
		add_conflict(out, "ssp_channel_non_reseller_but_partner",
			     "SSPChannel is '%s' but invoice owner %s (%s) is a "
			     "%s partner; Zuora's invoice owner wins.",
			     fx->ssp_value, show(o->number), show(o->name),
			     channel_name(out->channel));
	if (in->owner_partner.present &&
	    in->owner_partner.type == PARTNER_RESELLER && q->present &&
	    has(q->distributor))
		add_conflict(out, "quote_distributor_but_registry_reseller",
			     "Quote %s names distributor %s but the partner "
			     "registry lists invoice owner %s (%s) as a reseller.",
			     show(q->id), q->distributor, show(o->number),
			     show(in->owner_partner.name));
}

static void partner_names(const struct channel_input *in,
			  const struct facts *fx,
			  struct channel_decision *out)
{
	const struct partner_in *reg = &in->owner_partner;
	const char *owner = has(reg->name) && reg->present ? reg->name
							   : in->invoice_owner.name;
	const char *resale = fx->resale;

	if (out->channel == CHANNEL_TWO_TIER) {
		/* The distributor holds the invoice; the quote names the
		 * reseller that sold to the customer. */
		out->partner_name = has(resale) ? resale
				    : has(in->sf_partner_name) ? in->sf_partner_name
							       : NULL;
		out->distributor_name = has(owner) ? owner : NULL;
		return;
	}
	if (out->channel == CHANNEL_UNDETERMINED)
		return;
	out->partner_name = has(owner) ? owner : has(resale) ? resale : NULL;
}

/* The reason sentence for a registry-typed or corroborated partner. */
static void partner_reason(const struct channel_input *in,
			   const struct facts *fx,
			   struct channel_decision *out)
{
	const struct account_in *o = &in->invoice_owner;
	const struct partner_in *reg = &in->owner_partner;

	if (reg->present && reg->type != PARTNER_NONE) {
		add_reason(out, "Invoice owner %s (%s) differs from the "
				"subscriber and the partner registry lists it "
				"as %s (%s).",
			   show(o->number), show(o->name),
			   partner_type_name(reg->type), show(reg->name));
	} else {
		char why[CLASSIFY_TEXT_MAX] = "";

		if (fx->ssp == SSP_RESELLER)
			add_item(why, sizeof why, "SSPChannel is Reseller");
		if (o->partner_account == TRI_TRUE)
			add_item(why, sizeof why, "the account is flagged as a partner");
		if (fx->notes_partner != NULL)
			add_item(why, sizeof why, "the quote's VP of Channel "
						  "approval notes name a resale "
						  "partner");
		else if (has(fx->resale))
			add_item(why, sizeof why, "the quote names a resale partner");
		add_reason(out, "Invoice owner %s (%s) differs from the "
				"subscriber and is not in the partner registry, "
				"but it is corroborated: %s.",
			   show(o->number), show(o->name), why);
	}
	if (out->channel == CHANNEL_TWO_TIER)
		add_reason(out, "Two-tier deal: distributor %s holds the invoice, "
				"reseller %s sold to the customer.",
			   show(out->distributor_name), show(out->partner_name));
	else if (out->channel == CHANNEL_MSP)
		add_reason(out, "An MSP buys and owns the licenses it runs for "
				"its customer.");
	else if (out->channel == CHANNEL_MARKETPLACE)
		add_reason(out, "A marketplace purchase is an alliance purchase, "
				"not a reseller purchase.");
}

/* Not in the registry and nothing corroborates: say what is missing. */
static void undetermined_reason(const struct channel_input *in,
				const struct facts *fx,
				struct channel_decision *out)
{
	const struct account_in *o = &in->invoice_owner;

	add_reason(out, "Invoice owner %s (%s) differs from the subscriber but "
			"is not in the partner registry, SSPChannel is %s, the "
			"account is %s and no quote names a resale partner.",
		   show(has(o->number) ? o->number : o->id), show(o->name),
		   fx->ssp == SSP_ABSENT ? "not set" : "not Reseller",
		   o->partner_account == TRI_FALSE ? "not flagged as a partner"
						   : "not known to be a partner");
	add_reason(out, "A parent company paying for a subsidiary also makes "
			"the invoice owner differ, so this is not called a "
			"reseller purchase without corroboration.");
	if (has(in->sf_partner_role))
		add_reason(out, "Salesforce lists %s with role %s, which Zuora "
				"does not confirm.",
			   show(in->sf_partner_name), in->sf_partner_role);
}

static void classify_partner(const struct channel_input *in, struct facts *fx,
			     struct channel_decision *out)
{
	const struct partner_in *reg = &in->owner_partner;
	const struct account_in *o = &in->invoice_owner;

	if (reg->present && reg->type != PARTNER_NONE) {
		add_evidence(out, SOURCE_REGISTRY, "partner_registry", "type",
			     partner_type_name(reg->type),
			     partner_points_to(reg->type));
		out->channel = channel_of_type(reg->type);
	} else {
		out->channel = unregistered_channel(in, fx);
	}
	if (o->partner_account != TRI_UNKNOWN)
		add_evidence(out, SOURCE_ZUORA, "Account", "partnerAccount",
			     o->partner_account == TRI_TRUE ? "true" : "false",
			     o->partner_account == TRI_TRUE ? "partner" : "direct");
	add_salesforce_evidence(in, fx, out);
	count_partner_signals(in, fx, out->channel);
	partner_names(in, fx, out);
	if (out->channel == CHANNEL_UNDETERMINED) {
		undetermined_reason(in, fx, out);
		return;
	}
	partner_conflicts(in, fx, out);
	partner_reason(in, fx, out);
}

/* ===== Unknown invoice owner: missing data ===== */

static void classify_unknown_owner(const struct channel_input *in,
				   struct facts *fx,
				   struct channel_decision *out)
{
	out->channel = CHANNEL_UNDETERMINED;
	add_salesforce_evidence(in, fx, out);
	add_reason(out, "The invoice owner of subscription %s is not known, "
			"and Zuora's invoice owner decides whether it was "
			"bought through a reseller: sync it from Zuora first.",
		   show(in->sub.number));
	if (fx->ssp == SSP_RESELLER || fx->quote_partner)
		add_reason(out, "SSPChannel or the quote suggests a reseller "
				"purchase, but that needs Zuora's invoice owner "
				"to confirm.");
}

/* Say where the resale partner came from when the notes supplied it. */
static void notes_reason(const struct channel_input *in, const struct facts *fx,
			 struct channel_decision *out)
{
	const struct partner_in *p = fx->notes_partner;

	if (p == NULL)
		return;
	add_reason(out, "Quote %s leaves %s empty, but its %s notes name %s, "
			"a %s in the partner registry: it counts as the quote's "
			"resale partner.",
		   show(in->quote.id),
		   field_or(in->resale_partner_field, RESALE_FIELD_DEFAULT),
		   field_or(in->vp_channel_notes_field, NOTES_FIELD_DEFAULT),
		   p->name, partner_type_name(p->type));
	if (fx->notes_others > 0)
		add_reason(out, "The notes name %zu other registry partner%s as "
				"well; the first one named counts.",
			   fx->notes_others, fx->notes_others == 1 ? "" : "s");
}

/* ===== Missing records: missing data lowers the confidence ===== */

/*
 * DOMAIN.md: confidence is "low with a conflict or missing data". Missing
 * data here is a Zuora account record the decision rests on that is not in
 * the cache (present == false) although the subscription names it:
 *  - the subscriber account holds SSPChannel (handbook sources put it on
 *    the account) and the Sold-To contact: without the record a
 *    disagreeing SSPChannel cannot be seen, so "none conflicts" cannot be
 *    claimed;
 *  - the invoice owner account holds partnerAccount and the name the
 *    decision reports: without it a partner channel rests on ids alone.
 * The channel itself stands: Zuora's invoice owner id (known from the
 * subscription) decides it and the signals that are there still count;
 * only the confidence drops, with a reason saying what to sync.
 * Not missing data: no Salesforce quote (DOMAIN.md: "web_direct if created
 * by the fulfillment user (or no sales quote exists)", so its absence is
 * itself web-direct evidence), no partner registry row (an unregistered
 * invoice owner has its own rule), and an SSPChannel or partnerAccount
 * that a cached account leaves unset (Zuora omits null fields: the value
 * is not set, the record is not missing). An unknown invoice owner is
 * missing data as well, but it already makes the channel undetermined
 * (classify_unknown_owner), which is always low.
 * Returns true when a record is missing; adds one reason per record.
 */
static bool missing_records(const struct channel_input *in, enum owner_rel rel,
			    struct channel_decision *out)
{
	const struct account_in *s = &in->subscriber;
	const struct account_in *o = &in->invoice_owner;
	bool missing = false;

	/* Direct: the invoice owner is the subscriber, one record. */
	if (!s->present || (rel == OWNER_SAME && !o->present)) {
		add_reason(out, "Subscriber account %s is not in the cache: its "
				"SSPChannel and Sold-To contact could not be "
				"checked, so the confidence is low; sync it from "
				"Zuora.",
			   show(has(s->number) ? s->number : s->id));
		missing = true;
	}
	if (rel == OWNER_OTHER && !o->present) {
		add_reason(out, "Invoice owner account %s is not in the cache: "
				"its partnerAccount flag and name could not be "
				"checked, so the confidence is low; sync it from "
				"Zuora.",
			   show(has(o->number) ? o->number : o->id));
		missing = true;
	}
	return missing;
}

/* ===== Exported ===== */

/*
 * Classify one subscription into a channel with confidence, evidence,
 * conflicts and reasons (DOMAIN.md "Classifying a subscription").
 * out is cleared first and filled completely; it borrows strings from in
 * (and static strings), so in must outlive out. Never fails: in == NULL or
 * an unknown invoice owner give CHANNEL_UNDETERMINED, and a subscriber or
 * invoice owner account missing from the cache gives low confidence, each
 * with a reason.
 */
void classify(const struct channel_input *in, struct channel_decision *out)
{
	struct facts fx;
	const char *field = NULL;
	const char *value = NULL;
	enum owner_rel rel;
	bool missing = false;

	memset(out, 0, sizeof *out);
	out->channel = CHANNEL_UNDETERMINED;
	if (in == NULL) {
		add_reason(out, "No subscription data to classify.");
		return;
	}
	read_facts(in, &fx);
	rel = owner_relation(in, &field, &value);
	if (rel != OWNER_UNKNOWN)
		add_evidence(out, SOURCE_ZUORA, "Subscription", field, value,
			     rel == OWNER_SAME ? "direct" : "partner");
	read_ssp(in, &fx, out);
	if (rel == OWNER_SAME)
		classify_direct(in, &fx, out);
	else if (rel == OWNER_OTHER)
		classify_partner(in, &fx, out);
	else
		classify_unknown_owner(in, &fx, out);
	check_quote_owner(in, out);
	notes_reason(in, &fx, out);
	out->notes_partner = fx.notes_partner;
	if (rel != OWNER_UNKNOWN)
		missing = missing_records(in, rel, out);

	out->is_reseller = channel_is_reseller(out->channel);
	if (out->channel == CHANNEL_UNDETERMINED || out->n_conflicts > 0 ||
	    missing)
		out->confidence = CONFIDENCE_LOW;
	else if (fx.signals >= 2)
		out->confidence = CONFIDENCE_HIGH;
	else if (fx.signals == 1)
		out->confidence = CONFIDENCE_MEDIUM;
	else
		out->confidence = CONFIDENCE_LOW;
}

/* Wire name of a channel; a static string ("undetermined" if out of range). */
const char *channel_name(enum channel c)
{
	switch (c) {
	case CHANNEL_WEB_DIRECT:
		return "web_direct";
	case CHANNEL_SALES_ASSISTED:
		return "sales_assisted";
	case CHANNEL_RESELLER:
		return "reseller";
	case CHANNEL_TWO_TIER:
		return "two_tier";
	case CHANNEL_MSP:
		return "msp";
	case CHANNEL_MARKETPLACE:
		return "marketplace";
	case CHANNEL_UNDETERMINED:
		break;
	}
	return "undetermined";
}

/* Wire name of a confidence; a static string ("low" if out of range). */
const char *confidence_name(enum confidence c)
{
	switch (c) {
	case CONFIDENCE_MEDIUM:
		return "medium";
	case CONFIDENCE_HIGH:
		return "high";
	case CONFIDENCE_LOW:
		break;
	}
	return "low";
}

/* Wire name of a registry partner type; "none" for PARTNER_NONE. Static. */
const char *partner_type_name(enum partner_type t)
{
	switch (t) {
	case PARTNER_RESELLER:
		return "reseller";
	case PARTNER_DISTRIBUTOR:
		return "distributor";
	case PARTNER_MSP:
		return "msp";
	case PARTNER_MARKETPLACE:
		return "marketplace";
	case PARTNER_NONE:
		break;
	}
	return "none";
}

/* Wire name of an evidence source ("zuora", "salesforce", "registry"). */
const char *evidence_source_name(enum evidence_source s)
{
	switch (s) {
	case SOURCE_SALESFORCE:
		return "salesforce";
	case SOURCE_REGISTRY:
		return "registry";
	case SOURCE_ZUORA:
		break;
	}
	return "zuora";
}

/*
 * Parse a registry type, ASCII case-insensitively (imported files vary in
 * case). NULL, "" and unknown names give PARTNER_NONE.
 */
enum partner_type partner_type_parse(const char *s)
{
	static const enum partner_type types[] = {
		PARTNER_RESELLER, PARTNER_DISTRIBUTOR, PARTNER_MSP,
		PARTNER_MARKETPLACE,
	};
	size_t i;

	for (i = 0; i < sizeof types / sizeof types[0]; i++)
		if (same_ci(s, partner_type_name(types[i])))
			return types[i];
	return PARTNER_NONE;
}

/* DOMAIN.md: is_reseller is true for reseller, two_tier and msp only; a
 * marketplace purchase is an alliance purchase. */
bool channel_is_reseller(enum channel c)
{
	return c == CHANNEL_RESELLER || c == CHANNEL_TWO_TIER ||
	       c == CHANNEL_MSP;
}
