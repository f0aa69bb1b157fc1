/*
 * Hand-written hash maps (two: entries by key, versions by dependency id)
 * because Debian ships no small C hash table library we would rather
 * depend on than these ~60 lines; FNV-1a hashing, chaining, power-of-two
 * bucket arrays that double at load 1.
 */
#include "dcache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define SHARD_BITS 4
#define SHARDS (1u << SHARD_BITS)
#define ENTRY_OVERHEAD (sizeof(struct entry) + 64)
/* Past this many tracked dependency versions, forget them and flush. */
#define MAX_VERSIONS (1u << 20)

/*
 * A body is shared by its entry and every response still sending it, so
 * a hit costs no copy: the last of them to let go frees it. The copy
 * and its malloc/free were ~6% of a warm lookup's CPU (a 2-4 KB body,
 * glibc trimming the thread arena after each free; tests/bench/README.md).
 */
struct blob {
	atomic_uint refs;
	size_t len;
	char data[]; /* len bytes and a NUL */
};

static void blob_release(struct blob *b)
{
	if (b && atomic_fetch_sub(&b->refs, 1) == 1)
		free(b);
}

void dcache_release(void *ref)
{
	blob_release(ref);
}

struct entry {
	struct entry *next;          /* hash chain */
	struct entry *lru_prev, *lru_next;
	uint32_t hash;
	char key[DCACHE_KEY_MAX];
	char etag[40];
	char deps[DCACHE_MAX_DEPS][DCACHE_KEY_MAX];
	size_t n_deps;
	uint64_t begin;
	struct blob *body;
};

struct shard {
	pthread_mutex_t mu;
	struct entry **buckets;
	size_t n_buckets, n_entries, bytes;
	struct entry lru; /* sentinel: lru.lru_next is the most recent */
};

struct version {
	struct version *next;
	uint32_t hash;
	uint64_t v;
	char id[DCACHE_KEY_MAX];
};

struct dcache {
	size_t max_bytes_per_shard;
	struct metrics *metrics;
	atomic_uint_fast64_t counter;
	struct shard shards[SHARDS];
	pthread_rwlock_t vlock;
	/* The counter value of the last flush (dcache_invalidate_all, or
	 * forgetting the versions): entries begun before it are stale.
	 * Under vlock, like the versions. */
	uint64_t flushed_at;
	/* The newest stamp of any change or flush (written under vlock): an
	 * entry begun at or after it is fresh without looking anything up. */
	atomic_uint_fast64_t last_change;
	struct version **vbuckets;
	size_t n_vbuckets, n_versions;
};

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 16777619u;
	}
	return h;
}

struct dcache *dcache_new(size_t max_bytes, struct metrics *m)
{
	struct dcache *c = xcalloc(1, sizeof(*c));
	size_t i;

	c->max_bytes_per_shard = max_bytes / SHARDS;
	c->metrics = m;
	atomic_init(&c->counter, 1);
	atomic_init(&c->last_change, 0);
	for (i = 0; i < SHARDS; i++) {
		struct shard *s = &c->shards[i];

		pthread_mutex_init(&s->mu, NULL);
		s->n_buckets = 1024;
		s->buckets = xcalloc(s->n_buckets, sizeof(*s->buckets));
		s->lru.lru_next = s->lru.lru_prev = &s->lru;
	}
	pthread_rwlock_init(&c->vlock, NULL);
	c->n_vbuckets = 4096;
	c->vbuckets = xcalloc(c->n_vbuckets, sizeof(*c->vbuckets));
	return c;
}

/*
 * The shard comes from the hash's top bits because the bucket index inside
 * a shard uses its low bits: taking both from the low bits would leave
 * 15 of every 16 buckets empty and make every chain 16 times longer.
 */
static struct shard *shard_of(struct dcache *c, uint32_t h)
{
	return &c->shards[h >> (32 - SHARD_BITS)];
}

static void free_versions(struct dcache *c)
{
	size_t i;

	for (i = 0; i < c->n_vbuckets; i++) {
		struct version *v = c->vbuckets[i], *next;

		for (; v; v = next) {
			next = v->next;
			free(v);
		}
		c->vbuckets[i] = NULL;
	}
	c->n_versions = 0;
}

