/*
 * sim_data: the dataset.
 *
 * Each table is the union of two row sources:
 *   - generated rows (sim_gen.c), addressed by index and rendered on demand,
 *     already in (timestamp, Id) order, so they cost no memory per row;
 *   - JSON rows (from --data or POST /_sim/data), held as json_t objects in
 *     a map by Id. A JSON row with the Id of a generated row replaces it
 *     (the generated row is marked dead in a bitmap).
 * Scans merge the two sources in (timestamp, Id) order.
 *
 * Stored json_t objects are never mutated: a merge builds a new object. So
 * a cursor can keep a reference to a row (json_incref) as a snapshot.
 * Everything here runs with sim.lock held.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct orow {
	int64_t ts;
	const char *id;
	json_t *obj;
};

struct table {
	struct jmap rows; /* Id -> JSON row (owned) */
	uint8_t *dead;    /* bitmap over generated rows */
	size_t ndead;
	struct orow *sorted; /* JSON rows in (ts, Id) order */
	size_t nsorted;
	bool dirty;
	char **keys; /* every key seen in a JSON row */
	size_t nkeys;
};

static struct table tables[T_COUNT];

static const struct {
	const char *section;
	const char *name;
	const char *object;
	const char *ts_field;
} tbl_info[T_COUNT] = {
	[T_ACCOUNT] = {"zuora", "accounts", "Account", "UpdatedDate"},
	[T_CONTACT] = {"zuora", "contacts", "Contact", "UpdatedDate"},
	[T_SUBSCRIPTION] = {"zuora", "subscriptions", "Subscription",
			    "UpdatedDate"},
	[T_QUOTE] = {"salesforce", "quotes", "zqu__Quote__c",
		     "SystemModstamp"},
	[T_OPP_PARTNER] = {"salesforce", "opportunity_partners",
			   "OpportunityPartner", "SystemModstamp"},
};

const char *tbl_object(enum tbl t)
{
	return tbl_info[t].object;
}

const char *tbl_ts_field(enum tbl t)
{
	return tbl_info[t].ts_field;
}

/* ===== flat records ===== */

static const char *flat_copy(struct flat *f, const char *s, size_t n)
{
	static char empty[1];
	if (f->used >= sizeof(f->buf))
		return empty; /* full: never overflow */
	if (f->used + n + 1 > sizeof(f->buf))
		n = sizeof(f->buf) - f->used - 1; /* truncate */
	char *p = f->buf + f->used;
	memcpy(p, s, n);
	p[n] = '\0';
	f->used += n + 1;
	return p;
}

static struct val *flat_slot(struct flat *f, const char *key)
{
	if (f->n >= FLAT_MAX)
		return NULL;
	f->key[f->n] = key;
	struct val *v = &f->v[f->n++];
	memset(v, 0, sizeof(*v));
	return v;
}

void flat_str(struct flat *f, const char *key, const char *s)
{
	struct val *v = flat_slot(f, key);
	if (!v)
		return;
	v->t = V_STR;
	v->s = flat_copy(f, s, strlen(s));
}

void flat_bool(struct flat *f, const char *key, bool b)
{
	struct val *v = flat_slot(f, key);
	if (v) {
		v->t = V_BOOL;
		v->i = b;
	}
}

void flat_int(struct flat *f, const char *key, long long i)
{
	struct val *v = flat_slot(f, key);
	if (v) {
		v->t = V_INT;
		v->i = i;
	}
}

/* ===== records ===== */

static json_t *json_get_ci(json_t *o, const char *k, const char **real)
{
	const char *key;
	json_t *v = json_object_get(o, k);

	if (v) {
		if (real)
			*real = k;
		return v;
	}
	json_object_foreach(o, key, v) {
		if (strcasecmp(key, k) == 0) {
			if (real)
				*real = key;
			return v;
		}
	}
	return NULL;
}

static void json_to_val(json_t *v, struct val *out)
{
	memset(out, 0, sizeof(*out));
	if (json_is_string(v)) {
		out->t = V_STR;
		out->s = json_string_value(v);
	} else if (json_is_boolean(v)) {
		out->t = V_BOOL;
		out->i = json_is_true(v);
	} else if (json_is_integer(v)) {
		out->t = V_INT;
		out->i = json_integer_value(v);
	} else if (v && !json_is_null(v)) {
		out->t = V_JSON;
		out->j = v;
	}
}

