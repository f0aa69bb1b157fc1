/*
 * sim_render: the records of a query page as JSON text.
 *
 * Rows are written straight into the page buffer, byte for byte as
 * json_dumps(JSON_COMPACT) wrote the jansson object the simulator used to
 * build per row: building, dumping and freeing those trees was its main
 * CPU cost. jansson still writes the rare values that are not strings,
 * integers, booleans or null (reals, arrays and objects of JSON rows).
 *
 * ZOQL: the selected fields that are present and not null, under the
 * record's spelling. The parser drops fields repeated but for case, and a
 * record's keys match fields case-insensitively, so no key can repeat.
 *
 * SOQL: "attributes" first, then each field (null when absent); a field
 * "Rel.Field" goes into an object "Rel" that has its own "attributes", or
 * Rel is null when the record has no such lookup. Where fields collide
 * the jansson tree had quirks, kept here: a key set twice stays at its
 * first place; "Rel.Field" is dropped when the key Rel holds null or a
 * value that is not an object; when Rel holds an object value of the
 * record, Field joins that object's members (jansson changed the stored
 * record; here its members are copied). So a row is built as a small
 * ordered tree (struct ent, struct robj) and then written. A key is looked
 * up before it is added only when the query's fields make a repeat
 * possible (a field spelled like a relationship, or "attributes");
 * otherwise adding it is an append.
 *
 * Everything here runs with sim.lock held.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define URL_MAX 256 /* the attributes url was formatted into char[256] */

struct rfield {
	const char *name; /* borrowed from the query */
	const char *sub;  /* SOQL "Rel.Field": after the dot; else NULL */
	int group;        /* its relationship, when sub */
	bool lookup;      /* the key may already be in its object */
	struct rec_hint hint;
};

struct rgroup {
	char *rel;         /* as the query spells it */
	char type[128];    /* sObject type for its attributes */
	char idfield[140]; /* the lookup's id field */
	bool lookup;       /* a plain field or "attributes" may hold the key */
	struct rec_hint rel_hint, id_hint;
};

/* One key of the row being built (SOQL). */
struct ent {
	const char *key;
	int obj;     /* >= 0: the nested object it holds; otherwise v */
	struct val v;
	int next;    /* next key of the same object; -1 at the end */
};

struct robj {
	int head, tail;
	bool from_json; /* members of a JSON value: any key may repeat */
};

struct render {
	enum api api;
	const char *object; /* the table's sObject name */
	char sfver[16];
	struct rfield *f;
	size_t nf;
	struct rgroup *g;
	size_t ng;
	struct rec_hint id_hint;
	/* the row being built (SOQL) */
	struct ent *ent;
	size_t nent, entcap;
	struct robj *obj;
	size_t nobj, objcap;
	int *grp_ent;        /* per group: its key in the row, -1 if none */
	char (*url)[URL_MAX]; /* [0] the row's, [1 + g] group g's */
};

static bool ends_with_ci(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcasecmp(s + a - b, suf) == 0;
}

/* ===== the plan, once per query ===== */

/* The sObject type and id field of relationship g (Salesforce naming). */
static void group_names(struct rgroup *g)
{
	const char *rel = g->rel;
	size_t n = strlen(rel);

	if (ends_with_ci(rel, "__r")) {
		const char *base = strncasecmp(rel, "zqu__", 5) ? rel : rel + 5;
		snprintf(g->type, sizeof(g->type), "%.*s",
			 (int)(n - 3 - (size_t)(base - rel)), base);
		snprintf(g->idfield, sizeof(g->idfield), "%.*s__c", (int)(n - 3),
			 rel);
		if (strcmp(g->type, "Opportunity") && strcmp(g->type, "Contact"))
			snprintf(g->type, sizeof(g->type), "Account");
	} else {
		snprintf(g->type, sizeof(g->type), "%s",
			 !strcasecmp(rel, "AccountTo") ? "Account"
			 : !strcasecmp(rel, "Owner")   ? "User"
						       : rel);
		snprintf(g->idfield, sizeof(g->idfield), "%sId", rel);
	}
}

static int group_of(struct render *rd, const char *name, size_t len)
{
	for (size_t k = 0; k < rd->ng; k++)
		if (strlen(rd->g[k].rel) == len &&
		    !strncmp(rd->g[k].rel, name, len))
			return (int)k;
	struct rgroup *g = &rd->g[rd->ng];
	g->rel = xstrndup(name, len);
	group_names(g);
	return (int)rd->ng++;
}

/* Which keys may repeat: see the comment at the top. */
static void plan_lookups(struct render *rd)
{
	for (size_t k = 0; k < rd->nf; k++) {
		struct rfield *f = &rd->f[k];
		if (f->sub) {
			f->lookup = !strcasecmp(f->sub, "attributes");
			continue;
		}
		f->lookup = !strcasecmp(f->name, "attributes");
		for (size_t j = 0; j < rd->ng && !f->lookup; j++)
			f->lookup = !strcasecmp(f->name, rd->g[j].rel);
	}
	for (size_t j = 0; j < rd->ng; j++) {
		struct rgroup *g = &rd->g[j];
		g->lookup = !strcasecmp(g->rel, "attributes");
		for (size_t k = 0; k < rd->nf && !g->lookup; k++)
			g->lookup = !rd->f[k].sub &&
				    !strcasecmp(rd->f[k].name, g->rel);
	}
}

