#include "auth.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "store.h"
#include "util.h"

#define CACHE_SLOTS 1024 /* direct-mapped; a collision only costs a lookup */

struct slot {
	unsigned char hash[32];
	bool used;
	bool valid; /* false: a cached "unknown token" answer */
	enum scope scope;
	char name[AUTH_NAME_MAX];
	uint64_t expires_ns;
};

struct auth {
	struct store *store;
	struct metrics *metrics;
	uint64_t ttl_ns;
	pthread_mutex_t mu;
	struct slot slots[CACHE_SLOTS];
};

struct auth *auth_new(struct store *s, struct metrics *m, unsigned ttl_s)
{
	struct auth *a = xcalloc(1, sizeof(*a));

	a->store = s;
	a->metrics = m;
	a->ttl_ns = (uint64_t)ttl_s * 1000000000u;
	pthread_mutex_init(&a->mu, NULL);
	return a;
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	pthread_mutex_destroy(&a->mu);
	free(a);
}

void auth_flush(struct auth *a)
{
	pthread_mutex_lock(&a->mu);
	memset(a->slots, 0, sizeof(a->slots));
	pthread_mutex_unlock(&a->mu);
}

void auth_token_generate(char *out, size_t n)
{
	unsigned char r[32];
	char hex[65];

	random_bytes(r, sizeof(r));
	hex_encode(r, sizeof(r), hex);
	snprintf(out, n, "rsd_%s", hex);
}

void auth_token_hash(const char *token, char out[65])
{
	unsigned char md[32];

	sha256(token, strlen(token), md);
	hex_encode(md, sizeof(md), out);
}

bool auth_name_valid(const char *name)
{
	size_t n = strlen(name);

	return n >= 1 && n <= AUTH_NAME_MAX - 1 &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789._-") == n;
}

/* Bearer token syntax: "Bearer rsd_<64 hex>" (scheme case-insensitive). */
static const char *bearer(const char *h)
{
	const char *t;

	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	t = h + 7;
	while (*t == ' ')
		t++;
	if (strlen(t) != AUTH_TOKEN_LEN || strncmp(t, "rsd_", 4) != 0 ||
	    strspn(t + 4, "0123456789abcdef") != 64)
		return NULL;
	return t;
}

static bool cache_get(struct auth *a, const unsigned char hash[32], struct slot *out)
{
	struct slot *s = &a->slots[(hash[0] | (hash[1] << 8)) % CACHE_SLOTS];
	bool hit;

	pthread_mutex_lock(&a->mu);
	hit = s->used && now_ns() < s->expires_ns &&
	      CRYPTO_memcmp(s->hash, hash, 32) == 0;
	if (hit)
		*out = *s;
	pthread_mutex_unlock(&a->mu);
	return hit;
}

static void cache_put(struct auth *a, const struct slot *v)
{
	struct slot *s = &a->slots[(v->hash[0] | (v->hash[1] << 8)) % CACHE_SLOTS];

	if (!a->ttl_ns)
		return;
	pthread_mutex_lock(&a->mu);
	*s = *v;
	s->used = true;
	s->expires_ns = now_ns() + a->ttl_ns;
	pthread_mutex_unlock(&a->mu);
}

static enum err answer(const struct slot *v, enum scope *scope, char name[AUTH_NAME_MAX])
{
	if (!v->valid)
		return ERR_UNAUTHORIZED;
	*scope = v->scope;
	strlcpy_(name, v->name, AUTH_NAME_MAX);
	return ERR_OK;
}

bool auth_check_cached(struct auth *a, const char *authorization, enum err *e,
		       enum scope *scope, char name[AUTH_NAME_MAX])
{
	const char *token = bearer(authorization);
	struct slot v;

	if (!token) {
		*e = ERR_UNAUTHORIZED;
		return true;
	}
	memset(&v, 0, sizeof(v));
	sha256(token, AUTH_TOKEN_LEN, v.hash);
	if (!cache_get(a, v.hash, &v))
		return false;
	*e = answer(&v, scope, name);
	return true;
}

enum err auth_check(struct auth *a, const char *authorization, enum scope *scope,
		    char name[AUTH_NAME_MAX])
{
	const char *token = bearer(authorization);
	struct slot v;
	char hex[65], scope_s[16];
	enum err e;

	if (!token)
		return ERR_UNAUTHORIZED;
	memset(&v, 0, sizeof(v));
	sha256(token, AUTH_TOKEN_LEN, v.hash);
	if (cache_get(a, v.hash, &v)) {
		metrics_inc(a->metrics, MC_TOKEN_CACHE_HITS, 1);
	} else {
		metrics_inc(a->metrics, MC_TOKEN_CACHE_MISSES, 1);
		hex_encode(v.hash, 32, hex);
		e = store_token_lookup(a->store, hex, scope_s, sizeof(scope_s), v.name,
				       sizeof(v.name));
		if (e && e != ERR_NOT_FOUND)
			return e;
		v.valid = !e && scope_parse(scope_s) > 0;
		v.scope = v.valid ? (enum scope)scope_parse(scope_s) : SCOPE_NONE;
		cache_put(a, &v);
	}
	return answer(&v, scope, name);
}
