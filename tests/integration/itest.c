#include "itest.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

const char *itest_pgdir(void)
{
	const char *d = getenv("RESELLERD_TEST_PGDIR");

	if (!d || !*d) {
		fprintf(stderr, "RESELLERD_TEST_PGDIR is not set: run the tests through "
				"scripts/check, which starts a private PostgreSQL\n");
		fail();
	}
	return d;
}

double itest_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void itest_sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static PGconn *connect_db(const char *name)
{
	char url[512];
	PGconn *pg;

	snprintf(url, sizeof(url), "postgresql:///%s?host=%s/sock&user=postgres", name,
		 itest_pgdir());
	pg = PQconnectdb(url);
	if (PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "cannot connect to %s: %s", url, PQerrorMessage(pg));
		fail();
	}
	PQsetNoticeProcessor(pg, quiet, NULL);
	return pg;
}

static void exec_ok(PGconn *pg, const char *sql)
{
	PGresult *r = PQexec(pg, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "SQL failed: %s\n%s", sql, PQerrorMessage(pg));
		PQclear(r);
		fail();
	}
	PQclear(r);
}

void itest_db_create(struct itest_db *db)
{
	static int seq;
	char sql[256];
	PGconn *pg = connect_db("postgres");
	const char *argv[] = {RESELLERCTL_BIN, "migrate", NULL};
	const char *env[2];
	char envbuf[600];
	char *out = NULL;
	int rc;

	snprintf(db->name, sizeof(db->name), "itest_%d_%d", (int)getpid(), seq++);
	snprintf(db->url, sizeof(db->url), "postgresql:///%s?host=%s/sock&user=postgres",
		 db->name, itest_pgdir());
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", db->name);
	exec_ok(pg, sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db->name);
	exec_ok(pg, sql);
	PQfinish(pg);
	snprintf(envbuf, sizeof(envbuf), "DATABASE_URL=%s", db->url);
	env[0] = envbuf;
	env[1] = NULL;
	rc = itest_run(argv, env, &out);
	if (rc != 0)
		fprintf(stderr, "resellerctl migrate failed (%d): %s\n", rc, out ? out : "");
	free(out);
	assert_int_equal(rc, 0);
}

void itest_db_drop(struct itest_db *db)
{
	char sql[256];
	PGconn *pg = connect_db("postgres");

	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", db->name);
	exec_ok(pg, sql);
	PQfinish(pg);
}

char *itest_slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f) {
		fprintf(stderr, "cannot read %s\n", path);
		fail();
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		fail();
	fclose(f);
	return buf;
}

void itest_partners_import(const struct itest_db *db, const char *csv)
{
	const char *argv[] = {RESELLERCTL_BIN, "partners", "import", csv, NULL};
	char env0[600];
	const char *env[] = {env0, NULL};

	snprintf(env0, sizeof(env0), "DATABASE_URL=%s", db->url);
	assert_int_equal(itest_run(argv, env, NULL), 0);
}

void itest_load_channel_fixtures(const struct itest_db *db)
{
	char *sql = itest_slurp(SOURCE_DIR "/tests/fixtures/channels.sql");

	itest_sql(db, sql);
	free(sql);
	itest_partners_import(db, SOURCE_DIR "/tests/fixtures/partners.csv");
}

void itest_sql(const struct itest_db *db, const char *sql)
{
	PGconn *pg = connect_db(db->name);

	exec_ok(pg, sql);
	PQfinish(pg);
}

char *itest_sql_value(const struct itest_db *db, const char *sql)
{
	PGconn *pg = connect_db(db->name);
	PGresult *r = PQexec(pg, sql);
	char *v = NULL;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "SQL failed: %s\n%s", sql, PQerrorMessage(pg));
		PQclear(r);
		PQfinish(pg);
		fail();
	}
	if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		v = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(pg);
	return v;
}

