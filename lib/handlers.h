#pragma once
/*
 * handlers: one function per route, each parse -> validate -> call ->
 * render. Declared here so the route table (handlers.c) can name them.
 */
#include "app.h"
#include "respond.h"

#define HANDLER(name) \
	void name(struct app *app, const struct http_request *req, \
		  const struct route_match *m, struct http_response *res)

/* handlers.c: health, metrics, status, spec */
HANDLER(h_livez);
HANDLER(h_readyz);
HANDLER(h_metrics);
HANDLER(h_status);
HANDLER(h_openapi);

/* handlers_v1.c: the /v1 API */
HANDLER(h_channel);
HANDLER(h_batch);
HANDLER(h_evaluate);
HANDLER(h_search);
HANDLER(h_partners);
HANDLER(h_workflows);
HANDLER(h_workflow);



/* handlers_docs.c: the HTML API reference (web/docs.html) */
HANDLER(h_docs);

/* handlers_web.c: the support engineer's lookup page */
HANDLER(h_index);
HANDLER(h_static);

/* handlers_sync.c and handlers_webhook.c */
HANDLER(h_sync_status);
HANDLER(h_sync_start);
HANDLER(h_webhook_zuora);
/* Per source (0 zuora, 1 salesforce): Unix time of the last success of
 * its stalest object (0: never) and the age of its newest data (-1). */
void sync_freshness(struct app *app, double last_success[2], double lag[2]);
