/*
 * Hostile HTTP input over raw sockets (RELIABILITY.md A9 #7): we write the
 * bytes ourselves, so framing errors, NULs, invalid UTF-8 and oversized
 * parts reach the server exactly as given. Every answer must be a 4xx or
 * a close by the server, never a 5xx, never a hang (socket timeouts); an
 * answer our dispatcher produced (it carries X-Request-Id) must be
 * problem+json; afterwards /livez answers 200, /metrics counts no 5xx and
 * SIGTERM exits 0.
 *
 * Idle connections are closed after RESELLERD_CONNECTION_TIMEOUT=2 here, so
 * inputs the server waits on (garbage without a request line, a truncated
 * body) must end within that bound; READ_TIMEOUT_MS is the "hang" line.
 */
#include "itest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define IDLE_TIMEOUT_S 2
#define READ_TIMEOUT_MS 5000

static struct itest_db db;
static struct itest_server srv;
static char token[128];

#define WEBHOOK_SECRET "abuse-webhook-secret"

static int setup(void **state)
{
	char *t;

	(void)state;
	itest_db_create(&db);
	t = itest_token(&db, "abuse-reader", "read");
	snprintf(token, sizeof(token), "%s", t);
	free(t);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	itest_db_drop(&db);
	return 0;
}

/* A fresh server per test: one that a test kills cannot hide the
 * results of the next. */
static int start_server(void **state)
{
	const char *env[] = {"RESELLERD_CONNECTION_TIMEOUT=2",
			     "RESELLERD_WEBHOOK_SECRET=" WEBHOOK_SECRET, NULL};

	(void)state;
	assert_int_equal(itest_server_start(&srv, db.url, env), 0);
	return 0;
}

static int stop_server(void **state)
{
	(void)state;
	if (srv.pid)
		itest_server_stop(&srv, SIGKILL, 5);
	return 0;
}

/* ===== a raw HTTP/1.1 client ===== */

struct raw {
	char *out;       /* everything the server sent, NUL-terminated */
	size_t len;
	int status;      /* of the first response, 0 if none */
	int responses;   /* status lines seen (pipelined answers) */
	bool closed;     /* EOF or RST from the server */
	bool timed_out;  /* nothing more within READ_TIMEOUT_MS */
	double seconds;
};

static void raw_free(struct raw *r)
{
	free(r->out);
	r->out = NULL;
}

static int count_status_lines(const char *p, size_t len)
{
	int n = 0;
	size_t i;

	for (i = 0; i + 9 <= len; i++)
		if (memcmp(p + i, "HTTP/1.1 ", 9) == 0 || memcmp(p + i, "HTTP/1.0 ", 9) == 0)
			n++;
	return n;
}

/* Send len bytes (half-close the socket afterwards if shut_wr), read
 * until the server closes or READ_TIMEOUT_MS pass without a byte. */
static void raw_send(const char *data, size_t len, bool shut_wr, struct raw *r)
{
	struct sockaddr_in sa;
	struct timeval tv = {READ_TIMEOUT_MS / 1000, (READ_TIMEOUT_MS % 1000) * 1000};
	size_t off = 0, cap = 1 << 16;
	double t0 = itest_now();
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(r, 0, sizeof(*r));
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)srv.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	while (off < len) {
		ssize_t n = send(fd, data + off, len - off, MSG_NOSIGNAL);

		if (n <= 0)
			break; /* the server closed early (414/431): read what it said */
		off += (size_t)n;
	}
	if (shut_wr)
		shutdown(fd, SHUT_WR);
	r->out = malloc(cap + 1);
	for (;;) {
		ssize_t n;

		if (r->len == cap) {
			cap *= 2;
			r->out = realloc(r->out, cap + 1);
		}
		n = recv(fd, r->out + r->len, cap - r->len, 0);
		if (n > 0) {
			r->len += (size_t)n;
			continue;
		}
		if (n == 0 || errno == ECONNRESET || errno == EPIPE)
			r->closed = true;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			r->timed_out = true;
		else
			r->closed = true;
		break;
	}
	r->out[r->len] = '\0';
	close(fd);
	r->seconds = itest_now() - t0;
	if (r->len > 12 && strncmp(r->out, "HTTP/1.", 7) == 0)
		r->status = (int)strtol(r->out + 9, NULL, 10);
	r->responses = count_status_lines(r->out, r->len);
}

