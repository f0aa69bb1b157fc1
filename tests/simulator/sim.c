/*
 * upstream-sim: main, CLI, the MHD daemon, routing and fault injection.
 *
 * Threading: MHD_USE_THREAD_PER_CONNECTION. The stall and drip faults
 * block inside callbacks by design, which only a thread per connection
 * tolerates; a test simulator never needs more than a few hundred
 * connections (CONNECTION_LIMIT below).
 */
#include "sim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BODY_CAP (1024 * 1024)
#define SIM_DATA_BODY_CAP (64 * 1024 * 1024) /* POST /_sim/data only */
#define DEFAULT_OVERSIZE (50ULL * 1024 * 1024)

struct sim_state sim = {.lock = PTHREAD_MUTEX_INITIALIZER};
static bool verbose;
static atomic_int zuora_inflight;

/* ===== request context ===== */

struct req_ctx {
	struct buf body;
	bool too_large;
	int64_t start;
};

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req_ctx *ctx = *con_cls;
	(void)cls;
	(void)c;
	(void)toe;
	if (!ctx)
		return;
	buf_release(&ctx->body);
	free(ctx);
	*con_cls = NULL;
}

const char *req_header(const struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *req_arg(const struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
					   name);
}

void resp_header(struct resp *o, const char *k, const char *v)
{
	for (int i = 0; i < o->nh; i++) {
		if (!strcasecmp(o->hk[i], k)) {
			free(o->hv[i]);
			o->hv[i] = xstrdup(v);
			return;
		}
	}
	if (o->nh >= SIM_MAX_HEADERS)
		return;
	o->hk[o->nh] = xstrdup(k);
	o->hv[o->nh++] = xstrdup(v);
}

void resp_json(struct resp *o, unsigned status, json_t *j)
{
	free(o->body);
	o->status = status;
	o->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (!o->body) { /* a json_pack format bug: make it loud */
		fprintf(stderr, "upstream-sim: internal error: bad JSON "
			"for a %u response\n", status);
		o->status = 500;
		o->body = xstrdup("{\"message\":\"simulator internal error\"}");
	}
	o->len = strlen(o->body);
	o->ctype = "application/json;charset=utf-8";
	json_decref(j);
}

void resp_json_buf(struct resp *o, unsigned status, struct buf *b)
{
	free(o->body);
	o->status = status;
	o->body = buf_detach(b, &o->len);
	o->ctype = "application/json;charset=utf-8";
}

void resp_text(struct resp *o, unsigned status, const char *ctype,
	       const char *s)
{
	free(o->body);
	o->status = status;
	o->body = xstrdup(s);
	o->len = strlen(s);
	o->ctype = ctype;
}

static void resp_release(struct resp *o)
{
	free(o->body);
	for (int i = 0; i < o->nh; i++) {
		free(o->hk[i]);
		free(o->hv[i]);
	}
	memset(o, 0, sizeof(*o));
}

/* ===== routes ===== */

enum auth { AUTH_NONE, AUTH_ZUORA, AUTH_SF };
typedef void (*handler_fn)(const struct req *r, struct resp *o);

/* "*" in a pattern matches exactly one non-empty path segment. */
static const struct route {
	const char *method;
	const char *pattern;
	handler_fn fn;
	enum auth auth;
	bool zuora; /* send Zuora's response headers */
} routes[] = {
	{"POST", "/oauth/token", zuora_token, AUTH_NONE, true},
	{"POST", "/v1/action/query", zuora_query, AUTH_ZUORA, true},
	{"POST", "/v1/action/queryMore", zuora_query_more, AUTH_ZUORA, true},
	{"GET", "/v1/subscriptions/*", zuora_get_subscription, AUTH_ZUORA, true},
	{"GET", "/v1/accounts/*", zuora_get_account, AUTH_ZUORA, true},
	{"POST", "/services/oauth2/token", sf_token, AUTH_NONE, false},
	{"GET", "/services/data/*/query", sf_query, AUTH_SF, false},
	{"GET", "/services/data/*/queryAll", sf_query, AUTH_SF, false},
	{"GET", "/services/data/*/query/*", sf_query_more, AUTH_SF, false},
	{"GET", "/services/data/*/queryAll/*", sf_query_more, AUTH_SF, false},
	{"POST", "/_sim/fault", ctl_fault, AUTH_NONE, false},
	{"GET", "/_sim/fault", ctl_faults_list, AUTH_NONE, false},
	{"GET", "/_sim/faults", ctl_faults_list, AUTH_NONE, false},
	{"POST", "/_sim/reset", ctl_reset, AUTH_NONE, false},
	{"GET", "/_sim/stats", ctl_stats, AUTH_NONE, false},
	{"POST", "/_sim/data", ctl_data, AUTH_NONE, false},
	{"POST", "/_sim/expire_tokens", ctl_expire_tokens, AUTH_NONE, false},
};

