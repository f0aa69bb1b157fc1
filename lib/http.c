/*
 * The libmicrohttpd adapter.
 *
 * Threading (written down per STYLE.md 14; measured in tests/bench): the
 * default is a pool of RESELLERD_HTTP_THREADS (2) threads with
 * MHD_USE_TURBO. PERF.md measured such a pool at 98k req/s on the fixed
 * body against 72k for thread per connection, and tests/bench gave 0.85
 * of its own ceiling for warm lookups against 0.71 in thread-per-connection
 * mode (2026-11-28). The pool threads wait in poll(2), not epoll: MHD
 * 0.9.75's edge-triggered epoll mode can miss a FIN that arrives together
 * with the last bytes of a truncated body and then holds the half-closed
 * connection until the idle timeout (test_abuse caught it, one run in
 * two under ASan); level-triggered poll sees it, and a fixed-body A/B
 * measured poll no slower (50-82k against 49-59k req/s, alternating).
 *
 * A pool thread must never block: one blocked thread stalls every
 * connection it owns. So a request is first dispatched on the pool
 * thread with may_block false; a handler that can answer from memory (a
 * decision-cache hit, /livez) does, and one that needs the database or
 * an upstream sets res->defer. The adapter then suspends the connection
 * (MHD_suspend_connection), queues it for worker threads (http_options
 * .workers), and a worker dispatches it again, stores the response and
 * resumes the connection; MHD calls us once more and we queue the stored
 * response. RESELLERD_HTTP_THREADS=0 gives thread per connection, where
 * every request may block and no worker is needed.
 *
 * MHD calls the access handler several times per request: the first call
 * only allocates our state, later calls deliver body chunks into a capped
 * buffer, and the last call (no data) dispatches and queues the response.
 * Queueing on the first call would make MHD close every connection.
 */
#include "http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* Longest request target we route; longer gets 414 (MHD itself answers
 * 414/431 for lines that do not fit the connection memory pool). */
#define HTTP_MAX_URI 4096
#define HTTP_CONNECTION_MEMORY (32 * 1024)

struct conn_ctx {
	struct http_request req;
	struct buf body;
	struct http_response res; /* a worker's answer, sent on resume */
	bool answered;
	struct conn_ctx *next; /* worker queue */
};

/* The worker queue: suspended requests, first in first out. */
struct workers {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct conn_ctx *head, *tail;
	bool stop;
	unsigned n;
	pthread_t *tids;
};

struct http_server {
	struct MHD_Daemon *d;
	struct http_options o;
	atomic_uint inflight;
	atomic_uint open; /* connections: on_accept takes, on_connection gives back */
	unsigned port;
	struct workers w;
};

const char *http_header(const struct http_request *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

struct query_find {
	const char *name;
	const char *value;
	bool found;
};

static enum MHD_Result find_arg(void *cls, enum MHD_ValueKind kind,
				const char *key, const char *value)
{
	struct query_find *q = cls;

	(void)kind;
	if (strcmp(key, q->name) != 0)
		return MHD_YES;
	q->value = value ? value : "";
	q->found = true;
	return MHD_NO;
}

const char *http_query(const struct http_request *r, const char *name)
{
	struct query_find q = {name, NULL, false};

	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, find_arg, &q);
	return q.found ? q.value : NULL;
}

struct query_each {
	bool (*fn)(void *cls, const char *key, const char *value);
	void *cls;
};

static enum MHD_Result each_arg(void *cls, enum MHD_ValueKind kind,
				const char *key, const char *value)
{
	struct query_each *q = cls;

	(void)kind;
	return q->fn(q->cls, key, value ? value : "") ? MHD_YES : MHD_NO;
}

void http_query_each(const struct http_request *r,
		     bool (*fn)(void *cls, const char *key, const char *value),
		     void *cls)
{
	struct query_each q = {fn, cls};

	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, each_arg, &q);
}

void http_set_header(struct http_response *res, const char *name, const char *value)
{
	if (res->n_headers == HTTP_MAX_HEADERS) {
		log_warn("response header %s dropped: too many headers", name);
		return;
	}
	res->headers[res->n_headers].name = name;
	res->headers[res->n_headers].value = xstrdup(value);
	res->n_headers++;
}

static void body_drop(struct http_response *res)
{
	if (res->body_release)
		res->body_release(res->body_cls);
	else
		free(res->body);
	res->body = NULL;
	res->body_release = NULL;
	res->body_cls = NULL;
}

void http_set_body(struct http_response *res, unsigned status,
		   const char *content_type, char *body, size_t len)
{
	body_drop(res);
	res->status = status;
	res->content_type = content_type;
	res->body = body;
	res->body_len = len;
}

