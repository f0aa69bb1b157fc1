#pragma once
/*
 * auth: bearer tokens. A token is "rsd_" + 64 hex characters of OS
 * randomness; only its SHA-256 is stored. Checks are answered from a small
 * in-memory cache (direct-mapped, keyed by the hash, compared in constant
 * time) for RESELLERD_TOKEN_CACHE_TTL seconds, so a revocation takes
 * effect within that many seconds on every instance.
 */
#include <stdbool.h>
#include <stddef.h>

#include "errors.h"
#include "router.h"

struct store;
struct metrics;

#define AUTH_TOKEN_LEN (4 + 64)
#define AUTH_NAME_MAX 64

struct auth;

/* ttl_s 0 disables the cache. Borrowed store and metrics outlive auth. */
struct auth *auth_new(struct store *s, struct metrics *m, unsigned ttl_s);
void auth_free(struct auth *a);

/*
 * Check an Authorization header value. ERR_OK fills *scope and name;
 * ERR_UNAUTHORIZED for a missing, malformed, unknown or revoked token;
 * ERR_UNAVAILABLE when the database cannot say.
 */
enum err auth_check(struct auth *a, const char *authorization, enum scope *scope,
		    char name[AUTH_NAME_MAX]);

/*
 * auth_check without the database, for threads that must not block:
 * false when the answer is not cached (call auth_check where blocking is
 * allowed); true with the result in *e, as auth_check would give it.
 * Counts nothing: a request deferred after this is checked again by
 * auth_check, so the caller counts the cache hit once it answers.
 */
bool auth_check_cached(struct auth *a, const char *authorization, enum err *e,
		       enum scope *scope, char name[AUTH_NAME_MAX]);

/* Forget every cached answer (after a local revoke). */
void auth_flush(struct auth *a);

/* A new random token into out (AUTH_TOKEN_LEN + 1 bytes). */
void auth_token_generate(char *out, size_t n);
/* SHA-256 of token as 64 hex characters + NUL. */
void auth_token_hash(const char *token, char out[65]);
/* Token names: 1-64 characters of [A-Za-z0-9._-]. */
bool auth_name_valid(const char *name);
