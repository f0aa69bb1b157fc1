#pragma once
/*
 * decide: one channel decision, from key to rendered body: validate the
 * key, read the record (one round trip), classify, render. Shared by the
 * channel, batch and evaluate handlers and by resellerctl lookup, so every
 * path shows the same decision.
 */
#include <stdbool.h>
#include <stddef.h>

#include "app.h"
#include "catalog.h"
#include "classify.h"
#include "store.h"

#define SUBSCRIPTION_KEY_MAX 40

/*
 * A subscription key is a number (A-S followed by 1-20 digits) or a Zuora
 * id (32 hex characters, lower-cased into out). s need not be
 * NUL-terminated. false when malformed.
 */
bool subscription_key_parse(const char *s, size_t n, char *out, size_t outlen);

struct decided {
	struct decision_record *rec;
	struct channel_decision d;
	struct catalog_snap *cat;
};

/* Fill x for key (already parsed). ERR_NOT_FOUND, ERR_UNAVAILABLE.
 * Release with decided_release, also after a failure. */
enum err decide(struct app *app, const char *key, struct decided *x);
void decided_release(struct app *app, struct decided *x);

/* The decision as compact JSON (caller frees) and its strong ETag
 * ("\"<32 hex>\"", 35 bytes with NUL). */
char *decided_render(struct app *app, const struct decided *x, size_t *len, char etag[40]);

/* The channel_input configuration fields from the app's config. */
void decide_configure(const struct app *app, struct channel_input *in);