/* A header of the first response (a pointer into r->out, up to CR). */
static const char *raw_header(const struct raw *r, const char *name, size_t *vlen)
{
	size_t n = strlen(name);
	const char *end = strstr(r->out, "\r\n\r\n");
	const char *p = strstr(r->out, "\r\n");

	while (p && end && p < end) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;

			while (*v == ' ')
				v++;
			*vlen = strcspn(v, "\r\n");
			return v;
		}
		p = strstr(p, "\r\n");
	}
	return NULL;
}

/* The verdict every hostile input must get. */
static void check_answer(const char *name, const struct raw *r, int want_min, int want_max)
{
	size_t vlen = 0;
	const char *rid, *ct;
	int wstatus;

	itest_sleep_ms(20); /* a crash after the close must be seen here */

	fprintf(stderr, "  %-34s -> %3d (%d response%s)%s%s %.2fs\n", name, r->status,
		r->responses, r->responses == 1 ? "" : "s", r->closed ? ", closed" : "",
		r->timed_out ? ", TIMED OUT" : "", r->seconds);
	if (srv.pid && waitpid(srv.pid, &wstatus, WNOHANG) == srv.pid) {
		srv.pid = 0;
		fprintf(stderr, "%s: THE SERVER EXITED (%s %d); its log: %s\n", name,
			WIFEXITED(wstatus) ? "exit" : "signal",
			WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : WTERMSIG(wstatus), srv.log);
		fail();
	}
	if (r->timed_out) {
		fprintf(stderr, "%s: no answer and no close within %d ms (hang)\n", name,
			READ_TIMEOUT_MS);
		fail();
	}
	if (r->status == 0) {
		/* No answer: only acceptable as a close by the server. */
		assert_true(r->closed);
		assert_true(want_min == 0 || want_min == 200);
		return;
	}
	if (r->status < want_min || r->status > want_max) {
		fprintf(stderr, "%s: status %d, want %d..%d\n%.600s\n", name, r->status, want_min,
			want_max, r->out);
		fail();
	}
	/* 505 only where a case allows it (MHD: unsupported HTTP version);
	 * 2xx only where RFC 9112 lets the server repair the input (obs-fold,
	 * NUL in a field value: "reject or replace with SP") */
	assert_true((r->status >= 400 && r->status < 500) || (r->status == 505 && want_max == 505) ||
		    (r->status < 300 && want_min == 200));
	rid = raw_header(r, "X-Request-Id", &vlen);
	if (rid && r->status >= 400) { /* our dispatcher answered an error: RFC 9457 problem */
		const char *body = strstr(r->out, "\r\n\r\n");
		json_error_t je;
		json_t *j;

		ct = raw_header(r, "Content-Type", &vlen);
		assert_non_null(ct);
		if (vlen != 24 || strncmp(ct, "application/problem+json", 24) != 0) {
			fprintf(stderr, "%s: Content-Type %.*s, want application/problem+json\n", name,
				(int)vlen, ct);
			fail();
		}
		assert_non_null(body);
		j = json_loadb(body + 4, strcspn(body + 4, "\r") /* up to a pipelined answer */,
			       JSON_DISABLE_EOF_CHECK, &je);
		if (!j)
			fprintf(stderr, "%s: problem body is not JSON: %s\n", name, je.text);
		assert_non_null(j);
		assert_int_equal(json_integer_value(json_object_get(j, "status")), r->status);
		assert_non_null(json_string_value(json_object_get(j, "request_id")));
		json_decref(j);
	}
}

static void send_str(const char *name, const char *req, int want_min, int want_max)
{
	struct raw r;

	raw_send(req, strlen(req), false, &r);
	check_answer(name, &r, want_min, want_max);
	raw_free(&r);
}

/* A request whose body may hold NULs or invalid UTF-8. */
static void send_body(const char *name, const char *method, const char *path,
		      const char *extra_headers, const char *body, size_t blen,
		      int want_min, int want_max)
{
	size_t cap = blen + 1024, n;
	char *req = malloc(cap);
	struct raw r;

	n = (size_t)snprintf(req, cap,
			     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
			     "Content-Type: application/json\r\nContent-Length: %zu\r\n%s\r\n",
			     method, path, blen, extra_headers);
	memcpy(req + n, body, blen);
	raw_send(req, n + blen, false, &r);
	check_answer(name, &r, want_min, want_max);
	raw_free(&r);
	free(req);
}

