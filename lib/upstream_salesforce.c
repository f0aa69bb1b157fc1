/*
 * Salesforce REST: client-credentials OAuth and SOQL paging over the
 * upstream core. Shapes: /work/shared/UPSTREAM.md section 2. Errors are
 * arrays ([{"message","errorCode"}]); parent lookups are nested objects.
 */
#include "upstream_salesforce.h"
#include "upstream_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "log.h"
#include "util.h"

struct sf_client {
	struct upstream *u;
	char *login_url, *client_id, *client_secret, *api_version;
	char *f_subscription, *f_resale, *f_distributor, *f_vp_notes;
	struct sf_fields fields; /* pointing at the copies above */
	unsigned batch_size;
	bool no_vp_notes; /* the org has no such field: query without it */
	bool no_query_all; /* /queryAll answered 404: use /query from then on */
	struct upstream_token *tokens; /* shared by the process's clients */
	bool own_tokens;               /* no cache was given: ours */
	struct upstream_token_value tok; /* token and instance_url (extra) in use */
	char *instance_url;            /* trimmed copy of tok.extra */
	char last_error[256];
};

static bool missing(const char *s)
{
	return !s || !*s;
}

static bool version_ok(const char *v)
{
	size_t i, dots = 0;

	if (!v || v[0] != 'v' || !v[1] || strlen(v) > 12)
		return false;
	for (i = 1; v[i]; i++) {
		if (v[i] == '.')
			dots++;
		else if (v[i] < '0' || v[i] > '9')
			return false;
	}
	return dots == 1 && v[strlen(v) - 1] != '.' && v[1] != '.';
}

static char *trim_slash(const char *s)
{
	char *c = xstrdup(s);
	size_t n = strlen(c);

	while (n > 0 && c[n - 1] == '/')
		c[--n] = '\0';
	return c;
}

struct sf_client *sf_new(const struct sf_options *o, char *why, size_t whylen)
{
	struct upstream_options uo;
	struct sf_client *c;

	if (missing(o->login_url)) {
		snprintf(why, whylen, "SALESFORCE_LOGIN_URL is not set");
		return NULL;
	}
	if (missing(o->client_id) || missing(o->client_secret)) {
		snprintf(why, whylen, "SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET must be set");
		return NULL;
	}
	if (!version_ok(o->api_version)) {
		snprintf(why, whylen, "SALESFORCE_API_VERSION must look like v59.0");
		return NULL;
	}
	if (!upstream_identifier_ok(o->fields.subscription, true) ||
	    !upstream_identifier_ok(o->fields.resale_partner, true) ||
	    !upstream_identifier_ok(o->fields.distributor, true) ||
	    !upstream_identifier_ok(o->fields.vp_channel_notes, true)) {
		snprintf(why, whylen, "SALESFORCE_SUBSCRIPTION_FIELD, SALESFORCE_RESALE_PARTNER_FIELD, "
			 "SALESFORCE_DISTRIBUTOR_FIELD and SALESFORCE_VP_CHANNEL_NOTES_FIELD must "
			 "be SOQL field names ([A-Za-z0-9_]+, dots for relationships)");
		return NULL;
	}
	if (!config_url_allowed(o->login_url, why, whylen))
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->login_url = trim_slash(o->login_url);
	c->client_id = xstrdup(o->client_id);
	c->client_secret = xstrdup(o->client_secret);
	c->api_version = xstrdup(o->api_version);
	c->f_subscription = xstrdup(o->fields.subscription);
	c->f_resale = xstrdup(o->fields.resale_partner);
	c->f_distributor = xstrdup(o->fields.distributor);
	c->f_vp_notes = xstrdup(o->fields.vp_channel_notes);
	c->fields.subscription = c->f_subscription;
	c->fields.resale_partner = c->f_resale;
	c->fields.distributor = c->f_distributor;
	c->fields.vp_channel_notes = c->f_vp_notes;
	c->batch_size = o->batch_size ? o->batch_size : 2000;
	memset(&uo, 0, sizeof(uo));
	uo.name = "salesforce";
	uo.ca_file = o->ca_file;
	uo.tuning = o->tuning;
	uo.metrics = o->metrics;
	uo.counters.calls = MC_UPSTREAM_SALESFORCE_CALLS;
	uo.counters.errors = MC_UPSTREAM_SALESFORCE_ERRORS;
	uo.counters.retries = MC_UPSTREAM_SALESFORCE_RETRIES;
	uo.cancel = o->cancel;
	c->u = upstream_new(&uo);
	c->tokens = o->tokens;
	if (!c->tokens) {
		c->tokens = upstream_token_new();
		c->own_tokens = true;
	}
	return c;
}

