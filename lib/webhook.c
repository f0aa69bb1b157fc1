#include "webhook.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "util.h"

static bool ct_equal(const char *a, const char *b)
{
	size_t n = strlen(a);

	return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

static bool signature_ok(const char *secret, const char *body, size_t len, const char *sig)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1], b64[4 * EVP_MAX_MD_SIZE / 3 + 8];

	if (strncasecmp(sig, "sha256=", 7) == 0)
		sig += 7;
	if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, md, &mdlen))
		return false;
	hex_encode(md, mdlen, hex);
	EVP_EncodeBlock((unsigned char *)b64, md, (int)mdlen);
	/* compare both encodings (case-insensitive hex via lower-casing) */
	{
		char lower[2 * EVP_MAX_MD_SIZE + 1];
		size_t i, n = strlen(sig);

		if (n < sizeof(lower)) {
			for (i = 0; i < n; i++)
				lower[i] = (char)((sig[i] >= 'A' && sig[i] <= 'F') ? sig[i] + 32 : sig[i]);
			lower[n] = '\0';
			if (ct_equal(lower, hex))
				return true;
		}
	}
	return ct_equal(sig, b64);
}

/* The password of a Basic Authorization header, decoded into out. */
static bool basic_password(const char *authz, char *out, size_t n)
{
	unsigned char dec[512];
	const char *b64, *colon;
	size_t len;
	int got;

	if (strncasecmp(authz, "Basic ", 6) != 0)
		return false;
	b64 = authz + 6;
	len = strlen(b64);
	if (len == 0 || len > 680 || len % 4)
		return false;
	got = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)len);
	if (got <= 0)
		return false;
	while (got > 0 && len && b64[len - 1] == '=') { /* DecodeBlock counts padding */
		got--;
		len--;
	}
	dec[got] = '\0';
	colon = memchr(dec, ':', (size_t)got);
	if (!colon)
		return false;
	strlcpy_(out, colon + 1, n);
	return true;
}

bool webhook_verify(const char *secret, const char *body, size_t len,
		    const struct webhook_auth *auth)
{
	char pw[512];

	if (str_empty(secret))
		return false;
	if (auth->signature && signature_ok(secret, body ? body : "", len, auth->signature))
		return true;
	if (auth->shared_secret && ct_equal(auth->shared_secret, secret))
		return true;
	return auth->authorization && basic_password(auth->authorization, pw, sizeof(pw)) &&
	       ct_equal(pw, secret);
}

static const char *first_string(json_t *obj, const char *const *keys)
{
	for (; *keys; keys++) {
		const char *v = json_string_value(json_object_get(obj, *keys));

		if (v && *v)
			return v;
	}
	return NULL;
}

/* An account id or number as Zuora's GET /v1/accounts/{key} takes it. */
static bool account_key_ok(const char *k)
{
	for (; *k; k++)
		if (!((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') ||
		      (*k >= '0' && *k <= '9') || *k == '-' || *k == '_'))
			return false;
	return true;
}

bool webhook_parse(const char *body, size_t len, char *subscription, size_t sub_len,
		   char *account, size_t acct_len)
{
	static const char *const sub_keys[] = {"SubscriptionNumber", "subscriptionNumber",
					       "SubscriptionName", "SubscriptionId",
					       "subscriptionId", NULL};
	static const char *const acct_keys[] = {"AccountId", "accountId", "AccountNumber",
						"accountNumber", NULL};
	json_t *v = body ? json_loadb(body, len, 0, NULL) : NULL;
	const char *s, *a;
	bool ok;

	subscription[0] = '\0';
	account[0] = '\0';
	if (!json_is_object(v)) {
		json_decref(v);
		return false;
	}
	s = first_string(v, sub_keys);
	a = first_string(v, acct_keys);
	/* A value that does not fit is refused, never cut to another key. */
	ok = (s || a) && (!s || strlcpy_(subscription, s, sub_len) < sub_len) &&
	     (!a || (strlcpy_(account, a, acct_len) < acct_len && account_key_ok(a)));
	if (!ok) {
		subscription[0] = '\0';
		account[0] = '\0';
	}
	json_decref(v);
	return ok;
}