/* After the abuse: alive, ready, no 5xx counted, clean exit on SIGTERM. */
static void finish(void)
{
	struct itest_resp r;
	char url[128];
	const char *five;

	assert_true(srv.pid != 0);
	snprintf(url, sizeof(url), "%s/livez", srv.base);
	assert_int_equal(itest_http("GET", url, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	itest_resp_free(&r);
	snprintf(url, sizeof(url), "%s/readyz", srv.base);
	assert_int_equal(itest_http("GET", url, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	itest_resp_free(&r);
	/* our own request counter saw no 5xx at all */
	snprintf(url, sizeof(url), "%s/metrics", srv.base);
	assert_int_equal(itest_http("GET", url, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	five = strstr(r.body, "code=\"5");
	if (five) {
		const char *line = five;

		while (line > r.body && line[-1] != '\n')
			line--;
		fprintf(stderr, "a 5xx was counted: %.*s\n", (int)strcspn(line, "\n"), line);
		fail();
	}
	itest_resp_free(&r);
	assert_false(itest_log_contains(&srv, "AddressSanitizer"));
	assert_false(itest_log_contains(&srv, "runtime error:"));
	assert_int_equal(itest_server_stop(&srv, SIGTERM, 10), 0);
}

/* ===== oversized parts ===== */

static void test_oversized(void **state)
{
	size_t big = 1u << 20, n;
	char *req = malloc(big + 200000), *body = malloc(big + 1);
	char auth[200];

	(void)state;
	/* 64 KiB request target: MHD answers 414 before we see it */
	n = (size_t)snprintf(req, 8, "GET /");
	memset(req + n, 'a', 65536);
	n += 65536;
	n += (size_t)snprintf(req + n, 200, " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	send_str("64 KiB URI", req, 414, 414);

	/* 100 KiB in one header: 431 */
	n = (size_t)snprintf(req, 200, "GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(req + n, 'b', 102400);
	n += 102400;
	snprintf(req + n, 200, "\r\nConnection: close\r\n\r\n");
	send_str("100 KiB header", req, 431, 431);

	/* 10 000 small headers: 431 */
	{
		int i;

		n = (size_t)snprintf(req, 200, "GET /livez HTTP/1.1\r\nHost: x\r\n");
		for (i = 0; i < 10000; i++)
			n += (size_t)snprintf(req + n, 32, "X-H%d: v\r\n", i);
		snprintf(req + n, 200, "Connection: close\r\n\r\n");
		send_str("10000 headers", req, 431, 431);
	}

	/* 1 MiB JSON bodies: 413 problem from our cap (RESELLERD_MAX_BODY) */
	memset(body, ' ', big);
	body[0] = '{';
	body[big - 1] = '}';
	send_body("1 MiB webhook body", "POST", "/v1/webhooks/zuora",
		  "X-Webhook-Secret: " WEBHOOK_SECRET "\r\nZuora-Notification-Id: big-1\r\n",
		  body, big, 413, 413);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n", token);
	send_body("1 MiB batch body", "POST", "/v1/channel/batch", auth, body, big, 413, 413);
	/* and without a token: still 413 (the cap comes first) */
	send_body("1 MiB batch body, no token", "POST", "/v1/channel/batch", "", body, big,
		  413, 413);
	finish();
	free(req);
	free(body);
}

/* ===== framing ===== */

static void test_framing(void **state)
{
	char req[512];

	(void)state;
	send_str("duplicate Content-Length 5/7",
		 "POST /v1/webhooks/zuora HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		 "Content-Length: 5\r\nContent-Length: 7\r\n\r\nhelloXY", 400, 499);
	send_str("Content-Length + chunked",
		 "POST /v1/webhooks/zuora HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		 "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		 400, 499);
	send_str("negative Content-Length",
		 "POST /v1/webhooks/zuora HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		 "Content-Length: -1\r\n\r\n", 400, 499);
	send_str("huge Content-Length",
		 "POST /v1/webhooks/zuora HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		 "Content-Length: 99999999999999999999999\r\n\r\n", 400, 499);
	send_str("bad chunk size",
		 "POST /v1/webhooks/zuora HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		 "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 0, 499);
	send_str("Transfer-Encoding: gzip",
		 "POST /v1/webhooks/zuora HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		 "Transfer-Encoding: gzip\r\n\r\n", 0, 499);
	{
		/* truncated chunked body, then our side half-closes: the server
		 * must give up at once, not wait for the idle timeout */
		struct raw r;
		const char *t = "POST /v1/channel/batch HTTP/1.1\r\nHost: x\r\n"
				"Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
				"40\r\n{\"subscriptions\":";

		raw_send(t, strlen(t), true, &r);
		check_answer("truncated chunked body (FIN)", &r, 0, 499);
		assert_true(r.seconds < 1.0);
		raw_free(&r);
		/* ... and when the client just stalls: closed at the idle timeout */
		raw_send(t, strlen(t), false, &r);
		check_answer("truncated chunked body (stall)", &r, 0, 499);
		assert_true(r.seconds < IDLE_TIMEOUT_S + 1.5);
		raw_free(&r);
	}
	/* HTTP/0.9, no version, bogus versions */
	send_str("HTTP/0.9 request line", "GET /livez\r\n", 0, 499);
	send_str("no version, headers", "GET /livez\r\nHost: x\r\n\r\n", 0, 499);
	send_str("method only", "GET\r\n\r\n", 0, 499);
	send_str("HTTP/2.0 version", "GET /livez HTTP/2.0\r\nHost: x\r\nConnection: close\r\n\r\n",
		 0, 505);
	send_str("HTTP/1.1 extra token",
		 "GET /livez HTTP/1.1 x\r\nHost: x\r\nConnection: close\r\n\r\n", 0, 499);
	send_str("missing Host",
		 "GET /livez HTTP/1.1\r\nConnection: close\r\n\r\n", 400, 400);
	send_str("header without colon",
		 "GET /livez HTTP/1.1\r\nHost: x\r\nNoColonHere\r\nConnection: close\r\n\r\n",
		 0, 499);
	send_str("obs-fold header",
		 "GET /livez HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\nConnection: close\r\n\r\n",
		 200, 499);
	/* RFC 9112 5.1 says 400; judged strictly in test_no_smuggling */
	send_str("space before colon",
		 "GET /livez HTTP/1.1\r\nHost: x\r\nX-A : 1\r\nConnection: close\r\n\r\n", 200, 499);
	/* garbage */
	{
		static const char tls[] = "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\xde\xad"
					  "\xbe\xef\r\n\r\n";
		static const char bin[] = "\x00\x01\x02\xff\xfe\x7f\r\n\r\n";
		struct raw r;

		raw_send(tls, sizeof(tls) - 1, false, &r);
		check_answer("TLS ClientHello", &r, 0, 499);
		raw_free(&r);
		raw_send(bin, sizeof(bin) - 1, false, &r);
		check_answer("binary garbage", &r, 0, 499);
		assert_true(r.seconds < IDLE_TIMEOUT_S + 1.5);
		raw_free(&r);
	}
	send_str("CR-only line ends", "GET /livez HTTP/1.1\rHost: x\r\r", 0, 499);
	snprintf(req, sizeof(req), "%s", "\r\n\r\n\r\n\r\n");
	send_str("empty lines only", req, 0, 499);
	finish();
}

/*
 * Request smuggling (RFC 9112 6.3): a message with conflicting
 * Content-Length values, or with Content-Length and Transfer-Encoding,
 * must be rejected (400) or, for CL+TE, answered and the connection
 * closed: bytes after it must never be served as a second request,
 * because a proxy in front may have framed the message differently.
 */
static void test_no_smuggling(void **state)
{
	static const struct {
		const char *name, *req;
	} cases[] = {
		{"duplicate Content-Length 5/7",
		 "POST /v1/webhooks/zuora HTTP/1.1\r\nHost: x\r\n"
		 "Content-Length: 5\r\nContent-Length: 7\r\n\r\nhelloXY"
		 "GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"},
		{"duplicate Content-Length 7/5",
		 "POST /v1/webhooks/zuora HTTP/1.1\r\nHost: x\r\n"
		 "Content-Length: 7\r\nContent-Length: 5\r\n\r\nhelloXY"
		 "GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"},
		{"Content-Length: 5, 7 (list)",
		 "POST /v1/webhooks/zuora HTTP/1.1\r\nHost: x\r\n"
		 "Content-Length: 5, 7\r\n\r\nhelloXY"
		 "GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"},
		{"Content-Length + chunked",
		 "POST /v1/webhooks/zuora HTTP/1.1\r\nHost: x\r\n"
		 "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
		 "GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"},
		/* RFC 9112 5.1: whitespace before the colon MUST be a 400 */
		{"'Transfer-Encoding : chunked' + Content-Length",
		 "POST /v1/webhooks/zuora HTTP/1.1\r\nHost: x\r\n"
		 "Content-Length: 3\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n"
		 "GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"},
	};
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct raw r;

		raw_send(cases[i].req, strlen(cases[i].req), false, &r);
		check_answer(cases[i].name, &r, 0, 499);
		if (strstr(cases[i].name, "Transfer-Encoding :") && r.status != 400) {
			fprintf(stderr, "SMUGGLING: %s: answered %d, want 400 (RFC 9112 5.1)\n",
				cases[i].name, r.status);
			bad++;
		} else if (strstr(r.out, "{\"status\":\"ok\"}") ||
			   strstr(r.out, "\"instance\":\"/livez\"")) {
			/* the bytes after the message were served as a request */
			fprintf(stderr, "SMUGGLING: %s: the trailing GET /livez was answered too "
				"(first answer %d); want one answer (400) and a close\n",
				cases[i].name, r.status);
			bad++;
		} else if (r.responses > 1) {
			fprintf(stderr, "note: %s: %d status lines for one request (libmicrohttpd "
				"repeats its error header block)\n", cases[i].name, r.responses);
		}
		raw_free(&r);
	}
	finish();
	assert_int_equal(bad, 0);
}

/* ===== paths ===== */

static void test_paths(void **state)
{
	static const struct {
		const char *name, *path;
		int lo, hi;
	} cases[] = {
		{"NUL in path (%00)", "/li%00vez", 400, 404},
		{"NUL in key (%00)", "/v1/subscriptions/A-S1%00/channel", 400, 404},
		{"..", "/v1/subscriptions/../channel", 400, 404},
		{"%2e%2e", "/v1/subscriptions/%2e%2e/channel", 400, 404},
		{"%2E%2E%2F", "/v1/subscriptions/%2E%2E%2Fchannel/channel", 400, 404},
		{"%2F in key", "/v1/subscriptions/A-S1%2Fx/channel", 400, 404},
		{"..%2F..%2F", "/v1/subscriptions/..%2F..%2Fetc%2Fpasswd/channel", 400, 404},
		{"/static/../", "/static/../../etc/passwd", 400, 404},
		{"/static/%2e%2e%2f", "/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd", 400, 404},
		{"bad percent", "/v1/subscriptions/%zz/channel", 400, 404},
		{"absolute-form", "http://evil.example/v1/partners", 400, 404},
		{"asterisk-form", "*", 400, 405},
		{"no leading slash", "v1/partners", 400, 404},
		{"query garbage", "/v1/customers/search?email=%00&&=&name", 400, 499},
	};
	char req[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
			 "Connection: close\r\n\r\n", cases[i].path, token);
		send_str(cases[i].name, req, cases[i].lo, cases[i].hi);
	}
	/* a raw NUL byte inside the request target */
	{
		static const char nul[] = "GET /v1/subscriptions/A-S1\0../../x/channel HTTP/1.1\r\n"
					  "Host: x\r\nConnection: close\r\n\r\n";
		struct raw r;

		raw_send(nul, sizeof(nul) - 1, false, &r);
		check_answer("raw NUL in path", &r, 0, 499);
		raw_free(&r);
	}
	/* and in a header value */
	{
		static const char nul[] = "GET /livez HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n"
					  "Connection: close\r\n\r\n";
		struct raw r;

		raw_send(nul, sizeof(nul) - 1, false, &r);
		check_answer("raw NUL in header", &r, 200, 499);
		raw_free(&r);
	}
	finish();
}

/* ===== bodies ===== */

static void test_bodies(void **state)
{
	static const struct {
		const char *name, *body;
		size_t len;
	} bodies[] = {
#define B(n, s) {n, s, sizeof(s) - 1}
		B("overlong UTF-8 (C0 AF)", "{\"subscriptions\":[\"A-S\xc0\xaf\"]}"),
		B("overlong UTF-8 (E0 80 AF)", "{\"subscriptions\":[\"\xe0\x80\xaf\"]}"),
		B("invalid UTF-8 (FF FE)", "{\"subscriptions\":[\"\xff\xfe\"]}"),
		B("lone surrogate (ED A0 80)", "{\"subscriptions\":[\"\xed\xa0\x80\"]}"),
		B("truncated UTF-8", "{\"subscriptions\":[\"A\xe2\x82\"]}"),
		B("invalid UTF-8 in a key", "{\"sub\xc0\xafscriptions\":[\"A-S1\"]}"),
		B("escaped NUL", "{\"subscriptions\":[\"A-S1\\u0000x\"]}"),
		B("raw NUL", "{\"subscriptions\":[\"A-S1\0x\"]}"),
		B("lone surrogate escape", "{\"subscriptions\":[\"\\ud800\"]}"),
		B("deep nesting", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
				  "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["),
		B("not JSON", "\x01\x02garbage"),
		B("empty object", "{}"),
		B("huge number", "{\"subscriptions\":[1e999999]}"),
		B("wrong type", "{\"subscriptions\":\"A-S1\"}"),
		B("101 keys", "{\"subscriptions\":[\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\","
			      "\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\","
			      "\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\","
			      "\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\","
			      "\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\","
			      "\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\","
			      "\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\","
			      "\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\","
			      "\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\","
			      "\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\","
			      "\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\","
			      "\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\","
			      "\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\","
			      "\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\","
			      "\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\",\"A-S1\"]}"),
#undef B
	};
	char auth[200], name[96];
	size_t i;

	(void)state;
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n", token);
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		snprintf(name, sizeof(name), "batch: %s", bodies[i].name);
		send_body(name, "POST", "/v1/channel/batch", auth, bodies[i].body, bodies[i].len,
			  400, 422);
		snprintf(name, sizeof(name), "evaluate: %s", bodies[i].name);
		send_body(name, "POST", "/v1/requests/evaluate", auth, bodies[i].body,
			  bodies[i].len, 400, 422);
		snprintf(name, sizeof(name), "webhook: %s", bodies[i].name);
		send_body(name, "POST", "/v1/webhooks/zuora",
			  "X-Webhook-Secret: " WEBHOOK_SECRET "\r\nZuora-Notification-Id: abuse-1\r\n",
			  bodies[i].body, bodies[i].len, 400, 422);
	}
	finish();
}

/*
 * Invalid UTF-8 that the server echoes into a JSON answer (the problem's
 * "instance" is the decoded path; some details quote the input). The
 * answer must still be a 4xx problem, not a dead process or a 500.
 */
static void test_invalid_utf8_echoed(void **state)
{
	static const struct {
		const char *name, *target;
		int lo, hi;
	} cases[] = {
		{"404 path %FF", "/%FF", 404, 404},
		{"404 path raw FF", "/\xff", 400, 404},
		{"405 path %FF", "/%C0%AF", 404, 404},
		{"key %C0%AF", "/v1/subscriptions/%C0%AF/channel", 400, 404},
		{"key %FF%FE", "/v1/subscriptions/%FF%FE/channel", 400, 404},
		{"workflow id %FF", "/v1/workflows/%FF", 400, 404},
		{"static %FF", "/static/%FF", 400, 404},
		{"search name=%FF", "/v1/customers/search?name=%FF", 400, 400},
		{"search email=%FF", "/v1/customers/search?email=%FF", 400, 400},
		{"search account=%C0%AF", "/v1/customers/search?account=%C0%AF", 400, 400},
	};
	char req[512];
	size_t i;
	int wstatus;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!srv.pid) /* a crash is reported once; restart for the next case */
			start_server(NULL);
		snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
			 "Connection: close\r\n\r\n", cases[i].target, token);
		{
			struct raw r;

			raw_send(req, strlen(req), false, &r);
			itest_sleep_ms(50);
			if (waitpid(srv.pid, &wstatus, WNOHANG) == srv.pid) {
				fprintf(stderr, "  %-34s -> SERVER EXITED (%d): %s\n", cases[i].name,
					WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus),
					srv.log);
				srv.pid = 0;
				raw_free(&r);
				continue;
			}
			fprintf(stderr, "  %-34s -> %3d\n", cases[i].name, r.status);
			raw_free(&r);
		}
	}
	/* now the verdicts, one server per case so that each is judged */
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!srv.pid)
			start_server(NULL);
		snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
			 "Connection: close\r\n\r\n", cases[i].target, token);
		send_str(cases[i].name, req, cases[i].lo, cases[i].hi);
	}
	finish();
}

/* ===== connection floods (RELIABILITY.md A9: floods beyond the cap) ===== */

#define FLOOD_PER_IP 8
#define FLOOD_TOTAL 16

/* A TCP connection from source address src (127.0.0.x) to the server,
 * sending nothing; -1 if the connect itself fails. */
static int connect_from(const char *src)
{
	struct sockaddr_in sa, me;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&me, 0, sizeof(me));
	me.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, src, &me.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)srv.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* How many of fds[0..n) the server closed within ms (EOF or reset);
 * closed ones are set to -1. */
static int closed_by_server(int *fds, int n, int ms)
{
	double t0 = itest_now();
	int closed = 0, i;

	while (itest_now() - t0 < ms / 1000.0) {
		for (i = 0; i < n; i++) {
			char c;
			ssize_t r;

			if (fds[i] < 0)
				continue;
			r = recv(fds[i], &c, 1, MSG_DONTWAIT);
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
				close(fds[i]);
				fds[i] = -1;
				closed++;
			}
		}
		itest_sleep_ms(20);
	}
	return closed;
}

