#include "codec.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static json_t *str_or_null(const char *s)
{
	return str_empty(s) ? json_null() : json_string(s);
}

static json_t *tri_json(enum tristate t)
{
	return t == TRI_UNKNOWN ? json_null() : json_boolean(t == TRI_TRUE);
}

char *codec_workflow_url(const char *base, const struct workflow_row *w)
{
	struct buf b;
	size_t n = strlen(base);

	buf_init(&b, 8192);
	buf_append(&b, base, n && base[n - 1] == '/' ? n - 1 : n);
	buf_puts(&b, w->handbook_path);
	if (!str_empty(w->first_section)) {
		buf_puts(&b, "#");
		buf_puts(&b, w->first_section);
	}
	return buf_detach(&b, NULL);
}

static json_t *contact_json(const struct contact_in *c)
{
	if (str_empty(c->id) && str_empty(c->email))
		return json_null();
	return json_pack("{s:o, s:o, s:o, s:o}", "id", str_or_null(c->id), "name",
			 str_or_null(c->name), "email", str_or_null(c->email), "email_domain",
			 str_or_null(c->domain));
}

static json_t *account_json(const struct account_in *a)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o}", "id", str_or_null(a->id),
			 "number", str_or_null(a->number), "name", str_or_null(a->name),
			 "partner_account", tri_json(a->partner_account), "ssp_channel",
			 str_or_null(a->ssp_channel), "cached", a->present, "sold_to",
			 contact_json(&a->sold_to), "bill_to", contact_json(&a->bill_to));
}

static json_t *evidence_json(const struct channel_decision *d)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < d->n_evidence; i++) {
		const struct evidence *e = &d->evidence[i];

		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:o, s:s}", "source",
						     evidence_source_name(e->source), "object",
						     e->object ? e->object : "", "field",
						     e->field ? e->field : "", "value",
						     str_or_null(e->value), "points_to",
						     e->points_to ? e->points_to : "undetermined"));
	}
	return arr;
}

static json_t *conflicts_json(const struct channel_decision *d)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < d->n_conflicts; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s}", "code", d->conflicts[i].code,
						     "message", d->conflicts[i].message));
	return arr;
}

static json_t *texts_json(const char (*texts)[CLASSIFY_TEXT_MAX], size_t n)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_string(texts[i]));
	return arr;
}

enum portal_policy codec_portal_policy(const struct catalog_snap *cat)
{
	return strcmp(cat->c.portal_access, "read_only") == 0 ? PORTAL_READ_ONLY : PORTAL_NONE;
}

/* Whether a legacy license needs a VP-approved exemption: exactly what the
 * evaluator answers for a legacy_license request without facts (term start
 * against the cutoff, then the channel), so the two never disagree. */
static bool legacy_needs_exemption(const struct channel_input *in,
				   const struct channel_decision *d,
				   const struct catalog_snap *cat)
{
	struct policy pol;
	struct evaluation ev;

	pol.portal = codec_portal_policy(cat);
	pol.cloud_licensing_cutoff = cat->c.cloud_licensing_cutoff;
	evaluate(REQ_LEGACY_LICENSE, in, d, NULL, &pol, &ev);
	return ev.action != ACTION_PROCEED;
}

json_t *codec_policy(const struct channel_input *in, const struct channel_decision *d,
		     const struct catalog_snap *cat)
{
	bool partner = channel_is_reseller(d->channel);
	/* DOMAIN.md: marketplace buyers are treated like reseller customers
	 * in the Customers Portal. */
	bool portal_limited = partner || d->channel == CHANNEL_MARKETPLACE;
	const char *portal = !portal_limited ? "full" : cat->c.portal_access;
	json_t *notes = json_array();

	if (partner) {
		json_array_append_new(notes, json_string("Never send a license file to the reseller; the license goes to the Sold-To contact."));
		json_array_append_new(notes, json_string("Additions, changes and renewals go through the reseller unless the reseller explicitly allows otherwise."));
		json_array_append_new(notes, json_string("Resellers get no Customers Portal account of their own."));
	}
	if (portal_limited && strcmp(portal, "none") == 0)
		json_array_append_new(notes, json_string("No Customers Portal access: the account is held in the partner's name."));
	else if (portal_limited)
		json_array_append_new(notes, json_string("Read-only Customers Portal access: view the subscription, link a group, download the license, manage contacts; changes, seats and invoices go through the reseller."));
	if (d->channel == CHANNEL_UNDETERMINED)
		json_array_append_new(notes, json_string("The channel is undetermined: confirm it in Zuora before acting."));
	return json_pack("{s:s, s:b, s:b, s:s, s:b, s:o}", "portal_access", portal,
			 "changes_through_reseller", partner, "never_send_license_to_reseller",
			 partner, "license_recipient", "sold_to", "legacy_license_needs_exemption",
			 legacy_needs_exemption(in, d, cat), "notes", notes);
}

static json_t *workflow_ref(const struct workflow_row *w, const char *id, const char *base)
{
	char *url;
	json_t *v;

	if (!w)
		return json_pack("{s:s}", "id", id);
	url = codec_workflow_url(base, w);
	v = json_pack("{s:s, s:s, s:s}", "id", w->id, "title", w->title, "handbook_url", url);
	free(url);
	return v;
}

