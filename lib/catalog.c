#include "catalog.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

struct catalog {
	struct store *store;
	uint64_t max_age_ns;
	pthread_mutex_t mu;
	struct catalog_snap *cur;
	uint64_t loaded_ns;
	unsigned long generation;
};

struct catalog *catalog_new(struct store *s, unsigned reload_s)
{
	struct catalog *c = xcalloc(1, sizeof(*c));

	c->store = s;
	c->max_age_ns = (uint64_t)reload_s * 1000000000u;
	pthread_mutex_init(&c->mu, NULL);
	return c;
}

static void snap_free(struct catalog_snap *s)
{
	store_catalog_release(&s->c);
	free(s);
}

void catalog_free(struct catalog *c)
{
	if (!c)
		return;
	if (c->cur && --c->cur->refs == 0)
		snap_free(c->cur);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static bool same_catalog(const struct store_catalog *a, const struct store_catalog *b)
{
	size_t i;

	if (strcmp(a->portal_access, b->portal_access) != 0 ||
	    strcmp(a->cloud_licensing_cutoff, b->cloud_licensing_cutoff) != 0 ||
	    a->n_workflows != b->n_workflows)
		return false;
	for (i = 0; i < a->n_workflows; i++) {
		const struct workflow_row *x = &a->workflows[i], *y = &b->workflows[i];

		if (strcmp(x->id, y->id) || x->version != y->version || strcmp(x->title, y->title) ||
		    strcmp(x->handbook_path, y->handbook_path) || strcmp(x->steps_json, y->steps_json) ||
		    strcmp(x->warnings_json, y->warnings_json) || strcmp(x->proof_json, y->proof_json) ||
		    strcmp(x->applies_when, y->applies_when) ||
		    strcmp(x->sections_json, y->sections_json))
			return false;
	}
	return true;
}

enum err catalog_get(struct catalog *c, struct catalog_snap **out)
{
	struct catalog_snap *fresh;
	uint64_t now = now_ns();
	enum err e;

	pthread_mutex_lock(&c->mu);
	if (c->cur && now - c->loaded_ns < c->max_age_ns) {
		c->cur->refs++;
		*out = c->cur;
		pthread_mutex_unlock(&c->mu);
		return ERR_OK;
	}
	/* Reload under the lock: rare (every few seconds) and short. */
	fresh = xcalloc(1, sizeof(*fresh));
	e = store_catalog_load(c->store, &fresh->c);
	if (e) {
		snap_free(fresh);
		if (!c->cur) {
			pthread_mutex_unlock(&c->mu);
			return e;
		}
		log_warn("catalog reload failed; serving the previous one");
		c->loaded_ns = now; /* retry after max_age, not on every request */
	} else if (c->cur && same_catalog(&c->cur->c, &fresh->c)) {
		snap_free(fresh);
		c->loaded_ns = now;
	} else {
		fresh->refs = 1; /* the catalog's own reference */
		fresh->generation = ++c->generation;
		if (c->cur && --c->cur->refs == 0)
			snap_free(c->cur);
		c->cur = fresh;
		c->loaded_ns = now;
	}
	c->cur->refs++;
	*out = c->cur;
	pthread_mutex_unlock(&c->mu);
	return ERR_OK;
}

void catalog_put(struct catalog *c, struct catalog_snap *snap)
{
	pthread_mutex_lock(&c->mu);
	if (--snap->refs == 0)
		snap_free(snap);
	pthread_mutex_unlock(&c->mu);
}

void catalog_invalidate(struct catalog *c)
{
	pthread_mutex_lock(&c->mu);
	c->loaded_ns = 0;
	if (c->cur)
		c->loaded_ns = now_ns() - c->max_age_ns - 1;
	pthread_mutex_unlock(&c->mu);
}

const struct workflow_row *catalog_workflow(const struct catalog_snap *snap, const char *id)
{
	size_t i;

	for (i = 0; i < snap->c.n_workflows; i++)
		if (strcmp(snap->c.workflows[i].id, id) == 0)
			return &snap->c.workflows[i];
	return NULL;
}
