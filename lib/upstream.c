/*
 * The libcurl core shared by the Zuora and Salesforce clients: one easy
 * handle per client, bounded in time and size, retries with jittered
 * exponential backoff (curl tool's --retry policy: timeouts and
 * 408/429/500/502/503/504, Retry-After honoured), one re-authentication
 * on 401. See upstream.h for the contract.
 */
#include "upstream.h"
#include "upstream_internal.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config.h"
#include "log.h"

struct upstream {
	CURL *curl;
	struct upstream_options o;
	char errbuf[CURL_ERROR_SIZE];
	bool too_big;
	char why[256]; /* the last attempt's transport failure, "" if none */
	uint64_t deadline_ns; /* now_ns() bound on whole calls; 0: none */
};

/* What one attempt's body receives. */
struct sink {
	struct upstream *u;
	struct buf *body;
};

bool upstream_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

void upstream_global_cleanup(void)
{
	curl_global_cleanup();
}

static unsigned or_default(unsigned v, unsigned d)
{
	return v ? v : d;
}

struct upstream *upstream_new(const struct upstream_options *o)
{
	struct upstream *u = xcalloc(1, sizeof(*u));
	struct upstream_tuning *t = &u->o.tuning;

	u->o = *o;
	t->connect_timeout_ms = or_default(t->connect_timeout_ms, 5000);
	t->timeout_ms = or_default(t->timeout_ms, 30000);
	t->low_speed_limit = or_default(t->low_speed_limit, 100);
	t->low_speed_time_s = or_default(t->low_speed_time_s, 15);
	if (!t->max_body)
		t->max_body = (size_t)10 * 1024 * 1024;
	t->max_attempts = or_default(t->max_attempts, 5);
	t->backoff_base_ms = or_default(t->backoff_base_ms, 200);
	t->backoff_cap_ms = or_default(t->backoff_cap_ms, 10000);
	t->retry_after_cap_s = or_default(t->retry_after_cap_s, 60);
	if (!u->o.name)
		u->o.name = "upstream";
	u->curl = curl_easy_init();
	if (!u->curl)
		die("curl_easy_init failed");
	return u;
}

void upstream_free(struct upstream *u)
{
	if (!u)
		return;
	curl_easy_cleanup(u->curl);
	free(u);
}

void upstream_response_release(struct upstream_response *res)
{
	buf_release(&res->body);
}

const char *upstream_last_error(const struct upstream *u)
{
	return u->why;
}

void upstream_set_deadline(struct upstream *u, uint64_t deadline_ns)
{
	u->deadline_ns = deadline_ns;
}

/* Milliseconds left before u's deadline (UINT64_MAX: none; 0: passed). */
static uint64_t left_ms(const struct upstream *u)
{
	uint64_t now;

	if (!u->deadline_ns)
		return UINT64_MAX;
	now = now_ns();
	return now >= u->deadline_ns ? 0 : (u->deadline_ns - now) / 1000000u;
}

static bool cancelled(const atomic_bool *cancel)
{
	return cancel && atomic_load(cancel);
}

bool upstream_sleep_ms(const atomic_bool *cancel, unsigned ms)
{
	while (ms > 0) {
		unsigned slice = ms < 100 ? ms : 100;
		struct timespec ts = {0, (long)slice * 1000000L};

		if (cancelled(cancel))
			return false;
		nanosleep(&ts, NULL);
		ms -= slice;
	}
	return !cancelled(cancel);
}

unsigned upstream_backoff_ms(const struct upstream_tuning *t, unsigned n)
{
	uint64_t d = t->backoff_base_ms ? t->backoff_base_ms : 200;
	uint64_t cap = t->backoff_cap_ms ? t->backoff_cap_ms : 10000;
	uint32_t r;

	while (n > 1 && d < cap) {
		d *= 2;
		n--;
	}
	if (d > cap)
		d = cap;
	random_bytes(&r, sizeof(r));
	return (unsigned)(d / 2 + r % (d / 2 + 1));
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct sink *k = userdata;
	size_t n = size * nmemb;

	if (!buf_append(k->body, ptr, n)) {
		k->u->too_big = true;
		return 0; /* CURLE_WRITE_ERROR: stop reading, allocate nothing */
	}
	return n;
}

static int on_progress(void *clientp, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct upstream *u = clientp;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return cancelled(u->o.cancel) ? 1 : 0;
}

bool upstream_urlencode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[3];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
			if (!buf_append(b, s, 1))
				return false;
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		if (!buf_append(b, esc, 3))
			return false;
	}
	return true;
}

