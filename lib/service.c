#include "service.h"

#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "audit.h"
#include "auth.h"
#include "catalog.h"
#include "dcache.h"
#include "refresh.h"
#include "sync.h"
#include "log.h"
#include "util.h"

int service_init(struct app *app, char *err, size_t errlen)
{
	const struct route *routes;
	const char *names[METRICS_MAX_ROUTES];
	struct store_options so;
	size_t n, i;

	memset(app, 0, sizeof(*app));
	atomic_init(&app->draining, false);
	app->start_time = now_unix();
	if (!config_load(&app->cfg, NULL, err, errlen))
		return -1;
	log_set_level((enum log_level)log_level_parse(app->cfg.log_level));

	memset(&so, 0, sizeof(so));
	so.url = app->cfg.database_url;
	so.pool_size = (unsigned)app->cfg.db_pool_size;
	so.checkout_timeout_ms = (unsigned)app->cfg.db_checkout_timeout_ms;
	so.statement_timeout_ms = (unsigned)app->cfg.db_statement_timeout_ms;
	so.connect_timeout_s = (unsigned)app->cfg.db_connect_timeout_s;
	so.application_name = "resellerd";
	app->store = store_open(&so);

	routes = app_routes(&n);
	for (i = 0; i < n && i < METRICS_MAX_ROUTES; i++)
		names[i] = routes[i].name;
	app->metrics = metrics_new(names, i);
	app->auth = auth_new(app->store, app->metrics, (unsigned)app->cfg.token_cache_ttl_s);
	app->catalog = catalog_new(app->store, 5);
	app->dcache = dcache_new((size_t)app->cfg.decision_cache_mb << 20, app->metrics);
	return 0;
}

/*
 * The change feed (migration 0003) tells every instance which records
 * changed; decisions that depend on them become stale in the cache.
 * Dependency keys are "<kind>:<id>", the same as lib/handlers_v1.c uses.
 */
static void on_change(void *cls, const char *payload)
{
	struct app *app = cls;
	char dep[DCACHE_KEY_MAX];
	const char *p;

	if (payload[0] == '*' || payload[0] == '\0' || payload[1] != ':') {
		dcache_invalidate_all(app->dcache);
		catalog_invalidate(app->catalog);
		return;
	}
	for (p = payload + 2; *p;) {
		size_t n = strcspn(p, ",");

		if (n + 2 < sizeof(dep)) {
			snprintf(dep, sizeof(dep), "%c:%.*s", payload[0], (int)n, p);
			dcache_invalidate(app->dcache, dep);
		} else {
			dcache_invalidate_all(app->dcache);
		}
		p += n;
		if (*p == ',')
			p++;
	}
}

/* A PEM file's text (at most 1 MiB), or NULL. */
static char *read_pem(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	buf_init(&b, 1 << 20);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (!buf_append(&b, chunk, n))
			break;
	fclose(f);
	return b.ptr;
}

