/*
 * The /v1 API: channel decisions, batch, request evaluation, customer
 * search, partners and workflows. Each handler: parse -> validate -> call
 * -> render; errors are problem+json from one place (respond_problem).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "catalog.h"
#include "codec.h"
#include "dcache.h"
#include "decide.h"
#include "evaluate.h"
#include "handlers.h"
#include "log.h"
#include "note.h"
#include "util.h"

#define BATCH_MAX 100

/* ===== Request helpers ===== */

/* application/json, with any parameters (charset=utf-8), any case. */
static bool is_json_media_type(const char *ct)
{
	size_t n;

	if (!ct)
		return false;
	while (*ct == ' ')
		ct++;
	n = strcspn(ct, "; \t");
	return n == 16 && strncasecmp(ct, "application/json", 16) == 0;
}

/* Parse the request body as a JSON object; on failure a problem is sent. */
static json_t *json_body(const struct http_request *req, struct http_response *res)
{
	json_error_t je;
	json_t *v;
	char detail[320];

	if (!is_json_media_type(http_header(req, "Content-Type"))) {
		respond_problem(res, req, ERR_MEDIA_TYPE, "send the body as application/json");
		return NULL;
	}
	if (!req->body || !req->body_len) {
		respond_problem(res, req, ERR_INVALID, "the request body is empty; send a JSON object");
		return NULL;
	}
	v = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
	if (!v) {
		snprintf(detail, sizeof(detail), "invalid JSON at line %d, column %d: %s", je.line,
			 je.column, je.text);
		respond_problem(res, req, ERR_INVALID, detail);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		respond_problem(res, req, ERR_INVALID, "the request body must be a JSON object");
		return NULL;
	}
	return v;
}

/* The first key of obj not in allowed (NULL-terminated), or NULL. */
static const char *unknown_key(json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		const char *const *a;
		bool ok = false;

		(void)v;
		for (a = allowed; *a && !ok; a++)
			ok = strcmp(*a, key) == 0;
		if (!ok)
			return key;
	}
	return NULL;
}

static void problem_bad_key(struct http_response *res, const struct http_request *req,
			    const char *key)
{
	char detail[200];

	snprintf(detail, sizeof(detail),
		 "invalid subscription key '%.60s': expected a subscription number such as "
		 "A-S00012345 or a 32-character Zuora subscription id", key);
	respond_problem(res, req, ERR_INVALID, detail);
}

static void problem_decide(struct http_response *res, const struct http_request *req,
			   enum err e, const char *key)
{
	char detail[200];

	if (e == ERR_NOT_FOUND)
		snprintf(detail, sizeof(detail), "subscription %s is not known to resellerd", key);
	else
		snprintf(detail, sizeof(detail), "cannot read subscription %s now; retry later", key);
	respond_problem(res, req, e, detail);
}

