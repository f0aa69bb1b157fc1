#pragma once
/*
 * catalog: the policy settings and workflow catalog (data in PostgreSQL,
 * editable without a rebuild), held in memory as refcounted snapshots
 * reloaded at most every RELOAD seconds, so a request never waits on the
 * catalog query once warm.
 */
#include "store.h"

struct catalog;

struct catalog_snap {
	struct store_catalog c;
	unsigned long generation; /* bumps on every reload that changed data */
	int refs;                 /* under the catalog lock */
};

/* reload_s: maximum age of a snapshot. Free with catalog_free. */
struct catalog *catalog_new(struct store *s, unsigned reload_s);
void catalog_free(struct catalog *c);

/*
 * A current snapshot (loaded or refreshed as needed); release it with
 * catalog_put. ERR_UNAVAILABLE when the database cannot be read and no
 * snapshot was ever loaded (a stale one is served otherwise).
 */
enum err catalog_get(struct catalog *c, struct catalog_snap **out);
void catalog_put(struct catalog *c, struct catalog_snap *snap);
/* Force a reload on the next catalog_get. */
void catalog_invalidate(struct catalog *c);

/* The workflow with this id in snap, or NULL. */
const struct workflow_row *catalog_workflow(const struct catalog_snap *snap, const char *id);