static bool path_match(const char *pat, const char *path)
{
	while (*pat && *path) {
		if (*pat == '*') {
			const char *slash = strchr(path, '/');
			if (slash == path)
				return false;
			path = slash ? slash : path + strlen(path);
			pat++;
			continue;
		}
		if (*pat++ != *path++)
			return false;
	}
	return *pat == '\0' && *path == '\0';
}

static const struct route *route_find(const char *method, const char *path,
				      bool *path_only)
{
	*path_only = false;
	for (size_t k = 0; k < sizeof(routes) / sizeof(routes[0]); k++) {
		if (!path_match(routes[k].pattern, path))
			continue;
		if (!strcmp(routes[k].method, method))
			return &routes[k];
		*path_only = true;
	}
	return NULL;
}

static bool authorized(const struct req *r, enum auth a)
{
	const char *h = req_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *tok = NULL;
	bool ok;

	if (a == AUTH_NONE)
		return true;
	if (h && !strncasecmp(h, "Bearer ", 7))
		tok = h + 7;
	else if (h && a == AUTH_SF && !strncasecmp(h, "OAuth ", 6))
		tok = h + 6;
	while (tok && *tok == ' ')
		tok++;
	pthread_mutex_lock(&sim.lock);
	ok = tok && token_valid(a == AUTH_ZUORA ? API_ZUORA : API_SF, tok);
	pthread_mutex_unlock(&sim.lock);
	return ok;
}

static void unauthorized(enum auth a, struct resp *o)
{
	if (a == AUTH_ZUORA) /* [I] body shape not documented */
		resp_json(o, 401, json_pack("{ss}", "message",
					    "Authentication error"));
	else
		resp_json(o, 401, json_pack("[{ssss}]", "message",
					    "Session expired or invalid",
					    "errorCode", "INVALID_SESSION_ID"));
}

/* ===== Zuora / Salesforce response headers ===== */

static void uuid(char out[37])
{
	char hex[33];
	rand_hex(hex, 32);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
		 hex + 16, hex + 20);
}

static void zuora_headers(const struct req *r, struct resp *o,
			  bool limited)
{
	static int64_t window;
	static long used;
	char v[64];
	int64_t now = now_ms() / 1000;
	const char *track = req_header(r, "Zuora-Track-Id");
	long remaining;

	pthread_mutex_lock(&sim.lock);
	if (now / 60 != window) {
		window = now / 60;
		used = 0;
	}
	remaining = 50000 - ++used;
	pthread_mutex_unlock(&sim.lock);
	resp_header(o, "Zuora-Request-Id", r->request_id);
	resp_header(o, "RateLimit-Limit",
		    "50000, 50000;w=60, 2250000;w=3600, 27000000;w=86400");
	snprintf(v, sizeof(v), "%ld", limited || remaining < 0 ? 0 : remaining);
	resp_header(o, "RateLimit-Remaining", v);
	snprintf(v, sizeof(v), "%lld", (long long)(60 - now % 60));
	resp_header(o, "RateLimit-Reset", v);
	resp_header(o, "Concurrency-Limit-Type", "Default");
	resp_header(o, "Concurrency-Limit-Limit", "40");
	int inflight = atomic_load(&zuora_inflight);
	snprintf(v, sizeof(v), "%d", inflight >= 40 ? 0 : 40 - inflight);
	resp_header(o, "Concurrency-Limit-Remaining", v);
	if (track && strlen(track) <= 64 && !strpbrk(track, ":;\"'"))
		resp_header(o, "Zuora-Track-Id", track);
}

