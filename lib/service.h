#pragma once
/*
 * service: build, start and stop one resellerd (used by the daemon's
 * main and by in-process tests). Order of start: config, log, store,
 * schema check, auth, caches, HTTP, sync. Stop reverses it.
 */
#include <stddef.h>

#include "app.h"

/* Load configuration and allocate modules; nothing listens yet. 0 or -1
 * with a message in err. Release with service_release even on failure. */
int service_init(struct app *app, char *err, size_t errlen);
/* Check the schema, listen, start background work. 0 or -1 with err. */
int service_start(struct app *app, char *err, size_t errlen);
/* /readyz 503, stop accepting, drain in-flight (bounded), stop HTTP and
 * sync. */
void service_stop(struct app *app);
void service_release(struct app *app);
