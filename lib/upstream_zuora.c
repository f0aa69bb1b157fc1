/*
 * Zuora v1 REST: OAuth client credentials, ZOQL paging and single-record
 * reads, over the upstream core. Shapes: /work/shared/UPSTREAM.md section 1.
 * ZOQL omits null fields, so an absent key is NULL; the error bodies vary
 * ({"success":false,"reasons":[...]}, {"Success":false,"Errors":[...]},
 * {"message":...}), so failures are described, never trusted.
 */
#include "upstream_zuora.h"
#include "upstream_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "log.h"
#include "util.h"

struct zuora_client {
	struct upstream *u;
	char *base_url, *client_id, *client_secret, *ssp_field;
	unsigned batch_size;
	struct upstream_token *tokens; /* shared by the process's clients */
	bool own_tokens;               /* no cache was given: ours */
	struct upstream_token_value tok; /* the token this client uses now */
	uint64_t deadline_ns;          /* zuora_set_deadline; 0: none */
	char last_error[256];
};

/* ===== the client ===== */

static bool missing(const char *s)
{
	return !s || !*s;
}

struct zuora_client *zuora_new(const struct zuora_options *o, char *why, size_t whylen)
{
	struct upstream_options uo;
	struct zuora_client *z;
	size_t n;

	if (missing(o->base_url)) {
		snprintf(why, whylen, "ZUORA_BASE_URL is not set");
		return NULL;
	}
	if (missing(o->client_id) || missing(o->client_secret)) {
		snprintf(why, whylen, "ZUORA_CLIENT_ID and ZUORA_CLIENT_SECRET must be set");
		return NULL;
	}
	if (!missing(o->ssp_field) && !upstream_identifier_ok(o->ssp_field, false)) {
		snprintf(why, whylen, "ZUORA_SSPCHANNEL_FIELD is not a field name ([A-Za-z0-9_]+)");
		return NULL;
	}
	if (!config_url_allowed(o->base_url, why, whylen))
		return NULL;
	z = xcalloc(1, sizeof(*z));
	z->base_url = xstrdup(o->base_url);
	n = strlen(z->base_url);
	while (n > 0 && z->base_url[n - 1] == '/')
		z->base_url[--n] = '\0';
	z->client_id = xstrdup(o->client_id);
	z->client_secret = xstrdup(o->client_secret);
	z->ssp_field = missing(o->ssp_field) ? NULL : xstrdup(o->ssp_field);
	z->batch_size = o->batch_size && o->batch_size <= 2000 ? o->batch_size : 2000;
	memset(&uo, 0, sizeof(uo));
	uo.name = "zuora";
	uo.ca_file = o->ca_file;
	uo.tuning = o->tuning;
	uo.metrics = o->metrics;
	uo.counters.calls = MC_UPSTREAM_ZUORA_CALLS;
	uo.counters.errors = MC_UPSTREAM_ZUORA_ERRORS;
	uo.counters.retries = MC_UPSTREAM_ZUORA_RETRIES;
	uo.cancel = o->cancel;
	z->u = upstream_new(&uo);
	z->tokens = o->tokens;
	if (!z->tokens) {
		z->tokens = upstream_token_new();
		z->own_tokens = true;
	}
	return z;
}

void zuora_free(struct zuora_client *z)
{
	if (!z)
		return;
	upstream_free(z->u);
	free(z->base_url);
	free(z->client_id);
	free(z->client_secret);
	free(z->ssp_field);
	upstream_token_value_release(&z->tok);
	if (z->own_tokens)
		upstream_token_free(z->tokens);
	free(z);
}

void zuora_set_deadline(struct zuora_client *z, uint64_t deadline_ns)
{
	z->deadline_ns = deadline_ns;
	upstream_set_deadline(z->u, deadline_ns);
}

const char *zuora_last_error(const struct zuora_client *z)
{
	return z->last_error[0] ? z->last_error : "unknown error";
}

static enum err fail(struct zuora_client *z, enum err e, const char *fmt, ...)
	PRINTF_LIKE(3, 4);

static enum err fail(struct zuora_client *z, enum err e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(z->last_error, sizeof(z->last_error), fmt, ap);
	va_end(ap);
	log_warn("zuora: %s", z->last_error);
	return e;
}