struct render *render_new(const struct query *q, enum api api, enum tbl t,
			  const char *sfver)
{
	struct render *rd = xcalloc(1, sizeof(*rd));
	size_t n = query_nfields(q);

	rd->api = api;
	rd->object = tbl_object(t);
	snprintf(rd->sfver, sizeof(rd->sfver), "%s", sfver);
	rd->f = xcalloc(n, sizeof(*rd->f));
	rd->g = xcalloc(n, sizeof(*rd->g));
	rd->nf = n;
	for (size_t k = 0; k < n; k++) {
		struct rfield *f = &rd->f[k];
		const char *dot;
		f->name = query_field(q, k);
		dot = api == API_SF ? strchr(f->name, '.') : NULL;
		if (dot) {
			f->sub = dot + 1;
			f->group = group_of(rd, f->name, (size_t)(dot - f->name));
		}
	}
	plan_lookups(rd);
	rd->grp_ent = xcalloc(rd->ng + 1, sizeof(int));
	rd->url = xcalloc(rd->ng + 1, sizeof(*rd->url));
	return rd;
}

void render_free(struct render *rd)
{
	if (!rd)
		return;
	for (size_t k = 0; k < rd->ng; k++)
		free(rd->g[k].rel);
	free(rd->g);
	free(rd->f);
	free(rd->ent);
	free(rd->obj);
	free(rd->grp_ent);
	free(rd->url);
	free(rd);
}

/* ===== values ===== */

static void val_write(const struct val *v, struct buf *out)
{
	char *s;

	switch (v->t) {
	case V_STR:
		buf_json_str(out, v->s);
		break;
	case V_BOOL:
		buf_adds(out, v->i ? "true" : "false");
		break;
	case V_INT:
		buf_json_int(out, v->i);
		break;
	case V_JSON: /* rare: reals, arrays, objects of JSON rows */
		s = json_dumps(v->j, JSON_COMPACT | JSON_ENCODE_ANY);
		buf_adds(out, s ? s : "null");
		free(s);
		break;
	case V_NULL:
		buf_adds(out, "null");
		break;
	}
}

/* ===== ZOQL ===== */

static void zuora_row(struct render *rd, const struct rec *r,
		      struct buf *out)
{
	bool first = true;

	buf_add(out, "{", 1);
	for (size_t k = 0; k < rd->nf; k++) {
		struct rfield *f = &rd->f[k];
		const char *key;
		struct val v;
		if (!rec_find(r, f->name, &f->hint, &key, &v) || v.t == V_NULL)
			continue; /* ZOQL omits null fields */
		if (!first)
			buf_add(out, ",", 1);
		first = false;
		buf_json_str(out, key);
		buf_add(out, ":", 1);
		val_write(&v, out);
	}
	buf_add(out, "}", 1);
}

/* ===== SOQL: the row tree ===== */

static int obj_new(struct render *rd)
{
	if (rd->nobj == rd->objcap) {
		rd->objcap = rd->objcap ? rd->objcap * 2 : 8;
		rd->obj = xrealloc(rd->obj, rd->objcap * sizeof(*rd->obj));
	}
	rd->obj[rd->nobj].head = rd->obj[rd->nobj].tail = -1;
	rd->obj[rd->nobj].from_json = false;
	return (int)rd->nobj++;
}

static int ent_find(const struct render *rd, int o, const char *key)
{
	for (int e = rd->obj[o].head; e >= 0; e = rd->ent[e].next)
		if (!strcmp(rd->ent[e].key, key))
			return e;
	return -1;
}

/* The key of object o (found when lookup, else appended), holding null. */
static int ent_put(struct render *rd, int o, const char *key, bool lookup)
{
	int e = lookup ? ent_find(rd, o, key) : -1;

	if (e < 0) {
		if (rd->nent == rd->entcap) {
			rd->entcap = rd->entcap ? rd->entcap * 2 : 32;
			rd->ent = xrealloc(rd->ent,
					   rd->entcap * sizeof(*rd->ent));
		}
		e = (int)rd->nent++;
		rd->ent[e].key = key;
		rd->ent[e].next = -1;
		if (rd->obj[o].tail >= 0)
			rd->ent[rd->obj[o].tail].next = e;
		else
			rd->obj[o].head = e;
		rd->obj[o].tail = e;
	}
	rd->ent[e].obj = -1;
	memset(&rd->ent[e].v, 0, sizeof(rd->ent[e].v));
	return e;
}

static void ent_str(struct render *rd, int o, const char *key, const char *s)
{
	int e = ent_put(rd, o, key, false);
	rd->ent[e].v.t = V_STR;
	rd->ent[e].v.s = s;
}

/* "/services/data/VER/sobjects/TYPE/ID" into url slot, cut to 255 bytes
 * as snprintf did. NULL when the cut splits a UTF-8 character: jansson
 * refused that string, and the object got no "attributes" at all. */
