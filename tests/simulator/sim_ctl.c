/*
 * sim_ctl: the /_sim/ control API (no auth), fault queue, request stats
 * and the token stores.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_FAULTS 64
#define MAX_TOKENS 4096
#define MAX_STAT_PATHS 10000

static struct fault faults[MAX_FAULTS];
static size_t nfaults;

static struct token {
	char tok[160];
	int64_t expires;
	enum api api;
} tokens[MAX_TOKENS];
static size_t ntokens, token_next;

static json_t *st_paths, *st_routes, *st_status, *st_bodies;
static unsigned long st_total, st_faults, st_tokens[2], sf_usage;

static const struct {
	const char *name;
	enum fault_kind kind;
} kinds[] = {
	{"status", F_STATUS},
	{"retry_after", F_RETRY_AFTER},
	{"garbage", F_GARBAGE},
	{"truncated", F_TRUNCATED},
	{"oversized", F_OVERSIZED},
	{"drip", F_DRIP},
	{"stall", F_STALL},
	{"expire_tokens", F_EXPIRE_TOKENS},
	{"redirect", F_REDIRECT},
	{"zuora_success_false", F_ZUORA_SUCCESS_FALSE},
};

static const char *kind_name(enum fault_kind k)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].kind == k)
			return kinds[i].name;
	return "none";
}

static void bad_request(struct resp *o, const char *msg)
{
	resp_json(o, 400, json_pack("{sbss}", "ok", 0, "error", msg));
}

/* ===== faults ===== */

static long num_or(json_t *body, const char *key, long def)
{
	json_t *v = json_object_get(body, key);
	return json_is_integer(v) ? (long)json_integer_value(v) : def;
}

static bool fault_parse(json_t *body, struct fault *f, const char **err)
{
	const char *kind = json_string_value(json_object_get(body, "kind"));
	const char *prefix = json_string_value(json_object_get(body, "path_prefix"));
	const char *method = json_string_value(json_object_get(body, "method"));
	long status;

	memset(f, 0, sizeof(*f));
	for (size_t i = 0; kind && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kinds[i].name, kind))
			f->kind = kinds[i].kind;
	if (!f->kind) {
		*err = "kind must be one of status, retry_after, garbage, "
		       "truncated, oversized, drip, stall, expire_tokens, "
		       "redirect, zuora_success_false";
		return false;
	}
	snprintf(f->path_prefix, sizeof(f->path_prefix), "%s",
		 prefix ? prefix : "");
	snprintf(f->method, sizeof(f->method), "%s", method ? method : "");
	status = num_or(body, "status", f->kind == F_RETRY_AFTER ? 429 :
					f->kind == F_ZUORA_SUCCESS_FALSE ? 200 : 503);
	f->gu_shape = json_is_string(json_object_get(body, "shape")) &&
		      !strcmp(json_string_value(json_object_get(body, "shape")), "gu");
	f->retry_after = num_or(body, "retry_after",
				f->kind == F_RETRY_AFTER ? 1 : -1);
	f->count = num_or(body, "count", 1);
	f->seconds = num_or(body, "seconds", 30);
	f->code = num_or(body, "code", 50000061);
	long bytes = num_or(body, "bytes", 0);
	if (status < 100 || status > 599 || f->count == 0 || f->count < -1 ||
	    f->seconds < 0 || f->seconds > 3600 || bytes < 0) {
		*err = "status must be 100..599, count >= 1 or -1, seconds "
		       "0..3600, bytes >= 0";
		return false;
	}
	f->status = (unsigned)status;
	f->bytes = (uint64_t)bytes;
	return true;
}

bool fault_take(const char *method, const char *path, struct fault *out)
{
	bool hit = false;
	pthread_mutex_lock(&sim.lock);
	for (size_t i = 0; i < nfaults && !hit; i++) {
		struct fault *f = &faults[i];
		if (strncmp(path, f->path_prefix, strlen(f->path_prefix)) != 0 ||
		    (f->method[0] && strcasecmp(f->method, method) != 0))
			continue;
		*out = *f;
		hit = true;
		st_faults++;
		if (f->count > 0 && --f->count == 0) {
			memmove(f, f + 1, (nfaults - i - 1) * sizeof(*f));
			nfaults--;
		}
	}
	pthread_mutex_unlock(&sim.lock);
	return hit;
}

