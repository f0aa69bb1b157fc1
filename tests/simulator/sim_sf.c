/*
 * sim_sf: Salesforce endpoints (UPSTREAM.md 2.1 - 2.3).
 */
#include "sim.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SF_MAX_BATCH 2000

static void sf_error(struct resp *o, unsigned status, const char *code,
		     const char *msg)
{
	resp_json(o, status, json_pack("[{ssss}]", "message", msg, "errorCode",
				       code));
}

static void oauth_error(struct resp *o, const char *err, const char *desc)
{
	resp_json(o, 400, json_pack("{ssss}", "error", err, "error_description",
				    desc));
}

/* ===== OAuth ===== */

static int b64url_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '-' || c == '+' ? 62 : c == '_' || c == '/' ? 63 : -1;
}

/* Decode the payload (middle part) of a JWT; NULL if malformed. */
static json_t *jwt_payload(const char *jwt)
{
	const char *p = strchr(jwt, '.');
	const char *end = p ? strchr(p + 1, '.') : NULL;
	struct buf b = {0};
	unsigned acc = 0;
	int bits = 0;

	if (!end)
		return NULL;
	for (p++; p < end; p++) {
		int v = b64url_val((unsigned char)*p);
		if (v < 0)
			break;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			char c = (char)((acc >> bits) & 0xff);
			buf_add(&b, &c, 1);
		}
	}
	json_t *j = json_loadb(b.p ? b.p : "", b.len, 0, NULL);
	buf_release(&b);
	return j;
}

/* JWT bearer grant: iss must be the client id, exp in the future.
 * The signature is not verified (this is a simulator). */
static bool jwt_ok(const char *assertion, const char **why)
{
	json_t *claims = assertion ? jwt_payload(assertion) : NULL;
	const char *iss = json_string_value(json_object_get(claims, "iss"));
	json_int_t exp = json_integer_value(json_object_get(claims, "exp"));
	bool ok = false;

	if (!claims)
		*why = "invalid assertion";
	else if (!iss || strcmp(iss, sim.cfg.sf_id) != 0)
		*why = "invalid client_id";
	else if (exp * 1000 < now_ms())
		*why = "expired authorization code";
	else
		ok = true;
	json_decref(claims);
	return ok;
}

void sf_token(const struct req *r, struct resp *o)
{
	char *grant = form_get(r->body, r->body_len, "grant_type");
	char *id = form_get(r->body, r->body_len, "client_id");
	char *secret = form_get(r->body, r->body_len, "client_secret");
	char *assertion = form_get(r->body, r->body_len, "assertion");
	const char *why = NULL;
	char tok[160], org[16], user[16], sig[45], url[256], issued[32];

	if (!grant) {
		oauth_error(o, "invalid_request", "grant type not supported");
	} else if (!strcmp(grant, "client_credentials")) {
		if (!id || !secret || strcmp(id, sim.cfg.sf_id) != 0 ||
		    strcmp(secret, sim.cfg.sf_secret) != 0)
			oauth_error(o, "invalid_client",
				    "invalid client credentials");
		else
			why = "";
	} else if (!strcmp(grant, "urn:ietf:params:oauth:grant-type:jwt-bearer")) {
		if (jwt_ok(assertion, &why))
			why = "";
		else
			oauth_error(o, "invalid_grant", why);
	} else {
		oauth_error(o, "unsupported_grant_type",
			    "grant type not supported");
	}
	if (why && !*why) {
		char base[sizeof(sim.cfg.base_url)];
		pthread_mutex_lock(&sim.lock); /* base_url is set after start */
		token_issue(API_SF, tok, sizeof(tok), sim.cfg.sf_session_ttl);
		memcpy(base, sim.cfg.base_url, sizeof(base));
		pthread_mutex_unlock(&sim.lock);
		memcpy(org, tok, 15);
		org[15] = '\0';
		rand_hex(user, 12);
		rand_hex(sig, 44);
		snprintf(url, sizeof(url), "%s/id/%s/005%s", base, org, user);
		snprintf(issued, sizeof(issued), "%lld", (long long)now_ms());
		resp_json(o, 200, json_pack(
			"{ssssssssssssss}", "access_token", tok, "signature",
			sig, "scope", "api", "instance_url", base,
			"id", url, "token_type", "Bearer", "issued_at", issued));
	}
	free(grant);
	free(id);
	free(secret);
	free(assertion);
}

/* ===== SOQL ===== */