/* A short description of an error body, whatever its shape. */
static void describe(const char *body, size_t len, char *out, size_t n)
{
	char why[64];
	json_t *j = uj_parse(body, len, why, sizeof(why));
	const json_t *v;
	const char *msg = NULL;

	out[0] = '\0';
	if (!j)
		return;
	v = json_array_get(json_object_get(j, "reasons"), 0);
	if (v) {
		json_int_t code = json_integer_value(json_object_get(v, "code"));

		snprintf(out, n, "%lld %s", (long long)code,
			 json_string_value(json_object_get(v, "message")) ?
				 json_string_value(json_object_get(v, "message")) : "");
		json_decref(j);
		return;
	}
	v = json_array_get(json_object_get(j, "Errors"), 0);
	if (v) {
		snprintf(out, n, "%s: %s",
			 uj_str(v, "Code") ? uj_str(v, "Code") : "?",
			 uj_str(v, "Message") ? uj_str(v, "Message") : "");
		json_decref(j);
		return;
	}
	msg = uj_str(j, "message");
	if (!msg)
		msg = uj_str(j, "FaultMessage");
	if (msg)
		snprintf(out, n, "%s", msg);
	json_decref(j);
}

/* Map a non-200 final status to an error. */
static enum err status_error(struct zuora_client *z, const char *what,
			     const struct upstream_response *r)
{
	char d[200];

	describe(r->body.ptr, r->body.len, d, sizeof(d));
	if (r->status == 401)
		return fail(z, ERR_UNAUTHORIZED, "%s: HTTP 401 %s", what, d);
	if (r->status == 429)
		return fail(z, ERR_RATE_LIMITED, "%s: HTTP 429 after retries %s", what, d);
	if (r->status >= 500 || zuora_body_transient(r->body.ptr, r->body.len))
		return fail(z, ERR_UNAVAILABLE, "%s: HTTP %ld after retries %s", what,
			    r->status, d);
	return fail(z, ERR_UPSTREAM, "%s: HTTP %ld %s", what, r->status, d);
}

/* upstream_call failed: say why in its words (the certificate problem,
 * the redirect, the cap, the timeout). When it failed on an HTTP answer
 * (a re-authentication refused), that step already set last_error. */
static enum err transport_error(struct zuora_client *z, const char *what, enum err e)
{
	const char *why = upstream_last_error(z->u);

	if (!*why)
		return e;
	return fail(z, e, "%s: %s", what, why);
}

/* ===== OAuth ===== */

/* upstream_token_fetch_fn: POST /oauth/token on this client's handle. */
static enum err fetch_token(void *cls, char **token, char **extra, uint64_t *refresh_in_ns,
			    char *whyout, size_t whylen)
{
	struct zuora_client *z = cls;
	struct upstream_request req;
	struct upstream_response res;
	struct buf form, url;
	char why[128];
	const char *tok;
	json_t *j = NULL;
	long expires = 0;
	enum err e;

	buf_init(&form, 8192);
	buf_puts(&form, "grant_type=client_credentials&client_id=");
	upstream_urlencode(&form, z->client_id);
	buf_puts(&form, "&client_secret=");
	upstream_urlencode(&form, z->client_secret);
	buf_init(&url, 4096);
	buf_printf(&url, "%s/oauth/token", z->base_url);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url.ptr;
	req.content_type = "application/x-www-form-urlencoded";
	req.body = form.ptr;
	req.body_len = form.len;
	e = upstream_call(z->u, &req, &res);
	buf_release(&form);
	buf_release(&url);
	if (e) {
		e = transport_error(z, "token", e);
		goto out;
	}
	if (res.status == 401 || res.status == 400) {
		e = fail(z, ERR_UNAUTHORIZED,
			 "token: Zuora refused the client credentials (HTTP %ld)", res.status);
		goto out;
	}
	if (res.status != 200) {
		e = status_error(z, "token", &res);
		goto out;
	}
	j = uj_parse(res.body.ptr, res.body.len, why, sizeof(why));
	tok = j ? uj_str(j, "access_token") : NULL;
	if (!tok || strlen(tok) > 2048 || strpbrk(tok, "\r\n ")) {
		e = fail(z, ERR_UPSTREAM, "token: no usable access_token in the answer");
		goto out;
	}
	if (!uj_long(j, "expires_in", 1, 86400 * 30, &expires))
		expires = 3600;
	*token = xstrdup(tok);
	*extra = NULL;
	/* Refresh 60 s before expiry (or at half-life for short tokens). */
	expires = expires > 120 ? expires - 60 : expires / 2;
	*refresh_in_ns = (uint64_t)expires * 1000000000u;
	log_info("zuora: new access token (refreshed in %ld s)", expires);
out:
	if (e)
		snprintf(whyout, whylen, "%s", z->last_error[0] ? z->last_error :
			 "token: the token request failed");
	json_decref(j);
	upstream_response_release(&res);
	return e;
}