void ctl_fault(const struct req *r, struct resp *o)
{
	json_t *body = json_loadb(r->body, r->body_len, 0, NULL);
	const char *err = NULL;
	struct fault f;

	if (!json_is_object(body)) {
		bad_request(o, "body must be a JSON object");
	} else if (!fault_parse(body, &f, &err)) {
		bad_request(o, err);
	} else {
		pthread_mutex_lock(&sim.lock);
		if (nfaults < MAX_FAULTS)
			faults[nfaults++] = f;
		else
			err = "too many faults queued";
		size_t n = nfaults;
		pthread_mutex_unlock(&sim.lock);
		if (err)
			bad_request(o, err);
		else
			resp_json(o, 200, json_pack("{sbsI}", "ok", 1, "faults",
						    (json_int_t)n));
	}
	json_decref(body);
}

void ctl_faults_list(const struct req *r, struct resp *o)
{
	json_t *arr = json_array();
	(void)r;
	pthread_mutex_lock(&sim.lock);
	for (size_t i = 0; i < nfaults; i++) {
		const struct fault *f = &faults[i];
		json_array_append_new(arr, json_pack(
			"{sssssssisIsIsIsIsI}", "kind", kind_name(f->kind),
			"path_prefix", f->path_prefix, "method", f->method,
			"status", (int)f->status, "retry_after",
			(json_int_t)f->retry_after, "count", (json_int_t)f->count,
			"bytes", (json_int_t)f->bytes, "seconds",
			(json_int_t)f->seconds, "code", (json_int_t)f->code));
	}
	pthread_mutex_unlock(&sim.lock);
	resp_json(o, 200, json_pack("{so}", "faults", arr));
}

/* ===== stats ===== */

static void bump(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (!v && json_object_size(obj) >= MAX_STAT_PATHS) {
		key = "(other)";
		v = json_object_get(obj, key);
	}
	json_object_set_new(obj, key,
			    json_integer(v ? json_integer_value(v) + 1 : 1));
}

static void stats_init(void)
{
	if (!st_paths) {
		st_paths = json_object();
		st_routes = json_object();
		st_status = json_object();
		st_bodies = json_object();
	}
}

void stats_request(const char *method, const char *route, const char *path,
		   const char *body, size_t len)
{
	char key[320];
	json_t *text;
	if (!strncmp(path, "/_sim/", 6))
		return;
	snprintf(key, sizeof(key), "%s %s", method, route);
	/* the last body per route (its first 4 KiB, when valid UTF-8), so
	 * tests can check what a client sends */
	text = len && !strstr(path, "token") ? json_stringn(body, len < 4096 ? len : 4096)
					     : NULL; /* never a credential form */
	pthread_mutex_lock(&sim.lock);
	stats_init();
	st_total++;
	bump(st_paths, path);
	bump(st_routes, key);
	if (text)
		json_object_set_new(st_bodies, key, text);
	pthread_mutex_unlock(&sim.lock);
}

void stats_status(const char *path, unsigned status)
{
	char code[16];
	if (!strncmp(path, "/_sim/", 6))
		return;
	snprintf(code, sizeof(code), "%u", status);
	pthread_mutex_lock(&sim.lock);
	stats_init();
	bump(st_status, code);
	pthread_mutex_unlock(&sim.lock);
}

void ctl_stats(const struct req *r, struct resp *o)
{
	json_t *j;
	(void)r;
	pthread_mutex_lock(&sim.lock);
	stats_init();
	j = json_pack("{sIsOsOsOsOsIs{sIsI}s{sIsIsIsIsI}}", "total",
		      (json_int_t)st_total, "paths",
		      st_paths, "routes", st_routes, "statuses", st_status,
		      "last_bodies", st_bodies,
		      "faults_injected",
		      (json_int_t)st_faults, "tokens_issued", "zuora",
		      (json_int_t)st_tokens[API_ZUORA], "salesforce",
		      (json_int_t)st_tokens[API_SF], "records", "accounts",
		      (json_int_t)data_count(T_ACCOUNT), "contacts",
		      (json_int_t)data_count(T_CONTACT), "subscriptions",
		      (json_int_t)data_count(T_SUBSCRIPTION), "quotes",
		      (json_int_t)data_count(T_QUOTE), "opportunity_partners",
		      (json_int_t)data_count(T_OPP_PARTNER));
	/* "O" took a reference; make the snapshot independent of later bumps */
	json_t *copy = json_deep_copy(j);
	json_decref(j);
	pthread_mutex_unlock(&sim.lock);
	resp_json(o, 200, copy);
}

