/* Fuzz classify(), evaluate() and workflows_for_decision() with inputs
 * whose strings and flags come from the data: they must never crash,
 * overflow their fixed arrays, or break their invariants. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evaluate.h"
#include "mention.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_STR 40

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[4096];
	const char *str[N_STR];
	struct channel_input in;
	struct channel_decision d;
	struct request_facts f;
	struct policy p = {PORTAL_NONE, "2022-07-07"};
	struct evaluation ev;
	const char *ids[16];
	size_t i, k = 0, n;
	unsigned flags = size > 4 ? (unsigned)data[0] | (unsigned)data[1] << 8 | (unsigned)data[2] << 16 : 0;

	if (size > sizeof(buf) - 1)
		size = sizeof(buf) - 1;
	memcpy(buf, data, size);
	buf[size] = '\0';
	/* Split into NUL/newline-separated strings; missing ones are NULL. */
	for (i = 0; i < N_STR; i++)
		str[i] = NULL;
	for (i = 0; i < size && k < N_STR; i++) {
		if (i == 0 || buf[i - 1] == '\n')
			str[k++] = buf + i;
		if (buf[i] == '\n')
			buf[i] = '\0';
	}
	memset(&in, 0, sizeof(in));
	k = 0;
#define S() (str[k % N_STR] ? str[k++ % N_STR] : (k++, NULL))
	in.sub.id = S(); in.sub.number = S(); in.sub.status = S(); in.sub.term_start = S();
	in.sub.created_by_id = S(); in.sub.ssp_channel = S();
	in.subscriber.present = flags & 1; in.subscriber.id = S(); in.subscriber.number = S();
	in.subscriber.name = S(); in.subscriber.ssp_channel = S(); in.subscriber.sold_to.email = S();
	in.subscriber.sold_to.domain = S(); in.subscriber.partner_account = (enum tristate)((flags >> 1) % 3);
	in.invoice_owner.present = flags & 8; in.invoice_owner.id = S(); in.invoice_owner.number = S();
	in.invoice_owner.name = S(); in.invoice_owner.sold_to.domain = S();
	in.invoice_owner.partner_account = (enum tristate)((flags >> 4) % 3);
	in.quote.present = flags & 64; in.quote.status = S(); in.quote.resale_partner = S();
	in.quote.distributor = S(); in.quote.invoice_owner_id = S();
	in.owner_partner.present = flags & 128; in.owner_partner.name = S();
	in.owner_partner.type = (enum partner_type)((flags >> 8) % 5); in.owner_partner.track = S();
	in.resale_partner.present = flags & 2048; in.resale_partner.name = S();
	in.resale_partner.type = (enum partner_type)((flags >> 12) % 5);
	in.sf_partner_role = S(); in.sf_partner_name = S();
	in.fulfillment_user_id = S(); in.ssp_reseller_value = S();
	in.quote.vp_channel_notes = S();
	for (i = 0; i < 3; i++) {
		/* the flags have no bits left: the name decides present/type */
		const char *name = S();

		in.notes_partners[i].present = name != NULL;
		in.notes_partners[i].name = name;
		in.notes_partners[i].type =
			name ? (enum partner_type)((unsigned char)name[0] % 5) : PARTNER_NONE;
	}
	classify(&in, &d);
	if (d.n_evidence > CLASSIFY_MAX_EVIDENCE || d.n_conflicts > CLASSIFY_MAX_CONFLICTS ||
	    d.n_reasons > CLASSIFY_MAX_REASONS || d.is_reseller != channel_is_reseller(d.channel) ||
	    (d.n_conflicts && d.confidence != CONFIDENCE_LOW))
		abort();
	/* A notes partner is a present reseller or MSP candidate the notes
	 * name, and only when the quote's resale partner field is empty. */
	if (d.notes_partner &&
	    (d.notes_partner < in.notes_partners ||
	     d.notes_partner >= in.notes_partners + CLASSIFY_MAX_NOTES_PARTNERS ||
	     !d.notes_partner->present ||
	     (d.notes_partner->type != PARTNER_RESELLER && d.notes_partner->type != PARTNER_MSP) ||
	     (in.quote.resale_partner && in.quote.resale_partner[0]) ||
	     mention_find(in.quote.vp_channel_notes, d.notes_partner->name, NULL) < 0))
		abort();
	memset(&f, 0, sizeof(f));
	f.requester_email = S(); f.purchase_date = S(); f.partner_track = S();
	f.requester_is_staff = (enum tristate)((flags >> 15) % 3);
	f.license_activated = (enum tristate)((flags >> 17) % 3);
	f.invoice_attached = (enum tristate)((flags >> 19) % 3);
	f.reseller_vouches = (enum tristate)((flags >> 21) % 3);
	p.portal = (flags >> 23) & 1 ? PORTAL_READ_ONLY : PORTAL_NONE;
	for (i = 0; i < REQ__COUNT; i++) {
		evaluate((enum request_type)i, &in, &d, &f, &p, &ev);
		if (!ev.workflow_id || ev.n_reasons > EVAL_MAX_ITEMS || ev.n_proof > EVAL_MAX_ITEMS ||
		    ev.n_warnings > EVAL_MAX_ITEMS)
			abort();
	}
	n = workflows_for_decision(&d, ids, 16);
	if (n > 16)
		abort();
	return 0;
}