/* Build envp = environ + extra (extra overrides same names). */
static char **make_env(const char *const *extra)
{
	size_t n = 0, m = 0, i, j;
	char **envp;

	while (environ[n])
		n++;
	while (extra && extra[m])
		m++;
	envp = calloc(n + m + 1, sizeof(*envp));
	for (i = 0, j = 0; i < n; i++) {
		size_t k;
		bool overridden = false;

		for (k = 0; k < m; k++) {
			size_t len = strcspn(extra[k], "=");

			if (strncmp(environ[i], extra[k], len) == 0 && environ[i][len] == '=')
				overridden = true;
		}
		if (!overridden)
			envp[j++] = environ[i];
	}
	for (i = 0; i < m; i++)
		envp[j++] = (char *)(uintptr_t)extra[i];
	envp[j] = NULL;
	return envp;
}

int itest_server_start(struct itest_server *s, const char *db_url, const char *const *env)
{
	const char *base_env[24];
	char dburl[600];
	size_t n = 0;
	char **envp;
	double deadline;
	pid_t pid;
	int fd;

	memset(s, 0, sizeof(s[0]));
	snprintf(s->log, sizeof(s->log), "/tmp/itest-resellerd-%d-%ld.log", (int)getpid(),
		 (long)(itest_now() * 1000));
	snprintf(dburl, sizeof(dburl), "DATABASE_URL=%s", db_url);
	base_env[n++] = dburl;
	base_env[n++] = "RESELLERD_LISTEN=127.0.0.1:0";
	base_env[n++] = "RESELLERD_SYNC_INTERVAL=0";
	base_env[n++] = "RESELLERD_LOG_LEVEL=info";
	while (env && *env && n < 23)
		base_env[n++] = *env++;
	base_env[n] = NULL;
	envp = make_env(base_env);
	fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	pid = fork();
	if (pid == 0) {
		char *const argv[] = {(char *)(uintptr_t)RESELLERD_BIN, NULL};

		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
		execve(RESELLERD_BIN, argv, envp);
		_exit(127);
	}
	close(fd);
	free(envp);
	s->pid = pid;
	deadline = itest_now() + 10;
	while (itest_now() < deadline) {
		FILE *f = fopen(s->log, "r");
		char line[4096];
		int status;

		while (f && fgets(line, sizeof(line), f)) {
			char *p = strstr(line, "\"server.port\":");

			if (p && strstr(line, "listening on")) {
				s->port = (unsigned)strtoul(p + 14, NULL, 10);
				snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%u", s->port);
				fclose(f);
				return 0;
			}
		}
		if (f)
			fclose(f);
		if (waitpid(pid, &status, WNOHANG) == pid) {
			s->pid = 0;
			return -1;
		}
		itest_sleep_ms(20);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	s->pid = 0;
	return -1;
}

int itest_server_stop(struct itest_server *s, int sig, int timeout_s)
{
	double deadline = itest_now() + timeout_s;
	int status;

	if (!s->pid)
		return -1;
	kill(s->pid, sig);
	while (itest_now() < deadline) {
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		itest_sleep_ms(10);
	}
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	s->pid = 0;
	return -1;
}

bool itest_log_contains(const struct itest_server *s, const char *needle)
{
	FILE *f;
	char line[8192];
	bool found = false;

	/* Request lines may wait up to 100 ms in the server's log buffer
	 * (lib/log.c); wait longer, so a check sees every line so far. */
	if (s->pid)
		itest_sleep_ms(250);
	f = fopen(s->log, "r");

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return found;
}

struct membuf {
	char *p;
	size_t n;
};

static size_t collect(char *data, size_t size, size_t nmemb, void *userp)
{
	struct membuf *b = userp;
	size_t len = size * nmemb;

	b->p = realloc(b->p, b->n + len + 1);
	memcpy(b->p + b->n, data, len);
	b->n += len;
	b->p[b->n] = '\0';
	return len;
}

/*
 * Contract log (tests/contract/validate.mjs): when RESELLERD_CONTRACT_LOG
 * names a directory, every response itest_http receives is appended to
 * DIR/<pid>.jsonl as one JSON object per line: method, url (path and
 * query), status, content_type, request_id (X-Request-Id, null when the
 * peer is not resellerd, e.g. the simulator) and body (a string; null
 * when it is over 1 MiB or not UTF-8). One O_APPEND write() per line, so
 * threads and processes never interleave. Best effort: a failure here
 * never fails a test.
 */
static void contract_record(CURL *c, const char *method, const char *url,
			    const struct itest_resp *r)
{
	const char *dir = getenv("RESELLERD_CONTRACT_LOG");
	const char *path = strstr(url, "://");
	char *ctype = NULL, *rid, *line;
	char file[512];
	json_t *o;
	int fd;

	if (!dir || !*dir || r->status == 0)
		return;
	path = path ? strchr(path + 3, '/') : NULL;
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ctype);
	rid = itest_header(r, "X-Request-Id");
	o = json_pack("{s:s, s:s, s:i, s:s?, s:s?}", "method", method, "url",
		      path ? path : "/", "status", (int)r->status, "content_type", ctype,
		      "request_id", rid);
	free(rid);
	if (!o)
		return;
	json_object_set_new(o, "body", r->len <= (1u << 20)
			    ? json_stringn(r->body, r->len) : NULL);
	if (!json_object_get(o, "body"))
		json_object_set_new(o, "body", json_null());
	line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	if (!line)
		return;
	(void)mkdir(dir, 0755);
	snprintf(file, sizeof(file), "%s/%d.jsonl", dir, (int)getpid());
	fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		size_t n = strlen(line);

		line[n++] = '\n'; /* replaces the NUL; written with its length */
		if (write(fd, line, n) != (ssize_t)n)
			fprintf(stderr, "itest: cannot append to %s\n", file);
		close(fd);
	}
	free(line);
}

