/*
 * resellerd: load config, wire the modules, serve until SIGTERM/SIGINT,
 * then shut down in reverse: /readyz turns 503, stop accepting, drain
 * in-flight requests with a bound, stop sync, close the pool, exit 0.
 */
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "app.h"
#include "auth.h"
#include "log.h"
#include "service.h"
#include "upstream.h"
#include "util.h"

static void usage(FILE *f)
{
	fputs("usage: resellerd [--ready | --version | --help]\n"
	      "\n"
	      "Serves the channel decision API (configuration from the environment:\n"
	      "see README.md). With --ready, probes the running instance's /readyz\n"
	      "at RESELLERD_LISTEN and exits 0 when ready, 1 otherwise (for container\n"
	      "health checks).\n", f);
}

/* A raw-socket probe: the CLI stays free of HTTP client libraries. */
static int probe_ready(const char *host, long port)
{
	struct addrinfo hints, *ai = NULL, *p;
	struct timeval tv = {2, 0};
	char portstr[8], buf[64];
	const char *req = "GET /readyz HTTP/1.0\r\nHost: localhost\r\n\r\n";
	int fd = -1, ok = 0;
	ssize_t n;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof(portstr), "%ld", port);
	if (strcmp(host, "0.0.0.0") == 0 || !*host)
		host = "127.0.0.1";
	else if (strcmp(host, "::") == 0)
		host = "::1";
	if (getaddrinfo(host, portstr, &hints, &ai) != 0)
		return 1;
	for (p = ai; p && fd < 0; p = p->ai_next) {
		fd = socket(p->ai_family, p->ai_socktype, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, p->ai_addr, p->ai_addrlen) != 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	if (fd < 0)
		return 1;
	if (write(fd, req, strlen(req)) == (ssize_t)strlen(req)) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n > 12) {
			buf[n] = '\0';
			ok = strncmp(buf + 9, "200", 3) == 0;
		}
	}
	close(fd);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct app app;
	char err[1024];
	sigset_t set;
	int sig = 0;

	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("resellerd %s (%s)\n", RESELLERD_VERSION, RESELLERD_GIT_REV);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--ready") != 0) {
		usage(stderr);
		return 2;
	}
	/* Block the shutdown signals before any thread starts, so only
	 * sigwait below sees them (glewlwyd's pattern). */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* libcurl's global state, before any thread starts. */
	if (!upstream_global_init()) {
		fprintf(stderr, "resellerd: cannot initialise libcurl\n");
		return 1;
	}
	if (service_init(&app, err, sizeof(err)) != 0) {
		fprintf(stderr, "resellerd: %s\n", err);
		return 1;
	}
	if (argc > 1) { /* --ready */
		int rc = probe_ready(app.cfg.listen_host, app.cfg.listen_port);

		service_release(&app);
		return rc;
	}
	if (service_start(&app, err, sizeof(err)) != 0) {
		log_error("%s", err);
		fprintf(stderr, "resellerd: %s\n", err);
		service_release(&app);
		return 1;
	}
	while (sig != SIGTERM && sig != SIGINT) {
		if (sigwait(&set, &sig) != 0)
			break;
	}
	log_info("signal %d: shutting down", sig);
	service_stop(&app);
	service_release(&app);
	upstream_global_cleanup();
	log_info("stopped");
	return 0;
}
