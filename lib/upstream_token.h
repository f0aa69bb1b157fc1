#pragma once
/*
 * upstream_token: one OAuth token per source per process (UPSTREAM.md
 * 1.2: "Reuse tokens until they expire"), shared by every client of that
 * source on any thread. Holds the access token, when to fetch a new one
 * (Zuora: expires_in less a margin; Salesforce: never, only on a 401) and
 * an extra string (Salesforce's instance_url).
 *
 * Only one thread fetches at a time: the others wait for its answer and
 * reuse it (or return its error; after a timeout, which may be the
 * fetching thread's own shorter bound, a waiter fetches itself). A 401 invalidates the token by
 * generation: upstream_token_invalidate(t, gen) clears it only when gen is
 * still the current token, so a 401 on a token that another thread has
 * already replaced triggers no further fetch. Thread-safe throughout.
 */
#include <stdint.h>
#include <stddef.h>

#include "errors.h"

struct upstream_token;

/* A fetch: on ERR_OK set *token (xstrdup'd, handed over), *extra (may
 * stay NULL) and *refresh_in_ns (0: keep until invalidated). On failure
 * write a reason into why. Runs on the calling thread, with no lock held. */
typedef enum err (*upstream_token_fetch_fn)(void *cls, char **token, char **extra,
					    uint64_t *refresh_in_ns, char *why,
					    size_t whylen);

/* A copy of the current token (owned; release with
 * upstream_token_value_release). */
struct upstream_token_value {
	char *token;
	char *extra;  /* NULL when the fetch gave none */
	uint64_t gen; /* pass to upstream_token_invalidate after a 401 */
};

/* An empty cache; free with upstream_token_free (no client may use it
 * then). Dies on OOM. */
struct upstream_token *upstream_token_new(void);
void upstream_token_free(struct upstream_token *t);

/*
 * The current token into out, fetching one with fetch(cls, ...) when there
 * is none or it is due for refresh. While another thread fetches, wait for
 * it (until deadline_ns on the now_ns() clock; 0: no deadline, the fetch
 * itself is bounded) and take its token or its error (but after its
 * ERR_TIMEOUT, fetch again here). Errors: what the
 * fetch returned (reason in why), ERR_TIMEOUT at the deadline. out is
 * zeroed on error.
 */
enum err upstream_token_get(struct upstream_token *t, uint64_t deadline_ns,
			    upstream_token_fetch_fn fetch, void *cls,
			    struct upstream_token_value *out, char *why, size_t whylen);

/* A 401 on the token of generation gen: drop it unless it was replaced
 * (or is being replaced) already. */
void upstream_token_invalidate(struct upstream_token *t, uint64_t gen);

/* How many tokens this cache has fetched (for tests and logs). */
uint64_t upstream_token_fetches(struct upstream_token *t);

void upstream_token_value_release(struct upstream_token_value *v);