int itest_http(const char *method, const char *url, const char *const *headers,
	       const char *body, struct itest_resp *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hl = NULL;
	struct membuf b = {NULL, 0}, h = {NULL, 0};
	CURLcode rc;
	double t0 = itest_now();

	memset(r, 0, sizeof(*r));
	while (headers && *headers)
		hl = curl_slist_append(hl, *headers++);
	hl = curl_slist_append(hl, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (getenv("ITEST_CAINFO"))
		curl_easy_setopt(c, CURLOPT_CAINFO, getenv("ITEST_CAINFO"));
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	r->body = b.p ? b.p : strdup("");
	r->len = b.n;
	r->headers = h.p ? h.p : strdup("");
	r->seconds = itest_now() - t0;
	if (rc == CURLE_OK)
		contract_record(c, method, url, r);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? 0 : -1;
}

void itest_resp_free(struct itest_resp *r)
{
	free(r->body);
	free(r->headers);
	r->body = NULL;
	r->headers = NULL;
}

char *itest_header(const struct itest_resp *r, const char *name)
{
	size_t n = strlen(name);
	const char *p = r->headers;

	while (p && *p) {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;

			while (*v == ' ')
				v++;
			return strndup(v, len - (size_t)(v - p));
		}
		p = eol ? eol + 2 : NULL;
	}
	return NULL;
}

json_t *itest_json(const struct itest_resp *r)
{
	json_error_t e;
	json_t *v = json_loads(r->body, 0, &e);

	if (!v) {
		fprintf(stderr, "not JSON (%s): %.300s\n", e.text, r->body);
		fail();
	}
	return v;
}