void http_set_body_shared(struct http_response *res, unsigned status,
			  const char *content_type, const char *body, size_t len,
			  void (*release)(void *cls), void *cls)
{
	body_drop(res);
	res->status = status;
	res->content_type = content_type;
	/* never written through: MHD only reads a response buffer */
	res->body = (char *)(uintptr_t)body;
	res->body_len = len;
	res->body_release = release;
	res->body_cls = cls;
}

void http_response_release(struct http_response *res)
{
	size_t i;

	body_drop(res);
	for (i = 0; i < res->n_headers; i++)
		free(res->headers[i].value);
	res->n_headers = 0;
}

static void client_ip(struct MHD_Connection *conn, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	strlcpy_(out, "unknown", n);
	if (!sa)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			  out, (socklen_t)n);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  out, (socklen_t)n);
}

static bool has_header(const struct http_response *res, const char *name)
{
	size_t i;

	for (i = 0; i < res->n_headers; i++)
		if (strcasecmp(res->headers[i].name, name) == 0)
			return true;
	return false;
}

static enum MHD_Result send_response(struct MHD_Connection *conn,
				     struct http_request *req,
				     struct http_response *res)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t i;

	if (res->body && res->body_len) {
		if (res->body_release)
			r = MHD_create_response_from_buffer_with_free_callback_cls(
				res->body_len, res->body, res->body_release, res->body_cls);
		else
			r = MHD_create_response_from_buffer_with_free_callback(
				res->body_len, res->body, free);
		if (!r)
			return MHD_NO; /* still ours: http_response_release frees it */
		/* MHD owns it now, even if queueing fails below */
		res->body = NULL;
		res->body_release = NULL;
		res->body_cls = NULL;
	} else {
		r = MHD_create_response_from_buffer(0, (void *)(uintptr_t)"",
						    MHD_RESPMEM_PERSISTENT);
	}
	if (!r)
		return MHD_NO;
	if (res->content_type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
	MHD_add_response_header(r, "X-Request-Id", req->request_id);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	if (!has_header(res, "Content-Security-Policy"))
		MHD_add_response_header(r, "Content-Security-Policy",
					"default-src 'none'; frame-ancestors 'none'");
	for (i = 0; i < res->n_headers; i++)
		MHD_add_response_header(r, res->headers[i].name, res->headers[i].value);
	ret = MHD_queue_response(conn, res->status, r);
	MHD_destroy_response(r);
	return ret;
}

struct framing {
	int content_length;
	int transfer_encoding;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	struct framing *f = cls;

	(void)kind;
	/* whitespace before the colon (RFC 9112 5.1): must be rejected */
	if (strpbrk(key, " \t"))
		f->content_length += 2;
	else if (strcasecmp(key, "Content-Length") == 0)
		f->content_length += 1 + (value && strchr(value, ',') ? 1 : 0);
	else if (strcasecmp(key, "Transfer-Encoding") == 0)
		f->transfer_encoding++;
	return MHD_YES;
}

/* Conflicting message framing (RFC 9112 6.3): several Content-Length, or
 * Content-Length with Transfer-Encoding. libmicrohttpd 0.9.75 accepts
 * these (a smuggling risk), and header names with whitespace before the
 * colon: we refuse them and close the connection. */
static bool ambiguous_framing(struct MHD_Connection *conn)
{
	struct framing f = {0, 0};

	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &f);
	return f.content_length > 1 || (f.content_length && f.transfer_encoding);
}

/* Queue res on conn, tell the completion hook, free what res owns. */
static enum MHD_Result finish(struct http_server *s, struct MHD_Connection *conn,
			      struct conn_ctx *ctx, struct http_response *res)
{
	enum MHD_Result ret;

	log_set_request_id(ctx->req.request_id);
	ret = send_response(conn, &ctx->req, res);
	if (s->o.complete)
		s->o.complete(s->o.cls, &ctx->req, res,
			      (double)(now_ns() - ctx->req.start_ns) / 1e9);
	log_set_request_id(NULL);
	http_response_release(res);
	return ret;
}

