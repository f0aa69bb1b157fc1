#pragma once
/*
 * dcache: rendered channel decisions kept in memory, so a warm lookup
 * costs a hash probe and a shared reference instead of a database round trip and a
 * JSON build.
 *
 * Bounded by bytes (RESELLERD_DECISION_CACHE_MB); least recently used
 * entries are evicted first. Sharded: each shard has its own lock.
 *
 * Invalidation is by dependency versions, which makes it correct in
 * whatever order a change and a cache fill race: every entry records the
 * ids it was built from (subscription number, both accounts, their
 * contacts, the quote's opportunity) and the change counter read
 * *before* its database read. dcache_invalidate(id) bumps the counter and
 * stamps the id with the new value; a hit whose dependencies were stamped
 * after its build counter was read is a miss, one stamped before (the
 * fill read the changed data) is a hit. dcache_invalidate_all()
 * (registry, policy, a full sync page, a lost change feed) stamps
 * everything the same way, so a fill racing it is stale too.
 */
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

#define DCACHE_MAX_DEPS 8
#define DCACHE_KEY_MAX 40

struct dcache;

/* max_bytes 0 disables the cache (every get misses, put is a no-op). */
struct dcache *dcache_new(size_t max_bytes, struct metrics *m);
void dcache_free(struct dcache *c);

/* The counter to pass to dcache_put: read it before reading the data. */
uint64_t dcache_begin(struct dcache *c);

/* A hit: the cached body (shared, read-only, NUL-terminated) and its
 * ETag. The body stays valid, even if the entry is evicted or replaced,
 * until ref is given to dcache_release (exactly once). */
struct dcache_hit {
	const char *body;
	size_t len;
	char etag[40];
	void *ref;
};

/*
 * Look key up: on a fresh entry fill *hit (taking a reference on its
 * body) and return true; false on a miss or a stale entry (*hit
 * untouched). Never fails otherwise.
 */
bool dcache_get(struct dcache *c, const char *key, struct dcache_hit *hit);
/* Give back a hit's reference (dcache_hit.ref); the body is freed when
 * neither the cache nor any other hit holds it. NULL is ignored. */
void dcache_release(void *ref);

/*
 * Store body (copied) for key, built from data read after `begin`
 * (dcache_begin) and depending on deps (NULL entries ignored).
 */
void dcache_put(struct dcache *c, const char *key, const char *body, size_t len,
		const char *etag, const char *const *deps, size_t n_deps, uint64_t begin);

/* A record changed: entries depending on id are stale from now on. */
void dcache_invalidate(struct dcache *c, const char *id);
/* Everything is stale (registry or policy change, lost notifications). */
void dcache_invalidate_all(struct dcache *c);

/* Entries and bytes held now. */
void dcache_stats(struct dcache *c, size_t *entries, size_t *bytes);