static void sf_headers(struct resp *o)
{
	char v[64];
	snprintf(v, sizeof(v), "api-usage=%lu/100000", sf_api_usage_bump());
	resp_header(o, "Sforce-Limit-Info", v);
}

/* ===== faults ===== */

struct stream {
	char *body; /* drip: the real body; oversized: NULL */
	uint64_t len;
	bool drip;
};

static const char over_head[] =
	"{\"size\":1,\"done\":true,\"records\":[{\"Id\":\"oversized\",\"pad\":\"";
static const char over_tail[] = "\"}]}";

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct stream *s = cls;
	size_t n = 0, hl = sizeof(over_head) - 1, tl = sizeof(over_tail) - 1;

	if (pos >= s->len)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (s->drip) {
		if (pos > 0 && !sleep_ms_interruptible(1000))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		out[0] = s->body[pos];
		return 1;
	}
	/* oversized: head, 'x' padding, tail; exactly len bytes */
	while (n < max && pos + n < s->len) {
		uint64_t p = pos + n;
		if (p < hl)
			out[n] = over_head[p];
		else if (p >= s->len - tl)
			out[n] = over_tail[p - (s->len - tl)];
		else
			out[n] = 'x';
		n++;
	}
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct stream *s = cls;
	free(s->body);
	free(s);
}

/* A response for a fault that replaces the handler; false if none. */
static bool fault_response(const struct fault *f, const struct route *rt,
			   const struct req *r, struct resp *o)
{
	char v[32];
	switch (f->kind) {
	case F_STATUS:
	case F_RETRY_AFTER:
		if (rt && !rt->zuora && rt->auth == AUTH_SF)
			resp_json(o, f->status, json_pack(
				"[{ssss}]", "message", "simulated fault",
				"errorCode", f->status == 429 ? "REQUEST_LIMIT_EXCEEDED"
							      : "SERVER_UNAVAILABLE"));
		else
			resp_json(o, f->status, json_pack("{ss}", "message",
				f->status == 429 ? "Too many requests"
						 : "simulated fault"));
		if (f->retry_after >= 0) {
			snprintf(v, sizeof(v), "%ld", f->retry_after);
			resp_header(o, "Retry-After", v);
		}
		return true;
	case F_OVERSIZED: /* the body is streamed by make_response */
		resp_text(o, 200, "application/json", "");
		return true;
	case F_GARBAGE:
		resp_text(o, 200, "application/json",
			  "<html><body>upstream-sim garbage \x01\x02 not json");
		return true;
	case F_REDIRECT:
		resp_text(o, 302, "text/html", "<a href=\"http://example.invalid/\">moved</a>");
		resp_header(o, "Location", "http://example.invalid/");
		return true;
	case F_ZUORA_SUCCESS_FALSE: {
		char pid[17];
		rand_hex(pid, 16);
		for (char *c = pid; *c; c++)
			if (*c >= 'a' && *c <= 'f')
				*c = (char)(*c - 'a' + 'A');
		if (f->gu_shape) { /* the shape GU also parses (UPSTREAM.md 1.7) */
			char code[24];
			snprintf(code, sizeof(code), "%ld", f->code);
			resp_json(o, f->status, json_pack(
				"{sbs[{ssss}]}", "Success", 0, "Errors", "Code", code,
				"Message", "Operation failed due to a temporary error; retry later."));
			return true;
		}
		resp_json(o, f->status, json_pack(
			"{sbsss[{sIss}]ss}", "success", 0, "processId", pid,
			"reasons", "code", (json_int_t)f->code, "message",
			"Operation failed due to a temporary error; retry later.",
			"requestId", r->request_id));
		return true;
	}
	default:
		return false;
	}
}

static struct MHD_Response *make_response(struct resp *o, const struct fault *f)
{
	struct MHD_Response *mr;

