#pragma once
/*
 * app: the wiring of one running service, shared by the handlers. Built by
 * cmd/resellerd/main.c (and by tests), torn down in reverse order.
 */
#include <stdatomic.h>
#include <stdbool.h>

#include "config.h"
#include "http.h"
#include "metrics.h"
#include "router.h"
#include "store.h"

struct auth;
struct catalog;
struct dcache;
struct sync;
struct refresh;
struct audit;

struct app {
	struct config cfg;
	struct store *store;
	struct metrics *metrics;
	struct http_server *http;
	struct auth *auth;
	struct catalog *catalog;
	struct dcache *dcache;
	struct store_listener *listener;
	struct sync *sync;
	struct refresh *refresh;
	struct audit *audit;
	atomic_bool draining; /* SIGTERM seen: /readyz answers 503 */
	double start_time;
	char *tls_pem[2]; /* certificate and key text while serving HTTPS */
};

/* The route table and its size (handlers.c). */
const struct route *app_routes(size_t *n);

/* http_options.dispatch: route, authorize, run the handler. */
void app_dispatch(void *cls, struct http_request *req, struct http_response *res);
/* http_options.complete: one access log line and the request metrics. */
void app_complete(void *cls, const struct http_request *req,
		  const struct http_response *res, double seconds);