int itest_run(const char *const *argv, const char *const *env, char **out)
{
	int pipefd[2];
	char **envp = make_env(env);
	struct membuf b = {NULL, 0};
	char chunk[4096];
	ssize_t n;
	pid_t pid;
	int status;

	if (pipe(pipefd) != 0)
		fail();
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		/* or a daemon it starts (postgres) holds the pipe open forever */
		close(pipefd[1]);
		execve(argv[0], (char *const *)(uintptr_t)argv, envp);
		_exit(127);
	}
	close(pipefd[1]);
	free(envp);
	while ((n = read(pipefd[0], chunk, sizeof(chunk))) > 0)
		collect(chunk, 1, (size_t)n, &b);
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	if (out)
		*out = b.p ? b.p : strdup("");
	else
		free(b.p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

char *itest_token(const struct itest_db *db, const char *name, const char *scope)
{
	const char *argv[] = {RESELLERCTL_BIN, "token", "create", "--name", name,
			      "--scope", scope, NULL};
	char envbuf[600];
	const char *env[] = {envbuf, NULL};
	char *out = NULL;

	snprintf(envbuf, sizeof(envbuf), "DATABASE_URL=%s", db->url);
	if (itest_run(argv, env, &out) != 0) {
		fprintf(stderr, "token create failed: %s\n", out);
		fail();
	}
	out[strcspn(out, "\n")] = '\0';
	return out;
}

void itest_pg(const char *what)
{
	const char *argv[] = {SOURCE_DIR "/scripts/pg", what, itest_pgdir(), NULL};
	char *out = NULL;
	int rc = itest_run(argv, NULL, &out);

	if (rc != 0) {
		fprintf(stderr, "scripts/pg %s failed: %s\n", what, out);
		free(out);
		fail();
	}
	free(out);
}

/* ===== the upstream simulator ===== */

void itest_sim_start(struct itest_sim *s, const char *const *extra)
{
	const char *argv[24];
	char line[256];
	size_t n = 0, len = 0;
	int fd[2];
	struct pollfd pfd;
	double deadline = itest_now() + 10;
	bool tls = false;

	argv[n++] = SIMULATOR_BIN;
	argv[n++] = "--port";
	argv[n++] = "0";
	while (extra && *extra && n < 22) {
		tls = tls || strcmp(*extra, "--tls-cert") == 0;
		argv[n++] = *extra++;
	}
	argv[n] = NULL;
	assert_int_equal(pipe(fd), 0);
	s->pid = fork();
	if (s->pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(fd[1], 1);
		if (devnull >= 0)
			dup2(devnull, 2);
		close(fd[0]);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(fd[1]);
	pfd.fd = fd[0];
	pfd.events = POLLIN;
	while (len < sizeof(line) - 1 && itest_now() < deadline) {
		ssize_t r;

		if (poll(&pfd, 1, 200) <= 0)
			continue;
		r = read(fd[0], line + len, 1);
		if (r <= 0)
			break;
		if (line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	close(fd[0]);
	if (sscanf(line, "listening on 127.0.0.1:%u", &s->port) != 1) {
		fprintf(stderr, "simulator did not start (%s): %s\n", SIMULATOR_BIN, line);
		fail();
	}
	snprintf(s->base, sizeof(s->base), "%s://127.0.0.1:%u", tls ? "https" : "http", s->port);
}

void itest_sim_stop(struct itest_sim *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
	}
	s->pid = 0;
}

void itest_sim_post(const struct itest_sim *s, const char *path, const char *json)
{
	struct itest_resp r;
	char url[256];
	const char *hdrs[] = {"Content-Type: application/json", NULL};

	snprintf(url, sizeof(url), "%s%s", s->base, path);
	assert_int_equal(itest_http("POST", url, hdrs, json, &r), 0);
	if (r.status != 200)
		fprintf(stderr, "simulator %s: %ld %s\n", path, r.status, r.body);
	assert_int_equal(r.status, 200);
	itest_resp_free(&r);
}

long itest_sim_stat(const struct itest_sim *s, const char *key)
{
	const char *dot = strchr(key, '.');
	struct itest_resp r;
	char url[256], outer[64];
	json_t *j, *v;
	long n;

	snprintf(url, sizeof(url), "%s/_sim/stats", s->base);
	assert_int_equal(itest_http("GET", url, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	j = itest_json(&r);
	itest_resp_free(&r);
	snprintf(outer, sizeof(outer), "%.*s", dot ? (int)(dot - key) : (int)strlen(key), key);
	v = json_object_get(j, outer);
	if (dot)
		v = json_object_get(v, dot + 1);
	n = (long)json_integer_value(v);
	json_decref(j);
	return n;
}

char *itest_sim_last_body(const struct itest_sim *s, const char *route)
{
	struct itest_resp r;
	char url[256];
	const char *v;
	char *out;
	json_t *j;

	snprintf(url, sizeof(url), "%s/_sim/stats", s->base);
	assert_int_equal(itest_http("GET", url, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	j = itest_json(&r);
	itest_resp_free(&r);
	v = json_string_value(json_object_get(json_object_get(j, "last_bodies"), route));
	out = v ? strdup(v) : NULL;
	json_decref(j);
	return out;
}