static json_t *workflows_json(const struct channel_decision *d, const struct catalog_snap *cat,
			      const char *base)
{
	const char *ids[16];
	size_t n = workflows_for_decision(d, ids, ARRAY_SIZE(ids)), i;
	json_t *arr = json_array();

	for (i = 0; i < n; i++)
		json_array_append_new(arr, workflow_ref(catalog_workflow(cat, ids[i]), ids[i], base));
	return arr;
}

/* DOMAIN.md: "when each source was last synced for this record": the
 * registry is a source too (imported from a file, replaced whole). */
static json_t *freshness_json(const struct decision_meta *m)
{
	return json_pack("{s:{s:o, s:o, s:o}, s:{s:o, s:o}, s:{s:o}}", "zuora", "synced_at",
			 str_or_null(m->zuora_synced_at), "updated_at",
			 str_or_null(m->zuora_updated_at), "origin", str_or_null(m->origin),
			 "salesforce", "synced_at", str_or_null(m->quote_synced_at),
			 "last_sync", str_or_null(m->salesforce_last_sync), "registry",
			 "imported_at", str_or_null(m->registry_imported_at));
}

json_t *codec_decision(const struct decision_record *rec, const struct channel_decision *d,
		       const struct catalog_snap *cat, const char *handbook_base)
{
	const struct channel_input *in = &rec->in;
	const char *resale = NULL;
	json_t *partner = json_null();

	if (d->channel == CHANNEL_RESELLER || d->channel == CHANNEL_TWO_TIER ||
	    d->channel == CHANNEL_MSP)
		resale = d->partner_name;
	if (in->owner_partner.present)
		partner = json_pack("{s:s, s:s, s:o}", "name", in->owner_partner.name, "type",
				    partner_type_name(in->owner_partner.type), "track",
				    str_or_null(in->owner_partner.track));
	return json_pack(
		"{s:s, s:{s:o, s:s, s:i, s:o, s:o, s:o, s:o}, s:s, s:b, s:s, s:o, s:o, s:o, s:o,"
		" s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		"subscription", in->sub.number,
		"subscription_details", "id", str_or_null(in->sub.id), "number", in->sub.number,
		"version", in->sub.version, "status", str_or_null(in->sub.status), "term_start",
		str_or_null(in->sub.term_start), "term_end", str_or_null(in->sub.term_end),
		"created_by_id", str_or_null(in->sub.created_by_id),
		"channel", channel_name(d->channel), "is_reseller", d->is_reseller,
		"confidence", confidence_name(d->confidence),
		"subscriber", account_json(&in->subscriber),
		"invoice_owner", account_json(&in->invoice_owner),
		"ssp_channel", str_or_null(d->ssp_channel),
		"resale_partner", str_or_null(resale),
		"distributor", str_or_null(d->channel == CHANNEL_TWO_TIER ? d->distributor_name : NULL),
		"partner", partner,
		"evidence", evidence_json(d),
		"conflicts", conflicts_json(d),
		"reasons", texts_json(d->reasons, d->n_reasons),
		"policy", codec_policy(in, d, cat),
		"workflows", workflows_json(d, cat, handbook_base),
		"freshness", freshness_json(&rec->meta));
}

static json_t *json_text(const char *text)
{
	json_t *v = json_loads(text ? text : "[]", 0, NULL);

	return v ? v : json_array();
}

json_t *codec_workflow(const struct workflow_row *w, const char *handbook_base)
{
	char *url = codec_workflow_url(handbook_base, w);
	json_t *v = json_pack("{s:s, s:i, s:s, s:s, s:o, s:s, s:s, s:o, s:o, s:o}", "id", w->id,
			      "version", w->version, "title", w->title, "handbook_path",
			      w->handbook_path, "sections", json_text(w->sections_json),
			      "handbook_url", url, "applies_when",
			      w->applies_when, "steps", json_text(w->steps_json), "warnings",
			      json_text(w->warnings_json), "proof", json_text(w->proof_json));

	free(url);
	return v;
}

json_t *codec_evaluation(const struct decision_record *rec, const struct channel_decision *d,
			 const struct evaluation *ev, const struct catalog_snap *cat,
			 const char *handbook_base)
{
	const struct workflow_row *w = catalog_workflow(cat, ev->workflow_id);

	return json_pack("{s:s, s:s, s:s, s:b, s:o, s:o, s:o, s:o, s:o}", "subscription",
			 rec->in.sub.number, "action", action_name(ev->action), "channel",
			 channel_name(d->channel), "is_reseller", d->is_reseller, "workflow",
			 w ? codec_workflow(w, handbook_base) : json_pack("{s:s}", "id", ev->workflow_id),
			 "reasons", texts_json(ev->reasons, ev->n_reasons), "required_proof",
			 texts_json(ev->proof, ev->n_proof), "warnings",
			 texts_json(ev->warnings, ev->n_warnings), "decision",
			 codec_decision(rec, d, cat, handbook_base));
}