void sf_free(struct sf_client *c)
{
	if (!c)
		return;
	upstream_free(c->u);
	free(c->login_url);
	free(c->client_id);
	free(c->client_secret);
	free(c->api_version);
	free(c->f_subscription);
	free(c->f_resale);
	free(c->f_distributor);
	free(c->f_vp_notes);
	upstream_token_value_release(&c->tok);
	if (c->own_tokens)
		upstream_token_free(c->tokens);
	free(c->instance_url);
	free(c);
}

const char *sf_last_error(const struct sf_client *c)
{
	return c->last_error[0] ? c->last_error : "unknown error";
}

static enum err fail(struct sf_client *c, enum err e, const char *fmt, ...)
	PRINTF_LIKE(3, 4);

static enum err fail(struct sf_client *c, enum err e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->last_error, sizeof(c->last_error), fmt, ap);
	va_end(ap);
	log_warn("salesforce: %s", c->last_error);
	return e;
}

/* errorCode and message of an error body (array or object form). */
static void describe(const char *body, size_t len, char *code, size_t codelen,
		     char *msg, size_t msglen)
{
	char why[64];
	json_t *j = uj_parse(body, len, why, sizeof(why));
	const json_t *e = json_is_array(j) ? json_array_get(j, 0) : j;

	code[0] = msg[0] = '\0';
	if (json_is_object(e)) {
		const char *c = uj_str(e, "errorCode");
		const char *m = uj_str(e, "message");

		if (!c)
			c = uj_str(e, "error");
		if (!m)
			m = uj_str(e, "error_description");
		snprintf(code, codelen, "%s", c ? c : "");
		snprintf(msg, msglen, "%s", m ? m : "");
	}
	json_decref(j);
}

static enum err status_error(struct sf_client *c, const char *what,
			     const struct upstream_response *r)
{
	char code[64], msg[160];

	describe(r->body.ptr, r->body.len, code, sizeof(code), msg, sizeof(msg));
	if (r->status == 401)
		return fail(c, ERR_UNAUTHORIZED, "%s: HTTP 401 %s %s", what, code, msg);
	if (r->status == 429 || strcmp(code, "REQUEST_LIMIT_EXCEEDED") == 0)
		return fail(c, ERR_RATE_LIMITED, "%s: HTTP %ld %s %s", what, r->status, code, msg);
	if (r->status >= 500)
		return fail(c, ERR_UNAVAILABLE, "%s: HTTP %ld after retries %s", what,
			    r->status, code);
	if (strcmp(code, "INVALID_TYPE") == 0 || strcmp(code, "INVALID_FIELD") == 0)
		return fail(c, ERR_UNPROCESSABLE, "%s: %s %s", what, code, msg);
	return fail(c, ERR_UPSTREAM, "%s: HTTP %ld %s %s", what, r->status, code, msg);
}

/* upstream_call failed: say why in its words (the certificate problem,
 * the redirect, the cap, the timeout). When it failed on an HTTP answer
 * (a re-authentication refused), that step already set last_error. */
static enum err transport_error(struct sf_client *c, const char *what, enum err e)
{
	const char *why = upstream_last_error(c->u);

	if (!*why)
		return e;
	return fail(c, e, "%s: %s", what, why);
}

/* ===== OAuth ===== */