	if (f->kind == F_OVERSIZED || f->kind == F_DRIP) {
		struct stream *s = xcalloc(1, sizeof(*s));
		s->drip = f->kind == F_DRIP;
		if (s->drip) {
			s->body = o->body;
			s->len = o->len;
			o->body = NULL;
		} else {
			uint64_t min = sizeof(over_head) + sizeof(over_tail);
			s->len = f->bytes ? f->bytes : DEFAULT_OVERSIZE;
			if (s->len < min)
				s->len = min;
			o->status = 200;
			o->ctype = "application/json";
		}
		/* drip: known length; oversized: chunked, so only a streaming
		 * cap on the client can stop it */
		mr = MHD_create_response_from_callback(
			s->drip ? s->len : MHD_SIZE_UNKNOWN, s->drip ? 1 : 65536,
			stream_read, s, stream_free);
	} else {
		if (f->kind == F_TRUNCATED && o->len > 1) {
			size_t cut = f->bytes && f->bytes < o->len
					     ? (size_t)f->bytes
					     : o->len / 2;
			o->len = cut;
		}
		mr = MHD_create_response_from_buffer_with_free_callback(
			o->len, o->body, free);
		o->body = NULL;
	}
	if (!mr)
		return NULL;
	MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
				o->ctype ? o->ctype : "application/json");
	for (int i = 0; i < o->nh; i++)
		MHD_add_response_header(mr, o->hk[i], o->hv[i]);
	return mr;
}

/* ===== dispatch ===== */

static void handle(const struct route *rt, bool path_only, struct req *r,
		   struct req_ctx *ctx, struct fault *f, struct resp *o)
{
	bool is_sim = !strncmp(r->url, "/_sim/", 6);

	if (!is_sim && fault_take(r->method, r->url, f)) {
		/* Only the tokens of the API the request is for: a Zuora
		 * expiry never ends a Salesforce session, and killing both
		 * let one source's fault land between the other's new token
		 * and its single retry (a flaky test_sync). */
		if (f->kind == F_EXPIRE_TOKENS)
			tokens_expire((rt ? rt->zuora : !strncmp(r->url, "/v1/", 4)) ? 1 : 2);
		if (f->kind == F_STALL &&
		    !sleep_ms_interruptible((int64_t)f->seconds * 1000))
			f->kind = F_NONE;
		if (fault_response(f, rt, r, o))
			return;
	}
	if (ctx->too_large) {
		resp_json(o, 413, json_pack("{ss}", "message",
					    "request body too large"));
	} else if (!rt) {
		resp_json(o, path_only ? 405 : 404,
			  json_pack("{ss}", "message",
				    path_only ? "method not allowed"
					      : "no such endpoint"));
	} else if (!authorized(r, rt->auth)) {
		unauthorized(rt->auth, o);
	} else {
		rt->fn(r, o);
	}
}

