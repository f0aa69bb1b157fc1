#include "errors.h"

static const struct {
	unsigned status;
	const char *slug;
	const char *title;
} table[ERR__COUNT] = {
	[ERR_OK] = {200, "ok", "OK"},
	[ERR_INVALID] = {400, "invalid-request", "Bad Request"},
	[ERR_UNAUTHORIZED] = {401, "unauthorized", "Unauthorized"},
	[ERR_FORBIDDEN] = {403, "forbidden", "Forbidden"},
	[ERR_NOT_FOUND] = {404, "not-found", "Not Found"},
	[ERR_METHOD] = {405, "method-not-allowed", "Method Not Allowed"},
	[ERR_NOT_ACCEPTABLE] = {406, "not-acceptable", "Not Acceptable"},
	[ERR_CONFLICT] = {409, "conflict", "Conflict"},
	[ERR_TOO_LARGE] = {413, "content-too-large", "Content Too Large"},
	[ERR_URI_TOO_LONG] = {414, "uri-too-long", "URI Too Long"},
	[ERR_MEDIA_TYPE] = {415, "unsupported-media-type", "Unsupported Media Type"},
	[ERR_UNPROCESSABLE] = {422, "unprocessable", "Unprocessable Content"},
	[ERR_RATE_LIMITED] = {429, "rate-limited", "Too Many Requests"},
	[ERR_HEADERS_TOO_LARGE] = {431, "headers-too-large", "Request Header Fields Too Large"},
	[ERR_INTERNAL] = {500, "internal", "Internal Server Error"},
	[ERR_UPSTREAM] = {502, "upstream-error", "Bad Gateway"},
	[ERR_UNAVAILABLE] = {503, "unavailable", "Service Unavailable"},
	[ERR_TIMEOUT] = {504, "upstream-timeout", "Gateway Timeout"},
};

unsigned err_http_status(enum err e)
{
	return (unsigned)e < ERR__COUNT ? table[e].status : 500;
}

const char *err_slug(enum err e)
{
	return (unsigned)e < ERR__COUNT ? table[e].slug : "internal";
}

const char *err_title(enum err e)
{
	return (unsigned)e < ERR__COUNT ? table[e].title : "Internal Server Error";
}