/* upstream_token_fetch_fn: the token request on this client's handle;
 * extra is the instance_url. */
static enum err authenticate(void *cls, char **token, char **extra, uint64_t *refresh_in_ns,
			     char *whyout, size_t whylen)
{
	struct sf_client *c = cls;
	struct upstream_request req;
	struct upstream_response res;
	struct buf form, url;
	char why[160];
	const char *tok, *inst;
	json_t *j = NULL;
	enum err e;

	buf_init(&form, 8192);
	buf_puts(&form, "grant_type=client_credentials&client_id=");
	upstream_urlencode(&form, c->client_id);
	buf_puts(&form, "&client_secret=");
	upstream_urlencode(&form, c->client_secret);
	buf_init(&url, 4096);
	buf_printf(&url, "%s/services/oauth2/token", c->login_url);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url.ptr;
	req.content_type = "application/x-www-form-urlencoded";
	req.body = form.ptr;
	req.body_len = form.len;
	e = upstream_call(c->u, &req, &res);
	buf_release(&form);
	buf_release(&url);
	if (e) {
		e = transport_error(c, "token", e);
		goto out;
	}
	if (res.status == 400 || res.status == 401) {
		char code[64], msg[160];

		describe(res.body.ptr, res.body.len, code, sizeof(code), msg, sizeof(msg));
		e = fail(c, ERR_UNAUTHORIZED, "token: Salesforce refused the client credentials (%s)",
			 code[0] ? code : "no reason");
		goto out;
	}
	if (res.status != 200) {
		e = status_error(c, "token", &res);
		goto out;
	}
	j = uj_parse(res.body.ptr, res.body.len, why, sizeof(why));
	tok = j ? uj_str(j, "access_token") : NULL;
	inst = j ? uj_str(j, "instance_url") : NULL;
	if (!tok || strlen(tok) > 2048 || strpbrk(tok, "\r\n ") || !inst) {
		e = fail(c, ERR_UPSTREAM, "token: no usable access_token/instance_url");
		goto out;
	}
	/* instance_url is upstream data: the same URL rules as our config. */
	if (!config_url_allowed(inst, why, sizeof(why)) || strpbrk(inst, "?#@ \r\n")) {
		e = fail(c, ERR_UPSTREAM, "token: instance_url refused: %s", why);
		goto out;
	}
	*token = xstrdup(tok);
	*extra = trim_slash(inst);
	*refresh_in_ns = 0; /* no expires_in: until a 401 */
	log_info("salesforce: new access token");
out:
	if (e)
		snprintf(whyout, whylen, "%s", c->last_error[0] ? c->last_error :
			 "token: the token request failed");
	json_decref(j);
	upstream_response_release(&res);
	return e;
}

/* The shared token and instance_url into c: the cached ones, or one
 * token request for the whole process (other threads wait for it). */
static enum err ensure_token(struct sf_client *c)
{
	char why[256];
	enum err e;

	upstream_token_value_release(&c->tok);
	e = upstream_token_get(c->tokens, 0, authenticate, c, &c->tok, why, sizeof(why));
	if (e) {
		snprintf(c->last_error, sizeof(c->last_error), "%s", why);
		return e;
	}
	if (!c->tok.extra) {
		upstream_token_value_release(&c->tok);
		return fail(c, ERR_INTERNAL, "token: no instance_url cached");
	}
	free(c->instance_url);
	c->instance_url = xstrdup(c->tok.extra);
	return ERR_OK;
}

static enum err reauth(void *cls, struct upstream_request *req)
{
	struct sf_client *c = cls;
	enum err e;

	log_info("salesforce: session expired, authenticating again");
	/* Only when nobody replaced it since we took it: a 401 on a token
	 * another thread already renewed just takes the new one. */
	upstream_token_invalidate(c->tokens, c->tok.gen);
	e = ensure_token(c);
	req->bearer = c->tok.token;
	return e;
}

/* ===== SOQL ===== */

