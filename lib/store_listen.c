/*
 * The change feed listener: one dedicated session that LISTENs on
 * resellerd_changes (migration 0003) and hands each payload to a
 * callback, on its own thread. After the session is lost it reconnects
 * with backoff and reports "*" (notifications may have been missed, so
 * everything cached is suspect).
 */
#include "store_internal.h"

#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"

struct store_listener {
	char *url;
	unsigned connect_timeout_s;
	store_listen_fn fn;
	void *cls;
	pthread_t thread;
	atomic_bool stop;
};

static void nap_ms(struct store_listener *l, unsigned ms)
{
	struct timespec ts = {0, 50 * 1000 * 1000};

	while (ms >= 50 && !atomic_load(&l->stop)) {
		nanosleep(&ts, NULL);
		ms -= 50;
	}
}

static PGconn *listen_connect(struct store_listener *l)
{
	PGconn *pg = store_connect(l->url, l->connect_timeout_s, 0, "resellerd listener");

	if (PQstatus(pg) != CONNECTION_OK || store_simple(pg, "LISTEN resellerd_changes")) {
		PQfinish(pg);
		return NULL;
	}
	return pg;
}

static void *listen_main(void *arg)
{
	struct store_listener *l = arg;
	unsigned backoff = 100;
	PGconn *pg = NULL;
	bool had_session = false;

	while (!atomic_load(&l->stop)) {
		struct pollfd pfd;
		PGnotify *n;

		if (!pg) {
			pg = listen_connect(l);
			if (!pg) {
				nap_ms(l, backoff);
				backoff = backoff < 5000 ? backoff * 2 : 5000;
				continue;
			}
			backoff = 100;
			/* Changes made while we were not listening are unknown. */
			if (had_session)
				l->fn(l->cls, "*");
			had_session = true;
		}
		pfd.fd = PQsocket(pg);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, 200) < 0)
			continue;
		if (!PQconsumeInput(pg) || PQstatus(pg) != CONNECTION_OK) {
			log_warn("change feed session lost; reconnecting");
			PQfinish(pg);
			pg = NULL;
			continue;
		}
		while ((n = PQnotifies(pg)) != NULL) {
			l->fn(l->cls, n->extra);
			PQfreemem(n);
		}
	}
	if (pg)
		PQfinish(pg);
	return NULL;
}

struct store_listener *store_listen_start(const char *url, unsigned connect_timeout_s,
					  store_listen_fn fn, void *cls)
{
	struct store_listener *l = xcalloc(1, sizeof(*l));

	l->url = xstrdup(url);
	l->connect_timeout_s = connect_timeout_s;
	l->fn = fn;
	l->cls = cls;
	atomic_init(&l->stop, false);
	if (pthread_create(&l->thread, NULL, listen_main, l) != 0)
		die("cannot start the change feed thread");
	return l;
}

void store_listen_stop(struct store_listener *l)
{
	if (!l)
		return;
	atomic_store(&l->stop, true);
	pthread_join(l->thread, NULL);
	free(l->url);
	free(l);
}