/* Does an If-None-Match header list this ETag (or "*")? */
static bool etag_matches(const char *inm, const char *etag)
{
	size_t n = strlen(etag);
	const char *p;

	if (!inm)
		return false;
	for (p = inm; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

/* Does the client prefer text/markdown over JSON? */
static bool wants_markdown(const struct http_request *req)
{
	const char *a = http_header(req, "Accept");

	return a && strstr(a, "text/markdown") &&
	       (!strstr(a, "application/json") || strstr(a, "text/markdown") < strstr(a, "application/json"));
}

/* ===== GET /v1/subscriptions/{key}/channel ===== */

/* The ids a decision was built from, as change-feed keys ("kind:id"). */
static size_t decision_deps(const struct decided *x, char deps[DCACHE_MAX_DEPS][DCACHE_KEY_MAX])
{
	const struct channel_input *in = &x->rec->in;
	const char *ids[DCACHE_MAX_DEPS][2] = {
		{"s", in->sub.number},
		{"a", x->rec->meta.subscriber_account_id},
		{"a", x->rec->meta.invoice_owner_account_id},
		{"c", in->subscriber.sold_to.id},
		{"c", in->subscriber.bill_to.id},
		{"c", in->invoice_owner.sold_to.id},
		{"c", in->invoice_owner.bill_to.id},
		{"o", in->quote.opportunity_id},
	};
	size_t i, n = 0;

	for (i = 0; i < DCACHE_MAX_DEPS; i++)
		if (!str_empty(ids[i][1]))
			snprintf(deps[n++], DCACHE_KEY_MAX, "%s:%s", ids[i][0], ids[i][1]);
	return n;
}

/* Answer from the body and ETag (304 when If-None-Match matches). */
/* The headers of a decision; true when If-None-Match matches (a 304). */
static bool decision_headers(const struct http_request *req, struct http_response *res,
			     const char *etag)
{
	http_set_header(res, "ETag", etag);
	http_set_header(res, "Cache-Control", "private, no-cache");
	http_set_header(res, "Vary", "Accept");
	if (!etag_matches(http_header(req, "If-None-Match"), etag))
		return false;
	res->status = 304;
	return true;
}

/* Send a freshly rendered decision (body owned, malloc'd). */
static void send_decision(const struct http_request *req, struct http_response *res, char *body,
			  size_t len, const char *etag)
{
	if (decision_headers(req, res, etag))
		free(body);
	else
		http_set_body(res, 200, CT_JSON, body, len);
}

/* Send a cached decision without copying it; the hit's reference goes
 * with the response. */
static void send_hit(const struct http_request *req, struct http_response *res,
		     const struct dcache_hit *hit)
{
	if (decision_headers(req, res, hit->etag))
		dcache_release(hit->ref);
	else
		http_set_body_shared(res, 200, CT_JSON, hit->body, hit->len, dcache_release,
				     hit->ref);
}

HANDLER(h_channel)
{
	char key[SUBSCRIPTION_KEY_MAX], etag[40];
	char deps[DCACHE_MAX_DEPS][DCACHE_KEY_MAX];
	const char *dep_ptrs[DCACHE_MAX_DEPS];
	struct decided x;
	struct dcache_hit hit;
	uint64_t begin;
	char *body;
	size_t len, n, i;
	enum err e;

	if (!subscription_key_parse(m->param[0], m->param_len[0], key, sizeof(key))) {
		char raw[64];

		snprintf(raw, sizeof(raw), "%.*s", (int)(m->param_len[0] < 60 ? m->param_len[0] : 60),
			 m->param[0]);
		problem_bad_key(res, req, raw);
		return;
	}
	/* The cache is asked once: on the pool thread, or here when there
	 * is no pool; a request deferred to a worker already missed it. */
	if (!req->deferred && !wants_markdown(req) &&
	    dcache_get(app->dcache, key, &hit)) {
		audit_record(app->audit, res->token_name, "channel", key, req->request_id);
		send_hit(req, res, &hit);
		return;
	}
	if (!req->may_block) {
		res->defer = true;
		return;
	}
	audit_record(app->audit, res->token_name, "channel", key, req->request_id);
	begin = dcache_begin(app->dcache);
	e = decide(app, key, &x);
	if (e) {
		problem_decide(res, req, e, key);
		decided_release(app, &x);
		return;
	}
	if (wants_markdown(req)) {
		body = note_decision(app, &x, &len);
		http_set_body(res, 200, "text/markdown; charset=utf-8", body, len);
		http_set_header(res, "Cache-Control", "private, no-cache");
		http_set_header(res, "Vary", "Accept");
		decided_release(app, &x);
		return;
	}
	body = decided_render(app, &x, &len, etag);
	n = decision_deps(&x, deps);
	for (i = 0; i < n; i++)
		dep_ptrs[i] = deps[i];
	dcache_put(app->dcache, key, body, len, etag, dep_ptrs, n, begin);
	decided_release(app, &x);
	send_decision(req, res, body, len, etag);
}

/* ===== POST /v1/channel/batch ===== */

static json_t *batch_one(struct app *app, const struct http_request *req, const char *res_token,
			 json_t *item)
{
	char key[SUBSCRIPTION_KEY_MAX];
	const char *raw = json_string_value(item);
	struct decided x;
	json_t *out;
	enum err e;

	if (!raw || !subscription_key_parse(raw, strlen(raw), key, sizeof(key))) {
		char detail[160];

		snprintf(detail, sizeof(detail), "invalid subscription key: expected a subscription "
			 "number such as A-S00012345 or a 32-character Zuora subscription id");
		return json_pack("{s:o, s:i, s:o}", "subscription", raw ? json_string(raw) : json_null(),
				 "status", 400, "problem", problem_object(req, ERR_INVALID, detail));
	}
	audit_record(app->audit, res_token, "batch", key, req->request_id);
	e = decide(app, key, &x);
	if (e) {
		char detail[160];

		snprintf(detail, sizeof(detail), e == ERR_NOT_FOUND
			 ? "subscription %s is not known to resellerd"
			 : "cannot read subscription %s now; retry later", key);
		out = json_pack("{s:s, s:i, s:o}", "subscription", raw, "status",
				(int)err_http_status(e), "problem", problem_object(req, e, detail));
	} else {
		out = json_pack("{s:s, s:i, s:o}", "subscription", raw, "status", 200, "decision",
				codec_decision(x.rec, &x.d, x.cat, app->cfg.handbook_base_url));
	}
	decided_release(app, &x);
	return out;
}

HANDLER(h_batch)
{
	static const char *const allowed[] = {"subscriptions", NULL};
	json_t *body = json_body(req, res), *list, *results, *item;
	const char *bad;
	char detail[160];
	size_t i;

	(void)m;
	if (!body)
		return;
	bad = unknown_key(body, allowed);
	list = json_object_get(body, "subscriptions");
	if (bad) {
		snprintf(detail, sizeof(detail), "unknown field '%.60s': the body has only 'subscriptions'", bad);
		respond_problem(res, req, ERR_INVALID, detail);
	} else if (!json_is_array(list) || json_array_size(list) == 0 ||
		   json_array_size(list) > BATCH_MAX) {
		snprintf(detail, sizeof(detail), "'subscriptions' must be an array of 1 to %d keys", BATCH_MAX);
		respond_problem(res, req, ERR_INVALID, detail);
	} else {
		results = json_array();
		json_array_foreach(list, i, item)
			json_array_append_new(results, batch_one(app, req, res->token_name, item));
		respond_json(res, 200, json_pack("{s:o}", "results", results));
	}
	json_decref(body);
}

/* ===== POST /v1/requests/evaluate ===== */

static const char *const fact_bools[] = {
	"requester_is_staff", "requester_is_sold_to", "license_activated", "invoice_attached",
	"reseller_vouches", "partner_good_standing", "always_web_direct", NULL};
static const char *const fact_strings[] = {"requester_email", "purchase_date", "partner_track", NULL};

static bool valid_date(const char *s)
{
	int y, mo, d;
	char tail;

	return strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) == 3 &&
	       s[4] == '-' && s[7] == '-' && mo >= 1 && mo <= 12 && d >= 1 && d <= 31;
}

/*
 * Fields of the evaluate body that are not facts we know. DESIGN.md lists
 * the facts as an open list, so unknown ones are ignored and named in one
 * warning. Names are shown as [A-Za-z0-9_.-] (other bytes as '?', so the
 * text stays ASCII and safe in the Markdown note), cut at 40 characters.
 */
struct ignored_fields {
	char text[CLASSIFY_TEXT_MAX - 64]; /* room for the warning's own words */
	size_t len, shown, count;
};

static void ignored_add(struct ignored_fields *ig, const char *prefix, const char *key)
{
	char name[64];
	size_t n = (size_t)snprintf(name, sizeof(name), "%s%.40s", prefix, key), i;

	ig->count++;
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
			name[i] = '?';
	if (ig->len + n + 2 >= sizeof(ig->text))
		return;
	ig->len += (size_t)snprintf(ig->text + ig->len, sizeof(ig->text) - ig->len, "%s%s",
				    ig->shown ? ", " : "", name);
	ig->shown++;
}

/* The warning naming the ignored fields, into out[CLASSIFY_TEXT_MAX]. */
static void ignored_warning(const struct ignored_fields *ig, char *out)
{
	if (ig->count > ig->shown)
		snprintf(out, CLASSIFY_TEXT_MAX, "Unknown fields ignored: %s (and %zu more).",
			 ig->text, ig->count - ig->shown);
	else
		snprintf(out, CLASSIFY_TEXT_MAX, "Unknown fields ignored: %s.", ig->text);
}

/* Read facts from obj (the body or its "facts" object). false + detail
 * on a wrong type of a known fact; unknown fields go to *ig. Strings
 * borrow from obj. */
static bool read_facts(json_t *obj, bool top, struct request_facts *f, struct ignored_fields *ig,
		       char *detail, size_t n)
{
	enum tristate *bools[] = {&f->requester_is_staff, &f->requester_is_sold_to,
				  &f->license_activated, &f->invoice_attached, &f->reseller_vouches,
				  &f->partner_good_standing, &f->always_web_direct};
	const char **strs[] = {&f->requester_email, &f->purchase_date, &f->partner_track};
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(obj, key, v) {
		bool known = false;

		if (top && (!strcmp(key, "subscription") || !strcmp(key, "type") || !strcmp(key, "facts")))
			continue;
		for (i = 0; fact_bools[i]; i++) {
			if (strcmp(key, fact_bools[i]) != 0)
				continue;
			known = true;
			if (!json_is_boolean(v) && !json_is_null(v)) {
				snprintf(detail, n, "'%s' must be true, false or null", key);
				return false;
			}
			*bools[i] = json_is_null(v) ? TRI_UNKNOWN : json_is_true(v) ? TRI_TRUE : TRI_FALSE;
		}
		for (i = 0; fact_strings[i]; i++) {
			if (strcmp(key, fact_strings[i]) != 0)
				continue;
			known = true;
			if (!json_is_string(v) && !json_is_null(v)) {
				snprintf(detail, n, "'%s' must be a string", key);
				return false;
			}
			*strs[i] = json_string_value(v);
		}
		if (!known)
			ignored_add(ig, top ? "" : "facts.", key);
	}
	if (f->purchase_date && !valid_date(f->purchase_date)) {
		snprintf(detail, n, "'purchase_date' must be a date as YYYY-MM-DD");
		return false;
	}
	if (f->requester_email && (strlen(f->requester_email) > 254 || !strchr(f->requester_email, '@'))) {
		snprintf(detail, n, "'requester_email' must be an email address");
		return false;
	}
	return true;
}

HANDLER(h_evaluate)
{
	json_t *body = json_body(req, res), *facts;
	const char *sub, *type;
	char key[SUBSCRIPTION_KEY_MAX], detail[320];
	struct request_facts f;
	struct ignored_fields ig;
	struct evaluation ev;
	struct policy pol;
	struct decided x;
	int t;
	enum err e;

	(void)m;
	if (!body)
		return;
	memset(&f, 0, sizeof(f));
	memset(&ig, 0, sizeof(ig));
	sub = json_string_value(json_object_get(body, "subscription"));
	type = json_string_value(json_object_get(body, "type"));
	facts = json_object_get(body, "facts");
	t = type ? request_type_parse(type) : -1;
	if (!sub || !type) {
		respond_problem(res, req, ERR_INVALID, "'subscription' and 'type' are required strings");
	} else if (t < 0) {
		snprintf(detail, sizeof(detail), "unknown request type '%.40s': one of identify, "
			 "contact_update, ownership_change, direct_renewal, new_purchase_other_account, "
			 "legacy_license, subscription_change, portal_access, nfr_license, question", type);
		respond_problem(res, req, ERR_INVALID, detail);
	} else if (!subscription_key_parse(sub, strlen(sub), key, sizeof(key))) {
		problem_bad_key(res, req, sub);
	} else if (facts && !json_is_object(facts)) {
		respond_problem(res, req, ERR_INVALID, "'facts' must be an object");
	} else if (!read_facts(body, true, &f, &ig, detail, sizeof(detail)) ||
		   (facts && !read_facts(facts, false, &f, &ig, detail, sizeof(detail)))) {
		respond_problem(res, req, ERR_INVALID, detail);
	} else {
		audit_record(app->audit, res->token_name, request_type_name((enum request_type)t), key,
			     req->request_id);
		e = decide(app, key, &x);
		if (e) {
			problem_decide(res, req, e, key);
		} else {
			json_t *out;
			char *note;

			pol.portal = codec_portal_policy(x.cat);
			pol.cloud_licensing_cutoff = x.cat->c.cloud_licensing_cutoff;
			evaluate((enum request_type)t, &x.rec->in, &x.d, &f, &pol, &ev);
			if (ig.count && ev.n_warnings < EVAL_MAX_ITEMS)
				ignored_warning(&ig, ev.warnings[ev.n_warnings++]);
			out = codec_evaluation(x.rec, &x.d, &ev, x.cat, app->cfg.handbook_base_url);
			note = note_evaluation(app, &x, &ev, (enum request_type)t);
			json_object_set_new(out, "note_markdown", json_string(note));
			free(note);
			respond_json(res, 200, out);
		}
		decided_release(app, &x);
	}
	json_decref(body);
}

/* ===== GET /v1/customers/search ===== */

static void search_row(void *cls, const char *const *c, int n)
{
	json_t *arr = cls;
	json_t *subs;

	if (n < 8)
		return;
	subs = json_loads(c[7] ? c[7] : "[]", 0, NULL);
	json_array_append_new(arr, json_pack(
		"{s:s, s:s, s:s, s:o, s:o, s:{s:o, s:o}, s:o}", "id", c[0], "number", c[1], "name",
		c[2], "partner_account", c[3] ? json_boolean(c[3][0] == 't') : json_null(),
		"ssp_channel", c[4] ? json_string(c[4]) : json_null(), "sold_to", "email",
		c[5] ? json_string(c[5]) : json_null(), "name", c[6] ? json_string(c[6]) : json_null(),
		"subscriptions", subs ? subs : json_array()));
}

struct search_args {
	const char *by, *value;
	int count;
	const char *unknown;
};

static bool search_arg(void *cls, const char *key, const char *value)
{
	struct search_args *a = cls;

	if (strcmp(key, "email") && strcmp(key, "account") && strcmp(key, "name")) {
		a->unknown = key;
		return false;
	}
	a->by = key;
	a->value = value;
	a->count++;
	return true;
}

HANDLER(h_search)
{
	struct search_args a = {NULL, NULL, 0, NULL};
	json_t *arr;
	enum err e;

	(void)m;
	http_query_each(req, search_arg, &a);
	if (a.unknown || a.count != 1 || !a.value[0] || strlen(a.value) > 200) {
		respond_problem(res, req, ERR_INVALID,
				"give exactly one of the query parameters email, account or name "
				"(1 to 200 characters)");
		return;
	}
	audit_record(app->audit, res->token_name, "search", a.by, req->request_id);
	arr = json_array();
	e = store_search_each(app->store, a.by, a.value, search_row, arr);
	if (e) {
		json_decref(arr);
		respond_problem(res, req, e, "cannot search now; retry later");
		return;
	}
	respond_json(res, 200, json_pack("{s:s, s:s, s:o}", "by", a.by, "query", a.value,
					 "accounts", arr));
}

/* ===== GET /v1/partners ===== */

static void partner_row_json(void *cls, const char *const *c, int n)
{
	json_t *domains, *accounts;

	if (n < 5)
		return;
	domains = json_loads(c[3] ? c[3] : "[]", 0, NULL);
	accounts = json_loads(c[4] ? c[4] : "[]", 0, NULL);
	if (!accounts)
		accounts = json_array();
	/* zuora_account_numbers is the import CSV's column name (DESIGN.md);
	 * zuora_accounts is the name this answer had first: both stay. */
	json_array_append_new(cls, json_pack("{s:s, s:s, s:o, s:O, s:o, s:o}", "name", c[0],
					     "type", c[1], "track",
					     c[2] ? json_string(c[2]) : json_null(),
					     "zuora_account_numbers", accounts, "zuora_accounts",
					     accounts, "email_domains",
					     domains ? domains : json_array()));
}

HANDLER(h_partners)
{
	json_t *arr = json_array();
	enum err e;

	(void)m;
	e = store_partners_each(app->store, partner_row_json, arr);
	if (e) {
		json_decref(arr);
		respond_problem(res, req, e, "cannot read the partner registry now; retry later");
		return;
	}
	respond_json(res, 200, json_pack("{s:o}", "partners", arr));
}

/* ===== GET /v1/workflows, /v1/workflows/{id} ===== */

HANDLER(h_workflows)
{
	struct catalog_snap *cat;
	json_t *arr;
	size_t i;
	enum err e;

	(void)m;
	e = catalog_get(app->catalog, &cat);
	if (e) {
		respond_problem(res, req, e, "cannot read the workflow catalog now; retry later");
		return;
	}
	arr = json_array();
	for (i = 0; i < cat->c.n_workflows; i++)
		json_array_append_new(arr, codec_workflow(&cat->c.workflows[i], app->cfg.handbook_base_url));
	respond_json(res, 200, json_pack("{s:o, s:{s:s, s:s}}", "workflows", arr, "policy",
					 "portal_access", cat->c.portal_access,
					 "cloud_licensing_cutoff", cat->c.cloud_licensing_cutoff));
	catalog_put(app->catalog, cat);
}

HANDLER(h_workflow)
{
	struct catalog_snap *cat;
	const struct workflow_row *w;
	char id[80];
	enum err e;

	if (m->param_len[0] >= sizeof(id)) {
		respond_problem(res, req, ERR_NOT_FOUND, "no workflow has that id");
		return;
	}
	snprintf(id, sizeof(id), "%.*s", (int)m->param_len[0], m->param[0]);
	e = catalog_get(app->catalog, &cat);
	if (e) {
		respond_problem(res, req, e, "cannot read the workflow catalog now; retry later");
		return;
	}
	w = catalog_workflow(cat, id);
	if (w)
		respond_json(res, 200, codec_workflow(w, app->cfg.handbook_base_url));
	else
		respond_problem(res, req, ERR_NOT_FOUND, "no workflow has that id; GET /v1/workflows lists them");
	catalog_put(app->catalog, cat);
}
