#pragma once
/*
 * router: one static route table of {method, pattern, handler, scope}
 * (redis's command table), matched segment by segment. "{name}" in a
 * pattern captures one non-empty segment. No priorities, no wildcards.
 */
#include <stdbool.h>
#include <stddef.h>

struct app;
struct http_request;
struct http_response;

enum scope {
	SCOPE_NONE = 0, /* public: health, metrics, docs, the webhook */
	SCOPE_READ,
	SCOPE_ADMIN,    /* admin implies read */
};

struct route_match;
typedef void (*route_fn)(struct app *app, const struct http_request *req,
			 const struct route_match *m, struct http_response *res);

struct route {
	const char *method; /* "GET", "POST" */
	const char *pattern;
	route_fn fn;
	enum scope scope;
	const char *name; /* metrics label: the pattern, never an id */
	/* fn never blocks, or checks req->may_block itself and defers; other
	 * routes always run on an HTTP worker thread (lib/http.c) */
	bool nonblocking;
};

#define ROUTER_MAX_PARAMS 2

struct route_match {
	const struct route *route;
	size_t index; /* into the table */
	size_t n_params;
	const char *param[ROUTER_MAX_PARAMS]; /* points into the path */
	size_t param_len[ROUTER_MAX_PARAMS];
	char allow[64]; /* for 405: the methods that path does accept */
};

enum router_result {
	ROUTE_FOUND = 0,
	ROUTE_NOT_FOUND,
	ROUTE_BAD_METHOD,
};

/*
 * Match method and path against table[0..n). HEAD matches GET routes.
 * Fills m (params borrow from path). On ROUTE_BAD_METHOD, m->allow lists
 * the accepted methods ("GET, HEAD").
 */
enum router_result router_match(const struct route *table, size_t n,
				const char *method, const char *path,
				struct route_match *m);

/* true when the route needs at least `have` scope... i.e. have suffices. */
bool scope_allows(enum scope have, enum scope need);
const char *scope_name(enum scope s);
/* "read" / "admin"; -1 when unknown. */
int scope_parse(const char *s);