void upstream_track_id(const char *id, char *out, size_t n)
{
	size_t k = 0;

	if (n == 0)
		return;
	for (; id && *id && k + 1 < n && k < 64; id++) {
		char c = *id;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')
			out[k++] = c;
	}
	out[k] = '\0';
	if (k == 0 && n >= 33) {
		unsigned char r[16];

		random_bytes(r, sizeof(r));
		hex_encode(r, sizeof(r), out);
	}
}

/* Set every option of one attempt; the handle is reset first so nothing
 * from an earlier request leaks into this one (connections are kept). */
static enum err setup(struct upstream *u, const struct upstream_request *req,
		      struct sink *k, struct curl_slist **hdrs)
{
	const struct upstream_tuning *t = &u->o.tuning;
	char why[128], line[1200];
	bool plain = strncasecmp(req->url, "http://", 7) == 0;
	const char *const *h;
	CURL *c = u->curl;

	if (!config_url_allowed(req->url, why, sizeof(why))) {
		log_warn("%s: refusing URL: %s", u->o.name, why);
		snprintf(u->why, sizeof(u->why), "URL refused: %s", why);
		return ERR_INVALID;
	}
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	/* http only when config_url_allowed saw a loopback host. */
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, plain ? "http" : "https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	{
		/* An attempt never outlives the call's deadline. */
		uint64_t left = left_ms(u);
		uint64_t total = left < t->timeout_ms ? left : t->timeout_ms;
		uint64_t conn = left < t->connect_timeout_ms ? left : t->connect_timeout_ms;

		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(conn ? conn : 1));
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(total ? total : 1));
	}
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, (long)t->low_speed_limit);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)t->low_speed_time_s);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->max_body);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (u->o.ca_file && *u->o.ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, u->o.ca_file);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "resellerd/" RESELLERD_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, u->errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, k);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, u);
	if (strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	*hdrs = curl_slist_append(NULL, "Accept: application/json");
	/* libcurl would add "Expect: 100-continue" to large POSTs. */
	*hdrs = curl_slist_append(*hdrs, "Expect:");
	if (req->content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s", req->content_type);
		*hdrs = curl_slist_append(*hdrs, line);
	}
	if (req->bearer) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", req->bearer);
		*hdrs = curl_slist_append(*hdrs, line);
	}
	if (req->track_id && *req->track_id) {
		snprintf(line, sizeof(line), "Zuora-Track-Id: %s", req->track_id);
		*hdrs = curl_slist_append(*hdrs, line);
	}
	for (h = req->headers; h && *h; h++)
		*hdrs = curl_slist_append(*hdrs, *h);
	if (!*hdrs)
		die("out of memory building request headers");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
	return ERR_OK;
}

/* Transport outcome of one attempt: ERR_OK (an HTTP response), or an
 * error with *transient telling whether another attempt may help. */
static enum err classify_curl(struct upstream *u, CURLcode rc, bool *transient)
{
	*transient = false;
	if (rc == CURLE_OK)
		return ERR_OK;
	if (u->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(u->why, sizeof(u->why), "response body over the %zu-byte cap",
			 u->o.tuning.max_body);
		log_warn("%s: %s", u->o.name, u->why);
		return ERR_TOO_LARGE;
	}
	if (rc == CURLE_ABORTED_BY_CALLBACK) {
		snprintf(u->why, sizeof(u->why), "cancelled");
		return ERR_UNAVAILABLE;
	}
	/* libcurl's own detail says which certificate check or limit failed. */
	snprintf(u->why, sizeof(u->why), "%s", u->errbuf[0] ? u->errbuf : curl_easy_strerror(rc));
	log_warn("%s: transfer failed: %s (%s)", u->o.name, curl_easy_strerror(rc),
		 u->errbuf[0] ? u->errbuf : "-");
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		*transient = true;
		return ERR_TIMEOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		*transient = true;
		return ERR_UNAVAILABLE;
	default:
		/* TLS verification, bad protocol, malformed URL: fail closed. */
		return ERR_UPSTREAM;
	}
}

static bool status_transient(long status)
{
	return status == 408 || status == 429 || status == 500 || status == 502 ||
	       status == 503 || status == 504;
}

static void count(struct upstream *u, enum metric_counter c)
{
	if (u->o.metrics)
		metrics_inc(u->o.metrics, c, 1);
}