static json_t *rec_json_lookup(const struct rec *r, const char *field,
			       const char **real)
{
	json_t *v = json_get_ci(r->j, field, real);
	const char *dot = strchr(field, '.');
	char rel[128];

	if (v || !dot || (size_t)(dot - field) >= sizeof(rel))
		return v;
	memcpy(rel, field, (size_t)(dot - field));
	rel[dot - field] = '\0';
	json_t *o = json_get_ci(r->j, rel, NULL);
	if (!json_is_object(o))
		return NULL;
	if (real)
		*real = field;
	return json_get_ci(o, dot + 1, NULL);
}

/* Is the flat key k the field f? A first-letter check before strcasecmp:
 * most keys differ there. */
static bool flat_key_is(const char *k, const char *f)
{
	return (k[0] | 0x20) == (f[0] | 0x20) && strcasecmp(k, f) == 0;
}

bool rec_get(const struct rec *r, const char *field, struct val *out)
{
	memset(out, 0, sizeof(*out));
	if (r->j) {
		json_t *v = rec_json_lookup(r, field, NULL);
		if (!v)
			return false;
		json_to_val(v, out);
		return true;
	}
	for (int k = 0; r->f && k < r->f->n; k++) {
		if (flat_key_is(r->f->key[k], field)) {
			*out = r->f->v[k];
			return true;
		}
	}
	return false;
}

bool rec_find(const struct rec *r, const char *field, struct rec_hint *hint,
	      const char **key, struct val *out)
{
	const struct flat *f = r->f;

	memset(out, 0, sizeof(*out));
	*key = NULL;
	if (r->j) {
		const char *real = NULL;
		json_t *v = rec_json_lookup(r, field, &real);
		if (!v)
			return false;
		json_to_val(v, out);
		*key = real;
		return true;
	}
	if (!f)
		return false;
	/* Generated records of a table spell each key with the same string
	 * literal and never hold two keys equal but for case, so the slot
	 * where the key was last found is checked by pointer first. */
	if (hint && hint->key && hint->slot < f->n &&
	    f->key[hint->slot] == hint->key) {
		*key = hint->key;
		*out = f->v[hint->slot];
		return true;
	}
	for (int k = 0; k < f->n; k++) {
		if (!flat_key_is(f->key[k], field))
			continue;
		if (hint) {
			hint->slot = k;
			hint->key = f->key[k];
		}
		*key = f->key[k];
		*out = f->v[k];
		return true;
	}
	return false;
}

const char *rec_str(const struct rec *r, const char *field)
{
	struct val v;
	if (!rec_get(r, field, &v) || v.t != V_STR)
		return NULL;
	return v.s;
}

json_t *val_json(const struct val *v)
{
	json_t *j = NULL;
	switch (v->t) {
	case V_STR:
		j = json_string(v->s);
		break;
	case V_BOOL:
		j = json_boolean(v->i);
		break;
	case V_INT:
		j = json_integer(v->i);
		break;
	case V_JSON:
		j = json_incref(v->j);
		break;
	case V_NULL:
		break;
	}
	return j ? j : json_null();
}

json_t *rec_to_json(const struct rec *r)
{
	if (r->j)
		return json_deep_copy(r->j);
	json_t *o = json_object();
	for (int k = 0; k < r->f->n; k++) {
		const char *key = r->f->key[k];
		const char *dot = strchr(key, '.');
		if (!dot) {
			json_object_set_new(o, key, val_json(&r->f->v[k]));
			continue;
		}
		/* "Rel.Field" becomes {"Rel": {"Field": ...}} */
		char *rel = xstrndup(key, (size_t)(dot - key));
		json_t *sub = json_object_get(o, rel);
		if (!json_is_object(sub)) {
			sub = json_object();
			json_object_set_new(o, rel, sub);
		}
		json_object_set_new(sub, dot + 1, val_json(&r->f->v[k]));
		free(rel);
	}
	return o;
}

/* ===== tables ===== */

static bool is_dead(const struct table *tb, uint32_t i)
{
	return tb->dead && (tb->dead[i / 8] >> (i % 8)) & 1;
}

static void mark_dead(struct table *tb, enum tbl t, uint32_t i)
{
	if (!tb->dead)
		tb->dead = xcalloc((size_t)gen_count(t) / 8 + 1, 1);
	if (!is_dead(tb, i)) {
		tb->dead[i / 8] = (uint8_t)(tb->dead[i / 8] | (1u << (i % 8)));
		tb->ndead++;
	}
}