static void enqueue(struct workers *w, struct conn_ctx *ctx)
{
	pthread_mutex_lock(&w->mu);
	ctx->next = NULL;
	if (w->tail)
		w->tail->next = ctx;
	else
		w->head = ctx;
	w->tail = ctx;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* NULL once stopping and the queue is empty: queued requests are always
 * answered, so no suspended connection is left behind. */
static struct conn_ctx *dequeue(struct workers *w)
{
	struct conn_ctx *ctx;

	pthread_mutex_lock(&w->mu);
	while (!w->head && !w->stop)
		pthread_cond_wait(&w->cv, &w->mu);
	ctx = w->head;
	if (ctx) {
		w->head = ctx->next;
		if (!w->head)
			w->tail = NULL;
	}
	pthread_mutex_unlock(&w->mu);
	return ctx;
}

static void *worker_main(void *arg)
{
	struct http_server *s = arg;
	struct conn_ctx *ctx;

	while ((ctx = dequeue(&s->w))) {
		struct MHD_Connection *conn = ctx->req.conn;

		ctx->req.may_block = true;
		ctx->req.deferred = true;
		memset(&ctx->res, 0, sizeof(ctx->res));
		log_set_request_id(ctx->req.request_id);
		s->o.dispatch(s->o.cls, &ctx->req, &ctx->res);
		log_set_request_id(NULL);
		ctx->answered = true;
		/* ctx belongs to MHD's thread again from here on. */
		MHD_resume_connection(conn);
	}
	return NULL;
}

static void workers_start(struct http_server *s, unsigned n)
{
	struct workers *w = &s->w;
	unsigned i;

	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->tids = xcalloc(n, sizeof(*w->tids));
	for (i = 0; i < n; i++) {
		if (pthread_create(&w->tids[i], NULL, worker_main, s) != 0)
			die("cannot start an HTTP worker thread");
		w->n++;
	}
}

static void workers_stop(struct workers *w)
{
	unsigned i;

	if (!w->tids)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (i = 0; i < w->n; i++)
		pthread_join(w->tids[i], NULL);
	free(w->tids);
	w->tids = NULL;
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct http_server *s = cls;
	struct conn_ctx *ctx = *req_cls;
	struct http_response res;

	(void)version;
	if (!ctx) {
		ctx = xcalloc(1, sizeof(*ctx));
		ctx->req.start_ns = now_ns();
		ctx->req.method = method;
		ctx->req.path = url;
		ctx->req.conn = conn;
		ctx->req.uri_too_long = strlen(url) > HTTP_MAX_URI;
		reqid_choose(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id"),
			     ctx->req.request_id, sizeof(ctx->req.request_id));
		client_ip(conn, ctx->req.client_ip, sizeof(ctx->req.client_ip));
		buf_init(&ctx->body, s->o.max_body);
		atomic_fetch_add(&s->inflight, 1);
		*req_cls = ctx;
		if (ambiguous_framing(conn)) {
			char body[400];
			int n = snprintf(body, sizeof(body),
				"{\"type\":\"urn:resellerd:problem:invalid-request\","
				"\"title\":\"Bad Request\",\"status\":400,"
				"\"detail\":\"conflicting Content-Length / Transfer-Encoding\","
				"\"request_id\":\"%s\"}", ctx->req.request_id);
			struct MHD_Response *r = MHD_create_response_from_buffer(
				(size_t)n, body, MHD_RESPMEM_MUST_COPY);

			/* queued on the first call on purpose: MHD closes the
			 * connection, which is what a smuggling attempt gets */
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/problem+json");
			MHD_add_response_header(r, "X-Request-Id", ctx->req.request_id);
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
			enum MHD_Result ret = MHD_queue_response(conn, 400, r);

			MHD_destroy_response(r);
			return ret;
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!ctx->req.body_too_large &&
		    !buf_append(&ctx->body, upload_data, *upload_data_size)) {
			ctx->req.body_too_large = true;
			buf_release(&ctx->body);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (ctx->answered) /* resumed: a worker has the answer */
		return finish(s, conn, ctx, &ctx->res);
	ctx->req.body = ctx->body.ptr;
	ctx->req.body_len = ctx->body.len;
	ctx->req.may_block = s->o.threads == 0;
	memset(&res, 0, sizeof(res));
	log_set_request_id(ctx->req.request_id);
	s->o.dispatch(s->o.cls, &ctx->req, &res);
	log_set_request_id(NULL);
	if (res.defer) {
		http_response_release(&res);
		/* Suspend before queueing: a worker may resume at once. */
		MHD_suspend_connection(conn);
		enqueue(&s->w, ctx);
		return MHD_YES;
	}
	return finish(s, conn, ctx, &res);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
			 void **req_cls, enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct conn_ctx *ctx = *req_cls;

	(void)conn;
	(void)toe;
	if (!ctx)
		return;
	buf_release(&ctx->body);
	http_response_release(&ctx->res);
	free(ctx);
	*req_cls = NULL; /* idempotent: MHD may not call us twice, but be safe */
	atomic_fetch_sub(&s->inflight, 1);
}

/* A connection MHD set up after on_accept took its slot ends here. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *s = cls;

	(void)conn;
	(void)socket_ctx;
	if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
		atomic_fetch_sub(&s->open, 1);
}

/*
 * The total connection cap, enforced here rather than by MHD alone: at
 * its limit MHD's pool stops accepting, so the excess waits in the
 * listen backlog instead of being refused. Refused here, it is closed
 * at once. The slot is taken here, atomically, so two pool threads
 * accepting at once cannot both take the last one; on_connection gives
 * it back. (MHD's own limit sits a little above ours, so it never
 * refuses first. If MHD fails to set up an accepted connection, out of
 * memory, its slot is not given back: such a failure is not expected
 * to be survivable anyway.)
 */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t len)
{
	struct http_server *s = cls;
	unsigned n = atomic_load(&s->open);

	(void)addr;
	(void)len;
	do {
		if (n >= s->o.max_connections)
			return MHD_NO;
	} while (!atomic_compare_exchange_weak(&s->open, &n, n + 1));
	return MHD_YES;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) PRINTF_LIKE(2, 0);

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_warn("libmicrohttpd: %s", msg);
}

static bool resolve(const char *host, unsigned port, struct sockaddr_storage *ss,
		    char *err, size_t errlen)
{
	struct addrinfo hints, *ai = NULL;
	char portstr[8];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(portstr, sizeof(portstr), "%u", port);
	rc = getaddrinfo(*host ? host : NULL, portstr, &hints, &ai);
	if (rc != 0 || !ai) {
		snprintf(err, errlen, "cannot resolve listen address %s: %s", host,
			 gai_strerror(rc));
		return false;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return true;
}

struct http_server *http_start(const struct http_options *o, char *err, size_t errlen)
{
	struct http_server *s;
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
			     MHD_USE_ERROR_LOG;

	if (!resolve(o->host, o->port, &ss, err, errlen))
		return NULL;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (o->threads == 0)
		flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
	else
		flags |= MHD_USE_POLL | MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME;

	if (o->tls_cert_pem) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			snprintf(err, errlen, "this libmicrohttpd has no TLS support");
			return NULL;
		}
		flags |= MHD_USE_TLS;
	}
	s = xcalloc(1, sizeof(*s));
	s->o = *o;
	atomic_init(&s->inflight, 0);
	atomic_init(&s->open, 0);
	if (o->threads)
		workers_start(s, o->workers ? o->workers : 1);
	{
		/* The logger comes first so that no MHD message bypasses it. */
		struct MHD_OptionItem opts[] = {
			{MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, NULL},
			{MHD_OPTION_SOCK_ADDR, 0, &ss},
			{MHD_OPTION_CONNECTION_LIMIT,
			 (intptr_t)(o->max_connections + 2 * o->threads + 2), NULL},
			{MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)o->per_ip_connections, NULL},
			{MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)o->timeout_s, NULL},
			{MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)HTTP_CONNECTION_MEMORY, NULL},
			{MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL},
			{MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL},
			{MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s},
			{MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, s},
			{MHD_OPTION_END, 0, NULL}, /* thread pool size */
			{MHD_OPTION_END, 0, NULL}, /* TLS key */
			{MHD_OPTION_END, 0, NULL}, /* TLS cert */
			{MHD_OPTION_END, 0, NULL},
		};
		size_t k = 10;

		if (o->threads)
			opts[k++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE,
							    (intptr_t)o->threads, NULL};
		if (o->tls_cert_pem) {
			opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0,
							    (void *)(uintptr_t)o->tls_key_pem};
			opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0,
							    (void *)(uintptr_t)o->tls_cert_pem};
		}
		s->d = MHD_start_daemon(flags, (uint16_t)o->port, on_accept, s, on_request, s,
					MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	}
	if (!s->d) {
		snprintf(err, errlen, "cannot listen on %s:%u (address in use, or not allowed)",
			 o->host, o->port);
		workers_stop(&s->w);
		free(s);
		return NULL;
	}
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : o->port;
	return s;
}

unsigned http_port(const struct http_server *s)
{
	return s->port;
}

unsigned http_inflight(const struct http_server *s)
{
	return atomic_load(&((struct http_server *)(uintptr_t)s)->inflight);
}

void http_quiesce(struct http_server *s)
{
	MHD_socket fd = MHD_quiesce_daemon(s->d);

	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

void http_stop(struct http_server *s)
{
	if (!s)
		return;
	/* Workers first: each queued request is answered and resumed, so MHD
	 * never stops with a connection suspended. */
	workers_stop(&s->w);
	MHD_stop_daemon(s->d);
	free(s);
}