void dcache_free(struct dcache *c)
{
	size_t i, b;

	if (!c)
		return;
	for (i = 0; i < SHARDS; i++) {
		struct shard *s = &c->shards[i];

		for (b = 0; b < s->n_buckets; b++) {
			struct entry *e = s->buckets[b], *next;

			for (; e; e = next) {
				next = e->next;
				blob_release(e->body);
				free(e);
			}
		}
		free(s->buckets);
		pthread_mutex_destroy(&s->mu);
	}
	free_versions(c);
	free(c->vbuckets);
	pthread_rwlock_destroy(&c->vlock);
	free(c);
}

uint64_t dcache_begin(struct dcache *c)
{
	return atomic_load(&c->counter);
}

/* The version of id (0: never changed). Caller holds vlock. */
static uint64_t version_of(const struct dcache *c, const char *id)
{
	uint32_t h = fnv1a(id);
	const struct version *v = c->vbuckets[h & (c->n_vbuckets - 1)];

	for (; v; v = v->next)
		if (v->hash == h && strcmp(v->id, id) == 0)
			return v->v;
	return 0;
}

/*
 * A change stamped v (the counter after its increment) happened before a
 * fill that began at counter value begin iff v <= begin: that fill read
 * the changed data. Stale iff the flush or a dependency is newer.
 */
static bool fresh(struct dcache *c, const struct entry *e)
{
	size_t i;
	bool ok;

	if (atomic_load(&c->last_change) <= e->begin)
		return true;
	pthread_rwlock_rdlock(&c->vlock);
	ok = c->flushed_at <= e->begin;
	for (i = 0; i < e->n_deps && ok; i++)
		ok = version_of(c, e->deps[i]) <= e->begin;
	pthread_rwlock_unlock(&c->vlock);
	return ok;
}

static void lru_unlink(struct entry *e)
{
	e->lru_prev->lru_next = e->lru_next;
	e->lru_next->lru_prev = e->lru_prev;
}

static void lru_front(struct shard *s, struct entry *e)
{
	e->lru_next = s->lru.lru_next;
	e->lru_prev = &s->lru;
	s->lru.lru_next->lru_prev = e;
	s->lru.lru_next = e;
}

static struct entry **find(struct shard *s, const char *key, uint32_t h)
{
	struct entry **p = &s->buckets[h & (s->n_buckets - 1)];

	while (*p && ((*p)->hash != h || strcmp((*p)->key, key) != 0))
		p = &(*p)->next;
	return p;
}

static void drop(struct shard *s, struct entry **link)
{
	struct entry *e = *link;

	if (!e)
		return;
	*link = e->next;
	lru_unlink(e);
	s->n_entries--;
	s->bytes -= e->body->len + ENTRY_OVERHEAD;
	blob_release(e->body);
	free(e);
}

bool dcache_get(struct dcache *c, const char *key, struct dcache_hit *hit_out)
{
	uint32_t h = fnv1a(key);
	struct shard *s = shard_of(c, h);
	struct entry **link, *e;
	bool hit = false;

	if (!c->max_bytes_per_shard)
		return false;
	pthread_mutex_lock(&s->mu);
	link = find(s, key, h);
	e = *link;
	if (e && fresh(c, e)) {
		atomic_fetch_add(&e->body->refs, 1);
		hit_out->body = e->body->data;
		hit_out->len = e->body->len;
		hit_out->ref = e->body;
		memcpy(hit_out->etag, e->etag, sizeof(hit_out->etag));
		lru_unlink(e);
		lru_front(s, e);
		hit = true;
	} else if (e) {
		drop(s, link);
	}
	pthread_mutex_unlock(&s->mu);
	if (c->metrics)
		metrics_inc(c->metrics, hit ? MC_DECISION_CACHE_HITS : MC_DECISION_CACHE_MISSES, 1);
	return hit;
}

