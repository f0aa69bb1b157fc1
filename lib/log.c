#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO;
static _Thread_local char thread_request_id[72];

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

int log_level_parse(const char *s)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (str_ieq(s, names[i]))
			return (int)i;
	return -1;
}

void log_set_level(enum log_level min)
{
	min_level = min;
}

bool log_enabled(enum log_level level)
{
	return level >= min_level;
}

void log_set_request_id(const char *id)
{
	strlcpy_(thread_request_id, id ? id : "", sizeof(thread_request_id));
}

/*
 * Hand-written JSON string escaping: the logger must not depend on jansson
 * (it stays in the codec and handlers) and must not allocate per field.
 * Control characters and invalid bytes are escaped, so a hostile value
 * cannot break the line apart. Runs of plain bytes are copied at once.
 */
bool json_quote(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	bool ok = buf_append(b, "\"", 1);

	while (ok && *p) {
		const unsigned char *run = p;
		unsigned char c;

		while (*p >= 0x20 && *p != 0x7f && *p != '"' && *p != '\\')
			p++;
		if (p > run)
			ok = buf_append(b, run, (size_t)(p - run));
		c = *p;
		if (!ok || !c)
			break;
		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};

			ok = buf_append(b, esc, 2);
		} else if (c == '\n') {
			ok = buf_append(b, "\\n", 2);
		} else if (c == '\t') {
			ok = buf_append(b, "\\t", 2);
		} else {
			ok = buf_printf(b, "\\u%04x", c);
		}
		p++;
	}
	return ok && buf_append(b, "\"", 1);
}

/*
 * The sink. Lines are appended to one buffer under sink_mu; a drain
 * swaps it with a spare under sink_mu and writes the full one with
 * write(2) holding only write_mu, which keeps lines whole and in order
 * across threads (drains are serialised, and a swap only happens inside
 * one). A request thread thus never waits for another thread's
 * write(2) just to append its line: with one mutex held across the
 * write, a writer descheduled mid-call (32 connection threads on two
 * cores) stalled every request behind it. Lines written with log_write
 * are drained at once (with whatever was pending before them). Request
 * lines written with log_write_deferred may wait in the buffer for up to
 * the flusher's interval (100 ms), or until it is half full, like
 * nginx's "access_log ... buffer= flush=": one write(2) per request was a
 * tenth of the warm lookup's CPU time (tests/bench/README.md). Without a
 * flusher running (the CLI, tests of the library), every line is written
 * at once.
 */
#define SINK_CAP (64 * 1024)

static pthread_mutex_t sink_mu = PTHREAD_MUTEX_INITIALIZER;  /* sink, sink_len, flags */
static pthread_mutex_t write_mu = PTHREAD_MUTEX_INITIALIZER; /* spare, stdout */
static pthread_cond_t sink_cv = PTHREAD_COND_INITIALIZER;
static char bufs[2][SINK_CAP];
static char *sink = bufs[0], *spare = bufs[1];
static size_t sink_len;
static bool flusher_on, flusher_quit;
static pthread_t flusher;

/* Write all of p; drop it if stdout is gone. Caller holds write_mu. */
static void write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t r = write(STDOUT_FILENO, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		p += r;
		n -= (size_t)r;
	}
}

/* Write out what the buffer holds. Caller holds write_mu, not sink_mu. */
static void drain_locked(void)
{
	char *full;
	size_t n;

	pthread_mutex_lock(&sink_mu);
	full = sink;
	n = sink_len;
	sink = spare;
	sink_len = 0;
	spare = full;
	pthread_mutex_unlock(&sink_mu);
	write_all(full, n);
}

static void drain(void)
{
	pthread_mutex_lock(&write_mu);
	drain_locked();
	pthread_mutex_unlock(&write_mu);
}

static void sink_put(const char *line, size_t n, bool defer)
{
	bool now;

	if (n > SINK_CAP / 2) { /* a huge line: after what is pending, alone */
		pthread_mutex_lock(&write_mu);
		drain_locked();
		write_all(line, n);
		pthread_mutex_unlock(&write_mu);
		return;
	}
	for (;;) {
		pthread_mutex_lock(&sink_mu);
		if (sink_len + n <= SINK_CAP)
			break;
		pthread_mutex_unlock(&sink_mu);
		drain(); /* full: the flusher fell behind; help it */
	}
	memcpy(sink + sink_len, line, n);
	sink_len += n;
	now = !defer || !flusher_on;
	if (!now && sink_len >= SINK_CAP / 2 && sink_len - n < SINK_CAP / 2)
		pthread_cond_signal(&sink_cv);
	pthread_mutex_unlock(&sink_mu);
	if (now)
		drain();
}