static bool livez_ok(void)
{
	struct itest_resp r;
	char url[96];
	bool ok;

	snprintf(url, sizeof(url), "%s/livez", srv.base);
	ok = itest_http("GET", url, NULL, NULL, &r) == 0 && r.status == 200;
	itest_resp_free(&r);
	return ok;
}

/* Twice the per-address cap from one address: the excess is closed within
 * a second and a probe from another address still gets 200; then twice
 * the total cap from four addresses: the excess is closed within a second
 * and, once the flood ends, the server answers again. */
static void test_connection_flood(void **state)
{
	const char *srcs[] = {"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"};
	int fds[2 * FLOOD_TOTAL];
	int i, n, closed;
	double t0;

	(void)state;
	for (i = 0; i < 2 * FLOOD_PER_IP; i++)
		fds[i] = connect_from("127.0.0.2");
	closed = closed_by_server(fds, 2 * FLOOD_PER_IP, 1000);
	fprintf(stderr, "  per-address flood: %d of %d closed by the server within 1 s\n", closed,
		2 * FLOOD_PER_IP);
	assert_true(closed >= FLOOD_PER_IP);
	t0 = itest_now();
	assert_true(livez_ok());
	assert_true(itest_now() - t0 < 1.0);
	for (i = 0; i < 2 * FLOOD_PER_IP; i++)
		if (fds[i] >= 0)
			close(fds[i]);

	n = 0;
	for (i = 0; i < 2 * FLOOD_TOTAL; i++)
		fds[n++] = connect_from(srcs[i % 4]);
	closed = closed_by_server(fds, n, 1000);
	fprintf(stderr, "  total flood: %d of %d closed by the server within 1 s\n", closed, n);
	assert_true(closed >= FLOOD_TOTAL);
	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	t0 = itest_now();
	while (!livez_ok() && itest_now() - t0 < 5)
		itest_sleep_ms(50);
	assert_true(livez_ok());
	finish();
}

static int start_capped_server(void **state)
{
	const char *env[] = {"RESELLERD_CONNECTION_TIMEOUT=10",
			     "RESELLERD_MAX_CONNECTIONS=16", "RESELLERD_PER_IP_CONNECTIONS=8",
			     NULL};

	(void)state;
	assert_int_equal(itest_server_start(&srv, db.url, env), 0);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_oversized, start_server, stop_server),
		cmocka_unit_test_setup_teardown(test_framing, start_server, stop_server),
		cmocka_unit_test_setup_teardown(test_paths, start_server, stop_server),
		cmocka_unit_test_setup_teardown(test_bodies, start_server, stop_server),
		cmocka_unit_test_setup_teardown(test_no_smuggling, start_server, stop_server),
		cmocka_unit_test_setup_teardown(test_invalid_utf8_echoed, start_server, stop_server),
		cmocka_unit_test_setup_teardown(test_connection_flood, start_capped_server, stop_server),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