/* The "vNN.N" segment of /services/data/vNN.N/...; false if malformed. */
static bool api_version(const char *url, char *out, size_t len)
{
	const char *p = url + strlen("/services/data/");
	const char *slash = strchr(p, '/');
	size_t n = slash ? (size_t)(slash - p) : 0;
	if (n < 2 || n >= len || p[0] != 'v' || !isdigit((unsigned char)p[1]))
		return false;
	for (size_t k = 1; k < n; k++)
		if (!isdigit((unsigned char)p[k]) && p[k] != '.')
			return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

/* Sforce-Query-Options: batchSize=N, clamped to [min, 2000] (a hint). */
static size_t batch_size(const struct req *r)
{
	const char *h = req_header(r, "Sforce-Query-Options");
	const char *p = h ? strcasestr(h, "batchSize") : NULL;
	size_t min = sim.cfg.sf_min_batch;
	long long v = SF_MAX_BATCH;

	if (p) {
		p += strlen("batchSize");
		while (*p == ' ' || *p == '=')
			p++;
		v = strtoll(p, NULL, 10);
	}
	if (v < (long long)min)
		v = (long long)min;
	return v > SF_MAX_BATCH ? SF_MAX_BATCH : (size_t)v;
}

/* The query answer, written as text (the records come from cursor_page),
 * in the key order jansson kept: totalSize, done, nextRecordsUrl, records. */
static void sf_page(struct cursor *c, size_t off, const char *ver,
		    struct resp *o)
{
	size_t batch = cursor_batch(c), total = cursor_total(c);
	struct buf b = {0};
	char next[160];

	buf_adds(&b, "{\"totalSize\":");
	buf_json_int(&b, (long long)total);
	buf_adds(&b, off + batch >= total ? ",\"done\":true" : ",\"done\":false");
	if (off + batch < total) {
		snprintf(next, sizeof(next), "/services/data/%s/query/%s-%zu",
			 ver, cursor_id(c), off + batch);
		buf_adds(&b, ",\"nextRecordsUrl\":");
		buf_json_str(&b, next);
	}
	buf_adds(&b, ",\"records\":");
	cursor_page(c, off, batch, &b);
	buf_adds(&b, "}");
	resp_json_buf(o, 200, &b);
}

/* --sf-no-query-all: an org (or a fake) that serves only /query. */
static bool no_query_all(const struct req *r)
{
	return sim.cfg.sf_no_query_all && strstr(r->url, "/queryAll") != NULL;
}

void sf_query(const struct req *r, struct resp *o)
{
	const char *q = req_arg(r, "q");
	const char *code = "MALFORMED_QUERY";
	char ver[16], err[1024];
	struct query *qq;

	if (!api_version(r->url, ver, sizeof(ver)) || no_query_all(r)) {
		sf_error(o, 404, "NOT_FOUND",
			 "The requested resource does not exist");
		return;
	}
	if (!q || !*q) {
		sf_error(o, 400, "MALFORMED_QUERY", "A query string has to be "
			 "specified");
		return;
	}
	pthread_mutex_lock(&sim.lock); /* the parser looks at the dataset */
	qq = soql_parse(q, err, sizeof(err), &code);
	if (qq) {
		struct cursor *c = cursor_run(qq, API_SF, ver);
		cursor_set_batch(c, batch_size(r));
		sf_page(c, 0, ver, o);
	} else {
		sf_error(o, 400, code ? code : "MALFORMED_QUERY", err);
	}
	pthread_mutex_unlock(&sim.lock);
}

void sf_query_more(const struct req *r, struct resp *o)
{
	const char *loc = strrchr(r->url, '/') + 1;
	const char *dash = strrchr(loc, '-');
	char ver[16], id[40];
	char *end = NULL;
	size_t off = 0;
	struct cursor *c = NULL;

	if (!api_version(r->url, ver, sizeof(ver)) || no_query_all(r)) {
		sf_error(o, 404, "NOT_FOUND",
			 "The requested resource does not exist");
		return;
	}
	if (dash && dash > loc && (size_t)(dash - loc) < sizeof(id) &&
	    isdigit((unsigned char)dash[1])) {
		memcpy(id, loc, (size_t)(dash - loc));
		id[dash - loc] = '\0';
		off = (size_t)strtoull(dash + 1, &end, 10);
	}
	pthread_mutex_lock(&sim.lock);
	if (end && !*end)
		c = cursor_find(id, API_SF);
	if (!c || off >= cursor_total(c))
		/* [I] status and message for an unknown/expired locator */
		sf_error(o, 400, "INVALID_QUERY_LOCATOR",
			 "invalid query locator");
	else
		sf_page(c, off, ver, o);
	pthread_mutex_unlock(&sim.lock);
}