static int64_t row_ts(enum tbl t, json_t *obj)
{
	int64_t ts;
	json_t *v = json_get_ci(obj, tbl_info[t].ts_field, NULL);
	if (!json_is_string(v) || !ts_parse(json_string_value(v), &ts))
		return INT64_MIN; /* rows without a timestamp sort first */
	return ts;
}

static int orow_cmp(const void *a, const void *b)
{
	const struct orow *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return strcmp(x->id, y->id);
}

static void table_sort(enum tbl t)
{
	struct table *tb = &tables[t];
	if (!tb->dirty)
		return;
	free(tb->sorted);
	tb->sorted = xcalloc(tb->rows.len, sizeof(*tb->sorted));
	tb->nsorted = 0;
	for (size_t k = 0; k < tb->rows.cap; k++) {
		struct jmap_ent *e = &tb->rows.e[k];
		if (!e->key)
			continue;
		struct orow *o = &tb->sorted[tb->nsorted++];
		o->obj = e->val;
		o->id = e->key;
		o->ts = row_ts(t, e->val);
	}
	qsort(tb->sorted, tb->nsorted, sizeof(*tb->sorted), orow_cmp);
	tb->dirty = false;
}

/* Does generated row i sort before JSON row o? */
static bool gen_first(enum tbl t, uint32_t i, const struct orow *o)
{
	int64_t ts = gen_ts(t, i);
	char id[40];
	if (ts != o->ts)
		return ts < o->ts;
	gen_id(t, i, id);
	return strcmp(id, o->id) < 0;
}

void data_scan(enum tbl t, row_fn fn, void *cls)
{
	data_scan_from(t, INT64_MIN, true, fn, cls);
}

void data_scan_from(enum tbl t, int64_t floor, bool load, row_fn fn,
		    void *cls)
{
	struct table *tb = &tables[t];
	uint32_t g = gen_count(t), i = 0, hi = g;
	size_t j = 0;

	/* gen_ts grows with i: binary search the first row at or past floor */
	while (i < hi) {
		uint32_t mid = i + (hi - i) / 2;
		if (gen_ts(t, mid) < floor)
			i = mid + 1;
		else
			hi = mid;
	}
	struct flat *f = xmalloc(sizeof(*f));

	table_sort(t);
	for (;;) {
		while (i < g && is_dead(tb, i))
			i++;
		bool have_g = i < g, have_j = j < tb->nsorted;
		struct rowref ref = {0, NULL};
		struct rec r = {NULL, NULL};
		if (!have_g && !have_j)
			break;
		if (have_g && (!have_j || gen_first(t, i, &tb->sorted[j]))) {
			if (load) {
				gen_record(t, i, f);
				r.f = f;
			}
			ref.gen = i++;
		} else {
			ref.j = r.j = tb->sorted[j++].obj;
		}
		if (!fn(cls, &ref, &r))
			break;
	}
	free(f);
}

void data_load(enum tbl t, const struct rowref *ref, struct flat *scratch,
	       struct rec *out)
{
	out->j = ref->j;
	out->f = NULL;
	if (!ref->j) {
		gen_record(t, ref->gen, scratch);
		out->f = scratch;
	}
}

bool data_find_id(enum tbl t, const char *id, struct flat *scratch,
		  struct rec *out)
{
	struct table *tb = &tables[t];
	uint32_t i;

	out->j = jmap_get(&tb->rows, id);
	out->f = NULL;
	if (out->j)
		return true;
	if (!gen_find_id(t, id, &i) || is_dead(tb, i))
		return false;
	gen_record(t, i, scratch);
	out->f = scratch;
	return true;
}

static bool json_is_latest(json_t *o)
{
	return json_is_true(json_get_ci(o, "IsLatestVersion", NULL));
}

static json_int_t json_version(json_t *o)
{
	return json_integer_value(json_get_ci(o, "Version", NULL));
}

bool data_find_sub_latest(const char *key, struct flat *scratch,
			  struct rec *out)
{
	struct table *tb = &tables[T_SUBSCRIPTION];
	const char *number = key;
	char *owned = NULL;
	json_t *best = NULL;
	uint32_t row;
	bool ok = false;