/* One attempt: reset the body, perform, read status and Retry-After. */
static enum err attempt(struct upstream *u, const struct upstream_request *req,
			struct upstream_response *res, long *retry_after,
			bool *transient)
{
	struct curl_slist *hdrs = NULL;
	struct sink k = {u, &res->body};
	curl_off_t ra = -1;
	char *location = NULL;
	CURLcode rc;
	enum err e;

	buf_reset(&res->body);
	res->status = 0;
	u->too_big = false;
	u->errbuf[0] = '\0';
	u->why[0] = '\0';
	*transient = false;
	e = setup(u, req, &k, &hdrs);
	if (e)
		goto out;
	count(u, u->o.counters.calls);
	rc = curl_easy_perform(u->curl);
	e = classify_curl(u, rc, transient);
	if (e)
		goto out;
	curl_easy_getinfo(u->curl, CURLINFO_RESPONSE_CODE, &res->status);
	if (curl_easy_getinfo(u->curl, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
		*retry_after = (long)ra;
	if (!res->body.ptr)
		buf_append(&res->body, "", 0);
	if (res->status >= 300 && res->status < 400) {
		/* Where it would have gone (upstream data: shortened). */
		curl_easy_getinfo(u->curl, CURLINFO_REDIRECT_URL, &location);
		snprintf(u->why, sizeof(u->why), "refused to follow an HTTP %ld redirect to %.160s",
			 res->status, location ? location : "(no Location)");
		log_warn("%s: %s", u->o.name, u->why);
		e = ERR_UPSTREAM;
	}
out:
	curl_slist_free_all(hdrs);
	return e;
}

/* How long to wait before the next attempt. */
static unsigned wait_ms(const struct upstream *u, unsigned retry_no, long retry_after)
{
	const struct upstream_tuning *t = &u->o.tuning;

	if (retry_after > 0) {
		long cap = (long)t->retry_after_cap_s;

		return (unsigned)((retry_after < cap ? retry_after : cap) * 1000);
	}
	return upstream_backoff_ms(t, retry_no);
}

enum err upstream_call(struct upstream *u, struct upstream_request *req,
		       struct upstream_response *res)
{
	unsigned tries = 0, reauths = 0;
	bool just_reauthed = false; /* the last attempt carried a new token */
	enum err e = ERR_UNAVAILABLE;

	memset(res, 0, sizeof(*res));
	buf_init(&res->body, u->o.tuning.max_body);
	while (tries < u->o.tuning.max_attempts) {
		enum upstream_verdict v = UPSTREAM_ACCEPT;
		long retry_after = 0;
		unsigned wait;
		bool transient;

		if (cancelled(u->o.cancel)) {
			snprintf(u->why, sizeof(u->why), "cancelled");
			return ERR_UNAVAILABLE;
		}
		if (left_ms(u) == 0) {
			snprintf(u->why, sizeof(u->why), "out of time for the request");
			count(u, u->o.counters.errors);
			return ERR_TIMEOUT;
		}
		tries++;
		res->attempts = tries;
		e = attempt(u, req, res, &retry_after, &transient);
		if (e || res->status != 401)
			just_reauthed = false;
		if (e && !transient)
			break;
		if (!e) {
			if (req->classify)
				v = req->classify(req->cls, res->status, res->body.ptr,
						  res->body.len);
			else if (res->status == 401 && req->reauth)
				v = UPSTREAM_REAUTH;
			if (v == UPSTREAM_ACCEPT && status_transient(res->status))
				v = UPSTREAM_RETRY;
			if (v == UPSTREAM_ACCEPT)
				return ERR_OK;
			if (v == UPSTREAM_REAUTH) {
				/* UPSTREAM.md 1.2: "On a 401, get a new token and
				 * retry once": a 401 on the retry that followed a
				 * new token goes to the caller. A 401 after other
				 * retries (a 429 wait, a 503) is a new expiry and
				 * gets its own new token, at most two per call. */
				if (just_reauthed || reauths >= 2 || !req->reauth)
					return ERR_OK; /* the caller sees the 401 */
				reauths++;
				just_reauthed = true;
				tries--; /* a fresh token is not a retry */
				e = req->reauth(req->cls, req);
				if (e)
					return e;
				continue;
			}
		}
		if (tries >= u->o.tuning.max_attempts)
			break;
		wait = wait_ms(u, tries, retry_after);
		if ((uint64_t)wait >= left_ms(u)) {
			/* The wait (a Retry-After, a backoff) would not leave
			 * time for another attempt: answer with this one now. */
			log_info("%s: no time left to retry %s after %s (wait %u ms)", u->o.name,
				 req->method, e ? err_slug(e) : "a transient answer", wait);
			break;
		}
		count(u, u->o.counters.retries);
		log_info("%s: retry %u of %s after %s", u->o.name, tries, req->method,
			 e ? err_slug(e) : "a transient answer");
		if (!upstream_sleep_ms(u->o.cancel, wait)) {
			snprintf(u->why, sizeof(u->why), "cancelled");
			return ERR_UNAVAILABLE;
		}
	}
	count(u, u->o.counters.errors);
	if (!e)
		return ERR_OK; /* retries exhausted on a status: the caller maps it */
	return e;
}

/* ===== timestamps ===== */

static bool digits(const char *s, int n, int *out)
{
	int v = 0, k;

	for (k = 0; k < n; k++) {
		if (s[k] < '0' || s[k] > '9')
			return false;
		v = v * 10 + (s[k] - '0');
	}
	*out = v;
	return true;
}

/* Days since 1970-01-01 in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool parse_zone(const char *p, int64_t *off_ms)
{
	int hh, mm, sign = 1;

	if (*p == 'Z' || *p == 'z') {
		*off_ms = 0;
		return p[1] == '\0';
	}
	if (*p != '+' && *p != '-')
		return false;
	if (*p == '-')
		sign = -1;
	p++;
	if (!digits(p, 2, &hh))
		return false;
	p += 2;
	if (*p == ':')
		p++;
	if (!digits(p, 2, &mm) || p[2] != '\0' || hh > 23 || mm > 59)
		return false;
	*off_ms = sign * ((int64_t)hh * 3600 + mm * 60) * 1000;
	return true;
}

bool upstream_is_date(const char *s)
{
	int y, m, d;

	return s && strlen(s) == 10 && digits(s, 4, &y) && s[4] == '-' &&
	       digits(s + 5, 2, &m) && s[7] == '-' && digits(s + 8, 2, &d) &&
	       m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

bool upstream_parse_time(const char *s, int64_t *ms)
{
	int y, mo, d, h = 0, mi = 0, se = 0, frac = 0, nfrac = 0;
	int64_t off = 0;
	const char *p = s;

	if (!s || strlen(s) < 10 || !digits(p, 4, &y) || p[4] != '-' ||
	    !digits(p + 5, 2, &mo) || p[7] != '-' || !digits(p + 8, 2, &d))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || y < 1970 || y > 9999)
		return false;
	p += 10;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		if (!digits(p + 1, 2, &h) || p[3] != ':' || !digits(p + 4, 2, &mi) ||
		    p[6] != ':' || !digits(p + 7, 2, &se))
			return false;
		if (h > 23 || mi > 59 || se > 60)
			return false;
		p += 9;
		if (*p == '.') {
			p++;
			while (*p >= '0' && *p <= '9') {
				if (nfrac < 3)
					frac = frac * 10 + (*p - '0');
				nfrac++;
				p++;
			}
			if (nfrac == 0 || nfrac > 9)
				return false;
			while (nfrac < 3) {
				frac *= 10;
				nfrac++;
			}
		}
		if (!parse_zone(p, &off))
			return false;
	} else if (*p != '\0') {
		return false;
	}
	*ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se) * 1000 +
	       frac) - off;
	return true;
}

void upstream_format_time(int64_t ms, char *out, size_t n)
{
	time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	int rest = (int)(ms - (int64_t)secs * 1000);
	struct tm tm;
	char date[32];

	gmtime_r(&secs, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, n, "%s.%03dZ", date, rest);
}

/* ===== identifiers ===== */

bool upstream_identifier_ok(const char *s, bool dots)
{
	size_t n = 0;
	bool prev_dot = true;

	if (!s)
		return false;
	for (; s[n]; n++) {
		char c = s[n];

		if (n >= 80)
			return false;
		if (c == '.') {
			if (!dots || prev_dot)
				return false;
			prev_dot = true;
			continue;
		}
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return false;
		prev_dot = false;
	}
	return n > 0 && !prev_dot;
}

/* ===== JSON access for the mappers ===== */

static const json_t *get_one(const json_t *o, const char *key, size_t keylen)
{
	const char *k;
	json_t *v;
	char exact[128];

	if (!json_is_object(o) || keylen >= sizeof(exact))
		return NULL;
	memcpy(exact, key, keylen);
	exact[keylen] = '\0';
	v = json_object_get(o, exact);
	if (v)
		return json_is_null(v) ? NULL : v;
	json_object_foreach((json_t *)(uintptr_t)o, k, v) {
		if (strlen(k) == keylen && strncasecmp(k, key, keylen) == 0)
			return json_is_null(v) ? NULL : v;
	}
	return NULL;
}

const json_t *uj_get(const json_t *o, const char *key)
{
	const char *dot;

	while ((dot = strchr(key, '.')) != NULL) {
		o = get_one(o, key, (size_t)(dot - key));
		if (!o)
			return NULL;
		key = dot + 1;
	}
	return get_one(o, key, strlen(key));
}

const char *uj_str(const json_t *o, const char *key)
{
	const json_t *v = uj_get(o, key);
	size_t n;

	if (!json_is_string(v))
		return NULL;
	n = json_string_length(v);
	if (n == 0 || n > UJ_MAX_STR || strlen(json_string_value(v)) != n)
		return NULL;
	return json_string_value(v);
}

char *uj_dup(const json_t *o, const char *key)
{
	const char *s = uj_str(o, key);

	return s ? xstrdup(s) : NULL;
}

enum tristate uj_bool(const json_t *o, const char *key)
{
	const json_t *v = uj_get(o, key);
	const char *s;

	if (json_is_boolean(v))
		return json_is_true(v) ? TRI_TRUE : TRI_FALSE;
	s = json_is_string(v) ? json_string_value(v) : NULL;
	if (s && strcasecmp(s, "true") == 0)
		return TRI_TRUE;
	if (s && strcasecmp(s, "false") == 0)
		return TRI_FALSE;
	return TRI_NULL;
}

bool uj_long(const json_t *o, const char *key, long min, long max, long *out)
{
	const json_t *v = uj_get(o, key);

	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		if (i < min || i > max)
			return false;
		*out = (long)i;
		return true;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);

		if (d < (double)min || d > (double)max || d != (double)(long)d)
			return false;
		*out = (long)d;
		return true;
	}
	if (json_is_string(v))
		return parse_long(json_string_value(v), min, max, out);
	return false;
}

