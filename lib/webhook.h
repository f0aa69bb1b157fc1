#pragma once
/*
 * webhook: Zuora callout authentication and payload reading. Pure
 * functions (OpenSSL for the HMAC, jansson for the body), fuzzed.
 *
 * Zuora's callout has no fixed payload or signature header (UPSTREAM.md
 * 1.9): the tenant writes a template. We accept, with
 * RESELLERD_WEBHOOK_SECRET as the key:
 *  - an HMAC-SHA256 of the raw body in X-Zuora-Signature, X-Signature or
 *    X-Hub-Signature-256, as hex or base64, optionally "sha256=" prefixed;
 *  - or the secret itself, in X-Webhook-Secret or as the Basic auth
 *    password (Zuora's Basic auth option).
 * Every comparison is constant-time.
 */
#include <stdbool.h>
#include <stddef.h>

struct webhook_auth {
	const char *signature;     /* one of the signature headers, or NULL */
	const char *shared_secret; /* X-Webhook-Secret, or NULL */
	const char *authorization; /* Authorization header, or NULL */
};

/* true when the request carries a valid proof for secret. */
bool webhook_verify(const char *secret, const char *body, size_t len,
		    const struct webhook_auth *auth);

/* Read the record a notification names into caller buffers ("" when
 * absent): SubscriptionNumber (or SubscriptionName, subscriptionNumber,
 * SubscriptionId) and AccountId (or AccountNumber). false (both buffers
 * "") when the body is not a JSON object, names neither, a value does not
 * fit its buffer, or the account key has characters other than
 * [A-Za-z0-9_-]. */
bool webhook_parse(const char *body, size_t len, char *subscription, size_t sub_len,
		   char *account, size_t acct_len);
