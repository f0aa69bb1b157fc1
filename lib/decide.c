#include "decide.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "refresh.h"
#include "util.h"

bool subscription_key_parse(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i;

	if (n >= outlen)
		return false;
	if (n == 32) {
		for (i = 0; i < n; i++) {
			if (!isxdigit((unsigned char)s[i]))
				return false;
			out[i] = (char)tolower((unsigned char)s[i]);
		}
		out[n] = '\0';
		return true;
	}
	if (n < 4 || n > 23 || strncmp(s, "A-S", 3) != 0)
		return false;
	for (i = 3; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

void decide_configure(const struct app *app, struct channel_input *in)
{
	in->fulfillment_user_id = app->cfg.zuora_fulfillment_user_id;
	in->ssp_reseller_value = app->cfg.zuora_sspchannel_reseller_value;
	in->ssp_field = app->cfg.zuora_sspchannel_field;
	in->resale_partner_field = app->cfg.salesforce_resale_partner_field;
	in->distributor_field = app->cfg.salesforce_distributor_field;
	in->vp_channel_notes_field = app->cfg.salesforce_vp_channel_notes_field;
}

enum err decide(struct app *app, const char *key, struct decided *x)
{
	enum err e;

	memset(x, 0, sizeof(*x));
	e = catalog_get(app->catalog, &x->cat);
	if (e)
		return e;
	e = store_decision_get(app->store, key, &x->rec);
	/* Not cached: read it through from Zuora (bounded), then again. */
	if (e == ERR_NOT_FOUND && app->refresh) {
		e = refresh_read_through(app->refresh, key, "live");
		if (!e)
			e = store_decision_get(app->store, key, &x->rec);
	}
	if (e)
		return e;
	decide_configure(app, &x->rec->in);
	classify(&x->rec->in, &x->d);
	return ERR_OK;
}

void decided_release(struct app *app, struct decided *x)
{
	store_decision_free(x->rec);
	if (x->cat)
		catalog_put(app->catalog, x->cat);
	memset(x, 0, sizeof(*x));
}

char *decided_render(struct app *app, const struct decided *x, size_t *len, char etag[40])
{
	json_t *v = codec_decision(x->rec, &x->d, x->cat, app->cfg.handbook_base_url);
	char *body = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);
	unsigned char md[32];
	char hex[65];

	json_decref(v);
	if (!body)
		die("json_dumps failed (out of memory)");
	*len = strlen(body);
	/* A strong validator over the exact bytes served. */
	sha256(body, *len, md);
	hex_encode(md, 16, hex);
	snprintf(etag, 40, "\"%.32s\"", hex);
	return body;
}