static enum MHD_Result dispatch(struct MHD_Connection *conn, const char *url,
				const char *method, struct req_ctx *ctx)
{
	struct req r = {conn, method, url, ctx->body.p ? ctx->body.p : "",
			ctx->body.len, NULL};
	struct resp o = {0};
	struct fault f = {0};
	char rid[37];
	bool path_only;
	const struct route *rt = route_find(method, url, &path_only);
	bool zuora = rt ? rt->zuora : !strncmp(url, "/v1/", 4);
	enum MHD_Result ret;

	uuid(rid);
	r.request_id = rid;
	stats_request(method, rt ? rt->pattern : "(unrouted)", url, r.body, r.body_len);
	if (zuora)
		atomic_fetch_add(&zuora_inflight, 1);
	handle(rt, path_only, &r, ctx, &f, &o);
	if (zuora) {
		zuora_headers(&r, &o, f.kind == F_RETRY_AFTER);
		atomic_fetch_sub(&zuora_inflight, 1);
	} else if (!strncmp(url, "/services/", 10)) {
		sf_headers(&o);
	}
	stats_status(url, o.status);
	if (verbose)
		fprintf(stderr, "upstream-sim: %s %s %u %lldms%s\n", method,
			url, o.status, (long long)(now_ms() - ctx->start),
			f.kind ? " (fault)" : "");
	struct MHD_Response *mr = make_response(&o, &f);
	if (!mr) {
		resp_release(&o);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, o.status ? o.status : 500, mr);
	MHD_destroy_response(mr);
	resp_release(&o);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct req_ctx *ctx = *con_cls;
	(void)cls;
	(void)version;

	if (!ctx) { /* first call: headers only; respond on a later call */
		ctx = xcalloc(1, sizeof(*ctx));
		ctx->start = now_ms();
		*con_cls = ctx;
		return MHD_YES;
	}
	if (*upload_size) {
		size_t cap = strcmp(url, "/_sim/data") ? BODY_CAP
						       : SIM_DATA_BODY_CAP;
		if (ctx->body.len + *upload_size > cap)
			ctx->too_large = true;
		else
			buf_add(&ctx->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	return dispatch(conn, url, method, ctx);
}

/* ===== configuration ===== */

static char *secret_value(const char *flag, const char *env, const char *def)
{
	const char *v = flag ? flag : getenv(env);
	if (!v || !*v)
		return xstrdup(def);
	if (v[0] == '@') {
		size_t len;
		char *s = read_file_all(v + 1, 4096, &len);
		if (!s) {
			fprintf(stderr, "upstream-sim: cannot read %s\n", v + 1);
			exit(2);
		}
		while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
			s[--len] = '\0';
		return s;
	}
	return xstrdup(v);
}

static long long parse_num(const char *opt, const char *s, long long lo,
			   long long hi)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi) {
		fprintf(stderr, "upstream-sim: --%s: expected %lld..%lld, got '%s'\n",
			opt, lo, hi, s);
		exit(2);
	}
	return v;
}

/* A PEM file's contents (caller frees); exits 2 when unreadable. */
static char *pem_file(const char *opt, const char *path)
{
	size_t len;
	char *s = read_file_all(path, 64 * 1024, &len);

	if (!s || len == 0) {
		fprintf(stderr, "upstream-sim: --%s: cannot read %s\n", opt, path);
		exit(2);
	}
	return s;
}

static void usage(FILE *fp)
{
	fputs("usage: upstream-sim --port N [--bind 127.0.0.1] [--data FILE.json]\n"
	      "         [--generate N_SUBSCRIPTIONS [--seed S]]\n"
	      "         [--dump-generated FILE] [--emit-partners-csv FILE]\n"
	      "         [--zuora-client-id ID] [--zuora-client-secret S]\n"
	      "         [--sf-client-id ID] [--sf-client-secret S]\n"
	      "         [--token-ttl SEC] [--sf-session-ttl SEC]\n"
	      "         [--locator-ttl SEC] [--sf-min-batch N] [--verbose]\n"
	      "         [--tls-cert FILE.pem --tls-key FILE.pem]\n"
	      "         [--sf-instance-url URL] [--sf-no-query-all]\n"
	      "Without --port, only the --dump-generated/--emit-partners-csv\n"
	      "files are written. See tests/simulator/README.md.\n", fp);
}

struct cli {
	const char *data, *dump, *csv, *tls_cert, *tls_key;
	long long generate, seed;
	bool have_port;
};