/* The shared token into z->tok: the cached one while it is fresh, else
 * one fetch for the whole process (other threads wait for it). */
static enum err ensure_token(struct zuora_client *z)
{
	char why[256];
	enum err e;

	upstream_token_value_release(&z->tok);
	e = upstream_token_get(z->tokens, z->deadline_ns, fetch_token, z, &z->tok, why,
			       sizeof(why));
	if (e)
		snprintf(z->last_error, sizeof(z->last_error), "%s", why);
	return e;
}

/* upstream reauth hook: a 401 on an API call. */
static enum err reauth(void *cls, struct upstream_request *req)
{
	struct zuora_client *z = cls;
	enum err e;

	log_info("zuora: token rejected, fetching a new one");
	/* Only when nobody replaced it since we took it: a 401 on a token
	 * another thread already renewed just takes the new one. */
	upstream_token_invalidate(z->tokens, z->tok.gen);
	e = ensure_token(z);
	req->bearer = z->tok.token;
	return e;
}

/* A reason code, an integer ({"code":50000040}) or a numeric string (GU's
 * {"Code":"50000040"}). */
static bool reason_code(const json_t *r, const char *key, long *code)
{
	const char *s = uj_str(r, key);
	char *end;
	long v;

	if (uj_long(r, key, 0, 99999999, code))
		return true;
	if (!s || *s < '0' || *s > '9')
		return false;
	v = strtol(s, &end, 10);
	if (*end || v > 99999999)
		return false;
	*code = v;
	return true;
}

/*
 * The reason codes of a Zuora failure body, in either shape UPSTREAM.md
 * 1.7 lists: {"success":false,"reasons":[{"code":N}]} or GU's
 * {"Success":false,"Errors":[{"Code":"N"}]}. At most max codes into
 * codes; false when j is neither.
 */
static bool failure_codes(const json_t *j, long *codes, size_t max, size_t *n)
{
	const json_t *list, *r;
	const char *key;
	size_t i;

	*n = 0;
	if (json_is_false(json_object_get(j, "success"))) {
		list = json_object_get(j, "reasons");
		key = "code";
	} else if (json_is_false(json_object_get(j, "Success"))) {
		list = json_object_get(j, "Errors");
		key = "Code";
	} else {
		return false;
	}
	json_array_foreach(list, i, r) {
		if (*n < max && reason_code(r, key, &codes[*n]))
			(*n)++;
	}
	return true;
}

/* Does this body carry a reason code of a retryable category? */
static bool body_transient(const json_t *j)
{
	long codes[8];
	size_t n, i;

	if (!failure_codes(j, codes, ARRAY_SIZE(codes), &n))
		return false;
	for (i = 0; i < n; i++) {
		long cat = codes[i] % 100;

		if (cat == 50 || cat == 61 || cat == 70 || cat == 99)
			return true;
	}
	return false;
}

bool zuora_body_transient(const char *body, size_t len)
{
	char why[64];
	json_t *j;
	bool transient;

	/* Cheap filter: a query page has no "success"/"Success" key. */
	if (!body || len == 0 || !memmem(body, len, "uccess\"", 7))
		return false;
	j = uj_parse(body, len, why, sizeof(why));
	transient = j && body_transient(j);
	json_decref(j);
	return transient;
}

static enum upstream_verdict z_classify(void *cls, long status, const char *body, size_t len)
{
	(void)cls;
	if (status == 401)
		return UPSTREAM_REAUTH;
	/* Retryable categories come with HTTP 200 or a 4xx (UPSTREAM.md 1.7). */
	if ((status == 200 || (status >= 400 && status < 500)) &&
	    zuora_body_transient(body, len))
		return UPSTREAM_RETRY;
	return UPSTREAM_ACCEPT;
}

