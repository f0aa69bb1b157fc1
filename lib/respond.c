#include "respond.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void respond_json(struct http_response *res, unsigned status, json_t *v)
{
	char *body = v ? json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;

	json_decref(v);
	if (!body) { /* a value jansson refused: a bug, never a crash */
		body = xstrdup("{\"type\":\"urn:resellerd:problem:internal\",\"title\":\"Internal Server Error\",\"status\":500}");
		status = 500;
	}
	http_set_body(res, status, CT_JSON, body, strlen(body));
}

/* Client text echoed in a problem (path, details quoting input) may be
 * anything: keep printable ASCII, percent-encode every other byte, so the
 * JSON is always valid UTF-8 and never refused by jansson. */
static void safe_text(const char *in, char *out, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; in && *in && o + 4 < n; in++) {
		unsigned char c = (unsigned char)*in;

		if (c >= 0x20 && c < 0x7f) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

json_t *problem_object(const struct http_request *req, enum err e, const char *detail)
{
	char type[96], path[512], text[512];
	json_t *v;

	snprintf(type, sizeof(type), "urn:resellerd:problem:%s", err_slug(e));
	safe_text(req->path ? req->path : "/", path, sizeof(path));
	safe_text(detail ? detail : err_title(e), text, sizeof(text));
	v = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}", "type", type, "title", err_title(e),
		      "status", (int)err_http_status(e), "detail", text, "instance", path,
		      "request_id", req->request_id);
	return v ? v : json_object();
}

/* The problem+json body alone, no headers. */
static void problem_body(struct http_response *res, const struct http_request *req,
			 enum err e, const char *detail)
{
	json_t *p = problem_object(req, e, detail);
	char *body = json_dumps(p, JSON_COMPACT | JSON_ENSURE_ASCII);

	json_decref(p);
	if (!body)
		body = xstrdup("{}");
	http_set_body(res, err_http_status(e), CT_PROBLEM, body, strlen(body));
}

void respond_challenge(struct http_response *res, const struct http_request *req,
		       const char *challenge, const char *detail)
{
	problem_body(res, req, ERR_UNAUTHORIZED, detail);
	http_set_header(res, "WWW-Authenticate", challenge);
}

void respond_problem(struct http_response *res, const struct http_request *req,
		     enum err e, const char *detail)
{
	if (e == ERR_UNAUTHORIZED) {
		respond_challenge(res, req, "Bearer realm=\"resellerd\", error=\"invalid_token\"",
				  detail);
		return;
	}
	problem_body(res, req, e, detail);
	if (e == ERR_UNAVAILABLE || e == ERR_RATE_LIMITED)
		http_set_header(res, "Retry-After", "1");
	if (e == ERR_FORBIDDEN)
		http_set_header(res, "WWW-Authenticate",
				"Bearer realm=\"resellerd\", error=\"insufficient_scope\"");
}

void respond_text(struct http_response *res, unsigned status, const char *ctype,
		  const char *text, size_t len)
{
	http_set_body(res, status, ctype, xstrndup(text, len), len);
}
