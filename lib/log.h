#pragma once
/*
 * log: one JSON object per line on stdout (12-factor), with OpenTelemetry
 * field names: timestamp, severity_text, body, plus request_id (from the
 * calling thread), code location and extra fields. Never pass bodies or
 * credentials here.
 */
#include "util.h"

enum log_level {
	LOG_DEBUG = 0,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR,
};

/* Parse "debug", "info", "warn", "error"; -1 when unknown. */
int log_level_parse(const char *s);
void log_set_level(enum log_level min);
bool log_enabled(enum log_level level);

/* The request id that this thread's log lines carry (copied; NULL clears). */
void log_set_request_id(const char *id);

/*
 * Write one line. fields is NULL or a NULL-terminated array of key, value
 * pairs; a key starting with '#' is written without the '#' as a raw JSON
 * number (the value must be numeric). Thread-safe: lines stay whole and in
 * order; this one is written (with anything pending) before it returns.
 */
void log_write(enum log_level level, const char *file, int line,
	       const char *const *fields, const char *fmt, ...)
	PRINTF_LIKE(5, 6);

/*
 * As log_write, but an INFO or DEBUG line may wait in the buffer until the
 * flusher writes it (at most about 100 ms later). For the per-request
 * line only; anything a person or a test waits for uses log_write.
 */
void log_write_deferred(enum log_level level, const char *file, int line,
			const char *const *fields, const char *fmt, ...)
	PRINTF_LIKE(5, 6);

/*
 * Start the thread that writes deferred lines every 100 ms. Until it runs
 * (and after log_flusher_stop), deferred lines are written at once.
 * log_flusher_stop writes everything pending; call it before exit.
 */
void log_flusher_start(void);
void log_flusher_stop(void);

#define log_debug(...) \
	do { \
		if (log_enabled(LOG_DEBUG)) \
			log_write(LOG_DEBUG, __FILE__, __LINE__, NULL, __VA_ARGS__); \
	} while (0)
#define log_info(...) log_write(LOG_INFO, __FILE__, __LINE__, NULL, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __FILE__, __LINE__, NULL, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __FILE__, __LINE__, NULL, __VA_ARGS__)
#define log_fields(level, fields, ...) \
	log_write(level, __FILE__, __LINE__, fields, __VA_ARGS__)
#define log_fields_deferred(level, fields, ...) \
	log_write_deferred(level, __FILE__, __LINE__, fields, __VA_ARGS__)

/* Append s as a JSON string literal (quotes included) to b. Used by log and
 * by the few hand-rendered hot-path bodies. */
bool json_quote(struct buf *b, const char *s);