/* An authenticated API call; res must be released by the caller. */
static enum err api_call(struct zuora_client *z, const char *method, const char *path,
			 const char *json_body, struct upstream_response *res)
{
	struct upstream_request req;
	struct buf url;
	char track[65];
	unsigned char rnd[12];
	char hex[25];
	enum err e;

	memset(res, 0, sizeof(*res));
	e = ensure_token(z);
	if (e)
		return e;
	random_bytes(rnd, sizeof(rnd));
	hex_encode(rnd, sizeof(rnd), hex);
	upstream_track_id(hex, track, sizeof(track));
	buf_init(&url, 8192);
	buf_printf(&url, "%s%s", z->base_url, path);
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url.ptr;
	if (json_body) {
		req.content_type = "application/json";
		req.body = json_body;
		req.body_len = strlen(json_body);
	}
	req.bearer = z->tok.token;
	req.track_id = track;
	req.classify = z_classify;
	req.reauth = reauth;
	req.cls = z;
	e = upstream_call(z->u, &req, res);
	buf_release(&url);
	if (e)
		return transport_error(z, path, e);
	return ERR_OK;
}

/* ===== ZOQL ===== */

static const char *const select_lists[] = {
	[SYNC_ZUORA_ACCOUNT] = "Id, AccountNumber, Name, Status, PartnerAccount, CrmId, "
			       "ParentId, SoldToId, BillToId, UpdatedDate",
	[SYNC_ZUORA_CONTACT] = "Id, AccountId, FirstName, LastName, WorkEmail, UpdatedDate",
	[SYNC_ZUORA_SUBSCRIPTION] = "Id, Name, AccountId, InvoiceOwnerId, Status, Version, "
				    "IsLatestVersion, TermStartDate, TermEndDate, "
				    "CreatedById, UpdatedDate",
};

static const char *zoql_object(enum sync_object obj)
{
	return obj == SYNC_ZUORA_ACCOUNT ? "Account" :
	       obj == SYNC_ZUORA_CONTACT ? "Contact" : "Subscription";
}

static void build_zoql(const struct zuora_client *z, enum sync_object obj,
		       const int64_t *since_ms, bool with_ssp, struct buf *q)
{
	buf_printf(q, "select %s", select_lists[obj]);
	if (with_ssp && z->ssp_field && obj != SYNC_ZUORA_CONTACT)
		buf_printf(q, ", %s", z->ssp_field);
	buf_printf(q, " from %s", zoql_object(obj));
	if (since_ms) {
		char ts[40];
		int64_t floor_ms = *since_ms - (*since_ms % 1000 + 1000) % 1000;

		upstream_format_time(floor_ms, ts, sizeof(ts));
		/* "YYYY-MM-DDTHH:MM:SS.000Z" -> "YYYY-MM-DDTHH:MM:SSZ", the
		 * literal form UPSTREAM.md 1.6C shows; formatted here from a
		 * number, never from upstream text. >= (not >): the watermark
		 * row is read again, harmlessly, within the overlap. */
		ts[19] = '\0';
		buf_printf(q, " where UpdatedDate >= '%sZ'", ts);
	}
}

/* One ZOQL page into *page; *status is the HTTP status of the answer (0
 * when none arrived). */
static enum err query_page(struct zuora_client *z, enum sync_object obj, const char *path,
			   json_t *req_body, struct upstream_page *page, long *status)
{
	struct upstream_response res;
	char why[200];
	char *text = json_dumps(req_body, JSON_COMPACT);
	enum err e;

	if (!text)
		die("out of memory encoding a ZOQL request");
	e = api_call(z, "POST", path, text, &res);
	free(text);
	*status = res.status;
	if (e)
		goto out;
	if (res.status != 200) {
		e = status_error(z, path, &res);
		goto out;
	}
	e = zuora_map_query_page(res.body.ptr, res.body.len, obj, z->ssp_field, page, why,
				 sizeof(why));
	if (e)
		e = fail(z, e, "%s: %s", path, why);
out:
	upstream_response_release(&res);
	return e;
}