static void *flusher_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&sink_mu);
	while (!flusher_quit) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 100 * 1000 * 1000;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&sink_cv, &sink_mu, &until);
		if (sink_len == 0)
			continue;
		pthread_mutex_unlock(&sink_mu);
		drain();
		pthread_mutex_lock(&sink_mu);
	}
	pthread_mutex_unlock(&sink_mu);
	return NULL;
}

void log_flusher_start(void)
{
	pthread_mutex_lock(&sink_mu);
	if (flusher_on) {
		pthread_mutex_unlock(&sink_mu);
		return;
	}
	flusher_quit = false;
	flusher_on = pthread_create(&flusher, NULL, flusher_main, NULL) == 0;
	pthread_mutex_unlock(&sink_mu);
}

void log_flusher_stop(void)
{
	bool was_on;

	pthread_mutex_lock(&sink_mu);
	was_on = flusher_on;
	flusher_quit = true;
	pthread_cond_signal(&sink_cv);
	pthread_mutex_unlock(&sink_mu);
	if (was_on)
		pthread_join(flusher, NULL);
	pthread_mutex_lock(&sink_mu);
	flusher_on = false;
	pthread_mutex_unlock(&sink_mu);
	drain();
}

/* Each thread formats into its own buffer, kept between lines. */
static pthread_key_t line_key;
static pthread_once_t line_once = PTHREAD_ONCE_INIT;

static void line_buf_free(void *p)
{
	buf_release(p);
	free(p);
}

static void line_key_init(void)
{
	if (pthread_key_create(&line_key, line_buf_free) != 0)
		die("pthread_key_create failed");
}

static struct buf *line_buf(void)
{
	struct buf *b;

	pthread_once(&line_once, line_key_init);
	b = pthread_getspecific(line_key);
	if (!b) {
		b = xmalloc(sizeof(*b));
		buf_init(b, 16384);
		pthread_setspecific(line_key, b);
	}
	buf_reset(b);
	return b;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ"; strftime runs once a second per thread. */
static void timestamp(char out[32])
{
	static _Thread_local time_t cached_sec = -1;
	static _Thread_local char cached[24];
	static _Thread_local size_t cached_len;
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	if (now.tv_sec != cached_sec) {
		struct tm tm;

		gmtime_r(&now.tv_sec, &tm);
		cached_len = strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S.", &tm);
		cached_sec = now.tv_sec;
	}
	memcpy(out, cached, cached_len);
	u64_digits((uint64_t)now.tv_nsec / 1000000u, 3, out + cached_len);
	out[cached_len + 3] = 'Z';
	out[cached_len + 4] = '\0';
}

static void emit(enum log_level level, const char *file, int line, const char *const *fields,
		 bool defer, const char *fmt, va_list ap)
{
	char msg[4096];
	char ts[32], num[21];
	struct buf *b;
	const char *base = strrchr(file, '/');

	if (strchr(fmt, '%'))
		vsnprintf(msg, sizeof(msg), fmt, ap);
	else
		strlcpy_(msg, fmt, sizeof(msg));
	timestamp(ts);
	b = line_buf();
	buf_puts(b, "{\"timestamp\":\"");
	buf_puts(b, ts);
	buf_puts(b, "\",\"severity_text\":\"");
	buf_puts(b, level_names[level]);
	buf_puts(b, "\",\"body\":");
	json_quote(b, msg);
	if (thread_request_id[0]) {
		buf_puts(b, ",\"request_id\":");
		json_quote(b, thread_request_id);
	}
	buf_puts(b, ",\"code.filepath\":\"");
	buf_puts(b, base ? base + 1 : file);
	buf_puts(b, "\",\"code.lineno\":");
	u64_digits(line > 0 ? (uint64_t)line : 0, 1, num);
	buf_puts(b, num);
	for (; fields && fields[0] && fields[1]; fields += 2) {
		const char *k = fields[0];

		buf_puts(b, ",");
		if (k[0] == '#') {
			json_quote(b, k + 1);
			buf_puts(b, ":");
			buf_puts(b, fields[1]);
		} else {
			json_quote(b, k);
			buf_puts(b, ":");
			json_quote(b, fields[1]);
		}
	}
	buf_puts(b, "}\n");
	if (b->ptr)
		sink_put(b->ptr, b->len, defer && level < LOG_WARN);
}

void log_write(enum log_level level, const char *file, int line,
	       const char *const *fields, const char *fmt, ...)
{
	va_list ap;

	if (level < min_level)
		return;
	va_start(ap, fmt);
	emit(level, file, line, fields, false, fmt, ap);
	va_end(ap);
}

void log_write_deferred(enum log_level level, const char *file, int line,
			const char *const *fields, const char *fmt, ...)
{
	va_list ap;

	if (level < min_level)
		return;
	va_start(ap, fmt);
	emit(level, file, line, fields, true, fmt, ap);
	va_end(ap);
}
