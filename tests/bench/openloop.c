/*
 * bench-openloop: an open-loop HTTP/1.1 load generator for tests/bench.
 *
 * wrk is closed-loop: each connection sends its next request only when the
 * previous answer has arrived, so while the server stalls it is sent less,
 * and the stall shows in few samples ("coordinated omission"). Here the
 * requests fall due at a fixed rate whatever the server does, and each
 * one's latency counts from when it fell due: time spent waiting for a
 * free connection counts too. wrk2 does this but is not packaged in
 * Debian, and autocannon (npm) measures from the send, not the due time;
 * hence this small tool, written for the bench only.
 *
 * usage: bench-openloop PORT CONNECTIONS RATE SECONDS N TOKEN
 *   GET /v1/subscriptions/A-S<random 1..N>/channel on 127.0.0.1:PORT with
 *   "Authorization: Bearer TOKEN", RATE requests a second for SECONDS
 *   over CONNECTIONS keep-alive connections. Prints one line:
 *   BENCH rps=... p50_ms=... p90_ms=... p99_ms=... p999_ms=... max_ms=...
 *   errors=... (errors: non-200 answers, closed connections, requests
 *   unanswered 2 s after the end). Exit status 1 when nothing was answered.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define RBUF    65536
#define MAXCONN 1024

struct conn {
	int fd;
	double due; /* when its request fell due; < 0: idle */
	size_t rlen;
	char rbuf[RBUF];
};

static struct conn conns[MAXCONN];
static int nconn, port;
static const char *token;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ull;

static uint64_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int epfd;

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void conn_open(struct conn *c)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
	int one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		die("connect");
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0)
		die("epoll_ctl");
	c->due = -1;
	c->rlen = 0;
}

static void conn_reopen(struct conn *c)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	conn_open(c);
}

/* Send one request on idle c; false when the send did not go out whole
 * (never seen on loopback with ~150-byte requests; counted as an error). */
static bool conn_send(struct conn *c, long n, double due)
{
	char req[512];
	int len = snprintf(req, sizeof(req),
	                   "GET /v1/subscriptions/A-S%08ld/channel HTTP/1.1\r\n"
	                   "Host: 127.0.0.1\r\nAuthorization: Bearer %s\r\n\r\n",
	                   (long)(xorshift() % (uint64_t)n) + 1, token);

	c->due = due;
	c->rlen = 0;
	return send(c->fd, req, (size_t)len, MSG_NOSIGNAL) == len;
}

/* A whole response in c->rbuf: its status, or 0 when more is needed. */
static int response_done(struct conn *c)
{
	char *end, *p;
	size_t hdr, clen = 0;

	c->rbuf[c->rlen] = '\0';
	end = strstr(c->rbuf, "\r\n\r\n");
	if (!end)
		return 0;
	hdr = (size_t)(end - c->rbuf) + 4;
	end[2] = '\0'; /* search the header lines only */
	p = strcasestr(c->rbuf, "\r\nContent-Length:");
	if (p)
		clen = (size_t)strtoul(p + 17, NULL, 10);
	end[2] = '\r';
	if (c->rlen < hdr + clen)
		return 0;
	return (int)strtol(c->rbuf + 9, NULL, 10); /* "HTTP/1.1 200" */
}

/* s as a number in [lo, hi], or exit with usage status 2. */
static double arg(const char *s, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "bench-openloop: bad argument %s\n", s);
		exit(2);
	}
	return v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct itimerspec tick = {{0, 100000}, {0, 100000}}; /* 100 us */
	struct epoll_event evs[64];
	double rate, secs, t0, t_end, *lat;
	long n;
	uint64_t total, issued = 0, answered = 0, errors = 0;
	int tfd, i, idle[MAXCONN], nidle = 0;

	if (argc != 7) {
		fprintf(stderr, "usage: bench-openloop PORT CONNECTIONS RATE SECONDS N TOKEN\n");
		return 2;
	}
	port = (int)arg(argv[1], 1, 65535);
	nconn = (int)arg(argv[2], 1, MAXCONN);
	rate = arg(argv[3], 1, 1e7);
	secs = arg(argv[4], 0.1, 3600);
	n = (long)arg(argv[5], 1, 1e9);
	token = argv[6];
	total = (uint64_t)(rate * secs);
	lat = calloc(total ? total : 1, sizeof(*lat));
	epfd = epoll_create1(0);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	if (!lat || epfd < 0 || tfd < 0)
		die("setup");
	{
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};

		if (epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev) != 0 ||
		    timerfd_settime(tfd, 0, &tick, NULL) != 0)
			die("timerfd");
	}
	for (i = 0; i < nconn; i++) {
		conn_open(&conns[i]);
		idle[nidle++] = i;
	}
	t0 = now_s();
	t_end = t0 + secs;
	for (;;) {
		double now = now_s();
		int k, ne;

		/* every request due by now goes out on an idle connection */
		while (issued < total && nidle > 0 && t0 + (double)issued / rate <= now) {
			struct conn *c = &conns[idle[--nidle]];

			if (!conn_send(c, n, t0 + (double)issued / rate)) {
				errors++;
				conn_reopen(c);
				idle[nidle++] = (int)(c - conns);
			}
			issued++;
		}
		if ((issued == total && nidle == nconn) || now > t_end + 2)
			break;
		ne = epoll_wait(epfd, evs, 64, 100);
		if (ne < 0 && errno != EINTR)
			die("epoll_wait");
		for (k = 0; k < ne; k++) {
			struct conn *c = evs[k].data.ptr;
			ssize_t r;
			int status;

			if (!c) {
				uint64_t ticks;

				if (read(tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
					die("timerfd read");
				continue;
			}
			r = recv(c->fd, c->rbuf + c->rlen, RBUF - 1 - c->rlen, 0);
			if (r <= 0) { /* closed (or failed) under a request */
				if (r < 0 && errno == EAGAIN)
					continue;
				if (c->due >= 0) {
					errors++;
					idle[nidle++] = (int)(c - conns);
				}
				conn_reopen(c);
				continue;
			}
			c->rlen += (size_t)r;
			status = response_done(c);
			if (!status && c->rlen < RBUF - 1)
				continue;
			if (status == 200 && answered < total)
				lat[answered++] = now_s() - c->due;
			else
				errors++;
			c->due = -1;
			c->rlen = 0;
			idle[nidle++] = (int)(c - conns);
		}
	}
	errors += (uint64_t)(nconn - nidle) + (total - issued); /* unanswered, never sent */
	if (!answered) {
		fprintf(stderr, "bench-openloop: no answer\n");
		return 1;
	}
	qsort(lat, answered, sizeof(*lat), cmp_double);
#define PCT(p) (lat[(size_t)((double)(answered - 1) * (p))] * 1e3)
	printf("BENCH rps=%.0f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f"
	       " errors=%llu\n",
	       (double)answered / secs, PCT(0.50), PCT(0.90), PCT(0.99), PCT(0.999),
	       lat[answered - 1] * 1e3, (unsigned long long)errors);
	return 0;
}
