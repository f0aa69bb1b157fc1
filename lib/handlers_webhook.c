/*
 * POST /v1/webhooks/zuora: a Zuora callout is only an invalidation hint
 * (UPSTREAM.md 1.9). It is authenticated (lib/webhook.h), recorded in the
 * inbox under its Zuora-Notification-Id before we answer (so a retry is a
 * no-op and nothing is lost), and the named record (a subscription, an
 * account, or both) is re-read from Zuora by the refresher, off the
 * request thread. Database down: 503, so Zuora retries.
 */
#include <string.h>

#include "decide.h"
#include "handlers.h"
#include "log.h"
#include "refresh.h"
#include "util.h"
#include "webhook.h"

static bool printable(const char *s, size_t max)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (n >= max || (unsigned char)s[n] < 0x21 || (unsigned char)s[n] > 0x7e)
			return false;
	return n > 0;
}

HANDLER(h_webhook_zuora)
{
	struct webhook_auth wa;
	const char *nid = http_header(req, "Zuora-Notification-Id");
	char sub[64], acct[64], key[SUBSCRIPTION_KEY_MAX];
	bool dup = false;
	enum err e;

	(void)m;
	if (str_empty(app->cfg.webhook_secret)) {
		respond_problem(res, req, ERR_UNAVAILABLE,
				"webhooks are not configured: set RESELLERD_WEBHOOK_SECRET");
		return;
	}
	wa.signature = http_header(req, "X-Zuora-Signature");
	if (!wa.signature)
		wa.signature = http_header(req, "X-Signature");
	if (!wa.signature)
		wa.signature = http_header(req, "X-Hub-Signature-256");
	wa.shared_secret = http_header(req, "X-Webhook-Secret");
	wa.authorization = http_header(req, "Authorization");
	if (!webhook_verify(app->cfg.webhook_secret, req->body, req->body_len, &wa)) {
		metrics_inc(app->metrics, MC_WEBHOOK_REJECTED, 1);
		/* Zuora's Basic auth sends credentials only after a 401
		 * that asks for Basic (UPSTREAM.md 1.9): never Bearer here. */
		respond_challenge(res, req, "Basic realm=\"resellerd-webhook\", charset=\"UTF-8\"",
				  "the callout signature or secret is missing or wrong");
		return;
	}
	if (!nid || !printable(nid, 128)) {
		respond_problem(res, req, ERR_INVALID, "the Zuora-Notification-Id header is missing or malformed");
		return;
	}
	if (!webhook_parse(req->body, req->body_len, sub, sizeof(sub), acct, sizeof(acct)) ||
	    (sub[0] && !subscription_key_parse(sub, strlen(sub), key, sizeof(key)))) {
		respond_problem(res, req, ERR_INVALID,
				"the body must be a JSON object naming a SubscriptionNumber (or SubscriptionId)"
				" or an AccountId (or AccountNumber)");
		return;
	}
	e = store_inbox_add(app->store, nid, sub[0] ? key : NULL, acct[0] ? acct : NULL, &dup);
	if (e) {
		respond_problem(res, req, ERR_UNAVAILABLE, "cannot record the notification now; retry later");
		return;
	}
	metrics_inc(app->metrics, dup ? MC_WEBHOOK_DUPLICATE : MC_WEBHOOK_ACCEPTED, 1);
	if (!dup)
		refresh_kick(app->refresh);
	respond_json(res, 200, json_pack("{s:b}", "success", 1));
}
