#include "reqid.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

bool reqid_valid(const char *id)
{
	size_t n = 0;

	if (!id)
		return false;
	for (; id[n]; n++) {
		char c = id[n];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '_' ||
			  c == ':' || c == '-';

		if (!ok || n >= REQID_MAX)
			return false;
	}
	return n > 0;
}

void reqid_generate(char *out, size_t n)
{
	unsigned char r[16];
	char hex[33];

	random_bytes(r, sizeof(r));
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	hex_encode(r, sizeof(r), hex);
	snprintf(out, n, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
		 hex + 16, hex + 20);
}

void reqid_choose(const char *client, char *out, size_t n)
{
	if (reqid_valid(client))
		strlcpy_(out, client, n);
	else
		reqid_generate(out, n);
}
