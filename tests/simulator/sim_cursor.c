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
#include <strings.h>

#define MAX_CURSORS 64
#define PIN_BIT 0x80000000u

static bool ends_with_ci(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcasecmp(s + a - b, suf) == 0;
}

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
	struct cursor *next;
};

static struct cursor *cursors;

static void cursor_free(struct cursor *c)
{
	for (size_t k = 0; k < c->npinned; k++)
		json_decref(c->pinned[k]);
	free(c->pinned);
	free(c->ent);
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
	c->created = c->last_used = now_ms();
	if (query_limit(q) != 0)
		data_scan_from(c->t, query_ts_floor(q, api == API_SF ? "SystemModstamp" : "UpdatedDate"),
			       collect, c);
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

/* ===== rendering ===== */

static json_t *render_zuora(const struct cursor *c, const struct rec *r)
{
	json_t *o = json_object();
	struct val v;
	for (size_t k = 0; k < query_nfields(c->q); k++) {
		const char *f = query_field(c->q, k);
		if (!rec_get(r, f, &v) || v.t == V_NULL)
			continue; /* ZOQL omits null fields */
		json_object_set_new(o, rec_key(r, f), val_json(&v));
	}
	return o;
}

static json_t *sf_attributes(const struct cursor *c, const char *type,
			     const char *id)
{
	char url[256];
	snprintf(url, sizeof(url), "/services/data/%s/sobjects/%s/%s",
		 c->sfver, type, id ? id : "");
	return json_pack("{ssss}", "type", type, "url", url);
}

/* The object for relationship rel of r, created on first use. */
static json_t *sf_relationship(const struct cursor *c, const struct rec *r,
			       json_t *o, const char *rel)
{
	char type[128], idfield[140];
	struct val v;
	json_t *sub = json_object_get(o, rel);
	size_t n = strlen(rel);

	if (sub)
		return sub;
	if (ends_with_ci(rel, "__r")) {
		const char *base = strncasecmp(rel, "zqu__", 5) ? rel : rel + 5;
		snprintf(type, sizeof(type), "%.*s", (int)(n - 3 - (size_t)(base - rel)),
			 base);
		snprintf(idfield, sizeof(idfield), "%.*s__c", (int)(n - 3), rel);
		if (strcmp(type, "Opportunity") && strcmp(type, "Contact"))
			snprintf(type, sizeof(type), "Account");
	} else {
		snprintf(type, sizeof(type), "%s",
			 !strcasecmp(rel, "AccountTo") ? "Account"
			 : !strcasecmp(rel, "Owner")   ? "User"
						       : rel);
		snprintf(idfield, sizeof(idfield), "%sId", rel);
	}
	if (!(rec_get(r, rel, &v) && v.t == V_JSON) &&
	    !(rec_get(r, idfield, &v) && v.t == V_STR)) {
		json_object_set_new(o, rel, json_null()); /* empty lookup */
		return NULL;
	}
	sub = json_object();
	json_object_set_new(sub, "attributes",
			    sf_attributes(c, type, rec_str(r, idfield)));
	json_object_set_new(o, rel, sub);
	return sub;
}

static json_t *render_sf(const struct cursor *c, const struct rec *r)
{
	json_t *o = json_object();
	struct val v;

	json_object_set_new(o, "attributes",
			    sf_attributes(c, tbl_object(c->t), rec_str(r, "Id")));
	for (size_t k = 0; k < query_nfields(c->q); k++) {
		const char *f = query_field(c->q, k);
		const char *dot = strchr(f, '.');
		const char *key = rec_key(r, f);
		rec_get(r, f, &v);
		if (!dot) {
			json_object_set_new(o, key ? key : f, val_json(&v));
			continue;
		}
		char *rel = xstrndup(f, (size_t)(dot - f));
		json_t *sub = sf_relationship(c, r, o, rel);
		if (sub)
			json_object_set_new(sub, dot + 1, val_json(&v));
		free(rel);
	}
	return o;
}

json_t *cursor_page(struct cursor *c, size_t off, size_t n)
{
	json_t *arr = json_array();
	struct flat *f = xmalloc(sizeof(*f));
	for (size_t k = off; k < c->n && k < off + n; k++) {
		struct rowref ref = {c->ent[k], NULL};
		struct rec r;
		if (c->ent[k] & PIN_BIT) {
			ref.gen = 0;
			ref.j = c->pinned[c->ent[k] & ~PIN_BIT];
		}
		data_load(c->t, &ref, f, &r);
		json_array_append_new(arr, c->api == API_ZUORA
						   ? render_zuora(c, &r)
						   : render_sf(c, &r));
	}
	free(f);
	return arr;
}