bool uj_time(const json_t *o, const char *key, int64_t *ms, char *text, size_t n)
{
	const char *s = uj_str(o, key);

	if (!s || !upstream_parse_time(s, ms))
		return false;
	upstream_format_time(*ms, text, n);
	return true;
}

json_t *uj_parse(const char *body, size_t len, char *why, size_t whylen)
{
	json_error_t je;
	json_t *j;

	if (!body || len == 0) {
		snprintf(why, whylen, "empty response body");
		return NULL;
	}
	j = json_loadb(body, len, JSON_DECODE_ANY, &je);
	if (!j)
		snprintf(why, whylen, "invalid JSON at byte %d: %s", je.position, je.text);
	return j;
}

void *uj_page_push(struct upstream_page *p, size_t *cap, size_t sz)
{
	char *row;

	if (p->n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		p->rows = xrealloc(p->rows, *cap * sz);
	}
	row = (char *)p->rows + p->n * sz;
	memset(row, 0, sz);
	p->n++;
	return row;
}

void uj_page_time(struct upstream_page *p, int64_t ms)
{
	if (p->n == 1) {
		p->min_ms = p->max_ms = ms;
		p->sorted = true;
		return;
	}
	if (ms < p->max_ms)
		p->sorted = false;
	if (ms > p->max_ms)
		p->max_ms = ms;
	if (ms < p->min_ms)
		p->min_ms = ms;
}