	if (data_find_id(T_SUBSCRIPTION, key, scratch, out)) {
		const char *name = rec_str(out, "Name");
		if (!name)
			return true;
		number = owned = xstrdup(name);
	}
	for (size_t k = 0; k < tb->rows.cap; k++) {
		json_t *o = tb->rows.e[k].val;
		const char *name = o ? json_string_value(
					       json_get_ci(o, "Name", NULL))
				     : NULL;
		if (!name || strcmp(name, number) != 0)
			continue;
		if (!best || (json_is_latest(o) && !json_is_latest(best)) ||
		    (json_is_latest(o) == json_is_latest(best) &&
		     json_version(o) > json_version(best)))
			best = o;
	}
	out->f = NULL;
	out->j = best;
	if (best && json_is_latest(best)) {
		ok = true;
	} else if (gen_find_sub_number(number, &row) && !is_dead(tb, row)) {
		gen_record(T_SUBSCRIPTION, row, scratch);
		out->j = NULL;
		out->f = scratch;
		ok = true;
	} else {
		ok = best != NULL;
	}
	free(owned);
	return ok;
}

bool data_find_account(const char *key, struct flat *scratch,
		       struct rec *out)
{
	struct table *tb = &tables[T_ACCOUNT];
	uint32_t row;

	if (data_find_id(T_ACCOUNT, key, scratch, out))
		return true;
	for (size_t k = 0; k < tb->rows.cap; k++) {
		json_t *o = tb->rows.e[k].val;
		const char *num = o ? json_string_value(json_get_ci(
					      o, "AccountNumber", NULL))
				    : NULL;
		if (num && strcmp(num, key) == 0) {
			out->j = o;
			out->f = NULL;
			return true;
		}
	}
	if (!gen_find_account_number(key, &row) || is_dead(tb, row))
		return false;
	gen_record(T_ACCOUNT, row, scratch);
	out->j = NULL;
	out->f = scratch;
	return true;
}

bool data_has_key(enum tbl t, const char *field)
{
	struct table *tb = &tables[t];
	for (size_t k = 0; k < tb->nkeys; k++)
		if (strcasecmp(tb->keys[k], field) == 0)
			return true;
	if (gen_count(t) > 0) {
		struct flat *f = xmalloc(sizeof(*f));
		struct rec r = {NULL, f};
		struct val v;
		gen_record(t, 0, f);
		bool hit = rec_get(&r, field, &v);
		free(f);
		return hit;
	}
	return false;
}

size_t data_count(enum tbl t)
{
	return gen_count(t) - tables[t].ndead + tables[t].rows.len;
}

static void note_keys(struct table *tb, json_t *o)
{
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v) {
		bool seen = false;
		for (size_t k = 0; k < tb->nkeys && !seen; k++)
			seen = strcmp(tb->keys[k], key) == 0;
		if (seen || tb->nkeys >= 512)
			continue;
		tb->keys = xrealloc(tb->keys, (tb->nkeys + 1) * sizeof(char *));
		tb->keys[tb->nkeys++] = xstrdup(key);
		/* nested relationship objects: remember "Rel.Field" too */
		if (json_is_object(v)) {
			const char *sk;
			json_t *sv;
			json_object_foreach(v, sk, sv) {
				char dotted[256];
				snprintf(dotted, sizeof(dotted), "%s.%s", key, sk);
				if (tb->nkeys >= 512)
					break;
				tb->keys = xrealloc(tb->keys, (tb->nkeys + 1) *
								      sizeof(char *));
				tb->keys[tb->nkeys++] = xstrdup(dotted);
			}
		}
	}
}

/* ===== loading and merging ===== */

static bool validate_rows(enum tbl t, json_t *arr, char *err, size_t errlen)
{
	size_t k;
	json_t *o;
	int64_t ts;

	if (!json_is_array(arr)) {
		snprintf(err, errlen, "%s.%s must be an array",
			 tbl_info[t].section, tbl_info[t].name);
		return false;
	}
	json_array_foreach(arr, k, o) {
		json_t *id = json_object_get(o, "Id");
		json_t *tsv = json_object_get(o, tbl_info[t].ts_field);
		if (!json_is_object(o) || !json_is_string(id) ||
		    !json_string_length(id)) {
			snprintf(err, errlen, "%s.%s[%zu]: an object with a "
				 "string \"Id\" is required",
				 tbl_info[t].section, tbl_info[t].name, k);
			return false;
		}
		if (tsv && !json_is_null(tsv) &&
		    !(json_is_string(tsv) &&
		      ts_parse(json_string_value(tsv), &ts))) {
			snprintf(err, errlen, "%s.%s[%zu] (%s): bad %s",
				 tbl_info[t].section, tbl_info[t].name, k,
				 json_string_value(id), tbl_info[t].ts_field);
			return false;
		}
	}
	return true;
}