/* Append field to the select list unless it is already there. */
static void add_field(struct buf *q, const char *field)
{
	const char *p = q->ptr + strlen("SELECT ");
	size_t n = strlen(field);

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && strncasecmp(p, field, n) == 0)
			return;
		p = end ? end + 2 : NULL;
	}
	buf_printf(q, ", %s", field);
}

static void build_soql(const struct sf_client *c, enum sync_object obj,
		       const int64_t *since_ms, bool with_notes, struct buf *q)
{
	if (obj == SYNC_SF_QUOTE) {
		buf_puts(q, "SELECT Id");
		add_field(q, "Name");
		add_field(q, "zqu__Status__c");
		add_field(q, c->fields.subscription);
		add_field(q, "zqu__ZuoraSubscriptionID__c");
		add_field(q, "zqu__ZuoraAccountID__c");
		add_field(q, "zqu__InvoiceOwnerId__c");
		add_field(q, "zqu__InvoiceOwnerName__c");
		add_field(q, "zqu__Account__c");
		add_field(q, "zqu__Opportunity__c");
		add_field(q, c->fields.resale_partner);
		add_field(q, c->fields.distributor);
		if (with_notes)
			add_field(q, c->fields.vp_channel_notes);
		add_field(q, "IsDeleted");
		add_field(q, "SystemModstamp");
		buf_puts(q, " FROM zqu__Quote__c");
	} else {
		buf_puts(q, "SELECT Id, OpportunityId, AccountToId, AccountTo.Name, Role, "
			    "IsPrimary, SystemModstamp FROM OpportunityPartner");
	}
	if (since_ms) {
		char ts[40];
		int64_t floor_ms = *since_ms - (*since_ms % 1000 + 1000) % 1000;

		upstream_format_time(floor_ms, ts, sizeof(ts));
		ts[19] = '\0'; /* a number formatted here; SOQL datetimes are unquoted */
		buf_printf(q, " WHERE SystemModstamp >= %sZ", ts);
	}
	buf_puts(q, " ORDER BY SystemModstamp");
}

static enum upstream_verdict sf_classify(void *cls, long status, const char *body, size_t len)
{
	(void)cls;
	(void)body;
	(void)len;
	return status == 401 ? UPSTREAM_REAUTH : UPSTREAM_ACCEPT;
}

static enum err get_page(struct sf_client *c, enum sync_object obj, const char *url,
			 struct upstream_page *page)
{
	struct upstream_request req;
	struct upstream_response res;
	char opt[64], why[200];
	const char *headers[2] = {opt, NULL};
	enum err e;

	memset(&res, 0, sizeof(res));
	snprintf(opt, sizeof(opt), "Sforce-Query-Options: batchSize=%u", c->batch_size);
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.bearer = c->tok.token;
	req.headers = headers;
	req.classify = sf_classify;
	req.reauth = reauth;
	req.cls = c;
	e = upstream_call(c->u, &req, &res);
	if (e) {
		e = transport_error(c, "query", e);
		goto out;
	}
	if (res.status != 200) {
		char code[64], msg[160];

		describe(res.body.ptr, res.body.len, code, sizeof(code), msg, sizeof(msg));
		if (res.status == 404 || strcmp(code, "NOT_FOUND") == 0)
			e = fail(c, ERR_NOT_FOUND, "query: HTTP %ld %s %s", res.status, code, msg);
		else
			e = status_error(c, "query", &res);
		goto out;
	}
	e = sf_map_query_page(res.body.ptr, res.body.len, obj, &c->fields, page, why,
			      sizeof(why));
	if (e)
		e = fail(c, e, "query: %s", why);
out:
	upstream_response_release(&res);
	return e;
}