void uj_page_skip(struct upstream_page *p, const char *what, const json_t *rec,
		  const char *why)
{
	const char *id = json_is_object(rec) ? uj_str(rec, "Id") : NULL;

	p->skipped++;
	if (p->skipped <= 5)
		log_warn("skipping a %s record%s%.64s: %s", what, id ? " " : "",
			 id ? id : "", why);
	else if (p->skipped == 6)
		log_warn("skipping more %s records on this page (not logged)", what);
}

void upstream_page_release(struct upstream_page *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		switch (p->obj) {
		case SYNC_ZUORA_ACCOUNT:
			zuora_account_row_release((struct zuora_account_row *)p->rows + i);
			break;
		case SYNC_ZUORA_CONTACT:
			zuora_contact_row_release((struct zuora_contact_row *)p->rows + i);
			break;
		case SYNC_ZUORA_SUBSCRIPTION:
			zuora_subscription_row_release((struct zuora_subscription_row *)p->rows + i);
			break;
		case SYNC_SF_QUOTE:
			sf_quote_row_release((struct sf_quote_row *)p->rows + i);
			break;
		case SYNC_SF_OPPORTUNITY_PARTNER:
			sf_partner_row_release((struct sf_partner_row *)p->rows + i);
			break;
		case SYNC_OBJECT__COUNT:
			break;
		}
	}
	free(p->rows);
	free(p->next);
	memset(p, 0, sizeof(*p));
}