void ctl_reset(const struct req *r, struct resp *o)
{
	(void)r;
	pthread_mutex_lock(&sim.lock);
	nfaults = 0;
	json_decref(st_paths);
	json_decref(st_routes);
	json_decref(st_status);
	json_decref(st_bodies);
	st_paths = st_routes = st_status = st_bodies = NULL;
	st_total = st_faults = 0;
	st_tokens[0] = st_tokens[1] = 0;
	pthread_mutex_unlock(&sim.lock);
	resp_json(o, 200, json_pack("{sb}", "ok", 1));
}

/* ===== data ===== */

void ctl_data(const struct req *r, struct resp *o)
{
	json_error_t jerr;
	json_t *body = json_loadb(r->body, r->body_len, 0, &jerr);
	const char *mode = json_string_value(json_object_get(body, "mode"));
	char err[512];
	bool replace = mode && !strcmp(mode, "replace");

	if (!body) {
		snprintf(err, sizeof(err), "invalid JSON: %s", jerr.text);
		bad_request(o, err);
		return;
	}
	if (mode && !replace && strcmp(mode, "upsert") != 0) {
		bad_request(o, "mode must be upsert or replace");
		json_decref(body);
		return;
	}
	pthread_mutex_lock(&sim.lock);
	bool ok = data_merge(body, replace, err, sizeof(err));
	pthread_mutex_unlock(&sim.lock);
	if (ok)
		resp_json(o, 200, json_pack("{sb}", "ok", 1));
	else
		bad_request(o, err);
	json_decref(body);
}

/* ===== tokens ===== */

void token_issue(enum api api, char *out, size_t outlen, int64_t ttl_s)
{
	char a[16], b[96];
	struct token *t = &tokens[token_next];

	if (api == API_SF) {
		rand_hex(a, 12);
		rand_hex(b, 80);
		snprintf(out, outlen, "00D%s!AQ%s", a, b);
	} else {
		rand_hex(b, 32);
		snprintf(out, outlen, "%s", b);
	}
	snprintf(t->tok, sizeof(t->tok), "%s", out);
	t->api = api;
	t->expires = now_ms() + ttl_s * 1000;
	token_next = (token_next + 1) % MAX_TOKENS;
	if (ntokens < MAX_TOKENS)
		ntokens++;
	st_tokens[api]++;
}

bool token_valid(enum api api, const char *bearer)
{
	int64_t now = now_ms();
	for (size_t i = 0; i < ntokens; i++)
		if (tokens[i].api == api && tokens[i].expires > now &&
		    !strcmp(tokens[i].tok, bearer))
			return true;
	return false;
}

void tokens_expire(int which)
{
	pthread_mutex_lock(&sim.lock);
	for (size_t i = 0; i < ntokens; i++)
		if ((tokens[i].api == API_ZUORA && (which & 1)) ||
		    (tokens[i].api == API_SF && (which & 2)))
			tokens[i].expires = 0;
	pthread_mutex_unlock(&sim.lock);
}

void ctl_expire_tokens(const struct req *r, struct resp *o)
{
	json_t *body = json_loadb(r->body, r->body_len, 0, NULL);
	const char *which = json_string_value(json_object_get(body, "which"));
	int bits = 3;

	if (which && !strcmp(which, "zuora"))
		bits = 1;
	else if (which && !strcmp(which, "salesforce"))
		bits = 2;
	tokens_expire(bits);
	json_decref(body);
	resp_json(o, 200, json_pack("{sb}", "ok", 1));
}

unsigned long sf_api_usage_bump(void)
{
	pthread_mutex_lock(&sim.lock);
	unsigned long v = ++sf_usage;
	pthread_mutex_unlock(&sim.lock);
	return v;
}