enum err sf_query(struct sf_client *c, enum sync_object obj, const int64_t *since_ms,
		  upstream_page_fn fn, void *cls)
{
	struct upstream_page page;
	struct buf q, url;
	enum err e;

	if (obj != SYNC_SF_QUOTE && obj != SYNC_SF_OPPORTUNITY_PARTNER)
		return ERR_INVALID;
	c->last_error[0] = '\0';
	e = ensure_token(c);
	if (e)
		return e;
	buf_init(&url, 16384);
	memset(&page, 0, sizeof(page));
	for (int attempt = 0; attempt < 3; attempt++) {
		/* The VP of Channel notes are an optional signal in an
		 * org-specific custom field (DOMAIN.md): an org without it
		 * answers INVALID_FIELD naming it. Query once more without
		 * the field rather than lose every quote; any other error
		 * (another field, the transport) fails the object. */
		bool with_notes = obj == SYNC_SF_QUOTE && !c->no_vp_notes &&
				  !missing(c->fields.vp_channel_notes);
		/* queryAll for quotes: deleted ones come back with IsDeleted.
		 * UPSTREAM.md 2.2 documents only /query; an endpoint without
		 * /queryAll (404 or NOT_FOUND) gets /query for the rest of
		 * this client's life, without the deleted quotes. */
		bool all = obj == SYNC_SF_QUOTE && !c->no_query_all;

		buf_init(&q, 4096);
		build_soql(c, obj, since_ms, with_notes, &q);
		buf_reset(&url);
		buf_printf(&url, "%s/services/data/%s/%s?q=", c->instance_url, c->api_version,
			   all ? "queryAll" : "query");
		upstream_urlencode(&url, q.ptr);
		buf_release(&q);
		e = get_page(c, obj, url.ptr, &page);
		if (all && e == ERR_NOT_FOUND) {
			log_warn("salesforce: /queryAll is not served (%s); querying with /query"
				 " from now on, which does not return deleted quotes",
				 c->last_error);
			c->no_query_all = true;
			c->last_error[0] = '\0';
			upstream_page_release(&page);
			memset(&page, 0, sizeof(page));
			continue;
		}
		if (!with_notes || e != ERR_UNPROCESSABLE ||
		    !strstr(c->last_error, "INVALID_FIELD") ||
		    !strcasestr(c->last_error, c->fields.vp_channel_notes))
			break;
		log_warn("salesforce: zqu__Quote__c has no field %s (%s); syncing quotes"
			 " without the VP of Channel notes",
			 c->fields.vp_channel_notes, c->last_error);
		c->no_vp_notes = true;
		c->last_error[0] = '\0';
		upstream_page_release(&page);
		memset(&page, 0, sizeof(page));
	}
	while (!e) {
		e = fn(cls, &page);
		if (e || page.done)
			break;
		buf_reset(&url);
		buf_printf(&url, "%s%s", c->instance_url, page.next);
		upstream_page_release(&page);
		e = get_page(c, obj, url.ptr, &page);
	}
	upstream_page_release(&page);
	buf_release(&url);
	return e;
}

/* ===== mapper ===== */

static bool map_quote(const json_t *r, const struct sf_fields *f, struct sf_quote_row *o,
		      const char **why)
{
	if (!uj_str(r, "Id")) {
		*why = "missing Id";
		return false;
	}
	if (!uj_time(r, "SystemModstamp", &o->modstamp_ms, o->modstamp, sizeof(o->modstamp))) {
		*why = "missing or invalid SystemModstamp";
		return false;
	}
	o->id = uj_dup(r, "Id");
	o->name = uj_dup(r, "Name");
	o->status = uj_dup(r, "zqu__Status__c");
	o->subscription_number = uj_dup(r, f->subscription);
	o->zuora_subscription_id = uj_dup(r, "zqu__ZuoraSubscriptionID__c");
	o->zuora_account_id = uj_dup(r, "zqu__ZuoraAccountID__c");
	o->resale_partner = uj_dup(r, f->resale_partner);
	o->distributor = uj_dup(r, f->distributor);
	/* NULL field name (a caller without the setting): not read. */
	o->vp_channel_notes = f->vp_channel_notes ? uj_dup(r, f->vp_channel_notes) : NULL;
	o->invoice_owner_id = uj_dup(r, "zqu__InvoiceOwnerId__c");
	o->invoice_owner_name = uj_dup(r, "zqu__InvoiceOwnerName__c");
	o->account_id = uj_dup(r, "zqu__Account__c");
	o->opportunity_id = uj_dup(r, "zqu__Opportunity__c");
	o->is_deleted = uj_bool(r, "IsDeleted") == TRI_TRUE;
	return true;
}