int service_start(struct app *app, char *err, size_t errlen)
{
	char *tls_cert = NULL, *tls_key = NULL;
	struct http_options ho;
	char why[256];
	enum err e;

	config_log(&app->cfg);
	e = store_ready(app->store, why, sizeof(why));
	if (e == ERR_CONFLICT) {
		snprintf(err, errlen, "refusing to start: %s", why);
		return -1;
	}
	if (e)
		log_warn("starting while the database is unavailable (%s); /readyz says 503 until it is back",
			 why);

	/* Sync runs in its own thread, never on a request thread; with
	 * RESELLERD_SYNC_INTERVAL=0 it runs only when POST /v1/sync asks. */
	app->sync = sync_new(&app->cfg, app->store, app->metrics);
	sync_start_background(app->sync, (unsigned)app->cfg.sync_interval);
	app->refresh = refresh_new(app);
	refresh_start(app->refresh);
	/* 32768 entries of about 220 bytes: 7 MiB, a second of lookups at
	 * full speed while the database is briefly slow. */
	app->audit = audit_new(app, 32768);
	audit_start(app->audit);
	if (app->cfg.decision_cache_mb > 0)
		app->listener = store_listen_start(app->cfg.database_url,
						   (unsigned)app->cfg.db_connect_timeout_s, on_change, app);

	memset(&ho, 0, sizeof(ho));
	ho.host = app->cfg.listen_host;
	ho.port = (unsigned)app->cfg.listen_port;
	ho.threads = (unsigned)app->cfg.http_threads;
	/* Requests that block mostly wait for a database connection. Four
	 * workers per connection, so that when the pool is exhausted they
	 * wait at the pool and get its 503 after RESELLERD_DB_CHECKOUT_TIMEOUT_MS
	 * instead of queueing, unbounded, behind the workers (lib/http.c). */
	ho.workers = 4 * (unsigned)app->cfg.db_pool_size;
	ho.max_connections = (unsigned)app->cfg.http_max_connections;
	ho.per_ip_connections = (unsigned)app->cfg.http_per_ip_connections;
	ho.timeout_s = (unsigned)app->cfg.http_connection_timeout_s;
	ho.max_body = (size_t)app->cfg.http_max_body;
	if (app->cfg.tls_cert) {
		tls_cert = read_pem(app->cfg.tls_cert);
		tls_key = read_pem(app->cfg.tls_key);
		if (!tls_cert || !tls_key) {
			snprintf(err, errlen, "cannot read RESELLERD_TLS_CERT or RESELLERD_TLS_KEY");
			free(tls_cert);
			free(tls_key);
			return -1;
		}
		ho.tls_cert_pem = tls_cert;
		ho.tls_key_pem = tls_key;
	}
	log_flusher_start();
	ho.dispatch = app_dispatch;
	ho.complete = app_complete;
	ho.cls = app;
	app->http = http_start(&ho, err, errlen);
	/* MHD keeps pointers to the key and certificate for the daemon's
	 * life; they live in app until service_release. */
	app->tls_pem[0] = tls_cert;
	app->tls_pem[1] = tls_key;
	if (!app->http)
		return -1;
	{
		char port[8];
		const char *fields[] = {"server.address", app->cfg.listen_host,
					"#server.port", port, NULL, NULL};

		snprintf(port, sizeof(port), "%u", http_port(app->http));
		log_fields(LOG_INFO, fields, "listening on %s:%u", app->cfg.listen_host,
			   http_port(app->http));
	}
	return 0;
}

void service_stop(struct app *app)
{
	uint64_t deadline = now_ns() + (uint64_t)app->cfg.shutdown_timeout_s * 1000000000u;
	struct timespec tick = {0, 10 * 1000 * 1000};

	atomic_store(&app->draining, true);
	if (!app->http)
		return;
	http_quiesce(app->http);
	while (http_inflight(app->http) > 0 && now_ns() < deadline)
		nanosleep(&tick, NULL);
	if (http_inflight(app->http) > 0)
		log_warn("shutdown timeout: closing %u requests still in flight",
			 http_inflight(app->http));
	http_stop(app->http);
	app->http = NULL;
	log_flusher_stop();
	store_listen_stop(app->listener);
	app->listener = NULL;
	refresh_stop(app->refresh);
	if (app->sync)
		sync_stop(app->sync);
	audit_stop(app->audit);
}

void service_release(struct app *app)
{
	if (app->http)
		http_stop(app->http);
	app->http = NULL;
	log_flusher_stop();
	store_listen_stop(app->listener);
	app->listener = NULL;
	refresh_free(app->refresh);
	app->refresh = NULL;
	audit_free(app->audit);
	app->audit = NULL;
	if (app->sync) {
		sync_stop(app->sync);
		sync_free(app->sync);
	}
	app->sync = NULL;
	dcache_free(app->dcache);
	app->dcache = NULL;
	catalog_free(app->catalog);
	app->catalog = NULL;
	auth_free(app->auth);
	app->auth = NULL;
	metrics_free(app->metrics);
	app->metrics = NULL;
	store_close(app->store);
	app->store = NULL;
	free(app->tls_pem[0]);
	free(app->tls_pem[1]);
	app->tls_pem[0] = app->tls_pem[1] = NULL;
	config_release(&app->cfg);
}
