#include "note.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "util.h"

#define NOTE_MAX (64 * 1024)

static const char *or_unknown(const char *s)
{
	return str_empty(s) ? "unknown" : s;
}

/* The channel in one sentence, as a support engineer would write it. */
static void channel_sentence(struct buf *b, const struct decided *x)
{
	const struct channel_input *in = &x->rec->in;
	const struct channel_decision *d = &x->d;
	const char *owner = or_unknown(in->invoice_owner.number ? in->invoice_owner.number
								 : in->invoice_owner.id);
	const char *partner = or_unknown(d->partner_name);

	switch (d->channel) {
	case CHANNEL_RESELLER:
		buf_printf(b, "Bought through %s, a channel partner; Zuora invoice owner %s.", partner, owner);
		break;
	case CHANNEL_TWO_TIER:
		buf_printf(b, "Bought through %s, a channel partner, in a two-tier deal with distributor %s, "
			   "which holds the invoice; Zuora invoice owner %s.", partner,
			   or_unknown(d->distributor_name), owner);
		break;
	case CHANNEL_MSP:
		buf_printf(b, "Bought by %s, a managed service provider that owns the licenses it runs "
			   "for the customer; Zuora invoice owner %s.", partner, owner);
		break;
	case CHANNEL_MARKETPLACE:
		buf_printf(b, "Bought through %s, an alliance marketplace (not a reseller); Zuora invoice "
			   "owner %s.", partner, owner);
		break;
	case CHANNEL_WEB_DIRECT:
		buf_printf(b, "Bought online by the customer (web direct); the subscriber %s pays its own "
			   "invoices.", or_unknown(in->subscriber.number));
		break;
	case CHANNEL_SALES_ASSISTED:
		buf_printf(b, "Bought through GitLab sales (sales-assisted); the subscriber %s pays its own "
			   "invoices.", or_unknown(in->subscriber.number));
		break;
	case CHANNEL_UNDETERMINED:
		buf_printf(b, "The channel is undetermined: confirm it in Zuora before acting (invoice owner %s).",
			   owner);
		break;
	}
}

static void party(struct buf *b, const char *role, const struct account_in *a)
{
	buf_printf(b, "- %s: %s (%s)", role, or_unknown(a->name), or_unknown(a->number ? a->number : a->id));
	if (!str_empty(a->sold_to.email))
		buf_printf(b, "; Sold-To %s <%s>", or_unknown(a->sold_to.name), a->sold_to.email);
	buf_puts(b, "\n");
}

static void list_json_strings(struct buf *b, const char *json_text)
{
	json_t *arr = json_loads(json_text ? json_text : "[]", 0, NULL);
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (json_is_string(v))
			buf_printf(b, "%zu. %s\n", i + 1, json_string_value(v));
	json_decref(arr);
}

char *note_decision(struct app *app, const struct decided *x, size_t *len)
{
	const struct channel_input *in = &x->rec->in;
	const struct channel_decision *d = &x->d;
	const char *ids[16];
	size_t n, i;
	struct buf b;

	buf_init(&b, NOTE_MAX);
	buf_printf(&b, "### %s: %s (confidence %s)\n\n", in->sub.number, channel_name(d->channel),
		   confidence_name(d->confidence));
	channel_sentence(&b, x);
	buf_puts(&b, "\n\n**Parties**\n");
	party(&b, "Subscriber (end customer)", &in->subscriber);
	party(&b, "Invoice owner (pays)", &in->invoice_owner);
	if (d->channel == CHANNEL_TWO_TIER || d->channel == CHANNEL_RESELLER)
		buf_printf(&b, "- Resale partner: %s\n", or_unknown(d->partner_name));
	if (d->channel == CHANNEL_TWO_TIER)
		buf_printf(&b, "- Distributor: %s\n", or_unknown(d->distributor_name));
	buf_puts(&b, "\n**Evidence**\n");
	for (i = 0; i < d->n_evidence; i++)
		buf_printf(&b, "- %s %s.%s = %s (points to %s)\n",
			   evidence_source_name(d->evidence[i].source), d->evidence[i].object,
			   d->evidence[i].field, or_unknown(d->evidence[i].value),
			   d->evidence[i].points_to);
	if (d->n_conflicts) {
		buf_puts(&b, "\n**Conflicts** (Zuora wins)\n");
		for (i = 0; i < d->n_conflicts; i++)
			buf_printf(&b, "- :warning: %s\n", d->conflicts[i].message);
	}
	if (d->is_reseller) {
		buf_puts(&b, "\n**Do not**\n"
			     "- Never send a license file to the reseller; the license goes to the Sold-To contact.\n"
			     "- Never CC the current Sold-To contact on the ticket.\n"
			     "- Do not make changes directly: they go through the reseller unless it explicitly allows otherwise.\n");
	}
	n = workflows_for_decision(d, ids, ARRAY_SIZE(ids));
	buf_puts(&b, "\n**Workflows**\n");
	for (i = 0; i < n; i++) {
		const struct workflow_row *w = catalog_workflow(x->cat, ids[i]);
		char *url;

		if (!w)
			continue;
		url = codec_workflow_url(app->cfg.handbook_base_url, w);
		buf_printf(&b, "- [%s](%s)\n", w->title, url);
		free(url);
	}
	buf_printf(&b, "\n_Zuora data synced %s (%s); Salesforce %s; partner registry %s._\n",
		   or_unknown(x->rec->meta.zuora_synced_at), or_unknown(x->rec->meta.origin),
		   x->rec->meta.quote_synced_at ? x->rec->meta.quote_synced_at : "has no quote for it",
		   x->rec->meta.registry_imported_at ? x->rec->meta.registry_imported_at
						     : "does not list the invoice owner");
	return buf_detach(&b, len);
}

char *note_evaluation(struct app *app, const struct decided *x, const struct evaluation *ev,
		      enum request_type type)
{
	const struct workflow_row *w = catalog_workflow(x->cat, ev->workflow_id);
	struct buf b;
	size_t i;

	buf_init(&b, NOTE_MAX);
	buf_printf(&b, "### %s request on %s: %s\n\n", request_type_name(type), x->rec->in.sub.number,
		   action_name(ev->action));
	channel_sentence(&b, x);
	buf_puts(&b, "\n\n**Why**\n");
	for (i = 0; i < ev->n_reasons; i++)
		buf_printf(&b, "- %s\n", ev->reasons[i]);
	if (ev->n_proof) {
		buf_puts(&b, "\n**Proof still needed** (any one of)\n");
		for (i = 0; i < ev->n_proof; i++)
			buf_printf(&b, "- %s\n", ev->proof[i]);
	}
	if (ev->n_warnings) {
		buf_puts(&b, "\n**Warnings**\n");
		for (i = 0; i < ev->n_warnings; i++)
			buf_printf(&b, "- %s\n", ev->warnings[i]);
	}
	if (w) {
		char *url = codec_workflow_url(app->cfg.handbook_base_url, w);

		buf_printf(&b, "\n**Next steps** ([%s](%s))\n", w->title, url);
		free(url);
		list_json_strings(&b, w->steps_json);
	}
	return buf_detach(&b, NULL);
}
