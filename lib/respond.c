#include "respond.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void respond_json(struct http_response *res, unsigned status, json_t *v)
{
	char *body = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);

	json_decref(v);
	if (!body)
		die("json_dumps failed (out of memory)");
	http_set_body(res, status, CT_JSON, body, strlen(body));
}

json_t *problem_object(const struct http_request *req, enum err e, const char *detail)
{
	char type[96];

	snprintf(type, sizeof(type), "urn:resellerd:problem:%s", err_slug(e));
	return json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}", "type", type, "title",
			 err_title(e), "status", (int)err_http_status(e), "detail",
			 detail ? detail : err_title(e), "instance",
			 req->path ? req->path : "/", "request_id", req->request_id);
}

void respond_problem(struct http_response *res, const struct http_request *req,
		     enum err e, const char *detail)
{
	json_t *p = problem_object(req, e, detail);
	char *body = json_dumps(p, JSON_COMPACT | JSON_ENSURE_ASCII);

	json_decref(p);
	if (!body)
		die("json_dumps failed (out of memory)");
	http_set_body(res, err_http_status(e), CT_PROBLEM, body, strlen(body));
	if (e == ERR_UNAVAILABLE || e == ERR_RATE_LIMITED)
		http_set_header(res, "Retry-After", "1");
	if (e == ERR_UNAUTHORIZED)
		http_set_header(res, "WWW-Authenticate",
				"Bearer realm=\"resellerd\", error=\"invalid_token\"");
	if (e == ERR_FORBIDDEN)
		http_set_header(res, "WWW-Authenticate",
				"Bearer realm=\"resellerd\", error=\"insufficient_scope\"");
}

void respond_text(struct http_response *res, unsigned status, const char *ctype,
		  const char *text, size_t len)
{
	http_set_body(res, status, ctype, xstrndup(text, len), len);
}