static void parse_cli(int argc, char **argv, struct cli *c)
{
	enum { O_ZID = 256, O_ZSEC, O_SID, O_SSEC, O_TTL, O_STTL, O_LTTL,
	       O_MINB, O_DUMP, O_CSV, O_CERT, O_KEY, O_INST, O_NOQA };
	static const struct option opts[] = {
		{"port", required_argument, NULL, 'p'},
		{"bind", required_argument, NULL, 'b'},
		{"data", required_argument, NULL, 'd'},
		{"generate", required_argument, NULL, 'g'},
		{"seed", required_argument, NULL, 's'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"zuora-client-id", required_argument, NULL, O_ZID},
		{"zuora-client-secret", required_argument, NULL, O_ZSEC},
		{"sf-client-id", required_argument, NULL, O_SID},
		{"sf-client-secret", required_argument, NULL, O_SSEC},
		{"token-ttl", required_argument, NULL, O_TTL},
		{"sf-session-ttl", required_argument, NULL, O_STTL},
		{"locator-ttl", required_argument, NULL, O_LTTL},
		{"sf-min-batch", required_argument, NULL, O_MINB},
		{"dump-generated", required_argument, NULL, O_DUMP},
		{"emit-partners-csv", required_argument, NULL, O_CSV},
		{"tls-cert", required_argument, NULL, O_CERT},
		{"tls-key", required_argument, NULL, O_KEY},
		{"sf-instance-url", required_argument, NULL, O_INST},
		{"sf-no-query-all", no_argument, NULL, O_NOQA},
		{NULL, 0, NULL, 0}};
	const char *zid = NULL, *zsec = NULL, *sid = NULL, *ssec = NULL;
	int ch;

	snprintf(sim.cfg.bind, sizeof(sim.cfg.bind), "127.0.0.1");
	sim.cfg.token_ttl = 3599;
	sim.cfg.sf_session_ttl = 7200;
	sim.cfg.locator_ttl = 900;
	sim.cfg.sf_min_batch = 200;
	c->seed = 1;
	while ((ch = getopt_long(argc, argv, "p:b:d:g:s:vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			sim.cfg.port = (unsigned)parse_num("port", optarg, 0, 65535);
			c->have_port = true;
			break;
		case 'b':
			snprintf(sim.cfg.bind, sizeof(sim.cfg.bind), "%s", optarg);
			break;
		case 'd': c->data = optarg; break;
		case 'g': c->generate = parse_num("generate", optarg, 1, 100000000); break;
		case 's': c->seed = parse_num("seed", optarg, 0, INT64_MAX); break;
		case 'v': verbose = true; break;
		case 'h': usage(stdout); exit(0);
		case O_ZID: zid = optarg; break;
		case O_ZSEC: zsec = optarg; break;
		case O_SID: sid = optarg; break;
		case O_SSEC: ssec = optarg; break;
		case O_TTL: sim.cfg.token_ttl = parse_num("token-ttl", optarg, 1, 86400 * 365); break;
		case O_STTL: sim.cfg.sf_session_ttl = parse_num("sf-session-ttl", optarg, 1, 86400 * 365); break;
		case O_LTTL: sim.cfg.locator_ttl = parse_num("locator-ttl", optarg, 1, 86400 * 365); break;
		case O_MINB: sim.cfg.sf_min_batch = (unsigned)parse_num("sf-min-batch", optarg, 1, 2000); break;
		case O_NOQA: sim.cfg.sf_no_query_all = true; break;
		case O_DUMP: c->dump = optarg; break;
		case O_CSV: c->csv = optarg; break;
		case O_CERT: c->tls_cert = optarg; break;
		case O_KEY: c->tls_key = optarg; break;
		case O_INST:
			if (strlen(optarg) >= sizeof(sim.cfg.base_url)) {
				fprintf(stderr, "upstream-sim: --sf-instance-url: too long\n");
				exit(2);
			}
			sim.cfg.sf_instance_url = xstrdup(optarg);
			break;
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc || (!c->have_port && !c->dump && !c->csv) ||
	    !c->tls_cert != !c->tls_key) {
		usage(stderr);
		exit(2);
	}
	if (c->tls_cert) {
		sim.cfg.tls_cert = pem_file("tls-cert", c->tls_cert);
		sim.cfg.tls_key = pem_file("tls-key", c->tls_key);
	}
	sim.cfg.zuora_id = secret_value(zid, "ZUORA_CLIENT_ID", "zuora-client");
	sim.cfg.zuora_secret = secret_value(zsec, "ZUORA_CLIENT_SECRET", "zuora-secret");
	sim.cfg.sf_id = secret_value(sid, "SALESFORCE_CLIENT_ID", "sf-client");
	sim.cfg.sf_secret = secret_value(ssec, "SALESFORCE_CLIENT_SECRET", "sf-secret");
}

/* ===== startup ===== */

static bool load_dataset(const struct cli *c)
{
	char err[512];
	json_error_t jerr;

	if (c->generate && !gen_init((uint32_t)c->generate, (uint64_t)c->seed))
		return false;
	if (!c->data)
		return true;
	json_t *doc = json_load_file(c->data, 0, &jerr);
	if (!doc) {
		fprintf(stderr, "upstream-sim: %s:%d: %s\n", c->data, jerr.line,
			jerr.text);
		return false;
	}
	bool ok = data_merge(doc, false, err, sizeof(err));
	if (!ok)
		fprintf(stderr, "upstream-sim: %s: %s\n", c->data, err);
	json_decref(doc);
	return ok;
}

static bool write_file(const char *path, bool (*fn)(FILE *))
{
	FILE *fp = fopen(path, "w");
	bool ok = fp && fn(fp);
	if (fp && fclose(fp) != 0)
		ok = false;
	if (!ok)
		fprintf(stderr, "upstream-sim: cannot write %s: %s\n", path,
			strerror(errno));
	return ok;
}

static struct MHD_Daemon *start_daemon(void)
{
	struct sockaddr_in sa = {0};
	/* HTTPS when --tls-cert/--tls-key were given (GnuTLS inside MHD). */
	struct MHD_OptionItem tls[] = {
		{MHD_OPTION_HTTPS_MEM_KEY, 0, sim.cfg.tls_key},
		{MHD_OPTION_HTTPS_MEM_CERT, 0, sim.cfg.tls_cert},
		{MHD_OPTION_END, 0, NULL},
	};
	unsigned int flags = MHD_USE_THREAD_PER_CONNECTION |
			     MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

	if (sim.cfg.tls_cert) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			fprintf(stderr, "upstream-sim: this libmicrohttpd has no TLS support\n");
			return NULL;
		}
		flags |= MHD_USE_TLS;
	} else {
		tls[0].option = MHD_OPTION_END;
	}
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)sim.cfg.port);
	if (inet_pton(AF_INET, sim.cfg.bind, &sa.sin_addr) != 1) {
		fprintf(stderr, "upstream-sim: --bind: not an IPv4 address: %s\n",
			sim.cfg.bind);
		return NULL;
	}
	return MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)512,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)0,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
}