static const char *attr_url(struct render *rd, size_t slot, const char *type,
			    const char *id)
{
	const char *part[] = {"/services/data/", rd->sfver, "/sobjects/", type,
			      "/", id ? id : ""};
	char *u = rd->url[slot];
	size_t n = 0;

	for (size_t k = 0; k < sizeof(part) / sizeof(part[0]); k++) {
		size_t len = strlen(part[k]), room = URL_MAX - 1 - n;
		if (len > room) {
			if (((unsigned char)part[k][room] & 0xC0) == 0x80)
				return NULL;
			len = room;
		}
		memcpy(u + n, part[k], len);
		n += len;
	}
	u[n] = '\0';
	return u;
}

static void attributes(struct render *rd, int o, size_t slot,
		       const char *type, const char *id)
{
	const char *url = attr_url(rd, slot, type, id);
	int a;

	if (!url)
		return;
	a = obj_new(rd);
	ent_str(rd, a, "type", type);
	ent_str(rd, a, "url", url);
	rd->ent[ent_put(rd, o, "attributes", false)].obj = a;
}

/* The key for relationship g in the row: null when the record has neither
 * the nested object nor the lookup id, else an object with attributes. */
static int group_open(struct render *rd, const struct rec *r, size_t g)
{
	struct rgroup *grp = &rd->g[g];
	struct val v, id;
	const char *key;
	bool nested = rec_find(r, grp->rel, &grp->rel_hint, &key, &v) &&
		      v.t == V_JSON;
	bool has_id = rec_find(r, grp->idfield, &grp->id_hint, &key, &id) &&
		      id.t == V_STR;
	int e = ent_put(rd, 0, grp->rel, false);

	rd->grp_ent[g] = e;
	if (nested || has_id) {
		int o = obj_new(rd);
		rd->ent[e].obj = o;
		attributes(rd, o, 1 + g, grp->type, has_id ? id.s : NULL);
	}
	return e;
}

/* A JSON object value that a relationship field is set into becomes a
 * tree object with its members (jansson set the key inside it). */
static int obj_of_json(struct render *rd, int e)
{
	json_t *j = rd->ent[e].v.j;
	const char *k;
	json_t *m;
	int o = obj_new(rd);

	rd->obj[o].from_json = true;
	json_object_foreach(j, k, m) {
		int me = ent_put(rd, o, k, false);
		rd->ent[me].v.t = V_JSON;
		rd->ent[me].v.j = m;
	}
	rd->ent[e].obj = o;
	return o;
}

static void sf_rel_field(struct render *rd, const struct rec *r,
			 struct rfield *f)
{
	struct rgroup *grp = &rd->g[f->group];
	const char *key;
	struct val v;
	int e, o;

	rec_find(r, f->name, &f->hint, &key, &v);
	e = grp->lookup ? ent_find(rd, 0, grp->rel) : rd->grp_ent[f->group];
	if (e < 0)
		e = group_open(rd, r, (size_t)f->group);
	o = rd->ent[e].obj;
	if (o < 0 && rd->ent[e].v.t == V_JSON && json_is_object(rd->ent[e].v.j))
		o = obj_of_json(rd, e);
	if (o < 0)
		return; /* null or not an object: the field is dropped */
	e = ent_put(rd, o, f->sub, f->lookup || rd->obj[o].from_json);
	rd->ent[e].v = v;
}

static void emit(const struct render *rd, int o, struct buf *out)
{
	buf_add(out, "{", 1);
	for (int e = rd->obj[o].head; e >= 0; e = rd->ent[e].next) {
		const struct ent *x = &rd->ent[e];
		if (e != rd->obj[o].head)
			buf_add(out, ",", 1);
		buf_json_str(out, x->key);
		buf_add(out, ":", 1);
		if (x->obj >= 0)
			emit(rd, x->obj, out);
		else
			val_write(&x->v, out);
	}
	buf_add(out, "}", 1);
}

static void sf_row(struct render *rd, const struct rec *r, struct buf *out)
{
	const char *key;
	struct val id;

	rd->nent = rd->nobj = 0;
	obj_new(rd); /* 0: the row */
	for (size_t g = 0; g < rd->ng; g++)
		rd->grp_ent[g] = -1;
	rec_find(r, "Id", &rd->id_hint, &key, &id);
	attributes(rd, 0, 0, rd->object, id.t == V_STR ? id.s : NULL);
	for (size_t k = 0; k < rd->nf; k++) {
		struct rfield *f = &rd->f[k];
		struct val v;
		int e;
		if (f->sub) {
			sf_rel_field(rd, r, f);
			continue;
		}
		rec_find(r, f->name, &f->hint, &key, &v);
		e = ent_put(rd, 0, key ? key : f->name, f->lookup);
		rd->ent[e].v = v;
	}
	emit(rd, 0, out);
}

void render_row(struct render *rd, const struct rec *r, struct buf *out)
{
	if (rd->api == API_ZUORA)
		zuora_row(rd, r, out);
	else
		sf_row(rd, r, out);
}
