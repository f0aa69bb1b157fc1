/* Fuzz the webhook verifier and payload reader: first line the signature
 * header, second the Authorization header, the rest the body. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	char *nl1 = strchr(s, '\n'), *nl2 = nl1 ? strchr(nl1 + 1, '\n') : NULL;
	struct webhook_auth a = {NULL, NULL, NULL};
	const char *body = s;
	char sub[64], acct[64];

	if (nl1 && nl2) {
		*nl1 = '\0';
		*nl2 = '\0';
		a.signature = s;
		a.authorization = nl1 + 1;
		a.shared_secret = nl1 + 1;
		body = nl2 + 1;
	}
	webhook_verify("s3cret", body, strlen(body), &a);
	webhook_parse((const char *)data, size, sub, sizeof(sub), acct, sizeof(acct));
	free(s);
	return 0;
}