static bool map_partner(const json_t *r, struct sf_partner_row *o, const char **why)
{
	if (!uj_str(r, "Id")) {
		*why = "missing Id";
		return false;
	}
	if (!uj_time(r, "SystemModstamp", &o->modstamp_ms, o->modstamp, sizeof(o->modstamp))) {
		*why = "missing or invalid SystemModstamp";
		return false;
	}
	o->id = uj_dup(r, "Id");
	o->opportunity_id = uj_dup(r, "OpportunityId");
	o->account_to_id = uj_dup(r, "AccountToId");
	o->account_to_name = uj_dup(r, "AccountTo.Name");
	o->role = uj_dup(r, "Role");
	o->is_primary = uj_bool(r, "IsPrimary");
	return true;
}

static void map_record(struct upstream_page *p, size_t *cap, const json_t *rec,
		       const struct sf_fields *f)
{
	const char *what = p->obj == SYNC_SF_QUOTE ? "zqu__Quote__c" : "OpportunityPartner";
	const char *why = "not an object";
	bool ok;

	if (!json_is_object(rec)) {
		uj_page_skip(p, what, rec, why);
		return;
	}
	if (p->obj == SYNC_SF_QUOTE) {
		struct sf_quote_row *q = uj_page_push(p, cap, sizeof(*q));

		ok = map_quote(rec, f, q, &why);
		if (ok)
			uj_page_time(p, q->modstamp_ms);
	} else {
		struct sf_partner_row *o = uj_page_push(p, cap, sizeof(*o));

		ok = map_partner(rec, o, &why);
		if (ok)
			uj_page_time(p, o->modstamp_ms);
	}
	if (!ok) {
		p->n--; /* nothing was allocated for the rejected row */
		uj_page_skip(p, what, rec, why);
	}
}

/* nextRecordsUrl is upstream data appended to our instance URL: only a
 * plain /services/data/ path is followed. */
static bool next_url_ok(const char *s)
{
	const char *p;

	if (strncmp(s, "/services/data/", 15) != 0 || strstr(s, "..") || strlen(s) > 512)
		return false;
	for (p = s; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '/' || *p == '.' || *p == '-' ||
		      *p == '_'))
			return false;
	return true;
}

enum err sf_map_query_page(const char *body, size_t len, enum sync_object obj,
			   const struct sf_fields *f, struct upstream_page *out, char *why,
			   size_t whylen)
{
	const json_t *records, *done, *next, *rec;
	json_t *j;
	size_t i, cap = 0;
	enum err e = ERR_OK;

	memset(out, 0, sizeof(*out));
	out->obj = obj;
	out->sorted = true;
	j = uj_parse(body, len, why, whylen);
	if (!j)
		return ERR_UPSTREAM;
	records = json_object_get(j, "records");
	done = json_object_get(j, "done");
	if (!json_is_object(j) || !json_is_boolean(done) || !json_is_array(records)) {
		snprintf(why, whylen, "query result without done/records");
		e = ERR_UPSTREAM;
		goto out;
	}
	out->done = json_is_true(done);
	if (!out->done) {
		next = json_object_get(j, "nextRecordsUrl");
		if (!json_is_string(next) || !next_url_ok(json_string_value(next))) {
			snprintf(why, whylen, "query result not done but without a usable nextRecordsUrl");
			e = ERR_UPSTREAM;
			goto out;
		}
		out->next = xstrdup(json_string_value(next));
	}
	json_array_foreach(records, i, rec)
		map_record(out, &cap, rec, f);
out:
	json_decref(j);
	return e;
}
