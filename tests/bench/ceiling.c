/*
 * The ceiling for tests/bench: lib/http.c (the same adapter, flags and
 * limits as resellerd) answering every request with a fixed 600-byte
 * JSON body. Whatever resellerd reaches is measured against this.
 *
 * usage: bench-ceiling PORT THREADS   (THREADS 0 = thread per connection)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "util.h"

static char body[601];

static void dispatch(void *cls, struct http_request *req, struct http_response *res)
{
	(void)cls;
	(void)req;
	http_set_body(res, 200, "application/json", xstrndup(body, 600), 600);
}

int main(int argc, char **argv)
{
	struct http_options o;
	struct http_server *s;
	char err[256];
	long port = 0, threads = 0;
	sigset_t set;
	int sig;

	if (argc != 3 || !parse_long(argv[1], 0, 65535, &port) || !parse_long(argv[2], 0, 64, &threads)) {
		fprintf(stderr, "usage: bench-ceiling PORT THREADS\n");
		return 2;
	}
	memset(body, 'x', 600);
	memcpy(body, "{\"pad\":\"", 8);
	memcpy(body + 598, "\"}", 2);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	memset(&o, 0, sizeof(o));
	o.host = "127.0.0.1";
	o.port = (unsigned)port;
	o.threads = (unsigned)threads;
	o.max_connections = 512;
	o.per_ip_connections = 0;
	o.timeout_s = 10;
	o.max_body = 65536;
	o.dispatch = dispatch;
	s = http_start(&o, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "bench-ceiling: %s\n", err);
		return 1;
	}
	printf("listening on 127.0.0.1:%u\n", http_port(s));
	fflush(stdout);
	sigwait(&set, &sig);
	http_stop(s);
	return 0;
}
