/*
 * sim_cursor: query results and their paging (Zuora queryLocator,
 * Salesforce nextRecordsUrl).
 *
 * A query runs once into a cursor holding the matching row references
 * (generated row indexes, or pinned json_t references for JSON rows), so
 * pages are cheap, stable under later data changes, and can be fetched
 * again (a client retrying a page gets the same rows).
 * Everything here runs with sim.lock held.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

#define MAX_CURSORS 64
#define PIN_BIT 0x80000000u

/* ===== cursors ===== */

struct cursor {
	char id[40];
	enum api api;
	enum tbl t;
	char sfver[16];
	struct query *q;
	uint32_t *ent;
	size_t n, cap;
	json_t **pinned;
	size_t npinned, pcap;
	int64_t created, last_used;
	size_t batch;
	struct render *rd;
	size_t row_bytes; /* of the last page, to size the next one */
	struct cursor *next;
};

static struct cursor *cursors;

static void cursor_free(struct cursor *c)
{
	for (size_t k = 0; k < c->npinned; k++)
		json_decref(c->pinned[k]);
	free(c->pinned);
	free(c->ent);
	render_free(c->rd);
	query_free(c->q);
	free(c);
}

static bool cursor_expired(const struct cursor *c, int64_t now)
{
	int64_t since = c->api == API_SF ? c->last_used : c->created;
	return now - since > sim.cfg.locator_ttl * 1000;
}

/* Drop expired cursors, and the oldest ones beyond the cap. */
static void cursor_gc(void)
{
	int64_t now = now_ms();
	size_t n = 0;
	for (struct cursor **pp = &cursors; *pp;) {
		struct cursor *c = *pp;
		if (cursor_expired(c, now) || n >= MAX_CURSORS - 1) {
			*pp = c->next;
			cursor_free(c);
			continue;
		}
		n++;
		pp = &c->next;
	}
}

static bool collect(void *cls, const struct rowref *ref, const struct rec *r)
{
	struct cursor *c = cls;
	uint32_t e = ref->gen;

	if (!query_match(c->q, r))
		return true;
	if (ref->j) {
		if (c->npinned == c->pcap) {
			c->pcap = c->pcap ? c->pcap * 2 : 16;
			c->pinned = xrealloc(c->pinned, c->pcap * sizeof(json_t *));
		}
		e = PIN_BIT | (uint32_t)c->npinned;
		c->pinned[c->npinned++] = json_incref(ref->j);
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->ent = xrealloc(c->ent, c->cap * sizeof(uint32_t));
	}
	c->ent[c->n++] = e;
	return query_limit(c->q) < 0 || (long long)c->n < query_limit(c->q);
}

struct cursor *cursor_run(struct query *q, enum api api, const char *sfver)
{
	struct cursor *c = xcalloc(1, sizeof(*c));

	cursor_gc();
	c->api = api;
	c->t = query_table(q);
	c->q = q;
	snprintf(c->sfver, sizeof(c->sfver), "%s", sfver ? sfver : "v59.0");
	if (api == API_SF) {
		memcpy(c->id, "01g", 3);
		rand_hex(c->id + 3, 15);
	} else {
		rand_hex(c->id, 32);
	}
	c->rd = render_new(q, api, c->t, c->sfver);
	c->row_bytes = 512;
	c->created = c->last_used = now_ms();
	/* Without conditions no row needs building: pages build theirs. */
	if (query_limit(q) != 0)
		data_scan_from(c->t, query_ts_floor(q, api == API_SF ? "SystemModstamp" : "UpdatedDate"),
			       query_has_conds(q), collect, c);
	c->next = cursors;
	cursors = c;
	return c;
}

size_t cursor_total(const struct cursor *c)
{
	return c->n;
}

size_t cursor_batch(const struct cursor *c)
{
	return c->batch;
}

void cursor_set_batch(struct cursor *c, size_t batch)
{
	c->batch = batch;
}

const char *cursor_id(const struct cursor *c)
{
	return c->id;
}

struct cursor *cursor_find(const char *id, enum api api)
{
	cursor_gc();
	for (struct cursor *c = cursors; c; c = c->next) {
		if (c->api == api && strcmp(c->id, id) == 0) {
			c->last_used = now_ms();
			return c;
		}
	}
	return NULL;
}

void cursor_free_all(void)
{
	while (cursors) {
		struct cursor *c = cursors;
		cursors = c->next;
		cursor_free(c);
	}
}

/* ===== pages ===== */

void cursor_page(struct cursor *c, size_t off, size_t n, struct buf *out)
{
	struct flat *f = xmalloc(sizeof(*f));
	size_t start = out->len, rows = 0;
	size_t left = off < c->n ? c->n - off : 0;

	/* one allocation for the page: the last page's bytes per row */
	buf_reserve(out, (n < left ? n : left) * c->row_bytes + 2);
	buf_add(out, "[", 1);
	for (size_t k = off; k < c->n && k < off + n; k++) {
		struct rowref ref = {c->ent[k], NULL};
		struct rec r;
		if (c->ent[k] & PIN_BIT) {
			ref.gen = 0;
			ref.j = c->pinned[c->ent[k] & ~PIN_BIT];
		}
		data_load(c->t, &ref, f, &r);
		if (rows++)
			buf_add(out, ",", 1);
		render_row(c->rd, &r, out);
	}
	buf_add(out, "]", 1);
	if (rows)
		c->row_bytes = (out->len - start) / rows + 64;
	free(f);
}
