#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
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
 * cannot break the line apart.
 */
bool json_quote(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	bool ok = buf_append(b, "\"", 1);

	for (; ok && *p; p++) {
		unsigned char c = *p;

		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};

			ok = buf_append(b, esc, 2);
		} else if (c == '\n') {
			ok = buf_append(b, "\\n", 2);
		} else if (c == '\t') {
			ok = buf_append(b, "\\t", 2);
		} else if (c < 0x20 || c == 0x7f) {
			ok = buf_printf(b, "\\u%04x", c);
		} else {
			ok = buf_append(b, p, 1);
		}
	}
	return ok && buf_append(b, "\"", 1);
}

void log_write(enum log_level level, const char *file, int line,
	       const char *const *fields, const char *fmt, ...)
{
	char msg[4096];
	char ts[40];
	struct buf b;
	va_list ap;
	const char *base = strrchr(file, '/');

	if (level < min_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	format_rfc3339(now_unix(), ts, sizeof(ts));

	buf_init(&b, 16384);
	buf_printf(&b, "{\"timestamp\":\"%s\",\"severity_text\":\"%s\","
		   "\"body\":", ts, level_names[level]);
	json_quote(&b, msg);
	if (thread_request_id[0]) {
		buf_puts(&b, ",\"request_id\":");
		json_quote(&b, thread_request_id);
	}
	buf_printf(&b, ",\"code.filepath\":\"%s\",\"code.lineno\":%d",
		   base ? base + 1 : file, line);
	for (; fields && fields[0] && fields[1]; fields += 2) {
		const char *k = fields[0];

		buf_puts(&b, ",");
		if (k[0] == '#') {
			json_quote(&b, k + 1);
			buf_printf(&b, ":%s", fields[1]);
		} else {
			json_quote(&b, k);
			buf_puts(&b, ":");
			json_quote(&b, fields[1]);
		}
	}
	buf_puts(&b, "}\n");
	/* One write(2) per line keeps lines whole across threads. */
	if (b.ptr) {
		ssize_t r = write(STDOUT_FILENO, b.ptr, b.len);

		(void)r;
	}
	buf_release(&b);
}