static void grow(struct shard *s)
{
	size_t n = s->n_buckets * 2, i;
	struct entry **b = xcalloc(n, sizeof(*b));

	for (i = 0; i < s->n_buckets; i++) {
		struct entry *e = s->buckets[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(s->buckets);
	s->buckets = b;
	s->n_buckets = n;
}

void dcache_put(struct dcache *c, const char *key, const char *body, size_t len,
		const char *etag, const char *const *deps, size_t n_deps, uint64_t begin)
{
	uint32_t h = fnv1a(key);
	struct shard *s = shard_of(c, h);
	struct entry **link, *e;
	size_t i;

	if (!c->max_bytes_per_shard || strlen(key) >= DCACHE_KEY_MAX ||
	    len + ENTRY_OVERHEAD > c->max_bytes_per_shard)
		return;
	e = xcalloc(1, sizeof(*e));
	e->hash = h;
	strlcpy_(e->key, key, sizeof(e->key));
	strlcpy_(e->etag, etag, sizeof(e->etag));
	for (i = 0; i < n_deps && e->n_deps < DCACHE_MAX_DEPS; i++)
		if (deps[i] && deps[i][0] && strlen(deps[i]) < DCACHE_KEY_MAX)
			strlcpy_(e->deps[e->n_deps++], deps[i], DCACHE_KEY_MAX);
	e->begin = begin;
	e->body = xmalloc(sizeof(*e->body) + len + 1);
	atomic_init(&e->body->refs, 1);
	e->body->len = len;
	memcpy(e->body->data, body, len);
	e->body->data[len] = '\0';

	pthread_mutex_lock(&s->mu);
	link = find(s, key, h);
	if (*link)
		drop(s, link);
	while (s->bytes + len + ENTRY_OVERHEAD > c->max_bytes_per_shard && s->lru.lru_prev != &s->lru) {
		struct entry *old = s->lru.lru_prev;

		drop(s, find(s, old->key, old->hash));
		if (c->metrics)
			metrics_inc(c->metrics, MC_DECISION_CACHE_EVICTIONS, 1);
	}
	if (s->n_entries >= s->n_buckets)
		grow(s);
	link = &s->buckets[h & (s->n_buckets - 1)];
	e->next = *link;
	*link = e;
	lru_front(s, e);
	s->n_entries++;
	s->bytes += len + ENTRY_OVERHEAD;
	pthread_mutex_unlock(&s->mu);
}

/* Caller holds vlock for writing, so compare-and-store keeps the maximum. */
static void note_change(struct dcache *c, uint64_t v)
{
	if (atomic_load(&c->last_change) < v)
		atomic_store(&c->last_change, v);
}

void dcache_invalidate(struct dcache *c, const char *id)
{
	uint32_t h = fnv1a(id);
	uint64_t v = atomic_fetch_add(&c->counter, 1) + 1;
	struct version **p, *x;

	if (strlen(id) >= DCACHE_KEY_MAX) {
		dcache_invalidate_all(c);
		return;
	}
	pthread_rwlock_wrlock(&c->vlock);
	if (c->n_versions >= MAX_VERSIONS) {
		/* Bounded memory: forget the versions, retire every entry
		 * begun before now (no forgotten version is newer). */
		free_versions(c);
		c->flushed_at = atomic_load(&c->counter);
		note_change(c, c->flushed_at);
	}
	p = &c->vbuckets[h & (c->n_vbuckets - 1)];
	for (x = *p; x && (x->hash != h || strcmp(x->id, id) != 0); x = x->next)
		;
	if (!x) {
		x = xcalloc(1, sizeof(*x));
		x->hash = h;
		strlcpy_(x->id, id, sizeof(x->id));
		x->next = *p;
		*p = x;
		c->n_versions++;
	}
	x->v = v;
	note_change(c, v);
	if (c->n_versions > c->n_vbuckets) {
		size_t n = c->n_vbuckets * 2, i;
		struct version **b = xcalloc(n, sizeof(*b));

		for (i = 0; i < c->n_vbuckets; i++) {
			struct version *y = c->vbuckets[i], *next;

			for (; y; y = next) {
				next = y->next;
				y->next = b[y->hash & (n - 1)];
				b[y->hash & (n - 1)] = y;
			}
		}
		free(c->vbuckets);
		c->vbuckets = b;
		c->n_vbuckets = n;
	}
	pthread_rwlock_unlock(&c->vlock);
}

void dcache_invalidate_all(struct dcache *c)
{
	uint64_t v = atomic_fetch_add(&c->counter, 1) + 1;

	pthread_rwlock_wrlock(&c->vlock);
	if (v > c->flushed_at) /* concurrent flushes: the newest stands */
		c->flushed_at = v;
	note_change(c, v);
	pthread_rwlock_unlock(&c->vlock);
}

void dcache_stats(struct dcache *c, size_t *entries, size_t *bytes)
{
	size_t i;

	*entries = 0;
	*bytes = 0;
	for (i = 0; i < SHARDS; i++) {
		pthread_mutex_lock(&c->shards[i].mu);
		*entries += c->shards[i].n_entries;
		*bytes += c->shards[i].bytes;
		pthread_mutex_unlock(&c->shards[i].mu);
	}
}