static bool validate_doc(json_t *doc, char *err, size_t errlen)
{
	static const char *const sections[] = {"zuora", "salesforce"};
	if (!json_is_object(doc)) {
		snprintf(err, errlen, "dataset must be a JSON object");
		return false;
	}
	for (size_t s = 0; s < 2; s++) {
		json_t *sec = json_object_get(doc, sections[s]);
		const char *key;
		json_t *arr;
		if (!sec)
			continue;
		if (!json_is_object(sec)) {
			snprintf(err, errlen, "%s must be an object",
				 sections[s]);
			return false;
		}
		json_object_foreach(sec, key, arr) {
			int found = -1;
			for (int t = 0; t < T_COUNT; t++)
				if (!strcmp(tbl_info[t].section, sections[s]) &&
				    !strcmp(tbl_info[t].name, key))
					found = t;
			if (found < 0) {
				snprintf(err, errlen, "unknown table %s.%s",
					 sections[s], key);
				return false;
			}
			if (!validate_rows((enum tbl)found, arr, err, errlen))
				return false;
		}
	}
	return true;
}

static void table_clear(struct table *tb)
{
	jmap_clear(&tb->rows);
	free(tb->dead);
	free(tb->sorted);
	for (size_t k = 0; k < tb->nkeys; k++)
		free(tb->keys[k]);
	free(tb->keys);
	memset(tb, 0, sizeof(*tb));
}

static void upsert(enum tbl t, json_t *o)
{
	struct table *tb = &tables[t];
	const char *id = json_string_value(json_object_get(o, "Id"));
	json_t *merged = NULL;
	struct flat *f = xmalloc(sizeof(*f));
	struct rec old;
	uint32_t i;

	if (data_find_id(t, id, f, &old)) {
		merged = rec_to_json(&old);
		json_object_update(merged, o);
		if (!old.j && gen_find_id(t, id, &i))
			mark_dead(tb, t, i);
	} else {
		merged = json_deep_copy(o);
	}
	note_keys(tb, merged);
	jmap_put(&tb->rows, id, merged);
	tb->dirty = true;
	free(f);
}

bool data_merge(json_t *doc, bool replace, char *err, size_t errlen)
{
	if (!validate_doc(doc, err, errlen))
		return false;
	if (replace) {
		data_free();
		gen_free();
	}
	for (int t = 0; t < T_COUNT; t++) {
		json_t *sec = json_object_get(doc, tbl_info[t].section);
		json_t *arr = json_object_get(sec, tbl_info[t].name);
		size_t k;
		json_t *o;
		json_array_foreach(arr, k, o)
			upsert((enum tbl)t, o);
	}
	return true;
}

void data_free(void)
{
	for (int t = 0; t < T_COUNT; t++)
		table_clear(&tables[t]);
}

/* ===== dump ===== */

struct dump_ctx {
	FILE *fp;
	size_t n;
};

static bool dump_row(void *cls, const struct rowref *ref, const struct rec *r)
{
	struct dump_ctx *d = cls;
	json_t *o = rec_to_json(r);
	(void)ref;
	fputs(d->n++ ? ",\n" : "\n", d->fp);
	json_dumpf(o, d->fp, JSON_COMPACT);
	json_decref(o);
	return true;
}

bool data_dump(FILE *fp)
{
	const char *section = NULL;
	fputs("{", fp);
	for (int t = 0; t < T_COUNT; t++) {
		struct dump_ctx d = {fp, 0};
		if (!section || strcmp(section, tbl_info[t].section) != 0) {
			fprintf(fp, "%s\"%s\":{", section ? "}," : "",
				tbl_info[t].section);
			section = tbl_info[t].section;
		} else {
			fputs(",", fp);
		}
		fprintf(fp, "\"%s\":[", tbl_info[t].name);
		data_scan((enum tbl)t, dump_row, &d);
		fputs("]", fp);
	}
	fputs("}}\n", fp);
	return !ferror(fp);
}