int main(int argc, char **argv)
{
	struct cli c = {0};
	sigset_t set;
	int sig;

	parse_cli(argc, argv, &c);
	if (!load_dataset(&c))
		return 1;
	if (c.dump && !write_file(c.dump, data_dump))
		return 1;
	if (c.csv && !write_file(c.csv, gen_partners_csv))
		return 1;
	if (!c.have_port)
		return 0;

	/* Block the signals before MHD starts its threads; sigwait below. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct MHD_Daemon *d = start_daemon();
	if (!d) {
		fprintf(stderr, "upstream-sim: cannot listen on %s:%u\n",
			sim.cfg.bind, sim.cfg.port);
		return 1;
	}
	const union MHD_DaemonInfo *di =
		MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	sim.cfg.port = di ? di->port : sim.cfg.port;
	pthread_mutex_lock(&sim.lock);
	if (sim.cfg.sf_instance_url)
		snprintf(sim.cfg.base_url, sizeof(sim.cfg.base_url), "%s",
			 sim.cfg.sf_instance_url);
	else
		snprintf(sim.cfg.base_url, sizeof(sim.cfg.base_url), "%s://%s:%u",
			 sim.cfg.tls_cert ? "https" : "http", sim.cfg.bind,
			 sim.cfg.port);
	pthread_mutex_unlock(&sim.lock);
	printf("listening on %s:%u\n", sim.cfg.bind, sim.cfg.port);
	fflush(stdout);

	sigwait(&set, &sig);
	atomic_store(&sim_stopping, true);
	MHD_stop_daemon(d);
	cursor_free_all();
	data_free();
	gen_free();
	free(sim.cfg.zuora_id);
	free(sim.cfg.zuora_secret);
	free(sim.cfg.sf_id);
	free(sim.cfg.sf_secret);
	free(sim.cfg.tls_cert);
	free(sim.cfg.tls_key);
	free(sim.cfg.sf_instance_url);
	return 0;
}