enum err zuora_query(struct zuora_client *z, enum sync_object obj, const int64_t *since_ms,
		     upstream_page_fn fn, void *cls)
{
	struct upstream_page page;
	struct buf q;
	json_t *body;
	long status = 0;
	enum err e;

	if (obj > SYNC_ZUORA_SUBSCRIPTION)
		return ERR_INVALID;
	z->last_error[0] = '\0';
	memset(&page, 0, sizeof(page));
	for (int attempt = 0; attempt < 2; attempt++) {
		/* The SSPChannel custom field lives on the Account in some
		 * tenants and on the Subscription in others (DOMAIN.md); ZOQL
		 * refuses a field the object does not have (a 4xx). Retry
		 * once without it rather than fail the object; but not after
		 * a transport failure (TLS, redirect, timeout) or a garbled
		 * page, which say nothing about the field: a fault that
		 * clears by the retry would drop SSPChannel from every row. */
		bool with_ssp = attempt == 0 && z->ssp_field && obj != SYNC_ZUORA_CONTACT;

		buf_init(&q, 4096);
		build_zoql(z, obj, since_ms, with_ssp, &q);
		body = json_pack("{s:s, s:{s:I}}", "queryString", q.ptr, "conf", "batchSize",
				 (json_int_t)z->batch_size);
		buf_release(&q);
		e = query_page(z, obj, "/v1/action/query", body, &page, &status);
		json_decref(body);
		if (!with_ssp || e != ERR_UPSTREAM || status < 400 || status > 499)
			break;
		log_warn("zuora: %s query with %s failed (%s); retrying without it",
			 zoql_object(obj), z->ssp_field, zuora_last_error(z));
		upstream_page_release(&page);
		memset(&page, 0, sizeof(page));
	}
	while (!e) {
		char *locator;

		e = fn(cls, &page);
		if (e || page.done)
			break;
		locator = page.next;
		page.next = NULL;
		upstream_page_release(&page);
		/* Only the locator (UPSTREAM.md 1.6C): the page size was fixed
		 * by the query's conf.batchSize. */
		body = json_pack("{s:s}", "queryLocator", locator);
		free(locator);
		e = query_page(z, obj, "/v1/action/queryMore", body, &page, &status);
		json_decref(body);
	}
	upstream_page_release(&page);
	return e;
}

/* ===== single-record reads ===== */

