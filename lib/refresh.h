#pragma once
/*
 * refresh: reading single records from Zuora outside the sync.
 *  - Read-through: a lookup of a subscription the cache does not hold
 *    reads it (and both accounts with their contacts) from Zuora, stores
 *    it with origin "live", and the lookup classifies it. Bounded: at most
 *    RESELLERD_READTHROUGH_CONCURRENCY at once (others get 503 at once),
 *    each within RESELLERD_READTHROUGH_TIMEOUT_MS as a whole. A transient
 *    Zuora answer (429, 5xx, a retryable category) is retried, up to 3
 *    attempts per request, when the wait (Retry-After or backoff) fits in
 *    the time left; otherwise it fails at once.
 *  - Webhooks: a thread drains the webhook inbox, re-reading each named
 *    record: a subscription the same way (origin "webhook"), an account
 *    (AccountId or AccountNumber) with its bill-to and sold-to contacts
 *    through GET /v1/accounts/{key}. The upsert fires the change feed, so
 *    every cached decision built from the record (as subscription,
 *    subscriber or invoice owner) goes stale. Zuora failures stay in the
 *    inbox and are retried (at most 10 attempts); a record Zuora does not
 *    know is done.
 */
#include "app.h"
#include "errors.h"

struct refresh;

/* NULL-safe everywhere: without ZUORA_BASE_URL, read-through answers
 * ERR_NOT_FOUND and the inbox is only recorded. */
struct refresh *refresh_new(struct app *app);
void refresh_start(struct refresh *r);
/* Wake the inbox worker (a notification was recorded). */
void refresh_kick(struct refresh *r);
void refresh_stop(struct refresh *r);
void refresh_free(struct refresh *r);

/*
 * Read key (number or id) from Zuora and store it. ERR_OK: stored (look
 * it up again); ERR_NOT_FOUND: Zuora does not know it (or Zuora is not
 * configured); ERR_UNAVAILABLE: too many read-throughs at once, or Zuora
 * failed or timed out.
 */
enum err refresh_read_through(struct refresh *r, const char *key, const char *origin);
