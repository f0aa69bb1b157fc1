#include "reqid.h"

#include <stdio.h>
#include <stdint.h>
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

/*
 * Request ids need uniqueness, not secrecy: a per-thread xorshift128+
 * seeded once from the OS saves a getrandom(2) call on every request.
 */
static _Thread_local uint64_t rng[2];

static uint64_t next_random(void)
{
	uint64_t x = rng[0], y = rng[1];

	if (!x && !y) {
		random_bytes(rng, sizeof(rng));
		rng[0] |= 1;
		x = rng[0];
		y = rng[1];
	}
	rng[0] = y;
	x ^= x << 23;
	rng[1] = x ^ y ^ (x >> 17) ^ (y >> 26);
	return rng[1] + y;
}

void reqid_generate(char *out, size_t n)
{
	unsigned char r[16];
	char hex[33];
	uint64_t a = next_random(), b = next_random();

	memcpy(r, &a, 8);
	memcpy(r + 8, &b, 8);
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