static bool key_ok(const char *key)
{
	size_t n = key ? strlen(key) : 0;
	size_t i;

	if (n == 0 || n > 64)
		return false;
	for (i = 0; i < n; i++) {
		char c = key[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

static bool codes_not_found(const json_t *j);

/* Is res's body a failure saying "not found" (reason 50000040)? */
static bool body_not_found(const struct upstream_response *res)
{
	char why[64];
	json_t *j = uj_parse(res->body.ptr, res->body.len, why, sizeof(why));
	bool nf = j && codes_not_found(j);

	json_decref(j);
	return nf;
}

static enum err get_record(struct zuora_client *z, const char *what, const char *key,
			   struct upstream_response *res)
{
	char path[128];
	enum err e;

	if (!key_ok(key))
		return ERR_INVALID;
	z->last_error[0] = '\0';
	snprintf(path, sizeof(path), "/v1/%s/%s", what, key);
	e = api_call(z, "GET", path, NULL, res);
	if (e)
		return e;
	/* Not found: HTTP 404 whatever its body, or a 4xx with reason
	 * 50000040 (UPSTREAM.md 1.4: treat a 4xx and success:false alike). */
	if (res->status == 404 ||
	    (res->status >= 400 && res->status < 500 && body_not_found(res)))
		return ERR_NOT_FOUND;
	if (res->status != 200)
		return status_error(z, path, res);
	return ERR_OK;
}

enum err zuora_get_subscription(struct zuora_client *z, const char *key,
				struct zuora_subscription_row *out)
{
	struct upstream_response res;
	char why[200];
	enum err e;

	memset(out, 0, sizeof(*out));
	e = get_record(z, "subscriptions", key, &res);
	if (!e) {
		e = zuora_map_rest_subscription(res.body.ptr, res.body.len, z->ssp_field, out,
						why, sizeof(why));
		if (e && e != ERR_NOT_FOUND)
			e = fail(z, e, "subscription %s: %s", key, why);
	}
	upstream_response_release(&res);
	return e;
}

enum err zuora_get_account(struct zuora_client *z, const char *key,
			   struct zuora_account_row *out,
			   struct zuora_contact_row contacts[2], size_t *ncontacts)
{
	struct upstream_response res;
	char why[200];
	enum err e;

	memset(out, 0, sizeof(*out));
	*ncontacts = 0;
	e = get_record(z, "accounts", key, &res);
	if (!e) {
		e = zuora_map_rest_account(res.body.ptr, res.body.len, z->ssp_field, out,
					   contacts, ncontacts, why, sizeof(why));
		if (e && e != ERR_NOT_FOUND)
			e = fail(z, e, "account %s: %s", key, why);
	}
	upstream_response_release(&res);
	return e;
}

/* ===== mappers ===== */

/*
 * ZOQL omits null fields (UPSTREAM.md 1.6C), so a record may lack
 * UpdatedDate: it is still stored, dated the epoch (which never beats a
 * stored row's real UpdatedDate). A value that is there but not a
 * timestamp rejects the record.
 */
static bool map_updated(const json_t *r, int64_t *ms, char *text, size_t n, const char **why)
{
	const json_t *v = json_object_get(r, "UpdatedDate");

	if (!v || json_is_null(v)) {
		*ms = 0;
		upstream_format_time(0, text, n);
		return true;
	}
	if (!uj_time(r, "UpdatedDate", ms, text, n)) {
		*why = "invalid UpdatedDate";
		return false;
	}
	return true;
}

static bool map_account(const json_t *r, const char *ssp, struct zuora_account_row *o,
			const char **why)
{
	if (!uj_str(r, "Id") || !uj_str(r, "AccountNumber")) {
		*why = "missing Id or AccountNumber";
		return false;
	}
	if (!map_updated(r, &o->updated_ms, o->updated, sizeof(o->updated), why))
		return false;
	o->id = uj_dup(r, "Id");
	o->number = uj_dup(r, "AccountNumber");
	o->name = uj_dup(r, "Name");
	o->status = uj_dup(r, "Status");
	o->partner_account = uj_bool(r, "PartnerAccount");
	o->ssp_channel = ssp ? uj_dup(r, ssp) : NULL;
	o->crm_id = uj_dup(r, "CrmId");
	o->parent_id = uj_dup(r, "ParentId");
	o->sold_to_contact_id = uj_dup(r, "SoldToId");
	o->bill_to_contact_id = uj_dup(r, "BillToId");
	return true;
}

static bool map_contact(const json_t *r, struct zuora_contact_row *o, const char **why)
{
	if (!uj_str(r, "Id")) {
		*why = "missing Id";
		return false;
	}
	if (!map_updated(r, &o->updated_ms, o->updated, sizeof(o->updated), why))
		return false;
	o->id = uj_dup(r, "Id");
	o->account_id = uj_dup(r, "AccountId");
	o->first_name = uj_dup(r, "FirstName");
	o->last_name = uj_dup(r, "LastName");
	o->work_email = uj_dup(r, "WorkEmail");
	return true;
}

static char *date_or_null(const json_t *r, const char *key)
{
	const char *s = uj_str(r, key);

	/* Zuora dates are YYYY-MM-DD; keep the date part of a datetime. */
	if (s && strlen(s) >= 10) {
		char d[11];

		memcpy(d, s, 10);
		d[10] = '\0';
		if (upstream_is_date(d))
			return xstrdup(d);
	}
	return NULL;
}

static bool map_subscription(const json_t *r, const char *ssp,
			     struct zuora_subscription_row *o, const char **why)
{
	enum tristate latest;

	if (!uj_str(r, "Id") || !uj_str(r, "Name")) {
		*why = "missing Id or Name";
		return false;
	}
	if (!uj_str(r, "AccountId")) {
		*why = "missing AccountId";
		return false;
	}
	/* Omitted (null) fields get defaults: the first version, and the
	 * subscriber as its own invoice owner (Zuora's default payer). */
	if (!json_object_get(r, "Version") || json_is_null(json_object_get(r, "Version")))
		o->version = 1;
	else if (!uj_long(r, "Version", 0, 1000000000, &o->version)) {
		*why = "invalid Version";
		return false;
	}
	if (!map_updated(r, &o->updated_ms, o->updated, sizeof(o->updated), why))
		return false;
	latest = uj_bool(r, "IsLatestVersion");
	o->is_latest = latest != TRI_FALSE;
	o->id = uj_dup(r, "Id");
	o->number = uj_dup(r, "Name");
	o->status = uj_dup(r, "Status");
	o->term_start = date_or_null(r, "TermStartDate");
	o->term_end = date_or_null(r, "TermEndDate");
	o->account_id = uj_dup(r, "AccountId");
	o->invoice_owner_id = uj_str(r, "InvoiceOwnerId") ? uj_dup(r, "InvoiceOwnerId") :
							   uj_dup(r, "AccountId");
	o->created_by_id = uj_dup(r, "CreatedById");
	o->ssp_channel = ssp ? uj_dup(r, ssp) : NULL;
	return true;
}

/* Map one record into a new row of p; false (and nothing added) when the
 * record is rejected. */
static void map_record(struct upstream_page *p, size_t *cap, const json_t *rec,
		       const char *ssp)
{
	const char *why = "not an object";
	bool ok = false;

	if (!json_is_object(rec)) {
		uj_page_skip(p, zoql_object(p->obj), rec, why);
		return;
	}
	switch (p->obj) {
	case SYNC_ZUORA_ACCOUNT: {
		struct zuora_account_row *a = uj_page_push(p, cap, sizeof(*a));

		ok = map_account(rec, ssp, a, &why);
		if (ok)
			uj_page_time(p, a->updated_ms);
		break;
	}
	case SYNC_ZUORA_CONTACT: {
		struct zuora_contact_row *c = uj_page_push(p, cap, sizeof(*c));

		ok = map_contact(rec, c, &why);
		if (ok)
			uj_page_time(p, c->updated_ms);
		break;
	}
	default: {
		struct zuora_subscription_row *s = uj_page_push(p, cap, sizeof(*s));

		ok = map_subscription(rec, ssp, s, &why);
		if (ok)
			uj_page_time(p, s->updated_ms);
		break;
	}
	}
	if (!ok) {
		/* The rejected row holds no strings yet: drop the slot. */
		p->n--;
		uj_page_skip(p, zoql_object(p->obj), rec, why);
	}
}

enum err zuora_map_query_page(const char *body, size_t len, enum sync_object obj,
			      const char *ssp_field, struct upstream_page *out, char *why,
			      size_t whylen)
{
	const json_t *records, *done, *loc, *rec;
	json_t *j;
	size_t i, cap = 0;
	enum err e = ERR_OK;

	memset(out, 0, sizeof(*out));
	out->obj = obj;
	out->sorted = true;
	j = uj_parse(body, len, why, whylen);
	if (!j)
		return ERR_UPSTREAM;
	if (!json_is_object(j)) {
		snprintf(why, whylen, "query result is not an object");
		e = ERR_UPSTREAM;
		goto out;
	}
	records = json_object_get(j, "records");
	done = json_object_get(j, "done");
	if (!json_is_boolean(done) || (records && !json_is_array(records))) {
		snprintf(why, whylen, "query result without done/records");
		e = ERR_UPSTREAM;
		goto out;
	}
	out->done = json_is_true(done);
	if (!out->done) {
		loc = json_object_get(j, "queryLocator");
		if (!json_is_string(loc) || json_string_length(loc) == 0 ||
		    json_string_length(loc) > 256) {
			snprintf(why, whylen, "query result not done but without queryLocator");
			e = ERR_UPSTREAM;
			goto out;
		}
		out->next = xstrdup(json_string_value(loc));
	}
	json_array_foreach(records, i, rec)
		map_record(out, &cap, rec, ssp_field);
out:
	json_decref(j);
	return e;
}

/* Does the failure body j (either shape) carry reason 50000040? */
static bool codes_not_found(const json_t *j)
{
	long codes[8];
	size_t n, i;

	if (!failure_codes(j, codes, ARRAY_SIZE(codes), &n))
		return false;
	for (i = 0; i < n; i++)
		if (codes[i] == 50000040)
			return true;
	return false;
}

/* success:false → ERR_NOT_FOUND for 50000040, else ERR_UPSTREAM. */
static enum err rest_failure(const json_t *j, char *why, size_t whylen)
{
	long codes[1] = {0};
	size_t n;

	if (codes_not_found(j)) {
		snprintf(why, whylen, "not found");
		return ERR_NOT_FOUND;
	}
	failure_codes(j, codes, 1, &n);
	snprintf(why, whylen, "success:false (code %ld)", codes[0]);
	return ERR_UPSTREAM;
}

static json_t *rest_body(const char *body, size_t len, enum err *e, char *why, size_t whylen)
{
	json_t *j = uj_parse(body, len, why, whylen);

	*e = ERR_OK;
	if (!j || !json_is_object(j)) {
		if (j)
			snprintf(why, whylen, "not a JSON object");
		json_decref(j);
		*e = ERR_UPSTREAM;
		return NULL;
	}
	if (uj_bool(j, "success") != TRI_TRUE) {
		*e = rest_failure(j, why, whylen);
		json_decref(j);
		return NULL;
	}
	return j;
}

enum err zuora_map_rest_subscription(const char *body, size_t len, const char *ssp_field,
				     struct zuora_subscription_row *out, char *why,
				     size_t whylen)
{
	enum err e;
	json_t *j = rest_body(body, len, &e, why, whylen);

	memset(out, 0, sizeof(*out));
	if (!j)
		return e;
	if (!uj_str(j, "id") || !uj_str(j, "subscriptionNumber") || !uj_str(j, "accountId") ||
	    !uj_str(j, "invoiceOwnerAccountId") ||
	    !uj_long(j, "version", 0, 1000000000, &out->version)) {
		snprintf(why, whylen, "subscription without id, number, version or accounts");
		json_decref(j);
		return ERR_UPSTREAM;
	}
	/* No updatedDate (UPSTREAM.md 1.4): no source timestamp, and none
	 * invented: the store keeps the stored one (see store_sync.c). */
	if (!uj_time(j, "updatedDate", &out->updated_ms, out->updated, sizeof(out->updated))) {
		out->updated_ms = 0;
		out->updated[0] = '\0';
	}
	out->is_latest = true;
	out->id = uj_dup(j, "id");
	out->number = uj_dup(j, "subscriptionNumber");
	out->status = uj_dup(j, "status");
	out->term_start = date_or_null(j, "termStartDate");
	out->term_end = date_or_null(j, "termEndDate");
	out->account_id = uj_dup(j, "accountId");
	out->invoice_owner_id = uj_dup(j, "invoiceOwnerAccountId");
	out->created_by_id = uj_dup(j, "createdById");
	out->ssp_channel = ssp_field ? uj_dup(j, ssp_field) : NULL;
	json_decref(j);
	return ERR_OK;
}

static void rest_contact(const json_t *c, const char *account_id,
			 struct zuora_contact_row *o)
{
	memset(o, 0, sizeof(*o));
	o->id = uj_dup(c, "id");
	o->account_id = account_id ? xstrdup(account_id) : NULL;
	o->first_name = uj_dup(c, "firstName");
	o->last_name = uj_dup(c, "lastName");
	o->work_email = uj_dup(c, "workEmail");
	/* No source timestamp: updated stays "" (see the subscription). */
}

enum err zuora_map_rest_account(const char *body, size_t len, const char *ssp_field,
				struct zuora_account_row *out,
				struct zuora_contact_row contacts[2], size_t *ncontacts,
				char *why, size_t whylen)
{
	enum err e;
	json_t *j = rest_body(body, len, &e, why, whylen);
	const json_t *bi, *bill, *sold;

	memset(out, 0, sizeof(*out));
	*ncontacts = 0;
	if (!j)
		return e;
	bi = uj_get(j, "basicInfo");
	if (!json_is_object(bi) || !uj_str(bi, "id") || !uj_str(bi, "accountNumber")) {
		snprintf(why, whylen, "account without basicInfo.id/accountNumber");
		json_decref(j);
		return ERR_UPSTREAM;
	}
	bill = uj_get(j, "billToContact");
	sold = uj_get(j, "soldToContact");
	out->id = uj_dup(bi, "id");
	out->number = uj_dup(bi, "accountNumber");
	out->name = uj_dup(bi, "name");
	out->status = uj_dup(bi, "status");
	out->partner_account = uj_bool(bi, "partnerAccount");
	out->ssp_channel = ssp_field ? uj_dup(bi, ssp_field) : NULL;
	out->crm_id = uj_dup(bi, "crmId");
	out->parent_id = uj_dup(bi, "parentId");
	out->bill_to_contact_id = json_is_object(bill) ? uj_dup(bill, "id") : NULL;
	out->sold_to_contact_id = json_is_object(sold) ? uj_dup(sold, "id") : NULL;
	if (!uj_time(bi, "updatedDate", &out->updated_ms, out->updated, sizeof(out->updated))) {
		out->updated_ms = 0;
		out->updated[0] = '\0';
	}
	if (out->bill_to_contact_id)
		rest_contact(bill, out->id, &contacts[(*ncontacts)++]);
	if (out->sold_to_contact_id &&
	    !str_eq(out->sold_to_contact_id, out->bill_to_contact_id))
		rest_contact(sold, out->id, &contacts[(*ncontacts)++]);
	json_decref(j);
	return ERR_OK;
}
